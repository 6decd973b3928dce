package main

import (
	"context"
	"sync"
	"time"

	"github.com/beignet-go/beignet/outbox"
)

// memoryReports keeps orders and reports in memory, committing them with the
// outbox's memory transaction.
type memoryReports struct {
	store *outbox.Memory

	mu      sync.Mutex
	orders  []int64 // amounts in cents
	reports map[time.Time]Report
}

func newMemoryReports(store *outbox.Memory) Reports {
	return &memoryReports{
		store:   store,
		orders:  []int64{1250, 4999, 300, 8700}, // a small seeded table
		reports: make(map[time.Time]Report),
	}
}

func (m *memoryReports) Describe() string { return "memory (orders and outbox in this process)" }

func (m *memoryReports) Create(ctx context.Context, period time.Time, token uint64) (Report, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.reports[period]; ok {
		return r, false, nil
	}
	r := Report{Period: period, Orders: len(m.orders), Token: token}
	for _, cents := range m.orders {
		r.Revenue += cents
	}
	msg, err := readyMessage(r)
	if err != nil {
		return Report{}, false, err
	}
	tx := m.store.Begin()
	defer tx.Rollback()
	if err := m.store.Enqueue(ctx, tx, msg); err != nil {
		return Report{}, false, err
	}
	tx.OnCommit(func() { m.reports[period] = r })
	return r, true, tx.Commit()
}

// count reports how many reports exist, for tests.
func (m *memoryReports) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.reports)
}

// get returns the report for period, for tests.
func (m *memoryReports) get(period time.Time) (Report, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reports[period]
	return r, ok
}
