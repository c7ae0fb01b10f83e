package stackrepo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// FormatVersion is the version of the stacks format (README, "The stacks repository") this code
// reads and writes; it travels with the data as the Gachette-Format trailer.
const FormatVersion = "1"

// packagesDir is the tree, at a stack commit's root, that holds one stanza
// file per package.
const packagesDir = "packages"

// NotFoundError says a stack does not exist.
type NotFoundError struct {
	ID StackID
	// IsDomain says its name is a domain's (one with stacks): the user
	// named a domain where a stack was wanted.
	IsDomain bool
}

func (e *NotFoundError) Error() string {
	if e.IsDomain {
		return fmt.Sprintf("%s is a domain, not a stack: list its stacks with git gachette stack list -d %s", e.ID.Name, e.ID.Name)
	}
	return fmt.Sprintf("stack %s does not exist; list the stacks of the domain with: git gachette stack list --domain %s", e.ID, e.ID.Domain)
}

// ExistsError says a stack to create exists already.
type ExistsError struct{ ID StackID }

func (e *ExistsError) Error() string {
	return fmt.Sprintf("stack %s exists already; choose another name, or change it with git gachette stack add", e.ID)
}

// PublishedError says a stack may no longer change in place.
type PublishedError struct {
	ID    StackID
	Where string
	// Pushing is set when a push of the stack was interrupted: the remote
	// (its name, or url-<digest>) may have it. Mark is the mark that says
	// so, Clear the command that deletes it (when that remote is gone for
	// good), and Gone is set when Pushing names a remote no longer
	// configured in the stacks repository.
	Pushing, Mark, Clear string
	Gone                 bool
	// Channels are the channels (<domain>/<env>) that run or ran it: a
	// promoted stack is sealed like a published one.
	Channels []string
}

func (e *PublishedError) Error() string {
	if e.Pushing != "" {
		to, again := "", ""
		if !strings.HasPrefix(e.Pushing, "url-") {
			to, again = " to "+e.Pushing, " --remote "+e.Pushing
		}
		msg := fmt.Sprintf("stack %s may be on a remote: a push of it%s is under way, or was interrupted; if none is running, "+
			"run git gachette push%s (or fetch) again to settle it, then it is published or free to change", e.ID, to, again)
		if e.Mark != "" {
			gone := "if that remote no longer exists"
			if e.Gone {
				gone = "remote " + e.Pushing + " is no longer configured here: if it is gone for good"
			}
			msg += fmt.Sprintf("; %s, delete the mark %s (the stack is then free to change): %s", gone, e.Mark, e.Clear)
		}
		return msg
	}
	if e.Where == "" && len(e.Channels) > 0 {
		s := ""
		if len(e.Channels) > 1 {
			s = "s"
		}
		return fmt.Sprintf("stack %s is sealed: channel%s %s ran it (a channel's history keeps the stacks it ran, for rollback), so it cannot change in place; "+
			"make a new stack from it: git gachette stack create NEW --from %s", e.ID, s, strings.Join(e.Channels, ", "), e.ID)
	}
	return fmt.Sprintf("stack %s is published (%s) and cannot change in place; make a new stack from it: git gachette stack create NEW --from %s", e.ID, e.Where, e.ID)
}

// FormatError says a stack commit was written in a format we cannot read.
type FormatError struct {
	ID     StackID
	Commit plumbing.Hash
	Format string
}

func (e *FormatError) Error() string {
	if e.Format == "" {
		return fmt.Sprintf("stack %s: commit %s has no Gachette-Format trailer, so it was not written by git-gachette; refusing to read it as a stack", e.ID, e.Commit)
	}
	return fmt.Sprintf("stack %s: commit %s is in Gachette-Format %s, but this git-gachette reads format %s; upgrade git-gachette", e.ID, e.Commit, e.Format, FormatVersion)
}

// Stack is the state of one stack: its tag, its commit and the blobs of its
// package stanzas (read on demand with Packages).
type Stack struct {
	ID     StackID
	Tag    plumbing.Hash
	Commit plumbing.Hash
	// Date is when the stack last changed (the commit's committer date).
	Date     time.Time
	Subject  string
	trailers map[string]string
	entries  []object.TreeEntry // packages/*, sorted by name
}

// Len is the number of packages in the stack.
func (s *Stack) Len() int { return len(s.entries) }

