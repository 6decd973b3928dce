// Package netproxy is a loopback TCP proxy for fault tests: it forwards
// connections to a target and can blackhole them or add latency, which is
// how tests model a partition or a slow network without root or iptables.
package netproxy

import (
	"net"
	"sync"
	"time"
)

// Proxy forwards every connection accepted on Addr to a target.
type Proxy struct {
	ln     net.Listener
	target string

	mu        sync.Mutex
	blackhole bool
	latency   time.Duration
	conns     map[net.Conn]struct{}
	wake      chan struct{} // closed and replaced when the mode changes
	closed    bool
	wg        sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, wake: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the address clients should dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Blackhole makes the proxy hold every byte in both directions (on) or
// forward them again (off). Connections stay open, as in a partition.
func (p *Proxy) Blackhole(on bool) { p.set(func() { p.blackhole = on }) }

// SetLatency delays every forwarded chunk by d.
func (p *Proxy) SetLatency(d time.Duration) { p.set(func() { p.latency = d }) }

func (p *Proxy) set(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	close(p.wake)
	p.wake = make(chan struct{})
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	err := p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	close(p.wake)
	p.wake = make(chan struct{})
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// pipe copies src to dst, holding data while blackholed and delaying it by
// the latency.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.hold() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// hold waits out a blackhole and the latency. It reports false once the
// proxy is closed.
func (p *Proxy) hold() bool {
	for {
		p.mu.Lock()
		closed, bh, lat, wake := p.closed, p.blackhole, p.latency, p.wake
		p.mu.Unlock()
		switch {
		case closed:
			return false
		case bh:
			<-wake
		case lat > 0:
			t := time.NewTimer(lat)
			select {
			case <-t.C:
				return true
			case <-wake:
				t.Stop()
				// Mode changed mid-delay: re-evaluate (a blackhole may
				// have begun).
			}
		default:
			return true
		}
	}
}
