package beignettest

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/redistest"
)

// A goroutine waiting for a child process to exit (a test's private
// redis-server, say) waits on the outside world, as one blocked on I/O
// does, so it must not keep the process from counting as quiet.
func TestQuietWithAChildProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, sleep, "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	t.Cleanup(func() { cancel(); <-waited })

	deadline := time.Now().Add(10 * time.Second)
	for !quiet(replyWaits{}) {
		if time.Now().After(deadline) {
			t.Fatal("never quiet while a goroutine waits for a child process")
		}
		<-time.After(time.Millisecond) // let the Wait goroutine reach its system call
	}
}

// A goroutine whose Redis command waits for its reply is busy: the reply
// comes without the clock moving. One that waits on a subscription is not.
func TestQuietAndRedis(t *testing.T) {
	srv := redistest.Start(t)
	c, obs := srv.Client(), srv.Client()
	t.Cleanup(func() { c.Close(); obs.Close() })
	bg := context.Background()
	ps := c.Subscribe(bg, "quiet-test")
	if _, err := ps.Receive(bg); err != nil { // the subscription's confirmation
		t.Fatal(err)
	}
	received := make(chan error, 1)
	go func() { _, err := ps.Receive(bg); received <- err }()
	t.Cleanup(func() { ps.Close(); <-received })
	replies := replyWaits{}
	waitFor(t, "quiet with a subscriber waiting", func() bool { return quiet(replies) })

	// BLPOP on an empty list waits at the server: a command awaiting its
	// reply for as long as the test wants.
	replied := make(chan error, 1)
	go func() { replied <- c.BLPop(bg, time.Minute, "quiet-test-list").Err() }()
	t.Cleanup(func() { <-replied })
	// The command is on the wire once the server lists a blocked client.
	waitFor(t, "BLPOP to block at the server", func() bool {
		info, err := obs.Info(bg, "clients").Result()
		return err == nil && strings.Contains(info, "blocked_clients:1")
	})
	for range 100 {
		if quiet(replies) {
			t.Fatal("quiet while a Redis command waits for its reply")
		}
	}
	// A reply that takes longer than replyPatience is a blocking command
	// waiting on the outside world: quiet, so that Advance treats it like
	// any blocked work rather than failing after its own patience.
	started := time.Now()
	waitFor(t, "a long wait for a reply to count as quiet", func() bool { return quiet(replies) })
	if waited := time.Since(started); waited < replyPatience/2 {
		t.Fatalf("quiet after %v of waiting for a reply, before replyPatience %v", waited, replyPatience)
	}
	if err := obs.RPush(bg, "quiet-test-list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-replied; err != nil {
		t.Fatal(err)
	}
	replied <- nil // for the cleanup
	waitFor(t, "quiet once the reply came", func() bool { return quiet(replies) })
	if len(replies) != 0 {
		t.Fatalf("replies still remembered after the command returned: %v", replies)
	}
}

// waitFor polls cond, failing the test after 10 s; what it waits for is a
// state of other goroutines or of a server, which nothing signals.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(time.Millisecond)
	}
}
