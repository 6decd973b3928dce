package admin_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/admin"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
)

// breakout tries every way out of the context a string is printed in: an
// attribute ("), a single-quoted attribute ('), a textarea or title, and
// then a script and an event handler.
const breakout = `"'></textarea></title><script>alert(1)</script><img src=x onerror=alert(1)>`

// escapedBreakout is breakout as html/template prints it in text and
// attributes alike.
const escapedBreakout = `&#34;&#39;&gt;&lt;/textarea&gt;&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;`

// checkMarkup fails if any raw piece of breakout reached body as markup:
// no script, img or closing textarea tag, one </title> (the page's own),
// and the quotes never close an attribute.
func checkMarkup(t *testing.T, what, body string) {
	t.Helper()
	lower := strings.ToLower(body)
	for _, raw := range []string{"<script", "<img", "</textarea", `"'>`, "onerror=alert(1)>"} {
		if strings.Contains(lower, raw) {
			t.Errorf("%s: %q reached the markup", what, raw)
		}
	}
	if n := strings.Count(lower, "</title>"); n != 1 {
		t.Errorf("%s: %d </title>, want the page's one", what, n)
	}
}

// Every user-supplied string a view shows carries breakout and comes out
// escaped: a schedule's name, a run's instance and error, a lease's key and
// metadata, a message's topic, key, payload preview and last error.
func TestBreakoutsAreEscaped(t *testing.T) {
	f := newFleet(t) // registers "daily-report" and xss
	ctx := context.Background()
	now := time.Now()
	if err := f.ledger.Put(ctx, ledger.Record{Schedule: "daily-report", Tick: now, Attempt: 1, Instance: breakout,
		Outcome: ledger.Failed, Started: now, Finished: now.Add(time.Second), Err: breakout}); err != nil {
		t.Fatal(err)
	}
	lk := locks.NewMemory()
	if _, err := lk.Acquire(ctx, "tenant:"+breakout, locks.Options{TTL: time.Minute, Metadata: map[string]string{breakout: breakout}}); err != nil {
		t.Fatal(err)
	}
	ob := outbox.NewMemory()
	tx := ob.Begin()
	if err := ob.Enqueue(ctx, tx, outbox.Message{Topic: breakout, Key: breakout, Payload: []byte(breakout)}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	msgs, err := ob.Claim(ctx, "d", 1, now.Add(time.Minute), 1)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim: %v, %v", msgs, err)
	}
	if err := ob.MarkFailed(ctx, "d", 1, msgs[0].ID, breakout, now, true); err != nil {
		t.Fatal(err)
	}
	b := serve(t, f.handler(admin.WithLeases(lk), admin.WithOutbox(ob)))

	for path, wants := range map[string]int{
		"/admin/":                           1, // the last run's instance
		"/admin/runs?schedule=daily-report": 2, // instance and error
		"/admin/leases":                     3, // key, metadata key and value (one "k=v" cell)
		"/admin/outbox":                     4, // topic, key, last error, payload
		"/admin/leases?pattern=" + url.QueryEscape(breakout): 1, // the echoed pattern
	} {
		code, body := b.get(path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		checkMarkup(t, path, body)
		if n := strings.Count(body, escapedBreakout); n < wants {
			t.Errorf("GET %s: breakout shown escaped %d times, want at least %d:\n%s", path, n, wants, body)
		}
	}
	// An error page echoes the unknown name escaped too.
	code, body := b.get("/admin/runs?schedule=" + url.QueryEscape(breakout))
	if code != http.StatusNotFound || !strings.Contains(body, escapedBreakout) {
		t.Errorf("runs of an unknown hostile name: %d %s", code, body)
	}
	checkMarkup(t, "the error page", body)
}

// mutations is the fleet's state that an action could change.
func (f fleet) mutations(t *testing.T, ob *outbox.Memory) string {
	t.Helper()
	reqs, err := f.ledger.PendingRequests(context.Background(), "daily-report")
	if err != nil {
		t.Fatal(err)
	}
	st, err := ob.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("paused=%v requests=%d dead=%d", f.paused(t, "daily-report"), len(reqs), st.Dead)
}

// No request but a same-origin POST carrying this browser's token changes
// anything: not a GET or HEAD (even with a valid token in the query), not a
// POST without a token, with a wrong one, with another browser's, or from
// another origin.
func TestNothingMutatesWithoutAValidPost(t *testing.T) {
	f := newFleet(t)
	fx := newFixture(t)
	b := serve(t, f.handler(admin.WithOutbox(fx.outbox)))
	token := b.token("/admin/")
	before := f.mutations(t, fx.outbox)
	id := strconv.FormatInt(fx.dead[0], 10)
	actions := map[string]url.Values{
		"schedules/pause":  {"schedule": {"daily-report"}},
		"schedules/resume": {"schedule": {"daily-report"}},
		"schedules/run":    {"schedule": {"daily-report"}},
		"outbox/retry":     {"id": {id}},
	}
	other := serve(t, f.handler(admin.WithOutbox(fx.outbox)))
	other.base = b.base
	otherToken := other.token("/admin/") // its own cookie, its own token
	if otherToken == token {
		t.Fatal("two browsers got one token")
	}
	for action, form := range actions {
		with := func(extra ...string) url.Values {
			v := url.Values{}
			for k, vs := range form {
				v[k] = vs
			}
			for i := 0; i+1 < len(extra); i += 2 {
				v.Set(extra[i], extra[i+1])
			}
			return v
		}
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions} {
			q := with("csrf", token, "all", "1").Encode()
			code, _, _ := b.do(mustRequest(method, b.base+"/admin/"+action+"?"+q))
			if code != http.StatusMethodNotAllowed {
				t.Errorf("%s /admin/%s: %d, want 405", method, action, code)
			}
		}
		for name, c := range map[string]struct {
			b       *browser
			form    url.Values
			headers []string
		}{
			"no token":                    {b, with(), nil},
			"an empty token":              {b, with("csrf", ""), nil},
			"a wrong token":               {b, with("csrf", strings.Repeat("A", len(token))), nil},
			"a token one character short": {b, with("csrf", token[:len(token)-1]), nil},
			"another browser's token":     {other, with("csrf", token), nil},
			"the token in the query only": {b, with(), nil},
			"a cross-site origin":         {b, with("csrf", token), []string{"Sec-Fetch-Site", "cross-site"}},
			"a same-site sibling":         {b, with("csrf", token), []string{"Sec-Fetch-Site", "same-site"}},
			"a foreign Origin":            {b, with("csrf", token), []string{"Origin", "https://evil.example"}},
			"Origin null":                 {b, with("csrf", token), []string{"Origin", "null"}},
		} {
			path := "/admin/" + action
			if name == "the token in the query only" {
				path += "?csrf=" + token
			}
			if code, _, _ := c.b.post(path, c.form, c.headers...); code != http.StatusForbidden {
				t.Errorf("POST /admin/%s with %s: %d, want 403", action, name, code)
			}
		}
	}
	if after := f.mutations(t, fx.outbox); after != before {
		t.Fatalf("refused requests changed the fleet: %s, was %s", after, before)
	}
	// The same POST with the token goes through: the refusals were the
	// token's and the origin's doing.
	if code, _, _ := b.post("/admin/schedules/pause", url.Values{"csrf": {token}, "schedule": {"daily-report"}}); code != http.StatusSeeOther || !f.paused(t, "daily-report") {
		t.Errorf("a valid POST: %d, paused %v", code, f.paused(t, "daily-report"))
	}
}

