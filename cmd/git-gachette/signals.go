package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interruptibleCommands stop their steps on build hosts and remotes on
// SIGINT or SIGTERM, say "interrupted" and exit 130. Every other command
// ends as a signal ends a process, as before git-gachette handled any.
var interruptibleCommands = map[string]bool{"quick": true, "build": true, "prepare": true, "lint": true, "push": true, "fetch": true}

// signals catches SIGINT and SIGTERM from the start of the process, so
// that one that comes before a command is under way is not lost (it ended
// the process with no word): it goes to the command once the command is
// known.
type signals struct {
	mu     sync.Mutex
	caught os.Signal
	mode   int // what to do with one: undecided, claimed or released
	ctx    context.Context
	cancel context.CancelFunc
}

const (
	undecided = iota
	claimed   // the command stops when ctx is done
	released  // the signal's default action: the process ends
)

// catchSignals starts catching SIGINT and SIGTERM.
func catchSignals() *signals {
	s := &signals{}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		for sig := range ch {
			s.mu.Lock()
			if s.caught == nil {
				s.caught = sig
			}
			switch s.mode {
			case claimed:
				s.cancel()
			case released:
				reraise(sig)
			}
			s.mu.Unlock()
		}
	}()
	return s
}

// decide is called once the command is known.
func (s *signals) decide(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if interruptibleCommands[name] {
		s.mode = claimed
		if s.caught != nil {
			s.cancel()
		}
		return
	}
	s.mode = released
	signal.Reset(os.Interrupt, syscall.SIGTERM)
	if s.caught != nil {
		reraise(s.caught)
	}
}

// interrupted reports whether a signal came before the command took it.
func (s *signals) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.caught != nil && s.mode == undecided
}

// reraise ends the process with sig's default action.
func reraise(sig os.Signal) {
	signal.Reset(sig)
	if n, ok := sig.(syscall.Signal); ok {
		syscall.Kill(os.Getpid(), n)
	}
}

// interruptible is the context of a command's steps on build hosts and of
// the git it runs for remotes: SIGINT or SIGTERM cancels it, which stops
// them (see remote.Executor; git is killed), and the command exits 130.
// stop ends the signal handling.
func (a *app) interruptible() (ctx context.Context, stop func()) {
	if a.signals == nil { // not through Main
		return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	}
	return a.signals.ctx, func() {}
}
