// Package ledgertest is the conformance suite for ledger.Ledger adapters.
// Every backend runs the same cases, so the scheduler behaves the same on
// memory and on Redis.
//
//	func TestConformance(t *testing.T) {
//		ledgertest.Run(t, func(t *testing.T) ledgertest.Harness { ... })
//	}
package ledgertest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beignet-go/beignet/ledger"
)

// Harness is what the suite needs of an adapter.
type Harness struct {
	// Ledger is the adapter under test, empty, on a fake clock.
	Ledger ledger.Ledger
	// Advance moves the adapter's clock forward by d.
	Advance func(d time.Duration)
	// Now reads the adapter's clock.
	Now func() time.Time
	// History is the number of records the adapter was configured to
	// keep per schedule.
	History int
	// MaxAge is the record age the adapter was configured to keep.
	MaxAge time.Duration
}

// Run runs every case against a fresh harness from newHarness.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	cases := []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"Register", testRegister},
		{"RegisterAll", testRegisterAll},
		{"UnknownSchedule", testUnknown},
		{"BadInput", testBadInput},
		{"ClaimExclusive", testClaimExclusive},
		{"ClaimRace", testClaimRace},
		{"FinishMarksDone", testFinish},
		{"LaterTickSupersedes", testLaterTick},
		{"EarlierTickHolds", testEarlierTickHolds},
		{"Takeover", testTakeover},
		{"AbandonedWithoutTakeover", testAbandoned},
		{"RetryBySameOwner", testRetry},
		{"LapseAfterFinalRecord", testLapseAfterFinal},
		{"Release", testRelease},
		{"Pause", testPause},
		{"Records", testRecords},
		{"HistoryBound", testHistoryBound},
		{"AgeBound", testAgeBound},
		{"Requests", testRequests},
		{"ManualClaimOfRequest", testManualRequest},
		{"FreedSlotIsPushed", testFreedPush},
		{"Instances", testInstances},
		{"HeartbeatSchedules", testHeartbeatSchedules},
		{"Leave", testLeave},
		{"Rejoin", testRejoin},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newHarness(t))
		})
	}
}

var bg = context.Background()

const ttl = 10 * time.Second

func register(t *testing.T, h Harness, name string) {
	t.Helper()
	if err := h.Ledger.Register(bg, ledger.Definition{Name: name, Spec: "@every 1m", Location: "UTC"}); err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
}

func tick(h Harness, n int) time.Time {
	return h.Now().Truncate(time.Minute).Add(time.Duration(n) * time.Minute)
}

func req(name string, tick time.Time, owner string) ledger.ClaimRequest {
	return ledger.ClaimRequest{Schedule: name, Tick: tick, Owner: owner, Instance: "inst-" + owner, TTL: ttl}
}

func claim(t *testing.T, h Harness, r ledger.ClaimRequest, want ledger.ClaimState) ledger.Claim {
	t.Helper()
	c, err := h.Ledger.Claim(bg, r)
	if err != nil {
		t.Fatalf("Claim(%+v): %v", r, err)
	}
	if c.State != want {
		t.Fatalf("Claim(%s, tick %v, owner %s) = %v (%+v), want %v", r.Schedule, r.Tick, r.Owner, c.State, c, want)
	}
	return c
}

func runs(t *testing.T, h Harness, name string) []ledger.Record {
	t.Helper()
	rs, err := h.Ledger.Runs(bg, name, 0)
	if err != nil {
		t.Fatalf("Runs(%q): %v", name, err)
	}
	return rs
}

