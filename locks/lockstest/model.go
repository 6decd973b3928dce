package lockstest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/beignet-go/beignet/locks"
)

// Environment variables that steer RunModel.
const (
	// EnvSeed replays one sequence: the seed a failure printed.
	EnvSeed = "LOCKSTEST_SEED"
	// EnvIterations overrides ModelConfig.Iterations.
	EnvIterations = "LOCKSTEST_ITERATIONS"
)

// ShortIterations caps ModelConfig.Iterations under go test -short.
const ShortIterations = 10

// ModelConfig sizes a RunModel run.
type ModelConfig struct {
	// Iterations is how many random sequences run (default 50; with
	// go test -short, at most ShortIterations, so a quick local run stays
	// quick while CI keeps the full count).
	Iterations int
	// Workers is how many goroutines run operations at once (default 3).
	Workers int
	// Steps is how many operations each worker runs per sequence
	// (default 20).
	Steps int
	// Keys is how many keys the workers share (default 2).
	Keys int
}

func (c ModelConfig) withDefaults() ModelConfig {
	if c.Iterations <= 0 {
		c.Iterations = 50
	}
	if c.Workers <= 0 {
		c.Workers = 3
	}
	if c.Steps <= 0 {
		c.Steps = 20
	}
	if c.Keys <= 0 {
		c.Keys = 2
	}
	return c
}

// RunModel is a model-checking test of an adapter. It runs random
// sequences of operations (Acquire with and without Wait, Renew, Release,
// WithLease, time passing, cancelled contexts) from several goroutines
// against a small reference model of the port, and after every step checks
// that:
//
//   - the trust windows of the leases on one key never overlap, so at most
//     one holder per key trusts its lease at any moment;
//   - tokens strictly increase per key, in the order the windows come;
//   - a stale lease never renews, or releases, a newer holder;
//   - a key that every holder released can be acquired at once (nothing is
//     left held by a cancelled or abandoned call);
//   - WithLease never renews once it has returned.
//
// Each sequence has a seed. A failure reports it, with the sequence shrunk
// by dropping operations while it still fails; set LOCKSTEST_SEED to replay
// it. The harness's Clock must be the adapter's clock, and its Advance must
// move it (a fake clock) or wait (a real server, with a short TTL).
func RunModel(t *testing.T, newHarness func(t *testing.T) Harness, cfg ModelConfig) {
	t.Helper()
	cfg = cfg.withDefaults()
	base := uint64(time.Now().UnixNano())
	if s := os.Getenv(EnvSeed); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: not a seed", EnvSeed, s)
		}
		base, cfg.Iterations = seed, 1
	} else if s := os.Getenv(EnvIterations); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a count >= 1", EnvIterations, s)
		}
		cfg.Iterations = n
	} else if testing.Short() && cfg.Iterations > ShortIterations {
		cfg.Iterations = ShortIterations
	}
	for i := 0; i < cfg.Iterations; i++ {
		seed := base + uint64(i)
		seq := generate(seed, cfg)
		err := runSequence(t, newHarness, seq)
		if err == nil {
			continue
		}
		shrunk, serr := shrink(t, newHarness, seq, err)
		t.Fatalf("model check failed with seed %d (replay: %s=%d): %v\nshrunk to %d operations, failing with: %v\n%s",
			seed, EnvSeed, seed, err, shrunk.len(), serr, shrunk)
	}
}

type opKind int

const (
	opAcquire opKind = iota
	opAcquireWait
	opAcquireCancelled
	opRenew
	opRenewOther // renew with a TTL of its own
	opRelease
	opWithLease
	opAdvance
	numOps
)

func (k opKind) String() string {
	return [...]string{"Acquire", "AcquireWait", "AcquireCancelled", "Renew", "RenewTTL", "Release", "WithLease", "Advance"}[k]
}

// op is one step. n picks a held lease or a duration, so that dropping an
// earlier step leaves the rest meaningful.
type op struct {
	kind opKind
	key  int
	n    int
}

type sequence struct {
	workers [][]op
}

func (s sequence) len() int {
	n := 0
	for _, w := range s.workers {
		n += len(w)
	}
	return n
}

