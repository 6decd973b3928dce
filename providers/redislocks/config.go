package redislocks

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/beignet-go/beignet/internal/backoff"

	"github.com/beignet-go/beignet/internal/redact"
)

// Environment variables read when Options leave a setting unset.
const (
	EnvURL                  = "REDIS_LOCKS_URL"
	EnvDB                   = "REDIS_LOCKS_DB"
	EnvPrefix               = "REDIS_LOCKS_PREFIX"
	EnvConnectTimeoutMS     = "REDIS_LOCKS_CONNECT_TIMEOUT_MS"
	EnvMaxRetriesPerRequest = "REDIS_LOCKS_MAX_RETRIES_PER_REQUEST"
	EnvConnectMaxAttempts   = "REDIS_LOCKS_CONNECT_MAX_ATTEMPTS"
)

// Defaults for settings that neither Options nor the environment give.
const (
	DefaultURL                = "redis://127.0.0.1:6379/0"
	DefaultConnectMaxAttempts = backoff.DefaultAttempts
)

// ErrConfig is wrapped by every error about a malformed setting; the message
// names the variable or option.
var ErrConfig = errors.New("redislocks: bad configuration")

// Options configures Provider. Every field left at its zero value is taken
// from the environment, then from the defaults: explicit options win.
type Options struct {
	// Client, when set, is used as is (standalone, Sentinel or Cluster)
	// and is not closed on stop; the URL, DB, timeout and retry settings
	// are then ignored. When nil, the provider creates (and closes) its own.
	Client redis.UniversalClient
	// Prefix starts every key (env REDIS_LOCKS_PREFIX, default
	// "beignet:locks"). Any prefix works, braces included: New escapes it
	// (see Locks.LeaseKey).
	Prefix string
	// URL is a redis://, rediss:// or unix:// URL (env REDIS_LOCKS_URL,
	// default redis://127.0.0.1:6379/0).
	URL string
	// DB selects the database, overriding the URL's (env REDIS_LOCKS_DB).
	DB *int
	// ConnectTimeout bounds each dial (env REDIS_LOCKS_CONNECT_TIMEOUT_MS).
	ConnectTimeout time.Duration
	// MaxRetriesPerRequest is go-redis's MaxRetries: -1 disables retries
	// (env REDIS_LOCKS_MAX_RETRIES_PER_REQUEST; 0 keeps go-redis's default).
	MaxRetriesPerRequest int
	// ConnectMaxAttempts is how many PINGs, with backoff, the app tries
	// at start before failing (env REDIS_LOCKS_CONNECT_MAX_ATTEMPTS,
	// default 5).
	ConnectMaxAttempts int
	// FenceTTL is how long an idle key's last fencing token is kept
	// (default DefaultFenceTTL; at most locks.MaxTTL).
	FenceTTL time.Duration

	urlFromEnv bool // set by resolve
}

// resolve fills unset fields from getenv and the defaults.
func (o Options) resolve(getenv func(string) string) (Options, error) {
	if o.Prefix == "" {
		o.Prefix = getenv(EnvPrefix)
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	attemptsFrom := "Options.ConnectMaxAttempts"
	if o.ConnectMaxAttempts == 0 {
		n, err := envInt(getenv, EnvConnectMaxAttempts, DefaultConnectMaxAttempts)
		if err != nil {
			return o, err
		}
		o.ConnectMaxAttempts, attemptsFrom = n, EnvConnectMaxAttempts
	}
	if o.ConnectMaxAttempts < 1 {
		return o, fmt.Errorf("%w: %s=%d: want 1 or more", ErrConfig, attemptsFrom, o.ConnectMaxAttempts)
	}
	if o.Client != nil {
		return o, nil
	}
	if o.URL == "" {
		o.URL, o.urlFromEnv = getenv(EnvURL), true
	}
	if o.URL == "" {
		o.URL = DefaultURL
	}
	if o.DB == nil {
		if s := getenv(EnvDB); s != "" {
			n, err := envInt(getenv, EnvDB, 0)
			if err != nil {
				return o, err
			}
			if n < 0 {
				return o, fmt.Errorf("%w: %s=%q: want a database number >= 0", ErrConfig, EnvDB, s)
			}
			o.DB = &n
		}
	}
	if o.ConnectTimeout == 0 {
		ms, err := envInt(getenv, EnvConnectTimeoutMS, 0)
		if err != nil {
			return o, err
		}
		if ms < 0 {
			return o, fmt.Errorf("%w: %s=%d: want milliseconds >= 0", ErrConfig, EnvConnectTimeoutMS, ms)
		}
		o.ConnectTimeout = time.Duration(ms) * time.Millisecond
	}
	if o.MaxRetriesPerRequest == 0 {
		n, err := envInt(getenv, EnvMaxRetriesPerRequest, 0)
		if err != nil {
			return o, err
		}
		if n < -1 {
			return o, fmt.Errorf("%w: %s=%d: want -1 (none) or more", ErrConfig, EnvMaxRetriesPerRequest, n)
		}
		o.MaxRetriesPerRequest = n
	}
	return o, nil
}

func envInt(getenv func(string) string, name string, def int) (int, error) {
	s := getenv(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q: not an integer", ErrConfig, name, s)
	}
	return n, nil
}

// client returns the configured client, or a new one that the caller owns
// (closes).
// open resolves opts and returns them with the client they name, which the
// caller closes when owned.
func (opts Options) open(getenv func(string) string) (o Options, client redis.UniversalClient, owned bool, err error) {
	if o, err = opts.resolve(getenv); err != nil {
		return o, nil, false, err
	}
	client, owned, err = o.client()
	return o, client, owned, err
}

func (o Options) client() (client redis.UniversalClient, owned bool, err error) {
	if o.Client != nil {
		return o.Client, false, nil
	}
	ro, err := o.clientOptions()
	if err != nil {
		return nil, false, err
	}
	return redis.NewClient(ro), true, nil
}

// urlSource names where the URL came from, for error messages.
func urlSource(o Options) string {
	if o.urlFromEnv {
		return EnvURL
	}
	return "Options.URL"
}

// clientOptions turns resolved Options into go-redis options.
func (o Options) clientOptions() (*redis.Options, error) {
	ro, err := redis.ParseURL(o.URL)
	if err != nil {
		// The value is echoed so the reader sees what is wrong, with any
		// password masked, also where go-redis quotes it.
		return nil, fmt.Errorf("%w: %s=%q: %s", ErrConfig, urlSource(o), redact.URL(o.URL), redact.In(err.Error(), o.URL))
	}
	if o.DB != nil {
		ro.DB = *o.DB
	}
	if o.ConnectTimeout > 0 {
		ro.DialTimeout = o.ConnectTimeout
	}
	if o.MaxRetriesPerRequest != 0 {
		ro.MaxRetries = o.MaxRetriesPerRequest
	}
	// Plain Redis OSS does not speak maintenance notifications; without
	// this, go-redis warns about the fallback on every connect.
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return ro, nil
}
