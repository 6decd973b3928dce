package beignet

import (
	"errors"
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ErrConfig is wrapped by every error about a malformed Beignet setting;
// the message names the variable and echoes its value.
var ErrConfig = errors.New("beignet: bad configuration")

// Environment variables read by New.
const (
	// EnvLogFormat is json or console (default console).
	EnvLogFormat = "BEIGNET_LOG_FORMAT"
	// EnvLogLevel is debug, info, warn or error (default info).
	EnvLogLevel = "BEIGNET_LOG_LEVEL"
	// EnvRequireSharedLocks, when true, makes start-up fail unless a
	// provider contributes shared locks (such as redislocks.Provider),
	// instead of falling back to in-process memory locks.
	EnvRequireSharedLocks = "BEIGNET_REQUIRE_SHARED_LOCKS"
)

// NewLogger builds the app's logger from the environment:
// BEIGNET_LOG_FORMAT=json|console (default console, one readable line per
// event) and BEIGNET_LOG_LEVEL=debug|info|warn|error (default info).
func NewLogger() (*zap.Logger, error) {
	level := zapcore.InfoLevel
	if s := os.Getenv(EnvLogLevel); s != "" {
		if err := level.Set(s); err != nil {
			return nil, fmt.Errorf("%w: %s=%q: want debug, info, warn or error", ErrConfig, EnvLogLevel, s)
		}
	}
	var cfg zap.Config
	switch f := os.Getenv(EnvLogFormat); f {
	case "", "console":
		cfg = consoleConfig()
	case "json":
		cfg = zap.NewProductionConfig()
		// Readable instants, also for zap.Time fields such as a run's tick.
		cfg.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	default:
		return nil, fmt.Errorf("%w: %s=%q: want json or console", ErrConfig, EnvLogFormat, f)
	}
	cfg.Level = zap.NewAtomicLevelAt(level)
	return cfg.Build()
}

func consoleConfig() zap.Config {
	cfg := zap.NewDevelopmentConfig()
	cfg.Development = false
	cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	cfg.DisableStacktrace = true
	cfg.DisableCaller = true
	cfg.Level = zap.NewAtomicLevelAt(zapcore.InfoLevel)
	return cfg
}

// fallbackLogger is the logger that reports a bad logging configuration:
// the default console format.
func fallbackLogger() *zap.Logger {
	l, err := consoleConfig().Build()
	if err != nil {
		return zap.NewNop()
	}
	return l
}