func (s *Stack) entry(name string) (object.TreeEntry, bool) {
	i := sort.Search(len(s.entries), func(i int) bool { return s.entries[i].Name >= name })
	if i < len(s.entries) && s.entries[i].Name == name {
		return s.entries[i], true
	}
	return object.TreeEntry{}, false
}

// Stack reads a stack's tag, commit and package list, checking the format.
// It costs a fixed number of object reads, whatever the history.
func (r *Repo) Stack(id StackID) (*Stack, error) {
	tagHash, err := r.refs.Lookup(id.TagRef())
	if errors.Is(err, ErrRefNotFound) {
		return nil, r.notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	return r.stackOfTag(id, tagHash)
}

// notFound is the *NotFoundError for a stack that does not exist, saying
// so when its name is a domain's.
func (r *Repo) notFound(id StackID) error {
	n, err := r.countStacks(id.Name)
	return &NotFoundError{ID: id, IsDomain: err == nil && n > 0}
}

// stackOfTag reads a stack whose tag is tagHash (as Stack does, without
// looking its ref up).
func (r *Repo) stackOfTag(id StackID, tagHash plumbing.Hash) (*Stack, error) {
	commitHash, err := r.peelTag(id, tagHash)
	if err != nil {
		return nil, err
	}
	return r.stackAt(id, tagHash, commitHash)
}

// peelTag checks that a stack's ref is an annotated tag of a commit and
// returns the commit.
func (r *Repo) peelTag(id StackID, tagHash plumbing.Hash) (plumbing.Hash, error) {
	raw, err := r.readRaw(tagHash)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("stack %s: %w", id, objectError(tagHash, "tag", err))
	}
	if raw.typ != plumbing.TagObject {
		return plumbing.ZeroHash, fmt.Errorf("stack %s: %s points at %s %s, not at an annotated tag; it is not a gachette stack", id, id.TagRef(), article(raw.typ), tagHash)
	}
	tag, err := object.DecodeTag(r.st, memoryObject(tagHash, raw))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("stack %s: tag %s cannot be decoded: %w", id, tagHash, err)
	}
	if tag.TargetType != plumbing.CommitObject {
		return plumbing.ZeroHash, fmt.Errorf("stack %s: tag %s points at %s %s, not at a commit; it is not a gachette stack", id, tagHash, article(tag.TargetType), tag.Target)
	}
	return tag.Target, nil
}

func article(t plumbing.ObjectType) string {
	if t == plumbing.OFSDeltaObject || t == plumbing.REFDeltaObject {
		return "an object of type " + t.String()
	}
	return "a " + t.String()
}

func (r *Repo) stackAt(id StackID, tagHash, commitHash plumbing.Hash) (*Stack, error) {
	c, err := r.readCommit(commitHash)
	if err != nil {
		return nil, fmt.Errorf("stack %s: %w", id, err)
	}
	tr := trailers(c.Message)
	if f := tr["Gachette-Format"]; f != FormatVersion {
		return nil, &FormatError{ID: id, Commit: commitHash, Format: f}
	}
	s := &Stack{ID: id, Tag: tagHash, Commit: commitHash, Date: c.Committer.When, Subject: subject(c.Message), trailers: tr}
	root, err := r.readTree(c.TreeHash)
	if err != nil {
		return nil, fmt.Errorf("stack %s: commit %s: %w", id, commitHash, err)
	}
	seen := false
	for _, e := range root.Entries {
		if e.Name != packagesDir {
			// .gitmodules, a README, a symbolic link: git would check
			// them out, and git gachette would not show them
			return nil, fmt.Errorf("stack %s: commit %s: its tree has %q (mode %s) at the root, where a stack has only %s/; it is not a gachette stack", id, commitHash, e.Name, e.Mode, packagesDir)
		}
		if seen {
			// git fsck: duplicateEntries; git and we would each read one
			return nil, fmt.Errorf("stack %s: commit %s: its tree lists %s twice (git fsck calls it duplicateEntries)", id, commitHash, packagesDir)
		}
		seen = true
		if e.Mode != filemode.Dir {
			return nil, fmt.Errorf("stack %s: commit %s: %s is not a directory", id, commitHash, packagesDir)
		}
		t, err := r.readTree(e.Hash)
		if err != nil {
			return nil, fmt.Errorf("stack %s: commit %s: %s: %w", id, commitHash, packagesDir, err)
		}
		for i, pe := range t.Entries {
			if i > 0 && t.Entries[i-1].Name >= pe.Name {
				// git fsck: duplicateEntries or treeNotSorted; a name
				// looked up could be either entry
				return nil, fmt.Errorf("stack %s: commit %s: %s lists %s out of git's order or twice (git fsck calls it duplicateEntries or treeNotSorted)", id, commitHash, packagesDir, pe.Name)
			}
			if pe.Mode != filemode.Regular {
				return nil, fmt.Errorf("stack %s: commit %s: %s/%s is not a regular file (mode %s)", id, commitHash, packagesDir, pe.Name, pe.Mode)
			}
			if err := checkPackageName(pe.Name); err != nil {
				return nil, fmt.Errorf("stack %s: commit %s: %s/%s: %w", id, commitHash, packagesDir, pe.Name, err)
			}
		}
		s.entries = t.Entries
	}
	return s, nil
}

