package beignet

import (
	"fmt"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds the app's logger from the environment:
// BEIGNET_LOG_FORMAT=json|console (default console, one readable line per
// event) and BEIGNET_LOG_LEVEL=debug|info|warn|error (default info).
func NewLogger() (*zap.Logger, error) {
	level := zapcore.InfoLevel
	if s := os.Getenv("BEIGNET_LOG_LEVEL"); s != "" {
		if err := level.Set(s); err != nil {
			return nil, fmt.Errorf("beignet: BEIGNET_LOG_LEVEL=%q: %w", s, err)
		}
	}
	var cfg zap.Config
	switch f := os.Getenv("BEIGNET_LOG_FORMAT"); f {
	case "", "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.Development = false
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
		cfg.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
		cfg.DisableStacktrace = true
		cfg.DisableCaller = true
	case "json":
		cfg = zap.NewProductionConfig()
		// Readable instants, also for zap.Time fields such as a run's tick.
		cfg.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	default:
		return nil, fmt.Errorf("beignet: BEIGNET_LOG_FORMAT=%q: want json or console", f)
	}
	cfg.Level = zap.NewAtomicLevelAt(level)
	return cfg.Build()
}
