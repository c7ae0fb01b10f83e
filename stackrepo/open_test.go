package stackrepo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

func localConfig(kv ...string) *gitexec.Config {
	c := &gitexec.Config{}
	for i := 0; i+1 < len(kv); i += 2 {
		c.Entries = append(c.Entries, gitexec.ConfigEntry{Key: kv[i], Value: kv[i+1], Scope: "local", Origin: "file:/r/config"})
	}
	return c
}

func TestOpenFoundRefusesWhatItCannotRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r, err := Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	loc := &gitexec.Repository{GitDir: dir, CommonDir: dir, Bare: true, ObjectFormat: "sha1"}

	sha256 := *loc
	sha256.ObjectFormat = "sha256"
	if _, err := OpenFound(&sha256, localConfig()); err == nil || !strings.Contains(err.Error(), "sha256 object format, which git-gachette cannot read") {
		t.Errorf("sha256: %v", err)
	}
	if _, err := OpenFound(loc, localConfig("extensions.somethingnew", "x")); err == nil ||
		!strings.Contains(err.Error(), "extensions.somethingnew = x (local: /r/config), which git-gachette does not know how to work with") {
		t.Errorf("unknown extension: %v", err)
	}
	// what it knows: served
	for _, ext := range []string{"worktreeconfig", "preciousobjects", "partialclone", "objectformat", "noop"} {
		r, err := OpenFound(loc, localConfig("extensions."+ext, "x"))
		if err != nil {
			t.Errorf("extensions.%s: %v", ext, err)
			continue
		}
		r.Close()
	}
	// a ref backend other than files: refs are read through git
	r, err = OpenFound(loc, localConfig("extensions.refstorage", "reftable"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.refs.(*gitRefs); !ok {
		t.Errorf("refStorage = reftable read by %T", r.refs)
	}
	r.Close()
	r, err = OpenFound(loc, localConfig("extensions.refstorage", "files"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.refs.(*fileRefs); !ok {
		t.Errorf("refStorage = files read by %T", r.refs)
	}
	r.Close()
}

func TestPromisorRemotes(t *testing.T) {
	c := localConfig("remote.a.promisor", "false", "remote.b.promisor", "true", "extensions.partialclone", "c",
		"remote.d.promisor", "true", "remote.a.promisor", "yes", "remote.b.promisor", "true")
	if got := strings.Join(promisorRemotes(c), " "); got != "b d a c" {
		t.Errorf("promisor remotes %q, want git's order b d a c", got)
	}
	if got := promisorRemotes(localConfig("extensions.partialclone", "origin", "remote.origin.promisor", "true")); len(got) != 1 {
		t.Errorf("one remote named twice: %q", got)
	}
}

// sealingRefs is a RefStore that publishes a stack just before the first
// transaction it is given, as a concurrent push would.
type sealingRefs struct {
	RefStore
	seal func()
}

func (s *sealingRefs) Update(msg string, updates ...RefUpdate) error {
	if s.seal != nil {
		seal := s.seal
		s.seal = nil
		seal()
	}
	return s.RefStore.Update(msg, updates...)
}

// UpdateChecked is how a stack write commits (with its check for push
// marks): the seal comes first there too.
func (s *sealingRefs) UpdateChecked(msg string, check func() error, updates ...RefUpdate) error {
	if s.seal != nil {
		seal := s.seal
		s.seal = nil
		seal()
	}
	return s.RefStore.UpdateChecked(msg, check, updates...)
}

// TestWriteLosesToPublish: a stack published between a change's read and
// its ref transaction is not changed: the transaction verifies the stack
// is unpublished, and the retry refuses.
func TestWriteLosesToPublish(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		res, err := r.Create(id("main/1"), nil, testIdent)
		if err != nil {
			t.Fatal(err)
		}
		inner := r.refs
		r.refs = &sealingRefs{RefStore: inner, seal: func() {
			if err := inner.Update("push", RefUpdate{Name: id("main/1").publishedRef(), New: res.Commit}); err != nil {
				t.Fatal(err)
			}
		}}
		_, err = r.Add(id("main/1"), []Package{pkg("dh-app", "1")}, testIdent)
		var pub *PublishedError
		if !errors.As(err, &pub) {
			t.Fatalf("add racing a publish: %v", err)
		}
		if tag, _ := inner.Lookup(id("main/1").TagRef()); tag != res.Tag {
			t.Errorf("the published stack moved to %s", tag)
		}
	})
}

// TestAlternates: objects borrowed from another repository
// (objects/info/alternates, as git clone --shared makes) are read.
func TestAlternates(t *testing.T) {
	dir := t.TempDir()
	src, err := Init(filepath.Join(dir, "src.git"), "main")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Create(id("main/1"), nil, testIdent); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Add(id("main/1"), []Package{pkg("dh-app", "1")}, testIdent); err != nil {
		t.Fatal(err)
	}
	src.Close()
	runGit(t, dir, "", "-C", filepath.Join(dir, "src.git"), "gc", "-q")
	runGit(t, dir, "", "clone", "-q", "--bare", "--shared", filepath.Join(dir, "src.git"), filepath.Join(dir, "shared.git"))
	if entries, _ := os.ReadDir(filepath.Join(dir, "shared.git", "objects", "pack")); len(entries) > 0 {
		t.Fatalf("the shared clone has packs of its own: %v", entries)
	}
	r, err := Open(filepath.Join(dir, "shared.git"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Stack(id("main/1"))
	if err != nil {
		t.Fatal(err)
	}
	if pkgs, err := r.Packages(s); err != nil || len(pkgs) != 1 || pkgs[0].Name != "dh-app" {
		t.Errorf("packages %v, %v", pkgs, err)
	}
}

func TestOpenNamesWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "nothing")); err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("missing: %v", err)
	}
	var nr *NotRepositoryError
	if _, err := Open(dir); !errors.As(err, &nr) || nr.Inside != "" {
		t.Errorf("plain directory: %v", err)
	}
	r, err := Init(filepath.Join(dir, "s.git"), "main")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := Open(filepath.Join(dir, "s.git", "refs")); !errors.As(err, &nr) || !strings.HasSuffix(nr.Inside, "s.git") {
		t.Errorf("inside a repository: %v", err)
	}
	if _, err := Init(filepath.Join(dir, "s.git"), "main"); err == nil || !strings.Contains(err.Error(), "already a git repository") {
		t.Errorf("init over a repository: %v", err)
	}
}
