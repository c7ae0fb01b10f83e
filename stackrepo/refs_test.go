package stackrepo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// runGit runs the real git binary in dir and returns its trimmed stdout.
func runGit(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, ee.Stderr)
		}
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// bareRepo makes a bare repository with git and two commits in it.
func bareRepo(t *testing.T) (dir string, c1, c2 plumbing.Hash) {
	dir = filepath.Join(t.TempDir(), "r.git")
	runGit(t, ".", "", "init", "-q", "--bare", dir)
	tree := runGit(t, dir, "", "mktree")
	c1 = plumbing.NewHash(runGit(t, dir, "", "commit-tree", "-m", "one", tree))
	c2 = plumbing.NewHash(runGit(t, dir, "", "commit-tree", "-m", "two", "-p", c1.String(), tree))
	return dir, c1, c2
}

// refStores are the RefStores over a repository on disk: in-process reads
// (the files backend), and reads through git (any other backend).
var refStores = []struct {
	name string
	open func(dir string) RefStore
}{
	{"files", func(dir string) RefStore { return newFileRefs(dir, &gitexec.Git{GitDir: dir}) }},
	{"git", func(dir string) RefStore { return newGitRefs(&gitexec.Git{GitDir: dir}) }},
}

func forEachRefStore(t *testing.T, fn func(t *testing.T, open func(dir string) RefStore)) {
	for _, rs := range refStores {
		t.Run(rs.name, func(t *testing.T) { fn(t, rs.open) })
	}
}

func TestRefsCompareAndSwap(t *testing.T) {
	forEachRefStore(t, testCompareAndSwap)
}