func testRegister(t *testing.T, h Harness) {
	register(t, h, "b")
	register(t, h, "a")
	if err := h.Ledger.SetPaused(bg, "a", true); err != nil {
		t.Fatal(err)
	}
	// Re-registering replaces the definition and keeps the state.
	if err := h.Ledger.Register(bg, ledger.Definition{Name: "a", Spec: "0 7 * * *", Location: "Europe/Berlin"}); err != nil {
		t.Fatal(err)
	}
	all, err := h.Ledger.Schedules(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "a" || all[1].Name != "b" {
		t.Fatalf("Schedules = %+v, want a then b", all)
	}
	a := all[0]
	if a.Spec != "0 7 * * *" || a.Location != "Europe/Berlin" || !a.Paused || a.Last != nil || a.Running != nil || !a.Done.IsZero() {
		t.Errorf("schedule a = %+v", a)
	}
	one, err := h.Ledger.Schedule(bg, "b")
	if err != nil || one.Name != "b" || one.Paused {
		t.Errorf("Schedule(b) = %+v, %v", one, err)
	}
}

func testRegisterAll(t *testing.T, h Harness) {
	register(t, h, "s0001")
	if err := h.Ledger.SetPaused(bg, "s0001", true); err != nil {
		t.Fatal(err)
	}
	// More than one batch's worth, with one schedule registered before.
	const n = 1200
	defs := make([]ledger.Definition, n)
	for i := range defs {
		defs[i] = ledger.Definition{Name: fmt.Sprintf("s%04d", i), Spec: fmt.Sprintf("%d * * * *", i%60), Location: "Europe/Berlin"}
	}
	if err := ledger.RegisterAll(bg, h.Ledger, defs); err != nil {
		t.Fatalf("RegisterAll(%d definitions): %v", n, err)
	}
	all, err := h.Ledger.Schedules(bg)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n {
		t.Fatalf("Schedules lists %d, want %d", len(all), n)
	}
	for i, s := range all {
		if s.Definition != defs[i] {
			t.Fatalf("Schedules[%d] = %+v, want %+v", i, s.Definition, defs[i])
		}
		if s.Paused != (s.Name == "s0001") {
			t.Fatalf("Schedules[%d] = %+v: re-registering must keep the paused state", i, s)
		}
	}
	// A bad name anywhere writes nothing.
	bad := []ledger.Definition{{Name: "fresh", Spec: "@every 1m", Location: "UTC"}, {Name: "bad\nname"}}
	if err := ledger.RegisterAll(bg, h.Ledger, bad); !errors.Is(err, ledger.ErrInvalid) || !strings.Contains(err.Error(), `"bad\nname"`) {
		t.Fatalf("RegisterAll with a bad name: %v, want ErrInvalid naming it", err)
	}
	if _, err := h.Ledger.Schedule(bg, "fresh"); !errors.Is(err, ledger.ErrUnknownSchedule) {
		t.Fatalf("Schedule(fresh) after a refused RegisterAll: %v, want ErrUnknownSchedule", err)
	}
	if err := ledger.RegisterAll(bg, h.Ledger, nil); err != nil {
		t.Fatalf("RegisterAll(nil): %v", err)
	}
}

func testUnknown(t *testing.T, h Harness) {
	const name = "never-registered"
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, ledger.ErrUnknownSchedule) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("%s: %v, want ErrUnknownSchedule naming %q", what, err, name)
		}
	}
	_, err := h.Ledger.Schedule(bg, name)
	check("Schedule", err)
	check("SetPaused", h.Ledger.SetPaused(bg, name, true))
	_, err = h.Ledger.Claim(bg, req(name, tick(h, 1), "o"))
	check("Claim", err)
	_, err = h.Ledger.Renew(bg, req(name, tick(h, 1), "o"))
	check("Renew", err)
	check("Finish", h.Ledger.Finish(bg, req(name, tick(h, 1), "o")))
	check("Release", h.Ledger.Release(bg, req(name, tick(h, 1), "o")))
	check("Put", h.Ledger.Put(bg, ledger.Record{Schedule: name, Tick: tick(h, 1), Outcome: ledger.Ran}))
	_, err = h.Ledger.Runs(bg, name, 1)
	check("Runs", err)
	_, err = h.Ledger.RequestRun(bg, name)
	check("RequestRun", err)
	_, err = h.Ledger.TakeRequest(bg, name, "x")
	check("TakeRequest", err)
	_, err = h.Ledger.PendingRequests(bg, name)
	check("PendingRequests", err)
}

