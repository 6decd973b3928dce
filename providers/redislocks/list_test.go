package redislocks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// List pages through SCAN and skips keys under the prefix that are not
// leases (another feature's keys, or an operator's), rather than failing.
func TestListPagesAndSkipsOtherKeys(t *testing.T) {
	c := newClient(t)
	prefix := uniquePrefix(t, c)
	l := redislocks.New(c, prefix)
	ctx := context.Background()
	const n = 1234 // more than two SCAN pages
	for i := range n {
		mustAcquire(t, l, fmt.Sprintf("k%04d", i), locks.Options{TTL: time.Minute})
	}
	// Keys a MATCH on the lease layout also meets.
	if err := c.Set(ctx, "{"+prefix+"|string}", "x", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, "{"+prefix+"|ownerless}", "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	infos, err := l.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != n {
		t.Fatalf("listed %d leases, want %d", len(infos), n)
	}
	for i, in := range infos {
		if want := fmt.Sprintf("k%04d", i); in.Key != want || in.FencingToken == 0 {
			t.Fatalf("lease %d = %+v, want key %s with a token", i, in, want)
		}
	}
}

func TestListUnreachable(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", redistest.FreePort(t)), MaxRetries: -1})
	defer c.Close()
	_, err := redislocks.New(c, "p").List(context.Background(), "*")
	if err == nil {
		t.Fatal("List against no server succeeded")
	}
}
