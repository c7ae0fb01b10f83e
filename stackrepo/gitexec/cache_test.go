package gitexec

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// countingGit puts a git on PATH that logs each run, and returns how many
// runs there were so far.
func countingGit(t *testing.T, env []string) ([]string, func() int) {
	t.Helper()
	real, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	log := filepath.Join(bin, "log")
	script := "#!/bin/sh\necho run >>" + log + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PATH=") {
			out = append(out, kv)
		}
	}
	out = append(out, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return out, func() int {
		b, _ := os.ReadFile(log)
		return strings.Count(string(b), "run")
	}
}

func TestProbeCache(t *testing.T) {
	home, env := isolated(t)
	dir := t.TempDir()
	gitIn(t, env, dir, "init", "-q", "r")
	r := filepath.Join(dir, "r")
	gitIn(t, env, r, "commit", "-q", "--allow-empty", "-m", "x")
	sub := filepath.Join(r, "a", "b")
	os.MkdirAll(sub, 0o755)
	inc := filepath.Join(home, "inc")
	os.WriteFile(inc, []byte("[gachette]\n\thost = one\n"), 0o644)
	gitIn(t, env, r, "config", "--global", "include.path", inc)
	gitIn(t, env, r, "config", "--global", "includeIf.onbranch:lane.path", "lane.inc")
	gitIn(t, env, r, "config", "gachette.domain", "first")

	// git looks for a repository up to dir, not above it: what changes
	// above (other tests' temporary directories in /tmp) is not a witness
	env = append(env, "GIT_CEILING_DIRECTORIES="+dir)
	env, runs := countingGit(t, env)
	// PATH is the process's here: the cache finds git where exec does
	t.Setenv("PATH", strings.TrimPrefix(env[len(env)-1], "PATH="))
	cache := &ProbeCache{Dir: filepath.Join(t.TempDir(), "cache"), RacyWindow: time.Nanosecond}
	g := &Git{Dir: sub, Env: env, Cache: cache}
	ctx := context.Background()
	probe := func() (*Probe, int) {
		t.Helper()
		before := runs()
		p, err := g.Probe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p, runs() - before
	}
	settle := func() { time.Sleep(20 * time.Millisecond) } // past the file system's timestamp tick

	p, n := probe()
	if n == 0 || p.Repo == nil || p.Config.Value("gachette.domain") != "first" {
		t.Fatalf("first probe: %d git runs, %+v", n, p)
	}
	for i := 0; i < 2; i++ {
		if p, n = probe(); n != 0 || p.Repo == nil || !strings.HasSuffix(p.Repo.GitDir, "/r/.git") || p.Config.Value("gachette.host") != "one" {
			t.Fatalf("unchanged, probe %d: %d git runs, %+v", i, n, p.Repo)
		}
	}
	if e, _ := p.Config.Get("gachette.domain"); e.Where() != "local: "+filepath.Join(r, ".git", "config") {
		t.Errorf("served entry from %q", e.Where())
	}

	for _, c := range []struct {
		name   string
		change func()
		check  func(p *Probe) bool
	}{
		{"the repository's config", func() { gitIn(t, env, r, "config", "gachette.domain", "second") },
			func(p *Probe) bool { return p.Config.Value("gachette.domain") == "second" }},
		{"an included file, in place", func() {
			f, _ := os.OpenFile(inc, os.O_WRONLY|os.O_TRUNC, 0)
			f.WriteString("[gachette]\n\thost = two\n")
			f.Close()
		}, func(p *Probe) bool { return p.Config.Value("gachette.host") == "two" }},
		{"an includeIf target appearing", func() {
			os.WriteFile(filepath.Join(home, "lane.inc"), []byte("[gachette]\n\tarch = lane\n"), 0o644)
		}, func(p *Probe) bool { return p.Config.Value("gachette.arch") == "" }},
		{"HEAD, for onbranch", func() { gitIn(t, env, r, "switch", "-q", "-c", "lane") },
			func(p *Probe) bool { return p.Config.Value("gachette.arch") == "lane" }},
		{"HEAD through a symbolic branch, for onbranch", func() {
			gitIn(t, env, r, "branch", "other")
			gitIn(t, env, r, "symbolic-ref", "refs/heads/alias", "refs/heads/lane")
			gitIn(t, env, r, "symbolic-ref", "HEAD", "refs/heads/alias")
		}, func(p *Probe) bool { return p.Config.Value("gachette.arch") == "lane" }},
		{"that symbolic branch retargeted (HEAD unchanged)", func() {
			gitIn(t, env, r, "symbolic-ref", "refs/heads/alias", "refs/heads/other")
		}, func(p *Probe) bool { return p.Config.Value("gachette.arch") == "" }},
		{"the global file", func() { gitIn(t, env, r, "config", "--global", "gachette.builder", "command") },
			func(p *Probe) bool { return p.Config.Value("gachette.builder") == "command" }},
		{"a .git between, not yet a repository", func() {
			os.MkdirAll(filepath.Join(r, "a", ".git", "objects"), 0o755)
			os.MkdirAll(filepath.Join(r, "a", ".git", "refs"), 0o755)
		}, func(p *Probe) bool { return p.Repo != nil && strings.HasSuffix(p.Repo.GitDir, "/r/.git") }},
		{"that .git becoming one (its HEAD written)", func() {
			os.WriteFile(filepath.Join(r, "a", ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
		}, func(p *Probe) bool { return p.Repo != nil && strings.HasSuffix(p.Repo.GitDir, "/r/a/.git") }},
		{"a repository between", func() {
			os.RemoveAll(filepath.Join(r, "a", ".git"))
			gitIn(t, env, filepath.Join(r, "a"), "init", "-q", ".")
		},
			func(p *Probe) bool { return p.Repo != nil && strings.HasSuffix(p.Repo.GitDir, "/r/a/.git") }},
		{"the repository gone", func() { os.RemoveAll(filepath.Join(r, "a", ".git")); os.RemoveAll(filepath.Join(r, ".git")) },
			func(p *Probe) bool {
				var nr *NotRepositoryError
				return errors.As(p.RepoErr, &nr)
			}},
	} {
		settle()
		c.change()
		settle()
		p, n := probe()
		if n == 0 || !c.check(p) {
			t.Errorf("%s changed: %d git runs, repo %+v, err %v", c.name, n, p.Repo, p.RepoErr)
		}
		if p2, n := probe(); n != 0 || !c.check(p2) {
			t.Errorf("%s changed, asked again: %d git runs", c.name, n)
		}
	}

	// above the ceiling, nothing is asked about
	os.WriteFile(filepath.Join(filepath.Dir(dir), "above-the-ceiling"), nil, 0o644)
	settle()
	if p, n := probe(); n != 0 || p.RepoErr == nil {
		t.Errorf("a change above GIT_CEILING_DIRECTORIES: %d git runs, err %v", n, p.RepoErr)
	}

	// another environment is another question
	g.Env = append(env, "GIT_CONFIG_PARAMETERS='gachette.domain'='cli'")
	if p, n := probe(); n == 0 || p.Config.Value("gachette.domain") != "cli" {
		t.Errorf("git -c: %d git runs, domain %q", n, p.Config.Value("gachette.domain"))
	}
	// so is another SUDO_UID: git run by root trusts a repository owned
	// by SUDO_UID (safe.directory)
	g.Env = append(env, "SUDO_UID=4242")
	if _, n := probe(); n == 0 {
		t.Errorf("SUDO_UID set: served the answer given without it")
	}
}

// TestProbeCacheUntrusted: an entry the cache did not write itself, or
// that others could have written, is a miss, whatever it holds; so is
// one that is not a regular file (never opened blocking, never read
// without bound) or that has no witnesses.
func TestProbeCacheUntrusted(t *testing.T) {
	_, env := isolated(t)
	dir := t.TempDir()
	gitIn(t, env, dir, "init", "-q", "--bare", "b.git")
	gitIn(t, env, filepath.Join(dir, "b.git"), "config", "gachette.domain", "real")
	env, runs := countingGit(t, env)
	t.Setenv("PATH", strings.TrimPrefix(env[len(env)-1], "PATH="))
	cacheDir := filepath.Join(t.TempDir(), "cache")
	cache := &ProbeCache{Dir: cacheDir, RacyWindow: time.Nanosecond}
	g := &Git{Dir: filepath.Join(dir, "b.git"), Env: env, Cache: cache}
	time.Sleep(20 * time.Millisecond)
	probe := func() (string, int) {
		t.Helper()
		before := runs()
		p, err := g.Probe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return p.Config.Value("gachette.domain"), runs() - before
	}
	if _, n := probe(); n == 0 {
		t.Fatal("first probe ran no git")
	}
	if _, n := probe(); n != 0 {
		t.Fatal("not served from the cache")
	}
	key, _, _, _ := g.cacheKey()
	file := cache.file(key)
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(string(good), `"Value":"real"`, `"Value":"forged"`, 1)
	if forged == string(good) {
		t.Fatalf("no domain in the entry: %s", good)
	}
	write := func(content string, mode os.FileMode) {
		t.Helper()
		os.Remove(file)
		if err := os.WriteFile(file, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(file, mode)
	}
	noWitnesses := regexp.MustCompile(`"witnesses":\[.*\]`).ReplaceAllString(strings.Replace(string(good), `"Value":"real"`, `"Value":"forged"`, 1), `"witnesses":[]`)
	for _, c := range []struct {
		name  string
		set   func()
		unset func()
	}{
		{"an entry others may write", func() { write(forged, 0o666) }, nil},
		{"an entry the group may write", func() { write(forged, 0o620) }, nil},
		{"an entry in a directory others may write", func() { write(forged, 0o600); os.Chmod(cacheDir, 0o777) }, func() { os.Chmod(cacheDir, 0o700) }},
		{"an entry without witnesses", func() { write(noWitnesses, 0o600) }, nil},
		{"a FIFO", func() { os.Remove(file); syscall.Mkfifo(file, 0o600) }, nil},
		{"a symbolic link to /dev/zero", func() { os.Remove(file); os.Symlink("/dev/zero", file) }, nil},
		{"an entry beyond the size cap", func() { write(forged+strings.Repeat(" ", maxCacheEntry), 0o600) }, nil},
		{"an entry of another user", func() {
			if os.Geteuid() != 0 {
				t.Log("not root: an entry of another user is not tried")
				os.Remove(file)
				return
			}
			write(forged, 0o600)
			os.Chown(file, 4242, 4242)
		}, nil},
	} {
		c.set()
		if v, n := probe(); n == 0 || v != "real" {
			t.Errorf("%s: served (domain %q, %d git runs)", c.name, v, n)
		}
		if c.unset != nil {
			c.unset()
		}
	}
}

// TestProbeCacheRacy: an answer that depends on a file changed just before
// git was asked is not kept, since a change within the same timestamp tick
// would not show.
func TestProbeCacheRacy(t *testing.T) {
	_, env := isolated(t)
	dir := t.TempDir()
	gitIn(t, env, dir, "init", "-q", "--bare", "b.git")
	cache := &ProbeCache{Dir: filepath.Join(t.TempDir(), "cache")}
	g := &Git{Dir: filepath.Join(dir, "b.git"), Env: env, Cache: cache}
	if _, err := g.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(cache.Dir); len(entries) != 0 {
		t.Errorf("kept an answer about files changed a moment ago: %v", entries)
	}
	// an unsafe repository is never kept
	cache.RacyWindow = time.Nanosecond
	g.Env = append(env, "GIT_TEST_ASSUME_DIFFERENT_OWNER=1")
	p, err := g.Probe(context.Background())
	var unsafe *UnsafeRepositoryError
	if err != nil || !errors.As(p.RepoErr, &unsafe) {
		t.Fatalf("unsafe: %v, %v", p, err)
	}
	if entries, _ := os.ReadDir(cache.Dir); len(entries) != 0 {
		t.Errorf("kept a refusal: %v", entries)
	}
}
