// Code generated from docs/testing.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/beignettest"
	"github.com/beignet-go/beignet/scheduler"
	"testing"
	"time"
)

func TestApp(t *testing.T) {
	tp := beignettest.CreateTestPorts(t)
	digests := &Digests{}
	app := beignet.New(scheduler.Schedule("digest", "* * * * *", digests.Send), tp.App())
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })

	tp.Advance(2 * time.Minute)
	if got := len(digests.Sent()); got != 2 {
		t.Fatalf("%d digests in two minutes, want 2", got)
	}
}
