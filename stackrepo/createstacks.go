package stackrepo

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ops-hero/git-gachette/semverx"
)

// NewStack is a stack CreateStacks makes, with the packages it holds.
type NewStack struct {
	ID       StackID
	Packages []Package
}

// CreateStacksResult tells what CreateStacks wrote.
type CreateStacksResult struct {
	// Created has one Result per stack, in the order given.
	Created []Result
	// Branches are the domain branches that moved to a created stack.
	Branches []BranchMove
	// Attempts counts tries; more than one means the write lost races.
	Attempts int
}

// CreateStacks makes new stacks, each one commit holding its packages (a
// root commit: the stacks come from outside, with no lineage here), all
// in one ref transaction or none. verb names the action in the commit
// subject and the Gachette-Action trailer ("import"). Each tag must not
// exist (*ExistsError, nothing written). A domain branch moves to a
// created stack when that stack is the newest of its domain (the first of
// List) once the others are in; else it stays.
func (r *Repo) CreateStacks(stacks []NewStack, verb string, ident Identity) (*CreateStacksResult, error) {
	seen := map[StackID]bool{}
	for _, s := range stacks {
		if err := CheckName("domain", s.ID.Domain); err != nil {
			return nil, err
		}
		if err := CheckName("stack", s.ID.Name); err != nil {
			return nil, err
		}
		if seen[s.ID] {
			return nil, fmt.Errorf("stack %s is given twice", s.ID)
		}
		seen[s.ID] = true
		names := map[string]bool{}
		for _, p := range s.Packages {
			if err := p.Validate(); err != nil {
				return nil, fmt.Errorf("stack %s: %w", s.ID, err)
			}
			if names[p.Name] {
				return nil, fmt.Errorf("stack %s: package %s is given twice", s.ID, p.Name)
			}
			names[p.Name] = true
		}
	}
	if len(stacks) == 0 {
		return &CreateStacksResult{}, nil
	}
	var res *CreateStacksResult
	attempts, err := r.retry(fmt.Sprintf("%s of %d stacks", verb, len(stacks)), func() error {
		var err error
		res, err = r.tryCreateStacks(stacks, verb, ident)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Attempts = attempts
	return res, nil
}

func (r *Repo) tryCreateStacks(stacks []NewStack, verb string, ident Identity) (*CreateStacksResult, error) {
	res := &CreateStacksResult{}
	var updates []RefUpdate
	commits := map[StackID]plumbing.Hash{}
	for _, s := range stacks {
		if _, err := r.refs.Lookup(s.ID.TagRef()); err == nil {
			return nil, &ExistsError{ID: s.ID}
		} else if !errors.Is(err, ErrRefNotFound) {
			return nil, err
		}
		p := &plan{id: s.ID, action: verb, create: true, newBlobs: map[string][]byte{}}
		lines := make([]string, 0, len(s.Packages))
		sorted := append([]Package(nil), s.Packages...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
		for _, pkg := range sorted {
			p.newBlobs[pkg.Name] = pkg.Stanza()
			lines = append(lines, pkg.Name+" "+pkg.Version)
		}
		if len(lines) == 0 {
			p.subject = fmt.Sprintf("%s: %s empty", s.ID, verb)
		} else {
			p.subject, p.body = summary(s.ID, verb, lines)
		}
		tag, commit, err := r.writeObjects(ident, p)
		if err != nil {
			return nil, err
		}
		commits[s.ID] = commit
		updates = append(updates, RefUpdate{Name: s.ID.TagRef(), New: tag})
		res.Created = append(res.Created, Result{ID: s.ID, Tag: tag, Commit: commit, Subject: p.subject, Body: p.body, Packages: sorted})
	}
	moves, err := r.branchesAfterCreate(stacks, commits)
	if err != nil {
		return nil, err
	}
	for _, m := range moves {
		updates = append(updates, RefUpdate{Name: BranchRef(m.Domain), Old: m.From, New: m.To})
	}
	res.Branches = moves
	msg := fmt.Sprintf("gachette: %s %d stacks", verb, len(stacks))
	if err := r.refs.Update(msg, updates...); err != nil {
		return nil, err
	}
	return res, nil
}

// branchesAfterCreate finds, per domain, whether the newest stack once
// the new ones are in is a new one; its branch then moves there.
func (r *Repo) branchesAfterCreate(stacks []NewStack, commits map[StackID]plumbing.Hash) ([]BranchMove, error) {
	byDomain := map[string][]string{}
	var domains []string
	for _, s := range stacks {
		if byDomain[s.ID.Domain] == nil {
			domains = append(domains, s.ID.Domain)
		}
		byDomain[s.ID.Domain] = append(byDomain[s.ID.Domain], s.ID.Name)
	}
	sort.Strings(domains)
	var moves []BranchMove
	now := time.Now().Unix()
	for _, d := range domains {
		list, err := r.List(d, false)
		if err != nil {
			return nil, err
		}
		names := append([]string(nil), byDomain[d]...)
		isNew := len(names)
		dates := make([]int64, 0, len(names)+len(list))
		for range names {
			dates = append(dates, now)
		}
		for _, s := range list {
			names = append(names, s.ID.Name)
			dates = append(dates, -1)
		}
		date := func(i int) int64 {
			if dates[i] < 0 {
				dates[i] = r.tagDate(list[i-isNew].Tag).Unix()
			}
			return dates[i]
		}
		newest := semverx.NewestFirst(names, date)[0]
		if newest >= isNew {
			continue
		}
		id := StackID{Domain: d, Name: names[newest]}
		u, err := r.branchUpdate(id, nil, true, commits[id])
		if err != nil {
			return nil, err
		}
		moves = append(moves, BranchMove{Domain: d, From: u.Old, To: u.New, Stack: id})
	}
	return moves, nil
}
