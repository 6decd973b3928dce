package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
)

// An operator's process (a CLI) builds a scheduler on the fleet's ports,
// never starts it and adds nothing: its controls act on the ledger, and
// the fleet's instance sees them.
func TestControlsFromAnUnstartedScheduler(t *testing.T) {
	tp := newPorts(t)
	worker := scheduler.New(tp.Ports, scheduler.WithInstanceID("worker"))
	mustAdd(t, worker, "report", "CRON_TZ=Europe/Berlin 0 7 * * *", func(*ctx.Context) error { return nil })
	start(t, worker)

	cli := scheduler.New(tp.Ports, scheduler.WithInstanceID("cli"))
	c := context.Background()
	all, err := cli.Schedules(c)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 1 || all[0].Name != "report" || all[0].Spec != "CRON_TZ=Europe/Berlin 0 7 * * *" ||
		all[0].Location.String() != "Europe/Berlin" || all[0].Paused || all[0].Last != nil {
		t.Fatalf("Schedules = %+v", all)
	}
	if want := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC); !all[0].Next.Equal(want) {
		t.Errorf("Next = %v, want %v", all[0].Next, want)
	}
	if err := cli.Pause(c, "report"); err != nil {
		t.Fatal(err)
	}
	if all, _ := worker.Schedules(c); !all[0].Paused {
		t.Errorf("the worker does not see the pause")
	}
	if err := cli.Resume(c, "report"); err != nil {
		t.Fatal(err)
	}
	if all, _ := worker.Schedules(c); all[0].Paused {
		t.Errorf("the worker does not see the resume")
	}
	if rs, err := cli.Runs(c, "report", 10); err != nil || len(rs) != 0 {
		t.Errorf("Runs = %+v, %v", rs, err)
	}
}

func TestControlsRejectUnknownNames(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports)
	c := context.Background()
	const name = "no-such-schedule"
	for what, err := range map[string]error{
		"Runs":   errOf(s.Runs(c, name, 1)),
		"Pause":  s.Pause(c, name),
		"Resume": s.Resume(c, name),
		"RunNow": s.RunNow(c, name),
		"Remove": s.Remove(name),
	} {
		if !errors.Is(err, scheduler.ErrUnknownSchedule) || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("%s: %v, want ErrUnknownSchedule naming the schedule", what, err)
		}
	}
	if _, err := s.Runs(c, name, -1); !errors.Is(err, scheduler.ErrInvalidOption) {
		t.Errorf("Runs(limit -1): %v, want ErrInvalidOption", err)
	}
	if all, err := s.Schedules(c); err != nil || len(all) != 0 {
		t.Errorf("Schedules on an empty ledger = %+v, %v", all, err)
	}
}

func errOf[T any](_ T, err error) error { return err }

func TestRetryOptionValidated(t *testing.T) {
	tp := newPorts(t)
	s := scheduler.New(tp.Ports)
	ok := func(*ctx.Context) error { return nil }
	for _, o := range []scheduler.ScheduleOption{
		scheduler.Retry(0, time.Second, time.Minute),
		scheduler.Retry(-1, time.Second, time.Minute),
		scheduler.Retry(3, 0, time.Minute),
		scheduler.Retry(3, -time.Second, time.Minute),
		scheduler.Retry(3, time.Minute, time.Second),
	} {
		if err := s.Add("r", "@hourly", ok, o); !errors.Is(err, scheduler.ErrInvalidOption) || !strings.Contains(err.Error(), `"r"`) {
			t.Errorf("Add with a bad Retry: %v, want ErrInvalidOption naming the schedule", err)
		}
	}
	if err := s.Add("r", "@hourly", ok, scheduler.Retry(1, time.Second, time.Second)); err != nil {
		t.Errorf("Retry(1, 1s, 1s): %v", err)
	}
}
