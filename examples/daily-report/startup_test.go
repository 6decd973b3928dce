package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/testserver"
)

// timestamp is the console format's first field.
var timestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT[0-9:.]+Z\t`)

// Bad configuration, as a newcomer meets it: the built app, run as a
// process. Each prints exactly one line, naming the variable and echoing
// its value with any password masked, and exits 1 at once.
func TestStartupErrors(t *testing.T) {
	bin := build(t)
	cases := []struct {
		name string
		env  []string
		line string // after the timestamp
	}{
		{"malformed REDIS_LOCKS_URL", []string{"REDIS_LOCKS_URL=redis://u:secret@host:port:port"},
			`ERROR	cannot start: redislocks: bad configuration: REDIS_LOCKS_URL="redis://u:xxxxx@host:port:port": parse "redis://u:xxxxx@host:port:port": invalid port ":port" after host`},
		{"REDIS_LOCKS_DB not a number", []string{"REDIS_LOCKS_URL=redis://127.0.0.1:6379", "REDIS_LOCKS_DB=one"},
			`ERROR	cannot start: redislocks: bad configuration: REDIS_LOCKS_DB="one": not an integer`},
		{"malformed DATABASE_URL", []string{"DATABASE_URL=postgres://u:secret@host:port/db"},
			`ERROR	cannot start: outbox: bad configuration: DATABASE_URL="postgres://u:xxxxx@host:port/db": invalid port`},
		// pgx also takes the password as a parameter: in a keyword/value
		// DSN and in a URL's query. It is masked there too.
		{"malformed keyword/value DATABASE_URL", []string{"DATABASE_URL=host=db password=secret port=zz"},
			`ERROR	cannot start: outbox: bad configuration: DATABASE_URL="host=db password=xxxxx port=zz": invalid port`},
		{"DATABASE_URL with a password in its query", []string{"DATABASE_URL=postgres://db/app?password=secret&sslmode=bogus"},
			`ERROR	cannot start: outbox: bad configuration: DATABASE_URL="postgres://db/app?password=xxxxx&sslmode=bogus": failed to configure TLS (sslmode is invalid)`},
		{"shared locks required", []string{"BEIGNET_REQUIRE_SHARED_LOCKS=true"},
			`ERROR	cannot start: beignet: bad configuration: BEIGNET_REQUIRE_SHARED_LOCKS="true", but no provider contributes shared locks: add redislocks.Provider to the app's providers`},
		{"BEIGNET_REQUIRE_SHARED_LOCKS not a boolean", []string{"BEIGNET_REQUIRE_SHARED_LOCKS=always"},
			`ERROR	cannot start: beignet: bad configuration: BEIGNET_REQUIRE_SHARED_LOCKS="always": want true or false`},
		{"BEIGNET_LOG_LEVEL unknown", []string{"BEIGNET_LOG_LEVEL=loud"},
			`ERROR	cannot start: beignet: bad configuration: BEIGNET_LOG_LEVEL="loud": want debug, info, warn or error`},
		{"REPORT_TZ unknown", []string{"REPORT_TZ=Mars/Olympus"},
			`ERROR	cannot start: daily-report: REPORT_TZ="Mars/Olympus": not a time zone (try UTC or Europe/Paris)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs, took := runFailing(t, bin, c.env)
			if took > 3*time.Second {
				t.Errorf("took %v to fail, want well under 3s", took)
			}
			if len(logs) != 1 || timestamp.ReplaceAllString(logs[0], "") != c.line {
				t.Errorf("stderr after the banner:\n%s\nwant one line:\n<time>\t%s", strings.Join(logs, "\n"), c.line)
			}
		})
	}
}

// Unreachable servers, as a newcomer meets them: start fails after the
// connect policy's waits (1.5 s), with one error line in the app's format
// naming the address, after the app's own start-up lines. go-redis's raw
// "redis: pool.go" lines do not appear.
func TestUnreachableServers(t *testing.T) {
	bin := build(t)
	port, err := testserver.FreePort() // nothing listens there: refused at once
	if err != nil {
		t.Fatal(err)
	}
	down := fmt.Sprintf("127.0.0.1:%d", port)
	cases := []struct {
		name string
		env  []string
		line string // the last, after the timestamp
	}{
		{"Redis", []string{"REDIS_LOCKS_URL=redis://" + down},
			"ERROR\tcannot start: redislocks: redis at " + down + " not reachable after 5 attempts: dial tcp " + down + ": connect: connection refused"},
		{"PostgreSQL", []string{"DATABASE_URL=postgres://u@" + down + "/db"},
			"ERROR\tcannot start: outbox: PostgreSQL at " + down + "/db not reachable after 5 attempts: failed to connect to `user=u database=db`: " + down + " (127.0.0.1): dial error: dial tcp " + down + ": connect: connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logs, took := runFailing(t, bin, c.env)
			if took < 1500*time.Millisecond || took > 3*time.Second {
				t.Errorf("took %v to fail, want the 1.5 s of waits and little more", took)
			}
			errLines := 0
			for _, l := range logs {
				if !timestamp.MatchString(l) {
					t.Errorf("line outside the app's log format: %q", l)
				}
				if strings.Contains(l, "\tERROR\t") {
					errLines++
				}
			}
			if errLines != 1 || timestamp.ReplaceAllString(logs[len(logs)-1], "") != c.line {
				t.Errorf("stderr after the banner:\n%s\nwant it to end with the one error line:\n<time>\t%s", strings.Join(logs, "\n"), c.line)
			}
		})
	}
}

// runFailing runs the app with env added to a clean environment, checks it
// exits 1 without printing a password, and returns its stderr lines after
// the banner and how long it took.
func runFailing(t *testing.T, bin string, env []string) (logs []string, took time.Duration) {
	t.Helper()
	cmd := exec.Command(bin, "-demo")
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	err := cmd.Run()
	took = time.Since(began)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1", err)
	}
	if strings.Contains(stderr.String()+stdout.String(), "secret") {
		t.Error("the password was printed")
	}
	t.Logf("failed in %v", took.Round(time.Millisecond))
	lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
	return lines[bannerLines(lines):], took
}

// build builds the app for t.
func build(t *testing.T) string {
	t.Helper()
	// Building and running the app takes seconds: the full suite's job.
	testserver.Require(t, "a built app binary")
	bin := filepath.Join(t.TempDir(), "daily-report")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// make run: a banner first, then one lease's acquire, renew and release,
// once, and Ctrl-C stops it cleanly.
func TestDemoBannerAndOneLeaseStory(t *testing.T) {
	bin := build(t)
	cmd := exec.Command(bin, "-demo")
	// Every second, so the test sees two renders in about two seconds.
	cmd.Env = append(cleanEnv(), "RENDER_SCHEDULE=* * * * * *", "BEIGNET_HTTP_ADDR=127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var out []string
	renders := 0
	sc := bufio.NewScanner(stderr)
	for renders < 2 && sc.Scan() {
		out = append(out, sc.Text())
		if strings.Contains(sc.Text(), `"schedule": "render-pdfs"`) {
			renders++
		}
	}
	if renders < 2 {
		t.Fatalf("the demo stopped before two renders:\n%s", strings.Join(out, "\n"))
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(stderr)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after Ctrl-C: %v, want exit 0", err)
	}
	text := strings.Join(out, "\n") + "\n" + string(rest)

	banner := strings.Join(out[:bannerLines(out)], "\n")
	for _, want := range []string{"daily-report", "render-pdfs", "* * * * * *", "*/5 * * * * *", "outbox drain", "Ctrl-C", "docs/getting-started.md", "http://127.0.0.1:0/admin/"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner does not say %q:\n%s", want, banner)
		}
	}
	for _, step := range []string{"lease: acquired", "lease: renewed", "lease: released"} {
		if n := strings.Count(text, step); n != 1 {
			t.Errorf("%q appears %d times, want once:\n%s", step, n, text)
		}
	}
}

// cleanEnv is the test's environment without the app's settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "REDIS_LOCKS_") || strings.HasPrefix(name, "BEIGNET_") || strings.HasPrefix(name, "REPORT_") ||
			strings.HasPrefix(name, "RENDER_") || strings.HasSuffix(name, "DATABASE_URL") || strings.HasPrefix(name, "OUTBOX_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// bannerLines counts the demo banner's lines at the start of lines: they
// are the ones without a timestamp.
func bannerLines(lines []string) int {
	for i, l := range lines {
		if timestamp.MatchString(l) {
			return i
		}
	}
	return len(lines)
}
