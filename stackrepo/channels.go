package stackrepo

import (
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// channelPrefix holds the channels: refs/gachette/channels/<domain>/<env>,
// each a chain of moves (SPEC §6).
const channelPrefix = "refs/gachette/channels/"

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
}

// channels reads the channels of domain d. A channel's history is its
// chain of moves: from its ref through first parents, each a commit
// whose Gachette-Channel trailer names the channel and whose
// Gachette-Stack names the stack it runs from then on (promote or
// rollback); the chain ends at the first commit that is no move of the
// channel. A channel that does not read is an error naming it.
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
		c := channel{Env: env, Ref: ref.Name, Tip: ref.Hash}
		seen := map[string]bool{}
		for h := ref.Hash; !h.IsZero(); {
			commit, err := r.readCommit(h)
			if err != nil {
				return nil, fmt.Errorf("channel %s/%s (%s): %w", d, env, ref.Name, err)
			}
			tr := trailers(commit.Message)
			if tr["Gachette-Channel"] != d+"/"+env {
				break
			}
			if id, err := ParseStackID(tr["Gachette-Stack"], d); err == nil && id.Domain == d {
				if h == ref.Hash {
					c.Runs = id.Name
				}
				if !seen[id.Name] {
					seen[id.Name] = true
					c.Ran = append(c.Ran, id.Name)
				}
			}
			// a shallow clone has no moves before its boundary
			boundary, err := r.isShallowRoot(h)
			if err != nil {
				return nil, fmt.Errorf("channel %s/%s: %w", d, env, err)
			}
			h = plumbing.ZeroHash
			if len(commit.ParentHashes) > 0 && !boundary {
				h = commit.ParentHashes[0]
			}
		}
		out = append(out, c)
	}
	return out, nil
}
