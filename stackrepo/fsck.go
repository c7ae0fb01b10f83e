package stackrepo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Problem is one thing Fsck found wrong, with the stack (or ref) it is in.
type Problem struct {
	Where   string `json:"where"` // a stack (main/124) or a ref
	Problem string `json:"problem"`
}

// FsckReport is what Fsck checked and found.
type FsckReport struct {
	Domains  []string  `json:"domains"`
	Stacks   int       `json:"stacks"`
	Packages int       `json:"packages"`
	Problems []Problem `json:"problems"`
}

// Fsck checks every stack of every domain (or of the domains given)
// against the format (README, "The stacks repository"): each tag under refs/tags/<domain>/ is an
// annotated tag of a commit in format FormatVersion whose Gachette-Stack
// trailer names the stack; its packages tree holds only regular files,
// each a stanza that parses and names the package of its file; every
// object is present. Each domain has its branch, at a stack commit of the
// domain. Tags whose names are not stack names are reported. Fsck reads
// only the current state of each stack; `git fsck --strict` checks the
// object graph and history. A domain given that has no stacks is a
// problem: whatever was meant, nothing was checked.
func (r *Repo) Fsck(domains ...string) (*FsckReport, error) {
	refs, err := r.refs.List("refs/tags/")
	if err != nil {
		return nil, err
	}
	only := map[string]bool{}
	for _, d := range domains {
		if err := CheckName("domain", d); err != nil {
			return nil, err
		}
		only[d] = true
	}
	rep := &FsckReport{Problems: []Problem{}}
	seen := map[string]bool{}
	cache := newFsckCache()
	for _, ref := range refs {
		rest := strings.TrimPrefix(ref.Name, "refs/tags/")
		d, n, ok := strings.Cut(rest, "/")
		if !ok {
			continue // not in a domain: not a stack tag
		}
		if len(only) > 0 && !only[d] {
			continue
		}
		if err := CheckName("domain", d); err != nil {
			rep.add(ref.Name, fmt.Sprintf("not a stack: %v", err))
			continue
		}
		if err := CheckName("stack", n); err != nil {
			rep.add(ref.Name, fmt.Sprintf("not a stack: %v", err))
			continue
		}
		if !seen[d] {
			seen[d] = true
			rep.Domains = append(rep.Domains, d)
		}
		rep.Stacks++
		id := StackID{Domain: d, Name: n}
		// The tag is the listing's: looking each stack's ref up again
		// made fsck quadratic in the number of stacks.
		if count, ok := r.quickCheck(id, ref.Hash, cache); ok && fsckQuick {
			rep.Packages += count
			continue
		}
		count, problems := r.checkStack(id, ref.Hash)
		rep.Packages += count
		for _, p := range problems {
			rep.add(id.String(), p)
		}
	}
	for _, d := range rep.Domains {
		if p := r.checkBranch(d); p != "" {
			rep.add(BranchRef(d), p)
		}
	}
	if err := r.fsckChannels(rep, only); err != nil {
		return nil, err
	}
	// a domain asked for that has no stack: nothing was checked there
	for _, d := range domains {
		if !seen[d] {
			all, err := r.domainCounts()
			if err != nil {
				return nil, err
			}
			rep.add("domain "+d, "it has no stacks, so nothing was checked; "+DomainsHint(all))
		}
	}
	return rep, nil
}

func (rep *FsckReport) add(where, problem string) {
	rep.Problems = append(rep.Problems, Problem{Where: where, Problem: problem})
}

// fsckQuick turns quickCheck on (tests compare with it off).
var fsckQuick = true

// fsckCache keeps what quickCheck verified, so that what stacks share is
// checked once: a packages tree (its number of entries), a stanza (the
// file name it was verified under), a file name. Stacks made from one
// another share all but a few stanzas: at 10,000 stacks of 200 packages,
// 2 million stanzas are read where about 10,000 are distinct.
type fsckCache struct {
	trees map[plumbing.Hash]int
	blobs map[plumbing.Hash]string
	names map[string]bool
	// last is the last packages tree verified: the next stack's is
	// usually the same but for an entry or two, and an entry identical to
	// the one at the same place in it needs no look-up.
	last []object.TreeEntry
}

func newFsckCache() *fsckCache {
	return &fsckCache{trees: map[plumbing.Hash]int{}, blobs: map[plumbing.Hash]string{}, names: map[string]bool{}}
}

// quickCheck says whether stack id, whose tag is tagHash, is well formed,
// and how many packages it has, checking what checkStack checks but
// nothing twice (see fsckCache). It only says yes or no: when anything is
// wrong (or it cannot tell, as in a partial clone, where missing objects
// are fetched), checkStack says what.
func (r *Repo) quickCheck(id StackID, tagHash plumbing.Hash, c *fsckCache) (int, bool) {
	if len(r.promisors) > 0 {
		return 0, false
	}
	o, err := r.readTyped(tagHash, plumbing.TagObject)
	if err != nil {
		return 0, false
	}
	tag, err := object.DecodeTag(r.st, o)
	if err != nil || tag.TargetType != plumbing.CommitObject {
		return 0, false
	}
	commit, err := r.readCommit(tag.Target)
	if err != nil {
		return 0, false
	}
	tr := trailers(commit.Message)
	if tr["Gachette-Format"] != FormatVersion || tr["Gachette-Stack"] != id.String() {
		return 0, false
	}
	root, err := r.readTree(commit.TreeHash)
	if err != nil {
		return 0, false
	}
	count := 0
	for i, e := range root.Entries {
		// only packages/, once (stackAt says what else is wrong)
		if e.Name != packagesDir || i > 0 || e.Mode != filemode.Dir {
			return 0, false
		}
		n, ok := r.quickTree(e.Hash, c)
		if !ok {
			return 0, false
		}
		count = n
	}
	return count, true
}

