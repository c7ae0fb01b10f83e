package stackrepo

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// promote moves channel <domain>/env to stack s as SPEC §6 says a move
// is made: the stack's tree, the previous move as first parent and the
// stack's commit as second, Gachette-Channel and Gachette-Stack trailers.
func promote(t *testing.T, r *Repo, env string, s StackID) plumbing.Hash {
	t.Helper()
	st := must[*Stack](t)(r.Stack(s))
	c := must[*object.Commit](t)(r.readCommit(st.Commit))
	name := channelPrefix + s.Domain + "/" + env
	prev, err := r.refs.Lookup(name)
	if err != nil && !errors.Is(err, ErrRefNotFound) {
		t.Fatal(err)
	}
	parents := []plumbing.Hash{st.Commit}
	if !prev.IsZero() {
		parents = []plumbing.Hash{prev, st.Commit}
	}
	msg := fmt.Sprintf("%s/%s: promote %s\n\nGachette-Channel: %s/%s\nGachette-Stack: %s\nGachette-Action: promote\nGachette-Format: 1\n",
		s.Domain, env, s.Name, s.Domain, env, s)
	h := must[plumbing.Hash](t)(r.writeObject(&object.Commit{Author: c.Author, Committer: c.Committer, Message: msg, TreeHash: c.TreeHash, ParentHashes: parents}))
	if err := r.refs.Update("test", RefUpdate{Name: name, Old: prev, New: h}); err != nil {
		t.Fatal(err)
	}
	return h
}

func tagOf(t *testing.T, r *Repo, s StackID) plumbing.Hash {
	t.Helper()
	h, err := r.refs.Lookup(s.TagRef())
	if errors.Is(err, ErrRefNotFound) {
		return plumbing.ZeroHash
	}
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func branchOf(t *testing.T, r *Repo, d string) plumbing.Hash {
	t.Helper()
	h, err := r.refs.Lookup(BranchRef(d))
	if errors.Is(err, ErrRefNotFound) {
		return plumbing.ZeroHash
	}
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestDelete(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		for _, s := range []string{"main/1.0.0", "main/1.1.0", "main/1.2.0", "other/a"} {
			must[*Result](t)(r.Create(id(s), nil, testIdent))
		}
		must[*Result](t)(r.Add(id("main/1.1.0"), []Package{pkg("dh-app", "1")}, testIdent))
		// the branch is at 1.2.0, the last created: deleting it moves
		// the branch to the newest stack left
		was := branchOf(t, r, "main")
		next := must[*Stack](t)(r.Stack(id("main/1.1.0")))
		res := must[*DeleteResult](t)(r.Delete([]StackID{id("main/1.2.0")}))
		if len(res.Deleted) != 1 || res.Deleted[0].ID != id("main/1.2.0") || res.Deleted[0].Commit != was || res.Attempts != 1 ||
			len(res.Branches) != 1 || res.Branches[0] != (BranchMove{Domain: "main", From: was, To: next.Commit, Stack: id("main/1.1.0")}) {
			t.Errorf("delete 1.2.0: %+v", res)
		}
		if b := branchOf(t, r, "main"); b != next.Commit {
			t.Errorf("branch at %s, want 1.1.0's %s", b, next.Commit)
		}
		// a stack the branch is not at: it stays (a name given twice is
		// deleted once)
		res = must[*DeleteResult](t)(r.Delete([]StackID{id("main/1.0.0"), id("main/1.0.0")}))
		if len(res.Deleted) != 1 || len(res.Branches) != 0 {
			t.Errorf("delete 1.0.0: %+v", res)
		}
		if b := branchOf(t, r, "main"); b != next.Commit {
			t.Errorf("branch at %s, want 1.1.0's %s", b, next.Commit)
		}
		// stacks of two domains at once; with their last stacks, the
		// domains' branches go
		res = must[*DeleteResult](t)(r.Delete([]StackID{id("main/1.1.0"), id("other/a")}))
		if len(res.Deleted) != 2 || len(res.Branches) != 2 || !res.Branches[0].To.IsZero() || !res.Branches[1].To.IsZero() {
			t.Errorf("delete the last stacks: %+v", res)
		}
		for _, d := range []string{"main", "other"} {
			if b := branchOf(t, r, d); !b.IsZero() {
				t.Errorf("branch %s left at %s", d, b)
			}
		}
		if tags := must[[]Ref](t)(r.refs.List("refs/tags/")); len(tags) != 0 {
			t.Errorf("tags left: %v", tags)
		}
		var nf *NotFoundError
		if _, err := r.Delete([]StackID{id("main/nosuch")}); !errors.As(err, &nf) {
			t.Errorf("deleting a stack that does not exist: %v", err)
		}
	})
}

