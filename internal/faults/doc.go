// Package faults holds the fault-injection suite: real OS processes, a real
// redis-server the tests own, and a loopback proxy that partitions or slows
// the network. Its tests re-execute the test binary as worker processes.
package faults
