package locks

import "errors"

var (
	// ErrNotAcquired is wrapped by WithLease's error when another holder
	// has the key (and Wait, if any, ran out).
	ErrNotAcquired = errors.New("locks: lease not acquired")

	// ErrLeaseLost is the cause of fn's context cancellation in WithLease,
	// and is wrapped by its error, when ownership was lost or could not be
	// confirmed before the trust window ended.
	ErrLeaseLost = errors.New("locks: lease lost")

	// ErrInvalid is wrapped by every bad-input error below, so callers can
	// tell "you asked for something impossible" from "try again later".
	ErrInvalid = errors.New("locks: invalid input")

	// ErrInvalidKey means the key is empty, too long, or contains control
	// characters.
	ErrInvalidKey = wrapInvalid("key")
	// ErrInvalidTTL means a TTL that is not positive, or over MaxTTL.
	ErrInvalidTTL = wrapInvalid("ttl")
	// ErrInvalidWait means a negative Wait, or one over MaxWait.
	ErrInvalidWait = wrapInvalid("wait")
	// ErrInvalidMetadata means metadata beyond the entry or size limits.
	ErrInvalidMetadata = wrapInvalid("metadata")
)

// invalidError is a sentinel that also matches ErrInvalid.
type invalidError struct{ what string }

func wrapInvalid(what string) error { return &invalidError{what} }

// Error implements error.
func (e *invalidError) Error() string { return "locks: invalid " + e.what }

// Is makes every specific invalid-input error match ErrInvalid too.
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }
