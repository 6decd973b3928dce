package redislocks

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/ledger"
)

// Ledger is the Redis adapter of the ledger port. Each schedule has two
// keys under one hash tag, {prefix#sched:<name>} (a hash) and
// {prefix#sched:<name>}:runs (a list capped at the history size), however
// long it runs: no key per tick. Two more keys serve the whole fleet: a set
// of schedule names and a sorted set of instance heartbeats; and each live
// instance has one key listing its schedules, which expires with its
// heartbeat. Every write is
// one script, one round trip; concurrent calls share pipelines (natural
// batching, as in Locks), so a tick due on thousands of schedules at once
// costs a few round trips, not thousands.
//
// Claims lapse by Redis's clock, so instances whose clocks disagree still
// agree on when a claim has lapsed; with ledger.WithClock the adapter's
// clock is used instead (tests on a fake clock).
type Ledger struct {
	client  redis.UniversalClient
	prefix  string
	open    string          // "{" + escaped prefix + "#"
	clock   clockwork.Clock // for retention and heartbeats
	fake    bool            // clock also drives claims
	history int
	maxAge  time.Duration
	// batch pipelines the scripts of concurrent calls: the claims of
	// thousands of schedules due at the same tick leave as a few
	// pipelines rather than a round trip each.
	batch *batcher
}

var (
	_ ledger.Ledger          = (*Ledger)(nil)
	_ ledger.BatchRegisterer = (*Ledger)(nil)
)

// NewLedger returns the ledger on client under prefix (DefaultPrefix if
// empty, escaped as in New). "#" after the prefix, where leases have "|",
// keeps the ledger's keys apart from every lease key. The client stays the
// caller's to close.
func NewLedger(client redis.UniversalClient, prefix string, opts ...ledger.Option) *Ledger {
	c := ledger.NewConfig(opts...)
	if prefix == "" {
		prefix = DefaultPrefix
	}
	l := &Ledger{client: client, prefix: prefix, open: "{" + prefixEscaper.Replace(prefix) + "#", clock: c.Clock, fake: c.Clock != nil, history: c.History, maxAge: c.MaxAge,
		batch: &batcher{client: client}}
	if l.clock == nil {
		l.clock = clockwork.NewRealClock()
	}
	return l
}

// String names the backend in startup logs.
func (l *Ledger) String() string { return fmt.Sprintf("redis (prefix %q)", l.prefix) }

// ScheduleKeys are the Redis keys of one schedule, for operators and the
// memory benchmark.
func (l *Ledger) ScheduleKeys(name string) []string {
	base := l.open + "sched:" + name + "}"
	return []string{base, base + ":runs"}
}

func (l *Ledger) fleetKey(what string) string { return l.open + "fleet}:" + what }

func (l *Ledger) channel() string { return l.fleetKey("runnow") }

// run runs a ledger script for schedule name and returns its reply, or an
// error wrapping ErrUnknownSchedule when the reply says so.
func (l *Ledger) run(ctx context.Context, s *redis.Script, name, op string, args ...any) ([]any, error) {
	if err := ledger.ValidateName(name); err != nil {
		return nil, err
	}
	now := ""
	if l.fake {
		now = strconv.FormatInt(l.clock.Now().UnixNano(), 10)
	}
	argv := append([]any{now, l.history, l.maxAge.Milliseconds()}, args...)
	res, err := l.batch.run(ctx, s, l.ScheduleKeys(name), argv...).Slice()
	if err != nil {
		return nil, fmt.Errorf("redislocks: ledger %s %q: %w", op, name, err)
	}
	if len(res) > 0 && res[0] == int64(-1) {
		return nil, ledger.Unknown(name)
	}
	return res, nil
}

// Register implements ledger.Ledger.
func (l *Ledger) Register(ctx context.Context, d ledger.Definition) error {
	if err := ledger.ValidateName(d.Name); err != nil {
		return err
	}
	// Two slots on a Cluster (the schedule's and the fleet's), so two
	// commands; the hash is written first, so a listed name always
	// resolves.
	if err := l.client.HSet(ctx, l.ScheduleKeys(d.Name)[0], "spec", d.Spec, "loc", d.Location).Err(); err != nil {
		return fmt.Errorf("redislocks: ledger register %q: %w", d.Name, err)
	}
	if err := l.client.SAdd(ctx, l.fleetKey("schedules"), d.Name).Err(); err != nil {
		return fmt.Errorf("redislocks: ledger register %q: %w", d.Name, err)
	}
	return nil
}

// registerBatch is how many schedules one pipeline of RegisterAll
// carries: large enough that thousands take a few round trips, small
// enough that one pipeline's replies stay a modest buffer.
const registerBatch = 500

