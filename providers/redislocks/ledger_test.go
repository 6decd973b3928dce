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
