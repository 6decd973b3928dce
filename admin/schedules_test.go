package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/admin"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/scheduler"
)

// fleet is an app's scheduler running two schedules, one with a hostile
// name, and an operator's scheduler on the same ports that was never
// started: the one the page drives, as an operator's process would.
type fleet struct {
	ledger   *ledger.Memory
	operator *scheduler.Scheduler
	reports  chan scheduler.Report // every run the app's instance reports
}

func newFleet(t *testing.T) fleet {
	t.Helper()
	clock := clockwork.NewRealClock()
	led := ledger.NewMemory(ledger.WithClock(clock))
	ports := &ctx.Ports{Locks: locks.NewMemory(), Ledger: led, Clock: clock, Logger: zaptest.NewLogger(t)}
	f := fleet{ledger: led, operator: scheduler.New(ports), reports: make(chan scheduler.Report, 64)}
	// A hook must not block; the tests wait for a handful of runs at most.
	hook := scheduler.HookFunc(func(r scheduler.Report) {
		select {
		case f.reports <- r:
		default:
		}
	})
	app := scheduler.New(ports, scheduler.WithInstanceID("web-1"), scheduler.WithHook(hook))
	for _, name := range []string{"daily-report", xss} {
		if err := app.Add(name, "0 7 * * *", func(*ctx.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	if err := led.Beat(context.Background(), "web-1", time.Minute); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fleet) handler(opts ...admin.Option) http.Handler {
	return admin.Handler("/admin/", append([]admin.Option{admin.WithScheduler(f.operator), admin.WithInstances(f.ledger)}, opts...)...)
}

func (f fleet) paused(t *testing.T, name string) bool {
	t.Helper()
	s, err := f.ledger.Schedule(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return s.Paused
}

// waitManualRun waits for a finished run-now run of name in the ledger:
// the app's instance takes the request and runs it. The instance reports a
// run to its hooks once the run's record is final, so each report of name
// is the moment to look, rather than polling the ledger.
func (f fleet) waitManualRun(t *testing.T, name string) ledger.Record {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case r := <-f.reports:
			if r.Schedule != name {
				continue
			}
		case <-timeout:
			t.Fatalf("no run of %q reported after 30s", name)
		}
		runs, err := f.ledger.Runs(context.Background(), name, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Manual && !r.Finished.IsZero() {
				return r
			}
		}
	}
}

func TestSchedulesViewEscapes(t *testing.T) {
	f := newFleet(t)
	b := serve(t, f.handler())
	code, body := b.get("/admin/")
	if code != http.StatusOK {
		t.Fatalf("GET /admin/: %d %s", code, body)
	}
	for _, want := range []string{
		`data-schedule="daily-report"`, ">daily-report</a>", "<code>0 7 * * *</code>", "UTC", "active",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;", "<code>web-1</code>", "1 live instance",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("schedules view lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Errorf("a <script> tag reached the schedules view:\n%s", body)
	}
	// The hostile name is a query value in its link, not markup.
	if !strings.Contains(body, `href="/admin/runs?schedule=%3cscript%3ealert%28%22x%22%29%3c%2fscript%3e"`) {
		t.Errorf("link to the hostile schedule's runs is not query-escaped:\n%s", body)
	}
}

// Each schedule's row lists the live instances that run it, escaped: an
// instance whose ID is markup shows as text.
func TestSchedulesViewLiveInstances(t *testing.T) {
	f := newFleet(t)
	if err := f.ledger.Heartbeat(context.Background(), xss, time.Minute, []string{"daily-report"}); err != nil {
		t.Fatal(err)
	}
	b := serve(t, f.handler())
	code, body := b.get("/admin/")
	if code != http.StatusOK {
		t.Fatalf("GET /admin/: %d %s", code, body)
	}
	for _, want := range []string{
		"<th>Live instances</th>",
		`<td class="instances"><code>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</code>, <code>web-1</code></td>`,
		`<td class="instances"><code>web-1</code></td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("schedules view lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Errorf("a <script> tag reached the schedules view:\n%s", body)
	}
}

func TestPauseRunNowResume(t *testing.T) {
	f := newFleet(t)
	b := serve(t, f.handler())
	token := b.token("/admin/")
	post := func(action, name, from string) (int, string) {
		t.Helper()
		code, h, body := b.post("/admin/schedules/"+action, url.Values{"csrf": {token}, "schedule": {name}, "from": {from}})
		if code == http.StatusSeeOther {
			return code, h.Get("Location")
		}
		return code, body
	}

	if code, loc := post("pause", "daily-report", ""); code != http.StatusSeeOther || loc != "/admin/" {
		t.Fatalf("pause: %d %q", code, loc)
	}
	if !f.paused(t, "daily-report") {
		t.Fatal("not paused in the ledger after Pause")
	}
	_, body := b.get("/admin/")
	if !strings.Contains(body, "Paused daily-report fleet-wide.") || !strings.Contains(body, `<span class="paused">paused</span>`) ||
		!strings.Contains(body, `value="resume">Resume</button>`) {
		t.Errorf("after Pause the page does not show it paused with a Resume button:\n%s", body)
	}

	// Run now works while paused, and comes back to the runs view.
	if code, loc := post("run", "daily-report", "runs"); code != http.StatusSeeOther || loc != "/admin/runs?schedule=daily-report" {
		t.Fatalf("run now: %d %q", code, loc)
	}
	if r := f.waitManualRun(t, "daily-report"); r.Outcome != ledger.Ran || r.Instance != "web-1" {
		t.Fatalf("run-now run = %+v, want ran on web-1", r)
	}
	if _, runs := b.get("/admin/runs?schedule=daily-report"); !strings.Contains(runs, "<td>run now</td>") {
		t.Errorf("the runs view does not show the run-now run:\n%s", runs)
	}
	if code, loc := post("resume", "daily-report", ""); code != http.StatusSeeOther || loc != "/admin/" {
		t.Fatalf("resume: %d %q", code, loc)
	}
	if f.paused(t, "daily-report") {
		t.Fatal("still paused in the ledger after Resume")
	}

}

// A run's instance and error are shown escaped, as the ledger has them.
func TestRunsViewEscapes(t *testing.T) {
	f := newFleet(t)
	now := time.Now()
	if err := f.ledger.Put(context.Background(), ledger.Record{
		Schedule: xss, Tick: now, Manual: true, Attempt: 2, Instance: "web-" + xss, FencingToken: 42,
		Outcome: ledger.Failed, Started: now, Finished: now.Add(1500 * time.Millisecond), Err: "failed: " + xss,
	}); err != nil {
		t.Fatal(err)
	}
	b := serve(t, f.handler())
	code, body := b.get("/admin/runs?schedule=" + url.QueryEscape(xss))
	if code != http.StatusOK {
		t.Fatalf("runs: %d %s", code, body)
	}
	for _, want := range []string{"failed: &lt;script&gt;", "web-&lt;script&gt;", "run now", `<td class="num">2</td>`, ">42<", "1.5s", `class="outcome-failed"`} {
		if !strings.Contains(body, want) {
			t.Errorf("runs view lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") {
		t.Errorf("a <script> tag reached the runs view:\n%s", body)
	}
	// The schedules view shows it as the last run.
	if _, body := b.get("/admin/"); !strings.Contains(body, `<span class="outcome-failed">failed</span> (run now) on <code>web-&lt;script&gt;`) {
		t.Errorf("schedules view does not show the last run:\n%s", body)
	}
}

func TestScheduleActionErrors(t *testing.T) {
	f := newFleet(t)
	b := serve(t, f.handler())
	token := b.token("/admin/")
	for _, action := range []string{"pause", "resume", "run"} {
		code, _, body := b.post("/admin/schedules/"+action, url.Values{"csrf": {token}, "schedule": {"no-such<b>"}})
		if code != http.StatusNotFound || !strings.Contains(body, "no-such&lt;b&gt;") {
			t.Errorf("%s of an unknown schedule: %d %s", action, code, body)
		}
		// Without the token nothing happens.
		if code, _, _ := b.post("/admin/schedules/"+action, url.Values{"schedule": {"daily-report"}}); code != http.StatusForbidden {
			t.Errorf("%s without a token: %d", action, code)
		}
	}
	if f.paused(t, "daily-report") {
		t.Fatal("a refused request paused the schedule")
	}
	if code, body := b.get("/admin/runs?schedule=nope"); code != http.StatusNotFound || !strings.Contains(body, `"nope"`) && !strings.Contains(body, "&#34;nope&#34;") {
		t.Errorf("runs of an unknown schedule: %d %s", code, body)
	}
	for _, limit := range []string{"0", "-1", "x", "99999999999999999999"} {
		if code, _ := b.get("/admin/runs?schedule=daily-report&limit=" + limit); code != http.StatusBadRequest {
			t.Errorf("limit %s: %d, want 400", limit, code)
		}
	}
}

func TestSchedulesReadOnly(t *testing.T) {
	f := newFleet(t)
	b := serve(t, f.handler(admin.ReadOnly()))
	for _, path := range []string{"/admin/", "/admin/runs?schedule=daily-report"} {
		code, body := b.get(path)
		if code != http.StatusOK || strings.Contains(body, "<form method=\"post\"") || strings.Contains(body, "Pause") || strings.Contains(body, "Run now") {
			t.Errorf("read-only %s: %d, shows actions:\n%s", path, code, body)
		}
	}
	if code, _, _ := b.post("/admin/schedules/pause", url.Values{"schedule": {"daily-report"}}); code != http.StatusForbidden {
		t.Errorf("POST to read-only: %d", code)
	}
	if f.paused(t, "daily-report") {
		t.Fatal("a read-only page paused the schedule")
	}
}
