package stackrepo

import (
	"errors"
	"fmt"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Moving channels (SPEC §6): promote and rollback, each one commit on the
// channel's chain, moved by compare-and-swap in one ref transaction that
// also verifies the stack's tag is the one read.

// PromoteRequest asks Promote to make channel <Stack.Domain>/<Env> run
// Stack.
type PromoteRequest struct {
	Stack StackID
	Env   string
	// Requires is the env of the domain whose channel must have run
	// Stack first (gachette.channel.<Env>.requires; "" when none), and
	// RequiresKey the setting that says so, for the messages.
	Requires, RequiresKey string
	Identity              Identity
}

// RollbackRequest asks Rollback to make channel <Domain>/<Env> run again
// a stack it ran: To, or when To is "" the stack it ran before the one
// it runs now.
type RollbackRequest struct {
	Domain, Env string
	To          string
	Identity    Identity
}

// MoveResult tells what a promote or rollback did.
type MoveResult struct {
	Move
	// Ref is the channel's ref.
	Ref string
	// Unchanged says the channel runs the stack already: nothing was
	// written (Move is then the channel's current move).
	Unchanged bool
	// Attempts counts tries; more than one means the move lost races.
	Attempts int
}

// GateError says a promotion is refused by a gate
// (gachette.channel.<env>.requires).
type GateError struct {
	Stack    StackID
	Env      string
	Requires string
	Key      string
}

func (e *GateError) Error() string {
	return fmt.Sprintf("cannot promote %s to %s/%s: %s = %s, and channel %s/%s has not run %s; promote it there first: git gachette promote %s %s",
		e.Stack, e.Stack.Domain, e.Env, e.Key, e.Requires, e.Stack.Domain, e.Requires, e.Stack, e.Stack, e.Requires)
}

// NoChannelError says a channel has no ref: nothing was promoted to it.
type NoChannelError struct {
	Domain, Env string
}

func (e *NoChannelError) Error() string {
	return fmt.Sprintf("channel %s/%s does not exist: no stack was promoted to it; promote one with: git gachette promote STACK %s --domain %s "+
		"(git gachette channel list --domain %s lists the channels)", e.Domain, e.Env, e.Env, e.Domain, e.Domain)
}

// Promote makes channel <Stack.Domain>/<Env> run Stack: a new move on the
// channel (see Move), unless it runs Stack already. A gate (Requires)
// refuses a stack that channel has not run (*GateError). The channel
// moves by compare-and-swap in one ref transaction that verifies the
// stack's tag (and the gate's channel) are as read; a concurrent move
// makes it re-read and try again, so every move lands, in order.
func (r *Repo) Promote(req PromoteRequest) (*MoveResult, error) {
	d := req.Stack.Domain
	if err := checkChannelName(req.Env); err != nil {
		return nil, err
	}
	if req.Requires != "" {
		if err := CheckName("channel", req.Requires); err != nil {
			return nil, fmt.Errorf("%s: %w", req.RequiresKey, err)
		}
		if req.Requires == req.Env {
			return nil, fmt.Errorf("%s = %s names the channel itself, so no stack could ever be promoted to it; name the channel a stack must run first (git config %s staging)",
				req.RequiresKey, req.Requires, req.RequiresKey)
		}
	}
	return r.moveChannel(d, req.Env, "promote", "promote "+req.Stack.String()+" to "+d+"/"+req.Env, req.Identity,
		func(c channel) (StackID, []RefUpdate, error) {
			if req.Requires == "" {
				return req.Stack, nil, nil
			}
			// a stack that does not exist is named as such, gate or not
			if _, err := r.Stack(req.Stack); err != nil {
				return StackID{}, nil, err
			}
			gate, ok, err := r.channel(d, req.Requires)
			if err != nil {
				return StackID{}, nil, err
			}
			if !slices.Contains(gate.Ran, req.Stack.Name) {
				return StackID{}, nil, &GateError{Stack: req.Stack, Env: req.Env, Requires: req.Requires, Key: req.RequiresKey}
			}
			var verify []RefUpdate
			if ok {
				verify = append(verify, RefUpdate{Name: gate.Ref, Old: gate.Tip, New: gate.Tip})
			}
			return req.Stack, verify, nil
		})
}

// Rollback makes channel <Domain>/<Env> run again a stack it ran: To, or
// the stack it ran before the one it runs now (the newest move, down its
// chain, of another stack). It is a move like Promote's (action
// rollback); gates do not apply, since the channel ran the stack.
func (r *Repo) Rollback(req RollbackRequest) (*MoveResult, error) {
	d := req.Domain
	if err := CheckName("domain", d); err != nil {
		return nil, err
	}
	if err := checkChannelName(req.Env); err != nil {
		return nil, err
	}
	if req.To != "" {
		if err := CheckName("stack", req.To); err != nil {
			return nil, err
		}
	}
	return r.moveChannel(d, req.Env, "rollback", "rollback "+d+"/"+req.Env, req.Identity,
		func(c channel) (StackID, []RefUpdate, error) {
			if len(c.Moves) == 0 {
				return StackID{}, nil, &NoChannelError{Domain: d, Env: req.Env}
			}
			if req.To != "" {
				if !slices.Contains(c.Ran, req.To) {
					return StackID{}, nil, fmt.Errorf("channel %s/%s never ran %s/%s: rollback goes back to a stack the channel ran (git gachette channel log %s --domain %s lists them); "+
						"to run another stack, promote it: git gachette promote %s/%s %s", d, req.Env, d, req.To, req.Env, d, d, req.To, req.Env)
				}
				return StackID{Domain: d, Name: req.To}, nil, nil
			}
			for _, m := range c.Moves[1:] {
				if m.Stack.Name != "" && m.Stack.Name != c.Runs {
					return m.Stack, nil, nil
				}
			}
			why := "it has run only " + d + "/" + c.Runs
			if c.Moves[len(c.Moves)-1].ShallowBoundary {
				why += " in the history this shallow clone has (git fetch --unshallow brings the rest)"
			}
			return StackID{}, nil, fmt.Errorf("channel %s/%s has no earlier stack to roll back to: %s; to run another stack, promote it: git gachette promote STACK %s --domain %s",
				d, req.Env, why, req.Env, d)
		})
}

// checkChannelName validates an env name.
func checkChannelName(env string) error {
	if err := CheckName("channel", env); err != nil {
		return fmt.Errorf("%w (a channel is an environment of the domain, like staging or prod)", err)
	}
	return nil
}

// moveChannel moves channel <d>/<env> (action promote or rollback) to
// the stack choose picks from the channel as read (with refs the
// transaction must find unchanged), retrying lost races. what names the
// move for the errors.
func (r *Repo) moveChannel(d, env, action, what string, ident Identity, choose func(channel) (StackID, []RefUpdate, error)) (*MoveResult, error) {
	var res *MoveResult
	attempts, err := r.retry(what, func() error {
		var err error
		res, err = r.tryMove(d, env, action, ident, choose)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Attempts = attempts
	return res, nil
}

func (r *Repo) tryMove(d, env, action string, ident Identity, choose func(channel) (StackID, []RefUpdate, error)) (*MoveResult, error) {
	c, _, err := r.channel(d, env)
	if err != nil {
		return nil, err
	}
	if !c.Tip.IsZero() && (len(c.Moves) == 0 || c.Runs == "") {
		return nil, &NotMoveError{Domain: d, Env: env, Tip: c.Tip}
	}
	target, verify, err := choose(c)
	if err != nil {
		return nil, err
	}
	res := &MoveResult{Ref: c.Ref}
	if len(c.Moves) > 0 && c.Runs == target.Name {
		res.Move, res.Unchanged = c.Moves[0], true
		return res, nil
	}
	st, err := r.Stack(target)
	if err != nil {
		return nil, err
	}
	// every stanza read as show reads it: what does not read is not run
	if _, err := r.Packages(st); err != nil {
		return nil, err
	}
	sc, err := r.readCommit(st.Commit)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", target, err)
	}
	m := Move{Channel: d + "/" + env, Stack: target, StackCommit: st.Commit, Action: action, Was: c.Runs}
	m.Subject = fmt.Sprintf("%s: %s %s", m.Channel, action, target.Name)
	if action == "rollback" {
		m.Subject = fmt.Sprintf("%s: rollback to %s", m.Channel, target.Name)
	}
	if c.Runs != "" {
		m.Subject += " (was " + c.Runs + ")"
	}
	msg := m.Subject + "\n\n" +
		"Gachette-Channel: " + m.Channel + "\n" +
		"Gachette-Stack: " + target.String() + "\n" +
		"Gachette-Action: " + action + "\n" +
		"Gachette-Format: " + FormatVersion + "\n"
	parents := []plumbing.Hash{st.Commit}
	if !c.Tip.IsZero() {
		parents = []plumbing.Hash{c.Tip, st.Commit}
	}
	commit := &object.Commit{Author: ident.Author, Committer: ident.Committer, Message: msg, TreeHash: sc.TreeHash, ParentHashes: parents}
	var h plumbing.Hash
	if ident.Sign {
		h, err = r.signedCommit("channel "+m.Channel, ident, commit)
	} else {
		h, err = r.writeObject(commit)
	}
	var signErr *SigningError
	if errors.As(err, &signErr) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("channel %s: write commit: %w", m.Channel, err)
	}
	r.syncObjects(h)
	updates := append([]RefUpdate{
		{Name: c.Ref, Old: c.Tip, New: h},
		{Name: target.TagRef(), Old: st.Tag, New: st.Tag},
	}, verify...)
	if err := r.refs.Update("gachette: "+m.Subject, updates...); err != nil {
		return nil, err
	}
	m.Commit, m.Date = h, ident.Committer.When
	m.Author = ident.Author.Name + " <" + ident.Author.Email + ">"
	m.Committer = ident.Committer.Name + " <" + ident.Committer.Email + ">"
	res.Move = m
	return res, nil
}
