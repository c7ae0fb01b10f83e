package stackrepo

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// DomainInfo is a domain of the repository: one that has stacks.
type DomainInfo struct {
	Name   string
	Stacks int
	// Newest is the domain's newest stack, the first of List (zero when
	// not asked for).
	Newest StackID
}

// DomainList lists the domains that have stacks, by name, with the
// number of stacks of each and its newest.
func (r *Repo) DomainList() ([]DomainInfo, error) {
	ds, err := r.domainCounts()
	if err != nil {
		return nil, err
	}
	for i := range ds {
		list, err := r.List(ds[i].Name, false)
		if err != nil {
			return nil, err
		}
		if len(list) > 0 {
			ds[i].Newest = list[0].ID
		}
	}
	return ds, nil
}

// domainCounts lists the domains that have stacks, by name, with the
// number of stacks of each: one listing of the tags.
func (r *Repo) domainCounts() ([]DomainInfo, error) {
	refs, err := r.refs.List("refs/tags/")
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, ref := range refs {
		d, n, ok := strings.Cut(strings.TrimPrefix(ref.Name, "refs/tags/"), "/")
		if ok && CheckName("domain", d) == nil && CheckName("stack", n) == nil {
			counts[d]++
		}
	}
	out := make([]DomainInfo, 0, len(counts))
	for _, d := range sortedKeys(counts) {
		out = append(out, DomainInfo{Name: d, Stacks: counts[d]})
	}
	return out, nil
}

// countStacks is the number of stacks of domain d.
func (r *Repo) countStacks(d string) (int, error) {
	if CheckName("domain", d) != nil {
		return 0, nil
	}
	refs, err := r.refs.List("refs/tags/" + d + "/")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ref := range refs {
		if CheckName("stack", strings.TrimPrefix(ref.Name, "refs/tags/"+d+"/")) == nil {
			n++
		}
	}
	return n, nil
}

// DomainsHint says which domains a repository has, for a message about a
// domain without stacks: "domains here: backend (12), frontend (3)".
func DomainsHint(ds []DomainInfo) string {
	if len(ds) == 0 {
		return "this repository has no stacks yet: create one with git gachette stack create NAME"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%s (%d)", d.Name, d.Stacks)
	}
	return "domains here: " + strings.Join(parts, ", ")
}

// ListRequest says which stacks ListStacks lists.
type ListRequest struct {
	// Domain is the domain listed, unless AllDomains.
	Domain     string
	AllDomains bool
	// Dates reads every stack's date (else only those the order needs).
	Dates bool
}

// StackMarks are the marks of a stack in a listing.
type StackMarks struct {
	// Published says where a remote has it, as published says ("pushed
	// or fetched by git-gachette", "reachable from origin/main"); "" when
	// none.
	Published string
	// Unpushed says the repository has a remote (one configured, or one
	// pushed to or fetched from by URL) and no remote has the stack as
	// last pushed or fetched: neither published nor being pushed.
	Unpushed bool
	// Channels are the channels of its domain that run it now (their
	// env names); PastChannels those that ran it before and run another
	// stack now (nil when none).
	Channels, PastChannels []string
}

// Listing is what ListStacks found.
type Listing struct {
	// Stacks are newest first within a domain (List's order); with
	// AllDomains, domains by name. Marks[i] are the marks of Stacks[i].
	Stacks []StackInfo
	Marks  []StackMarks
	// Domains are the repository's domains, each with its number of
	// stacks: read only when Stacks is empty, to say where stacks are.
	Domains []DomainInfo
}

