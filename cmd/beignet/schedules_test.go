package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// hostile is a schedule name a terminal must not render as is: a bidi
// override could make it read as another name.
const hostile = "tenant\u202e<script>"

// fleetApp is an app instance on real Redis, under a prefix of the test's
// own, running two schedules (one with a hostile name), with three runs of
// daily-report in its ledger. It returns the flags that point the CLI at
// it, and its ledger.
func fleetApp(t *testing.T) ([]string, *redislocks.Ledger) {
	t.Helper()
	flags, led, _ := fleetAppReporting(t)
	return flags, led
}

// fleetAppReporting is fleetApp, with the reports of the app's runs: the
// instance sends each once the run's ledger record is final.
func fleetAppReporting(t *testing.T) ([]string, *redislocks.Ledger, <-chan scheduler.Report) {
	t.Helper()
	reports := make(chan scheduler.Report, 64)
	// A hook must not block; the tests wait for a handful of runs at most.
	hook := scheduler.HookFunc(func(r scheduler.Report) {
		select {
		case reports <- r:
		default:
		}
	})
	c := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, c)
	led := redislocks.NewLedger(c, prefix)
	ports := &ctx.Ports{Locks: redislocks.New(c, prefix), Ledger: led, Clock: clockwork.NewRealClock(), Logger: zaptest.NewLogger(t)}
	app := scheduler.New(ports, scheduler.WithInstanceID("web-1"), scheduler.WithHook(hook))
	for _, name := range []string{"daily-report", hostile} {
		if err := app.Add(name, "0 7 * * *", func(*ctx.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	start := time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)
	for i := range 3 {
		at := start.Add(time.Duration(i) * 24 * time.Hour)
		r := ledger.Record{Schedule: "daily-report", Tick: at, Attempt: 1, Instance: "web-1", FencingToken: uint64(100 + i),
			Outcome: ledger.Ran, Started: at, Finished: at.Add(1500 * time.Millisecond)}
		if i == 2 {
			r.Outcome, r.Err, r.Attempt = ledger.Failed, "render: timeout\nsecond line", 2
		}
		if err := led.Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"--redis-url", "redis://" + redistest.SharedAddr(), "--redis-prefix", prefix}, led, reports
}

type schedulesDoc struct {
	Schedules []scheduleJSON `json:"schedules"`
	Instances []instanceJSON `json:"instances"`
}

func TestSchedules(t *testing.T) {
	flags, _ := fleetApp(t)
	var doc schedulesDoc
	okJSON(t, &doc, append([]string{"schedules"}, flags...)...)
	if len(doc.Schedules) != 2 || doc.Instances == nil {
		t.Fatalf("schedules --json = %+v", doc)
	}
	d := doc.Schedules[0]
	if d.Name != "daily-report" || d.Spec != "0 7 * * *" || d.Location != "UTC" || d.Paused || d.Next == nil ||
		d.Next.UTC().Hour() != 7 || d.Last == nil || d.Last.Outcome != "failed" || d.Last.Attempt != 2 || d.Last.FencingToken != 102 {
		t.Errorf("daily-report = %+v (last %+v)", d, d.Last)
	}
	if h := doc.Schedules[1]; h.Name != hostile || h.Last != nil {
		t.Errorf("hostile schedule = %+v", h)
	}
	for _, s := range doc.Schedules {
		if len(s.Instances) != 1 || s.Instances[0] != "web-1" {
			t.Errorf("%q's live instances = %q, want [web-1]", s.Name, s.Instances)
		}
	}
	if len(doc.Instances) != 1 || doc.Instances[0].ID != "web-1" || len(doc.Instances[0].Schedules) != 2 {
		t.Errorf("instances = %+v, want web-1 running both schedules", doc.Instances)
	}

	table := ok(t, append([]string{"schedules"}, flags...)...)
	lines := strings.Split(table, "\n")
	if !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "daily-report") || !strings.Contains(lines[1], "failed") ||
		!strings.Contains(lines[1], "web-1") || !strings.Contains(table, "live instances (") {
		t.Errorf("table = %q", table)
	}
	if !strings.Contains(lines[0], "LIVE INSTANCES") || !strings.HasSuffix(strings.TrimSpace(lines[1]), "web-1") {
		t.Errorf("table has no live instances column: %q", table)
	}
	if strings.Contains(table, "\u202e") || !strings.Contains(table, `tenant\u202e<script>`) {
		t.Errorf("the hostile name reached the terminal raw: %q", table)
	}
}

