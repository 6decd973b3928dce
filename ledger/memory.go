package ledger

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Memory is the in-memory ledger: the default of an app with no provider,
// and the test double. Claims lapse and records age by its clock, so a
// clockwork.FakeClock's Advance moves them. It coordinates the schedulers
// of one process only.
type Memory struct {
	clock   clockwork.Clock
	history int
	maxAge  time.Duration

	mu        sync.Mutex
	scheds    map[string]*memSchedule
	instances map[string]memInstance
	subs      map[chan Request]struct{}
	token     uint64
}

// memSchedule is one schedule's state, shaped like the Redis hash and list.
type memSchedule struct {
	def     Definition
	paused  bool
	done    time.Time
	last    *Record
	running *Record
	claim   claimSlot
	runs    []Record // newest first
	reqs    map[string]time.Time
}

// memInstance is one instance's heartbeat: when it lapses, and the
// schedules it runs.
type memInstance struct {
	expires time.Time
	scheds  []string
}

// claimSlot is the schedule's run slot. It keeps the last claim's tick and
// attempt after it ends, so a takeover knows which attempt comes next.
type claimSlot struct {
	tick     time.Time
	manual   bool
	req      string // the run-now request of a manual claim
	waited   bool   // a claim found it held: announce its end
	owner    string // "" once finished or released
	instance string
	attempt  int
	token    uint64
	until    time.Time
	// final: the claimed attempt already has its final record (it
	// failed, and its instance was waiting to retry), so a lapse is not
	// recorded again as abandoned: one record per attempt.
	final bool
}

func (c *claimSlot) live(now time.Time) bool { return c.owner != "" && now.Before(c.until) }

// Option configures an adapter (memory, and Redis through its own
// constructor's options of the same meaning).
type Option func(*Config)

// Config is what Options set.
type Config struct {
	// Clock is the adapter's time source.
	Clock clockwork.Clock
	// History is how many records are kept per schedule.
	History int
	// MaxAge is how long a record is kept.
	MaxAge time.Duration
}

// WithClock sets the clock claims lapse and records age by.
func WithClock(c clockwork.Clock) Option { return func(o *Config) { o.Clock = c } }

// WithHistory keeps the last n records per schedule (default
// DefaultHistory; n <= 0 keeps the default).
func WithHistory(n int) Option { return func(o *Config) { o.History = n } }

// WithMaxAge drops records older than d (default DefaultMaxAge).
func WithMaxAge(d time.Duration) Option { return func(o *Config) { o.MaxAge = d } }

// NewConfig applies opts over the defaults. Clock stays nil unless set:
// each adapter picks its own default (memory: the real clock; Redis: the
// server's clock).
func NewConfig(opts ...Option) Config {
	c := Config{History: DefaultHistory, MaxAge: DefaultMaxAge}
	for _, o := range opts {
		o(&c)
	}
	if c.History <= 0 {
		c.History = DefaultHistory
	}
	if c.MaxAge <= 0 {
		c.MaxAge = DefaultMaxAge
	}
	return c
}

// NewMemory returns an empty in-memory ledger.
func NewMemory(opts ...Option) *Memory {
	c := NewConfig(opts...)
	if c.Clock == nil {
		c.Clock = clockwork.NewRealClock()
	}
	return &Memory{
		clock:     c.Clock,
		history:   c.History,
		maxAge:    c.MaxAge,
		scheds:    make(map[string]*memSchedule),
		instances: make(map[string]memInstance),
		subs:      make(map[chan Request]struct{}),
	}
}

var (
	_ Ledger          = (*Memory)(nil)
	_ BatchRegisterer = (*Memory)(nil)
)

// String names the backend in startup logs.
func (m *Memory) String() string { return "memory (this process only)" }

func (m *Memory) get(name string) (*memSchedule, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	s, ok := m.scheds[name]
	if !ok {
		return nil, Unknown(name)
	}
	return s, nil
}

// Register implements Ledger.
func (m *Memory) Register(ctx context.Context, d Definition) error {
	if err := ValidateName(d.Name); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.scheds[d.Name]
	if !ok {
		s = &memSchedule{reqs: make(map[string]time.Time)}
		m.scheds[d.Name] = s
	}
	s.def = d
	return nil
}

