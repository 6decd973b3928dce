package locks

// Len reports how many keys m tracks, expired or not, for tests of its
// memory bound.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.held) + len(m.waiters)
}
