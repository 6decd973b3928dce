package scheduler_test

import (
	"context"
	"testing"
	"time"

	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/scheduler"
)

// A handler that waits on a blocking Redis command (a job queue's BLPOP)
// waits on the outside world, as one waiting on a channel the test feeds:
// Advance returns with it blocked, and the test can then feed it.
func TestAdvanceWithAHandlerInBLPOP(t *testing.T) {
	srv := redistest.Start(t)
	c := srv.Client()
	t.Cleanup(func() { c.Close() })
	tp := beignettest.CreateTestPorts(t)
	s := scheduler.New(tp.Ports, scheduler.WithInstanceID("i"))
	got := make(chan string, 1)
	mustAdd(t, s, "consume", "@every 1m", func(cx *ctx.Context) error {
		v, err := c.BLPop(cx, 0, "review-jobs").Result()
		if err == nil {
			got <- v[1]
		}
		return err
	})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.Stop(sctx)
	})
	began := time.Now()
	tp.Advance(time.Minute)
	t.Logf("Advance took %v of real time", time.Since(began))
	if err := c.RPush(context.Background(), "review-jobs", "job-1").Err(); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "job-1" {
		t.Fatalf("handler got %q", v)
	}
}
