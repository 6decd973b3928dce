package main

import (
	"context"
	"errors"
	"flag"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/beignet-go/beignet/internal/humanize"
	"github.com/beignet-go/beignet/outbox"
)

var outboxCommand = command{
	name:    "outbox",
	summary: "pending, retrying and dead counts, the drains, and the age of the oldest pending message",
	run:     runOutbox,
}

var outboxDeadCommand = command{
	name:    "outbox dead",
	summary: "dead letters, newest first",
	flags:   limitFlag,
	run:     runOutboxDead,
}

var outboxRetryCommand = command{
	name:    "outbox retry",
	args:    "ID... | --all-dead",
	summary: "requeue dead letters (all or nothing: an unknown or live id changes nothing)",
	flags: func(fs *flag.FlagSet, o *opts) {
		fs.BoolVar(&o.allDead, "all-dead", false, "requeue every dead letter")
	},
	run: runOutboxRetry,
}

// defaultLimit is how many entries a list shows unless --limit says.
const defaultLimit = 20

func limitFlag(fs *flag.FlagSet, o *opts) {
	fs.IntVar(&o.limit, "limit", defaultLimit, "show at most this many (> 0)")
}

func (o opts) checkLimit() error {
	if o.limit <= 0 {
		return usagef("--limit %d: want > 0", o.limit)
	}
	return nil
}

func noArgs(pos []string) error {
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// statsJSON is the outbox command's --json output. Field names are stable.
type statsJSON struct {
	Schema             string     `json:"schema"`
	Drains             []string   `json:"drains"`
	Pending            int64      `json:"pending"`
	Retrying           int64      `json:"retrying"`
	Dead               int64      `json:"dead"`
	OldestPendingAt    *time.Time `json:"oldest_pending_at"`
	OldestPendingAgeMS int64      `json:"oldest_pending_age_ms"`
}

func runOutbox(c context.Context, inv *invocation, pos []string) error {
	if err := noArgs(pos); err != nil {
		return err
	}
	store, err := inv.outbox(c)
	if err != nil {
		return err
	}
	defer store.Close()
	st, err := store.Stats(c)
	if err != nil {
		return err
	}
	doc := statsJSON{
		Schema: store.Schema(), Drains: st.Drains, Pending: st.Pending, Retrying: st.Retrying, Dead: st.Dead,
		OldestPendingAgeMS: millis(st.OldestPendingAge),
	}
	if doc.Drains == nil {
		doc.Drains = []string{}
	}
	oldest := "-"
	if !st.OldestPendingAt.IsZero() {
		doc.OldestPendingAt = &st.OldestPendingAt
		oldest = humanize.Duration(st.OldestPendingAge)
	}
	return inv.emit(doc, func(w *tabwriter.Writer) {
		row(w, "SCHEMA", "DRAINS", "PENDING", "RETRYING", "DEAD", "OLDEST PENDING")
		row(w, doc.Schema, strings.Join(st.Drains, ","), itoa(st.Pending), itoa(st.Retrying), itoa(st.Dead), oldest)
	})
}

// messageJSON is one dead letter in --json output. Field names are stable.
type messageJSON struct {
	ID             int64             `json:"id"`
	Topic          string            `json:"topic"`
	Key            string            `json:"key"`
	Attempts       int               `json:"attempts"`
	CreatedAt      time.Time         `json:"created_at"`
	LastError      string            `json:"last_error"`
	Headers        map[string]string `json:"headers"`
	PayloadBytes   int               `json:"payload_bytes"`
	PayloadPreview string            `json:"payload_preview"`
}

// payloadPreview is how much of a payload a listing shows.
const payloadPreview = 200

func runOutboxDead(c context.Context, inv *invocation, pos []string) error {
	if err := noArgs(pos); err != nil {
		return err
	}
	if err := inv.o.checkLimit(); err != nil {
		return err
	}
	store, err := inv.outbox(c)
	if err != nil {
		return err
	}
	defer store.Close()
	msgs, err := store.DeadLetters(c, inv.o.limit)
	if err != nil {
		return err
	}
	doc := struct {
		Dead []messageJSON `json:"dead"`
	}{Dead: []messageJSON{}}
	for _, m := range msgs {
		h := m.Headers
		if h == nil {
			h = map[string]string{}
		}
		doc.Dead = append(doc.Dead, messageJSON{
			ID: m.ID, Topic: m.Topic, Key: m.Key, Attempts: m.Attempts, CreatedAt: m.CreatedAt,
			LastError: m.LastError, Headers: h, PayloadBytes: len(m.Payload), PayloadPreview: humanize.Preview(m.Payload, payloadPreview),
		})
	}
	now := time.Now()
	return inv.emit(doc, func(w *tabwriter.Writer) {
		row(w, "ID", "TOPIC", "KEY", "ATTEMPTS", "CREATED", "LAST ERROR", "PAYLOAD")
		for _, m := range msgs {
			row(w, itoa(m.ID), m.Topic, m.Key, strconv.Itoa(m.Attempts), humanize.Ago(now, m.CreatedAt), m.LastError, humanize.Preview(m.Payload, 40))
		}
	})
}

func runOutboxRetry(c context.Context, inv *invocation, pos []string) error {
	var ids []int64
	switch {
	case inv.o.allDead && len(pos) > 0:
		return usagef("give ids or --all-dead, not both")
	case !inv.o.allDead && len(pos) == 0:
		return usagef("which dead letters? give their ids, or --all-dead")
	}
	for _, p := range pos {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return usagef("id %q is not a message id (an integer)", p)
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	store, err := inv.outbox(c)
	if err != nil {
		return err
	}
	defer store.Close()
	doc := struct {
		Requeued int64   `json:"requeued"`
		IDs      []int64 `json:"ids"`
	}{IDs: []int64{}}
	if inv.o.allDead {
		if doc.Requeued, err = store.RequeueDead(c); err != nil {
			return err
		}
	} else {
		if err := store.Requeue(c, ids...); err != nil {
			if errors.Is(err, outbox.ErrUnknownMessage) || errors.Is(err, outbox.ErrNotDead) {
				return errors.New(err.Error() + "; nothing was requeued")
			}
			return err
		}
		doc.Requeued, doc.IDs = int64(len(ids)), ids
	}
	return inv.emit(doc, func(w *tabwriter.Writer) {
		row(w, "REQUEUED", "IDS")
		list := "all dead letters"
		if !inv.o.allDead {
			list = ""
			for i, id := range ids {
				if i > 0 {
					list += " "
				}
				list += itoa(id)
			}
		}
		row(w, itoa(doc.Requeued), list)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
