package ledger

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// MaxNameBytes is the longest schedule name a ledger accepts.
const MaxNameBytes = 1024

// ErrTooManyRequests: a schedule already has MaxPendingRequests run-now
// requests waiting to be taken.
var ErrTooManyRequests = errors.New("ledger: too many pending run-now requests")

// ValidateName reports why name cannot name a schedule, or nil.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty schedule name", ErrInvalid)
	}
	if len(name) > MaxNameBytes {
		return fmt.Errorf("%w: schedule name %.32q... is %d bytes, over the %d-byte limit", ErrInvalid, name, len(name), MaxNameBytes)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: schedule name %q has control character %#x at byte %d", ErrInvalid, name, c, i)
		}
	}
	return nil
}

// ValidateHeartbeat reports the first problem with a heartbeat of
// instance for ttl naming schedules, or nil.
func ValidateHeartbeat(instance string, ttl time.Duration, schedules []string) error {
	if instance == "" || ttl <= 0 {
		return fmt.Errorf("%w: heartbeat of instance %q for %v", ErrInvalid, instance, ttl)
	}
	for _, name := range schedules {
		if err := ValidateName(name); err != nil {
			return fmt.Errorf("heartbeat of instance %q: %w", instance, err)
		}
	}
	return nil
}

// SortedNames returns names sorted, without duplicates, in a new slice
// (nil for none): the Schedules of an Instance.
func SortedNames(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// Validate reports the first problem with r, or nil.
func (r ClaimRequest) Validate() error {
	if err := ValidateName(r.Schedule); err != nil {
		return err
	}
	switch {
	case r.Owner == "":
		return fmt.Errorf("%w: claim of %q without an owner", ErrInvalid, r.Schedule)
	case r.TTL <= 0:
		return fmt.Errorf("%w: claim of %q: ttl %v must be > 0", ErrInvalid, r.Schedule, r.TTL)
	case r.Tick.IsZero():
		return fmt.Errorf("%w: claim of %q: zero tick", ErrInvalid, r.Schedule)
	}
	return nil
}

// Validate reports the first problem with r, or nil.
func (r Record) Validate() error {
	if err := ValidateName(r.Schedule); err != nil {
		return err
	}
	switch {
	case r.Outcome == "":
		return fmt.Errorf("%w: record of %q without an outcome", ErrInvalid, r.Schedule)
	case r.Tick.IsZero():
		return fmt.Errorf("%w: record of %q: zero tick", ErrInvalid, r.Schedule)
	case r.Attempt < 0:
		return fmt.Errorf("%w: record of %q: attempt %d must be >= 0", ErrInvalid, r.Schedule, r.Attempt)
	}
	return nil
}

// ValidateLimit reports why limit cannot bound Runs, or nil.
func ValidateLimit(name string, limit int) error {
	if limit < 0 {
		return fmt.Errorf("%w: runs of %q: limit %d must be >= 0", ErrInvalid, name, limit)
	}
	return nil
}

// Unknown returns the error for a schedule that is not registered.
func Unknown(name string) error {
	return fmt.Errorf("ledger: %w %q", ErrUnknownSchedule, name)
}

// SameRun reports whether a and b are records of the same run (schedule,
// tick, manual flag and attempt).
func SameRun(a, b Record) bool {
	return a.Schedule == b.Schedule && a.Tick.Equal(b.Tick) && a.Manual == b.Manual && a.Attempt == b.Attempt
}

// LapsedErr is the Err of the record of a run whose claim lapsed.
func LapsedErr(instance string) string {
	return fmt.Sprintf("instance %q stopped renewing its claim (crashed, stopped or cut off) before the run ended", instance)
}

// Expired reports whether r is older than maxAge at now (by its finish,
// else its start, else its tick), for adapters' retention.
func Expired(r Record, now time.Time, maxAge time.Duration) bool {
	at := r.Finished
	if at.IsZero() {
		at = r.Started
	}
	if at.IsZero() {
		at = r.Tick
	}
	return now.Sub(at) > maxAge
}
