package changelog

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
)

func TestMain(m *testing.M) {
	cleanup := gittest.MustIsolate()
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
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

// source makes a repository with commits named subjects, and returns it
// and their ids.
func source(t *testing.T, subjects ...string) (string, []string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "src")
	git(t, "/", "init", "-q", dir)
	var ids []string
	for _, s := range subjects {
		git(t, dir, "commit", "-q", "--allow-empty", "-m", s)
		ids = append(ids, git(t, dir, "rev-parse", "HEAD"))
	}
	return dir, ids
}

func change(name, from, to, src, fromCommit, toCommit string) stackrepo.VersionChange {
	return stackrepo.VersionChange{Name: name,
		From: stackrepo.Package{Name: name, Version: from, Source: src, Commit: fromCommit},
		To:   stackrepo.Package{Name: name, Version: to, Source: src, Commit: toCommit}}
}

func subjects(cs []Commit) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Subject)
	}
	return strings.Join(s, ",")
}

func diff(up, down, rebuilt []stackrepo.VersionChange) *stackrepo.Diff {
	return &stackrepo.Diff{A: stackrepo.StackID{Domain: "main", Name: "1"}, B: stackrepo.StackID{Domain: "main", Name: "2"},
		Upgraded: up, Downgraded: down, Changed: rebuilt}
}

func TestOf(t *testing.T) {
	src, ids := source(t, "one", "two", "three", "four")
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "sources")}
	d := diff(
		[]stackrepo.VersionChange{
			change("app", "1", "2", src, ids[0], ids[3]),
			change("plain", "1", "2", "", "", ""),
			change("same", "1", "2", src, ids[1], ids[1]),
			change("bad", "1", "2", "ext::sh -c touch% /tmp/x", ids[0], ids[1]),
			change("gone", "1", "2", filepath.Join(t.TempDir(), "nowhere"), ids[0], ids[1]),
			change("ghost", "1", "2", "file://"+src, ids[0], strings.Repeat("ab", 20)),
		},
		[]stackrepo.VersionChange{change("lib", "3", "2", "file://"+src, ids[2], ids[0])},
		nil)
	res, err := Of(context.Background(), d, cache)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Entry{}
	var names []string
	for _, e := range res.Entries {
		got[e.Name] = e
		names = append(names, e.Name)
	}
	if strings.Join(names, " ") != "app bad ghost gone lib plain" {
		t.Fatalf("entries %v; want app bad ghost gone lib plain (same has no change)", names)
	}
	for _, c := range []struct{ name, status, added, removed, reason string }{
		{"app", StatusOK, "two,three,four", "", ""},
		{"lib", StatusOK, "", "two,three", ""},
		{"plain", StatusNotRecorded, "", "", "no Source, no Commit in main/1, no Commit in main/2 recorded"},
		{"bad", StatusBadRecord, "", "", "ext::"},
		{"gone", StatusUnreachable, "", "", "cannot be fetched"},
		{"ghost", StatusMissingCommits, "", "", "has no commit " + strings.Repeat("ab", 20)},
	} {
		e := got[c.name]
		if e.Status != c.status || subjects(e.Added) != c.added || subjects(e.Removed) != c.removed || !strings.Contains(e.Reason, c.reason) {
			t.Errorf("%s: %s %q added %q removed %q; want %s %q added %q removed %q", c.name, e.Status, e.Reason, subjects(e.Added), subjects(e.Removed), c.status, c.reason, c.added, c.removed)
		}
	}
	if inc := strings.Join(res.Incomplete(), " "); inc != "bad ghost gone" {
		t.Errorf("incomplete %q; want bad ghost gone", inc)
	}
	if c := got["app"].Added[0]; c.ID != ids[1] || c.Author != "T" || c.Email != "t@example.com" || c.Date.IsZero() {
		t.Errorf("first commit %+v", c)
	}
	// the path and the file:// URL are two cache entries; nothing else is
	entries, _ := filepath.Glob(filepath.Join(cache.Dir, "*.git"))
	if len(entries) != 2 {
		t.Errorf("cache entries %v; want 2", entries)
	}
}

// A cache entry is reused: once it has the commits, a source that has
// gone away still gives the changelog.
func TestCacheReused(t *testing.T) {
	src, ids := source(t, "one", "two")
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "sources")}
	d := diff([]stackrepo.VersionChange{change("app", "1", "2", src, ids[0], ids[1])}, nil, nil)
	if res, err := Of(context.Background(), d, cache); err != nil || res.Entries[0].Status != StatusOK {
		t.Fatalf("%+v %v", res, err)
	}
	if err := os.RemoveAll(src); err != nil {
		t.Fatal(err)
	}
	res, err := Of(context.Background(), d, cache)
	if err != nil || res.Entries[0].Status != StatusOK || subjects(res.Entries[0].Added) != "two" {
		t.Fatalf("second run, source gone: %+v %v", res.Entries, err)
	}
}

