package testserver

import "sync"

// TestingM is what goleak.VerifyTestMain and Main take: *testing.M.
type TestingM interface{ Run() int }

// Main returns m, made to stop every shared server once its tests have run
// (and before goleak looks for goroutines left behind).
func Main(m TestingM) TestingM { return mainM{m} }

type mainM struct{ m TestingM }

func (w mainM) Run() int {
	defer stopShared()
	return w.m.Run()
}

// stops holds how to stop each shared server started in this test process.
// It is process-wide on purpose: a shared server lives as long as the
// package's tests do.
var (
	stopsMu sync.Mutex
	stops   []func()
)

func stopShared() {
	stopsMu.Lock()
	defer stopsMu.Unlock()
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
	stops = nil
}

// Shared is a server started on first use and shared by the rest of the
// test process. A failed start is remembered, so every test that needs the
// server fails at once with the same error.
type Shared[T any] struct {
	// Start starts the server and returns it with the function that stops
	// it.
	Start func() (T, func(), error)

	mu      sync.Mutex
	started bool
	val     T
	err     error
}

// Get returns the server, starting it on the first call.
func (s *Shared[T]) Get() (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		var stop func()
		s.val, stop, s.err = s.Start()
		if s.err == nil {
			stopsMu.Lock()
			stops = append(stops, func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				stop()
				var zero T
				s.val, s.started = zero, false
			})
			stopsMu.Unlock()
		}
	}
	return s.val, s.err
}
