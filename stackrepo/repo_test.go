package stackrepo

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/semverx"
)

var testIdent = Identity{
	Author:    sig("Ann Author", "ann@example.com"),
	Committer: sig("Rel Eng", "releng@example.com"),
}

func sig(name, email string) object.Signature {
	return object.Signature{Name: name, Email: email, When: time.Unix(1700000000, 0).UTC()}
}

// backend is one way to hold a stacks repository; the same conformance
// tests run on each (as git-bug's RepoTest does).
type backend struct {
	name string
	open func(t *testing.T) *Repo
}

var backends = []backend{
	{"memory", func(t *testing.T) *Repo { return newMemory() }},
	{"disk", func(t *testing.T) *Repo {
		r, err := Init(filepath.Join(t.TempDir(), "stacks.git"), "main")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			r.Close()
			gitFsck(t, r.Dir)
		})
		return r
	}},
	// the same repository, its refs read through git: how a ref backend
	// other than files (extensions.refStorage) is served
	{"disk, refs read by git", func(t *testing.T) *Repo {
		r, err := Init(filepath.Join(t.TempDir(), "stacks.git"), "main")
		if err != nil {
			t.Fatal(err)
		}
		r.refs = newGitRefs(r.git)
		t.Cleanup(func() {
			r.Close()
			gitFsck(t, r.Dir)
		})
		return r
	}},
}

func forEachBackend(t *testing.T, fn func(t *testing.T, r *Repo)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

// gitFsck checks a repository with the real git binary.
func gitFsck(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "fsck", "--strict", "--no-dangling", "--no-progress").CombinedOutput()
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		// "notice: HEAD points to an unborn branch" is not a problem.
		if line != "" && !strings.HasPrefix(line, "notice:") {
			problems = append(problems, line)
		}
	}
	if err != nil || len(problems) > 0 {
		t.Errorf("git fsck --strict %s: %v\n%s", dir, err, out)
	}
}

func id(s string) StackID {
	d, n, _ := strings.Cut(s, "/")
	return StackID{Domain: d, Name: n}
}

func pkg(name, version string) Package {
	return Package{Name: name, Version: version, Filename: name + "_" + version + "_all.deb", Architecture: "all"}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func versions(t *testing.T, r *Repo, s StackID) map[string]string {
	t.Helper()
	st := must[*Stack](t)(r.Stack(s))
	pkgs := must[[]Package](t)(r.Packages(st))
	out := map[string]string{}
	for _, p := range pkgs {
		out[p.Name] = p.Version
	}
	return out
}

func TestCreateAddRemove(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		a := id("main/123")
		res := must[*Result](t)(r.Create(a, nil, testIdent))
		if res.Subject != "main/123: create empty" {
			t.Errorf("subject %q", res.Subject)
		}
		must[*Result](t)(r.Add(a, []Package{pkg("dh-app", "2.0.0"), pkg("dh-config", "1.0")}, testIdent))
		res = must[*Result](t)(r.Add(a, []Package{pkg("dh-app", "2.1.0")}, testIdent))
		if res.Subject != "main/123: add dh-app 2.1.0 (was 2.0.0)" {
			t.Errorf("subject %q", res.Subject)
		}
		again := must[*Result](t)(r.Add(a, []Package{pkg("dh-app", "2.1.0")}, testIdent))
		if !again.Unchanged || again.Commit != res.Commit {
			t.Errorf("re-adding the same entry wrote a commit: %+v", again)
		}
		if got := versions(t, r, a); got["dh-app"] != "2.1.0" || got["dh-config"] != "1.0" || len(got) != 2 {
			t.Errorf("versions %v", got)
		}
		res = must[*Result](t)(r.Remove(a, []string{"dh-config"}, testIdent))
		if res.Subject != "main/123: remove dh-config (was 1.0)" {
			t.Errorf("subject %q", res.Subject)
		}
		if _, err := r.Remove(a, []string{"dh-config"}, testIdent); err == nil || !strings.Contains(err.Error(), "has no package dh-config") {
			t.Errorf("removing an absent package: %v", err)
		}
		log := must[[]LogEntry](t)(r.Log(a, -1))
		if len(log) != 4 || log[0].Action != "remove" || log[3].Action != "create" || log[2].Subject != "main/123: add 2 packages" {
			t.Errorf("log %+v", log)
		}
		// the branch followed the newest stack
		b := must[plumbing.Hash](t)(r.refs.Lookup(BranchRef("main")))
		if b != res.Commit {
			t.Errorf("branch at %s, want %s", b, res.Commit)
		}
	})
}

