package locks

import (
	"cmp"
	"context"
	"slices"
)

// Lister is implemented by backends that can list every live lease, for
// operators (the beignet CLI and the admin page).
type Lister interface {
	// List returns the live leases whose keys match pattern, sorted by
	// key. The pattern is a glob as Redis's MATCH reads it: * matches any
	// run of bytes, ? one byte, [abc], [a-z] and [^a] one byte of a set,
	// and \ makes the next byte literal. "" matches every key.
	List(ctx context.Context, pattern string) ([]LeaseInfo, error)
}

var _ Lister = (*Memory)(nil)

// List implements Lister.
func (m *Memory) List(ctx context.Context, pattern string) ([]LeaseInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	g := compileGlob(pattern)
	var out []LeaseInfo
	for k, info := range m.Leases() {
		if g.match(k) {
			out = append(out, info)
		}
	}
	SortLeases(out)
	return out, nil
}

// SortLeases orders leases by key, as List returns them.
func SortLeases(ls []LeaseInfo) {
	slices.SortFunc(ls, func(a, b LeaseInfo) int { return cmp.Compare(a.Key, b.Key) })
}
