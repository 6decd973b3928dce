package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/internal/testserver"

	"github.com/beignet-go/beignet/internal/pgtest"
	"github.com/beignet-go/beignet/outbox"
)

// appOutbox is an app's outbox in a schema of the test's own: two dead
// letters (one with hostile content), one retrying and one pending
// message, after a pass of the drain "report-events".
type appOutbox struct {
	store *outbox.Postgres
	flags []string
	dead  []int64 // oldest first
	live  int64   // the pending message
}

func newAppOutbox(t *testing.T) appOutbox {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.Pool(t)
	store, err := outbox.NewPostgres(pool, outbox.PostgresSchema(pgtest.Schema(t, pool)))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []outbox.Message{
		{Topic: "report.ready", Key: "acme", Payload: []byte(`{"tenant":"acme"}`)},
		{Topic: "<script>alert(1)</script>", Payload: []byte("<script>\x1b[2J</script>"), Headers: map[string]string{"h": "<b>"}},
		{Topic: "report.ready", Key: "globex", Payload: []byte(`{}`)},
		{Topic: "report.ready", Key: "initech", Payload: []byte(`{}`)},
	} {
		if _, err := store.Enqueue(ctx, tx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	msgs, err := store.Claim(ctx, "report-events", 1, time.Now().Add(time.Minute), 10)
	if err != nil || len(msgs) != 4 {
		t.Fatalf("claim: %v, %v", msgs, err)
	}
	for i, m := range msgs[:3] {
		dead := i < 2
		if err := store.MarkFailed(ctx, "report-events", 1, m.ID, "webhook: 503 <html>\nline two", time.Now().Add(time.Hour), dead); err != nil {
			t.Fatal(err)
		}
	}
	return appOutbox{
		store: store,
		flags: []string{"--database-url", pgtest.DSN(), "--schema", store.Schema()},
		dead:  []int64{msgs[0].ID, msgs[1].ID},
		live:  msgs[3].ID,
	}
}

func (a appOutbox) args(args ...string) []string { return append(args, a.flags...) }

func TestOutboxCounts(t *testing.T) {
	a := newAppOutbox(t)
	var doc statsJSON
	okJSON(t, &doc, a.args("outbox")...)
	if doc.Schema != a.store.Schema() || strings.Join(doc.Drains, ",") != "report-events" ||
		doc.Pending != 1 || doc.Retrying != 1 || doc.Dead != 2 || doc.OldestPendingAt == nil || doc.OldestPendingAgeMS < 0 {
		t.Errorf("outbox --json = %+v", doc)
	}
	table := ok(t, a.args("outbox")...)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2 {
		t.Fatalf("table = %q", table)
	}
	f := strings.Fields(lines[1])
	if strings.Join(f[:5], " ") != a.store.Schema()+" report-events 1 1 2" {
		t.Errorf("row = %q", lines[1])
	}
}

// An empty outbox prints zeros and empty lists, never nulls.
func TestOutboxEmpty(t *testing.T) {
	pool := pgtest.Pool(t)
	store, err := outbox.NewPostgres(pool, outbox.PostgresSchema(pgtest.Schema(t, pool)))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--database-url", pgtest.DSN(), "--schema", store.Schema()}
	out := ok(t, append([]string{"outbox", "--json"}, flags...)...)
	if !strings.Contains(out, `"drains": []`) || !strings.Contains(out, `"oldest_pending_at": null`) {
		t.Errorf("empty outbox --json = %s", out)
	}
	if out := ok(t, append([]string{"outbox", "dead", "--json"}, flags...)...); !strings.Contains(out, `"dead": []`) {
		t.Errorf("no dead letters --json = %s", out)
	}
}

func TestOutboxDead(t *testing.T) {
	a := newAppOutbox(t)
	var doc struct {
		Dead []messageJSON `json:"dead"`
	}
	okJSON(t, &doc, a.args("outbox", "dead")...)
	if len(doc.Dead) != 2 || doc.Dead[0].ID != a.dead[1] || doc.Dead[1].ID != a.dead[0] {
		t.Fatalf("dead letters = %+v, want ids %d, %d (newest first)", doc.Dead, a.dead[1], a.dead[0])
	}
	d := doc.Dead[0]
	if d.Topic != "<script>alert(1)</script>" || d.PayloadPreview != "<script>\x1b[2J</script>" || d.PayloadBytes != 21 ||
		d.Attempts != 1 || d.LastError != "webhook: 503 <html>\nline two" || d.Headers["h"] != "<b>" || d.CreatedAt.IsZero() {
		t.Errorf("dead letter = %+v", d)
	}
	okJSON(t, &doc, a.args("outbox", "dead", "--limit", "1")...)
	if len(doc.Dead) != 1 || doc.Dead[0].ID != a.dead[1] {
		t.Errorf("--limit 1 = %+v", doc.Dead)
	}

	table := ok(t, a.args("outbox", "dead")...)
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.HasPrefix(lines[1], strconv.FormatInt(a.dead[1], 10)+" ") {
		t.Fatalf("table = %q", table)
	}
	// The newline in the error and the escape sequence in the payload
	// stay inside their cells.
	if !strings.Contains(lines[1], `503 <html>\nline two`) || !strings.Contains(lines[1], `<script>\x1b[2J</script>`) {
		t.Errorf("row = %q", lines[1])
	}
}

func TestOutboxRetry(t *testing.T) {
	a := newAppOutbox(t)
	ctx := context.Background()

	// An unknown id, or one that is not dead, changes nothing and is named.
	fails(t, exitFailure, a.args("outbox", "retry", strconv.FormatInt(a.dead[0], 10), "424242"), "424242", "nothing was requeued")
	fails(t, exitFailure, a.args("outbox", "retry", strconv.FormatInt(a.live, 10)), strconv.FormatInt(a.live, 10), "pending")
	if st, _ := a.store.Stats(ctx); st.Dead != 2 {
		t.Fatalf("a refused retry requeued something: %+v", st)
	}

	var doc struct {
		Requeued int64   `json:"requeued"`
		IDs      []int64 `json:"ids"`
	}
	id := strconv.FormatInt(a.dead[0], 10)
	okJSON(t, &doc, a.args("outbox", "retry", id, id)...)
	if doc.Requeued != 1 || len(doc.IDs) != 1 || doc.IDs[0] != a.dead[0] {
		t.Errorf("retry --json = %+v", doc)
	}
	if m, _, _ := a.store.Get(ctx, a.dead[0]); m.Status != outbox.Pending || m.Attempts != 0 {
		t.Errorf("retried message = %+v", m)
	}

	table := ok(t, a.args("outbox", "retry", "--all-dead")...)
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "1 ") {
		t.Errorf("retry --all-dead table = %q", table)
	}
	okJSON(t, &doc, a.args("outbox", "retry", "--all-dead")...)
	if doc.Requeued != 0 {
		t.Errorf("second --all-dead requeued %d", doc.Requeued)
	}
}

func TestOutboxUnreachable(t *testing.T) {
	// Each case waits out the connect budget, and the last needs a server.
	testserver.Require(t, "PostgreSQL")
	addr := nowhere(t)
	url := "postgres://postgres@" + addr + "/test?sslmode=disable"
	for _, args := range [][]string{
		{"outbox", "--database-url", url},
		{"outbox", "dead", "--json", "--database-url", url},
		{"outbox", "retry", "1", "--database-url", url},
	} {
		fails(t, exitFailure, args, "not reachable", addr)
	}
	// A schema the app never migrated is named.
	fails(t, exitFailure, []string{"outbox", "--database-url", pgtest.DSN(), "--schema", "nothing_here"}, "nothing_here")
}
