package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/beignet-go/beignet/internal/humanize"
	"github.com/beignet-go/beignet/scheduler"
)

var schedulesCommand = command{
	name:    "schedules",
	summary: "every schedule: spec, location, next tick, paused, last run, the live instances that run it; and every live instance",
	run:     runSchedules,
}

var runsCommand = command{
	name:    "runs",
	args:    "NAME",
	summary: "a schedule's runs, newest first, fleet-wide",
	flags:   limitFlag,
	run:     runRuns,
}

var pauseCommand = scheduleControl("pause", "pause a schedule fleet-wide (survives restarts)", "paused",
	func(s *scheduler.Scheduler, c context.Context, name string) error { return s.Pause(c, name) })

var resumeCommand = scheduleControl("resume", "resume a paused schedule fleet-wide", "resumed",
	func(s *scheduler.Scheduler, c context.Context, name string) error { return s.Resume(c, name) })

var runCommand = scheduleControl("run", "run a schedule now, on exactly one instance of the fleet", "requested",
	func(s *scheduler.Scheduler, c context.Context, name string) error { return s.RunNow(c, name) })

// runJSON is one run record in --json output. Field names are stable.
type runJSON struct {
	Schedule     string     `json:"schedule"`
	Tick         time.Time  `json:"tick"`
	Manual       bool       `json:"manual"`
	Attempt      int        `json:"attempt"`
	Instance     string     `json:"instance"`
	FencingToken uint64     `json:"fencing_token"`
	Outcome      string     `json:"outcome"`
	Started      time.Time  `json:"started"`
	Finished     *time.Time `json:"finished"`
	Error        string     `json:"error"`
}

func runRecordJSON(r scheduler.RunRecord) runJSON {
	j := runJSON{
		Schedule: r.Schedule, Tick: r.Tick, Manual: r.Manual, Attempt: r.Attempt, Instance: r.Instance,
		FencingToken: r.FencingToken, Outcome: string(r.Outcome), Started: r.Started, Error: r.Err,
	}
	if !r.Finished.IsZero() {
		j.Finished = &r.Finished
	}
	return j
}

// scheduleJSON is one schedule in --json output. Field names are stable.
type scheduleJSON struct {
	Name     string     `json:"name"`
	Spec     string     `json:"spec"`
	Location string     `json:"location"`
	Next     *time.Time `json:"next"`
	Paused   bool       `json:"paused"`
	Last     *runJSON   `json:"last"`
	// Instances are the live instances that run it, sorted; [] for none.
	Instances []string `json:"instances"`
}

type instanceJSON struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
	// Schedules are the schedules it runs, sorted; [] for none.
	Schedules []string `json:"schedules"`
}

func runSchedules(c context.Context, inv *invocation, pos []string) error {
	if err := noArgs(pos); err != nil {
		return err
	}
	f, err := inv.fleet(c)
	if err != nil {
		return err
	}
	defer f.close()
	list, err := f.sched.Schedules(c)
	if err != nil {
		return err
	}
	insts, err := f.ports.Ledger.Instances(c)
	if err != nil {
		return err
	}
	doc := struct {
		Schedules []scheduleJSON `json:"schedules"`
		Instances []instanceJSON `json:"instances"`
	}{Schedules: []scheduleJSON{}, Instances: []instanceJSON{}}
	for _, s := range list {
		j := scheduleJSON{Name: s.Name, Spec: s.Spec, Paused: s.Paused, Instances: append([]string{}, s.Instances...)}
		if s.Location != nil {
			j.Location = s.Location.String()
		}
		if !s.Next.IsZero() {
			j.Next = &s.Next
		}
		if s.Last != nil {
			l := runRecordJSON(*s.Last)
			j.Last = &l
		}
		doc.Schedules = append(doc.Schedules, j)
	}
	for _, in := range insts {
		doc.Instances = append(doc.Instances, instanceJSON{ID: in.ID, Expires: in.Expires, Schedules: append([]string{}, in.Schedules...)})
	}
	now := time.Now()
	return inv.emit(doc, func(w *tabwriter.Writer) {
		row(w, "NAME", "SPEC", "LOCATION", "NEXT", "PAUSED", "LAST RUN", "LAST INSTANCE", "LAST STARTED", "LIVE INSTANCES")
		for _, s := range doc.Schedules {
			next := "-"
			if s.Next != nil {
				next = humanize.Ago(now, *s.Next)
			}
			last, inst, started := "never", "", ""
			if s.Last != nil {
				last, inst, started = s.Last.Outcome, s.Last.Instance, humanize.Ago(now, s.Last.Started)
				if s.Last.Manual {
					last += " (run now)"
				}
			}
			live := make([]string, len(s.Instances))
			for i, id := range s.Instances {
				live[i] = cell(id)
			}
			row(w, s.Name, s.Spec, s.Location, next, strconv.FormatBool(s.Paused), last, inst, started, strings.Join(live, ", "))
		}
		ids := make([]string, 0, len(doc.Instances))
		for _, in := range doc.Instances {
			ids = append(ids, cell(in.ID))
		}
		if len(ids) == 0 {
			ids = append(ids, "none")
		}
		fmt.Fprintf(w, "\nlive instances (%d): %s\n", len(doc.Instances), strings.Join(ids, ", "))
	})
}

func runRuns(c context.Context, inv *invocation, pos []string) error {
	if len(pos) != 1 {
		return usagef("want one schedule name, got %d arguments", len(pos))
	}
	if err := inv.o.checkLimit(); err != nil {
		return err
	}
	f, err := inv.fleet(c)
	if err != nil {
		return err
	}
	defer f.close()
	runs, err := f.sched.Runs(c, pos[0], inv.o.limit)
	if err != nil {
		return err
	}
	doc := struct {
		Schedule string    `json:"schedule"`
		Runs     []runJSON `json:"runs"`
	}{Schedule: pos[0], Runs: []runJSON{}}
	for _, r := range runs {
		doc.Runs = append(doc.Runs, runRecordJSON(r))
	}
	now := time.Now()
	return inv.emit(doc, func(w *tabwriter.Writer) {
		row(w, "TICK", "KIND", "ATTEMPT", "INSTANCE", "TOKEN", "OUTCOME", "STARTED", "TOOK", "ERROR")
		for _, r := range runs {
			kind, took := "tick", "-"
			if r.Manual {
				kind = "run now"
			}
			if !r.Finished.IsZero() {
				took = humanize.Duration(r.Finished.Sub(r.Started))
			}
			row(w, r.Tick.UTC().Format(time.RFC3339), kind, strconv.Itoa(r.Attempt), r.Instance,
				uintString(r.FencingToken), string(r.Outcome), humanize.Ago(now, r.Started), took, r.Err)
		}
	})
}

// scheduleControl is pause, resume or run: one name, one fleet-wide call.
func scheduleControl(name, summary, done string, do func(*scheduler.Scheduler, context.Context, string) error) command {
	return command{
		name: name, args: "NAME", summary: summary,
		run: func(c context.Context, inv *invocation, pos []string) error {
			if len(pos) != 1 {
				return usagef("want one schedule name, got %d arguments", len(pos))
			}
			f, err := inv.fleet(c)
			if err != nil {
				return err
			}
			defer f.close()
			if err := do(f.sched, c, pos[0]); err != nil {
				return err
			}
			doc := struct {
				Schedule string `json:"schedule"`
				Action   string `json:"action"`
			}{pos[0], name}
			return inv.emit(doc, func(w *tabwriter.Writer) {
				row(w, "SCHEDULE", "DONE")
				row(w, pos[0], done)
			})
		},
	}
}