// ListStacks lists the stacks of a domain, or of every domain, with their
// marks: published (sealed, or reachable from a remote-tracking branch:
// published, the rule that keeps a stack from changing), the channels
// that run or ran it, and not yet pushed. Each kind of ref is listed
// once, and what the remotes have (as last pushed or fetched) only when
// a stack is not published; a stack's objects are read only when it is
// not sealed and the repository has remote-tracking branches to look for
// it in.
func (r *Repo) ListStacks(req ListRequest) (*Listing, error) {
	domains := []string{req.Domain}
	if req.AllDomains {
		ds, err := r.domainCounts()
		if err != nil {
			return nil, err
		}
		domains = domains[:0]
		for _, d := range ds {
			domains = append(domains, d.Name)
		}
	} else if err := CheckName("domain", req.Domain); err != nil {
		return nil, err
	}
	m, err := r.readMarkRefs()
	if err != nil {
		return nil, err
	}
	out := &Listing{}
	for _, d := range domains {
		list, err := r.List(d, req.Dates)
		if err != nil {
			return nil, err
		}
		chans, err := r.channels(d)
		if err != nil {
			return nil, err
		}
		sealed, err := r.refs.List(sealedPrefix + d + "/")
		if err != nil {
			return nil, err
		}
		if out.Stacks == nil {
			out.Stacks = list
		} else {
			out.Stacks = append(out.Stacks, list...)
		}
		out.Marks = slices.Grow(out.Marks, len(list))
		for _, s := range list {
			sm, err := r.marks(s, m, sealed, chans)
			if err != nil {
				return nil, err
			}
			out.Marks = append(out.Marks, sm)
		}
	}
	if len(out.Stacks) == 0 {
		if out.Domains, err = r.domainCounts(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sealedPrefix holds the published marks (StackID.publishedRef).
const sealedPrefix = "refs/gachette/published/"

// markRefs are what a listing's marks are read from, besides each
// domain's seals and channels.
type markRefs struct {
	// tracking are the repository's remote-tracking branches.
	tracking []Ref
	// reach maps the tag ref of each stack a remote-tracking branch has
	// to where it is published ("reachable from origin/main"): asked of
	// git once for the listing, on first need (reachLoaded).
	reach       map[string]string
	reachLoaded bool
	// configured says a remote is configured here.
	configured bool
	// marked are the stacks (<domain>/<name>) a push marked.
	marked map[string]bool
	// pushed are the remotes' tags (<domain>/<name>) as last pushed or
	// fetched; remote says there is a remote, configured or in the
	// namespace. Read on first need (loaded).
	loaded bool
	pushed map[string][]plumbing.Hash
	remote bool
}

func (r *Repo) readMarkRefs() (*markRefs, error) {
	m := &markRefs{marked: map[string]bool{}}
	pushing, err := r.refs.List(pushingPrefix)
	if err != nil {
		return nil, err
	}
	for _, ref := range pushing {
		if _, tail, ok := strings.Cut(strings.TrimPrefix(ref.Name, pushingPrefix), "/"); ok {
			m.marked[tail] = true
		}
	}
	tracking, err := r.refs.List("refs/remotes/")
	if err != nil {
		return nil, err
	}
	m.tracking = tracking
	for _, sub := range r.cfg.Subsections("remote", "") {
		if r.cfg.Value("remote."+sub+".url") != "" {
			m.configured = true
		}
	}
	return m, nil
}

// loadReach asks git which stacks each remote-tracking branch has (git
// for-each-ref --merged: one walk a branch, exact whatever the dates,
// where asking stack by stack would start git once a stack).
func (m *markRefs) loadReach(r *Repo) error {
	if m.reachLoaded {
		return nil
	}
	m.reach, m.reachLoaded = map[string]string{}, true
	for _, t := range m.tracking {
		out, err := r.git.Output(context.Background(), nil, "for-each-ref", "--format=%(refname)", "--merged", t.Hash.String(), "refs/tags/")
		if err != nil {
			// a remote-tracking ref at a non-commit says nothing
			continue
		}
		for _, name := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if _, seen := m.reach[name]; name != "" && !seen {
				m.reach[name] = "reachable from " + strings.TrimPrefix(t.Name, "refs/remotes/")
			}
		}
	}
	return nil
}

// load reads what the remotes have, as last pushed or fetched:
// refs/gachette/remotes/<remote>/tags/<domain>/<name> (Remote.namespace).
func (m *markRefs) load(r *Repo) error {
	if m.loaded {
		return nil
	}
	seen, err := r.refs.List("refs/gachette/remotes/")
	if err != nil {
		return err
	}
	// a remote configured here that git gachette never fetched from nor
	// pushed to (a git clone's origin) may have any of the stacks: "not
	// pushed" cannot be told, and is not said
	unknown, err := r.unknownRemote()
	if err != nil {
		return err
	}
	m.loaded, m.pushed, m.remote = true, map[string][]plumbing.Hash{}, (m.configured || len(seen) > 0) && unknown == ""
	for _, ref := range seen {
		_, rest, _ := strings.Cut(strings.TrimPrefix(ref.Name, "refs/gachette/remotes/"), "/")
		if tail, ok := strings.CutPrefix(rest, "tags/"); ok {
			m.pushed[tail] = append(m.pushed[tail], ref.Hash)
		}
	}
	return nil
}

// marks are the marks of stack s in a listing; sealed are the published
// marks of its domain, chans its channels.
func (r *Repo) marks(s StackInfo, m *markRefs, sealed []Ref, chans []channel) (StackMarks, error) {
	var sm StackMarks
	for _, c := range chans {
		for _, name := range c.Ran {
			switch {
			case name != s.ID.Name:
			case c.Runs == name:
				sm.Channels = append(sm.Channels, c.Env)
			default:
				sm.PastChannels = append(sm.PastChannels, c.Env)
			}
		}
	}
	// sealed share the prefix of s's domain: sorted by name, so by the rest
	skip := len(sealedPrefix + s.ID.Domain + "/")
	if _, ok := slices.BinarySearchFunc(sealed, s.ID.Name, func(r Ref, n string) int { return strings.Compare(r.Name[skip:], n) }); ok {
		sm.Published = sealedWhere
		return sm, nil
	}
	if len(m.tracking) > 0 && r.git != nil {
		if err := m.loadReach(r); err != nil {
			return sm, err
		}
		sm.Published = m.reach[s.ID.TagRef()]
	} else if len(m.tracking) > 0 {
		// a stack that does not read is no one's (git gachette fsck names it)
		if st, err := r.stackOfTag(s.ID, s.Tag); err == nil {
			if sm.Published, err = r.remoteTracking(st); err != nil {
				return sm, err
			}
		}
	}
	if sm.Published != "" || m.marked[s.ID.String()] {
		return sm, nil
	}
	if err := m.load(r); err != nil {
		return sm, err
	}
	sm.Unpushed = m.remote && !slices.Contains(m.pushed[s.ID.String()], s.Tag)
	return sm, nil
}