// serveRaw serves one request for target (sent as is, escapes included).
func serveRaw(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// Nothing outside the prefix is served, however the path is spelled, and
// the page works mounted under /ops/admin/ both with its own prefix and
// behind http.StripPrefix: links, forms, redirects and cookies all stay
// under the path the browser sees.
func TestOnlyThePrefix(t *testing.T) {
	fx := newFixture(t)
	h := admin.Handler("/ops/admin/", admin.WithOutbox(fx.outbox), admin.WithLeases(fx.locks))
	for _, target := range []string{
		"/ops/admin/../admin/outbox", "/ops/admin/%2e%2e/admin/outbox", "/ops/admin/%2E%2E/outbox",
		"/ops/admin/./outbox", "/ops/admin/outbox/", "/ops/admin//outbox", "//ops/admin/outbox",
		"/ops/admin%2Foutbox", "/ops%2Fadmin/outbox", "/ops/admin/static%2Fstyle.css", "/ops/admin/outbox%2Fretry",
		"/ops/admin/static/../../../etc/passwd", "/ops/admin/static/%2e%2e/templates/layout.html",
		"/ops/admin/templates/layout.html", "/ops/admin/static/", "/ops/adminx", "/ops/", "/",
	} {
		if rec := serveRaw(h, http.MethodGet, target); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404 (Location %q)", target, rec.Code, rec.Header().Get("Location"))
		}
	}
	if rec := serveRaw(h, http.MethodPost, "/ops/admin/outbox%2Fretry"); rec.Code != http.StatusNotFound {
		t.Errorf("POST to an encoded-slash action: %d, want 404", rec.Code)
	}
	for _, target := range []string{"/ops/admin", "/ops/admin?x=1"} {
		if rec := serveRaw(h, http.MethodGet, target); rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/ops/admin/" {
			t.Errorf("GET %s: %d to %q, want 301 to /ops/admin/", target, rec.Code, rec.Header().Get("Location"))
		}
	}

	for name, mounted := range map[string]func(*outbox.Memory) http.Handler{
		"own prefix": func(o *outbox.Memory) http.Handler { return admin.Handler("/ops/admin/", admin.WithOutbox(o)) },
		"StripPrefix /ops, prefix /admin": func(o *outbox.Memory) http.Handler {
			return http.StripPrefix("/ops", admin.Handler("/admin/", admin.WithOutbox(o)))
		},
		"StripPrefix /ops/admin, prefix /": func(o *outbox.Memory) http.Handler {
			return http.StripPrefix("/ops/admin", admin.Handler("/", admin.WithOutbox(o)))
		},
	} {
		mounted := mounted(newFixture(t).outbox)
		mux := http.NewServeMux()
		mux.Handle("/ops/admin/", mounted)
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "the host app", http.StatusTeapot) })
		b := serve(t, mux)
		code, body := b.get("/ops/admin/outbox")
		if code != http.StatusOK {
			t.Fatalf("%s: GET /ops/admin/outbox = %d %s", name, code, body)
		}
		for _, link := range []string{`href="/ops/admin/static/style.css"`, `href="/ops/admin/outbox"`, `action="/ops/admin/outbox/retry"`} {
			if !strings.Contains(body, link) {
				t.Errorf("%s: the page lacks %s", name, link)
			}
		}
		if strings.Contains(body, `="/admin/`) || strings.Contains(body, `="/outbox`) || strings.Contains(body, `="/static`) {
			t.Errorf("%s: the page links outside /ops/admin/:\n%s", name, body)
		}
		if code, css := b.get("/ops/admin/static/style.css"); code != http.StatusOK || !strings.Contains(css, "table") {
			t.Errorf("%s: stylesheet %d", name, code)
		}
		// The CSRF cookie is scoped to the mount, so the browser sends it
		// back with the form, and the action redirects within the mount.
		u, _ := url.Parse(b.base + "/ops/admin/outbox/retry")
		if len(b.c.Jar.Cookies(u)) == 0 {
			t.Errorf("%s: no cookie would be sent to /ops/admin/outbox/retry", name)
		}
		token := b.token("/ops/admin/outbox")
		code, _, body = b.post("/ops/admin/outbox/retry", url.Values{"csrf": {token}, "id": {"424242"}})
		if code != http.StatusNotFound || !strings.Contains(body, "424242") {
			t.Errorf("%s: retry of an unknown id: %d %s", name, code, body)
		}
		code, hdr, _ := b.post("/ops/admin/outbox/retry", url.Values{"csrf": {token}, "all": {"1"}})
		if code != http.StatusSeeOther || hdr.Get("Location") != "/ops/admin/outbox" {
			t.Errorf("%s: retry all: %d to %q, want 303 to /ops/admin/outbox", name, code, hdr.Get("Location"))
		}
		if _, body := b.get("/ops/admin/outbox"); !strings.Contains(body, "Requeued") {
			t.Errorf("%s: the flash did not come back under the mount", name)
		}
	}
}

