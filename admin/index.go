package admin

import "net/http"

// index is the landing page: what the handler was given, with links.
func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	h.views.render(w, r, h.page(w, r, "index"), "index", nil)
}
