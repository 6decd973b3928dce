// Code generated from docs/testing.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/scheduler"
	"testing"
	"time"
)

func TestDigestEveryMinute(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	digests := &Digests{}
	s := scheduler.New(tp.Ports)
	if err := s.Add("digest", "* * * * *", digests.Send); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) }) // before zaptest's logger goes

	tp.Advance(time.Minute)
	tp.Advance(time.Minute)
	tp.Advance(time.Minute)

	if got := s.Counts("digest"); got[scheduler.Ran] != 3 || len(got) != 1 {
		t.Fatalf("outcomes %v, want 3 ran and nothing else", got)
	}
	sent := digests.Sent()
	first := beignettest.DefaultStart().Truncate(time.Minute).Add(time.Minute)
	for i := range 3 {
		if tick := first.Add(time.Duration(i) * time.Minute); sent[tick] == 0 {
			t.Errorf("no digest for %v: %v", tick, sent)
		}
	}
}