// A server that gives no commit by id (protocol v0 without
// uploadpack.allowAnySHA1InWant) is fetched by its branches.
func TestFetchBranchesWhenRefused(t *testing.T) {
	src, ids := source(t, "one", "two", "three")
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "sources"), Env: append(os.Environ(), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=protocol.version", "GIT_CONFIG_VALUE_0=0")}
	d := diff([]stackrepo.VersionChange{change("app", "1", "2", "file://"+src, ids[0], ids[1])}, nil, nil)
	res, err := Of(context.Background(), d, cache)
	if err != nil || res.Entries[0].Status != StatusOK || subjects(res.Entries[0].Added) != "two" {
		t.Fatalf("%+v %v", res.Entries, err)
	}
	if refs := git(t, filepath.Join(cache.Dir, mustKey(t, "file://"+src)+".git"), "for-each-ref", "--format=%(refname)"); !strings.Contains(refs, "refs/heads/") {
		t.Errorf("the cache has %q: not the source's branches", refs)
	}
}

// Concurrent runs on one cache entry take turns: each gets the changelog.
func TestConcurrent(t *testing.T) {
	src, ids := source(t, "one", "two", "three")
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "sources")}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := diff([]stackrepo.VersionChange{change("app", "1", "2", src, ids[i%2], ids[2])}, nil, nil)
			res, err := Of(context.Background(), d, cache)
			if err == nil && res.Entries[0].Status != StatusOK {
				err = errors.New(res.Entries[0].Reason)
			}
			errs[i] = err
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	git(t, filepath.Join(cache.Dir, mustKey(t, src)+".git"), "fsck", "--no-progress")
}

func mustKey(t *testing.T, s string) string {
	src, err := ParseSource(s)
	if err != nil {
		t.Fatal(err)
	}
	return src.key
}

func TestParseSource(t *testing.T) {
	for _, c := range []struct {
		in, err string
	}{
		{"-uhelp", "not a repository URL"},
		{"--upload-pack=touch /tmp/x", "not a repository URL"},
		{"ext::sh -c id", "ext::"},
		{"fd::3", "fd::"},
		{"", "not a repository URL"},
		{"https://x/a\nb", "not a repository URL"},
		{"https://example.com/app.git", ""},
		{"git@example.com:app.git", ""},
		{"/srv/git/app.git", ""},
	} {
		_, err := ParseSource(c.in)
		if (err == nil) != (c.err == "") || err != nil && !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParseSource(%q) = %v; want %q", c.in, err, c.err)
		}
	}
	// No password in the cache's path, the same entry whoever logs in.
	a, _ := ParseSource("https://alice:s3cret@example.com/app.git")
	b, _ := ParseSource("https://example.com/app.git")
	if a.key != b.key || strings.Contains(a.String(), "s3cret") {
		t.Errorf("keys %s %s, shown as %s", a.key, b.key, a)
	}
	// a relative path is the directory it names from here
	rel, _ := ParseSource("src/app")
	abs, _ := ParseSource(filepath.Join(must(os.Getwd()), "src/app"))
	if rel.key != abs.key {
		t.Errorf("relative path: key %s, absolute %s", rel.key, abs.key)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// A password in a Source never reaches a message.
func TestUnreachableRedacted(t *testing.T) {
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "sources")}
	d := diff([]stackrepo.VersionChange{change("app", "1", "2", "http://alice:s3cret@127.0.0.1:1/app.git", strings.Repeat("a", 40), strings.Repeat("b", 40))}, nil, nil)
	res, err := Of(context.Background(), d, cache)
	if err != nil {
		t.Fatal(err)
	}
	e := res.Entries[0]
	if e.Status != StatusUnreachable || strings.Contains(e.Reason, "s3cret") || strings.Contains(e.Source, "s3cret") {
		t.Errorf("%s %q source %q", e.Status, e.Reason, e.Source)
	}
	entries, _ := os.ReadDir(cache.Dir)
	for _, de := range entries {
		if strings.Contains(de.Name(), "s3cret") {
			t.Errorf("cache entry %s", de.Name())
		}
	}
}

// A cache entry git cannot read (garbage in its HEAD) is named as the
// cache's, with the rm -rf that makes it anew; once removed, the next run
// fetches it again. (An outside tester's finding: it was "unreachable"
// for ever, with git's raw message.)
func TestDamagedCacheNamed(t *testing.T) {
	src, ids := source(t, "one", "two")
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "sources")}
	d := diff([]stackrepo.VersionChange{change("app", "1", "2", src, ids[0], ids[1])}, nil, nil)
	if res, err := Of(context.Background(), d, cache); err != nil || res.Entries[0].Status != StatusOK {
		t.Fatalf("%+v %v", res, err)
	}
	entries, _ := filepath.Glob(filepath.Join(cache.Dir, "*.git"))
	if len(entries) != 1 {
		t.Fatalf("cache entries %v", entries)
	}
	os.WriteFile(filepath.Join(entries[0], "HEAD"), []byte("garbage\n"), 0o644)
	res, err := Of(context.Background(), d, cache)
	if err != nil || !strings.Contains(res.Entries[0].Reason, "cannot be read by git") || !strings.Contains(res.Entries[0].Reason, "rm -rf "+entries[0]) {
		t.Fatalf("a damaged cache entry: %+v %v", res.Entries, err)
	}
	os.RemoveAll(entries[0])
	if res, err := Of(context.Background(), d, cache); err != nil || res.Entries[0].Status != StatusOK {
		t.Fatalf("after removing it: %+v %v", res.Entries, err)
	}
}