// RegisterAll implements BatchRegisterer.
func (m *Memory) RegisterAll(ctx context.Context, defs []Definition) error {
	for _, d := range defs {
		if err := ValidateName(d.Name); err != nil {
			return err
		}
	}
	for _, d := range defs {
		if err := m.Register(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// Schedules implements Ledger.
func (m *Memory) Schedules(ctx context.Context) ([]Schedule, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	out := make([]Schedule, 0, len(m.scheds))
	for _, s := range m.scheds {
		out = append(out, m.viewLocked(s, now))
	}
	slices.SortFunc(out, func(a, b Schedule) int { return cmpString(a.Name, b.Name) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Schedule implements Ledger.
func (m *Memory) Schedule(ctx context.Context, name string) (v Schedule, err error) {
	err = m.locked(ctx, name, func(s *memSchedule, now time.Time) error {
		v = m.viewLocked(s, now)
		return nil
	})
	return v, err
}

// locked runs fn on name's state under m.mu, once ctx and the name have
// been checked.
func (m *Memory) locked(ctx context.Context, name string, fn func(s *memSchedule, now time.Time) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.get(name)
	if err != nil {
		return err
	}
	return fn(s, m.clock.Now())
}

func (m *Memory) viewLocked(s *memSchedule, now time.Time) Schedule {
	m.abandonLocked(s, now)
	v := Schedule{Definition: s.def, Paused: s.paused, Done: s.done}
	if s.last != nil {
		l := *s.last
		v.Last = &l
	}
	if s.running != nil {
		r := *s.running
		v.Running = &r
	}
	return v
}

// SetPaused implements Ledger.
func (m *Memory) SetPaused(ctx context.Context, name string, paused bool) error {
	return m.locked(ctx, name, func(s *memSchedule, _ time.Time) error {
		s.paused = paused
		return nil
	})
}

// Claim implements Ledger.
func (m *Memory) Claim(ctx context.Context, r ClaimRequest) (Claim, error) {
	if err := r.Validate(); err != nil {
		return Claim{}, err
	}
	if err := ctx.Err(); err != nil {
		return Claim{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.get(r.Schedule)
	if err != nil {
		return Claim{}, err
	}
	now := m.clock.Now()
	m.abandonLocked(s, now)
	c := &s.claim
	if !r.Manual {
		if !s.done.Before(r.Tick) {
			return Claim{State: Done}, nil
		}
		if s.paused {
			s.done = r.Tick
			return Claim{State: Paused}, nil
		}
	}
	if r.Manual && r.Request != "" {
		if at, ok := s.reqs[r.Request]; !ok || now.Sub(at) > RequestTTL {
			delete(s.reqs, r.Request)
			return Claim{State: Done}, nil
		}
	}
	sameRun := c.tick.Equal(r.Tick) && c.manual == r.Manual && c.req == r.Request
	later := !r.Manual && !c.manual && c.tick.After(r.Tick)
	if c.live(now) && !(sameRun && c.owner == r.Owner) {
		if later {
			return Claim{State: Done}, nil
		}
		c.waited = true
		return Claim{State: Held, HeldTick: c.tick, HeldBy: c.instance, HeldFor: c.until.Sub(now)}, nil
	}
	if later {
		return Claim{State: Done}, nil
	}
	attempt := 1
	if sameRun {
		attempt = c.attempt + 1
	}
	m.token++
	*c = claimSlot{tick: r.Tick, manual: r.Manual, req: r.Request, owner: r.Owner, instance: r.Instance, attempt: attempt, token: m.token, until: now.Add(r.TTL)}
	s.running = &Record{Schedule: r.Schedule, Tick: r.Tick, Manual: r.Manual, Attempt: attempt, Instance: r.Instance,
		FencingToken: m.token, Outcome: Running, Started: now}
	return Claim{State: Won, Attempt: attempt, Token: m.token, PrevDone: s.done}, nil
}

// abandonLocked records the run of a lapsed claim as Abandoned, once.
func (m *Memory) abandonLocked(s *memSchedule, now time.Time) {
	c := &s.claim
	if c.owner == "" || c.live(now) {
		return
	}
	c.owner = ""
	rec := Record{Schedule: s.def.Name, Tick: c.tick, Manual: c.manual, Attempt: c.attempt, Instance: c.instance, FencingToken: c.token}
	matched := s.running != nil && SameRun(*s.running, rec)
	if matched {
		rec = *s.running
	}
	s.running = nil
	if !matched && c.final {
		return
	}
	rec.Outcome, rec.Finished, rec.Err = Abandoned, now, LapsedErr(rec.Instance)
	m.appendLocked(s, rec, now)
}

// Renew implements Ledger.
func (m *Memory) Renew(ctx context.Context, r ClaimRequest) (ok bool, err error) {
	if err := r.Validate(); err != nil {
		return false, err
	}
	err = m.locked(ctx, r.Schedule, func(s *memSchedule, now time.Time) error {
		c := &s.claim
		if c.live(now) && c.owner == r.Owner && c.tick.Equal(r.Tick) && c.manual == r.Manual && c.req == r.Request {
			c.until, ok = now.Add(r.TTL), true
		}
		return nil
	})
	return ok, err
}

// Finish implements Ledger.
func (m *Memory) Finish(ctx context.Context, r ClaimRequest) error {
	return m.end(ctx, r, true)
}

// Release implements Ledger.
func (m *Memory) Release(ctx context.Context, r ClaimRequest) error {
	return m.end(ctx, r, false)
}

func (m *Memory) end(ctx context.Context, r ClaimRequest, done bool) error {
	return m.locked(ctx, r.Schedule, func(s *memSchedule, _ time.Time) error {
		if done && !r.Manual && r.Tick.After(s.done) {
			s.done = r.Tick
		}
		if done && r.Manual && r.Request != "" {
			delete(s.reqs, r.Request)
		}
		c := &s.claim
		if r.Owner != "" && c.owner == r.Owner && c.tick.Equal(r.Tick) && c.manual == r.Manual && c.req == r.Request {
			c.owner, c.until = "", time.Time{}
			if c.waited {
				c.waited = false
				m.pushLocked(Request{Schedule: r.Schedule})
			}
		}
		return nil
	})
}

// Put implements Ledger.
func (m *Memory) Put(ctx context.Context, r Record) error {
	if err := r.Validate(); err != nil {
		return err
	}
	return m.locked(ctx, r.Schedule, func(s *memSchedule, now time.Time) error {
		if r.Outcome == Running {
			s.running = &r
			return nil
		}
		if s.running != nil && SameRun(*s.running, r) {
			s.running = nil
		}
		if c := &s.claim; c.tick.Equal(r.Tick) && c.manual == r.Manual && c.attempt == r.Attempt {
			c.final = true
		}
		m.appendLocked(s, r, now)
		return nil
	})
}

// appendLocked adds a final record, keeping the newest m.history within
// m.maxAge.
func (m *Memory) appendLocked(s *memSchedule, r Record, now time.Time) {
	s.runs = append([]Record{r}, s.runs...)
	if len(s.runs) > m.history {
		s.runs = s.runs[:m.history]
	}
	for len(s.runs) > 0 && Expired(s.runs[len(s.runs)-1], now, m.maxAge) {
		s.runs = s.runs[:len(s.runs)-1]
	}
	l := r
	s.last = &l
}

// Runs implements Ledger.
func (m *Memory) Runs(ctx context.Context, name string, limit int) (out []Record, err error) {
	if err := ValidateLimit(name, limit); err != nil {
		return nil, err
	}
	err = m.locked(ctx, name, func(s *memSchedule, now time.Time) error {
		m.abandonLocked(s, now)
		if s.running != nil {
			out = append(out, *s.running)
		}
		for _, r := range s.runs {
			if !Expired(r, now, m.maxAge) {
				out = append(out, r)
			}
		}
		return nil
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, err
}

// RequestRun implements Ledger.
func (m *Memory) RequestRun(ctx context.Context, name string) (req Request, err error) {
	err = m.locked(ctx, name, func(s *memSchedule, now time.Time) error {
		for id, at := range s.reqs {
			if now.Sub(at) > RequestTTL {
				delete(s.reqs, id)
			}
		}
		if len(s.reqs) >= MaxPendingRequests {
			return fmt.Errorf("%w: %q has %d", ErrTooManyRequests, name, len(s.reqs))
		}
		req = Request{Schedule: name, ID: rand.Text(), At: now}
		s.reqs[req.ID] = now
		m.pushLocked(req)
		return nil
	})
	return req, err
}

// pushLocked delivers r to every subscriber that has room. m.mu is held.
func (m *Memory) pushLocked(r Request) {
	for ch := range m.subs {
		select {
		case ch <- r:
		default: // a slow subscriber falls back to PendingRequests
		}
	}
}

// TakeRequest implements Ledger.
func (m *Memory) TakeRequest(ctx context.Context, name, id string) (took bool, err error) {
	err = m.locked(ctx, name, func(s *memSchedule, now time.Time) error {
		at, ok := s.reqs[id]
		delete(s.reqs, id)
		took = ok && now.Sub(at) <= RequestTTL
		return nil
	})
	return took, err
}

// PendingRequests implements Ledger.
func (m *Memory) PendingRequests(ctx context.Context, name string) (out []Request, err error) {
	err = m.locked(ctx, name, func(s *memSchedule, now time.Time) error {
		for id, at := range s.reqs {
			if now.Sub(at) <= RequestTTL {
				out = append(out, Request{Schedule: name, ID: id, At: at})
			}
		}
		return nil
	})
	SortRequests(out)
	return out, err
}

// SortRequests orders requests oldest first (then by id).
func SortRequests(rs []Request) {
	slices.SortFunc(rs, func(a, b Request) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
}

// Subscribe implements Ledger. The channel is closed when ctx ends.
func (m *Memory) Subscribe(ctx context.Context) (<-chan Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan Request, 64)
	m.mu.Lock()
	m.subs[ch] = struct{}{}
	m.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(m.subs, ch)
		close(ch)
	})
	return ch, nil
}

// Beat implements Ledger.
func (m *Memory) Beat(ctx context.Context, instance string, ttl time.Duration) error {
	_, err := m.heartbeat(ctx, instance, ttl, nil, false)
	return err
}

// Heartbeat implements Ledger.
func (m *Memory) Heartbeat(ctx context.Context, instance string, ttl time.Duration, schedules []string) error {
	_, err := m.heartbeat(ctx, instance, ttl, schedules, true)
	return err
}

// HeartbeatListed implements Rejoiner.
func (m *Memory) HeartbeatListed(ctx context.Context, instance string, ttl time.Duration, schedules []string) (bool, error) {
	return m.heartbeat(ctx, instance, ttl, schedules, true)
}

func (m *Memory) heartbeat(ctx context.Context, instance string, ttl time.Duration, schedules []string, replace bool) (wasListed bool, err error) {
	if err := ValidateHeartbeat(instance, ttl, schedules); err != nil {
		return false, err
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	for id, in := range m.instances {
		if !now.Before(in.expires) {
			delete(m.instances, id)
		}
	}
	in, wasListed := m.instances[instance]
	in.expires = now.Add(ttl)
	if replace {
		in.scheds = SortedNames(schedules)
	}
	m.instances[instance] = in
	return wasListed, nil
}

// Leave implements Ledger.
func (m *Memory) Leave(ctx context.Context, instance string) error {
	if instance == "" {
		return fmt.Errorf("%w: leave of an empty instance id", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.instances, instance)
	return nil
}

// Instances implements Ledger.
func (m *Memory) Instances(ctx context.Context) ([]Instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	var out []Instance
	for id, in := range m.instances {
		if now.Before(in.expires) {
			out = append(out, Instance{ID: id, Expires: in.expires, Schedules: slices.Clone(in.scheds)})
		}
	}
	slices.SortFunc(out, func(a, b Instance) int { return cmpString(a.ID, b.ID) })
	return out, nil
}