func testBadInput(t *testing.T, h Harness) {
	register(t, h, "s")
	bad := []struct {
		what string
		err  error
	}{
		{"Register empty", h.Ledger.Register(bg, ledger.Definition{})},
		{"Register control char", h.Ledger.Register(bg, ledger.Definition{Name: "a\nb"})},
		{"Register too long", h.Ledger.Register(bg, ledger.Definition{Name: strings.Repeat("n", ledger.MaxNameBytes+1)})},
		{"Claim no owner", errOf(h.Ledger.Claim(bg, req("s", tick(h, 1), "")))},
		{"Claim zero ttl", errOf(h.Ledger.Claim(bg, ledger.ClaimRequest{Schedule: "s", Tick: tick(h, 1), Owner: "o"}))},
		{"Claim negative ttl", errOf(h.Ledger.Claim(bg, ledger.ClaimRequest{Schedule: "s", Tick: tick(h, 1), Owner: "o", TTL: -1}))},
		{"Claim zero tick", errOf(h.Ledger.Claim(bg, ledger.ClaimRequest{Schedule: "s", Owner: "o", TTL: ttl}))},
		{"Put no outcome", h.Ledger.Put(bg, ledger.Record{Schedule: "s", Tick: tick(h, 1)})},
		{"Runs negative limit", errOf(h.Ledger.Runs(bg, "s", -1))},
		{"Beat empty", h.Ledger.Beat(bg, "", ttl)},
		{"Beat zero ttl", h.Ledger.Beat(bg, "i", 0)},
		{"Heartbeat empty", h.Ledger.Heartbeat(bg, "", ttl, []string{"s"})},
		{"Heartbeat zero ttl", h.Ledger.Heartbeat(bg, "i", 0, []string{"s"})},
		{"Heartbeat bad schedule name", h.Ledger.Heartbeat(bg, "i", ttl, []string{"s", "a\nb"})},
		{"Leave empty", h.Ledger.Leave(bg, "")},
	}
	for _, b := range bad {
		if !errors.Is(b.err, ledger.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", b.what, b.err)
		}
	}
	cancelled, cancel := context.WithCancel(bg)
	cancel()
	if _, err := h.Ledger.Claim(cancelled, req("s", tick(h, 1), "o")); err == nil {
		t.Errorf("Claim on a cancelled ctx succeeded")
	}
	if _, err := h.Ledger.Runs(cancelled, "s", 0); err == nil {
		t.Errorf("Runs on a cancelled ctx succeeded")
	}
}

func errOf[T any](_ T, err error) error { return err }

func testClaimExclusive(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	a := claim(t, h, req("s", t1, "a"), ledger.Won)
	if a.Attempt != 1 || a.Token == 0 || !a.PrevDone.IsZero() {
		t.Errorf("first claim = %+v, want attempt 1, a token, no previous done tick", a)
	}
	held := claim(t, h, req("s", t1, "b"), ledger.Held)
	if !held.HeldTick.Equal(t1) || held.HeldBy != "inst-a" || held.HeldFor <= 0 || held.HeldFor > ttl {
		t.Errorf("held claim = %+v, want tick %v held by inst-a for (0, %v]", held, t1, ttl)
	}
	if ok, err := h.Ledger.Renew(bg, req("s", t1, "b")); ok || err != nil {
		t.Errorf("Renew by a non-owner = %v, %v", ok, err)
	}
	h.Advance(ttl / 2)
	if ok, err := h.Ledger.Renew(bg, req("s", t1, "a")); !ok || err != nil {
		t.Fatalf("Renew by the owner = %v, %v", ok, err)
	}
	h.Advance(ttl * 3 / 4) // past the first TTL, within the renewed one
	claim(t, h, req("s", t1, "b"), ledger.Held)
	s, err := h.Ledger.Schedule(bg, "s")
	if err != nil || s.Running == nil || s.Running.Outcome != ledger.Running || s.Running.Instance != "inst-a" || s.Running.FencingToken != a.Token {
		t.Errorf("running record = %+v, %v", s.Running, err)
	}
}

func testClaimRace(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := h.Ledger.Claim(bg, req("s", t1, fmt.Sprint("o", i)))
			if err != nil {
				t.Error(err)
				return
			}
			if c.State == ledger.Won {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d of 8 concurrent claims won, want 1", won)
	}
}

