package stackrepo

import (
	"fmt"
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

// ListedStack is a stack of a listing, with its marks.
type ListedStack struct {
	StackInfo
	// Published says where a remote has it, as published says ("pushed
	// or fetched by git-gachette", "reachable from origin/main"); "" when
	// none.
	Published string
	// Channels are the channels of its domain that run it now (their
	// env names); PastChannels those that ran it before and run another
	// stack now.
	Channels, PastChannels []string
	// Unpushed says the repository has a remote (one configured, or one
	// pushed to or fetched from by URL) and no remote has the stack as
	// last pushed or fetched: neither published nor being pushed.
	Unpushed bool
}

// Listing is what ListStacks found.
type Listing struct {
	// Stacks are newest first within a domain (List's order); with
	// AllDomains, domains by name.
	Stacks []ListedStack
	// Domains are the repository's domains, each with its number of
	// stacks: read only when Stacks is empty, to say where stacks are.
	Domains []DomainInfo
}

// ListStacks lists the stacks of a domain, or of every domain, with their
// marks: published (sealed, or reachable from a remote-tracking branch:
// published, the rule that keeps a stack from changing), the channels
// that run or ran it, and not yet pushed. Each kind of ref is listed
// once; a stack's objects are read only when it is not sealed and the
// repository has remote-tracking branches to look for it in.
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
	m, err := r.readMarks()
	if err != nil {
		return nil, err
	}
	out := &Listing{Stacks: []ListedStack{}}
	for _, d := range domains {
		list, err := r.List(d, req.Dates)
		if err != nil {
			return nil, err
		}
		chans, err := r.channels(d)
		if err != nil {
			return nil, err
		}
		for _, s := range list {
			ls, err := r.marked(s, m, chans)
			if err != nil {
				return nil, err
			}
			out.Stacks = append(out.Stacks, ls)
		}
	}
	if len(out.Stacks) == 0 {
		if out.Domains, err = r.domainCounts(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// marks are the refs a listing's marks are read from, each kind listed
// once.
type marks struct {
	sealed map[string]bool            // refs/gachette/published/<domain>/<name>
	pushed map[string][]plumbing.Hash // <domain>/<name> → the remotes' tags as last seen
	marked map[string]bool            // <domain>/<name> a push marked
	// remote says the repository has a remote; tracking that it has
	// remote-tracking branches.
	remote, tracking bool
}

func (r *Repo) readMarks() (*marks, error) {
	m := &marks{sealed: map[string]bool{}, pushed: map[string][]plumbing.Hash{}, marked: map[string]bool{}}
	sealed, err := r.refs.List("refs/gachette/published/")
	if err != nil {
		return nil, err
	}
	for _, ref := range sealed {
		m.sealed[ref.Name] = true
	}
	// refs/gachette/remotes/<remote>/tags/<domain>/<name> (see Remote.namespace)
	seen, err := r.refs.List("refs/gachette/remotes/")
	if err != nil {
		return nil, err
	}
	for _, ref := range seen {
		m.remote = true
		_, rest, _ := strings.Cut(strings.TrimPrefix(ref.Name, "refs/gachette/remotes/"), "/")
		if tail, ok := strings.CutPrefix(rest, "tags/"); ok {
			m.pushed[tail] = append(m.pushed[tail], ref.Hash)
		}
	}
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
	m.tracking = len(tracking) > 0
	for _, sub := range r.cfg.Subsections("remote", "") {
		if r.cfg.Value("remote."+sub+".url") != "" {
			m.remote = true
		}
	}
	return m, nil
}

// marked is stack s of a listing with its marks.
func (r *Repo) marked(s StackInfo, m *marks, chans []channel) (ListedStack, error) {
	ls := ListedStack{StackInfo: s, Channels: []string{}, PastChannels: []string{}}
	for _, c := range chans {
		for _, name := range c.Ran {
			switch {
			case name != s.ID.Name:
			case c.Runs == name:
				ls.Channels = append(ls.Channels, c.Env)
			default:
				ls.PastChannels = append(ls.PastChannels, c.Env)
			}
		}
	}
	if m.sealed[s.ID.publishedRef()] {
		ls.Published = sealedWhere
	} else if m.tracking {
		// a stack that does not read is no one's (git gachette fsck names it)
		if st, err := r.stackOfTag(s.ID, s.Tag); err == nil {
			if ls.Published, err = r.remoteTracking(st); err != nil {
				return ls, err
			}
		}
	}
	onRemote := false
	for _, h := range m.pushed[s.ID.String()] {
		onRemote = onRemote || h == s.Tag
	}
	ls.Unpushed = m.remote && ls.Published == "" && !onRemote && !m.marked[s.ID.String()]
	return ls, nil
}
