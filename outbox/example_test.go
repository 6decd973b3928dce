package outbox_test

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beignet-go/beignet"
	"github.com/beignet-go/beignet/outbox"
)

// Enqueue joins the business transaction: the message exists if and only if
// the order does. It prints "order.placed pending". (The example is compiled
// but not run, because it needs a PostgreSQL server and `go test -short`
// runs without servers; the conformance suite in outboxtest runs the same
// steps against a real one.)
func ExamplePostgres_Enqueue() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testDSN())
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	store, _ := outbox.NewPostgres(pool, outbox.PostgresSchema("beignet_example"))
	defer pool.Exec(ctx, "DROP SCHEMA IF EXISTS beignet_example CASCADE")
	if err := store.Migrate(ctx); err != nil {
		panic(err)
	}

	tx, err := pool.Begin(ctx)
	if err != nil {
		panic(err)
	}
	defer tx.Rollback(ctx)
	// ... INSERT INTO orders ... in tx ...
	id, err := store.Enqueue(ctx, tx, outbox.Message{Topic: "order.placed", Key: "order-17", Payload: []byte(`{"id":17}`)})
	if err != nil {
		panic(err)
	}
	if err := tx.Commit(ctx); err != nil {
		panic(err)
	}
	m, _, _ := store.Get(ctx, id)
	fmt.Println(m.Topic, m.Status)
}

// A drain is one line of providers.go; the store comes from a provider.
func ExampleDrain() {
	hook, err := outbox.NewWebhookPublisher("https://events.example.com/ingest", nil)
	if err != nil {
		panic(err)
	}
	beignet.New(
		outbox.PostgresProvider(outbox.PostgresOptions{}), // DATABASE_URL
		outbox.Drain("events", hook, outbox.MaxAttempts(20)),
	).Run()
}

// The memory store has transactions of its own, for tests and for apps run
// without a database.
func ExampleMemory() {
	store := outbox.NewMemory()
	tx := store.Begin()
	_ = store.Enqueue(context.Background(), tx, outbox.Message{Topic: "report.ready"})
	tx.Rollback()

	tx = store.Begin()
	_ = store.Enqueue(context.Background(), tx, outbox.Message{Topic: "report.ready"})
	_ = tx.Commit()

	m, ok, _ := store.Get(context.Background(), 1)
	fmt.Println(ok, m.Topic)
	// Output: true report.ready
}

// An operator retries a dead letter: it is pending again, with a fresh set
// of attempts, and the drains wake at once.
func ExampleMemory_Requeue() {
	ctx := context.Background()
	store := outbox.NewMemory()
	tx := store.Begin()
	_ = store.Enqueue(ctx, tx, outbox.Message{Topic: "report.ready"})
	_ = tx.Commit()
	// A drain gave up on it.
	msgs, _ := store.Claim(ctx, "events", 1, time.Now(), 10)
	_ = store.MarkFailed(ctx, "events", 1, msgs[0].ID, "webhook: 503", time.Now(), true)

	st, _ := store.Stats(ctx)
	fmt.Println("dead:", st.Dead)
	if err := store.Requeue(ctx, msgs[0].ID); err != nil {
		panic(err)
	}
	st, _ = store.Stats(ctx)
	fmt.Println("dead:", st.Dead, "pending:", st.Pending)
	// Output:
	// dead: 1
	// dead: 0 pending: 1
}
