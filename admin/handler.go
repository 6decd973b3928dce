package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// handler routes the page's views and actions under its prefix.
type handler struct {
	cfg    config
	prefix string
	views  *views
	routes map[string]route // by path under the prefix
}

// route is one path under the prefix.
type route struct {
	method string // GET (HEAD too) or POST
	serve  func(w http.ResponseWriter, r *http.Request)
}

func (h *handler) routeTable() map[string]route {
	return map[string]route{
		"":                 {http.MethodGet, h.schedules},
		"runs":             {http.MethodGet, h.runs},
		"leases":           {http.MethodGet, h.leases},
		"outbox":           {http.MethodGet, h.outbox},
		"static/style.css": {http.MethodGet, serveStyle},
		"outbox/retry":     {http.MethodPost, h.retry},
		"schedules/pause":  {http.MethodPost, h.scheduleAction(Scheduler.Pause, "Paused %s fleet-wide.")},
		"schedules/resume": {http.MethodPost, h.scheduleAction(Scheduler.Resume, "Resumed %s fleet-wide.")},
		"schedules/run":    {http.MethodPost, h.scheduleAction(Scheduler.RunNow, "Asked the fleet to run %s now.")},
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// No URL of the page has an encoded slash. Decoded, "/admin%2Fx"
	// would look like "/admin/x", a path under the prefix that the
	// browser, a router or an auth middleware matching the raw path
	// considers outside it.
	if strings.Contains(strings.ToLower(r.URL.RawPath), "%2f") {
		http.NotFound(w, r)
		return
	}
	rel, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		if r.URL.Path == strings.TrimSuffix(h.prefix, "/") {
			http.Redirect(w, r, h.mount(r), http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
		return
	}
	rt, ok := h.routes[rel]
	if !ok {
		http.NotFound(w, r)
		return
	}
	securityHeaders(w.Header())
	switch {
	case rt.method == http.MethodGet && (r.Method == http.MethodGet || r.Method == http.MethodHead):
	case rt.method == http.MethodPost && r.Method == http.MethodPost:
		if h.cfg.readOnly {
			http.Error(w, "this admin page is read-only", http.StatusForbidden)
			return
		}
		if err := checkCSRF(r); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
	default:
		w.Header().Set("Allow", rt.method)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	rt.serve(w, r)
}

// mount is the prefix as the browser sees it. Behind http.StripPrefix (or
// a router that strips its mount point) r.URL.Path has lost what was
// stripped, but r.RequestURI still has it: links, redirects and cookie
// paths put it back, so they stay under the mount rather than pointing at
// the host app's own paths. Without stripping it is the handler's prefix.
func (h *handler) mount(r *http.Request) string {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return h.prefix
	}
	stripped, ok := strings.CutSuffix(u.Path, r.URL.Path)
	if !ok || stripped == "" || !strings.HasPrefix(stripped, "/") || strings.HasSuffix(stripped, "/") {
		return h.prefix
	}
	return stripped + h.prefix
}

// securityHeaders forbid scripts, frames and foreign form targets: the page
// needs none of them, so an injected tag could do nothing even if the
// escaping missed it.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// done ends a successful action: a flash message for the next page, and a
// 303 to the view, so a reload does not repeat the POST.
func (h *handler) done(w http.ResponseWriter, r *http.Request, view string, query url.Values, msg string) {
	mount := h.mount(r)
	setFlash(w, mount, msg)
	target := mount + view
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// fail shows why an action or a view failed, with its status.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	w.WriteHeader(status)
	h.views.render(w, r, h.page(w, r, "error"), "error", struct{ Err string }{err.Error()})
}

// errNotConfigured answers a view whose source the handler was not given.
var errNotConfigured = errors.New("not configured")

// notConfigured answers a request for a view or action whose source the
// handler was not given, naming the option that gives it.
func (h *handler) notConfigured(w http.ResponseWriter, r *http.Request, view, option string) {
	h.fail(w, r, http.StatusNotFound, fmt.Errorf("%s: %w (%s)", view, errNotConfigured, option))
}
