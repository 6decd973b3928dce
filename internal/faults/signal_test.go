package faults_test

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/jonboulle/clockwork"
)

func signalNotify(c chan os.Signal) { signal.Notify(c, syscall.SIGTERM, os.Interrupt) }

func clockworkReal() clockwork.Clock { return clockwork.NewRealClock() }
