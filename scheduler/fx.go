package scheduler

import (
	"context"
	"fmt"
	"reflect"

	"go.uber.org/fx"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/internal/fxcheck"
)

// Definition is one schedule registered through fx.
type Definition struct {
	// Name is the schedule's name, unique in the app.
	Name string
	// Spec is its cron spec.
	Spec string
	// Handler does the work of each run.
	Handler Handler
	// Options configure the schedule.
	Options []ScheduleOption
}

// TasksGroup is the fx value group of Tasks that Module runs. A provider
// whose task needs other dependencies (the outbox's Drain does) provides a
// Task into it with fx.ResultTags(`group:"beignet.tasks"`).
const TasksGroup = "beignet.tasks"

// SchedulesGroup is the fx value group of Definitions that Module runs;
// Schedule and ScheduleWith provide into it.
const SchedulesGroup = "beignet.schedules"

// groupTag is the fx tag that names value group g.
func groupTag(g string) string { return `group:"` + g + `"` }

// RegisterTask registers a fixed task from an app's providers.
func RegisterTask(t Task) fx.Option {
	return fx.Supply(fx.Annotated{Group: TasksGroup, Target: t})
}

// Schedule registers a schedule from an app's providers.go:
//
//	scheduler.Schedule("daily-report", "0 7 * * *", RunDailyReport)
//
// beignet.New runs the scheduler within the app's lifecycle whenever at
// least one schedule is registered. A bad spec, name or handler fails the
// app's start with Add's error.
func Schedule(name, spec string, h Handler, opts ...ScheduleOption) fx.Option {
	return fx.Supply(fx.Annotated{
		Group:  SchedulesGroup,
		Target: Definition{Name: name, Spec: spec, Handler: h, Options: opts},
	})
}

// Configure sets scheduler options (instance id, skew tolerance, location,
// hooks) for the app's scheduler.
func Configure(opts ...Option) fx.Option {
	var supplied []any
	for _, o := range opts {
		supplied = append(supplied, fx.Annotated{Group: OptionsGroup, Target: o})
	}
	return fx.Supply(supplied...)
}

// OptionsGroup is the fx value group of Options that Module applies. A
// provider whose Option needs other dependencies (metrics.Provider's hook
// does) provides an Option into it with fx.ResultTags(`group:"beignet.scheduler.options"`).
const OptionsGroup = "beignet.scheduler.options"

// Module runs the registered schedules within the fx lifecycle: Start on
// app start, Stop (graceful, up to the stop timeout) on app stop. It
// provides the *Scheduler, for readiness checks and operators; with no
// schedule or task registered it is never started. beignet.New includes
// it; an app assembled without beignet.New adds it itself.
func Module() fx.Option {
	return fx.Module("scheduler",
		// Tags built from the group constants, not struct tags, so that
		// each group's name is spelled once.
		fx.Provide(fx.Annotate(newModule,
			fx.ParamTags("", "", groupTag(SchedulesGroup), groupTag(OptionsGroup), groupTag(TasksGroup)))),
		// Built even when nothing asks for it, since it runs the schedules.
		fx.Invoke(func(*Scheduler) {}),
	)
}

func newModule(lc fx.Lifecycle, ports *ctx.Ports, defs []Definition, opts []Option, tasks []Task) (*Scheduler, error) {
	s := New(ports, opts...)
	if len(defs) == 0 && len(tasks) == 0 {
		return s, nil
	}
	for _, d := range defs {
		if err := s.Add(d.Name, d.Spec, d.Handler, d.Options...); err != nil {
			return nil, err
		}
	}
	for _, t := range tasks {
		if err := s.AddTask(t); err != nil {
			return nil, err
		}
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { return s.Start() },
		OnStop:  s.Stop,
	})
	return s, nil
}

// ScheduleWith registers a schedule whose handler is built by constructor,
// an fx constructor returning a Handler (and optionally an error), so the
// handler can depend on the app's own services:
//
//	scheduler.ScheduleWith("daily-report", "0 7 * * *",
//		func(r *Reports) scheduler.Handler { return r.RunDailyReport })
//
// A constructor of any other type fails the app's start with
// ErrInvalidOption naming the schedule and the signature it needs.
func ScheduleWith(name, spec string, constructor any, opts ...ScheduleOption) fx.Option {
	if err := fxcheck.Constructor(constructor, handlerType); err != nil {
		return fx.Error(fmt.Errorf("%w: ScheduleWith(%q): %v", ErrInvalidOption, name, err))
	}
	tag := `name:"beignet.schedule.` + name + `"`
	return fx.Options(
		fx.Provide(fx.Annotate(constructor, fx.ResultTags(tag))),
		fx.Provide(fx.Annotate(
			func(h Handler) Definition { return Definition{Name: name, Spec: spec, Handler: h, Options: opts} },
			fx.ParamTags(tag),
			fx.ResultTags(groupTag(SchedulesGroup)),
		)),
	)
}

var handlerType = reflect.TypeFor[Handler]()