func TestCreateFromAndBump(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		must[*Result](t)(r.Create(id("main/1.9.0"), nil, testIdent))
		must[*Result](t)(r.Add(id("main/1.9.0"), []Package{pkg("dh-app", "1.0")}, testIdent))
		must[*Result](t)(r.Create(id("main/1.10.0"), &StackID{"main", "1.9.0"}, testIdent))
		src := must[*Stack](t)(r.Stack(id("main/1.10.0")))
		c := must[*Stack](t)(r.Stack(id("main/1.9.0")))
		parent := must[[]LogEntry](t)(r.Log(id("main/1.10.0"), 2))[1].Commit
		if parent != c.Commit {
			t.Errorf("parent %s, want the source's commit %s", parent, c.Commit)
		}
		if src.trailers["Gachette-From"] != "main/1.9.0" {
			t.Errorf("trailers %v", src.trailers)
		}
		res := must[*Result](t)(r.CreateBump("main", semverx.Minor, false, testIdent))
		if res.ID.String() != "main/1.11.0" {
			t.Errorf("bump made %s", res.ID)
		}
		if v := versions(t, r, res.ID); v["dh-app"] != "1.0" {
			t.Errorf("bumped stack is not from the highest: %v", v)
		}
		res = must[*Result](t)(r.CreateBump("main", semverx.Major, true, testIdent))
		if res.ID.String() != "main/2.0.0" || len(versions(t, r, res.ID)) != 0 {
			t.Errorf("empty bump made %s", res.ID)
		}
		if _, err := r.CreateBump("other", semverx.Patch, false, testIdent); err == nil {
			t.Error("bump in a domain with no semver stack succeeded")
		}
		var exists *ExistsError
		if _, err := r.Create(id("main/2.0.0"), nil, testIdent); !errors.As(err, &exists) {
			t.Errorf("creating an existing stack: %v", err)
		}
		var nf *NotFoundError
		if _, err := r.Create(id("main/3"), &StackID{"main", "nope"}, testIdent); !errors.As(err, &nf) {
			t.Errorf("--from an unknown stack: %v", err)
		}
		list := must[[]StackInfo](t)(r.List("main", false))
		var names []string
		for _, s := range list {
			names = append(names, s.ID.Name)
		}
		if got := strings.Join(names, " "); got != "2.0.0 1.11.0 1.10.0 1.9.0" {
			t.Errorf("list order %q", got)
		}
	})
}

func TestDiff(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		a, b := id("main/a"), id("main/b")
		must[*Result](t)(r.Create(a, nil, testIdent))
		must[*Result](t)(r.Add(a, []Package{pkg("dh-same", "1"), pkg("dh-gone", "1"), pkg("dh-up", "1.0~rc1"), pkg("dh-down", "1:0.9")}, testIdent))
		must[*Result](t)(r.Create(b, &a, testIdent))
		must[*Result](t)(r.Remove(b, []string{"dh-gone"}, testIdent))
		rebuilt := pkg("dh-same", "1")
		rebuilt.Size = 42
		must[*Result](t)(r.Add(b, []Package{pkg("dh-new", "1"), pkg("dh-up", "1.0"), pkg("dh-down", "2.0"), rebuilt}, testIdent))
		d := must[*Diff](t)(r.Diff(must[*Stack](t)(r.Stack(a)), must[*Stack](t)(r.Stack(b))))
		if len(d.Added) != 1 || d.Added[0].Name != "dh-new" ||
			len(d.Removed) != 1 || d.Removed[0].Name != "dh-gone" ||
			len(d.Upgraded) != 1 || d.Upgraded[0].Name != "dh-up" ||
			len(d.Downgraded) != 1 || d.Downgraded[0].Name != "dh-down" ||
			len(d.Changed) != 1 || d.Changed[0].Name != "dh-same" {
			t.Errorf("diff %+v", d)
		}
		same := must[*Diff](t)(r.Diff(must[*Stack](t)(r.Stack(b)), must[*Stack](t)(r.Stack(b))))
		if !same.Empty() {
			t.Errorf("a stack differs from itself: %+v", same)
		}
		// by name: the same comparison; a stack that is not there is named
		byName := must[*Diff](t)(r.DiffStacks(a, b))
		if len(byName.Added) != 1 || len(byName.Removed) != 1 || len(byName.Upgraded) != 1 || len(byName.Downgraded) != 1 || len(byName.Changed) != 1 {
			t.Errorf("DiffStacks %+v", byName)
		}
		if _, err := r.DiffStacks(a, id("main/nosuch")); err == nil || !strings.Contains(err.Error(), "main/nosuch") {
			t.Errorf("DiffStacks with a missing stack: %v", err)
		}
	})
}

