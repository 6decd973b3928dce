package redislocks

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// wakeups multiplexes every waiter of one Locks onto shared subscriptions:
// one pub/sub connection for any number of waiting keys, or on a Redis 7
// Cluster one sharded (SSUBSCRIBE) connection per master that serves a
// waiting key. A release publishes on its key's channel; only that key's
// waiters are woken. A connection exists only while someone waits on it.
//
// Delivery is not guaranteed, so waiters keep a timer at the holder's
// expiry as the fallback. After a lost connection go-redis resubscribes;
// every waiter is woken then, once, to retry, so no release between the
// loss and the resubscription is missed.
type wakeups struct {
	client redis.UniversalClient

	mu      sync.Mutex
	mode    string            // "" until known, then waitPlain or waitSharded
	shards  map[string]*shard // by master address ("" when not sharded)
	backoff time.Duration     // before retrying a failed connection
}

// Flags the acquire script stores with a held lease for its release: "a
// waiter is subscribed, publish" (plain or sharded).
const (
	waitPlain   = "1"
	waitSharded = "s"
)

// shard is one pub/sub connection and the channels it serves.
type shard struct {
	ps      *redis.PubSub
	sharded bool
	chans   map[string]*channel
	closed  bool
}

// channel is one key's release channel on a shard.
type channel struct {
	watchers map[*watch]struct{}
	// pending counts subscribe confirmations still due; a waiter may trust
	// that a release will reach it only once it is zero.
	pending int
}

// watch is one waiter's registration.
type watch struct {
	name  string
	shard *shard
	// wake receives (without blocking the dispatcher) when the channel
	// is confirmed, a release is published, or the connection was lost.
	wake chan struct{}
	// moved is set when the key's slot moved to another master: the
	// waiter must watch again, where the key now lives.
	moved bool
	ready bool
}

func newWakeups(c redis.UniversalClient) *wakeups {
	return &wakeups{client: c, shards: map[string]*shard{}, backoff: 10 * time.Millisecond}
}

// flag says how this Locks's waiters subscribe, so the release script
// publishes the way they listen: SPUBLISH keeps a wake-up on its slot's
// shard on a Redis 7 Cluster, where PUBLISH is broadcast to every node.
func (w *wakeups) flag(ctx context.Context) (string, error) {
	w.mu.Lock()
	mode := w.mode
	w.mu.Unlock()
	if mode != "" {
		return mode, nil
	}
	mode = waitPlain
	if cc, ok := w.client.(*redis.ClusterClient); ok {
		info, err := cc.Info(ctx, "server").Result()
		if err != nil {
			return "", err
		}
		if major(info) >= 7 {
			mode = waitSharded
		}
	}
	w.mu.Lock()
	w.mode = mode
	w.mu.Unlock()
	return mode, nil
}

