package admin

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"github.com/beignet-go/beignet/internal/humanize"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var style []byte

func serveStyle(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(style)
}

// views holds one parsed template set per view, each the layout plus the
// view's own "content".
type views struct {
	byName map[string]*template.Template
}

var viewNames = []string{"index", "schedules", "runs", "leases", "outbox", "error"}

func newViews() *views {
	funcs := template.FuncMap{
		"ago":     humanize.Ago,
		"dur":     humanize.Duration,
		"kv":      humanize.KV,
		"preview": humanize.Preview,
		"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
		"uint":    func(n uint64) string { return strconv.FormatUint(n, 10) },
		"actions": func(p page, name string, paused bool, from string) scheduleActions {
			return scheduleActions{Prefix: p.Prefix, CSRF: p.CSRF, Name: name, Paused: paused, From: from}
		},
	}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	v := &views{byName: map[string]*template.Template{}}
	for _, name := range viewNames {
		v.byName[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html"))
	}
	return v
}

// page is what the layout needs of every view.
type page struct {
	Prefix   string
	CSRF     string
	Flash    string
	ReadOnly bool
	Active   string // the view's nav entry
	Now      time.Time
	// The sources the handler was given; their views are in the nav.
	Schedules, Leases, Outbox bool
}

// scheduleActions is what a schedule's action buttons need.
type scheduleActions struct {
	Prefix, CSRF, Name string
	Paused             bool
	From               string // "runs" to come back to the runs view
}

func (h *handler) page(w http.ResponseWriter, r *http.Request, active string) page {
	mount := h.mount(r)
	p := page{
		Prefix: mount, ReadOnly: h.cfg.readOnly, Active: active, Now: time.Now(),
		Schedules: h.cfg.scheduler != nil, Leases: h.cfg.leases != nil, Outbox: h.cfg.outbox != nil,
	}
	if !p.ReadOnly {
		p.CSRF = csrfToken(w, r, mount)
	}
	if r.Method == http.MethodGet {
		p.Flash = takeFlash(w, r, mount)
	}
	return p
}

// render executes view into a buffer first, so a template error becomes a
// 500 rather than half a page.
func (v *views) render(w http.ResponseWriter, r *http.Request, p page, view string, data any) {
	var buf bytes.Buffer
	err := v.byName[view].Execute(&buf, struct {
		Page page
		Data any
	}{p, data})
	if err != nil {
		http.Error(w, "admin: rendering "+view+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}
