package beignettest

import (
	"bytes"
	"runtime"
	"strconv"
	"time"
)

// quiet reports whether no goroutine of the process, other than the
// caller, is running or ready to run: each is waiting on a channel, a lock,
// I/O, a real timer or a signal. Work that is in flight then waits for
// something that only moving the fake clock (or the outside world) can
// bring: a handler blocked on its ctx until its Timeout, on Clock.Sleep or
// After, on a lease's Wait.
//
// It reads the goroutine states from runtime.Stack, which stops the world,
// so the states it sees are one consistent snapshot.
func quiet(replies replyWaits) bool {
	self := goid()
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	// Every goroutine is looked at, even once one is found busy, so that
	// each reply wait's start is remembered from its first sighting.
	now := time.Now()
	waiting := make(map[uint64]bool)
	still := true
	for len(buf) > 0 {
		var g []byte
		g, buf, _ = bytes.Cut(buf, []byte("\n\n"))
		id, state, ok := header(g)
		if !ok || id == self {
			continue
		}
		if state == "IO wait" && awaitsRedisReply(g) {
			waiting[id] = true
			if replies.since(id, now) < replyPatience {
				still = false
			}
			continue
		}
		if active(state, g) {
			still = false
		}
	}
	replies.keep(waiting)
	return still
}

// replyPatience is how long a go-redis command's wait for its reply counts
// as work in flight. A reply comes within a round trip, and until it does
// the run waiting on it is not blocked on the clock; but a blocking command
// (a handler's BLPOP with no timeout) waits for the outside world, and
// Advance must then treat it as any other blocked work rather than fail
// after its patience.
const replyPatience = time.Second

// replyWaits remembers since when (in real time) each goroutine has been
// seen waiting for a go-redis reply, across the looks of one Advance.
type replyWaits map[uint64]time.Time

// since returns how long id has been seen waiting, noting it if new.
func (r replyWaits) since(id uint64, now time.Time) time.Duration {
	first, ok := r[id]
	if !ok {
		r[id] = now
		return 0
	}
	return now.Sub(first)
}

// keep forgets the goroutines no longer waiting: the next wait of the same
// goroutine is a new command.
func (r replyWaits) keep(waiting map[uint64]bool) {
	for id := range r {
		if !waiting[id] {
			delete(r, id)
		}
	}
}

// active reports whether a goroutine in state can run without anyone
// else acting: it runs, is ready to, or is inside a system call. Two
// system calls wait on the outside world and so do not count: the signal
// loop's wait, which lasts until a signal comes, and a wait for a child
// process to exit (a test's private redis-server or postgres lives as long
// as the test process), which would otherwise make every test with such a
// server look busy forever.
func active(state string, stack []byte) bool {
	switch state {
	case "running", "runnable", "preempted", "copystack":
		return true
	case "syscall":
		return !bytes.Contains(stack, []byte("os/signal.signal_recv")) &&
			!bytes.Contains(stack, []byte("os.(*Process).wait("))
	}
	return false
}

// awaitsRedisReply reports whether a goroutine waiting on the network is a
// go-redis command or pipeline waiting for its reply. The reply comes by
// itself, within a round trip, and the work waiting on it (a ledger record,
// a lease) is not blocked on the clock: counting it as quiet let Advance
// move the clock under a Redis-backed run before Redis had answered, which
// under CPU load made tests on a Redis ledger flaky. So it counts as busy,
// for up to replyPatience. Other network waits stay quiet: a pub/sub
// subscription (go-redis's PubSub has its own connection, outside these
// frames), a listener, an idle keep-alive.
func awaitsRedisReply(stack []byte) bool {
	return bytes.Contains(stack, []byte("github.com/redis/go-redis/v9.(*baseClient).withConn(")) ||
		bytes.Contains(stack, []byte("github.com/redis/go-redis/v9.(*baseClient).withPipelineConn("))
}

// header parses "goroutine 18 [chan receive, 2 minutes]:" into 18 and
// "chan receive".
func header(g []byte) (id uint64, state string, ok bool) {
	line, _, _ := bytes.Cut(g, []byte("\n"))
	rest, found := bytes.CutPrefix(line, []byte("goroutine "))
	if !found {
		return 0, "", false
	}
	num, _, _ := bytes.Cut(rest, []byte(" "))
	_, rest, found = bytes.Cut(rest, []byte("["))
	if !found {
		return 0, "", false
	}
	id, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return 0, "", false
	}
	st, _, _ := bytes.Cut(rest, []byte("]"))
	st, _, _ = bytes.Cut(st, []byte(","))
	return id, string(st), true
}

// goid is the calling goroutine's id.
func goid() uint64 {
	var b [64]byte
	id, _, _ := header(b[:runtime.Stack(b[:], false)])
	return id
}
