package stackrepo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
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
// against the format (SPEC §3): each tag under refs/tags/<domain>/ is an
// annotated tag of a commit in format FormatVersion whose Gachette-Stack
// trailer names the stack; its packages tree holds only regular files,
// each a stanza that parses and names the package of its file; every
// object is present. Each domain has its branch, at a stack commit of the
// domain. Tags whose names are not stack names are reported. Fsck reads
// only the current state of each stack; `git fsck --strict` checks the
// object graph and history.
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
		count, problems := r.checkStack(id)
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
	return rep, nil
}

func (rep *FsckReport) add(where, problem string) {
	rep.Problems = append(rep.Problems, Problem{Where: where, Problem: problem})
}

// checkStack returns the number of packages of one stack and what is
// wrong with it, each problem without the "stack <id>: " prefix of the
// read errors.
func (r *Repo) checkStack(id StackID) (int, []string) {
	trim := func(err error) string { return strings.TrimPrefix(err.Error(), "stack "+id.String()+": ") }
	s, err := r.Stack(id)
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
