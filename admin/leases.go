package admin

import (
	"net/http"

	"github.com/beignet-go/beignet/locks"
)

// maxLeasesShown bounds the leases view; a pattern narrows it.
const maxLeasesShown = 1000

type leasesData struct {
	Pattern string
	Leases  []locks.LeaseInfo
	Total   int
}

func (h *handler) leases(w http.ResponseWriter, r *http.Request) {
	if h.cfg.leases == nil {
		h.notConfigured(w, r, "leases", "admin.WithLeases")
		return
	}
	pattern := r.URL.Query().Get("pattern")
	infos, err := h.cfg.leases.List(r.Context(), pattern)
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, err)
		return
	}
	d := leasesData{Pattern: pattern, Leases: infos, Total: len(infos)}
	if len(infos) > maxLeasesShown {
		d.Leases = infos[:maxLeasesShown]
	}
	h.views.render(w, r, h.page(w, r, "leases"), "leases", d)
}
