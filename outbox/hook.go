package outbox

// PublishOutcome is what became of one publish attempt.
type PublishOutcome string

// Outcomes of a publish attempt.
const (
	// OutcomePublished: the publisher accepted the message.
	OutcomePublished PublishOutcome = "published"
	// OutcomeRetry: the publisher failed; the message waits out a backoff.
	OutcomeRetry PublishOutcome = "retry"
	// OutcomeDead: the publisher failed for the last allowed time; the
	// message is dead-lettered.
	OutcomeDead PublishOutcome = "dead"
)

// PublishHook observes every publish attempt of a drain, for metrics. It
// is called from the drain's pass and must not block.
type PublishHook interface {
	OnPublish(drain string, msg Message, outcome PublishOutcome)
}

// PublishHooksGroup is the fx value group of PublishHooks that every drain
// registered with Drain or DrainWith calls. metrics.Provider contributes
// one.
const PublishHooksGroup = "beignet.outbox.publish_hooks"

// WithPublishHook adds a hook that observes the drain's publish attempts.
func WithPublishHook(h PublishHook) Option {
	return func(o *drainOptions) { o.hooks = append(o.hooks, h) }
}

func (d *Drainer) notify(m Message, outcome PublishOutcome) {
	for _, h := range d.o.hooks {
		h.OnPublish(d.name, m, outcome)
	}
}
