// Command daily-report is Beignet's example app: a fleet of instances that
// between them build one report per day, render PDFs per tenant under a
// lock, and publish "report.ready" through a transactional outbox.
//
//	make run                                  # in-memory defaults, fast demo schedules
//	REDIS_LOCKS_URL=redis://127.0.0.1:6379 DATABASE_URL=postgres://... go run ./examples/daily-report
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/beignet-go/beignet"
)

func main() {
	var cfg Config
	flag.BoolVar(&cfg.Demo, "demo", false, "run fast schedules (every few seconds) instead of the daily one")
	flag.StringVar(&cfg.Instance, "instance", "", "instance id shown in logs (default: host-pid)")
	flag.Parse()
	if cfg.Demo {
		fmt.Fprint(os.Stderr, banner(cfg, os.Getenv))
	}
	beignet.New(Providers(cfg)...).Run()
}
