package beignet

import (
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
		l.log.Error("cannot start: " + dig.RootCause(s.Err).Error())
	}
}
