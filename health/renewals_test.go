package health_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/health"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// checksOf assembles health.Provider's checks over ports, with nothing
// else in the app (no metrics.Provider, no scheduler).
func checksOf(t *testing.T, ports *ctx.Ports, opts ...fx.Option) (health.Checks, error) {
	t.Helper()
	var checks health.Checks
	app := fx.New(append([]fx.Option{fx.NopLogger, fx.Supply(ports), health.Provider(), fx.Populate(&checks)}, opts...)...)
	return checks, app.Err()
}

// With health alone, on the fake clock: Redis renewals that fail for
// longer than one TTL make /readyz 503 naming "lease-renewals"; the first
// answer from Redis (a renewal, or an acquire once no lease is left to
// renew) makes it 200 again. A renewal its caller gave up on is no failure.
func TestRenewalsFailingForLongerThanATTL(t *testing.T) {
	srv := redistest.Start(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1, DialTimeout: time.Second,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	t.Cleanup(func() { _ = client.Close() })
	clock := clockwork.NewFakeClock()
	l := redislocks.New(client, "", redislocks.WithClock(clock))
	checks, err := checksOf(t, &ctx.Ports{Locks: l, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 1 || checks[0].Name != health.RenewalsCheckName {
		t.Fatalf("checks of an app with only Redis locks: %v, want just %q", names(checks), health.RenewalsCheckName)
	}
	h := health.Handler(checks...)
	ready := func(step string) {
		t.Helper()
		if code, st := get(t, h, "/readyz"); code != http.StatusOK || st.Checks[health.RenewalsCheckName] != "ok" {
			t.Fatalf("%s: /readyz %d %+v, want 200", step, code, st)
		}
	}
	notReady := func(step string) {
		t.Helper()
		code, st := get(t, h, "/readyz")
		if code != http.StatusServiceUnavailable || len(st.Failing) != 1 || st.Failing[0] != health.RenewalsCheckName {
			t.Fatalf("%s: /readyz %d %+v, want 503 failing [%s]", step, code, st, health.RenewalsCheckName)
		}
		if msg := st.Checks[health.RenewalsCheckName]; !strings.Contains(msg, health.ErrRenewalsFailing.Error()) ||
			!strings.Contains(msg, `renew "report"`) || !strings.Contains(msg, "TTL 3s") {
			t.Errorf("%s: check says %q, want the sentinel, the key and the TTL", step, msg)
		}
	}
	const ttl = 3 * time.Second
	bg := context.Background()
	acquire := func() locks.Lease {
		t.Helper()
		res, err := l.Acquire(bg, "report", locks.Options{TTL: ttl})
		if err != nil || !res.Acquired {
			t.Fatalf("Acquire = %+v, %v", res, err)
		}
		return res.Lease
	}
	renewFails := func(held locks.Lease) {
		t.Helper()
		if ok, err := held.Renew(bg, 0); ok || err == nil {
			t.Fatalf("Renew with Redis down = %v, %v, want an error", ok, err)
		}
	}
	ready("before anything")
	held := acquire()

	// A renewal cancelled by its caller says nothing about Redis.
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	if _, err := held.Renew(cancelled, 0); err == nil {
		t.Fatal("Renew on a cancelled ctx succeeded")
	}
	clock.Advance(2 * ttl)
	ready("a cancelled renewal, two TTLs ago")
	if err := held.Release(bg); err != nil {
		t.Fatal(err)
	}

	held = acquire()
	srv.Stop()
	renewFails(held) // the streak starts here
	clock.Advance(2 * time.Second)
	renewFails(held)
	clock.Advance(time.Second)
	ready("renewals failing for exactly one TTL")
	clock.Advance(time.Millisecond)
	notReady("renewals failing for one TTL and 1ms")

	srv.Resume() // empty: the renewal is answered "gone", an answer all the same
	if ok, err := held.Renew(bg, 0); ok || err != nil {
		t.Fatalf("Renew of a lease Redis lost = %v, %v, want false, nil", ok, err)
	}
	ready("Redis answers a renewal again")

	// Once no lease is left to renew, any answer ends the streak: a
	// readiness that waited for a renewal could stay 503 for good.
	held = acquire()
	srv.Stop()
	renewFails(held)
	clock.Advance(ttl + time.Millisecond)
	notReady("a second streak")
	_ = held.Release(bg) // fails too: Redis is down
	notReady("after a release Redis did not answer")
	srv.Resume()
	held = acquire()
	ready("Redis answers an acquire again")
	if err := held.Release(bg); err != nil {
		t.Fatal(err)
	}
}

func names(cs health.Checks) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

// The memory adapter's backend always answers: health.Provider checks its
// renewals, and the check passes. A second check of a name already taken
// is refused at startup, naming it.
func TestProviderChecks(t *testing.T) {
	clock := clockwork.NewFakeClock()
	checks, err := checksOf(t, &ctx.Ports{Locks: locks.NewMemory(locks.WithClock(clock)), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if st := health.Run(context.Background(), checks...); st.Status != "ok" || st.Checks[health.RenewalsCheckName] != "ok" {
		t.Errorf("memory locks: %+v, want lease-renewals ok", st)
	}
	_, err = checksOf(t, &ctx.Ports{Locks: locks.NewMemory(locks.WithClock(clock)), Clock: clock},
		health.AddCheck(health.Check{Name: health.RenewalsCheckName, Func: func(context.Context) error { return nil }}))
	if err == nil || !strings.Contains(err.Error(), `two checks named "lease-renewals"`) {
		t.Errorf("a duplicate check: %v, want an error naming it", err)
	}
	if errors.Is(err, health.ErrRenewalsFailing) {
		t.Error("the duplicate error is not a failing check")
	}
}
