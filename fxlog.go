package beignet

import (
	"strings"

	"go.uber.org/dig"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// fxLogger sends fx's own events to the app's logger. fx narrates every
// constructor, and wraps a failure in the chain of constructors that led to
// it, with file paths: all of that is debug output. A failed start is one
// line at Error that says what is wrong, the root cause, such as
// "redislocks: bad configuration: REDIS_LOCKS_URL=...".
type fxLogger struct {
	log   *zap.Logger
	debug *fxevent.ZapLogger
}

func newFxLogger(l *zap.Logger) fxevent.Logger {
	zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
	zl.UseLogLevel(zapcore.DebugLevel)
	zl.UseErrorLevel(zapcore.DebugLevel)
	return &fxLogger{log: l, debug: zl}
}

// LogEvent implements fxevent.Logger.
func (l *fxLogger) LogEvent(e fxevent.Event) {
	l.debug.LogEvent(e)
	if s, ok := e.(*fxevent.Started); ok && s.Err != nil {
		l.log.Error(startError(s.Err))
	}
}

// startError is the one line a failed start prints: the root cause, and
// for a dependency nothing provides, what to do about it, since dig's own
// context (which constructor wanted it) is the chain trimmed away, and for
// ScheduleWith and DrainWith names only a reflect stub.
func startError(err error) string {
	msg := dig.RootCause(err).Error()
	if strings.HasPrefix(msg, "missing type") {
		msg += " (nothing in the app provides it: add an fx.Provide for it to the app's providers; a ScheduleWith or DrainWith constructor's parameters come from there)"
	}
	return "cannot start: " + msg
}
