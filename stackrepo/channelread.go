package stackrepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
)

// Reading channels: channel list, show and log.

// ChannelInfo is a channel as channel list shows it.
type ChannelInfo struct {
	Domain, Env string
	Ref         string
	Tip         plumbing.Hash
	// Current is its newest move: the stack it runs, when and by whom.
	Current Move
}

// Channels lists the channels of domain d, by env name.
func (r *Repo) Channels(d string) ([]ChannelInfo, error) {
	if err := CheckName("domain", d); err != nil {
		return nil, err
	}
	chans, err := r.channels(d)
	if err != nil {
		return nil, err
	}
	out := make([]ChannelInfo, 0, len(chans))
	for _, c := range chans {
		if len(c.Moves) == 0 {
			// its ref is no move of the channel: not listed as one (fsck
			// names it, and show and log say so)
			continue
		}
		out = append(out, ChannelInfo{Domain: d, Env: c.Env, Ref: c.Ref, Tip: c.Tip, Current: c.Moves[0]})
	}
	return out, nil
}

// ChannelLog is the history of channel <d>/<env>, newest first, at most
// max moves (all when max < 0): its chain of moves (the first-parent
// history of its ref, down to the first move). A channel without a ref
// is a *NoChannelError.
func (r *Repo) ChannelLog(d, env string, max int) ([]Move, error) {
	tip, err := r.channelTip(d, env)
	if err != nil {
		return nil, err
	}
	moves, err := r.moves(d, env, tip, max)
	if err == nil && len(moves) == 0 && max != 0 {
		// its ref is no move of the channel (show says the same)
		return nil, &NotMoveError{Domain: d, Env: env, Tip: tip}
	}
	return moves, err
}

// ChannelShow reads what channel <d>/<env> runs: its current move, and
// the stack as that move recorded it (the move's tree; the Stack's ID is
// the stack's, its Commit the move's, its Tag zero) with its packages:
// every one, or those named in only (see Show).
func (r *Repo) ChannelShow(d, env string, only []string) (*Move, *Stack, []Package, error) {
	tip, err := r.channelTip(d, env)
	if err != nil {
		return nil, nil, nil, err
	}
	moves, err := r.moves(d, env, tip, 1)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(moves) == 0 || moves[0].Stack.Name == "" {
		return nil, nil, nil, &NotMoveError{Domain: d, Env: env, Tip: tip}
	}
	m := moves[0]
	if r.RequireSigned {
		v, err := r.VerifyChannel(context.Background(), d, env)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := requireSigned(v); err != nil {
			return nil, nil, nil, err
		}
	}
	s, err := r.stackAt(m.Stack, plumbing.ZeroHash, m.Commit)
	if err != nil {
		return nil, nil, nil, err
	}
	pkgs, err := r.selectPackages(s, only)
	if err != nil {
		return nil, nil, nil, err
	}
	return &m, s, pkgs, nil
}

// channelTip is where channel <d>/<env> is (*NoChannelError when it has
// no ref).
func (r *Repo) channelTip(d, env string) (plumbing.Hash, error) {
	if err := CheckName("domain", d); err != nil {
		return plumbing.ZeroHash, err
	}
	if err := checkChannelName(env); err != nil {
		return plumbing.ZeroHash, err
	}
	tip, err := r.refs.Lookup(ChannelRef(d, env))
	if errors.Is(err, ErrRefNotFound) {
		return plumbing.ZeroHash, &NoChannelError{Domain: d, Env: env}
	}
	return tip, err
}

// NotMoveError says a channel's ref points at a commit that is no move
// of the channel.
type NotMoveError struct {
	Domain, Env string
	Tip         plumbing.Hash
}

func (e *NotMoveError) Error() string {
	ref := ChannelRef(e.Domain, e.Env)
	return fmt.Sprintf("%s points at %s, which is no move of channel %s/%s (no Gachette-Channel: %s/%s trailer naming a stack); "+
		"look at it (git log %s) and, if it is nobody's, remove it: git update-ref -d %s %s",
		ref, e.Tip, e.Domain, e.Env, e.Domain, e.Env, ref, ref, e.Tip)
}
