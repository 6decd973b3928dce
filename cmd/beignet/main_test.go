package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/redistest"

	"github.com/beignet-go/beignet/internal/testserver"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{}) // as main does
	goleak.VerifyTestMain(testserver.Main(m))
}

// result is one run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// beignet runs the CLI in-process, as main does.
func beignet(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// ok runs args and fails the test unless they succeed.
func ok(t *testing.T, args ...string) string {
	t.Helper()
	r := beignet(t, args...)
	if r.code != exitOK {
		t.Fatalf("beignet %s: exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("beignet %s wrote to stderr: %q", strings.Join(args, " "), r.stderr)
	}
	return r.stdout
}

// okJSON runs args with --json and decodes the one document printed.
func okJSON(t *testing.T, into any, args ...string) {
	t.Helper()
	out := ok(t, append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Fatalf("beignet %s --json: %v in %q", strings.Join(args, " "), err, out)
	}
	if dec.More() {
		t.Fatalf("beignet %s --json printed more than one document: %q", strings.Join(args, " "), out)
	}
}

// fails runs args and checks the exit status and that stderr is one line
// containing every want.
func fails(t *testing.T, code int, args []string, want ...string) {
	t.Helper()
	r := beignet(t, args...)
	if r.code != code {
		t.Fatalf("beignet %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), r.code, code, r.stderr)
	}
	first, _, _ := strings.Cut(r.stderr, "\n")
	for _, w := range want {
		if !strings.Contains(first, w) {
			t.Errorf("beignet %s: first line of stderr %q does not say %q", strings.Join(args, " "), first, w)
		}
	}
	if code == exitFailure && strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("beignet %s: error is not one line: %q", strings.Join(args, " "), r.stderr)
	}
	if r.stdout != "" && code != exitOK {
		t.Errorf("beignet %s failed but printed %q", strings.Join(args, " "), r.stdout)
	}
}

// nowhere is an address nothing listens on.
func nowhere(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t)) }
