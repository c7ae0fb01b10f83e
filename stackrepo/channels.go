package stackrepo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
)

// channelPrefix holds the channels: refs/gachette/channels/<domain>/<env>,
// each a chain of moves (SPEC §6).
const channelPrefix = "refs/gachette/channels/"

// ChannelRef is the ref of channel <domain>/<env>.
func ChannelRef(domain, env string) string { return channelPrefix + domain + "/" + env }

// channel is a channel as read: its ref, where it is, and the stacks its
// moves name.
type channel struct {
	Env string
	Ref string
	Tip plumbing.Hash
	// Runs is the stack it runs now ("" when its ref is no move); Ran
	// are the stacks its moves name, newest first, each once.
	Runs string
	Ran  []string
	// Moves are its moves, newest first.
	Moves []Move
}

// Move is one move of a channel: a commit whose Gachette-Channel trailer
// names the channel, whose tree is the stack's, whose first parent is the
// previous move (none for the first) and whose last parent is the
// stack's commit.
type Move struct {
	Commit plumbing.Hash
	// Channel is <domain>/<env>.
	Channel string
	// Stack is the stack the channel runs from this move on (zero when
	// its Gachette-Stack trailer names no stack of the domain).
	Stack StackID
	// StackCommit is the stack's commit the move ran (its last parent).
	StackCommit plumbing.Hash
	// Action is promote or rollback.
	Action string
	// Was is the stack the channel ran before ("" for the first move).
	Was string
	// Date is the committer date; Author and Committer are "Name <email>".
	Date              time.Time
	Author, Committer string
	Subject           string
	// ShallowBoundary says the channel's history goes on before this
	// move, but this shallow clone does not have it.
	ShallowBoundary bool
}

// moves walks the chain of moves of channel <d>/<env> from tip through
// first parents, newest first (all of them when max < 0): it ends at the
// first commit that is no move of the channel (the stack commit the first
// move was made on), or at a shallow clone's boundary.
func (r *Repo) moves(d, env string, tip plumbing.Hash, max int) ([]Move, error) {
	var out []Move
	name := d + "/" + env
	// one move more than asked for: the last one's Was is the stack of
	// the move before it
	for h := tip; !h.IsZero() && (max < 0 || len(out) <= max); {
		commit, err := r.readCommit(h)
		if err != nil {
			return nil, fmt.Errorf("channel %s (%s): %w", name, ChannelRef(d, env), err)
		}
		tr := trailers(commit.Message)
		if tr["Gachette-Channel"] != name {
			break
		}
		m := Move{Commit: h, Channel: name, Action: tr["Gachette-Action"], Date: commit.Committer.When,
			Author:    commit.Author.Name + " <" + commit.Author.Email + ">",
			Committer: commit.Committer.Name + " <" + commit.Committer.Email + ">",
			Subject:   subject(commit.Message)}
		if id, err := ParseStackID(tr["Gachette-Stack"], d); err == nil && id.Domain == d {
			m.Stack = id
		}
		if n := len(commit.ParentHashes); n > 0 {
			m.StackCommit = commit.ParentHashes[n-1]
		}
		boundary, err := r.isShallowRoot(h)
		if err != nil {
			return nil, fmt.Errorf("channel %s: %w", name, err)
		}
		m.ShallowBoundary = boundary && len(commit.ParentHashes) > 0
		if !m.ShallowBoundary {
			if err := r.checkMove(name, m, commit.TreeHash, len(commit.ParentHashes)); err != nil {
				return nil, err
			}
		}
		if len(out) > 0 {
			out[len(out)-1].Was = m.Stack.Name
		}
		out = append(out, m)
		h = plumbing.ZeroHash
		if len(commit.ParentHashes) > 0 && !boundary {
			h = commit.ParentHashes[0]
		}
	}
	if max >= 0 && len(out) > max {
		out = out[:max]
	}
	return out, nil
}

