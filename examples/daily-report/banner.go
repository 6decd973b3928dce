package main

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/providers/redislocks"
)

// banner is what `make run` prints before the app's logs: what the demo
// runs and how often, how to stop it, and where to look.
func banner(cfg Config, getenv func(string) string) string {
	report, render := specs(cfg)
	locks, data := "in this process's memory (one instance; set REDIS_LOCKS_URL for a fleet)", "in memory"
	if getenv(redislocks.EnvURL) != "" {
		locks = "on Redis (" + redislocks.EnvURL + ")"
	}
	if getenv(outbox.EnvDatabaseURL) != "" {
		data = "on PostgreSQL (" + outbox.EnvDatabaseURL + ")"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Beignet demo: the daily-report example app. Locks are %s; orders and the outbox are %s.\n", locks, data)
	fmt.Fprintf(&b, "  %-14s %-16s builds a report and enqueues \"report.ready\", in one transaction\n", "daily-report", report)
	fmt.Fprintf(&b, "  %-14s %-16s renders 3 tenants' PDFs, each under its own lease (the first shows acquire, renew, release)\n", "render-pdfs", render)
	fmt.Fprintf(&b, "  %-14s %-16s publishes \"report.ready\" to the log\n", "outbox drain", "every 1 s")
	b.WriteString("Look for: one \"run\" line per tick (schedule, tick, fencing token, outcome), \"lease:\" lines, and \"outbox\" lines.\n")
	fmt.Fprintf(&b, "Admin page (schedules, leases, outbox): http://%s%s\n", cmp.Or(cfg.HTTPAddr, getenv(EnvHTTPAddr), DefaultHTTPAddr), adminPrefix)
	b.WriteString("Stop: Ctrl-C (running handlers finish first). Next: docs/getting-started.md; three instances on Redis: make demo.\n")
	return b.String()
}