func TestRuns(t *testing.T) {
	flags, _ := fleetApp(t)
	var doc struct {
		Schedule string    `json:"schedule"`
		Runs     []runJSON `json:"runs"`
	}
	okJSON(t, &doc, append([]string{"runs", "daily-report"}, flags...)...)
	if doc.Schedule != "daily-report" || len(doc.Runs) != 3 {
		t.Fatalf("runs --json = %+v", doc)
	}
	if r := doc.Runs[0]; r.Outcome != "failed" || r.Error != "render: timeout\nsecond line" || r.FencingToken != 102 || r.Finished == nil || r.Manual {
		t.Errorf("newest run = %+v", r)
	}
	okJSON(t, &doc, append([]string{"runs", "daily-report", "--limit", "1"}, flags...)...)
	if len(doc.Runs) != 1 || doc.Runs[0].FencingToken != 102 {
		t.Errorf("--limit 1 = %+v", doc.Runs)
	}
	okJSON(t, &doc, append([]string{"runs", hostile}, flags...)...)
	if doc.Runs == nil || len(doc.Runs) != 0 {
		t.Errorf("no runs: %#v, want an empty list", doc.Runs)
	}

	table := ok(t, append([]string{"runs", "daily-report"}, flags...)...)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "2026-11-30T07:00:00Z") || !strings.Contains(lines[1], `render: timeout\nsecond line`) ||
		!strings.Contains(lines[2], "1.5s") {
		t.Errorf("table = %q", table)
	}
	fails(t, exitFailure, append([]string{"runs", "no-such"}, flags...), `"no-such"`)
}

func TestPauseResumeRun(t *testing.T) {
	flags, led, reports := fleetAppReporting(t)
	c := context.Background()
	paused := func() bool {
		t.Helper()
		s, err := led.Schedule(c, "daily-report")
		if err != nil {
			t.Fatal(err)
		}
		return s.Paused
	}
	var doc struct {
		Schedule string `json:"schedule"`
		Action   string `json:"action"`
	}
	okJSON(t, &doc, append([]string{"pause", "daily-report"}, flags...)...)
	if !paused() || doc.Schedule != "daily-report" || doc.Action != "pause" {
		t.Fatalf("pause: %+v, paused %v", doc, paused())
	}
	var sd schedulesDoc
	okJSON(t, &sd, append([]string{"schedules"}, flags...)...)
	if !sd.Schedules[0].Paused {
		t.Error("schedules does not show the pause")
	}

	// manualRun is the finished run-now run of daily-report, if any.
	manualRun := func() *ledger.Record {
		t.Helper()
		runs, err := led.Runs(c, "daily-report", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Manual && !r.Finished.IsZero() {
				return &r
			}
		}
		return nil
	}
	if manualRun() != nil {
		t.Fatal("a run-now run before run")
	}
	if out := ok(t, append([]string{"run", "daily-report"}, flags...)...); !strings.Contains(out, "requested") {
		t.Errorf("run table = %q", out)
	}
	// The app instance takes the request and runs it, paused or not; it
	// reports the run once its record is final, so each report of
	// daily-report is the moment to look in the ledger.
	var run *ledger.Record
	for timeout := time.After(30 * time.Second); run == nil; run = manualRun() {
		select {
		case r := <-reports:
			if r.Schedule != "daily-report" {
				continue
			}
		case <-timeout:
			t.Fatal("run: no finished run-now run in the fleet's ledger after 30s")
		}
	}
	if run.Outcome != ledger.Ran || run.Instance != "web-1" {
		t.Errorf("run-now run = %+v, want ran on web-1", run)
	}

	if out := ok(t, append([]string{"resume", "daily-report"}, flags...)...); !strings.Contains(out, "resumed") || paused() {
		t.Fatalf("resume: %q, paused %v", out, paused())
	}

	for _, cmd := range []string{"pause", "resume", "run"} {
		fails(t, exitFailure, append([]string{cmd, "no-such"}, flags...), `"no-such"`)
	}
}

func TestScheduleCommandsBadUsageAndUnreachable(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"runs"}, "one schedule name"},
		{[]string{"runs", "a", "b"}, "one schedule name"},
		{[]string{"runs", "a", "--limit", "0"}, "--limit 0"},
		{[]string{"pause"}, "one schedule name"},
		{[]string{"resume", "a", "b"}, "one schedule name"},
		{[]string{"run"}, "one schedule name"},
		{[]string{"schedules", "x"}, `unexpected argument "x"`},
	} {
		fails(t, exitUsage, c.args, c.want)
	}
	addr := nowhere(t)
	for _, cmd := range [][]string{{"schedules"}, {"runs", "a"}, {"pause", "a"}, {"run", "a", "--json"}} {
		fails(t, exitFailure, append(cmd, "--redis-url", "redis://"+addr), addr)
	}
}
