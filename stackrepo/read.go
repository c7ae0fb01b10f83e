package stackrepo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/semverx"
	"github.com/ops-hero/git-gachette/stackrepo/debian"
)

// StackInfo is one line of a listing.
type StackInfo struct {
	ID  StackID
	Tag plumbing.Hash
	// Date is the tag's date; zero unless the listing was asked for dates
	// or needed it to order names that are not versions.
	Date time.Time
}

// List returns the stacks of a domain, newest first: names that are
// versions by descending precedence, then the others by date. Dates are
// read (one tag object each) for names that are not versions, and for all
// when withDates is set.
func (r *Repo) List(domain string, withDates bool) ([]StackInfo, error) {
	if err := CheckName("domain", domain); err != nil {
		return nil, err
	}
	prefix := "refs/tags/" + domain + "/"
	refs, err := r.refs.List(prefix)
	if err != nil {
		return nil, err
	}
	infos := make([]StackInfo, 0, len(refs))
	names := make([]string, 0, len(refs))
	for _, ref := range refs {
		name := ref.Name[len(prefix):]
		if CheckName("stack", name) != nil {
			continue
		}
		infos = append(infos, StackInfo{ID: StackID{Domain: domain, Name: name}, Tag: ref.Hash})
		names = append(names, name)
	}
	date := func(i int) int64 {
		if infos[i].Date.IsZero() {
			infos[i].Date = r.tagDate(infos[i].Tag)
		}
		return infos[i].Date.Unix()
	}
	order := semverx.NewestFirst(names, date)
	out := make([]StackInfo, len(order))
	for k, i := range order {
		if withDates {
			date(i)
		}
		out[k] = infos[i]
	}
	return out, nil
}

// tagDate is the tagger date of an annotated tag, zero if unreadable.
func (r *Repo) tagDate(h plumbing.Hash) time.Time {
	o, err := r.readTyped(h, plumbing.TagObject)
	if err != nil {
		return time.Time{}
	}
	t, err := object.DecodeTag(r.st, o)
	if err != nil {
		return time.Time{}
	}
	return t.Tagger.When
}

// Domains lists the domains that have at least one stack.
func (r *Repo) Domains() ([]string, error) {
	ds, err := r.domainCounts()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name
	}
	return out, nil
}

// LogEntry is one change in a stack's lineage.
type LogEntry struct {
	Commit  plumbing.Hash
	Date    time.Time
	Author  string
	Subject string
	Stack   string // the Gachette-Stack trailer: the stack the change was made to
	Action  string
	// ShallowBoundary says the lineage goes on before this change, but
	// this shallow clone does not have it (git fetch --unshallow does).
	ShallowBoundary bool
}

// Log walks a stack's lineage from its current commit through first
// parents (so through the stacks it was created from), newest first, at
// most max entries (all when max < 0). In a shallow clone it stops at the boundary,
// marking the last entry.
func (r *Repo) Log(id StackID, max int) ([]LogEntry, error) {
	s, err := r.Stack(id)
	if err != nil {
		return nil, err
	}
	var out []LogEntry
	h := s.Commit
	for !h.IsZero() && (max < 0 || len(out) < max) {
		c, err := r.readCommit(h)
		if err != nil {
			return out, fmt.Errorf("stack %s: lineage: %w", id, err)
		}
		tr := trailers(c.Message)
		e := LogEntry{Commit: h, Date: c.Committer.When, Author: c.Author.Name, Subject: subject(c.Message), Stack: tr["Gachette-Stack"], Action: tr["Gachette-Action"]}
		boundary, err := r.isShallowRoot(h)
		if err != nil {
			return out, fmt.Errorf("stack %s: lineage: %w", id, err)
		}
		e.ShallowBoundary = boundary && len(c.ParentHashes) > 0
		out = append(out, e)
		h = plumbing.ZeroHash
		if len(c.ParentHashes) > 0 && !boundary {
			h = c.ParentHashes[0]
		}
	}
	return out, nil
}

// VersionChange is a package present on both sides of a diff.
type VersionChange struct {
	Name string  `json:"name"`
	From Package `json:"from"`
	To   Package `json:"to"`
}

// Diff is what changes from stack A to stack B.
type Diff struct {
	A, B       StackID
	Added      []Package       // in B only
	Removed    []Package       // in A only
	Upgraded   []VersionChange // higher version in B (Debian ordering)
	Downgraded []VersionChange // lower version in B
	Changed    []VersionChange // same version, other fields differ (a rebuild)
}

// Empty reports whether the two stacks hold the same packages.
func (d *Diff) Empty() bool {
	return len(d.Added)+len(d.Removed)+len(d.Upgraded)+len(d.Downgraded)+len(d.Changed) == 0
}

// DiffStacks reads stacks a and b and compares them (Diff).
func (r *Repo) DiffStacks(a, b StackID) (*Diff, error) {
	sa, err := r.Stack(a)
	if err != nil {
		return nil, err
	}
	sb, err := r.Stack(b)
	if err != nil {
		return nil, err
	}
	return r.Diff(sa, sb)
}

