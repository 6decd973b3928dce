package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// acquireVec is the lease acquire histogram. It is a plain HistogramVec
// plus, per series, a count of acquisitions observed as 0 (a single try on
// the in-process memory adapter, which finishes far below the first bucket):
// those cost one atomic add instead of a histogram observation, which keeps
// the decorator within its overhead budget on the cheapest backend
// (BenchmarkAcquireRelease). Collect folds the zeros into every bucket.
type acquireVec struct {
	timed *prometheus.HistogramVec // never registered; Collect reads it

	mu     sync.Mutex
	series []*acquireSeries // in creation order
	byKey  map[[2]string]*acquireSeries
}

// acquireSeries is one (backend, acquired) series.
type acquireSeries struct {
	timed   prometheus.Histogram
	zeros   atomic.Uint64
	backend string
	result  string
}

func newAcquireVec(opts prometheus.HistogramOpts) *acquireVec {
	return &acquireVec{
		timed: prometheus.NewHistogramVec(opts, []string{"backend", "acquired"}),
		byKey: map[[2]string]*acquireSeries{},
	}
}

// with returns the series of backend and result, creating it once.
func (v *acquireVec) with(backend, result string) *acquireSeries {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := [2]string{backend, result}
	if s, ok := v.byKey[k]; ok {
		return s
	}
	// A HistogramVec's children are Histograms; Collect needs their Write.
	s := &acquireSeries{timed: v.timed.WithLabelValues(backend, result).(prometheus.Histogram), backend: backend, result: result}
	v.byKey[k] = s
	v.series = append(v.series, s)
	return s
}

// observe records an acquisition that took seconds.
func (s *acquireSeries) observe(seconds float64) { s.timed.Observe(seconds) }

// observeZero records an acquisition too quick to time.
func (s *acquireSeries) observeZero() { s.zeros.Add(1) }

// Describe implements prometheus.Collector.
func (v *acquireVec) Describe(ch chan<- *prometheus.Desc) { v.timed.Describe(ch) }

// Collect implements prometheus.Collector.
func (v *acquireVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	series := append([]*acquireSeries(nil), v.series...)
	v.mu.Unlock()
	for _, s := range series {
		var m dto.Metric
		if err := s.timed.Write(&m); err != nil {
			ch <- prometheus.NewInvalidMetric(s.timed.Desc(), err)
			continue
		}
		zeros := s.zeros.Load()
		h := m.GetHistogram()
		buckets := make(map[float64]uint64, len(h.GetBucket()))
		for _, b := range h.GetBucket() {
			// 0 is within every bucket's upper bound.
			buckets[b.GetUpperBound()] = b.GetCumulativeCount() + zeros
		}
		ch <- prometheus.MustNewConstHistogram(s.timed.Desc(), h.GetSampleCount()+zeros, h.GetSampleSum(), buckets, s.backend, s.result)
	}
}
