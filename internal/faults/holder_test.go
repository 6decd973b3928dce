package faults_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// runHolderWorker takes the "fenced" lease on "acquire", and on
// "write <message id>" writes with that lease's token to the fenced test
// table and marks the outbox message published, without checking whether
// its lease is still valid: a process that was paused and does not know it.
func runHolderWorker() int {
	c := workerClient()
	defer c.Close()
	l := redislocks.New(c, os.Getenv("PREFIX"))
	ttl, _ := time.ParseDuration(os.Getenv("TTL"))
	bg := context.Background()
	pool, err := pgxpool.New(bg, os.Getenv("DSN"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	store, err := outbox.NewPostgres(pool, outbox.PostgresSchema(os.Getenv("SCHEMA")))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	table := pgx.Identifier{os.Getenv("SCHEMA"), "fenced"}.Sanitize()
	var lease locks.Lease
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "acquire":
			res, err := l.Acquire(bg, "fenced", locks.Options{TTL: ttl, Wait: 10 * time.Second})
			if err != nil || !res.Acquired {
				emit(event{Kind: "acquired", Err: fmt.Sprint(res.Acquired, err)})
				continue
			}
			lease = res.Lease
			emit(event{Kind: "acquired", Token: lease.FencingToken(), OK: true})
		case "write":
			id, _ := strconv.ParseInt(arg, 10, 64)
			tag, err := pool.Exec(bg, `UPDATE `+table+` SET token = $1, writer = 'holder' WHERE id = 1 AND token <= $1`, int64(lease.FencingToken()))
			tableOK := err == nil && tag.RowsAffected() == 1
			merr := store.MarkPublished(bg, "pause", lease.FencingToken(), []int64{id})
			emit(event{Kind: "wrote", Token: lease.FencingToken(), OK: tableOK, Outcome: "table", Err: errString(err)})
			emit(event{Kind: "wrote", Token: lease.FencingToken(), OK: merr == nil, Outcome: "outbox", Err: fencedOrErr(merr)})
			_ = lease.Release(bg)
		}
	}
	return 0
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func fencedOrErr(err error) string {
	if errors.Is(err, outbox.ErrFenced) {
		return "fenced"
	}
	return errString(err)
}
