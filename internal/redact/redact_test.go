package redact_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/beignet-go/beignet/internal/redact"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestURL(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://u:secret@host:port:port":      "redis://u:xxxxx@host:port:port",
		"redis://:secret@127.0.0.1:6379/0":     "redis://:xxxxx@127.0.0.1:6379/0",
		"postgres://u:p%40ss@db:5432/app":      "postgres://u:xxxxx@db:5432/app",
		"redis://user@host:6379":               "redis://user@host:6379",
		"redis://host:6379/0":                  "redis://host:6379/0",
		"":                                     "",
		"not a url: secret":                    "not a url: secret",
		"redis://u:a@b@host:6379 and more":     "redis://u:xxxxx@host:6379 and more",
		"rediss://u:s3cr3t@h:1/0?dial_timeout": "rediss://u:xxxxx@h:1/0?dial_timeout",
		// A password as a parameter: pgx takes it in a URL's query and in
		// a keyword/value DSN, and either may be malformed elsewhere.
		"postgres://h/db?password=s3cr3t&sslmode=bogus":   "postgres://h/db?password=xxxxx&sslmode=bogus",
		"postgres://h/db?sslmode=require&PASSWORD=s3cr3t": "postgres://h/db?sslmode=require&PASSWORD=xxxxx",
		"redis://h:6379/0?password=s3cr3t&foo=bar":        "redis://h:6379/0?password=xxxxx&foo=bar",
		"host=127.0.0.1 password=s3cr3t port=zz":          "host=127.0.0.1 password=xxxxx port=zz",
		"password=s3cr3t host=db":                         "password=xxxxx host=db",
		"host=db password = 's3 cr\\'3t' port=zz":         "host=db password = xxxxx port=zz",
		"host=db password='unterminated port=zz":          "host=db password=xxxxx",
		"host=db sslpassword=s3cr3t user=u":               "host=db sslpassword=xxxxx user=u",
		"postgres://u:p@h/db?password=q":                  "postgres://u:xxxxx@h/db?password=xxxxx",
		"host=db user=password_admin dbname=passwords":    "host=db user=password_admin dbname=passwords",
	} {
		if got := redact.URL(raw); got != want {
			t.Errorf("URL(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestIn(t *testing.T) {
	raw := "redis://u:secret@host:port:port"
	got := redact.In(`parse "redis://u:secret@host:port:port": invalid port`, raw)
	if want := `parse "redis://u:xxxxx@host:port:port": invalid port`; got != want {
		t.Fatalf("In = %q, want %q", got, want)
	}
	if got := redact.In("text", ""); got != "text" {
		t.Fatalf("In with no URL = %q", got)
	}
}
