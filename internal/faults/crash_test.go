package faults_test

import (
	"context"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/internal/redistest"
	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/providers/redislocks"
	"github.com/beignet-go/beignet/scheduler"
)

// Two worker processes share a schedule on real Redis. In each of 20
// rounds the instance running the tick is SIGKILLed mid-run; the other
// takes the tick over as attempt 2 within LeaseTTL + 1 s and finishes it.
// Every tick is finished exactly once, counted by the handler's own write
// (a Redis counter per tick): none twice, none missed.
func TestTakeoverAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two processes for about a minute")
	}
	const (
		rounds  = 20
		ttl     = time.Second
		every   = 3 * time.Second
		handler = 800 * time.Millisecond
	)
	client := redistest.SharedClient(t)
	prefix := redistest.UniquePrefix(t, client)
	doneKey := "{" + prefix + "|done}"
	env := []string{"REDIS_ADDR=" + redistest.SharedAddr(), "PREFIX=" + prefix, "SPEC=@every " + every.String(),
		"TTL=" + ttl.String(), "HANDLER=" + handler.String(), "DONE_KEY=" + doneKey}

	events := make(chan event, 1000)
	workers := map[string]*worker{}
	n := 0
	spawn := func() {
		n++
		id := "w" + strconv.Itoa(n)
		w := startWorker(t, "scheduler", append(env, "INSTANCE="+id)...)
		workers[id] = w
		go func() {
			for e := range w.events {
				events <- e
			}
		}()
	}
	spawn()
	spawn()

	killedAt := map[time.Time]time.Time{}
	killedIDs := map[string]time.Time{} // instance id → when it was killed
	killedToken := map[time.Time]uint64{}
	var latencies []time.Duration
	var ticks []time.Time
	deadline := time.After(time.Duration(rounds+6) * every)
	for len(latencies) < rounds {
		select {
		case e := <-events:
			if e.Kind != "start" {
				continue
			}
			switch {
			case e.Attempt == 1 && len(killedAt) < rounds:
				// Mid-run: the handler has just started its 800 ms of work.
				workers[e.Instance].signal(syscall.SIGKILL)
				killedAt[e.Tick] = time.Now()
				killedIDs[e.Instance] = time.Now()
				killedToken[e.Tick] = e.Token
				ticks = append(ticks, e.Tick)
				delete(workers, e.Instance)
				spawn()
			case e.Attempt > 1:
				if k, ok := killedAt[e.Tick]; ok {
					latencies = append(latencies, time.Since(k))
					if e.Token <= killedToken[e.Tick] {
						t.Errorf("tick %v taken over with token %d, not above the killed run's %d", e.Tick, e.Token, killedToken[e.Tick])
					}
				}
			}
		case <-deadline:
			t.Fatalf("timed out after %d kills and %d takeovers", len(killedAt), len(latencies))
		}
	}
	checkInstances(t, client, prefix, workers, killedIDs)
	for _, w := range workers {
		w.stop()
	}

	counts, err := client.HGetAll(context.Background(), doneKey).Result()
	if err != nil {
		t.Fatal(err)
	}
	dups, misses := 0, 0
	for tick := ticks[0]; !tick.After(ticks[len(ticks)-1]); tick = tick.Add(every) {
		switch c := counts[tick.UTC().Format(time.RFC3339Nano)]; c {
		case "1":
		case "", "0":
			misses++
			t.Errorf("tick %v never finished", tick.Format(time.TimeOnly))
		default:
			dups++
			t.Errorf("tick %v finished %s times", tick.Format(time.TimeOnly), c)
		}
	}
	slices.Sort(latencies)
	for _, l := range latencies {
		if l > ttl+time.Second {
			t.Errorf("takeover %v after the kill, want within LeaseTTL + 1 s = %v", l, ttl+time.Second)
		}
	}
	t.Logf("%d rounds (LeaseTTL %v, @every %v, handler %v): %d duplicates, %d missed; takeover latency min %v, median %v, max %v",
		rounds, ttl, every, handler, dups, misses, latencies[0].Round(time.Millisecond),
		latencies[len(latencies)/2].Round(time.Millisecond), latencies[len(latencies)-1].Round(time.Millisecond))
}

// checkInstances holds the fleet's list of live instances to its promise:
// the workers still running are listed, with the schedule, and every worker
// SIGKILLed more than HeartbeatTTL ago (plus a second for the clocks of two
// processes) is gone, though none of them said goodbye.
func checkInstances(t *testing.T, client redis.UniversalClient, prefix string, live map[string]*worker, killed map[string]time.Time) {
	t.Helper()
	insts, err := redislocks.NewLedger(client, prefix).Instances(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]ledger.Instance{}
	for _, i := range insts {
		listed[i.ID] = i
	}
	for id := range live {
		if i, ok := listed[id]; !ok || !slices.Contains(i.Schedules, "job") {
			t.Errorf("live worker %s not listed with its schedule: %+v", id, insts)
		}
	}
	gone := 0
	for id, at := range killed {
		if time.Since(at) <= scheduler.HeartbeatTTL+time.Second {
			continue
		}
		gone++
		if _, ok := listed[id]; ok {
			t.Errorf("worker %s killed %v ago is still listed as live", id, time.Since(at).Round(time.Second))
		}
	}
	t.Logf("instances: %d live listed, %d of %d killed workers past HeartbeatTTL %v, none listed", len(live), gone, len(killed), scheduler.HeartbeatTTL)
	if gone == 0 {
		t.Errorf("no worker was killed more than %v before the end; the test proves nothing about dead instances", scheduler.HeartbeatTTL)
	}
}