// checkMove refuses a move that does not hold what it says (a move
// git gachette did not make): it must name a stack of its domain, have
// the previous move (if any) and the stack's commit as parents, and the
// stack commit's tree as its own, so that what git show of the channel
// reads is the stack it names.
func (r *Repo) checkMove(channel string, m Move, tree plumbing.Hash, parents int) error {
	bad := func(why string) error {
		return fmt.Errorf("channel %s: move %s %s: it is not a move git gachette made, and the channel cannot be read; see git gachette fsck", channel, m.Commit, why)
	}
	switch {
	case m.Stack.Name == "":
		return bad("names no stack of its domain (Gachette-Stack)")
	case parents < 1 || parents > 2:
		return bad(fmt.Sprintf("has %d parents, where a move has the previous move and the stack's commit", parents))
	}
	sc, err := r.readCommit(m.StackCommit)
	if err != nil {
		return bad(fmt.Sprintf("has as its last parent %s, which is not a commit here (%v)", m.StackCommit, err))
	}
	if tr := trailers(sc.Message); tr["Gachette-Stack"] != m.Stack.String() {
		return bad(fmt.Sprintf("says it runs %s, but its last parent %s is a commit of %q", m.Stack, m.StackCommit, tr["Gachette-Stack"]))
	}
	if sc.TreeHash != tree {
		return bad(fmt.Sprintf("says it runs %s, but its tree is not that stack's (commit %s)", m.Stack, m.StackCommit))
	}
	return nil
}

// channels reads the channels of domain d. A channel's history is its
// chain of moves (see moves). A channel that does not read is an error
// naming it.
func (r *Repo) channels(d string) ([]channel, error) {
	refs, err := r.refs.List(channelPrefix + d + "/")
	if err != nil {
		return nil, err
	}
	var out []channel
	for _, ref := range refs {
		env := strings.TrimPrefix(ref.Name, channelPrefix+d+"/")
		if CheckName("channel", env) != nil {
			continue // not a channel of d (fsck names it)
		}
		c, err := r.channelAt(d, env, ref.Hash)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// channelAt reads channel <d>/<env> whose ref is at tip.
func (r *Repo) channelAt(d, env string, tip plumbing.Hash) (channel, error) {
	c := channel{Env: env, Ref: ChannelRef(d, env), Tip: tip}
	moves, err := r.moves(d, env, tip, -1)
	if err != nil {
		return c, err
	}
	c.Moves = moves
	seen := map[string]bool{}
	for i, m := range moves {
		if m.Stack.Name == "" {
			continue
		}
		if i == 0 {
			c.Runs = m.Stack.Name
		}
		if !seen[m.Stack.Name] {
			seen[m.Stack.Name] = true
			c.Ran = append(c.Ran, m.Stack.Name)
		}
	}
	return c, nil
}

// channel reads channel <d>/<env>: ok is false when it has no ref.
func (r *Repo) channel(d, env string) (channel, bool, error) {
	tip, err := r.refs.Lookup(ChannelRef(d, env))
	if errors.Is(err, ErrRefNotFound) {
		return channel{Env: env, Ref: ChannelRef(d, env)}, false, nil
	} else if err != nil {
		return channel{}, false, err
	}
	c, err := r.channelAt(d, env, tip)
	return c, true, err
}

// channelSeal is the channels' part of the rule that keeps a stack from
// changing in place (see writable): a stack a channel of its domain runs
// or ran is sealed, like a published one (SPEC §6), since a channel's
// history keeps the stacks it ran and rollback goes back to them. It is a
// *PublishedError naming those channels, or nil.
func (r *Repo) channelSeal(id StackID) error {
	chans, err := r.channels(id.Domain)
	if err != nil {
		return err
	}
	var held []string
	for _, c := range chans {
		for _, name := range c.Ran {
			if name == id.Name {
				held = append(held, id.Domain+"/"+c.Env)
			}
		}
	}
	if len(held) > 0 {
		return &PublishedError{ID: id, Channels: held}
	}
	return nil
}

// channelTips are updates that verify, in a transaction, that each
// channel of domain d is still where it is now (a promotion meanwhile
// makes the transaction fail, and the retry sees it).
func (r *Repo) channelTips(d string) ([]RefUpdate, error) {
	refs, err := r.refs.List(channelPrefix + d + "/")
	if err != nil {
		return nil, err
	}
	var updates []RefUpdate
	for _, ref := range refs {
		if CheckName("channel", strings.TrimPrefix(ref.Name, channelPrefix+d+"/")) == nil {
			updates = append(updates, RefUpdate{Name: ref.Name, Old: ref.Hash, New: ref.Hash})
		}
	}
	return updates, nil
}