func testCompareAndSwap(t *testing.T, open func(string) RefStore) {
	dir, c1, c2 := bareRepo(t)
	f := open(dir)
	name := "refs/heads/x"
	if err := f.Update("test", RefUpdate{Name: name, New: c1}); err != nil {
		t.Fatal(err)
	}
	var changed *RefChangedError
	if err := f.Update("test", RefUpdate{Name: name, New: c2}); !errors.As(err, &changed) {
		t.Fatalf("creating an existing ref: %v", err)
	}
	if err := f.Update("test", RefUpdate{Name: name, Old: c2, New: c1}); !errors.As(err, &changed) || changed.Got != c1 {
		t.Fatalf("swap with a wrong old value: %v", err)
	}
	if err := f.Update("test", RefUpdate{Name: name, Old: c1, New: c2}); err != nil {
		t.Fatal(err)
	}
	if got := runGit(t, dir, "", "rev-parse", name); got != c2.String() {
		t.Errorf("git reads %s, want %s", got, c2)
	}
	// all or nothing: one bad expectation stops every update
	if err := f.Update("test", RefUpdate{Name: "refs/heads/y", New: c1}, RefUpdate{Name: name, Old: c1, New: c1}); !errors.As(err, &changed) {
		t.Fatalf("transaction with one bad expectation: %v", err)
	}
	if _, err := f.Lookup("refs/heads/y"); !errors.Is(err, ErrRefNotFound) {
		t.Errorf("half of a failed transaction landed: %v", err)
	}
	if err := f.Update("test", RefUpdate{Name: name, Old: c2}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Lookup(name); !errors.Is(err, ErrRefNotFound) {
		t.Errorf("deleted ref still reads: %v", err)
	}
	assertNoLocks(t, dir)
}

func TestRefsPacked(t *testing.T) {
	forEachRefStore(t, testPacked)
}

func testPacked(t *testing.T, open func(string) RefStore) {
	dir, c1, c2 := bareRepo(t)
	runGit(t, dir, "", "tag", "-a", "-m", "m", "main/1", c1.String())
	runGit(t, dir, "", "tag", "-a", "-m", "m", "main/2", c2.String())
	runGit(t, dir, "", "update-ref", "refs/heads/main", c2.String())
	runGit(t, dir, "", "pack-refs", "--all")
	if _, err := os.Stat(filepath.Join(dir, "refs/tags/main/1")); err == nil {
		t.Fatal("pack-refs left a loose ref")
	}
	f := open(dir)
	tag1 := runGit(t, dir, "", "rev-parse", "refs/tags/main/1")
	if h, err := f.Lookup("refs/tags/main/1"); err != nil || h.String() != tag1 {
		t.Fatalf("packed lookup: %s, %v", h, err)
	}
	refs, err := f.List("refs/tags/main/")
	if err != nil || len(refs) != 2 || refs[0].Name != "refs/tags/main/1" {
		t.Fatalf("list: %v, %v", refs, err)
	}
	// a prefix must not match longer names
	if _, err := f.Lookup("refs/tags/main/"); !errors.Is(err, ErrRefNotFound) {
		t.Errorf("lookup of a prefix: %v", err)
	}
	// update a packed ref: the loose one wins; git agrees
	if err := f.Update("test", RefUpdate{Name: "refs/heads/main", Old: c2, New: c1}); err != nil {
		t.Fatal(err)
	}
	if got := runGit(t, dir, "", "rev-parse", "refs/heads/main"); got != c1.String() {
		t.Errorf("git reads %s", got)
	}
	// delete a packed annotated tag: its peeled line goes too (go-git #386)
	if err := f.Update("test", RefUpdate{Name: "refs/tags/main/1", Old: plumbing.NewHash(tag1)}); err != nil {
		t.Fatal(err)
	}
	packed, _ := os.ReadFile(filepath.Join(dir, "packed-refs"))
	if strings.Contains(string(packed), "main/1") || strings.Count(string(packed), "^") != 1 {
		t.Errorf("packed-refs after delete:\n%s", packed)
	}
	if out := runGit(t, dir, "", "for-each-ref", "--format=%(refname)"); out != "refs/heads/main\nrefs/tags/main/2" {
		t.Errorf("git sees refs:\n%s", out)
	}
	gitFsck(t, dir)
	assertNoLocks(t, dir)
}

func TestRefsNameConflicts(t *testing.T) {
	forEachRefStore(t, testNameConflicts)
}

func testNameConflicts(t *testing.T, open func(string) RefStore) {
	dir, c1, _ := bareRepo(t)
	f := open(dir)
	runGit(t, dir, "", "update-ref", "refs/tags/main", c1.String())
	if err := f.Update("test", RefUpdate{Name: "refs/tags/main/1", New: c1}); err == nil || !strings.Contains(err.Error(), "refs/tags/main") {
		t.Errorf("creating below an existing ref: %v", err)
	}
	runGit(t, dir, "", "pack-refs", "--all")
	if err := f.Update("test", RefUpdate{Name: "refs/tags/main/1", New: c1}); err == nil || !strings.Contains(err.Error(), "'refs/tags/main' exists") {
		t.Errorf("creating below a packed ref: %v", err)
	}
	runGit(t, dir, "", "update-ref", "refs/tags/x/y", c1.String())
	if err := f.Update("test", RefUpdate{Name: "refs/tags/x", New: c1}); err == nil || !strings.Contains(err.Error(), "'refs/tags/x/y' exists") {
		t.Errorf("creating above an existing ref: %v", err)
	}
	assertNoLocks(t, dir)
}

// TestLockInteropGitBlocksOurs: while C git holds the lock (a prepared
// update-ref --stdin transaction), our update fails naming the lock file;
// once git commits, our "must not exist" expectation sees its value.
func TestLockInteropGitBlocksOurs(t *testing.T) {
	dir, c1, c2 := bareRepo(t)
	cmd := exec.Command("git", "-C", dir, "update-ref", "--stdin")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	io.WriteString(stdin, "start\nupdate refs/heads/x "+c1.String()+" "+plumbing.ZeroHash.String()+"\nprepare\n")
	rd := bufio.NewReader(stdout)
	for _, want := range []string{"start: ok", "prepare: ok"} {
		line, err := rd.ReadString('\n')
		if err != nil || strings.TrimSpace(line) != want {
			t.Fatalf("git update-ref --stdin said %q, %v", line, err)
		}
	}
	f := newFileRefs(dir, &gitexec.Git{GitDir: dir})
	start := time.Now()
	err = f.Update("test", RefUpdate{Name: "refs/heads/x", New: c2})
	var locked *RefLockedError
	if !errors.As(err, &locked) || !strings.HasSuffix(locked.LockFile, "refs/heads/x.lock") || !strings.Contains(err.Error(), "rm ") {
		t.Fatalf("our update under git's lock: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("waited %s for a held lock", d)
	}
	io.WriteString(stdin, "commit\n")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	var changed *RefChangedError
	if err := f.Update("test", RefUpdate{Name: "refs/heads/x", New: c2}); !errors.As(err, &changed) || changed.Got != c1 {
		t.Fatalf("after git's commit: %v", err)
	}
	assertNoLocks(t, dir)
}

// TestStaleLockDoesNotHang: a lock left by a killed process makes a stack
// write fail within seconds, naming the lock file.
func TestStaleLockDoesNotHang(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r, err := Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Create(id("main/1"), nil, testIdent); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, "refs/tags/main/1.lock")
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = r.Add(id("main/1"), []Package{pkg("dh-app", "1")}, testIdent)
	if err == nil || !strings.Contains(err.Error(), lock) || !strings.Contains(err.Error(), "has not changed for") {
		t.Fatalf("add under a stale lock: %v", err)
	}
	if d := time.Since(start); d > staleAfter+2*time.Second {
		t.Errorf("took %s", d)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Errorf("someone else's lock file was removed: %v", err)
	}
}

func assertNoLocks(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".lock") {
			t.Errorf("lock file left behind: %s", p)
		}
		return nil
	})
}