// Packages reads and parses every stanza of the stack, sorted by name.
func (r *Repo) Packages(s *Stack) ([]Package, error) {
	hashes := make([]plumbing.Hash, len(s.entries))
	for i, e := range s.entries {
		hashes[i] = e.Hash
	}
	if err := r.prefetch(hashes); err != nil {
		return nil, fmt.Errorf("stack %s: %w", s.ID, err)
	}
	out := make([]Package, 0, len(s.entries))
	for _, e := range s.entries {
		p, err := r.readPackage(s, e)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func (r *Repo) readPackage(s *Stack, e object.TreeEntry) (Package, error) {
	data, err := r.readBlob(e.Hash)
	if err != nil {
		return Package{}, fmt.Errorf("stack %s: %s/%s: %w", s.ID, packagesDir, e.Name, err)
	}
	p, err := ParseStanza(data)
	if err != nil {
		return Package{}, fmt.Errorf("stack %s: %s/%s (blob %s): %w", s.ID, packagesDir, e.Name, e.Hash, err)
	}
	if p.Name != e.Name {
		return Package{}, fmt.Errorf("stack %s: %s/%s (blob %s) describes package %q", s.ID, packagesDir, e.Name, e.Hash, p.Name)
	}
	return p, nil
}

// Package reads one package of the stack; ok is false when it is absent.
func (r *Repo) Package(s *Stack, name string) (Package, bool, error) {
	e, ok := s.entry(name)
	if !ok {
		return Package{}, false, nil
	}
	p, err := r.readPackage(s, e)
	return p, err == nil, err
}

// trailers reads "Key: value" lines of a message's last paragraph.
func trailers(msg string) map[string]string {
	msg = strings.TrimRight(msg, "\n")
	para := msg
	if i := strings.LastIndex(msg, "\n\n"); i >= 0 {
		para = msg[i+2:]
	}
	out := map[string]string{}
	for _, line := range strings.Split(para, "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		out[k] = v
	}
	return out
}

func subject(msg string) string {
	s, _, _ := strings.Cut(msg, "\n")
	return s
}

// NoPackageError is Show asked for a package the stack does not have.
type NoPackageError struct {
	Stack StackID
	Name  string
}

func (e *NoPackageError) Error() string {
	return fmt.Sprintf("stack %s has no package %q; see its packages with git gachette stack show %s", e.Stack, e.Name, e.Stack)
}

// Show reads a stack and its packages: every one, sorted by name, or
// those named in only, in that order (*NoPackageError for one it does
// not have).
func (r *Repo) Show(id StackID, only []string) (*Stack, []Package, error) {
	s, err := r.Stack(id)
	if err != nil {
		return nil, nil, err
	}
	if r.RequireSigned {
		v, err := r.VerifyStack(context.Background(), id)
		if err != nil {
			return nil, nil, err
		}
		if err := requireSigned(v); err != nil {
			return nil, nil, err
		}
	}
	pkgs, err := r.selectPackages(s, only)
	if err != nil {
		return nil, nil, err
	}
	return s, pkgs, nil
}

// selectPackages reads the packages of s: every one, sorted by name, or
// those named in only, in that order (*NoPackageError for one it does
// not have).
func (r *Repo) selectPackages(s *Stack, only []string) ([]Package, error) {
	if len(only) == 0 {
		return r.Packages(s)
	}
	pkgs := make([]Package, 0, len(only))
	for _, name := range only {
		p, ok, err := r.Package(s, name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &NoPackageError{Stack: s.ID, Name: name}
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}
