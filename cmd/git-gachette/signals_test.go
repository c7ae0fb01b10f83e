package main

import (
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// A signal that comes before the command is known (the first
// milliseconds: configuration, the stacks repository) is not lost: an
// interruptible command gets it as soon as it takes over (it exited 143
// with no word when the signal came that early).
func TestSignalBeforeTheCommand(t *testing.T) {
	s := catchSignals()
	defer signal.Reset(syscall.SIGINT, syscall.SIGTERM)
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); !s.pending(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the signal was not caught")
		}
	}
	if s.ctx.Err() != nil {
		t.Fatal("cancelled before the command took it")
	}
	s.decide("quick")
	select {
	case <-s.ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("quick's context was not cancelled")
	}
	if s.pending() {
		t.Error("still pending once taken")
	}
}
