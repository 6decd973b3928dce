package redislocks_test

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/ledger/ledgertest"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// The ledger's conformance suite on the real server, with the adapter on
// a fake clock: claims lapse and records age as the test moves it.
func TestLedgerConformance(t *testing.T) {
	c := newClient(t)
	ledgertest.Run(t, func(t *testing.T) ledgertest.Harness {
		clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC))
		const history, maxAge = 10, 24 * time.Hour
		l := redislocks.NewLedger(c, uniquePrefix(t, c), ledger.WithClock(clock), ledger.WithHistory(history), ledger.WithMaxAge(maxAge))
		return ledgertest.Harness{Ledger: l, Advance: clock.Advance, Now: clock.Now, History: history, MaxAge: maxAge}
	})
}

// A heartbeat's keys expire with it, so a dead instance leaves nothing
// behind; Leave deletes the instance's own key at once.
func TestLedgerHeartbeatKeysExpire(t *testing.T) {
	c := newClient(t)
	l := redislocks.NewLedger(c, uniquePrefix(t, c))
	const ttl = 30 * time.Second
	if err := l.Heartbeat(t.Context(), "i", ttl, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	keys := l.InstanceKeys("i")
	for _, k := range keys {
		if d, err := c.PTTL(t.Context(), k).Result(); err != nil || d <= 0 || d > ttl {
			t.Errorf("PTTL(%q) = %v, %v; want in (0, %v]", k, d, err, ttl)
		}
	}
	if err := l.Beat(t.Context(), "i", 2*ttl); err != nil {
		t.Fatal(err)
	}
	if d, err := c.PTTL(t.Context(), keys[1]).Result(); err != nil || d <= ttl || d > 2*ttl {
		t.Errorf("PTTL(%q) after a longer Beat = %v, %v; want in (%v, %v]", keys[1], d, err, ttl, 2*ttl)
	}
	if err := l.Leave(t.Context(), "i"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Exists(t.Context(), keys[1]).Result(); err != nil || n != 0 {
		t.Errorf("%q exists after Leave: %d, %v", keys[1], n, err)
	}
}