// RegisterAll implements ledger.BatchRegisterer: a pipeline per
// registerBatch definitions writes their hashes, then one more adds their
// names to the fleet's set, so a listed name always resolves, as with
// Register.
func (l *Ledger) RegisterAll(ctx context.Context, defs []ledger.Definition) error {
	for _, d := range defs {
		if err := ledger.ValidateName(d.Name); err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(defs, registerBatch) {
		cmds, err := l.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, d := range chunk {
				p.HSet(ctx, l.ScheduleKeys(d.Name)[0], "spec", d.Spec, "loc", d.Location)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("redislocks: ledger register %d schedules from %q: %w", len(chunk), chunk[0].Name, firstErr(cmds, err))
		}
		names := make([]any, len(chunk))
		for i, d := range chunk {
			names[i] = d.Name
		}
		if err := l.client.SAdd(ctx, l.fleetKey("schedules"), names...).Err(); err != nil {
			return fmt.Errorf("redislocks: ledger register %d schedules from %q: %w", len(chunk), chunk[0].Name, err)
		}
	}
	return nil
}

// firstErr is the error of the first failed command of a pipeline (which
// names the command), else err.
func firstErr(cmds []redis.Cmder, err error) error {
	for _, c := range cmds {
		if c.Err() != nil {
			return fmt.Errorf("%s: %w", c.Name(), c.Err())
		}
	}
	return err
}

// Schedules implements ledger.Ledger.
func (l *Ledger) Schedules(ctx context.Context) ([]ledger.Schedule, error) {
	names, err := l.client.SMembers(ctx, l.fleetKey("schedules")).Result()
	if err != nil {
		return nil, fmt.Errorf("redislocks: ledger schedules: %w", err)
	}
	slices.Sort(names)
	out := make([]ledger.Schedule, 0, len(names))
	for _, n := range names {
		s, _, err := l.view(ctx, n, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Schedule implements ledger.Ledger.
func (l *Ledger) Schedule(ctx context.Context, name string) (ledger.Schedule, error) {
	s, _, err := l.view(ctx, name, 0)
	return s, err
}

// view reads a schedule and up to n history entries (-1: all).
func (l *Ledger) view(ctx context.Context, name string, n int) (ledger.Schedule, []ledger.Record, error) {
	res, err := l.run(ctx, ledgerViewScript, name, "read", n)
	if err != nil {
		return ledger.Schedule{}, nil, err
	}
	if len(res) < 7 {
		return ledger.Schedule{}, nil, fmt.Errorf("redislocks: ledger read %q: unexpected reply %v", name, res)
	}
	str := func(i int) string { s, _ := res[i].(string); return s }
	s := ledger.Schedule{Definition: ledger.Definition{Name: name, Spec: str(1), Location: str(2)}, Paused: str(3) == "1"}
	if s.Done, err = parseNanos(str(4)); err != nil {
		return s, nil, fmt.Errorf("redislocks: ledger read %q: done: %w", name, err)
	}
	for i, dst := range []**ledger.Record{&s.Last, &s.Running} {
		if j := str(5 + i); j != "" {
			r, err := decodeRecord(name, j)
			if err != nil {
				return s, nil, err
			}
			*dst = &r
		}
	}
	var rs []ledger.Record
	for _, v := range res[7:] {
		e, _ := v.(string)
		_, j, ok := strings.Cut(e, "|")
		if !ok {
			return s, nil, fmt.Errorf("redislocks: ledger read %q: malformed entry %q", name, e)
		}
		r, err := decodeRecord(name, j)
		if err != nil {
			return s, nil, err
		}
		rs = append(rs, r)
	}
	return s, rs, nil
}

// SetPaused implements ledger.Ledger.
func (l *Ledger) SetPaused(ctx context.Context, name string, paused bool) error {
	_, err := l.run(ctx, ledgerPauseScript, name, "pause", flag(paused))
	return err
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Claim implements ledger.Ledger.
func (l *Ledger) Claim(ctx context.Context, r ledger.ClaimRequest) (ledger.Claim, error) {
	if err := r.Validate(); err != nil {
		return ledger.Claim{}, err
	}
	res, err := l.run(ctx, ledgerClaimScript, r.Schedule, "claim", nanos(r.Tick), r.Tick.UnixMicro(), flag(r.Manual), r.Owner, r.Instance, millis(r.TTL),
		r.Request, ledger.RequestTTL.Milliseconds())
	if err != nil {
		return ledger.Claim{}, err
	}
	bad := func() (ledger.Claim, error) {
		return ledger.Claim{}, fmt.Errorf("redislocks: ledger claim %q: unexpected reply %v", r.Schedule, res)
	}
	code, _ := res[0].(int64)
	switch code {
	case 1:
		if len(res) != 4 {
			return bad()
		}
		attempt, _ := res[1].(int64)
		tok, err1 := strconv.ParseUint(fmt.Sprint(res[2]), 10, 64)
		prev, err2 := parseNanos(fmt.Sprint(res[3]))
		if err1 != nil || err2 != nil {
			return bad()
		}
		return ledger.Claim{State: ledger.Won, Attempt: int(attempt), Token: tok, PrevDone: prev}, nil
	case 2:
		if len(res) != 4 {
			return bad()
		}
		tick, err := parseNanos(fmt.Sprint(res[1]))
		left, _ := res[3].(int64)
		if err != nil {
			return bad()
		}
		by, _ := res[2].(string)
		return ledger.Claim{State: ledger.Held, HeldTick: tick, HeldBy: by, HeldFor: time.Duration(left) * time.Millisecond}, nil
	case 3:
		return ledger.Claim{State: ledger.Done}, nil
	case 4:
		return ledger.Claim{State: ledger.Paused}, nil
	}
	return bad()
}

// Renew implements ledger.Ledger.
func (l *Ledger) Renew(ctx context.Context, r ledger.ClaimRequest) (bool, error) {
	if err := r.Validate(); err != nil {
		return false, err
	}
	res, err := l.run(ctx, ledgerRenewScript, r.Schedule, "renew", nanos(r.Tick), flag(r.Manual), r.Owner, millis(r.TTL), r.Request)
	if err != nil {
		return false, err
	}
	return res[0] == int64(1), nil
}

// Finish implements ledger.Ledger.
func (l *Ledger) Finish(ctx context.Context, r ledger.ClaimRequest) error { return l.end(ctx, r, true) }

// Release implements ledger.Ledger.
func (l *Ledger) Release(ctx context.Context, r ledger.ClaimRequest) error {
	return l.end(ctx, r, false)
}

func (l *Ledger) end(ctx context.Context, r ledger.ClaimRequest, done bool) error {
	_, err := l.run(ctx, ledgerEndScript, r.Schedule, "finish", nanos(r.Tick), r.Tick.UnixMicro(), flag(r.Manual), r.Owner, flag(done),
		r.Request, l.channel(), r.Schedule+"\x00\x00")
	return err
}

// Put implements ledger.Ledger.
func (l *Ledger) Put(ctx context.Context, r ledger.Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	j, err := encodeRecord(r)
	if err != nil {
		return err
	}
	at := r.Finished
	if at.IsZero() {
		at = r.Started
	}
	if at.IsZero() {
		at = r.Tick
	}
	_, err = l.run(ctx, ledgerPutScript, r.Schedule, "put", j, nanos(r.Tick), flag(r.Manual), r.Attempt,
		flag(r.Outcome == ledger.Running), at.UnixMilli())
	return err
}

// Runs implements ledger.Ledger.
func (l *Ledger) Runs(ctx context.Context, name string, limit int) ([]ledger.Record, error) {
	if err := ledger.ValidateLimit(name, limit); err != nil {
		return nil, err
	}
	// No more than the list can hold is asked for: the script's stop
	// index is a Lua double, and a limit near math.MaxInt would reach
	// LRANGE as a float Redis refuses.
	n := limit
	if n == 0 || n > l.history {
		n = -1
	}
	s, hist, err := l.view(ctx, name, n)
	if err != nil {
		return nil, err
	}
	now := l.clock.Now()
	var out []ledger.Record
	if s.Running != nil {
		out = append(out, *s.Running)
	}
	for _, r := range hist {
		if !ledger.Expired(r, now, l.maxAge) {
			out = append(out, r)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// RequestRun implements ledger.Ledger.
func (l *Ledger) RequestRun(ctx context.Context, name string) (ledger.Request, error) {
	id := rand.Text()
	msg := name + "\x00" + id + "\x00"
	res, err := l.run(ctx, ledgerRequestScript, name, "request", id, ledger.RequestTTL.Milliseconds(), ledger.MaxPendingRequests, l.channel(), msg)
	if err != nil {
		return ledger.Request{}, err
	}
	if res[0] == int64(0) {
		return ledger.Request{}, fmt.Errorf("%w: %q has %v", ledger.ErrTooManyRequests, name, res[1])
	}
	at, err := parseNanos(fmt.Sprint(res[1]))
	if err != nil {
		return ledger.Request{}, fmt.Errorf("redislocks: ledger request %q: %w", name, err)
	}
	return ledger.Request{Schedule: name, ID: id, At: at}, nil
}

// TakeRequest implements ledger.Ledger.
func (l *Ledger) TakeRequest(ctx context.Context, name, id string) (bool, error) {
	res, err := l.run(ctx, ledgerTakeScript, name, "take request", id, ledger.RequestTTL.Milliseconds())
	if err != nil {
		return false, err
	}
	return res[0] == int64(1), nil
}

// PendingRequests implements ledger.Ledger.
func (l *Ledger) PendingRequests(ctx context.Context, name string) ([]ledger.Request, error) {
	if _, err := l.Schedule(ctx, name); err != nil {
		return nil, err
	}
	h, err := l.client.HGetAll(ctx, l.ScheduleKeys(name)[0]).Result()
	if err != nil {
		return nil, fmt.Errorf("redislocks: ledger requests of %q: %w", name, err)
	}
	now := l.clock.Now()
	var out []ledger.Request
	for f, v := range h {
		id, ok := strings.CutPrefix(f, "req:")
		if !ok {
			continue
		}
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		at := time.UnixMilli(ms).UTC()
		if now.Sub(at) <= ledger.RequestTTL {
			out = append(out, ledger.Request{Schedule: name, ID: id, At: at})
		}
	}
	ledger.SortRequests(out)
	return out, nil
}

// Subscribe implements ledger.Ledger with a subscription of its own on
// the fleet's run-now channel; it returns once Redis has confirmed it.
func (l *Ledger) Subscribe(ctx context.Context) (<-chan ledger.Request, error) {
	sub := l.client.Subscribe(ctx, l.channel())
	if _, err := sub.Receive(ctx); err != nil {
		_ = sub.Close()
		return nil, fmt.Errorf("redislocks: ledger subscribe: %w", err)
	}
	out := make(chan ledger.Request, 64)
	msgs := sub.Channel()
	go func() {
		defer close(out)
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				name, rest, found := strings.Cut(m.Payload, "\x00")
				id, ns, found2 := strings.Cut(rest, "\x00")
				at, err := parseNanos(ns)
				if !found || !found2 || err != nil || (id == "") != (ns == "") {
					continue
				}
				select {
				case out <- ledger.Request{Schedule: name, ID: id, At: at}:
				default: // a slow subscriber falls back to PendingRequests
				}
			}
		}
	}()
	return out, nil
}

// instanceKey holds the schedules instance runs, one name a line, as its
// latest Heartbeat said. It shares the fleet's hash tag with the sorted set
// of heartbeats, so that one script writes both, and expires with the
// heartbeat: a dead instance leaves no key behind.
func (l *Ledger) instanceKey(instance string) string { return l.fleetKey("instance:" + instance) }

// InstanceKeys are the Redis keys an instance's heartbeat writes, for
// operators: the fleet's sorted set of heartbeats (shared by every
// instance) and the instance's list of schedules. Both expire with the
// heartbeat.
func (l *Ledger) InstanceKeys(instance string) []string {
	return []string{l.fleetKey("instances"), l.instanceKey(instance)}
}

// Beat implements ledger.Ledger.
func (l *Ledger) Beat(ctx context.Context, instance string, ttl time.Duration) error {
	_, err := l.heartbeat(ctx, instance, ttl, nil, false)
	return err
}

// Heartbeat implements ledger.Ledger.
func (l *Ledger) Heartbeat(ctx context.Context, instance string, ttl time.Duration, schedules []string) error {
	_, err := l.heartbeat(ctx, instance, ttl, schedules, true)
	return err
}

// HeartbeatListed implements ledger.Rejoiner. Its answer costs nothing
// extra: the heartbeat's script reads the previous heartbeat anyway.
func (l *Ledger) HeartbeatListed(ctx context.Context, instance string, ttl time.Duration, schedules []string) (bool, error) {
	return l.heartbeat(ctx, instance, ttl, schedules, true)
}

func (l *Ledger) heartbeat(ctx context.Context, instance string, ttl time.Duration, schedules []string, replace bool) (wasListed bool, err error) {
	if err := ledger.ValidateHeartbeat(instance, ttl, schedules); err != nil {
		return false, err
	}
	mode := "keep"
	if replace {
		mode = "set"
	}
	// Names hold no control characters (ValidateName), so a newline
	// separates them.
	names := strings.Join(ledger.SortedNames(schedules), "\n")
	listed, err := ledgerHeartbeatScript.Run(ctx, l.client, l.InstanceKeys(instance),
		l.clock.Now().UnixMilli(), max(ttl.Milliseconds(), 1), instance, mode, names).Int()
	if err != nil {
		return false, fmt.Errorf("redislocks: ledger heartbeat of %q: %w", instance, err)
	}
	return listed == 1, nil
}

// Leave implements ledger.Ledger.
func (l *Ledger) Leave(ctx context.Context, instance string) error {
	if instance == "" {
		return fmt.Errorf("%w: leave of an empty instance id", ledger.ErrInvalid)
	}
	_, err := l.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, l.fleetKey("instances"), instance)
		p.Del(ctx, l.instanceKey(instance))
		return nil
	})
	if err != nil {
		return fmt.Errorf("redislocks: ledger leave of %q: %w", instance, err)
	}
	return nil
}

// Instances implements ledger.Ledger.
func (l *Ledger) Instances(ctx context.Context) ([]ledger.Instance, error) {
	now := l.clock.Now()
	zs, err := l.client.ZRangeByScoreWithScores(ctx, l.fleetKey("instances"), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("redislocks: ledger instances: %w", err)
	}
	if len(zs) == 0 {
		return nil, nil
	}
	keys := make([]string, len(zs))
	for i, z := range zs {
		id, _ := z.Member.(string)
		keys[i] = l.instanceKey(id)
	}
	// One slot (the fleet's hash tag), so one MGET even on a Cluster.
	lists, err := l.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redislocks: ledger instances' schedules: %w", err)
	}
	out := make([]ledger.Instance, 0, len(zs))
	for i, z := range zs {
		id, _ := z.Member.(string)
		in := ledger.Instance{ID: id, Expires: time.UnixMilli(int64(z.Score)).UTC()}
		if s, _ := lists[i].(string); s != "" {
			in.Schedules = strings.Split(s, "\n")
		}
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b ledger.Instance) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Preload loads the ledger's scripts, so later calls take one round trip.
func (l *Ledger) Preload(ctx context.Context) error {
	for _, s := range ledgerScripts {
		if err := s.Load(ctx, l.client).Err(); err != nil {
			return fmt.Errorf("redislocks: load ledger scripts into %s: %w", describe(l.client), err)
		}
	}
	return warmPipelines(ctx, l.client)
}

// wireRecord is a record as stored: times as Unix nanoseconds in strings
// (exact, and settable from Lua), the token as a string (Lua's numbers
// are doubles).
type wireRecord struct {
	Tick     string `json:"tick"`
	Manual   bool   `json:"manual,omitempty"`
	Attempt  int    `json:"attempt"`
	Instance string `json:"instance"`
	Token    string `json:"token"`
	Outcome  string `json:"outcome"`
	Started  string `json:"started,omitempty"`
	Finished string `json:"finished,omitempty"`
	Err      string `json:"err,omitempty"`
}

func nanos(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func parseNanos(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", s, err)
	}
	return time.Unix(0, n).UTC(), nil
}

func encodeRecord(r ledger.Record) (string, error) {
	b, err := json.Marshal(wireRecord{Tick: nanos(r.Tick), Manual: r.Manual, Attempt: r.Attempt, Instance: r.Instance,
		Token: strconv.FormatUint(r.FencingToken, 10), Outcome: string(r.Outcome), Started: nanos(r.Started),
		Finished: nanos(r.Finished), Err: r.Err})
	if err != nil {
		return "", fmt.Errorf("redislocks: ledger record of %q: %w", r.Schedule, err)
	}
	return string(b), nil
}

func decodeRecord(name, s string) (ledger.Record, error) {
	var w wireRecord
	if err := json.Unmarshal([]byte(s), &w); err != nil {
		return ledger.Record{}, fmt.Errorf("redislocks: ledger record of %q: %w", name, err)
	}
	r := ledger.Record{Schedule: name, Manual: w.Manual, Attempt: w.Attempt, Instance: w.Instance, Outcome: ledger.Outcome(w.Outcome), Err: w.Err}
	var err error
	if w.Token != "" {
		if r.FencingToken, err = strconv.ParseUint(w.Token, 10, 64); err != nil {
			return r, fmt.Errorf("redislocks: ledger record of %q: token: %w", name, err)
		}
	}
	for _, f := range []struct {
		dst *time.Time
		s   string
	}{{&r.Tick, w.Tick}, {&r.Started, w.Started}, {&r.Finished, w.Finished}} {
		if *f.dst, err = parseNanos(f.s); err != nil {
			return r, fmt.Errorf("redislocks: ledger record of %q: %w", name, err)
		}
	}
	if r.Outcome == ledger.Abandoned && r.Err == "" {
		r.Err = ledger.LapsedErr(r.Instance)
	}
	return r, nil
}
