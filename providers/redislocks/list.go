package redislocks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/beignet-go/beignet/locks"
)

// listScript reads a lease like inspectScript, but answers {} for a key that
// is not a lease hash: SCAN's MATCH can also meet other keys under the
// prefix, and one of them must not fail the whole listing.
var listScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' or redis.call('HEXISTS', KEYS[1], 'owner') == 0 then return {} end
local h = redis.call('HGETALL', KEYS[1])
table.insert(h, 1, redis.call('PTTL', KEYS[1]))
return h
`)

// scanCount is SCAN's COUNT hint: keys examined per round trip.
const scanCount = 500

// List implements locks.Lister with SCAN (never KEYS, which blocks the
// server) on every primary, then one pipelined read per page of keys.
func (l *Locks) List(ctx context.Context, pattern string) ([]locks.LeaseInfo, error) {
	if pattern == "" {
		pattern = "*"
	}
	open := l.open
	match := escapeGlob(open) + pattern + "}"
	var (
		mu   sync.Mutex
		seen = map[string]bool{} // SCAN may return a key twice
		out  []locks.LeaseInfo
	)
	scan := func(ctx context.Context, node *redis.Client) error {
		if err := listScript.Load(ctx, node).Err(); err != nil {
			return err
		}
		iter := node.Scan(ctx, 0, match, scanCount).Iterator()
		var page []string
		flush := func() error {
			infos, err := l.readLeases(ctx, node, open, page)
			page = page[:0]
			mu.Lock()
			defer mu.Unlock()
			for _, info := range infos {
				if !seen[info.Key] {
					seen[info.Key] = true
					out = append(out, info)
				}
			}
			return err
		}
		for iter.Next(ctx) {
			if page = append(page, iter.Val()); len(page) == scanCount {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	}
	var err error
	switch c := l.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		err = fmt.Errorf("listing needs a *redis.Client or *redis.ClusterClient, not %T", l.client)
	}
	if err != nil {
		return nil, fmt.Errorf("redislocks: list %q: %w", pattern, err)
	}
	locks.SortLeases(out)
	return out, nil
}

// readLeases reads the leases at keys in one pipeline. Keys that expired
// since SCAN saw them, or are not leases, are left out.
func (l *Locks) readLeases(ctx context.Context, node redis.Cmdable, open string, keys []string) ([]locks.LeaseInfo, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	now := l.clock.Now()
	pipe := node.Pipeline()
	cmds := make([]*redis.Cmd, len(keys))
	for i, k := range keys {
		cmds[i] = listScript.EvalSha(ctx, pipe, []string{k})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var out []locks.LeaseInfo
	for i, cmd := range cmds {
		vals, err := cmd.Slice()
		if err != nil {
			return out, err
		}
		if len(vals) == 0 {
			continue
		}
		key := strings.TrimSuffix(strings.TrimPrefix(keys[i], open), "}")
		info, err := parseLease(key, now, vals)
		if err != nil {
			return out, fmt.Errorf("lease %q: %w", key, err)
		}
		out = append(out, info)
	}
	return out, nil
}

// escapeGlob makes s match only itself in a MATCH pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`*?[]\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
