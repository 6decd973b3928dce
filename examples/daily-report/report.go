package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// Report is what the daily-report schedule builds.
type Report struct {
	Period  time.Time `json:"period"` // the tick it was built for
	Orders  int       `json:"orders"`
	Revenue int64     `json:"revenue_cents"`
	Token   uint64    `json:"fencing_token"` // the lease that built it
}

// Reports is the app's data: orders, and the reports built from them.
type Reports interface {
	// Create builds the report for period from the orders and enqueues
	// "report.ready", both in one transaction. Reports are unique per
	// period in the store itself, so a duplicate run is a no-op
	// (created=false): the lease only saves the work.
	Create(ctx context.Context, period time.Time, token uint64) (r Report, created bool, err error)
	// Describe names the backend for the startup log.
	Describe() string
}

// DailyReport is the daily-report schedule's handler.
func DailyReport(reports Reports) scheduler.Handler {
	return func(c *ctx.Context) error {
		run, ok := scheduler.RunFrom(c)
		if !ok {
			return errors.New("daily report: not in a scheduled run (in a test, build one with scheduler.WithRun)")
		}
		r, created, err := reports.Create(c, run.Tick, run.Lease.FencingToken())
		if err != nil {
			return fmt.Errorf("daily report for %v: %w", run.Tick, err)
		}
		c.Ports.Logger.Info("daily-report: built",
			zap.Time("period", r.Period), zap.Int("orders", r.Orders), zap.Int64("revenue_cents", r.Revenue), zap.Bool("new", created))
		return nil
	}
}

// readyMessage is the outbox message announcing a report. The key orders
// messages per period.
func readyMessage(r Report) (outbox.Message, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return outbox.Message{}, err
	}
	return outbox.Message{
		Topic:   "report.ready",
		Key:     r.Period.UTC().Format(time.RFC3339),
		Payload: body,
		Headers: map[string]string{"Content-Type": "application/json"},
	}, nil
}
