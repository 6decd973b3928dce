package redislocks

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/beignet-go/beignet/locks"
)

// Inspect implements locks.Inspector: who holds key, with what token and
// metadata, and until when (the local clock plus Redis's remaining TTL).
func (l *Locks) Inspect(ctx context.Context, key string) (locks.LeaseInfo, bool, error) {
	if err := locks.ValidateKey(key); err != nil {
		return locks.LeaseInfo{}, false, err
	}
	now := l.clock.Now()
	vals, err := l.batch.run(ctx, inspectScript, []string{l.keysFor(key).lease}).Slice()
	if err != nil {
		return locks.LeaseInfo{}, false, fmt.Errorf("redislocks: inspect %q: %w", key, err)
	}
	if len(vals) == 0 {
		return locks.LeaseInfo{}, false, nil
	}
	info, err := parseLease(key, now, vals)
	if err != nil {
		return locks.LeaseInfo{}, false, fmt.Errorf("redislocks: inspect %q: %w", key, err)
	}
	return info, true, nil
}

// parseLease reads the inspect script's reply: the PTTL, then the hash.
func parseLease(key string, now time.Time, vals []any) (locks.LeaseInfo, error) {
	pttl, ok := vals[0].(int64)
	if !ok || len(vals)%2 != 1 {
		return locks.LeaseInfo{}, fmt.Errorf("unexpected reply %v", vals)
	}
	info := locks.LeaseInfo{Key: key, ExpiresAt: now.Add(time.Duration(pttl) * time.Millisecond)}
	for i := 1; i+1 < len(vals); i += 2 {
		f, _ := vals[i].(string)
		v, _ := vals[i+1].(string)
		switch {
		case f == "token":
			tok, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return locks.LeaseInfo{}, fmt.Errorf("token %q: %w", v, err)
			}
			info.FencingToken = tok
		case f == "at":
			us, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return locks.LeaseInfo{}, fmt.Errorf("acquired-at %q: %w", v, err)
			}
			info.AcquiredAt = time.UnixMicro(us)
		case strings.HasPrefix(f, "md:"):
			if info.Metadata == nil {
				info.Metadata = make(map[string]string)
			}
			info.Metadata[f[len("md:"):]] = v
		}
	}
	return info, nil
}