// quickTree checks a packages tree as stackAt and readPackage do: entries
// that are regular files with package names, each a stanza that parses
// and names its file.
func (r *Repo) quickTree(h plumbing.Hash, c *fsckCache) (int, bool) {
	if n, ok := c.trees[h]; ok {
		return n, true
	}
	t, err := r.readTree(h)
	if err != nil {
		return 0, false
	}
	for i, e := range t.Entries {
		if i > 0 && t.Entries[i-1].Name >= e.Name {
			return 0, false // out of git's order, or twice (stackAt says so)
		}
		if i < len(c.last) && c.last[i] == e {
			continue // verified in the last tree
		}
		if e.Mode != filemode.Regular {
			return 0, false
		}
		ok, known := c.names[e.Name]
		if !known {
			ok = checkPackageName(e.Name) == nil
			c.names[e.Name] = ok
		}
		if !ok {
			return 0, false
		}
		if name, ok := c.blobs[e.Hash]; ok && name == e.Name {
			continue
		}
		stanza, err := r.readBlob(e.Hash)
		if err != nil {
			return 0, false
		}
		p, err := ParseStanza(stanza)
		if err != nil || p.Name != e.Name {
			return 0, false
		}
		c.blobs[e.Hash] = e.Name
	}
	c.trees[h] = len(t.Entries)
	c.last = t.Entries
	return len(t.Entries), true
}

// checkStack returns the number of packages of one stack, whose tag is
// tagHash, and what is wrong with it, each problem without the
// "stack <id>: " prefix of the read errors.
func (r *Repo) checkStack(id StackID, tagHash plumbing.Hash) (int, []string) {
	trim := func(err error) string { return strings.TrimPrefix(err.Error(), "stack "+id.String()+": ") }
	s, err := r.stackOfTag(id, tagHash)
	if err != nil {
		return 0, []string{trim(err)}
	}
	var out []string
	if got := s.trailers["Gachette-Stack"]; got != id.String() {
		out = append(out, fmt.Sprintf("commit %s has Gachette-Stack %q, but it is tagged %s", s.Commit, got, id))
	}
	hashes := make([]plumbing.Hash, len(s.entries))
	for i, e := range s.entries {
		hashes[i] = e.Hash
	}
	if err := r.prefetch(hashes); err != nil {
		out = append(out, err.Error())
	}
	for _, e := range s.entries {
		if _, err := r.readPackage(s, e); err != nil {
			out = append(out, trim(err))
		}
	}
	return s.Len(), out
}

// checkBranch returns what is wrong with a domain's branch, or "".
func (r *Repo) checkBranch(domain string) string {
	h, err := r.refs.Lookup(BranchRef(domain))
	if errors.Is(err, ErrRefNotFound) {
		return fmt.Sprintf("missing: domain %s has stacks but no branch; the next stack create or add of the domain writes it", domain)
	}
	if err != nil {
		return err.Error()
	}
	c, err := r.readCommit(h)
	if err != nil {
		return err.Error()
	}
	st := trailers(c.Message)["Gachette-Stack"]
	if d, _, _ := strings.Cut(st, "/"); d != domain {
		return fmt.Sprintf("at commit %s, which is not a stack commit of domain %s (Gachette-Stack %q)", h, domain, st)
	}
	return ""
}

// fsckChannels reports channel refs that are not channels (a name that is
// not <domain>/<env>) or that do not read (a blob, a missing commit): the
// listings and the commands that consult channels refuse to go on then.
func (r *Repo) fsckChannels(rep *FsckReport, only map[string]bool) error {
	refs, err := r.refs.List(channelPrefix)
	if err != nil {
		return err
	}
	for _, ref := range refs {
		d, env, ok := strings.Cut(strings.TrimPrefix(ref.Name, channelPrefix), "/")
		if len(only) > 0 && !only[d] {
			continue
		}
		remove := fmt.Sprintf("git --git-dir=%s update-ref -d %s", ShellWord(r.Dir), ShellWord(ref.Name))
		if !ok || CheckName("domain", d) != nil || CheckName("channel", env) != nil {
			rep.add(ref.Name, fmt.Sprintf("not a channel: a channel is %s<domain>/<env>, each a valid name; remove it with: %s", channelPrefix, remove))
			continue
		}
		// each channel on its own: one that does not read hides no other
		c, err := r.channelAt(d, env, ref.Hash)
		switch {
		case err != nil:
			rep.add(ref.Name, fmt.Sprintf("%v; to remove it: %s", err, remove))
		case len(c.Moves) == 0:
			rep.add(ref.Name, fmt.Sprintf("not a channel: %s is no move of channel %s/%s (no Gachette-Channel: %s/%s trailer); remove it with: %s", ref.Hash, d, env, d, env, remove))
		}
	}
	return nil
}
