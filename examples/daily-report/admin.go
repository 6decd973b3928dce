package main

import (
	"net/http"

	"github.com/beignet-go/beignet/admin"
	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
	"github.com/beignet-go/beignet/scheduler"
)

// adminPrefix is where the admin page is mounted.
const adminPrefix = "/admin/"

// mountAdmin serves the admin page on the app's mux: the fleet's schedules
// (through this instance's scheduler, whose controls act fleet-wide), its
// leases and its outbox. A real app wraps it in its own authentication
// middleware: the page can pause schedules and retry messages.
func mountAdmin(mux *http.ServeMux, ports *ctx.Ports, s *scheduler.Scheduler, store outbox.Store) {
	opts := []admin.Option{admin.WithScheduler(s), admin.WithInstances(ports.Ledger)}
	if l, ok := ports.Locks.(locks.Lister); ok {
		opts = append(opts, admin.WithLeases(l))
	}
	if o, ok := store.(outbox.Operator); ok {
		opts = append(opts, admin.WithOutbox(o))
	}
	mux.Handle(adminPrefix, admin.Handler(adminPrefix, opts...))
}
