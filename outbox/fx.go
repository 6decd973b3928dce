package outbox

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/fx"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/backoff"
	"github.com/beignet-go/beignet/internal/fxcheck"
	"github.com/beignet-go/beignet/internal/redact"
	"github.com/beignet-go/beignet/scheduler"
)

// Drain registers a drain named name that publishes the app's Store with
// pub. The scheduler runs it under the lease "outbox:<name>" every Interval,
// and at once when the store notifies a commit (LISTEN/NOTIFY on
// PostgreSQL).
func Drain(name string, pub Publisher, opts ...Option) fx.Option {
	return DrainWith(name, func() Publisher { return pub }, opts...)
}

var publisherType = reflect.TypeFor[Publisher]()

// DrainsGroup is the fx value group of the names (strings) of the drains
// registered with Drain or DrainWith, for metrics that report per drain
// before its first pass.
const DrainsGroup = "beignet.outbox.drains"

// DrainWith is Drain with the publisher built by constructor, an fx
// constructor returning a Publisher (and optionally an error), so it can
// depend on the app's services:
//
//	outbox.DrainWith("events", func(l *zap.Logger) outbox.Publisher { return outbox.LogPublisher{Logger: l} })
//
// A constructor of another type fails the app with ErrConfig, naming the
// drain and the signature it needs.
func DrainWith(name string, constructor any, opts ...Option) fx.Option {
	if err := fxcheck.Constructor(constructor, publisherType); err != nil {
		return fx.Error(fmt.Errorf("%w: DrainWith(%q): %v", ErrConfig, name, err))
	}
	tag := `name:"beignet.outbox.publisher.` + name + `"`
	return fx.Options(
		fx.Supply(fx.Annotated{Group: DrainsGroup, Target: name}),
		fx.Provide(fx.Annotate(constructor, fx.ResultTags(tag))),
		fx.Provide(fx.Annotate(
			func(lc fx.Lifecycle, pub Publisher, store Store, ports *ctx.Ports, hooks []PublishHook) (scheduler.Task, error) {
				all := append([]Option(nil), opts...)
				for _, h := range hooks {
					all = append(all, WithPublishHook(h))
				}
				d, err := NewDrainer(name, store, pub, ports.Clock, ports.Logger, all...)
				if err != nil {
					return scheduler.Task{}, err
				}
				var wake <-chan struct{}
				if n, ok := store.(Notifier); ok {
					ch, unsubscribe := n.Subscribe()
					wake = ch
					lc.Append(fx.StopHook(unsubscribe))
				}
				return d.Task(wake), nil
			},
			fx.ParamTags(``, tag, ``, ``, `group:"`+PublishHooksGroup+`"`),
			fx.ResultTags(`group:"`+scheduler.TasksGroup+`"`),
		)),
	)
}

// MemoryProvider contributes an in-memory Store (and *Memory, for
// enqueueing) on the app's clock: for tests and for running without a
// database.
func MemoryProvider(opts ...MemoryOption) fx.Option {
	return fx.Provide(
		func(p *ctx.Ports) *Memory { return NewMemory(append([]MemoryOption{MemoryClock(p.Clock)}, opts...)...) },
		func(m *Memory) Store { return m },
	)
}

// Environment variables read by PostgresProvider when its options leave
// them unset.
const (
	EnvDatabaseURL       = "DATABASE_URL"
	EnvOutboxDatabaseURL = "OUTBOX_DATABASE_URL" // wins over DATABASE_URL
	EnvSchema            = "OUTBOX_SCHEMA"
	// EnvConnectMaxAttempts is how many times start tries the database.
	EnvConnectMaxAttempts = "OUTBOX_CONNECT_MAX_ATTEMPTS"
)

// PostgresOptions configures PostgresProvider.
type PostgresOptions struct {
	// Pool, when set, is used and left open on stop. When nil, the
	// provider opens one from URL and closes it on stop.
	Pool *pgxpool.Pool
	// URL is a PostgreSQL connection string (env OUTBOX_DATABASE_URL,
	// then DATABASE_URL).
	URL string
	// Schema holds the outbox tables (env OUTBOX_SCHEMA, default
	// DefaultSchema).
	Schema string
	// MaxPayload is the largest payload accepted (default
	// DefaultMaxPayload).
	MaxPayload int
	// ConnectMaxAttempts is how many times the app tries the database at
	// start, waiting 100 ms doubling to 2 s between tries, as the Redis
	// provider does (env OUTBOX_CONNECT_MAX_ATTEMPTS, default
	// DefaultConnectMaxAttempts: a refused connection fails after 1.5 s).
	ConnectMaxAttempts int
}

// DefaultConnectMaxAttempts is how many times start tries the database
// unless told otherwise.
const DefaultConnectMaxAttempts = backoff.DefaultAttempts

// PostgresProvider contributes the PostgreSQL Store (and *Postgres, for
// enqueueing in a pgx.Tx). At start it migrates the schema; the app fails to
// start if the database cannot be reached.
func PostgresProvider(opts PostgresOptions) fx.Option {
	return fx.Provide(
		func(lc fx.Lifecycle) (*Postgres, error) { return providePostgres(lc, opts, os.Getenv) },
		func(p *Postgres) Store { return p },
	)
}

