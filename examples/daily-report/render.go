package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/locks"
)

// Renderer renders each tenant's report PDF. Rendering a tenant is long work
// that must have one owner at a time, so it takes a per-tenant lease
// directly from Ports.Locks, renews it between pages, and hands its fencing
// token to the storage it writes to.
type Renderer struct {
	tenants []string
	storage *PDFStorage
	// narrate, while set, makes the next render log its lease's
	// acquire, renew and release, once: make run shows a lease's life.
	narrate atomic.Bool
}

// NewRenderer returns a renderer for the app's tenants.
func NewRenderer() *Renderer {
	return &Renderer{tenants: []string{"acme", "globex", "initech"}, storage: NewPDFStorage()}
}

// RenderAll is the render-pdfs schedule's handler.
func (r *Renderer) RenderAll(c *ctx.Context) error {
	for _, tenant := range r.tenants {
		if err := r.renderTenant(c, tenant); err != nil {
			return err
		}
	}
	return nil
}

func (r *Renderer) renderTenant(c *ctx.Context, tenant string) error {
	log := c.Ports.Logger.With(zap.String("tenant", tenant))
	res, err := c.Ports.Locks.Acquire(c, "render:tenant:"+tenant, locks.Options{
		TTL:      30 * time.Second,
		Wait:     2 * time.Second, // an ad-hoc render of this tenant may be finishing
		Metadata: map[string]string{"job": "render-pdfs"},
	})
	if err != nil {
		return fmt.Errorf("render %s: %w", tenant, err)
	}
	if !res.Acquired {
		log.Info("render: tenant busy elsewhere, skipped")
		return nil
	}
	lease := res.Lease
	narrate := r.narrate.CompareAndSwap(true, false)
	if narrate {
		log.Info("lease: acquired", zap.String("key", "render:tenant:"+tenant),
			zap.Uint64("fencing_token", lease.FencingToken()), zap.Time("expires_at", lease.ExpiresAt()))
	}
	defer func() {
		err := lease.Release(context.WithoutCancel(c))
		if narrate {
			log.Info("lease: released (the next holder's token will be higher)", zap.String("key", "render:tenant:"+tenant), zap.Error(err))
		}
	}()

	const pages = 3
	for page := 1; page <= pages; page++ {
		// Long work: renew between steps, and stop if the lease is gone.
		ok, err := lease.Renew(c, 0)
		if err != nil {
			return fmt.Errorf("render %s: renew: %w", tenant, err)
		}
		if !ok {
			return fmt.Errorf("render %s: %w", tenant, locks.ErrLeaseLost)
		}
		if narrate && page == 1 {
			log.Info("lease: renewed between pages", zap.Int("page", page), zap.Time("expires_at", lease.ExpiresAt()))
		}
	}
	// The token goes downstream: storage refuses a write from a holder
	// that has since been superseded.
	if err := r.storage.Put(tenant, lease.FencingToken(), []byte("%PDF-1.7 ...")); err != nil {
		return err
	}
	log.Info("render: stored", zap.Uint64("fencing_token", lease.FencingToken()))
	return nil
}

// PDFStorage stands in for object storage that honours fencing tokens: it
// keeps the highest token written per tenant and refuses older ones.
type PDFStorage struct {
	mu     sync.Mutex
	tokens map[string]uint64
	files  map[string][]byte
}

// NewPDFStorage returns empty storage.
func NewPDFStorage() *PDFStorage {
	return &PDFStorage{tokens: map[string]uint64{}, files: map[string][]byte{}}
}

// Put stores a tenant's PDF unless a newer token has already written it.
func (s *PDFStorage) Put(tenant string, token uint64, pdf []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token < s.tokens[tenant] {
		return fmt.Errorf("pdf storage: tenant %s: token %d is older than %d", tenant, token, s.tokens[tenant])
	}
	s.tokens[tenant], s.files[tenant] = token, pdf
	return nil
}