// Limits on the page: ?limit= must be a number > 0; a huge one is capped,
// not an error or an allocation of that size.
func TestLimitParams(t *testing.T) {
	f := newFleet(t)
	fx := newFixture(t)
	b := serve(t, f.handler(admin.WithOutbox(fx.outbox)))
	for _, view := range []string{"/admin/runs?schedule=daily-report&", "/admin/outbox?"} {
		for _, bad := range []string{"0", "-1", "abc", "1e3", "9223372036854775808", ""} {
			code, body := b.get(view + "limit=" + url.QueryEscape(bad))
			if bad == "" {
				if code != http.StatusOK {
					t.Errorf("%slimit=: %d, want the default", view, code)
				}
				continue
			}
			if code != http.StatusBadRequest || !strings.Contains(body, fmt.Sprintf("limit &#34;%s&#34;", bad)) {
				t.Errorf("%slimit=%s: %d, want 400 naming it:\n%s", view, bad, code, body)
			}
		}
		if code, body := b.get(view + "limit=" + strconv.FormatInt(math.MaxInt64, 10)); code != http.StatusOK {
			t.Errorf("%slimit=MaxInt64: %d %s", view, code, body)
		}
	}
	_, body := b.get("/admin/outbox?limit=1")
	if n := strings.Count(body, `name="id"`); n != 1 {
		t.Errorf("outbox?limit=1 lists %d dead letters, want 1", n)
	}
}