func (s sequence) String() string {
	var b strings.Builder
	for i, w := range s.workers {
		fmt.Fprintf(&b, "  worker %d:", i)
		for _, o := range w {
			fmt.Fprintf(&b, " %v(k%d,%d)", o.kind, o.key, o.n)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func generate(seed uint64, cfg ModelConfig) sequence {
	r := rand.New(rand.NewPCG(seed, 0x6c6f636b73))
	seq := sequence{workers: make([][]op, cfg.Workers)}
	for w := range seq.workers {
		for s := 0; s < cfg.Steps; s++ {
			seq.workers[w] = append(seq.workers[w], op{kind: opKind(r.IntN(int(numOps))), key: r.IntN(cfg.Keys), n: r.IntN(1000)})
		}
	}
	return seq
}

// shrink drops operations, chunk by chunk, while the sequence still fails.
// Interleavings vary from run to run, so a smaller sequence counts as
// failing if any of a few runs fails; the number of runs is capped to keep
// a failing test quick.
func shrink(t *testing.T, newHarness func(t *testing.T) Harness, seq sequence, err error) (sequence, error) {
	budget := 60
	fails := func(s sequence) error {
		for try := 0; try < 3 && budget > 0; try++ {
			budget--
			if err := runSequence(t, newHarness, s); err != nil {
				return err
			}
		}
		return nil
	}
	for chunk := seq.len() / 2; chunk >= 1 && budget > 0; chunk /= 2 {
		for w := 0; w < len(seq.workers) && budget > 0; w++ {
			for i := 0; i < len(seq.workers[w]) && budget > 0; {
				cand := sequence{workers: make([][]op, len(seq.workers))}
				copy(cand.workers, seq.workers)
				end := min(i+chunk, len(seq.workers[w]))
				cand.workers[w] = append(append([]op(nil), seq.workers[w][:i]...), seq.workers[w][end:]...)
				if e := fails(cand); e != nil {
					seq, err = cand, e
				} else {
					i = end
				}
			}
		}
	}
	return seq, err
}

// runSequence runs seq against a fresh harness and returns the first
// violation found.
func runSequence(t *testing.T, newHarness func(t *testing.T) Harness, seq sequence) error {
	h := newHarness(t)
	if h.TTL <= 0 {
		h.TTL = time.Second
	}
	if h.Clock == nil {
		h.Clock = clockwork.NewRealClock()
	}
	m := &model{h: h, prefix: fmt.Sprintf("model-%d:", time.Now().UnixNano()), keys: map[int]*keyState{}}
	var wg sync.WaitGroup
	for w, ops := range seq.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := &worker{m: m, id: w}
			defer wk.releaseAll()
			for _, o := range ops {
				if m.failed() {
					return
				}
				wk.step(o)
			}
		}()
	}
	wg.Wait()
	// Time went on after most WithLease calls returned: a renewer left
	// running would have renewed by now.
	for _, spy := range m.spies {
		if n := spy.after(); n > 0 {
			m.fail("a WithLease renewed its lease %d times after it returned", n)
		}
	}
	return m.failure()
}

// model is the reference: every lease handed out, per key, with when its
// holder started and stopped trusting it.
type model struct {
	h      Harness
	prefix string

	mu    sync.Mutex
	keys  map[int]*keyState
	spies []*renewSpy // of every WithLease that has returned
	err   error
}

type keyState struct {
	leases   []*tracked
	inflight int // operations on the key running right now
	started  int // operations on the key ever started
}

// tracked is one lease as the model sees it.
type tracked struct {
	lease     locks.Lease
	start     time.Time // when the holder got it
	stopped   bool      // the holder stopped trusting it (released, or WithLease returned)
	stoppedAt time.Time
	released  bool // Release (or WithLease) returned with no error
}

// end is when the holder stopped trusting the lease, as far as it goes yet.
func (l *tracked) end() time.Time {
	end := l.lease.ExpiresAt()
	if l.stopped && l.stoppedAt.Before(end) {
		end = l.stoppedAt
	}
	return end
}

func (m *model) key(k int) string { return m.prefix + strconv.Itoa(k) }

func (m *model) fail(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failLocked(format, args...)
}

func (m *model) failLocked(format string, args ...any) {
	if m.err == nil {
		m.err = fmt.Errorf(format, args...)
	}
}

func (m *model) failed() bool { return m.failure() != nil }

func (m *model) failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

func (m *model) state(k int) *keyState {
	s, ok := m.keys[k]
	if !ok {
		s = &keyState{}
		m.keys[k] = s
	}
	return s
}

// begin marks an operation on key k as running. It reports whether the
// model says k is free (no other operation on it is running and every lease
// it has seen was released), and the count of operations started on k,
// for alone.
func (m *model) begin(k int) (free bool, started int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.state(k)
	free = s.inflight == 0
	for _, l := range s.leases {
		free = free && l.released
	}
	s.inflight++
	s.started++
	return free, s.started
}

// alone reports whether no operation on k started after the one begin
// numbered started.
func (m *model) alone(k, started int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state(k).started == started
}

func (m *model) end(k int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state(k).inflight--
}

// record adds a lease the caller got at start, then checks the key.
func (m *model) record(k int, l locks.Lease, start time.Time) *tracked {
	t := &tracked{lease: l, start: start}
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.state(k)
	s.leases = append(s.leases, t)
	m.checkLocked(k)
	return t
}

// stop marks that the holder no longer trusts l, before it releases it.
func (m *model) stop(l *tracked) {
	now := m.h.Clock.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	l.stopped, l.stoppedAt = true, now
}

func (m *model) released(k int, l *tracked) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l.released = true
	m.checkLocked(k)
}

