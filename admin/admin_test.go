package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/admin"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
)

const xss = `<script>alert("x")</script>`

// fixture is a fleet's state with hostile strings wherever a user can put
// one: lease keys and metadata, message topics, keys, errors, headers and
// payloads.
type fixture struct {
	locks  *locks.Memory
	outbox *outbox.Memory
	dead   []int64
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{locks: locks.NewMemory(), outbox: outbox.NewMemory()}
	for _, k := range []string{"schedule:daily-report", "tenant:" + xss} {
		if _, err := f.locks.Acquire(ctx, k, locks.Options{TTL: time.Minute, Metadata: map[string]string{"instance": "web-1", "note": xss}}); err != nil {
			t.Fatal(err)
		}
	}
	tx := f.outbox.Begin()
	for _, m := range []outbox.Message{
		{Topic: xss, Key: xss, Payload: []byte(xss), Headers: map[string]string{"h": xss}},
		{Topic: "report.ready", Payload: []byte(`{"tenant":"acme"}`)},
		{Topic: "alive"},
	} {
		if err := f.outbox.Enqueue(ctx, tx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	msgs, err := f.outbox.Claim(ctx, "report-events", 1, time.Now().Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs[:2] {
		if err := f.outbox.MarkFailed(ctx, "report-events", 1, m.ID, "publish: "+xss, time.Now(), true); err != nil {
			t.Fatal(err)
		}
		f.dead = append(f.dead, m.ID)
	}
	return f
}

// browser is a client with cookies that does not follow redirects, so a
// test sees each 303.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func serve(t *testing.T, h http.Handler) *browser {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: srv.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) (int, http.Header, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	code, _, body := b.do(req)
	return code, body
}

func (b *browser) post(path string, form url.Values, headers ...string) (int, http.Header, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token is the CSRF token the page at path carries in its forms.
func (b *browser) token(path string) string {
	b.t.Helper()
	_, body := b.get(path)
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no CSRF token in the forms of %s", path)
	}
	return m[1]
}

func handler(f fixture, opts ...admin.Option) http.Handler {
	return admin.Handler("/admin/", append([]admin.Option{admin.WithLeases(f.locks), admin.WithOutbox(f.outbox)}, opts...)...)
}

var views = []string{"/admin/", "/admin/leases", "/admin/leases?pattern=" + url.QueryEscape("tenant:*"), "/admin/outbox"}

// Every user-supplied string reaches the page escaped, and the page has no
// script of its own, so it works with JavaScript off.
func TestEscapesEverything(t *testing.T) {
	b := serve(t, handler(newFixture(t)))
	for _, path := range views {
		code, body := b.get(path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		if strings.Contains(strings.ToLower(body), "<script") {
			t.Errorf("GET %s: a <script> tag reached the page:\n%s", path, body)
		}
	}
	for path, want := range map[string][]string{
		"/admin/leases": {"tenant:&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "note=&lt;script&gt;"},
		"/admin/outbox": {"<code>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</code>", "publish: &lt;script&gt;", "<pre>&lt;script&gt;"},
	} {
		_, body := b.get(path)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s does not show %q escaped", path, w)
			}
		}
	}
	// A hostile pattern is echoed escaped too.
	_, body := b.get("/admin/leases?pattern=" + url.QueryEscape(`"><script>x</script>`))
	if strings.Contains(body, "<script>x") {
		t.Error("the pattern was echoed unescaped")
	}
}

func TestViews(t *testing.T) {
	f := newFixture(t)
	b := serve(t, handler(f))
	_, body := b.get("/admin/leases?pattern=" + url.QueryEscape("schedule:*"))
	if !strings.Contains(body, "1 live lease matching") || !strings.Contains(body, "schedule:daily-report") || strings.Contains(body, "tenant:") {
		t.Errorf("leases filtered by schedule:* =\n%s", body)
	}
	_, body = b.get("/admin/outbox")
	for _, want := range []string{"<code>report-events</code>", `<td class="num">1</td>`, `<td class="num">2</td>`, `{&#34;tenant&#34;:&#34;acme&#34;}`} {
		if !strings.Contains(body, want) {
			t.Errorf("outbox view lacks %q:\n%s", want, body)
		}
	}
	req, _ := http.NewRequest(http.MethodHead, b.base+"/admin/outbox", nil)
	if code, _, body := b.do(req); code != http.StatusOK || body != "" {
		t.Errorf("HEAD = %d with %d bytes", code, len(body))
	}
	code, css := b.get("/admin/static/style.css")
	if code != http.StatusOK || !strings.Contains(css, "table") {
		t.Errorf("stylesheet: %d", code)
	}
}

func TestRetryDeadLetter(t *testing.T) {
	f := newFixture(t)
	b := serve(t, handler(f))
	token := b.token("/admin/outbox")
	id := fmt.Sprint(f.dead[0])

	code, h, _ := b.post("/admin/outbox/retry", url.Values{"csrf": {token}, "id": {id}})
	if code != http.StatusSeeOther || h.Get("Location") != "/admin/outbox" {
		t.Fatalf("retry: %d to %q, want 303 to /admin/outbox", code, h.Get("Location"))
	}
	if m, _, _ := f.outbox.Get(context.Background(), f.dead[0]); m.Status != outbox.Pending {
		t.Fatalf("retried message is %s", m.Status)
	}
	_, body := b.get("/admin/outbox")
	if !strings.Contains(body, "Requeued message "+id+".") {
		t.Error("no confirmation after the retry")
	}
	if _, body := b.get("/admin/outbox"); strings.Contains(body, "Requeued message") {
		t.Error("the confirmation is shown twice")
	}

	// The same id again: it is no longer dead. An unknown id is named.
	code, _, body = b.post("/admin/outbox/retry", url.Values{"csrf": {token}, "id": {id}})
	if code != http.StatusConflict || !strings.Contains(body, "id "+id+" is pending") {
		t.Errorf("second retry: %d %s", code, body)
	}
	code, _, body = b.post("/admin/outbox/retry", url.Values{"csrf": {token}, "id": {"424242"}})
	if code != http.StatusNotFound || !strings.Contains(body, "424242") {
		t.Errorf("unknown id: %d %s", code, body)
	}
	code, _, body = b.post("/admin/outbox/retry", url.Values{"csrf": {token}, "id": {xss}})
	if code != http.StatusBadRequest || strings.Contains(body, "<script>") {
		t.Errorf("hostile id: %d %s", code, body)
	}

	code, _, _ = b.post("/admin/outbox/retry", url.Values{"csrf": {token}, "all": {"1"}})
	if st, _ := f.outbox.Stats(context.Background()); code != http.StatusSeeOther || st.Dead != 0 {
		t.Errorf("retry all: %d, %d still dead", code, st.Dead)
	}
}

// An action needs the token of this browser's cookie, and a same-origin
// request.
func TestCSRF(t *testing.T) {
	f := newFixture(t)
	b := serve(t, handler(f))
	token := b.token("/admin/outbox")
	id := fmt.Sprint(f.dead[0])
	for name, c := range map[string]struct {
		form    url.Values
		headers []string
	}{
		"no token":          {url.Values{"id": {id}}, nil},
		"wrong token":       {url.Values{"id": {id}, "csrf": {strings.Repeat("A", len(token))}}, nil},
		"cross-site origin": {url.Values{"id": {id}, "csrf": {token}}, []string{"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"}},
		"other origin":      {url.Values{"id": {id}, "csrf": {token}}, []string{"Origin", "https://evil.example"}},
	} {
		if code, _, _ := b.post("/admin/outbox/retry", c.form, c.headers...); code != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, code)
		}
	}
	// Another browser's token does not fit this browser's cookie.
	other := serve(t, handler(f))
	other.base = b.base
	if code, _, _ := other.post("/admin/outbox/retry", url.Values{"id": {id}, "csrf": {token}}); code != http.StatusForbidden {
		t.Errorf("a token without its cookie: %d, want 403", code)
	}
	if m, _, _ := f.outbox.Get(context.Background(), f.dead[0]); m.Status != outbox.Dead {
		t.Fatal("a refused request requeued the message")
	}
}