// Show reads every package, sorted, or those named, in the order named;
// a package the stack lacks is a *NoPackageError naming it.
func TestShow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		a := id("main/a")
		must[*Result](t)(r.Create(a, nil, testIdent))
		must[*Result](t)(r.Add(a, []Package{pkg("dh-b", "2"), pkg("dh-a", "1"), pkg("dh-c", "3")}, testIdent))
		names := func(pkgs []Package) (out []string) {
			for _, p := range pkgs {
				out = append(out, p.Name+"="+p.Version)
			}
			return out
		}
		s, all, err := r.Show(a, nil)
		if err != nil || s.ID != a || !slices.Equal(names(all), []string{"dh-a=1", "dh-b=2", "dh-c=3"}) {
			t.Fatalf("Show all = %v, %v", names(all), err)
		}
		_, some, err := r.Show(a, []string{"dh-c", "dh-a"})
		if err != nil || !slices.Equal(names(some), []string{"dh-c=3", "dh-a=1"}) {
			t.Fatalf("Show dh-c dh-a = %v, %v", names(some), err)
		}
		var np *NoPackageError
		if _, _, err := r.Show(a, []string{"dh-a", "dh-x"}); !errors.As(err, &np) || np.Name != "dh-x" || np.Stack != a {
			t.Fatalf("Show of a missing package: %v", err)
		}
		if _, _, err := r.Show(id("main/nosuch"), nil); err == nil || !strings.Contains(err.Error(), "main/nosuch") {
			t.Fatalf("Show of a missing stack: %v", err)
		}
	})
}

func TestPublishedByRemoteTracking(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		s := id("main/1")
		res := must[*Result](t)(r.Create(s, nil, testIdent))
		must[*Result](t)(r.Add(s, []Package{pkg("dh-app", "1")}, testIdent))
		// a remote-tracking branch at the stack's first commit: its later
		// commit is not published, so it may still change...
		if err := r.refs.Update("test", RefUpdate{Name: "refs/remotes/origin/main", New: res.Commit}); err != nil {
			t.Fatal(err)
		}
		cur := must[*Result](t)(r.Add(s, []Package{pkg("dh-app", "2")}, testIdent))
		// ...until the remote has it.
		if err := r.refs.Update("test", RefUpdate{Name: "refs/remotes/origin/main", Old: res.Commit, New: cur.Commit}); err != nil {
			t.Fatal(err)
		}
		var pub *PublishedError
		if _, err := r.Add(s, []Package{pkg("dh-app", "3")}, testIdent); !errors.As(err, &pub) || !strings.Contains(err.Error(), "reachable from origin/main") {
			t.Errorf("adding to a stack reachable from origin/main: %v", err)
		}

		// Whatever the dates say: a remote-tracking branch whose commits,
		// made on top of the stack, carry dates ten days before it (a
		// clock that was wrong), a thousand of them.
		s2 := id("main/2")
		must[*Result](t)(r.Create(s2, nil, testIdent))
		cur2 := must[*Result](t)(r.Add(s2, []Package{pkg("dh-app", "1")}, testIdent))
		c2 := must[*object.Commit](t)(r.readCommit(cur2.Commit))
		early := testIdent.Committer
		early.When = c2.Committer.When.Add(-10 * 24 * time.Hour)
		tip := cur2.Commit
		for i := 0; i < 1000; i++ {
			tip = must[plumbing.Hash](t)(r.writeObject(&object.Commit{TreeHash: c2.TreeHash, Author: early, Committer: early,
				Message: fmt.Sprintf("skewed %d\n", i), ParentHashes: []plumbing.Hash{tip}}))
		}
		if err := r.refs.Update("test", RefUpdate{Name: "refs/remotes/skewed/main", New: tip}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Add(s2, []Package{pkg("dh-app", "2")}, testIdent); !errors.As(err, &pub) || !strings.Contains(err.Error(), "reachable from skewed/main") {
			t.Errorf("adding to a stack reachable from skewed/main through commits dated before it: %v", err)
		}
		// a stack no remote-tracking branch has stays writable
		s3 := id("main/3")
		must[*Result](t)(r.Create(s3, nil, testIdent))
		must[*Result](t)(r.Add(s3, []Package{pkg("dh-app", "1")}, testIdent))
	})
}

func TestFormatAndShapeErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		var nf *NotFoundError
		if _, err := r.Stack(id("main/nope")); !errors.As(err, &nf) {
			t.Errorf("unknown stack: %v", err)
		}
		// a commit in format 2, tagged as a stack
		must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
		s := must[*Stack](t)(r.Stack(id("main/1")))
		commit := must[*object.Commit](t)(r.readCommit(s.Commit))
		future := &object.Commit{Author: commit.Author, Committer: commit.Committer, TreeHash: commit.TreeHash,
			Message: strings.Replace(commit.Message, "Gachette-Format: 1", "Gachette-Format: 2", 1)}
		h := must[plumbing.Hash](t)(r.writeObject(future))
		tag := must[plumbing.Hash](t)(r.writeObject(&object.Tag{Name: "main/future", Tagger: commit.Committer, Message: "m\n", TargetType: plumbing.CommitObject, Target: h}))
		if err := r.refs.Update("test", RefUpdate{Name: "refs/tags/main/future", New: tag}); err != nil {
			t.Fatal(err)
		}
		var fe *FormatError
		if _, err := r.Stack(id("main/future")); !errors.As(err, &fe) || fe.Format != "2" {
			t.Errorf("format 2: %v", err)
		}
		if _, err := r.Add(id("main/future"), []Package{pkg("dh-app", "1")}, testIdent); !errors.As(err, &fe) {
			t.Errorf("adding to a format-2 stack: %v", err)
		}
		blob := must[plumbing.Hash](t)(r.writeBlob([]byte("x\n")))
		if err := r.refs.Update("test", RefUpdate{Name: "refs/tags/main/blob", New: blob}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Stack(id("main/blob")); err == nil || !strings.Contains(err.Error(), "points at a blob") {
			t.Errorf("tag at a blob: %v", err)
		}
		// unknown stacks are skipped by Domains, and shapes that are not ours
		// are skipped by List
		if err := r.refs.Update("test", RefUpdate{Name: "refs/tags/v1.0", New: blob}); err != nil {
			t.Fatal(err)
		}
		doms := must[[]string](t)(r.Domains())
		if strings.Join(doms, ",") != "main" {
			t.Errorf("domains %v", doms)
		}
		// remove the bad refs so that fsck on disk stays about our objects
		for _, n := range []string{"refs/tags/main/future", "refs/tags/main/blob", "refs/tags/v1.0"} {
			cur := must[plumbing.Hash](t)(r.refs.Lookup(n))
			if err := r.refs.Update("test", RefUpdate{Name: n, Old: cur}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestBackendsAgree checks that the same changes give the same objects on
// every backend: the format does not depend on the storage.
func TestBackendsAgree(t *testing.T) {
	var commits []plumbing.Hash
	for _, b := range backends {
		r := b.open(t)
		must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
		res := must[*Result](t)(r.Add(id("main/1"), []Package{pkg("dh-app", "1.0"), pkg("dh-b", "2")}, testIdent))
		commits = append(commits, res.Commit)
	}
	if commits[0] != commits[1] {
		t.Errorf("memory wrote %s, disk wrote %s", commits[0], commits[1])
	}
}
