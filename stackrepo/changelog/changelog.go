// Package changelog tells which source commits a new stack brings: for
// each package whose recorded Commit changed between two stacks, the
// commits of its recorded Source between the two, read with git log from
// a cache of the sources fetched with the user's git (git fetch, never
// another transport).
package changelog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// Status says whether a package's changelog could be read.
const (
	// StatusOK: the commits are listed.
	StatusOK = "ok"
	// StatusNotRecorded: a side has no Source or no Commit; nothing to read.
	StatusNotRecorded = "not_recorded"
	// StatusBadRecord: the recorded Source or Commit is not one git-gachette
	// hands to git (an option, ext::, not a full commit id).
	StatusBadRecord = "bad_record"
	// StatusUnreachable: git could not fetch from the Source.
	StatusUnreachable = "unreachable"
	// StatusMissingCommits: the Source was fetched but lacks a commit.
	StatusMissingCommits = "missing_commits"
)

// Commit is one source commit.
type Commit struct {
	ID      string    `json:"commit"`
	Author  string    `json:"author"`
	Email   string    `json:"email"`
	Date    time.Time `json:"date"`
	Subject string    `json:"subject"`
}

// Entry is the changelog of one package present in both stacks.
type Entry struct {
	Name string `json:"name"`
	// Change is how the version moved: upgraded, downgraded or rebuilt.
	Change      string `json:"change"`
	FromVersion string `json:"from_version"`
	ToVersion   string `json:"to_version"`
	// Source is the recorded Source (B's, else A's), without user
	// information.
	Source     string `json:"source,omitempty"`
	FromCommit string `json:"from_commit,omitempty"`
	ToCommit   string `json:"to_commit,omitempty"`
	Status     string `json:"status"`
	// Reason says why Status is not ok.
	Reason string `json:"reason,omitempty"`
	// Added are the commits B's Commit has and A's has not (git log
	// FROM..TO), oldest first; Removed the other way round (TO..FROM): what
	// a downgrade takes away.
	Added   []Commit `json:"added"`
	Removed []Commit `json:"removed"`
}

// Complete says whether the entry is what was asked: its commits listed,
// or nothing recorded to list them from.
func (e *Entry) Complete() bool { return e.Status == StatusOK || e.Status == StatusNotRecorded }

// Result is a stack diff with the changelog of its changed packages.
type Result struct {
	Diff *stackrepo.Diff
	// Entries, by package name: every package in both stacks whose
	// stanza changed, except those whose recorded Source and Commit did not.
	Entries []Entry
}

// Incomplete names the packages whose changelog could not be read.
func (r *Result) Incomplete() []string {
	var out []string
	for _, e := range r.Entries {
		if !e.Complete() {
			out = append(out, e.Name)
		}
	}
	return out
}

// DiffStacks compares stacks a and b of repo and reads the changelog of
// every package whose recorded Commit changed, fetching sources into c.
// A source that cannot be read is told in its entries; the error is for
// the stacks themselves (and for an interruption).
func DiffStacks(ctx context.Context, repo *stackrepo.Repo, a, b stackrepo.StackID, c *Cache) (*Result, error) {
	d, err := repo.DiffStacks(a, b)
	if err != nil {
		return nil, err
	}
	return Of(ctx, d, c)
}

// Of reads the changelog of the diff d's changed packages.
func Of(ctx context.Context, d *stackrepo.Diff, c *Cache) (*Result, error) {
	res := &Result{Diff: d}
	for _, g := range []struct {
		change string
		list   []stackrepo.VersionChange
	}{{"upgraded", d.Upgraded}, {"downgraded", d.Downgraded}, {"rebuilt", d.Changed}} {
		for _, vc := range g.list {
			if vc.From.Commit == vc.To.Commit && vc.From.Commit != "" && vc.From.Source == vc.To.Source {
				continue
			}
			res.Entries = append(res.Entries, entry(d, g.change, vc))
		}
	}
	sort.Slice(res.Entries, func(i, j int) bool { return res.Entries[i].Name < res.Entries[j].Name })

	// One fetch per source, with every commit its packages need.
	type need struct {
		src     Source
		ids     []string
		entries []int
	}
	var order []string
	needs := map[string]*need{}
	for i := range res.Entries {
		e := &res.Entries[i]
		if e.Status != "" {
			continue
		}
		src, _ := ParseSource(sourceOf(d, e.Name))
		n := needs[src.key]
		if n == nil {
			n = &need{src: src}
			needs[src.key] = n
			order = append(order, src.key)
		}
		n.ids = appendNew(n.ids, e.FromCommit, e.ToCommit)
		n.entries = append(n.entries, i)
	}
	for _, k := range order {
		n := needs[k]
		g, missing, err := c.fetch(ctx, n.src, n.ids)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for _, i := range n.entries {
			e := &res.Entries[i]
			switch {
			case err != nil:
				e.Status, e.Reason = StatusUnreachable, err.Error()
			case contains(missing, e.FromCommit) || contains(missing, e.ToCommit):
				var lacks []string
				for _, id := range []string{e.FromCommit, e.ToCommit} {
					if contains(missing, id) {
						lacks = append(lacks, id)
					}
				}
				e.Status = StatusMissingCommits
				e.Reason = fmt.Sprintf("source %s has no commit %s (fetched by id, then its branches)", n.src, strings.Join(lacks, " nor "))
			default:
				if err := e.log(ctx, g); err != nil {
					if ctx.Err() != nil {
						return nil, ctx.Err()
					}
					e.Status, e.Reason = StatusMissingCommits, fmt.Sprintf("source %s: %v", n.src, err)
					continue
				}
				e.Status = StatusOK
			}
		}
	}
	return res, nil
}