// Diff compares two stacks. Entries with identical stanzas are not read,
// so the cost follows the number of differences, not the stack sizes.
func (r *Repo) Diff(a, b *Stack) (*Diff, error) {
	d := &Diff{A: a.ID, B: b.ID}
	if err := r.prefetch(differing(a, b)); err != nil {
		return nil, fmt.Errorf("diff %s %s: %w", a.ID, b.ID, err)
	}
	i, j := 0, 0
	for i < len(a.entries) || j < len(b.entries) {
		switch {
		case j >= len(b.entries) || (i < len(a.entries) && a.entries[i].Name < b.entries[j].Name):
			p, err := r.readPackage(a, a.entries[i])
			if err != nil {
				return nil, err
			}
			d.Removed = append(d.Removed, p)
			i++
		case i >= len(a.entries) || b.entries[j].Name < a.entries[i].Name:
			p, err := r.readPackage(b, b.entries[j])
			if err != nil {
				return nil, err
			}
			d.Added = append(d.Added, p)
			j++
		default:
			ea, eb := a.entries[i], b.entries[j]
			i++
			j++
			if ea.Hash == eb.Hash {
				continue
			}
			pa, err := r.readPackage(a, ea)
			if err != nil {
				return nil, err
			}
			pb, err := r.readPackage(b, eb)
			if err != nil {
				return nil, err
			}
			c, err := debian.Compare(pa.Version, pb.Version)
			if err != nil {
				return nil, err
			}
			vc := VersionChange{Name: pa.Name, From: pa, To: pb}
			switch {
			case c < 0:
				d.Upgraded = append(d.Upgraded, vc)
			case c > 0:
				d.Downgraded = append(d.Downgraded, vc)
			default:
				d.Changed = append(d.Changed, vc)
			}
		}
	}
	return d, nil
}

// differing lists the stanza blobs Diff reads: those of entries that are
// not the same on both sides.
func differing(a, b *Stack) []plumbing.Hash {
	var out []plumbing.Hash
	i, j := 0, 0
	for i < len(a.entries) || j < len(b.entries) {
		switch {
		case j >= len(b.entries) || (i < len(a.entries) && a.entries[i].Name < b.entries[j].Name):
			out = append(out, a.entries[i].Hash)
			i++
		case i >= len(a.entries) || b.entries[j].Name < a.entries[i].Name:
			out = append(out, b.entries[j].Hash)
			j++
		default:
			if a.entries[i].Hash != b.entries[j].Hash {
				out = append(out, a.entries[i].Hash, b.entries[j].Hash)
			}
			i++
			j++
		}
	}
	return out
}

// sealedWhere is where a sealed stack is published, as published says.
const sealedWhere = "pushed or fetched by git-gachette"

// published says where a stack has been published, or "" when it has not:
// pushed or fetched by git-gachette (recorded under refs/gachette/published),
// or reachable from a remote-tracking branch (published with plain git).
func (r *Repo) published(s *Stack) (string, error) {
	if _, err := r.refs.Lookup(s.ID.publishedRef()); err == nil {
		return sealedWhere, nil
	} else if !errors.Is(err, ErrRefNotFound) {
		return "", err
	}
	if err := r.checkUnmarked(s.ID); err != nil {
		return "", err
	}
	return r.remoteTracking(s)
}

// remoteTracking says which remote-tracking branch a stack's commit is
// reachable from ("reachable from origin/main"), or "" when none: the
// part of published that plain git publishes, which a listing asks of
// the stacks that are not sealed.
func (r *Repo) remoteTracking(s *Stack) (string, error) {
	remotes, err := r.refs.List("refs/remotes/")
	if err != nil || len(remotes) == 0 {
		return "", err
	}
	ref, err := r.containedBy(s.Commit, remotes)
	if err != nil || ref == "" {
		return "", err
	}
	return "reachable from " + strings.TrimPrefix(ref, "refs/remotes/"), nil
}

// containedBy names a ref of refs whose history has commit, or "". It
// asks git (for-each-ref --contains): one walk for every ref, exact
// whatever the commit dates say (a clock that was wrong cannot hide a
// commit), and as fast as git's commit-graph makes it where there is one
// (git gc writes it). Without git (the tests' in-memory repository), the
// same question by a walk of its own.
func (r *Repo) containedBy(commit plumbing.Hash, refs []Ref) (string, error) {
	if r.git == nil {
		return r.containedByWalk(commit, refs)
	}
	out, err := r.git.Output(context.Background(), nil, "for-each-ref", "--contains", commit.String(), "--format=%(refname)", "refs/remotes/")
	if err != nil {
		return "", fmt.Errorf("which remote-tracking branches have commit %s: %w", commit, err)
	}
	name, _, _ := strings.Cut(string(out), "\n")
	return name, nil
}

// containedByWalk is containedBy by a walk from every ref at once, each
// commit read once: bounded by the repository's size, never by dates. A
// ref at a non-commit or at a missing object says nothing; the walk stops
// at a shallow clone's boundary.
func (r *Repo) containedByWalk(commit plumbing.Hash, refs []Ref) (string, error) {
	seen := map[plumbing.Hash]bool{}
	for _, ref := range refs {
		queue := []plumbing.Hash{ref.Hash}
		for len(queue) > 0 {
			h := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if h == commit {
				return ref.Name, nil
			}
			if seen[h] {
				continue
			}
			seen[h] = true
			c, err := r.readCommit(h)
			if err != nil {
				continue
			}
			if boundary, err := r.isShallowRoot(h); err != nil {
				return "", err
			} else if boundary {
				continue
			}
			queue = append(queue, c.ParentHashes...)
		}
	}
	return "", nil
}
