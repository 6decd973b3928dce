package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beignet-go/beignet/internal/testserver"
)

// The exit statuses and the one-line error are the contract scripts rely
// on, so they are checked on the real binary, through os.Exit.
func TestExitStatusOfTheBinary(t *testing.T) {
	testserver.Require(t, "a built beignet binary")
	bin := filepath.Join(t.TempDir(), "beignet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := nowhere(t)
	for _, c := range []struct {
		args       []string
		code       int
		stderrHas  string
		stderrRows int
	}{
		{[]string{"help"}, exitOK, "", 0},
		{[]string{"leases", "--redis-url", "redis://" + addr}, exitFailure, addr, 1},
		{[]string{"outbox", "--database-url", "postgres://postgres@" + addr + "/test?sslmode=disable"}, exitFailure, "not reachable", 1},
		{[]string{"outbox", "dead", "--limit", "0"}, exitUsage, "--limit 0", 2},
		{[]string{"runs", "daily-report", "--limit", "abc"}, exitUsage, `"abc"`, 2},
	} {
		cmd := exec.Command(bin, c.args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != c.code || !strings.Contains(stderr.String(), c.stderrHas) || strings.Count(stderr.String(), "\n") != c.stderrRows {
			t.Errorf("beignet %s: exit %d, stderr %q; want exit %d, %d lines, saying %q",
				strings.Join(c.args, " "), code, stderr.String(), c.code, c.stderrRows, c.stderrHas)
		}
	}
}
