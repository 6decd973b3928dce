package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet"
)

// chromiumPath finds the browser the services script installs.
func chromiumPath(t *testing.T) string {
	t.Helper()
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

// startApp runs the example app, its own Providers on the real clock, with
// its pages on a free port, and returns their base URL.
func startApp(t *testing.T, extra ...fx.Option) string {
	t.Helper()
	t.Setenv("REDIS_LOCKS_URL", "")
	t.Setenv("DATABASE_URL", "")
	var srv *HTTPServer
	app := beignet.New(append(append(Providers(Config{Instance: "browser-test", HTTPAddr: "127.0.0.1:0"}), extra...), fx.Populate(&srv))...)
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	return srv.URL()
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

func TestAdminPageInABrowser(t *testing.T) {
	base := startApp(t)
	bctx := browserContext(t)
	step(t, bctx, "load the outbox view",
		chromedp.Navigate(base+adminPrefix+"outbox"),
		chromedp.WaitVisible(chromedp.CSS("h1")),
	)
	if h1 := read(t, bctx, "read the heading", chromedp.Text(chromedp.CSS("h1"))); h1 != "Outbox" {
		t.Fatalf("h1 = %q", h1)
	}
	screenshot(t, bctx, "outbox")
}
