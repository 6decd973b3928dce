package locks

import (
	"fmt"
	"time"
)

// Input limits. They keep a hostile or buggy caller from storing unbounded
// data in a shared backend.
const (
	// MaxKeyBytes is the longest key accepted.
	MaxKeyBytes = 1024
	// MaxMetadataEntries is the most metadata entries accepted.
	MaxMetadataEntries = 64
	// MaxMetadataBytes is the largest total size (keys plus values) of
	// metadata accepted.
	MaxMetadataBytes = 8 * 1024
)

// ValidateKey reports why key cannot be used, or nil. Adapters call it before
// touching their backend.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	}
	if len(key) > MaxKeyBytes {
		return fmt.Errorf("%w: key %.32q... is %d bytes, over the %d-byte limit", ErrInvalidKey, key, len(key), MaxKeyBytes)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == 0x7f {
			return fmt.Errorf("%w: key %q has control character %#x at byte %d", ErrInvalidKey, key, c, i)
		}
	}
	return nil
}

// ValidateTTL reports why ttl cannot be used as a lease TTL, or nil.
func ValidateTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("%w: ttl %v must be > 0", ErrInvalidTTL, ttl)
	}
	if ttl > MaxTTL {
		return fmt.Errorf("%w: ttl %v is over the limit of %v (locks.MaxTTL)", ErrInvalidTTL, ttl, MaxTTL)
	}
	return nil
}

// Validate reports the first problem with o, or nil.
func (o Options) Validate() error {
	if err := ValidateTTL(o.TTL); err != nil {
		return err
	}
	if o.Wait < 0 {
		return fmt.Errorf("%w: wait %v must be >= 0", ErrInvalidWait, o.Wait)
	}
	if o.Wait > MaxWait {
		return fmt.Errorf("%w: wait %v is over the limit of %v (locks.MaxWait)", ErrInvalidWait, o.Wait, MaxWait)
	}
	if len(o.Metadata) > MaxMetadataEntries {
		return fmt.Errorf("%w: %d entries, over the limit of %d", ErrInvalidMetadata, len(o.Metadata), MaxMetadataEntries)
	}
	size := 0
	for k, v := range o.Metadata {
		size += len(k) + len(v)
	}
	if size > MaxMetadataBytes {
		return fmt.Errorf("%w: %d bytes, over the limit of %d", ErrInvalidMetadata, size, MaxMetadataBytes)
	}
	return nil
}

// Validate checks a key and its options together, as every adapter's Acquire
// must before touching its backend.
func Validate(key string, o Options) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("key %q: %w", key, err)
	}
	return nil
}

// TTLValidator is implemented by adapters that accept fewer TTLs than
// ValidateTTL does (Redis refuses TTLs under its safety margins), so that
// code which stores a TTL for later (a schedule's lease) can refuse it once,
// up front, instead of on every use.
type TTLValidator interface {
	// ValidateTTL reports why ttl cannot be used as a lease TTL on this
	// backend, or nil. Its errors wrap ErrInvalidTTL.
	ValidateTTL(ttl time.Duration) error
}

// ValidateTTLFor checks ttl with ValidateTTL and then with l's own bounds,
// if l (or an adapter it decorates, found through an Unwrap() Locks method)
// is a TTLValidator.
func ValidateTTLFor(l Locks, ttl time.Duration) error {
	if err := ValidateTTL(ttl); err != nil {
		return err
	}
	for l != nil {
		if v, ok := l.(TTLValidator); ok {
			return v.ValidateTTL(ttl)
		}
		u, ok := l.(interface{ Unwrap() Locks })
		if !ok {
			return nil
		}
		l = u.Unwrap()
	}
	return nil
}