// describe lists the leases the model has seen on k.
func (m *model) describe(k int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, l := range m.state(k).leases {
		fmt.Fprintf(&b, "[token %d released %v] ", l.lease.FencingToken(), l.released)
	}
	return b.String()
}

// checkLocked compares every pair of leases on key k: the one with the
// lower token must have stopped being trusted before the other was handed
// out. That is "at most one trusted holder" and "tokens rise" at once.
func (m *model) checkLocked(k int) {
	ls := m.state(k).leases
	for i, a := range ls {
		for _, b := range ls[i+1:] {
			older, newer := a, b
			if older.lease.FencingToken() > newer.lease.FencingToken() {
				older, newer = newer, older
			}
			if older.lease.FencingToken() == newer.lease.FencingToken() {
				m.failLocked("key %q: two leases with token %d", m.key(k), older.lease.FencingToken())
				return
			}
			if end := older.end(); end.After(newer.start) {
				m.failLocked("key %q: token %d trusted until %v, but token %d was handed out at %v (%v overlap)",
					m.key(k), older.lease.FencingToken(), end, newer.lease.FencingToken(), newer.start, end.Sub(newer.start))
				return
			}
		}
	}
}

// checkAll checks every key (after a step that may affect any of them,
// such as time passing).
func (m *model) checkAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.keys {
		m.checkLocked(k)
	}
}

// newest returns the lease on k with the highest token, if its holder
// still trusts it.
func (m *model) trustedNewestLocked(k int, now time.Time) *tracked {
	var n *tracked
	for _, l := range m.state(k).leases {
		if n == nil || l.lease.FencingToken() > n.lease.FencingToken() {
			n = l
		}
	}
	if n == nil || n.stopped || !now.Before(n.lease.ExpiresAt()) {
		return nil
	}
	return n
}

// worker runs one goroutine's operations and holds its leases.
type worker struct {
	m    *model
	id   int
	held []heldLease
}

type heldLease struct {
	key int
	t   *tracked
}

func (w *worker) ctx() context.Context { return context.Background() }

func (w *worker) step(o op) {
	m, h := w.m, w.m.h
	switch o.kind {
	case opAcquire, opAcquireWait, opAcquireCancelled:
		w.acquire(o)
	case opRenew, opRenewOther:
		if len(w.held) == 0 {
			return
		}
		hl := w.held[o.n%len(w.held)]
		ttl := time.Duration(0)
		if o.kind == opRenewOther {
			ttl = h.TTL/2 + time.Duration(o.n)*h.TTL/1000
		}
		m.begin(hl.key)
		ok, err := hl.t.lease.Renew(w.ctx(), ttl)
		m.end(hl.key)
		if ok && err != nil {
			m.fail("Renew = true with error %v", err)
		}
		m.checkAll()
	case opRelease:
		if len(w.held) == 0 {
			return
		}
		i := o.n % len(w.held)
		hl := w.held[i]
		w.held = append(w.held[:i], w.held[i+1:]...)
		w.release(hl)
	case opWithLease:
		w.withLease(o)
	case opAdvance:
		steps := []time.Duration{h.TTL / 10, h.TTL / 3, h.TTL / 3, h.TTL}
		h.Advance(steps[o.n%len(steps)])
		m.checkAll()
	}
}

func (w *worker) acquire(o op) {
	m, h := w.m, w.m.h
	free, started := m.begin(o.key)
	defer m.end(o.key)
	ctx := w.ctx()
	opts := locks.Options{TTL: h.TTL}
	switch o.kind {
	case opAcquireWait:
		// A wait that ends in real time, so that a fake clock nobody
		// advances cannot hang the worker.
		opts.Wait = h.TTL
		c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		ctx = c
	case opAcquireCancelled:
		c, cancel := context.WithCancel(ctx)
		cancel()
		ctx = c
	}
	res, err := h.Locks.Acquire(ctx, m.key(o.key), opts)
	start := h.Clock.Now()
	switch {
	case err != nil && (res.Acquired || res.Lease != nil):
		m.fail("Acquire returned a lease and the error %v", err)
	case err != nil:
		// A reply that came after the trust window is refused with
		// ErrLeaseLost; any other error with a live ctx is a bug.
		if o.kind == opAcquire && !errors.Is(err, locks.ErrLeaseLost) {
			m.fail("Acquire(%q) with a live ctx: %v", m.key(o.key), err)
		}
	case res.Acquired:
		t := m.record(o.key, res.Lease, start)
		w.held = append(w.held, heldLease{o.key, t})
	case free && o.kind != opAcquireCancelled && m.alone(o.key, started):
		holder := "unknown"
		if in, ok := h.Locks.(locks.Inspector); ok {
			info, held, err := in.Inspect(w.ctx(), m.key(o.key))
			holder = fmt.Sprintf("held %v, token %d, err %v", held, info.FencingToken, err)
		}
		m.fail("Acquire(%q) = not acquired, but every lease on it was released and nothing else was running (backend: %s; model: %s)", m.key(o.key), holder, m.describe(o.key))
	}
}