// major reads redis_version's major number from INFO server.
func major(info string) int {
	_, v, ok := strings.Cut(info, "redis_version:")
	if !ok {
		return 0
	}
	n := 0
	for _, r := range v {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}

// watch registers a waiter on channel name. The waiter must call unwatch.
func (w *wakeups) watch(ctx context.Context, name string) (*watch, error) {
	mode, err := w.flag(ctx)
	if err != nil {
		return nil, err
	}
	addr, node := "", redis.UniversalClient(w.client)
	if mode == waitSharded {
		n, err := w.client.(*redis.ClusterClient).MasterForKey(ctx, name)
		if err != nil {
			return nil, err
		}
		addr, node = n.Options().Addr, n
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.shards[addr]
	if s == nil {
		s = &shard{sharded: mode == waitSharded, chans: map[string]*channel{}}
		if s.sharded {
			s.ps = node.(*redis.Client).SSubscribe(context.WithoutCancel(ctx))
		} else {
			s.ps = node.Subscribe(context.WithoutCancel(ctx))
		}
		w.shards[addr] = s
		go w.receive(addr, s)
	}
	ch := s.chans[name]
	if ch == nil || len(ch.watchers) == 0 {
		if ch == nil {
			ch = &channel{watchers: map[*watch]struct{}{}}
			s.chans[name] = ch
		}
		if err := s.subscribe(ctx, name); err != nil {
			if len(ch.watchers) == 0 && ch.pending == 0 {
				delete(s.chans, name)
			}
			w.closeIfIdle(addr, s)
			return nil, err
		}
		ch.pending++
	}
	wt := &watch{name: name, shard: s, wake: make(chan struct{}, 1), ready: ch.pending == 0}
	ch.watchers[wt] = struct{}{}
	return wt, nil
}

// unwatch ends a registration; the last waiter of a channel unsubscribes,
// and the last of a shard closes its connection.
func (w *wakeups) unwatch(wt *watch) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := wt.shard
	// The channel is gone already when its slot moved away.
	if ch := s.chans[wt.name]; ch != nil {
		delete(ch.watchers, wt)
		if len(ch.watchers) > 0 {
			return
		}
		if !s.closed {
			_ = s.unsubscribe(context.Background(), wt.name)
		}
		if ch.pending == 0 {
			delete(s.chans, wt.name)
		}
	}
	for addr, x := range w.shards {
		if x == s {
			w.closeIfIdle(addr, s)
		}
	}
}

// closeIfIdle closes s once no channel on it has a waiter.
func (w *wakeups) closeIfIdle(addr string, s *shard) {
	for _, ch := range s.chans {
		if len(ch.watchers) > 0 {
			return
		}
	}
	if !s.closed {
		s.closed = true
		if w.shards[addr] == s {
			delete(w.shards, addr)
		}
		_ = s.ps.Close()
	}
}

func (s *shard) subscribe(ctx context.Context, name string) error {
	if s.sharded {
		return s.ps.SSubscribe(ctx, name)
	}
	return s.ps.Subscribe(ctx, name)
}

func (s *shard) unsubscribe(ctx context.Context, name string) error {
	if s.sharded {
		return s.ps.SUnsubscribe(ctx, name)
	}
	return s.ps.Unsubscribe(ctx, name)
}

// receive dispatches s's messages until s is closed.
func (w *wakeups) receive(addr string, s *shard) {
	for {
		msg, err := s.ps.Receive(context.Background())
		w.mu.Lock()
		if s.closed {
			w.mu.Unlock()
			return
		}
		if err != nil {
			w.lost(addr, s, err)
			closed := s.closed
			w.mu.Unlock()
			if closed {
				return
			}
			// go-redis reconnects and resubscribes in the next Receive;
			// pause so a server that is down is not dialled in a loop.
			<-time.After(w.backoff)
			continue
		}
		switch m := msg.(type) {
		case *redis.Message:
			if ch := s.chans[m.Channel]; ch != nil {
				ch.wakeAll()
			}
		case *redis.Subscription:
			w.confirmed(s, m)
		}
		w.mu.Unlock()
	}
}

// confirmed handles a (un)subscribe reply.
func (w *wakeups) confirmed(s *shard, m *redis.Subscription) {
	ch := s.chans[m.Channel]
	if ch == nil {
		return
	}
	switch m.Kind {
	case "subscribe", "ssubscribe":
		if ch.pending > 0 {
			ch.pending--
		}
		if ch.pending > 0 {
			return
		}
		if len(ch.watchers) == 0 {
			delete(s.chans, m.Channel)
			return
		}
		for wt := range ch.watchers {
			wt.ready = true
		}
		ch.wakeAll()
	case "sunsubscribe":
		if len(ch.watchers) == 0 {
			return
		}
		// Unasked: the slot moved to another master. Its waiters move
		// with it; go-redis must forget the channel, or it would
		// resubscribe it here after a reconnect.
		_ = s.ps.SUnsubscribe(context.Background(), m.Channel)
		delete(s.chans, m.Channel)
		for wt := range ch.watchers {
			wt.moved = true
		}
		ch.wakeAll()
	}
}

// lost handles a failed Receive. A connection error means go-redis will
// resubscribe every channel it knows, once, so each waiter is woken to
// retry and becomes ready again with that confirmation. A Redis error reply
// (a MOVED for an SSUBSCRIBE sent to a master that no longer serves the
// slot) names no channel, so the whole shard is closed and every waiter on
// it looks up its key's master again.
func (w *wakeups) lost(addr string, s *shard, err error) {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		if cc, ok := w.client.(*redis.ClusterClient); ok {
			// The slot map is stale; refresh it (in the background)
			// before the waiters look up their masters again.
			cc.ReloadState(context.Background())
		}
		for _, ch := range s.chans {
			for wt := range ch.watchers {
				wt.moved = true
			}
			ch.wakeAll()
		}
		s.closed = true
		if w.shards[addr] == s {
			delete(w.shards, addr)
		}
		_ = s.ps.Close()
		return
	}
	for name, ch := range s.chans {
		if len(ch.watchers) == 0 {
			delete(s.chans, name)
			continue
		}
		for wt := range ch.watchers {
			wt.ready = false
		}
		ch.pending = 1
		ch.wakeAll()
	}
}

func (ch *channel) wakeAll() {
	for wt := range ch.watchers {
		select {
		case wt.wake <- struct{}{}:
		default:
		}
	}
}

// state reads a registration's flags.
func (w *wakeups) state(wt *watch) (ready, moved bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return wt.ready, wt.moved
}
