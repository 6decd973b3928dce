package ledger_test

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/ledger/ledgertest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemoryConformance(t *testing.T) {
	ledgertest.Run(t, func(t *testing.T) ledgertest.Harness {
		clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 1, 0, 0, 30, 0, time.UTC))
		const history, maxAge = 10, 24 * time.Hour
		l := ledger.NewMemory(ledger.WithClock(clock), ledger.WithHistory(history), ledger.WithMaxAge(maxAge))
		return ledgertest.Harness{Ledger: l, Advance: clock.Advance, Now: clock.Now, History: history, MaxAge: maxAge}
	})
}

func TestMemoryDefaults(t *testing.T) {
	c := ledger.NewConfig(ledger.WithHistory(-1), ledger.WithMaxAge(0))
	if c.History != ledger.DefaultHistory || c.MaxAge != ledger.DefaultMaxAge || c.Clock != nil {
		t.Fatalf("config = %+v, want the defaults", c)
	}
}
