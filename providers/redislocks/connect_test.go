package redislocks_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// Connect reads the same variables as the provider, so a tool pointed at an
// app's environment sees the app's leases.
func TestConnectReadsTheEnvironment(t *testing.T) {
	c := newClient(t)
	prefix := uniquePrefix(t, c)
	app := redislocks.New(c, prefix)
	mustAcquire(t, app, "k", locks.Options{TTL: time.Minute})

	t.Setenv(redislocks.EnvURL, "redis://"+redisAddr()+"/0")
	t.Setenv(redislocks.EnvPrefix, prefix)
	l, rl, err := redislocks.Connect(context.Background(), redislocks.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Client.Close()
	if rl.Prefix != prefix {
		t.Errorf("prefix %q, want %q from %s", rl.Prefix, prefix, redislocks.EnvPrefix)
	}
	if _, held, err := l.Inspect(context.Background(), "k"); err != nil || !held {
		t.Errorf("the app's lease is not visible through Connect: %v, %v", held, err)
	}
}

func TestConnectFailures(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t))
	_, _, err := redislocks.Connect(context.Background(), redislocks.Options{URL: "redis://" + addr, ConnectMaxAttempts: 1})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("Connect to nothing = %v, want an error naming %s", err, addr)
	}
	_, _, err = redislocks.Connect(context.Background(), redislocks.Options{URL: "http://nope", ConnectMaxAttempts: 1})
	if !errors.Is(err, redislocks.ErrConfig) {
		t.Errorf("Connect with a bad URL = %v, want ErrConfig", err)
	}
}