func TestReadOnly(t *testing.T) {
	f := newFixture(t)
	b := serve(t, handler(f, admin.ReadOnly()))
	for _, path := range views {
		_, body := b.get(path)
		if strings.Contains(body, `method="post"`) || strings.Contains(body, "<button") && !strings.Contains(path, "leases") {
			t.Errorf("read-only %s shows an action:\n%s", path, body)
		}
		if !strings.Contains(body, "read-only") {
			t.Errorf("read-only %s does not say so", path)
		}
	}
	if code, _, _ := b.post("/admin/outbox/retry", url.Values{"all": {"1"}}); code != http.StatusForbidden {
		t.Errorf("POST to a read-only page: %d, want 403", code)
	}
	if st, _ := f.outbox.Stats(context.Background()); st.Dead != 2 {
		t.Error("a read-only page requeued messages")
	}
}

// The handler answers only under its prefix, even when mounted at "/".
func TestPrefix(t *testing.T) {
	f := newFixture(t)
	for _, prefix := range []string{"/admin/", "/admin", "admin", "/ops/beignet/"} {
		b := serve(t, admin.Handler(prefix, admin.WithOutbox(f.outbox)))
		p := "/" + strings.Trim(prefix, "/") + "/"
		if code, body := b.get(p + "outbox"); code != http.StatusOK || !strings.Contains(body, `href="`+p+`static/style.css"`) {
			t.Errorf("prefix %q: GET %soutbox = %d, or links outside the prefix", prefix, p, code)
		}
		for _, path := range []string{"/", "/outbox", "/adminx/outbox", p + "nothing", p + "static/", p + "static/../outbox/retry", p + "templates/layout.html"} {
			if code, _ := b.get(path); code != http.StatusNotFound && !(path == p+"static/../outbox/retry" && code == http.StatusMethodNotAllowed) {
				t.Errorf("prefix %q: GET %s = %d, want 404", prefix, path, code)
			}
		}
		code, h, _ := b.do(mustRequest(http.MethodGet, b.base+strings.TrimSuffix(p, "/")))
		if code != http.StatusMovedPermanently || h.Get("Location") != p {
			t.Errorf("prefix %q: GET without the slash = %d to %q", prefix, code, h.Get("Location"))
		}
	}
}

func mustRequest(method, url string) *http.Request {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	return req
}

func TestMethods(t *testing.T) {
	b := serve(t, handler(newFixture(t)))
	if code, _ := b.get("/admin/outbox/retry"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET on an action: %d, want 405", code)
	}
	if code, h, _ := b.post("/admin/leases", nil); code != http.StatusMethodNotAllowed || h.Get("Allow") != http.MethodGet {
		t.Errorf("POST on a view: %d, Allow %q", code, h.Get("Allow"))
	}
}

// A view whose source fails says why, with a 502, rather than an empty
// table that looks like "nothing there".
func TestSourceFailure(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer client.Close()
	b := serve(t, admin.Handler("/admin/", admin.WithLeases(redislocks.New(client, "")), admin.ReadOnly()))
	code, body := b.get("/admin/leases")
	if code != http.StatusBadGateway || !strings.Contains(body, addr) {
		t.Errorf("failing source: %d %s", code, body)
	}
	if code, body := b.get("/admin/outbox"); code != http.StatusNotFound || !strings.Contains(body, "admin.WithOutbox") {
		t.Errorf("unconfigured outbox: %d %s", code, body)
	}
}