// A delete of several stacks is all or nothing: one that may not go
// keeps them all, and the refusal names it and the way forward.
func TestDeleteRefusesPublishedAndPromoted(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		for _, s := range []string{"main/1", "main/2", "main/3", "main/4", "main/5", "main/6"} {
			must[*Result](t)(r.Create(id(s), nil, testIdent))
		}
		sealed := must[*Stack](t)(r.Stack(id("main/2")))
		if err := r.refs.Update("push", RefUpdate{Name: id("main/2").publishedRef(), New: sealed.Tag}); err != nil {
			t.Fatal(err)
		}
		tracked := must[*Stack](t)(r.Stack(id("main/3")))
		if err := r.refs.Update("fetch", RefUpdate{Name: "refs/remotes/origin/main", New: tracked.Commit}); err != nil {
			t.Fatal(err)
		}
		promote(t, r, "prod", id("main/4"))
		promote(t, r, "prod", id("main/1"))
		marked := must[*Stack](t)(r.Stack(id("main/5")))
		if err := r.refs.Update("push", RefUpdate{Name: pushingPrefix + "origin/main/5", New: marked.Tag}); err != nil {
			t.Fatal(err)
		}
		branch := branchOf(t, r, "main")
		for _, c := range []struct {
			stack string
			want  string
		}{
			{"main/2", "stack main/2 cannot be deleted: it is published (pushed or fetched by git-gachette)"},
			{"main/3", "stack main/3 cannot be deleted: it is published (reachable from origin/main)"},
			{"main/4", "stack main/4 cannot be deleted: channel main/prod ran it"},
			{"main/1", "stack main/1 cannot be deleted: channel main/prod ran it"},
		} {
			_, err := r.Delete([]StackID{id("main/6"), id(c.stack)})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "git gachette stack create NEW --from "+c.stack) {
				t.Errorf("delete %s: %v", c.stack, err)
			}
			var kept *KeptError
			if _, err := r.Delete([]StackID{id(c.stack)}); !errors.As(err, &kept) || kept.ID != id(c.stack) {
				t.Errorf("delete %s alone: %v", c.stack, err)
			}
		}
		// a push under way: its own words, which say how to settle it
		var pub *PublishedError
		if _, err := r.Delete([]StackID{id("main/5")}); !errors.As(err, &pub) || pub.Pushing != "origin" {
			t.Errorf("delete of a stack being pushed: %v", err)
		}
		for _, s := range []string{"main/1", "main/2", "main/3", "main/4", "main/5", "main/6"} {
			if tagOf(t, r, id(s)).IsZero() {
				t.Errorf("%s was deleted", s)
			}
		}
		if b := branchOf(t, r, "main"); b != branch {
			t.Errorf("branch moved to %s", b)
		}
	})
}

// A stack sealed between a delete's or rename's read and its ref
// transaction is not deleted or renamed: the transaction verifies it is
// still unsealed, and the retry refuses; the old name stays, the new one
// is not made.
func TestDeleteRenameLoseToPublish(t *testing.T) {
	for name, op := range map[string]func(r *Repo) error{
		"delete": func(r *Repo) error { _, err := r.Delete([]StackID{id("main/1")}); return err },
		"rename": func(r *Repo) error { _, err := r.Rename(id("main/1"), id("main/2"), testIdent); return err },
	} {
		t.Run(name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, r *Repo) {
				res := must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
				inner := r.refs
				r.refs = &sealingRefs{RefStore: inner, seal: func() {
					if err := inner.Update("push", RefUpdate{Name: id("main/1").publishedRef(), New: res.Tag}); err != nil {
						t.Fatal(err)
					}
				}}
				var kept *KeptError
				if err := op(r); !errors.As(err, &kept) {
					t.Fatalf("%s racing a publish: %v", name, err)
				}
				if tag, _ := inner.Lookup(id("main/1").TagRef()); tag != res.Tag {
					t.Errorf("the published stack's tag is %s", tag)
				}
				if _, err := inner.Lookup(id("main/2").TagRef()); !errors.Is(err, ErrRefNotFound) {
					t.Errorf("the new name exists: %v", err)
				}
			})
		})
	}
}

