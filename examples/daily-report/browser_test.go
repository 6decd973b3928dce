package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/testserver"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/scheduler"
)

// chromiumPath finds the browser the services script installs.
func chromiumPath(t *testing.T) string {
	t.Helper()
	testserver.Require(t, "chromium")
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no chromium on PATH: `make services` installs it (apt-get install chromium)")
	return ""
}

// browserContext starts a headless Chromium of the test's own, with a
// fresh profile, and stops it when the test ends.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		// Root in a container has no user namespace for the sandbox.
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
	})
	// Start the browser now, so its start-up is not charged to the
	// first step's timeout.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// startApp runs the example app, its own Providers on the real clock (the
// daily schedule, which does not tick during the test), with its pages on
// a free port. It returns their base URL, the app's ledger, where the test
// reads the effect of each click, and the reports of the app's runs, each
// sent once the run's ledger record is final.
func startApp(t *testing.T) (string, ledger.Ledger, <-chan scheduler.Report) {
	t.Helper()
	t.Setenv("REDIS_LOCKS_URL", "")
	t.Setenv("DATABASE_URL", "")
	t.Setenv("REPORT_SCHEDULE", "")
	var srv *HTTPServer
	var ports *ctx.Ports
	reports := make(chan scheduler.Report, 64)
	// A hook must not block; the test waits for one run.
	hook := scheduler.HookFunc(func(r scheduler.Report) {
		select {
		case reports <- r:
		default:
		}
	})
	app := beignet.New(append(Providers(Config{Instance: "browser-test", HTTPAddr: "127.0.0.1:0"}),
		scheduler.Configure(scheduler.WithHook(hook)), fx.Populate(&srv, &ports))...)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	return srv.URL(), ports.Ledger, reports
}

// stepTimeout is generous: a busy 2-core machine running -race can take
// seconds to render a page.
const stepTimeout = time.Minute

// step runs actions, naming the step when it fails.
func step(t *testing.T, bctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(bctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// read runs one action that returns a value.
func read[T any](t *testing.T, bctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(bctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(c, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func screenshot(t *testing.T, bctx context.Context, name string) string {
	t.Helper()
	png := read(t, bctx, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(t.TempDir(), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 || string(png[1:4]) != "PNG" {
		t.Fatalf("%s is not a PNG (%d bytes)", name, len(png))
	}
	if dir := os.Getenv("BEIGNET_SCREENSHOT_DIR"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// An operator opens the page, with JavaScript off, pauses the daily report,
// runs it now and resumes it, by clicking the page's own buttons; each click
// must reach the fleet's ledger. Screenshots of the schedules and runs views are saved
// under the test's temp dir (and in $BEIGNET_SCREENSHOT_DIR when set).
func TestAdminPageInABrowser(t *testing.T) {
	base, led, reports := startApp(t)
	bctx := browserContext(t)
	const name = "daily-report"
	row := `tr[data-schedule="` + name + `"] `
	c := context.Background()
	paused := func() bool {
		t.Helper()
		s, err := led.Schedule(c, name)
		if err != nil {
			t.Fatal(err)
		}
		return s.Paused
	}
	// click presses a button of the row and waits for the page the POST
	// redirects to to load (the old page, still shown until then, may
	// hold an older confirmation), which confirms the action.
	click := func(button, confirmation string) {
		t.Helper()
		read(t, bctx, "click "+button, chromedp.WaitEvent(page.LoadEventFired, nil,
			chromedp.Click(chromedp.CSS(row+`button[value="`+button+`"]`))))
		if got := read(t, bctx, "read the confirmation", chromedp.Text(chromedp.CSS(".flash"))); got != confirmation {
			t.Fatalf("after %s the page says %q, want %q", button, got, confirmation)
		}
	}

	// The page promises to work with JavaScript off: the browser runs none.
	if _, err := chromedp.Call(bctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("turn JavaScript off: %v", err)
	}
	step(t, bctx, "check that scripts do not run", chromedp.Navigate(`data:text/html,<title>off</title><script>document.title="on"</script>`))
	if title := read(t, bctx, "read the title", chromedp.Title()); title != "off" {
		t.Fatalf("a script ran (title %q): JavaScript is not off", title)
	}
	step(t, bctx, "load the schedules view",
		chromedp.Navigate(base+adminPrefix),
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if paused() {
		t.Fatal("paused before the test clicked anything")
	}
	// Every view is there: the app's locks (instrumented for metrics)
	// still list their leases, and its outbox store counts its messages.
	if nav := read(t, bctx, "read the nav", chromedp.Text(chromedp.CSS("nav"))); !strings.Contains(nav, "Schedules") ||
		!strings.Contains(nav, "Leases") || !strings.Contains(nav, "Outbox") {
		t.Errorf("nav = %q, want Schedules, Leases and Outbox", nav)
	}

	click("pause", "Paused "+name+" fleet-wide.")
	if !paused() {
		t.Fatal("Pause did not reach the ledger")
	}
	if state := read(t, bctx, "read the state", chromedp.Text(chromedp.CSS(row+".paused"))); state != "paused" {
		t.Errorf("state cell = %q", state)
	}

	click("run", "Asked the fleet to run "+name+" now.")
	// The app takes the request (pushed to it, not polled) and runs it,
	// paused or not; it reports the run once its record is final, so each
	// report of the schedule is the moment to look in the ledger.
	var manual ledger.Record
	timeout := time.After(stepTimeout)
	for manual.Finished.IsZero() {
		select {
		case r := <-reports:
			if r.Schedule != name {
				continue
			}
		case <-timeout:
			t.Fatalf("no finished run-now run of %s in the ledger after %v", name, stepTimeout)
		}
		runs, err := led.Runs(c, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.Manual && !r.Finished.IsZero() {
				manual = r
			}
		}
	}
	if manual.Outcome != ledger.Ran || manual.Instance != "browser-test" || manual.Attempt != 1 {
		t.Fatalf("run-now run = %+v, want ran on browser-test, attempt 1", manual)
	}

	click("resume", "Resumed "+name+" fleet-wide.")
	if paused() {
		t.Fatal("Resume did not reach the ledger")
	}
	screenshot(t, bctx, "schedules")

	read(t, bctx, "open the runs view", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(row+"a"))))
	if h := read(t, bctx, "read the heading", chromedp.Text(chromedp.CSS("h1 code"))); h != name {
		t.Fatalf("runs view of %q", h)
	}
	if kind := read(t, bctx, "read the run's kind", chromedp.Text(chromedp.CSS("tbody tr td:nth-child(2)"))); kind != "run now" {
		t.Errorf("the runs view's newest run is a %q, want run now", kind)
	}
	screenshot(t, bctx, "runs")
}
