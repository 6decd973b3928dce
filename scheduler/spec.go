package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ErrInvalidSpec is wrapped by every error about a cron spec.
var ErrInvalidSpec = errors.New("scheduler: invalid spec")

// parser accepts 5 fields, 6 with leading seconds, descriptors (@daily,
// @every 30s) and CRON_TZ= / TZ= prefixes.
var parser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSpec parses a cron spec into a schedule whose ticks every instance
// computes identically. Specs without a time zone prefix use loc (nil:
// UTC, never the process's time.Local, which instances may disagree on). A spec
// with no tick in the five years after the wall clock's now is refused; see
// ParseSpecAt to check from another time.
func ParseSpec(spec string, loc *time.Location) (cron.Schedule, error) {
	return ParseSpecAt(spec, loc, time.Now())
}

// ParseSpecAt is ParseSpec checked from now instead of the wall clock: the
// spec is refused if it has no tick in the five years after now (the
// furthest cron's Next looks). The scheduler passes Ports.Clock's time, so
// tests on a fake clock see what production would at that date.
func ParseSpecAt(spec string, loc *time.Location, now time.Time) (cron.Schedule, error) {
	s, err := parse(spec)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidSpec, spec, err)
	}
	switch s := s.(type) {
	case *cron.SpecSchedule:
		if !hasTZ(spec) {
			if loc == nil {
				loc = time.UTC
			}
			s.Location = loc
		}
		w := wallClock{spec: s}
		if w.Next(now).IsZero() {
			return nil, fmt.Errorf("%w %q: no tick in the five years after %v", ErrInvalidSpec, spec, now)
		}
		return w, nil
	case cron.ConstantDelaySchedule:
		// robfig's @every counts from whenever Next is called, so two
		// instances started a moment apart would disagree on every tick.
		// Aligning to multiples of the delay gives all of them the same
		// ticks.
		return aligned{every: s.Delay}, nil
	}
	if next := s.Next(now); next.IsZero() {
		return nil, fmt.Errorf("%w %q: no tick in the five years after %v", ErrInvalidSpec, spec, now)
	}
	return s, nil
}

func hasTZ(spec string) bool {
	return strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=")
}

// parse calls robfig's parser, which panics on some malformed input (a
// TZ= prefix with nothing after it); user input must never panic.
func parse(spec string) (s cron.Schedule, err error) {
	if hasTZ(spec) && !strings.Contains(strings.TrimSpace(spec), " ") {
		return nil, errors.New("a time zone prefix needs a schedule after it")
	}
	defer func() {
		if p := recover(); p != nil {
			s, err = nil, fmt.Errorf("unparseable (%v)", p)
		}
	}()
	return parser.Parse(spec)
}

// aligned fires at every multiple of every (since the zero time), which is
// the same instant on every instance whatever its start time.
type aligned struct{ every time.Duration }

// Next implements cron.Schedule.
func (a aligned) Next(t time.Time) time.Time { return t.Truncate(a.every).Add(a.every) }

// prev returns the latest tick at or before t, or false if the schedule had
// none within five years.
func prev(s cron.Schedule, t time.Time) (time.Time, bool) {
	for _, back := range []time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour, 32 * 24 * time.Hour, 366 * 24 * time.Hour, 5 * 366 * 24 * time.Hour} {
		tick := s.Next(t.Add(-back))
		if tick.IsZero() || tick.After(t) {
			continue
		}
		for {
			n := s.Next(tick)
			if n.IsZero() || n.After(t) {
				return tick, true
			}
			tick = n
		}
	}
	return time.Time{}, false
}

// minInterval estimates the shortest gap between ticks after t.
func minInterval(s cron.Schedule, t time.Time) time.Duration {
	best := time.Duration(0)
	a := s.Next(t)
	for i := 0; i < 8; i++ {
		b := s.Next(a)
		if b.IsZero() {
			break
		}
		if d := b.Sub(a); best == 0 || d < best {
			best = d
		}
		a = b
	}
	return best
}