func TestRename(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		must[*Result](t)(r.Create(id("main/1.2.0"), nil, testIdent))
		must[*Result](t)(r.Create(id("main/1.3.0"), &StackID{"main", "1.2.0"}, testIdent))
		must[*Result](t)(r.Add(id("main/1.3.0"), []Package{pkg("dh-app", "2")}, testIdent))
		before := must[*Stack](t)(r.Stack(id("main/1.3.0")))
		res := must[*RenameResult](t)(r.Rename(id("main/1.3.0"), id("main/1.3.1"), testIdent))
		if res.Subject != "main/1.3.1: rename from main/1.3.0" || res.Branch == nil || res.Branch.To != res.Commit || res.Attempts != 1 {
			t.Errorf("rename: %+v", res)
		}
		if !tagOf(t, r, id("main/1.3.0")).IsZero() {
			t.Error("the old tag is still there")
		}
		after := must[*Stack](t)(r.Stack(id("main/1.3.1")))
		c := must[*object.Commit](t)(r.readCommit(after.Commit))
		old := must[*object.Commit](t)(r.readCommit(before.Commit))
		if len(c.ParentHashes) != 1 || c.ParentHashes[0] != before.Commit || c.TreeHash != old.TreeHash || after.Tag != res.Tag {
			t.Errorf("renamed stack: parents %v tree %s, want [%s] and %s", c.ParentHashes, c.TreeHash, before.Commit, old.TreeHash)
		}
		if tr := after.trailers; tr["Gachette-Stack"] != "main/1.3.1" || tr["Gachette-Action"] != "rename" || tr["Gachette-From"] != "main/1.3.0" || tr["Gachette-Format"] != "1" {
			t.Errorf("trailers %v", tr)
		}
		if v := versions(t, r, id("main/1.3.1")); v["dh-app"] != "2" || len(v) != 1 {
			t.Errorf("packages after the rename: %v", v)
		}
		if b := branchOf(t, r, "main"); b != res.Commit {
			t.Errorf("branch at %s, want the renamed stack's %s", b, res.Commit)
		}
		log := must[[]LogEntry](t)(r.Log(id("main/1.3.1"), -1))
		if len(log) != 4 || log[0].Action != "rename" || log[1].Stack != "main/1.3.0" {
			t.Errorf("log %+v", log)
		}
		rep := must[*FsckReport](t)(r.Fsck())
		if len(rep.Problems) != 0 || rep.Stacks != 2 {
			t.Errorf("fsck after a rename: %+v", rep)
		}
		// the branch stays where it is when it is at another stack
		b := branchOf(t, r, "main")
		res = must[*RenameResult](t)(r.Rename(id("main/1.2.0"), id("main/1.2.1"), testIdent))
		if res.Branch != nil || branchOf(t, r, "main") != b {
			t.Errorf("renaming a stack the branch is not at moved it: %+v", res.Branch)
		}
		var exists *ExistsError
		if _, err := r.Rename(id("main/1.2.1"), id("main/1.3.1"), testIdent); !errors.As(err, &exists) || exists.ID != id("main/1.3.1") {
			t.Errorf("rename onto an existing stack: %v", err)
		}
		if _, err := r.Rename(id("main/1.2.1"), id("other/1.2.1"), testIdent); err == nil || !strings.Contains(err.Error(), "git gachette stack create other/1.2.1 --from main/1.2.1") {
			t.Errorf("rename into another domain: %v", err)
		}
		if _, err := r.Rename(id("main/1.2.1"), id("main/1.2.1"), testIdent); err == nil {
			t.Error("rename to its own name succeeded")
		}
		var nf *NotFoundError
		if _, err := r.Rename(id("main/nosuch"), id("main/x"), testIdent); !errors.As(err, &nf) {
			t.Errorf("rename of a stack that does not exist: %v", err)
		}
		// published or promoted: refused, with the way forward
		promote(t, r, "staging", id("main/1.2.1"))
		var kept *KeptError
		if _, err := r.Rename(id("main/1.2.1"), id("main/1.2.2"), testIdent); !errors.As(err, &kept) ||
			!strings.Contains(err.Error(), "cannot be renamed: channel main/staging ran it") || !strings.Contains(err.Error(), "git gachette stack create main/1.2.2 --from main/1.2.1") {
			t.Errorf("rename of a promoted stack: %v", err)
		}
		if err := r.refs.Update("push", RefUpdate{Name: id("main/1.3.1").publishedRef(), New: res.Tag}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Rename(id("main/1.3.1"), id("main/1.3.2"), testIdent); !errors.As(err, &kept) || kept.Where == "" {
			t.Errorf("rename of a published stack: %v", err)
		}
		if tagOf(t, r, id("main/1.3.1")).IsZero() || tagOf(t, r, id("main/1.2.1")).IsZero() || !tagOf(t, r, id("main/1.3.2")).IsZero() {
			t.Error("a refused rename changed the tags")
		}
	})
}