// entry starts the entry of vc: its status is set already when there is
// nothing to fetch (not recorded, or a record git-gachette refuses).
func entry(d *stackrepo.Diff, change string, vc stackrepo.VersionChange) Entry {
	e := Entry{Name: vc.Name, Change: change, FromVersion: vc.From.Version, ToVersion: vc.To.Version,
		FromCommit: vc.From.Commit, ToCommit: vc.To.Commit, Added: []Commit{}, Removed: []Commit{}}
	raw := sourceOf(d, vc.Name)
	var missing []string
	if raw == "" {
		missing = append(missing, "no Source")
	}
	if vc.From.Commit == "" {
		missing = append(missing, "no Commit in "+d.A.String())
	}
	if vc.To.Commit == "" {
		missing = append(missing, "no Commit in "+d.B.String())
	}
	if len(missing) > 0 {
		if raw != "" {
			if src, err := ParseSource(raw); err == nil {
				e.Source = src.String()
			}
		}
		e.Status = StatusNotRecorded
		e.Reason = strings.Join(missing, ", ") + " recorded (git gachette quick records them; stack add takes --source and --commit)"
		return e
	}
	src, err := ParseSource(raw)
	if err != nil {
		e.Status, e.Reason = StatusBadRecord, fmt.Sprintf("recorded Source %q %v", stackrepo.Redact(raw), err)
		return e
	}
	e.Source = src.String()
	for _, id := range []string{vc.From.Commit, vc.To.Commit} {
		if !gitexec.IsObjectName(id) {
			e.Status, e.Reason = StatusBadRecord, fmt.Sprintf("recorded Commit %q is not a full commit id", id)
			return e
		}
	}
	if len(vc.From.Commit) != len(vc.To.Commit) {
		e.Status, e.Reason = StatusBadRecord, "the recorded Commits are of different hash functions (SHA-1 and SHA-256)"
	}
	return e
}

// sourceOf is the Source a package's changelog is read from: B's, else
// A's (a package moved to another repository is read from its new one).
func sourceOf(d *stackrepo.Diff, name string) string {
	for _, l := range [][]stackrepo.VersionChange{d.Upgraded, d.Downgraded, d.Changed} {
		for _, vc := range l {
			if vc.Name == name {
				if vc.To.Source != "" {
					return vc.To.Source
				}
				return vc.From.Source
			}
		}
	}
	return ""
}

// log fills Added and Removed with one git log of the symmetric
// difference (--left-right marks each side), oldest first.
func (e *Entry) log(ctx context.Context, g *gitexec.Git) error {
	out, err := g.Output(ctx, nil, "log", "--no-show-signature", "--no-decorate", "--reverse", "--left-right", "-z",
		"--format=%m%x00%H%x00%an%x00%ae%x00%aI%x00%s", e.FromCommit+"..."+e.ToCommit, "--")
	if err != nil {
		return err
	}
	fields := strings.Split(string(out), "\x00")
	for len(fields) >= 6 {
		f := fields[:6]
		fields = fields[6:]
		date, err := time.Parse(time.RFC3339, f[4])
		if err != nil {
			return fmt.Errorf("git log: commit %s: date %q: %w", f[1], f[4], err)
		}
		c := Commit{ID: f[1], Author: f[2], Email: f[3], Date: date, Subject: f[5]}
		switch strings.TrimPrefix(f[0], "\n") {
		case ">":
			e.Added = append(e.Added, c)
		case "<":
			e.Removed = append(e.Removed, c)
		default:
			return fmt.Errorf("git log --left-right: unexpected mark %q", f[0])
		}
	}
	return nil
}

func appendNew(list []string, ids ...string) []string {
	for _, id := range ids {
		if !contains(list, id) {
			list = append(list, id)
		}
	}
	return list
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
