package main

import (
	"context"
	"maps"
	"text/tabwriter"
	"time"

	"github.com/beignet-go/beignet/internal/humanize"
)

var leasesCommand = command{
	name:    "leases",
	args:    "[PATTERN]",
	summary: "every live lease (key glob, e.g. 'schedule:*'): holder, metadata, fencing token, TTL left",
	run:     runLeases,
}

// leaseJSON is one lease in --json output. Field names are stable.
type leaseJSON struct {
	Key          string            `json:"key"`
	Holder       string            `json:"holder"`
	FencingToken uint64            `json:"fencing_token"`
	TTLMillis    int64             `json:"ttl_ms"`
	AcquiredAt   *time.Time        `json:"acquired_at"`
	ExpiresAt    time.Time         `json:"expires_at"`
	Metadata     map[string]string `json:"metadata"`
}

// holderKey is the metadata entry the scheduler and the outbox name their
// instance in.
const holderKey = "instance"

func runLeases(c context.Context, inv *invocation, pos []string) error {
	if len(pos) > 1 {
		return usagef("one pattern at most, got %d arguments", len(pos))
	}
	pattern := ""
	if len(pos) == 1 {
		pattern = pos[0]
	}
	l, rl, err := inv.redis(c)
	if err != nil {
		return err
	}
	defer rl.Client.Close()
	infos, err := l.List(c, pattern)
	if err != nil {
		return err
	}
	now := time.Now()
	doc := struct {
		Leases []leaseJSON `json:"leases"`
	}{Leases: []leaseJSON{}}
	for _, in := range infos {
		j := leaseJSON{
			Key: in.Key, Holder: in.Metadata[holderKey], FencingToken: in.FencingToken,
			TTLMillis: millis(in.ExpiresAt.Sub(now)), ExpiresAt: in.ExpiresAt, Metadata: in.Metadata,
		}
		if !in.AcquiredAt.IsZero() {
			j.AcquiredAt = &in.AcquiredAt
		}
		if j.Metadata == nil {
			j.Metadata = map[string]string{}
		}
		doc.Leases = append(doc.Leases, j)
	}
	return inv.emit(doc, func(w *tabwriter.Writer) {
		row(w, "KEY", "HOLDER", "TOKEN", "TTL LEFT", "HELD FOR", "METADATA")
		for _, j := range doc.Leases {
			held := "-"
			if j.AcquiredAt != nil {
				held = humanize.Duration(now.Sub(*j.AcquiredAt))
			}
			rest := maps.Clone(j.Metadata)
			delete(rest, holderKey)
			row(w, j.Key, j.Holder, uintString(j.FencingToken), humanize.Duration(time.Duration(j.TTLMillis)*time.Millisecond), held, humanize.KV(rest))
		}
	})
}