func TestPackedRefsEach(t *testing.T) {
	h := strings.Repeat("a", 40)
	for _, header := range []string{"# pack-refs with: peeled fully-peeled sorted \n", "# pack-refs with: peeled \n", ""} {
		p := packedRefs{data: []byte(header +
			h + " refs/heads/main\n" +
			h + " refs/remotes/origin/main\n^" + h + "\n" +
			h + " refs/remotes/origin/x\n" +
			h + " refs/tags/main/1\n" +
			h + " refs/tags/main/10\n" +
			h + " refs/tags/mainx/1\n")}
		var got []string
		p.each("refs/tags/main/", func(n string, _ plumbing.Hash) { got = append(got, n) })
		p.each("refs/remotes/", func(n string, _ plumbing.Hash) { got = append(got, n) })
		p.each("refs/nothing/", func(n string, _ plumbing.Hash) { got = append(got, n) })
		if strings.Join(got, " ") != "refs/tags/main/1 refs/tags/main/10 refs/remotes/origin/main refs/remotes/origin/x" {
			t.Errorf("header %q: %v", header, got)
		}
	}
}

// TestPackedRefsBisection: in a sorted packed-refs file every ref is found
// by bisection (peeled lines skipped), and names between, before and after
// the refs are not.
func TestPackedRefsBisection(t *testing.T) {
	var names []string
	for i := 0; i < 300; i++ {
		names = append(names, fmt.Sprintf("refs/tags/main/%03d", i))
	}
	names = append(names, "refs/heads/main", "refs/remotes/origin/main")
	sort.Strings(names)
	hashOf := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	for _, peeled := range []bool{false, true} {
		var b strings.Builder
		b.WriteString("# pack-refs with: peeled fully-peeled sorted \n")
		for i, n := range names {
			b.WriteString(hashOf(i) + " " + n + "\n")
			if peeled && i%3 == 0 {
				b.WriteString("^" + strings.Repeat("f", 40) + "\n")
			}
		}
		p := packedRefs{data: []byte(b.String())}
		for i, n := range names {
			if h, ok := p.lookup(n); !ok || h.String() != hashOf(i) {
				t.Errorf("peeled %v: %s: %s %v", peeled, n, h, ok)
			}
			for _, miss := range []string{n + "0", n[:len(n)-1], n + "/x"} {
				if _, ok := p.lookup(miss); ok && !contains(names, miss) {
					t.Errorf("peeled %v: %s found", peeled, miss)
				}
			}
		}
		for _, miss := range []string{"", "a", "refs/", "refs/zzz", "zzz"} {
			if _, ok := p.lookup(miss); ok {
				t.Errorf("peeled %v: %q found", peeled, miss)
			}
		}
		var got []string
		p.each("refs/tags/main/1", func(n string, _ plumbing.Hash) { got = append(got, n) })
		if len(got) != 100 || got[0] != "refs/tags/main/100" || got[99] != "refs/tags/main/199" {
			t.Errorf("peeled %v: each: %d refs %v", peeled, len(got), got)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestWritesAreGitTransactions: a stack write is one git ref transaction,
// so git's reference-transaction hook sees it and its reflogs record it.
func TestWritesAreGitTransactions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r, err := Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	runGit(t, dir, "", "config", "core.logAllRefUpdates", "always")
	// the repository's own hooks, whatever the user's core.hooksPath
	runGit(t, dir, "", "config", "core.hooksPath", filepath.Join(dir, "hooks"))
	seen := filepath.Join(t.TempDir(), "seen")
	hook := "#!/bin/sh\necho \"$1\" >>" + seen + "\ncat >>" + seen + "\n"
	if err := os.MkdirAll(filepath.Join(dir, "hooks"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hooks", "reference-transaction"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := r.Create(id("main/1"), nil, testIdent)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(seen)
	if err != nil {
		t.Fatalf("the reference-transaction hook did not run: %v", err)
	}
	for _, want := range []string{"prepared", "committed", res.Tag.String() + " refs/tags/main/1", res.Commit.String() + " refs/heads/main"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the hook saw\n%s\nwithout %q", b, want)
		}
	}
	if got := runGit(t, dir, "", "reflog", "show", "--format=%gs", "refs/heads/main"); !strings.Contains(got, "gachette: main/1: create") {
		t.Errorf("reflog of the domain branch: %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "logs", "refs", "tags", "main", "1")); err != nil || !strings.Contains(string(b), "gachette: main/1: create") {
		t.Errorf("reflog of the tag: %q, %v", b, err)
	}
	assertNoLocks(t, dir)
}

// holdRefLock makes C git lock name in a prepared update-ref --stdin
// transaction that changes nothing (a verify of its current value), and
// returns the function that releases it (abort).
func holdRefLock(t *testing.T, dir, name string) (release func()) {
	t.Helper()
	cur := runGit(t, dir, "", "rev-parse", name)
	cmd := exec.Command("git", "-C", dir, "update-ref", "--stdin")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, "start\nverify "+name+" "+cur+"\nprepare\n")
	rd := bufio.NewReader(stdout)
	for _, want := range []string{"start: ok", "prepare: ok"} {
		if line, err := rd.ReadString('\n'); err != nil || strings.TrimSpace(line) != want {
			cmd.Process.Kill()
			t.Fatalf("git update-ref --stdin said %q, %v", line, err)
		}
	}
	return func() {
		io.WriteString(stdin, "abort\n")
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("git update-ref --stdin: %v", err)
		}
	}
}

// TestWriteWaitsForGitsLock: while C git holds the lock of a stack's tag,
// a stack write waits, then goes through once git lets go.
func TestWriteWaitsForGitsLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r, err := Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Create(id("main/1"), nil, testIdent); err != nil {
		t.Fatal(err)
	}
	release := holdRefLock(t, dir, "refs/tags/main/1")
	const hold = 700 * time.Millisecond
	time.AfterFunc(hold, release)
	start := time.Now()
	res, err := r.Add(id("main/1"), []Package{pkg("dh-app", "1")}, testIdent)
	if err != nil {
		t.Fatalf("add while git held the lock for %s: %v", hold, err)
	}
	if d := time.Since(start); d < hold || res.Attempts < 2 {
		t.Errorf("went through in %s after %d attempts: it did not wait for git's lock", d, res.Attempts)
	}
	assertNoLocks(t, dir)
}

// TestGitWaitsForOurs: while our transaction holds its locks (here, while
// the reference-transaction hook runs in the prepared state), C git
// cannot update those refs, and says which lock is in its way.
func TestGitWaitsForOurs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r, err := Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	res, err := r.Create(id("main/1"), nil, testIdent)
	if err != nil {
		t.Fatal(err)
	}
	// the repository's own hooks, whatever the user's core.hooksPath
	runGit(t, dir, "", "config", "core.hooksPath", filepath.Join(dir, "hooks"))
	sync := t.TempDir()
	hook := "#!/bin/sh\n[ \"$1\" = prepared ] || exit 0\ntouch " + sync + "/held\nwhile [ ! -e " + sync + "/go ]; do sleep 0.05; done\n"
	if err := os.WriteFile(filepath.Join(dir, "hooks", "reference-transaction"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Add(id("main/1"), []Package{pkg("dh-app", "1")}, testIdent)
		done <- err
	}()
	for i := 0; ; i++ {
		if _, err := os.Stat(filepath.Join(sync, "held")); err == nil {
			break
		}
		if i > 200 {
			t.Fatal("our transaction never reached prepared")
		}
		time.Sleep(25 * time.Millisecond)
	}
	cmd := exec.Command("git", "-C", dir, "update-ref", "refs/heads/main", res.Commit.String())
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refs/heads/main.lock") {
		t.Errorf("git update-ref while we held the lock: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(sync, "go"), nil, 0o644)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	assertNoLocks(t, dir)
}

// TestListLooseRefVanishes: a loose ref the directory listing names but
// that is gone when read (git pack-refs moved it to packed-refs in
// between; a dangling symlink stands in for it here) is taken from
// packed-refs, as git does, instead of failing the listing.
func TestListLooseRefVanishes(t *testing.T) {
	dir := t.TempDir()
	a, b := strings.Repeat("a", 40), strings.Repeat("b", 40)
	if err := os.WriteFile(filepath.Join(dir, "packed-refs"), []byte("# pack-refs with: peeled fully-peeled sorted \n"+
		a+" refs/tags/main/1\n"+b+" refs/tags/main/2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "refs", "tags", "main"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "refs", "tags", "main", "2")); err != nil {
		t.Fatal(err)
	}
	refs, err := newFileRefs(dir, nil).List("refs/tags/main/")
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].Hash.String() != a || refs[1].Name != "refs/tags/main/2" || refs[1].Hash.String() != b {
		t.Fatalf("%+v", refs)
	}
}

// A loose ref that git pack-refs moves into packed-refs while List reads
// it (gone from its directory, not yet in the packed-refs List read) is
// read again, as git does: List never fails on it nor misses it.
func TestListDuringPackRefs(t *testing.T) {
	dir := t.TempDir()
	r := must[*Repo](t)(Init(filepath.Join(dir, "s.git"), "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/0"), nil, testIdent))
	tag := must[*Stack](t)(r.Stack(id("main/0"))).Tag
	const n = 300
	for round := 0; round < 15; round++ {
		var in strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&in, "update refs/tags/x/%d %s\n", i, tag)
		}
		cmd := exec.Command("git", "-C", r.Dir, "update-ref", "--stdin")
		cmd.Stdin = strings.NewReader(in.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("update-ref: %v\n%s", err, out)
		}
		pack := exec.Command("git", "-C", r.Dir, "pack-refs", "--all", "--prune")
		if err := pack.Start(); err != nil {
			t.Fatal(err)
		}
		for {
			refs, err := r.refs.List("refs/tags/x/")
			if err != nil {
				pack.Wait()
				t.Fatalf("round %d: List during pack-refs: %v", round, err)
			}
			if len(refs) != n {
				pack.Wait()
				t.Fatalf("round %d: List during pack-refs: %d refs, want %d", round, len(refs), n)
			}
			if done, _ := processDone(pack); done {
				break
			}
		}
		cmd = exec.Command("git", "-C", r.Dir, "update-ref", "--stdin")
		in.Reset()
		for i := 0; i < n; i++ {
			fmt.Fprintf(&in, "delete refs/tags/x/%d\n", i)
		}
		cmd.Stdin = strings.NewReader(in.String())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("update-ref: %v\n%s", err, out)
		}
	}
}

// processDone waits for cmd if it has exited, without blocking otherwise.
func processDone(cmd *exec.Cmd) (bool, error) {
	var ws syscall.WaitStatus
	pid, err := syscall.Wait4(cmd.Process.Pid, &ws, syscall.WNOHANG, nil)
	if err != nil || pid == 0 {
		return false, err
	}
	return true, nil
}
