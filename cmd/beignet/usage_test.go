package main

import (
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	out := ok(t, "help")
	for _, c := range commands {
		if !strings.Contains(out, c.synopsis()) {
			t.Errorf("help does not list %q", c.synopsis())
		}
	}
	if r := beignet(t, "outbox", "dead", "-h"); r.code != exitOK || !strings.Contains(r.stderr, "-limit") {
		t.Errorf("outbox dead -h: exit %d, %q", r.code, r.stderr)
	}
}

func TestBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"--json"}, `unknown command "--json"`},
		{[]string{"leases", "a", "b"}, "one pattern at most"},
		{[]string{"leases", "--bogus"}, "bogus"},
		{[]string{"leases", "--timeout", "0s"}, "--timeout 0s"},
		{[]string{"leases", "--timeout", "-1s"}, "--timeout -1s"},
		{[]string{"outbox", "extra"}, `unexpected argument "extra"`},
		{[]string{"outbox", "dead", "--limit", "0"}, "--limit 0"},
		{[]string{"outbox", "dead", "--limit", "-5"}, "--limit -5"},
		{[]string{"outbox", "dead", "--limit", "many"}, "many"},
		{[]string{"outbox", "dead", "--limit", "9223372036854775808"}, "9223372036854775808"},
		{[]string{"outbox", "retry"}, "--all-dead"},
		{[]string{"outbox", "retry", "12", "--all-dead"}, "not both"},
		{[]string{"outbox", "retry", "12", "x<y"}, `id "x<y"`},
		{[]string{"outbox", "retry", "99999999999999999999"}, `id "99999999999999999999"`},
	} {
		fails(t, exitUsage, c.args, c.want)
	}
}

// Flags go anywhere, as with kubectl; after "--" everything is an argument.
func TestInterspersedFlags(t *testing.T) {
	fails(t, exitUsage, []string{"outbox", "retry", "--", "--all-dead"}, `id "--all-dead"`)
	fails(t, exitUsage, []string{"leases", "--json", "a", "--timeout", "1s", "b"}, "one pattern at most")
}