// release gives up hl, then checks that a newer holder (if any) was not
// disturbed.
func (w *worker) release(hl heldLease) {
	m, h := w.m, w.m.h
	m.begin(hl.key)
	defer m.end(hl.key)
	m.stop(hl.t)
	if err := hl.t.lease.Release(w.ctx()); err != nil {
		m.fail("Release: %v", err)
		return
	}
	m.released(hl.key, hl.t)
	in, ok := h.Locks.(locks.Inspector)
	if !ok {
		return
	}
	// Holding the model's lock keeps a newer holder from stopping while
	// the backend is asked about it.
	m.mu.Lock()
	defer m.mu.Unlock()
	newest := m.trustedNewestLocked(hl.key, h.Clock.Now())
	if newest == nil || newest == hl.t {
		return
	}
	info, held, err := in.Inspect(w.ctx(), m.key(hl.key))
	if err != nil {
		m.failLocked("Inspect: %v", err)
		return
	}
	if !held || info.FencingToken != newest.lease.FencingToken() {
		m.failLocked("key %q: releasing stale token %d disturbed the holder of token %d (backend: held %v, token %d)",
			m.key(hl.key), hl.t.lease.FencingToken(), newest.lease.FencingToken(), held, info.FencingToken)
	}
}

func (w *worker) releaseAll() {
	for _, hl := range w.held {
		w.release(hl)
	}
	w.held = nil
}

// withLease runs WithLease through a wrapper that sees every renewal, so
// that the model can tell whether any starts after WithLease returned.
func (w *worker) withLease(o op) {
	m, h := w.m, w.m.h
	m.begin(o.key)
	defer m.end(o.key)
	spy := &renewSpy{Locks: h.Locks}
	var t *tracked
	err := func() (err error) {
		defer func() {
			if p := recover(); p != nil && p != errPanic {
				panic(p)
			} else if p != nil {
				err = errPanic
			}
		}()
		return locks.RunWithLease(w.ctx(), h.Clock, spy, m.key(o.key), locks.Options{TTL: h.TTL}, func(ctx context.Context, l locks.Lease) error {
			t = m.record(o.key, l, h.Clock.Now())
			defer m.stop(t)
			for i := 0; i < o.n%3; i++ { // work for a while
				h.Advance(h.TTL / 3)
				m.checkAll()
			}
			switch o.n % 4 {
			case 0:
				panic(errPanic)
			case 1:
				return errWork
			}
			return nil
		})
	}()
	spy.returned()
	switch {
	case t == nil && err == nil:
		m.fail("WithLease returned nil without running fn")
	case t != nil && !errors.Is(err, locks.ErrLeaseLost) && !errors.Is(err, errWork) && !errors.Is(err, errPanic) && err != nil:
		m.fail("WithLease: %v", err)
	case t == nil && !errors.Is(err, locks.ErrNotAcquired) && !errors.Is(err, locks.ErrLeaseLost):
		m.fail("WithLease without running fn: %v", err)
	}
	// WithLease releases on every way out of fn; only a failed release
	// leaves the key to its expiry.
	if t != nil && (err == nil || !strings.Contains(err.Error(), "locks: release")) {
		m.released(o.key, t)
	}
	m.mu.Lock()
	m.spies = append(m.spies, spy)
	m.mu.Unlock()
	m.checkAll()
}

var (
	errWork  = errors.New("lockstest: fn failed")
	errPanic = errors.New("lockstest: fn panicked")
)

// renewSpy wraps Locks so that the leases it hands out count renewals
// that start after returned was called.
type renewSpy struct {
	locks.Locks
	mu   sync.Mutex
	done bool
	late int
}

func (s *renewSpy) Acquire(ctx context.Context, key string, opts locks.Options) (locks.Result, error) {
	res, err := s.Locks.Acquire(ctx, key, opts)
	if res.Lease != nil {
		res.Lease = &spiedLease{Lease: res.Lease, spy: s}
	}
	return res, err
}

func (s *renewSpy) returned() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
}

func (s *renewSpy) after() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.late
}

type spiedLease struct {
	locks.Lease
	spy *renewSpy
}

func (l *spiedLease) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	l.spy.mu.Lock()
	if l.spy.done {
		l.spy.late++
	}
	l.spy.mu.Unlock()
	return l.Lease.Renew(ctx, ttl)
}
