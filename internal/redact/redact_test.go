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
