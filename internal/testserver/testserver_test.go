package testserver

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(Main(m)) }

// A missing binary is one line that says what to install.
func TestLookPathMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := LookPath("redis-server", "redis-server", t.TempDir())
	if !errors.Is(err, ErrMissing) {
		t.Fatalf("err = %v, want ErrMissing", err)
	}
	if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, "apt-get install redis-server") {
		t.Errorf("message %q: want one line naming the package to install", msg)
	}
}

// A binary outside PATH is found in the extra directories.
func TestLookPathDirs(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	t.Setenv("PATH", t.TempDir())
	got, err := LookPath("sleep", "coreutils", t.TempDir(), sleep[:strings.LastIndex(sleep, "/")])
	if err != nil || got != sleep {
		t.Errorf("LookPath = %q, %v; want %q", got, err, sleep)
	}
}

// A shared server starts once, however many tests ask; Main's hook stops
// it, and the next Get starts a new one.
func TestSharedStartsOnceAndStops(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	starts := 0
	s := Shared[*Process]{Start: func() (*Process, func(), error) {
		starts++
		p, err := Start(sleep, []string{"60"}, nil)
		if err != nil {
			return nil, nil, err
		}
		return p, func() { p.Stop(syscall.SIGKILL) }, nil
	}}
	done := make(chan *Process)
	for range 2 {
		go func() {
			p, err := s.Get()
			if err != nil {
				t.Error(err)
			}
			done <- p
		}()
	}
	p1, p2 := <-done, <-done
	if starts != 1 || p1 != p2 {
		t.Fatalf("%d starts, same process %v; want 1 shared", starts, p1 == p2)
	}
	stopShared()
	select {
	case <-p1.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("still running after the TestMain hook")
	}
	p3, err := s.Get()
	if err != nil || p3 == p1 || starts != 2 {
		t.Errorf("after stop: %d starts, new %v, %v", starts, p3 != p1, err)
	}
	stopShared()
}

// A start that failed fails every later Get with the same error, at once.
func TestSharedRemembersFailure(t *testing.T) {
	starts := 0
	boom := errors.New("boom")
	s := Shared[int]{Start: func() (int, func(), error) { starts++; return 0, nil, boom }}
	for range 3 {
		if _, err := s.Get(); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
	}
	if starts != 1 {
		t.Errorf("%d starts, want 1", starts)
	}
}

// A process that dies at start is reported with what it printed.
func TestWaitReadyExitedAtStart(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	p, err := Start(sh, []string{"-c", "echo bad config >&2; exit 1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(10*time.Second, func() error { return errors.New("not yet") })
	if err == nil || !strings.Contains(err.Error(), "bad config") {
		t.Errorf("err = %v, want the process's own words", err)
	}
}
