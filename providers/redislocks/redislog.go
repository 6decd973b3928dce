package redislocks

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// go-redis has one logger for the whole process (redis.SetLogger), which by
// default prints raw "redis: pool.go:770 ..." lines to stderr, outside the
// app's log format. Provider routes those lines to the zap logger of the
// app that runs it. Because go-redis's logger is process-wide, so is this
// router: each running app adds its logger on start and removes it on stop,
// and lines go to the one started last, or, with no app running, to stderr
// as go-redis would print them.
var redisLog = &logRouter{fallback: log.New(os.Stderr, "redis: ", log.LstdFlags)}

// installRedisLog makes redisLog go-redis's logger, once per process.
var installRedisLog = sync.OnceFunc(func() { redis.SetLogger(redisLog) })

// logRouter sends go-redis's log lines to the latest running app's logger.
type logRouter struct {
	fallback *log.Logger

	mu         sync.Mutex // held while logging, so remove waits for a line in flight
	logs       []*zap.Logger
	connecting int // connect loops running now
}

// add routes lines to l until the returned function is called.
func (r *logRouter) add(l *zap.Logger) (remove func()) {
	installRedisLog()
	l = l.Named("go-redis")
	r.mu.Lock()
	r.logs = append(r.logs, l)
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, x := range r.logs {
			if x == l {
				r.logs = append(r.logs[:i], r.logs[i+1:]...)
				break
			}
		}
	}
}

// Printf implements go-redis's internal Logging.
func (r *logRouter) Printf(c context.Context, format string, v ...any) {
	msg := strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: ")
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.logs) == 0 {
		r.fallback.Print(msg)
		return
	}
	level := zapcore.WarnLevel
	if r.connecting > 0 {
		level = zapcore.DebugLevel
	}
	r.logs[len(r.logs)-1].Log(level, msg)
}

// quiet makes go-redis's lines Debug until the returned function is called:
// while a connect loop runs, its own error reports the outcome once, and
// go-redis's line for each failed dial would only repeat it. (go-redis
// does not pass the caller's context to its dial logs, so the lines cannot
// be told apart by caller.)
func (r *logRouter) quiet() (done func()) {
	r.mu.Lock()
	r.connecting++
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.connecting--
		r.mu.Unlock()
	}
}
