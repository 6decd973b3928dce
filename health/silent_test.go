package health_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/health"
)

// silentServer accepts connections and never answers: a Redis that hangs
// (SIGSTOP, a full disk, a partition that drops packets) rather than
// refusing connections.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					_ = c.Close()
				}
				return
			}
			conns = append(conns, c) // held open, never read or answered
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); <-done })
	return ln.Addr().String()
}

// /readyz answers within CheckTimeout (plus a little) even when a server
// has gone silent, with a client on go-redis's defaults, whose socket
// timeouts (3 s reads, and retries) ignore the check's ctx: a probe with
// Kubernetes' default 1 s timeout must get the 503 and its body, not time
// out.
func TestReadyzAnswersInTimeWhenRedisHangs(t *testing.T) {
	client := redis.NewClient(&redis.Options{Addr: silentServer(t),
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}})
	t.Cleanup(func() { _ = client.Close() })
	start := time.Now()
	st := health.Run(context.Background(), health.Redis(client))
	took := time.Since(start)
	if st.Status != "unavailable" || len(st.Failing) != 1 || st.Failing[0] != "redis" {
		t.Errorf("status %+v, want redis failing", st)
	}
	if took > health.CheckTimeout+500*time.Millisecond {
		t.Errorf("Run took %v against a silent Redis, want about CheckTimeout (%v)", took, health.CheckTimeout)
	}
}
