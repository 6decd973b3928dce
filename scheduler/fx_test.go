package scheduler_test

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/beignet-go/beignet/ctx"
	"github.com/beignet-go/beignet/scheduler"
)

// A constructor of the wrong type names the schedule and the signature it
// needs, instead of a chain of missing types.
func TestScheduleWithWrongConstructor(t *testing.T) {
	var nilFunc func() scheduler.Handler
	for name, constructor := range map[string]any{
		"unnamed func type": func() func(*ctx.Context) error { return nil },
		"handler itself":    func(*ctx.Context) error { return nil },
		"second result":     func() (scheduler.Handler, int) { return nil, 0 },
		"not a func":        "RunDailyReport",
		"nil":               nil,
		"nil func":          nilFunc,
	} {
		t.Run(name, func(t *testing.T) {
			err := fx.New(fx.NopLogger, scheduler.ScheduleWith("daily-report", "@daily", constructor)).Err()
			if !errors.Is(err, scheduler.ErrInvalidOption) {
				t.Fatalf("err = %v, want ErrInvalidOption", err)
			}
			for _, want := range []string{`"daily-report"`, "func(deps...) scheduler.Handler or func(deps...) (scheduler.Handler, error)"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %s", err, want)
				}
			}
		})
	}
	for name, constructor := range map[string]any{
		"handler":           func() scheduler.Handler { return func(*ctx.Context) error { return nil } },
		"handler and error": func() (scheduler.Handler, error) { return func(*ctx.Context) error { return nil }, nil },
		"with a dependency": func(*ctx.Ports) scheduler.Handler { return func(*ctx.Context) error { return nil } },
	} {
		t.Run(name, func(t *testing.T) {
			var d []scheduler.Definition
			err := fx.New(fx.NopLogger, fx.Supply(&ctx.Ports{}), scheduler.ScheduleWith("daily-report", "@daily", constructor),
				fx.Invoke(fx.Annotate(func(defs []scheduler.Definition) { d = defs }, fx.ParamTags(`group:"`+scheduler.SchedulesGroup+`"`)))).Err()
			if err != nil || len(d) != 1 || d[0].Name != "daily-report" || d[0].Handler == nil {
				t.Fatalf("err = %v, definitions %+v", err, d)
			}
		})
	}
}
