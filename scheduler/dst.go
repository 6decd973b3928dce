package scheduler

import (
	"time"

	"github.com/robfig/cron/v3"
)

// wallClock is a cron schedule read in a zone with daylight saving time,
// with one policy for the transitions, the same on every instance:
//
//   - a wall-clock time in the repeated autumn hour runs once, at its first
//     occurrence;
//   - ticks that fall in the skipped spring hour run once, at the
//     transition (03:00 in America/New_York, where 02:30 does not exist);
//   - no tick runs twice.
//
// robfig's schedule alone skips the spring ticks and runs the autumn ones
// twice.
type wallClock struct{ spec *cron.SpecSchedule }

// Location is the zone the spec is read in.
func (w wallClock) Location() *time.Location { return w.spec.Location }

// Next implements cron.Schedule.
func (w wallClock) Next(t time.Time) time.Time {
	for {
		n := w.spec.Next(t)
		if n.IsZero() {
			return n
		}
		start, _ := n.In(w.spec.Location).ZoneBounds()
		if start.IsZero() {
			return n
		}
		_, before := start.Add(-time.Nanosecond).In(w.spec.Location).Zone()
		_, after := start.In(w.spec.Location).Zone()
		shift := time.Duration(after-before) * time.Second
		switch {
		case shift < 0 && n.Before(start.Add(-shift)):
			// Autumn: n's wall-clock time already occurred an hour ago.
			t = n
			continue
		case shift > 0 && start.After(t) && w.inGap(start, before, shift):
			// Spring: a tick's wall-clock time between t and n did not
			// exist.
			return start
		}
		return n
	}
}

// inGap reports whether the spec has a tick among the wall-clock times
// skipped when the offset moved forward by shift at start, from before.
func (w wallClock) inGap(start time.Time, before int, shift time.Duration) bool {
	old := *w.spec
	old.Location = time.FixedZone("", before)
	m := old.Next(start.Add(-time.Nanosecond))
	return !m.IsZero() && m.Before(start.Add(shift))
}