func testFinish(t *testing.T, h Harness) {
	register(t, h, "s")
	t1, t2 := tick(h, 1), tick(h, 2)
	claim(t, h, req("s", t1, "a"), ledger.Won)
	if err := h.Ledger.Finish(bg, req("s", t1, "a")); err != nil {
		t.Fatal(err)
	}
	claim(t, h, req("s", t1, "b"), ledger.Done)
	claim(t, h, req("s", tick(h, 0), "b"), ledger.Done)
	if ok, _ := h.Ledger.Renew(bg, req("s", t1, "a")); ok {
		t.Errorf("a finished claim renewed")
	}
	c := claim(t, h, req("s", t2, "b"), ledger.Won)
	if !c.PrevDone.Equal(t1) {
		t.Errorf("PrevDone = %v, want %v", c.PrevDone, t1)
	}
	// Finish with no owner only marks the tick done; it does not free
	// b's slot.
	if err := h.Ledger.Finish(bg, ledger.ClaimRequest{Schedule: "s", Tick: tick(h, 3)}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := h.Ledger.Renew(bg, req("s", t2, "b")); !ok {
		t.Errorf("an owner-less Finish freed another holder's slot")
	}
	s, _ := h.Ledger.Schedule(bg, "s")
	if !s.Done.Equal(tick(h, 3)) {
		t.Errorf("Done = %v, want %v", s.Done, tick(h, 3))
	}
}

func testLaterTick(t *testing.T, h Harness) {
	register(t, h, "s")
	claim(t, h, req("s", tick(h, 2), "a"), ledger.Won)
	// An instance whose clock is behind reaches the previous tick only
	// now: a later tick is claimed, so it is past.
	claim(t, h, req("s", tick(h, 1), "b"), ledger.Done)
	h.Advance(2 * ttl)
	claim(t, h, req("s", tick(h, 1), "b"), ledger.Done)
}

func testEarlierTickHolds(t *testing.T, h Harness) {
	register(t, h, "s")
	t1, t2 := tick(h, 1), tick(h, 2)
	claim(t, h, req("s", t1, "a"), ledger.Won)
	c := claim(t, h, req("s", t2, "b"), ledger.Held)
	if !c.HeldTick.Equal(t1) {
		t.Errorf("HeldTick = %v, want the running tick %v", c.HeldTick, t1)
	}
	// A run-now claim waits for the slot like any other.
	claim(t, h, ledger.ClaimRequest{Schedule: "s", Tick: h.Now(), Manual: true, Owner: "m", TTL: ttl}, ledger.Held)
}

func testTakeover(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	a := claim(t, h, req("s", t1, "a"), ledger.Won)
	h.Advance(ttl) // a stopped renewing
	b := claim(t, h, req("s", t1, "b"), ledger.Won)
	if b.Attempt != 2 || b.Token <= a.Token {
		t.Fatalf("takeover = %+v, want attempt 2 with a token above %d", b, a.Token)
	}
	if ok, _ := h.Ledger.Renew(bg, req("s", t1, "a")); ok {
		t.Errorf("the lapsed holder renewed")
	}
	// The lapsed holder releasing late must not free the new holder.
	if err := h.Ledger.Release(bg, req("s", t1, "a")); err != nil {
		t.Fatal(err)
	}
	claim(t, h, req("s", t1, "c"), ledger.Held)
	rs := runs(t, h, "s")
	if len(rs) != 2 || rs[0].Outcome != ledger.Running || rs[0].Attempt != 2 || rs[1].Outcome != ledger.Abandoned ||
		rs[1].Attempt != 1 || rs[1].Instance != "inst-a" || rs[1].Err == "" || rs[1].Finished.IsZero() {
		t.Fatalf("runs after a takeover = %+v", rs)
	}
}

func testAbandoned(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	a := claim(t, h, req("s", t1, "a"), ledger.Won)
	if err := h.Ledger.Put(bg, ledger.Record{Schedule: "s", Tick: t1, Attempt: 1, Instance: "inst-a", FencingToken: a.Token,
		Outcome: ledger.Running, Started: h.Now()}); err != nil {
		t.Fatal(err)
	}
	h.Advance(ttl)
	rs := runs(t, h, "s")
	if len(rs) != 1 || rs[0].Outcome != ledger.Abandoned || rs[0].FencingToken != a.Token {
		t.Fatalf("runs after the claim lapsed = %+v, want one abandoned record", rs)
	}
	s, _ := h.Ledger.Schedule(bg, "s")
	if s.Running != nil || s.Last == nil || s.Last.Outcome != ledger.Abandoned {
		t.Errorf("schedule = %+v", s)
	}
	// Recorded once, however often it is read.
	if rs := runs(t, h, "s"); len(rs) != 1 {
		t.Errorf("abandoned recorded %d times", len(rs))
	}
}

func testRetry(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	a1 := claim(t, h, req("s", t1, "a"), ledger.Won)
	if err := h.Ledger.Put(bg, ledger.Record{Schedule: "s", Tick: t1, Attempt: 1, Outcome: ledger.Failed, Err: "boom", Finished: h.Now()}); err != nil {
		t.Fatal(err)
	}
	a2 := claim(t, h, req("s", t1, "a"), ledger.Won)
	if a2.Attempt != 2 || a2.Token <= a1.Token {
		t.Fatalf("retry = %+v, want attempt 2 above token %d", a2, a1.Token)
	}
	rs := runs(t, h, "s")
	if len(rs) != 2 || rs[0].Outcome != ledger.Running || rs[0].Attempt != 2 || rs[1].Outcome != ledger.Failed {
		t.Fatalf("runs = %+v", rs)
	}
}

// A claim that lapses after its attempt's final record (the attempt
// failed, and its instance died waiting to retry) leaves that one record:
// the attempt is not recorded again as abandoned. The next claim is the
// next attempt.
func testLapseAfterFinal(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	a := claim(t, h, req("s", t1, "a"), ledger.Won)
	rec := ledger.Record{Schedule: "s", Tick: t1, Attempt: 1, Instance: "inst-a", FencingToken: a.Token, Outcome: ledger.Running, Started: h.Now()}
	if err := h.Ledger.Put(bg, rec); err != nil {
		t.Fatal(err)
	}
	rec.Outcome, rec.Err, rec.Finished = ledger.Failed, "boom", h.Now()
	if err := h.Ledger.Put(bg, rec); err != nil {
		t.Fatal(err)
	}
	h.Advance(ttl)
	if rs := runs(t, h, "s"); len(rs) != 1 || rs[0].Outcome != ledger.Failed {
		t.Fatalf("runs after a failed attempt's claim lapsed = %+v, want the one failed record", rs)
	}
	if b := claim(t, h, req("s", t1, "b"), ledger.Won); b.Attempt != 2 {
		t.Errorf("takeover = %+v, want attempt 2", b)
	}
	// A lapse of an attempt that has no final record is still recorded.
	h.Advance(ttl)
	if rs := runs(t, h, "s"); len(rs) != 2 || rs[0].Outcome != ledger.Abandoned || rs[0].Attempt != 2 {
		t.Fatalf("runs after attempt 2 lapsed = %+v, want it abandoned", rs)
	}
}

func testRelease(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	claim(t, h, req("s", t1, "a"), ledger.Won)
	if err := h.Ledger.Release(bg, req("s", t1, "a")); err != nil {
		t.Fatal(err)
	}
	// Released, not done: another instance takes the tick over at once.
	if c := claim(t, h, req("s", t1, "b"), ledger.Won); c.Attempt != 2 {
		t.Errorf("claim after release = %+v, want attempt 2", c)
	}
	for _, r := range runs(t, h, "s") {
		if r.Outcome == ledger.Abandoned {
			t.Errorf("a released claim was recorded as abandoned: %+v", r)
		}
	}
}

func testPause(t *testing.T, h Harness) {
	register(t, h, "s")
	if err := h.Ledger.SetPaused(bg, "s", true); err != nil {
		t.Fatal(err)
	}
	claim(t, h, req("s", tick(h, 1), "a"), ledger.Paused)
	claim(t, h, req("s", tick(h, 1), "b"), ledger.Done)
	m := claim(t, h, ledger.ClaimRequest{Schedule: "s", Tick: h.Now(), Manual: true, Owner: "m", TTL: ttl}, ledger.Won)
	if err := h.Ledger.Finish(bg, ledger.ClaimRequest{Schedule: "s", Tick: h.Now(), Manual: true, Owner: "m"}); err != nil {
		t.Fatal(err)
	}
	if s, _ := h.Ledger.Schedule(bg, "s"); !s.Done.Equal(tick(h, 1)) {
		t.Errorf("a manual run moved Done to %v (token %d)", s.Done, m.Token)
	}
	if err := h.Ledger.SetPaused(bg, "s", false); err != nil {
		t.Fatal(err)
	}
	if c := claim(t, h, req("s", tick(h, 2), "a"), ledger.Won); !c.PrevDone.Equal(tick(h, 1)) {
		t.Errorf("PrevDone after a paused tick = %v", c.PrevDone)
	}
}

func testRecords(t *testing.T, h Harness) {
	register(t, h, "s")
	t1 := tick(h, 1)
	c := claim(t, h, req("s", t1, "a"), ledger.Won)
	started := h.Now()
	run := ledger.Record{Schedule: "s", Tick: t1, Attempt: c.Attempt, Instance: "inst-a", FencingToken: c.Token, Outcome: ledger.Running, Started: started}
	if err := h.Ledger.Put(bg, run); err != nil {
		t.Fatal(err)
	}
	h.Advance(time.Second)
	run.Outcome, run.Finished = ledger.Ran, h.Now()
	if err := h.Ledger.Put(bg, run); err != nil {
		t.Fatal(err)
	}
	manual := ledger.Record{Schedule: "s", Tick: h.Now(), Manual: true, Attempt: 1, Outcome: ledger.Failed, Err: "boom", Started: h.Now(), Finished: h.Now()}
	if err := h.Ledger.Put(bg, manual); err != nil {
		t.Fatal(err)
	}
	rs := runs(t, h, "s")
	if len(rs) != 2 {
		t.Fatalf("runs = %+v, want the finished run and the manual one", rs)
	}
	got := rs[1]
	if !got.Tick.Equal(t1) || got.Outcome != ledger.Ran || got.FencingToken != c.Token || !got.Started.Equal(started) ||
		!got.Finished.Equal(run.Finished) || got.Instance != "inst-a" || got.Attempt != 1 || got.Manual {
		t.Errorf("round trip: got %+v, want %+v", got, run)
	}
	if !rs[0].Manual || rs[0].Err != "boom" {
		t.Errorf("newest = %+v, want the manual failure", rs[0])
	}
	if one, _ := h.Ledger.Runs(bg, "s", 1); len(one) != 1 || !one[0].Manual {
		t.Errorf("Runs(limit 1) = %+v", one)
	}
	s, _ := h.Ledger.Schedule(bg, "s")
	if s.Running != nil || s.Last == nil || !s.Last.Manual {
		t.Errorf("schedule after the runs = %+v", s)
	}
}

func testHistoryBound(t *testing.T, h Harness) {
	register(t, h, "s")
	n := h.History + 20
	for i := range n {
		r := ledger.Record{Schedule: "s", Tick: tick(h, i+1), Attempt: 1, Outcome: ledger.Ran, Finished: h.Now()}
		if err := h.Ledger.Put(bg, r); err != nil {
			t.Fatal(err)
		}
	}
	rs := runs(t, h, "s")
	if len(rs) != h.History {
		t.Fatalf("%d records kept, want %d", len(rs), h.History)
	}
	if !rs[0].Tick.Equal(tick(h, n)) || !rs[len(rs)-1].Tick.Equal(tick(h, n-h.History+1)) {
		t.Errorf("kept %v..%v, want the newest %d", rs[0].Tick, rs[len(rs)-1].Tick, h.History)
	}
}

func testAgeBound(t *testing.T, h Harness) {
	register(t, h, "s")
	old := ledger.Record{Schedule: "s", Tick: tick(h, 1), Attempt: 1, Outcome: ledger.Ran, Finished: h.Now()}
	if err := h.Ledger.Put(bg, old); err != nil {
		t.Fatal(err)
	}
	h.Advance(h.MaxAge + time.Minute)
	fresh := ledger.Record{Schedule: "s", Tick: tick(h, 1), Attempt: 1, Outcome: ledger.Ran, Finished: h.Now()}
	if err := h.Ledger.Put(bg, fresh); err != nil {
		t.Fatal(err)
	}
	rs := runs(t, h, "s")
	if len(rs) != 1 || !rs[0].Finished.Equal(fresh.Finished) {
		t.Fatalf("runs = %+v, want only the fresh record", rs)
	}
	h.Advance(h.MaxAge + time.Minute)
	if rs := runs(t, h, "s"); len(rs) != 0 {
		t.Fatalf("records older than %v still returned: %+v", h.MaxAge, rs)
	}
}

func testRequests(t *testing.T, h Harness) {
	register(t, h, "s")
	sctx, cancel := context.WithCancel(bg)
	defer cancel()
	sub, err := h.Ledger.Subscribe(sctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := h.Ledger.RequestRun(bg, "s")
	if err != nil || r.ID == "" || r.Schedule != "s" || r.At.IsZero() {
		t.Fatalf("RequestRun = %+v, %v", r, err)
	}
	select {
	case got := <-sub:
		if got.ID != r.ID || got.Schedule != "s" {
			t.Errorf("pushed %+v, want %+v", got, r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("request not pushed to the subscriber")
	}
	pending, err := h.Ledger.PendingRequests(bg, "s")
	if err != nil || len(pending) != 1 || pending[0].ID != r.ID {
		t.Fatalf("pending = %+v, %v", pending, err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	took := 0
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := h.Ledger.TakeRequest(bg, "s", r.ID)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				took++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if took != 1 {
		t.Fatalf("%d takers won the request, want 1", took)
	}
	if p, _ := h.Ledger.PendingRequests(bg, "s"); len(p) != 0 {
		t.Errorf("pending after take = %+v", p)
	}
	for i := range ledger.MaxPendingRequests {
		if _, err := h.Ledger.RequestRun(bg, "s"); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if _, err := h.Ledger.RequestRun(bg, "s"); !errors.Is(err, ledger.ErrTooManyRequests) {
		t.Errorf("request over the limit: %v, want ErrTooManyRequests", err)
	}
	h.Advance(ledger.RequestTTL + time.Second)
	if p, _ := h.Ledger.PendingRequests(bg, "s"); len(p) != 0 {
		t.Errorf("%d requests outlived RequestTTL", len(p))
	}
	cancel()
	for range sub { // closed when its ctx ends
	}
}

// A manual claim naming its request keeps the request pending while it
// runs, is held against other owners, is taken over as attempt 2 after it
// lapses, and is done once Finish removes the request.
func testManualRequest(t *testing.T, h Harness) {
	register(t, h, "s")
	r, err := h.Ledger.RequestRun(bg, "s")
	if err != nil {
		t.Fatal(err)
	}
	mreq := func(owner string) ledger.ClaimRequest {
		return ledger.ClaimRequest{Schedule: "s", Tick: r.At, Manual: true, Request: r.ID, Owner: owner, Instance: owner, TTL: ttl}
	}
	a := claim(t, h, mreq("a"), ledger.Won)
	held := claim(t, h, mreq("b"), ledger.Held)
	if !held.HeldTick.Equal(r.At) || held.HeldBy != "a" {
		t.Errorf("held = %+v, want a's claim of the request", held)
	}
	if p, _ := h.Ledger.PendingRequests(bg, "s"); len(p) != 1 || p[0].ID != r.ID || !p[0].At.Equal(r.At) {
		t.Errorf("pending while running = %+v, want the request, at %v", p, r.At)
	}
	h.Advance(ttl + time.Second)
	b := claim(t, h, mreq("b"), ledger.Won)
	if b.Attempt != 2 || b.Token <= a.Token {
		t.Errorf("takeover = %+v after %+v, want attempt 2 and a higher token", b, a)
	}
	if rs := runs(t, h, "s"); len(rs) < 1 || rs[len(rs)-1].Outcome != ledger.Abandoned || !rs[len(rs)-1].Manual {
		t.Errorf("records = %+v, want a's attempt abandoned", rs)
	}
	if err := h.Ledger.Finish(bg, mreq("b")); err != nil {
		t.Fatal(err)
	}
	claim(t, h, mreq("c"), ledger.Done)
	if p, _ := h.Ledger.PendingRequests(bg, "s"); len(p) != 0 {
		t.Errorf("pending after Finish = %+v", p)
	}
	other := ledger.ClaimRequest{Schedule: "s", Tick: r.At, Manual: true, Request: "no-such-request", Owner: "d", TTL: ttl}
	claim(t, h, other, ledger.Done)
}

// Freeing a slot that another claim found held pushes an empty-ID request
// naming the schedule, so that waiters elsewhere retry at once.
func testFreedPush(t *testing.T, h Harness) {
	register(t, h, "s")
	sctx, cancel := context.WithCancel(bg)
	defer cancel()
	sub, err := h.Ledger.Subscribe(sctx)
	if err != nil {
		t.Fatal(err)
	}
	a := ledger.ClaimRequest{Schedule: "s", Tick: tick(h, 1), Owner: "a", Instance: "a", TTL: ttl}
	claim(t, h, a, ledger.Won)
	claim(t, h, ledger.ClaimRequest{Schedule: "s", Tick: tick(h, 2), Owner: "b", Instance: "b", TTL: ttl}, ledger.Held)
	if err := h.Ledger.Finish(bg, a); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-sub:
		if got.ID != "" || got.Schedule != "s" {
			t.Errorf("pushed %+v, want an empty-ID request of s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("freed slot not pushed")
	}
	cancel()
	for range sub {
	}
}

func testInstances(t *testing.T, h Harness) {
	if err := h.Ledger.Beat(bg, "b", ttl); err != nil {
		t.Fatal(err)
	}
	if err := h.Ledger.Beat(bg, "a", 3*ttl); err != nil {
		t.Fatal(err)
	}
	is, err := h.Ledger.Instances(bg)
	if err != nil || len(is) != 2 || is[0].ID != "a" || is[1].ID != "b" || !is[1].Expires.After(h.Now()) {
		t.Fatalf("Instances = %+v, %v", is, err)
	}
	h.Advance(2 * ttl)
	if is, _ := h.Ledger.Instances(bg); len(is) != 1 || is[0].ID != "a" {
		t.Fatalf("Instances after b's heartbeat lapsed = %+v", is)
	}
}

// A ledger that implements Rejoiner says whether a heartbeat found the
// instance listed: not at its first, yes while it keeps beating, not after
// its heartbeat lapsed or it left.
func testRejoin(t *testing.T, h Harness) {
	r, ok := h.Ledger.(ledger.Rejoiner)
	if !ok {
		t.Skipf("%T does not implement ledger.Rejoiner", h.Ledger)
	}
	step := func(what string, want bool) {
		t.Helper()
		got, err := r.HeartbeatListed(bg, "a", ttl, []string{"x"})
		if err != nil || got != want {
			t.Fatalf("HeartbeatListed %s = %v, %v; want %v", what, got, err, want)
		}
	}
	step("first", false)
	h.Advance(ttl / 2)
	step("within the TTL", true)
	h.Advance(ttl)
	step("after a lapse", false)
	if err := h.Ledger.Leave(bg, "a"); err != nil {
		t.Fatal(err)
	}
	step("after Leave", false)
	if _, err := r.HeartbeatListed(bg, "", ttl, nil); !errors.Is(err, ledger.ErrInvalid) {
		t.Fatalf("HeartbeatListed of an empty id: %v, want ErrInvalid", err)
	}
}

// instance returns id's entry in Instances, failing the test without one.
func instance(t *testing.T, h Harness, id string) ledger.Instance {
	t.Helper()
	is, err := h.Ledger.Instances(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range is {
		if in.ID == id {
			return in
		}
	}
	t.Fatalf("instance %q not live: Instances = %+v", id, is)
	return ledger.Instance{}
}

func listed(t *testing.T, h Harness, id string) bool {
	t.Helper()
	is, err := h.Ledger.Instances(bg)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range is {
		if in.ID == id {
			return true
		}
	}
	return false
}

// A heartbeat carries the instance's schedules: sorted, deduplicated,
// replaced by the next Heartbeat, kept by Beat, and lapsed with the
// heartbeat, so a heartbeat after a lapse does not bring them back.
func testHeartbeatSchedules(t *testing.T, h Harness) {
	if err := h.Ledger.Heartbeat(bg, "a", ttl, []string{"y", "x", "y"}); err != nil {
		t.Fatal(err)
	}
	if got := instance(t, h, "a").Schedules; fmt.Sprint(got) != "[x y]" {
		t.Fatalf("Schedules = %q, want [x y]", got)
	}
	h.Advance(ttl / 2)
	if err := h.Ledger.Beat(bg, "a", ttl); err != nil {
		t.Fatal(err)
	}
	h.Advance(ttl / 2)
	if got := instance(t, h, "a").Schedules; fmt.Sprint(got) != "[x y]" {
		t.Fatalf("Schedules after Beat = %q, want them kept", got)
	}
	if err := h.Ledger.Heartbeat(bg, "a", ttl, []string{"z"}); err != nil {
		t.Fatal(err)
	}
	if got := instance(t, h, "a").Schedules; fmt.Sprint(got) != "[z]" {
		t.Fatalf("Schedules after a second Heartbeat = %q, want [z]", got)
	}
	if err := h.Ledger.Heartbeat(bg, "a", ttl, nil); err != nil {
		t.Fatal(err)
	}
	if got := instance(t, h, "a").Schedules; len(got) != 0 {
		t.Fatalf("Schedules after a Heartbeat of none = %q", got)
	}
	if err := h.Ledger.Heartbeat(bg, "b", ttl, []string{"x"}); err != nil {
		t.Fatal(err)
	}
	h.Advance(ttl)
	if listed(t, h, "b") {
		t.Fatalf("b listed after its heartbeat lapsed")
	}
	if err := h.Ledger.Beat(bg, "b", ttl); err != nil {
		t.Fatal(err)
	}
	if got := instance(t, h, "b").Schedules; len(got) != 0 {
		t.Fatalf("b's schedules came back with a Beat after its heartbeat lapsed: %q", got)
	}
}

// Leave takes an instance off the list at once, its schedules with it.
func testLeave(t *testing.T, h Harness) {
	for _, id := range []string{"a", "b"} {
		if err := h.Ledger.Heartbeat(bg, id, ttl, []string{"x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Ledger.Leave(bg, "a"); err != nil {
		t.Fatal(err)
	}
	if listed(t, h, "a") || !listed(t, h, "b") {
		t.Fatalf("after a left: Instances lists a %v, b %v; want only b", listed(t, h, "a"), listed(t, h, "b"))
	}
	if err := h.Ledger.Leave(bg, "never-there"); err != nil {
		t.Fatalf("Leave of an unlisted instance: %v", err)
	}
	if err := h.Ledger.Beat(bg, "a", ttl); err != nil {
		t.Fatal(err)
	}
	if got := instance(t, h, "a").Schedules; len(got) != 0 {
		t.Fatalf("a's schedules came back after it left: %q", got)
	}
}
