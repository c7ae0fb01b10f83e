package metapath

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo"
)

// ImportRequest asks Import to bring a meta_path tree's stacks over.
type ImportRequest struct {
	// MetaPath is the tree's root directory.
	MetaPath string
	// Domain, when not "", imports that domain of the tree only.
	Domain string
}

// Difference is a stack that exists here with other packages than the
// tree's: it is left as it is.
type Difference struct {
	ID stackrepo.StackID
	// Lines say package by package what differs ("dh-app: 1.0 here, 1.1
	// in meta_path").
	Lines []string
}

// ImportResult tells what Import did.
type ImportResult struct {
	// Created are the stacks written, one commit each.
	Created []stackrepo.Result
	// Branches are the domain branches that moved to a created stack.
	Branches []stackrepo.BranchMove
	// Identical are the tree's stacks already here with the same packages
	// (name, version and file name: what a meta_path tree records).
	Identical []stackrepo.StackID
	// Different are the tree's stacks here with other packages: not
	// overwritten.
	Different []Difference
	// Aliases are the symlinks to a stack (latest -> 124) skipped.
	Aliases []Alias
	// Attempts counts tries of the write; more than one means it lost races.
	Attempts int
}

// DifferentError says some stacks of the tree exist here with other
// packages; they were not overwritten (the others were imported).
type DifferentError struct {
	Different []Difference
}

func (e *DifferentError) Error() string {
	var b strings.Builder
	n := len(e.Different)
	if n == 1 {
		b.WriteString("1 stack of the meta_path exists here with other packages and was not overwritten:")
	} else {
		fmt.Fprintf(&b, "%d stacks of the meta_path exist here with other packages and were not overwritten:", n)
	}
	for _, d := range e.Different {
		fmt.Fprintf(&b, "\n  %s: %s", d.ID, strings.Join(d.Lines, "; "))
	}
	b.WriteString("\nsee what this repository has with: git gachette stack show STACK; to take the tree's version instead, " +
		"rename the stack here (git gachette stack rename STACK NEW; unpublished stacks only) and import again")
	return b.String()
}

// Import reads the tree (Read: every problem is named and nothing is
// written when there is one), then creates the stacks that are not here
// yet, all in one ref transaction (stackrepo.CreateStacks: one root
// commit per stack, Gachette-Action import). A stack already here with
// the same packages is left alone, so a second import writes nothing; one
// here with other packages is left alone too and named in a
// *DifferentError, returned with the result of the rest.
func Import(r *stackrepo.Repo, req ImportRequest, ident stackrepo.Identity) (*ImportResult, error) {
	if req.Domain != "" {
		if err := stackrepo.CheckName("domain", req.Domain); err != nil {
			return nil, err
		}
	}
	stacks, aliases, err := Read(req.MetaPath, req.Domain)
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Aliases: aliases}
	var todo []stackrepo.NewStack
	for _, s := range stacks {
		cur, err := r.Stack(s.ID)
		var nf *stackrepo.NotFoundError
		if errors.As(err, &nf) {
			todo = append(todo, stackrepo.NewStack(s))
			continue
		}
		if err != nil {
			return nil, err
		}
		have, err := r.Packages(cur)
		if err != nil {
			return nil, err
		}
		if d := differences(have, s.Packages, "here", "in meta_path"); len(d) > 0 {
			res.Different = append(res.Different, Difference{ID: s.ID, Lines: d})
		} else {
			res.Identical = append(res.Identical, s.ID)
		}
	}
	cr, err := r.CreateStacks(todo, "import", ident)
	if err != nil {
		return nil, err
	}
	res.Created, res.Branches, res.Attempts = cr.Created, cr.Branches, cr.Attempts
	if len(res.Different) > 0 {
		return res, &DifferentError{Different: res.Different}
	}
	return res, nil
}
