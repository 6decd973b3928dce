// Package admin is an operator's web page for a Beignet fleet: its
// schedules and their runs, its live leases, and the outbox's backlog and
// dead letters, with actions to pause, resume and run a schedule now and to
// retry dead letters. Mount it in the app's own server under any prefix:
//
//	mux.Handle("/admin/", admin.Handler("/admin/", admin.WithScheduler(s),
//		admin.WithLeases(lister), admin.WithOutbox(store)))
//
// The page is server-rendered with html/template and its stylesheet is
// embedded: there is no JavaScript and no build step, and it works with
// JavaScript turned off. Every action is a POST carrying a CSRF token.
// Authentication is the host app's job: wrap the handler in the app's own
// middleware.
package admin

import (
	"net/http"
	"path"
	"strings"

	"github.com/beignet-go/beignet/locks"
	"github.com/beignet-go/beignet/outbox"
)

// Option configures Handler.
type Option func(*config)

type config struct {
	readOnly  bool
	scheduler Scheduler
	instances Instances
	leases    locks.Lister
	outbox    outbox.Operator
}

// ReadOnly hides every action and refuses every POST, for a page that
// anyone on the team may look at.
func ReadOnly() Option { return func(c *config) { c.readOnly = true } }

// WithLeases shows the live leases from l (the app's Ports.Locks, when it
// implements locks.Lister, as both Beignet backends do).
func WithLeases(l locks.Lister) Option { return func(c *config) { c.leases = l } }

// WithOutbox shows the outbox's backlog and dead letters from o (the app's
// outbox store), with a retry action for dead letters.
func WithOutbox(o outbox.Operator) Option { return func(c *config) { c.outbox = o } }

// Handler returns the admin page, served under prefix (for example
// "/admin/"). It answers 404 to every path outside prefix, so it exposes
// nothing else even when mounted at "/".
func Handler(prefix string, opts ...Option) http.Handler {
	var c config
	for _, o := range opts {
		o(&c)
	}
	h := &handler{cfg: c, prefix: normalisePrefix(prefix)}
	h.views = newViews()
	h.routes = h.routeTable()
	// Same-origin POSTs only (Sec-Fetch-Site and Origin), on top of the
	// CSRF token.
	return http.NewCrossOriginProtection().Handler(h)
}

// normalisePrefix makes prefix an absolute path that ends in "/".
func normalisePrefix(prefix string) string {
	p := path.Clean("/" + prefix)
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}
