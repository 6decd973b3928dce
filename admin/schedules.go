package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/beignet-go/beignet/ledger"
	"github.com/beignet-go/beignet/scheduler"
)

// Scheduler is what the page needs of a scheduler to show and steer its
// schedules fleet-wide; *scheduler.Scheduler implements it, also when it was
// only created with scheduler.New on the fleet's Ports and never started.
type Scheduler interface {
	Schedules(ctx context.Context) ([]scheduler.ScheduleStatus, error)
	Runs(ctx context.Context, name string, limit int) ([]scheduler.RunRecord, error)
	Pause(ctx context.Context, name string) error
	Resume(ctx context.Context, name string) error
	RunNow(ctx context.Context, name string) error
}

// Instances lists the fleet's live scheduler instances; the app's
// Ports.Ledger implements it.
type Instances interface {
	Instances(ctx context.Context) ([]ledger.Instance, error)
}

// WithScheduler shows s's schedules and their runs, with pause, resume and
// run-now actions.
func WithScheduler(s Scheduler) Option { return func(c *config) { c.scheduler = s } }

// WithInstances shows the fleet's live instances beside the schedules.
func WithInstances(i Instances) Option { return func(c *config) { c.instances = i } }

// runsShown is how many runs the runs view lists unless ?limit= says.
const runsShown = 50

// maxLimit caps ?limit=, so that a page stays a page.
const maxLimit = 1000

// limitParam is the request's ?limit=: def when absent, at most maxLimit,
// and an error naming the value unless it is a whole number > 0.
func limitParam(r *http.Request, def int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("limit %q: want a whole number > 0", s)
	}
	return int(min(n, maxLimit)), nil
}

type schedulesData struct {
	Schedules []scheduler.ScheduleStatus
	Instances []ledger.Instance
}

func (h *handler) schedules(w http.ResponseWriter, r *http.Request) {
	if h.cfg.scheduler == nil {
		h.index(w, r)
		return
	}
	list, err := h.cfg.scheduler.Schedules(r.Context())
	if err != nil {
		h.fail(w, r, http.StatusBadGateway, err)
		return
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	d := schedulesData{Schedules: list}
	if h.cfg.instances != nil {
		if d.Instances, err = h.cfg.instances.Instances(r.Context()); err != nil {
			h.fail(w, r, http.StatusBadGateway, err)
			return
		}
	}
	h.views.render(w, r, h.page(w, r, "schedules"), "schedules", d)
}

type runsData struct {
	Schedule scheduler.ScheduleStatus
	Runs     []scheduler.RunRecord
	Limit    int
}

func (h *handler) runs(w http.ResponseWriter, r *http.Request) {
	if h.cfg.scheduler == nil {
		h.notConfigured(w, r, "schedules", "admin.WithScheduler")
		return
	}
	name := r.URL.Query().Get("schedule")
	limit, err := limitParam(r, runsShown)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err)
		return
	}
	st, err := h.status(r.Context(), name)
	if err != nil {
		h.failSchedule(w, r, err)
		return
	}
	runs, err := h.cfg.scheduler.Runs(r.Context(), name, limit)
	if err != nil {
		h.failSchedule(w, r, err)
		return
	}
	h.views.render(w, r, h.page(w, r, "schedules"), "runs", runsData{Schedule: st, Runs: runs, Limit: limit})
}

// status finds one schedule's status.
func (h *handler) status(ctx context.Context, name string) (scheduler.ScheduleStatus, error) {
	list, err := h.cfg.scheduler.Schedules(ctx)
	if err != nil {
		return scheduler.ScheduleStatus{}, err
	}
	for _, s := range list {
		if s.Name == name {
			return s, nil
		}
	}
	return scheduler.ScheduleStatus{}, fmt.Errorf("%w: %q", scheduler.ErrUnknownSchedule, name)
}

func (h *handler) failSchedule(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	if errors.Is(err, scheduler.ErrUnknownSchedule) {
		status = http.StatusNotFound
	}
	h.fail(w, r, status, err)
}

// scheduleAction is one of the POST actions on a schedule.
func (h *handler) scheduleAction(do func(Scheduler, context.Context, string) error, done string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if h.cfg.scheduler == nil {
			h.notConfigured(w, r, "schedules", "admin.WithScheduler")
			return
		}
		name := r.PostFormValue("schedule")
		if err := do(h.cfg.scheduler, r.Context(), name); err != nil {
			h.failSchedule(w, r, err)
			return
		}
		// Back to where the button was: the schedule's runs, or the list.
		view, q := "", url.Values(nil)
		if r.PostFormValue("from") == "runs" {
			view, q = "runs", url.Values{"schedule": {name}}
		}
		h.done(w, r, view, q, fmt.Sprintf(done, name))
	}
}