func providePostgres(lc fx.Lifecycle, o PostgresOptions, getenv func(string) string) (*Postgres, error) {
	store, attempts, err := o.open(getenv)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.Hook{
		OnStart: func(c context.Context) error {
			err := store.ping(c, attempts)
			if err == nil {
				err = store.Migrate(c)
			}
			if err != nil {
				store.Close() // fx runs no OnStop for a hook whose OnStart failed
			}
			return err
		},
		OnStop: func(context.Context) error {
			store.Close()
			return nil
		},
	})
	return store, nil
}

// open builds the store the options describe (options, then the
// environment, then the defaults). A pool it opens itself is closed by the
// store's Close. It does not connect.
func (o PostgresOptions) open(getenv func(string) string) (store *Postgres, connectAttempts int, err error) {
	attempts, err := o.connectAttempts(getenv)
	if err != nil {
		return nil, 0, err
	}
	pool, owned := o.Pool, false
	if pool == nil {
		url, name := o.URL, "PostgresOptions.URL"
		if url == "" {
			url, name = getenv(EnvOutboxDatabaseURL), EnvOutboxDatabaseURL
		}
		if url == "" {
			url, name = getenv(EnvDatabaseURL), EnvDatabaseURL
		}
		if url == "" {
			return nil, 0, fmt.Errorf("%w: set %s or %s (or pass a Pool)", ErrConfig, EnvOutboxDatabaseURL, EnvDatabaseURL)
		}
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			// The same shape as REDIS_LOCKS_URL's line: the variable,
			// its value with any password masked, then the reason.
			return nil, 0, fmt.Errorf("%w: %s=%q: %s", ErrConfig, name, redact.URL(url), parseReason(err, url))
		}
		if pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
			return nil, 0, fmt.Errorf("%w: %s=%q: %s", ErrConfig, name, redact.URL(url), redact.In(err.Error(), url))
		}
		owned = true
	}
	schema := o.Schema
	if schema == "" {
		schema = getenv(EnvSchema)
	}
	if schema == "" {
		schema = DefaultSchema
	}
	opts := []PostgresOption{PostgresSchema(schema)}
	if o.MaxPayload > 0 {
		opts = append(opts, PostgresMaxPayload(o.MaxPayload))
	}
	store, err = NewPostgres(pool, opts...)
	if err != nil {
		if owned {
			pool.Close()
		}
		return nil, 0, err
	}
	store.ownsPool = owned
	return store, attempts, nil
}

// ping says, naming the server, when the database cannot be reached.
// ping tries the database on the connect policy every server shares.
func (p *Postgres) ping(c context.Context, attempts int) error {
	if err := backoff.Connect().Retry(c, attempts, p.pool.Ping); err != nil {
		cc := p.pool.Config().ConnConfig
		return fmt.Errorf("outbox: PostgreSQL at %s:%d/%s not reachable %w", cc.Host, cc.Port, cc.Database, oneLine{err})
	}
	return nil
}

// oneLine is err on one line, for a start-up failure that is logged as one
// line: pgx lists each address it tried on a line of its own, and twice
// when it tried with TLS and then without.
type oneLine struct{ err error }

func (e oneLine) Error() string {
	var parts []string
	for _, l := range strings.Split(e.err.Error(), "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(parts, l) {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

func (e oneLine) Unwrap() error { return e.err }

// connectAttempts resolves ConnectMaxAttempts: the option, the environment,
// then the default.
func (o PostgresOptions) connectAttempts(getenv func(string) string) (int, error) {
	n, name := o.ConnectMaxAttempts, "PostgresOptions.ConnectMaxAttempts"
	if n == 0 {
		if s := getenv(EnvConnectMaxAttempts); s != "" {
			v, err := strconv.Atoi(s)
			if err != nil {
				return 0, fmt.Errorf("%w: %s=%q: not an integer", ErrConfig, EnvConnectMaxAttempts, s)
			}
			n, name = v, EnvConnectMaxAttempts
		}
	}
	if n == 0 {
		return DefaultConnectMaxAttempts, nil
	}
	if n < 1 {
		return 0, fmt.Errorf("%w: %s=%d: want 1 or more", ErrConfig, name, n)
	}
	return n, nil
}

// OpenPostgres opens the store as PostgresProvider does (options, then
// OUTBOX_DATABASE_URL or DATABASE_URL and OUTBOX_SCHEMA, then the defaults)
// and pings the database, for programs that run outside an fx app, such as
// the beignet CLI. It does not migrate. Close releases the pool it opened.
func OpenPostgres(c context.Context, opts PostgresOptions) (*Postgres, error) {
	return openPostgres(c, opts, os.Getenv)
}

func openPostgres(c context.Context, opts PostgresOptions, getenv func(string) string) (*Postgres, error) {
	store, attempts, err := opts.open(getenv)
	if err != nil {
		return nil, err
	}
	if err := store.ping(c, attempts); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// parseReason is why pgx could not parse url, without the connection
// string pgx quotes first ("cannot parse `...`: "), which the caller
// echoes already, and with any password masked.
func parseReason(err error, url string) string {
	msg := redact.In(err.Error(), url)
	if rest, ok := strings.CutPrefix(msg, "cannot parse `"); ok {
		if _, reason, ok := strings.Cut(rest, "`: "); ok {
			return reason
		}
	}
	return msg
}
