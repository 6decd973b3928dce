package beignettest

import (
	"context"
	"os/exec"
	"testing"
	"time"
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
	for !quiet() {
		if time.Now().After(deadline) {
			t.Fatal("never quiet while a goroutine waits for a child process")
		}
		<-time.After(time.Millisecond) // let the Wait goroutine reach its system call
	}
}