// Without a domain branch, a rename writes it, as any change does.
func TestRenameWritesAMissingBranch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
		if err := r.refs.Update("test", RefUpdate{Name: BranchRef("main"), Old: branchOf(t, r, "main")}); err != nil {
			t.Fatal(err)
		}
		res := must[*RenameResult](t)(r.Rename(id("main/1"), id("main/2"), testIdent))
		if b := branchOf(t, r, "main"); b != res.Commit {
			t.Errorf("branch at %s, want %s", b, res.Commit)
		}
	})
}

// A delete or rename that races another one never leaves the domain
// branch on a stack that is gone: the transaction that moves the branch
// verifies the stack it moves to, and one that leaves it verifies it is
// still where it was read; the loser retries. (An outside tester's
// finding: two deletes at once left the branch on a deleted stack.)
func TestDeleteRenameRaceKeepsTheBranch(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first, then func(r *Repo) error
		left        []string // the stacks left
		branch      string   // the stack the branch is at
	}{
		{"delete the branch's stack, racing a delete of the next one",
			func(r *Repo) error { _, err := r.Delete([]StackID{id("main/3.0.0")}); return err },
			func(r *Repo) error { _, err := r.Delete([]StackID{id("main/2.0.0")}); return err },
			[]string{"1.0.0"}, "1.0.0"},
		{"delete the next one, racing a delete of the branch's stack",
			func(r *Repo) error { _, err := r.Delete([]StackID{id("main/2.0.0")}); return err },
			func(r *Repo) error { _, err := r.Delete([]StackID{id("main/3.0.0")}); return err },
			[]string{"1.0.0"}, "1.0.0"},
		{"delete the branch's stack, racing a rename of the next one",
			func(r *Repo) error { _, err := r.Delete([]StackID{id("main/3.0.0")}); return err },
			func(r *Repo) error { _, err := r.Rename(id("main/2.0.0"), id("main/2.0.1"), testIdent); return err },
			[]string{"1.0.0", "2.0.1"}, "2.0.1"},
		{"delete all but one, racing a delete of the last",
			func(r *Repo) error { _, err := r.Delete([]StackID{id("main/2.0.0"), id("main/3.0.0")}); return err },
			func(r *Repo) error { _, err := r.Delete([]StackID{id("main/1.0.0")}); return err },
			nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, r *Repo) {
				for _, s := range []string{"1.0.0", "2.0.0", "3.0.0"} {
					must[*Result](t)(r.Create(id("main/"+s), nil, testIdent))
				}
				inner := r.refs
				var wrapper *sealingRefs
				wrapper = &sealingRefs{RefStore: inner, seal: func() {
					// the other writer lands between this one's read and
					// its transaction
					r.refs = inner
					if err := tc.then(r); err != nil {
						t.Fatalf("the other writer: %v", err)
					}
					r.refs = wrapper
				}}
				r.refs = wrapper
				if err := tc.first(r); err != nil {
					t.Fatalf("the writer that lost the race: %v", err)
				}
				r.refs = inner
				list := must[[]StackInfo](t)(r.List("main", false))
				var names []string
				for _, s := range list {
					names = append(names, s.ID.Name)
				}
				slices.Sort(names)
				if !slices.Equal(names, tc.left) {
					t.Errorf("stacks left %v, want %v", names, tc.left)
				}
				b, err := r.branchAt("main")
				if err != nil {
					t.Fatal(err)
				}
				want := plumbing.ZeroHash
				if tc.branch != "" {
					want = must[*Stack](t)(r.Stack(id("main/" + tc.branch))).Commit
				}
				if b != want {
					t.Errorf("branch at %s, want %s (stack %q)", b, want, tc.branch)
				}
			})
		})
	}
}
