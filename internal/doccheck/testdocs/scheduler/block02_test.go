// Code generated from docs/scheduler.md by internal/doccheck -update. DO NOT EDIT.

package docs

import (
	"context"
	"fmt"
	"github.com/beignet-go/beignet/scheduler"
	"time"
)

// PrintHistory prints the last ten runs of a schedule, from any instance.
func PrintHistory(c context.Context, s *scheduler.Scheduler, name string) error {
	runs, err := s.Runs(c, name, 10)
	if err != nil {
		return err // errors.Is(err, scheduler.ErrUnknownSchedule) for a bad name
	}
	for _, r := range runs {
		fmt.Printf("%s attempt %d on %s: %s (token %d) %s\n",
			r.Tick.Format(time.RFC3339), r.Attempt, r.Instance, r.Outcome, r.FencingToken, r.Err)
	}
	return nil
}
