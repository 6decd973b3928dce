package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/beignet-go/beignet/outbox"
)

// deadShown is how many dead letters the outbox view lists unless ?limit=
// says.
const deadShown = 100

// previewBytes is how much of a payload a dead letter's row shows.
const previewBytes = 200

type outboxData struct {
	Stats        outbox.Stats
	Dead         []outbox.Message
	PreviewBytes int
}

func (h *handler) outbox(w http.ResponseWriter, r *http.Request) {
	if h.cfg.outbox == nil {
		h.notConfigured(w, r, "outbox", "admin.WithOutbox")
		return
	}
	limit, err := limitParam(r, deadShown)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	st, err := h.cfg.outbox.Stats(r.Context())
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, err)
		return
	}
	dead, err := h.cfg.outbox.DeadLetters(r.Context(), limit)
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, err)
		return
	}
	h.views.render(w, r, h.page(w, r, "outbox"), "outbox", outboxData{Stats: st, Dead: dead, PreviewBytes: previewBytes})
}

// retry requeues the dead letter in the form's "id", or every dead letter
// when "all" is set.
func (h *handler) retry(w http.ResponseWriter, r *http.Request) {
	if h.cfg.outbox == nil {
		h.notConfigured(w, r, "outbox", "admin.WithOutbox")
		return
	}
	if r.PostFormValue("all") != "" {
		n, err := h.cfg.outbox.RequeueDead(r.Context())
		if err != nil {
			h.fail(w, r, http.StatusBadGateway, err)
			return
		}
		h.done(w, r, "outbox", nil, fmt.Sprintf("Requeued %d dead letters.", n))
		return
	}
	raw := r.PostFormValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, fmt.Errorf("retry: id %q is not a message id", raw))
		return
	}
	if err := h.cfg.outbox.Requeue(r.Context(), id); err != nil {
		status := http.StatusBadGateway
		switch {
		case errors.Is(err, outbox.ErrUnknownMessage):
			status = http.StatusNotFound
		case errors.Is(err, outbox.ErrNotDead):
			status = http.StatusConflict
		}
		h.fail(w, r, status, err)
		return
	}
	h.done(w, r, "outbox", url.Values{}, fmt.Sprintf("Requeued message %d.", id))
}
