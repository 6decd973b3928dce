package redislocks

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolveDefaults(t *testing.T) {
	o, err := Options{}.resolve(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if o.URL != DefaultURL || o.Prefix != DefaultPrefix || o.ConnectMaxAttempts != DefaultConnectMaxAttempts || o.DB != nil {
		t.Fatalf("defaults = %+v", o)
	}
	ro, err := o.clientOptions()
	if err != nil || ro.Addr != "127.0.0.1:6379" || ro.DB != 0 {
		t.Fatalf("client options = %+v, %v", ro, err)
	}
}

func TestResolveEnvAndExplicitWins(t *testing.T) {
	e := env(map[string]string{
		EnvURL: "redis://10.0.0.1:6380/2", EnvDB: "3", EnvPrefix: "fromenv",
		EnvConnectTimeoutMS: "250", EnvMaxRetriesPerRequest: "-1", EnvConnectMaxAttempts: "7",
	})
	o, err := Options{}.resolve(e)
	if err != nil {
		t.Fatal(err)
	}
	ro, _ := o.clientOptions()
	if ro.Addr != "10.0.0.1:6380" || ro.DB != 3 || o.Prefix != "fromenv" || ro.DialTimeout != 250*time.Millisecond ||
		ro.MaxRetries != -1 || o.ConnectMaxAttempts != 7 {
		t.Fatalf("from env: %+v / %+v", o, ro)
	}
	db := 5
	o, err = Options{URL: "unix:///tmp/r.sock", DB: &db, Prefix: "explicit", ConnectTimeout: time.Second, MaxRetriesPerRequest: 2, ConnectMaxAttempts: 1}.resolve(e)
	if err != nil {
		t.Fatal(err)
	}
	ro, _ = o.clientOptions()
	if ro.Network != "unix" || ro.Addr != "/tmp/r.sock" || ro.DB != 5 || o.Prefix != "explicit" || ro.DialTimeout != time.Second ||
		ro.MaxRetries != 2 || o.ConnectMaxAttempts != 1 {
		t.Fatalf("explicit: %+v / %+v", o, ro)
	}
	o, _ = Options{URL: "rediss://h:6379"}.resolve(env(nil))
	if ro, err := o.clientOptions(); err != nil || ro.TLSConfig == nil {
		t.Fatalf("rediss:// gives no TLS: %+v, %v", ro, err)
	}
}

func TestResolveMalformed(t *testing.T) {
	cases := map[string]string{
		EnvDB:                   "one",
		EnvConnectTimeoutMS:     "fast",
		EnvMaxRetriesPerRequest: "-5",
		EnvConnectMaxAttempts:   "0",
		EnvURL:                  "http://nope",
	}
	for name, val := range cases {
		t.Run(name, func(t *testing.T) {
			o, err := Options{}.resolve(env(map[string]string{name: val}))
			if err == nil {
				_, err = o.clientOptions()
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("%s=%q: err = %v, want ErrConfig", name, val, err)
			}
			if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), val) {
				t.Errorf("error %q does not name %s and echo %q", err, name, val)
			}
		})
	}
}

// A malformed URL is echoed so the reader can see what is wrong, but never
// its password, not even where go-redis's parse error quotes it.
func TestMalformedURLIsEchoedMasked(t *testing.T) {
	o, err := Options{}.resolve(env(map[string]string{EnvURL: "redis://u:secret@host:port:port"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.clientOptions()
	if !errors.Is(err, ErrConfig) || strings.Contains(err.Error(), "secret") ||
		!strings.Contains(err.Error(), `REDIS_LOCKS_URL="redis://u:xxxxx@host:port:port"`) {
		t.Fatalf("err = %v; want ErrConfig naming REDIS_LOCKS_URL with the password masked", err)
	}
	o, _ = Options{URL: "redis://:pw@h:x"}.resolve(env(nil))
	if _, err = o.clientOptions(); err == nil || !strings.Contains(err.Error(), `Options.URL="redis://:xxxxx@h:x"`) {
		t.Fatalf("err = %v; want it to name Options.URL", err)
	}
}
