package faults_test

import (
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/redistest"
)

// Three instances run an every-second schedule whose job takes 300 ms. The
// instance running a tick is SIGKILLed mid-run. Another instance runs the
// next tick within TTL + 1 s of the kill; every other tick runs exactly
// once, and the crashed tick is left crashed: it was claimed, so it is not
// run again (the policy for crashed ticks: at most once).
func TestHolderCrash(t *testing.T) {
	const ttl = time.Second
	prefix := redistest.UniquePrefix(t, redistest.SharedClient(t))
	var ws []*worker
	for _, id := range []string{"a", "b", "c"} {
		ws = append(ws, startWorker(t, "scheduler", "REDIS_ADDR="+redistest.SharedAddr(), "PREFIX="+prefix,
			"INSTANCE="+id, "SPEC=* * * * * *", "TTL="+ttl.String(), "HANDLER=300ms"))
	}
	byInstance := map[string]*worker{"a": ws[0], "b": ws[1], "c": ws[2]}
	events := merged(ws...)

	starts := map[time.Time][]string{}
	ran := map[time.Time][]string{}
	var crashedTick, killedAt, takeoverAt time.Time
	var victim string
	deadline := time.After(30 * time.Second)
	for takeoverAt.IsZero() || len(ran) < 8 {
		select {
		case e := <-events:
			switch e.Kind {
			case "start":
				starts[e.Tick] = append(starts[e.Tick], e.Instance)
				// Kill the holder of the third run we see, mid-run.
				if victim == "" && len(starts) == 3 {
					victim, crashedTick, killedAt = e.Instance, e.Tick, time.Now()
					byInstance[victim].signal(syscall.SIGKILL)
				} else if victim != "" && takeoverAt.IsZero() && e.Tick.After(crashedTick) {
					takeoverAt = time.Now()
				}
			case "report":
				if e.Outcome == "ran" {
					ran[e.Tick] = append(ran[e.Tick], e.Instance)
				}
			}
		case <-deadline:
			t.Fatalf("timed out; starts %v, ran %v", starts, ran)
		}
	}
	for id, w := range byInstance {
		if id != victim {
			w.stop()
		}
	}
	for e := range events {
		if e.Kind == "report" && e.Outcome == "ran" {
			ran[e.Tick] = append(ran[e.Tick], e.Instance)
		}
	}

	if d := takeoverAt.Sub(killedAt); d > ttl+time.Second {
		t.Errorf("takeover %v after the kill, want within TTL + 1 s (%v)", d, ttl+time.Second)
	}
	var ticks []time.Time
	for tick := range starts {
		ticks = append(ticks, tick)
	}
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Before(ticks[j]) })
	for tick := ticks[0]; !tick.After(ticks[len(ticks)-1]); tick = tick.Add(time.Second) {
		switch {
		case tick.Equal(crashedTick):
			if len(ran[tick]) != 0 || len(starts[tick]) != 1 {
				t.Errorf("crashed tick %v: started on %v, ran on %v; want one start and no run", tick, starts[tick], ran[tick])
			}
			t.Logf("tick %v: crashed on %s (killed mid-run); not re-run", tick.Format(time.TimeOnly), victim)
		case len(ran[tick]) > 1 || len(starts[tick]) > 1:
			t.Errorf("tick %v ran more than once: started %v, ran %v", tick, starts[tick], ran[tick])
		case len(starts[tick]) == 1 && len(ran[tick]) == 0 && tick.After(ticks[len(ticks)-1].Add(-2*time.Second)):
			// started as the others were being stopped
		case len(ran[tick]) == 0:
			t.Errorf("tick %v missed", tick)
		}
	}
	t.Logf("victim %s killed at tick %v; next run started %v later", victim, crashedTick.Format(time.TimeOnly), takeoverAt.Sub(killedAt))
}
