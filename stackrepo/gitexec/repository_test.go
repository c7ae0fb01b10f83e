package gitexec

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
)

// isolated is an environment with its own home and no system config, so
// the machine's git configuration stays out.
func isolated(t *testing.T) (home string, env []string) {
	t.Helper()
	home = t.TempDir()
	if err := gittest.WriteHome(home, "T", "t@example.com", ""); err != nil {
		t.Fatal(err)
	}
	return home, []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1"}
}

func gitIn(t *testing.T, env []string, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func TestRepository(t *testing.T) {
	home, env := isolated(t)
	dir := t.TempDir()
	gitIn(t, env, dir, "init", "-q", "--bare", "b.git")
	gitIn(t, env, dir, "init", "-q", "w")
	gitIn(t, env, filepath.Join(dir, "w"), "commit", "-q", "--allow-empty", "-m", "x")
	gitIn(t, env, filepath.Join(dir, "w"), "worktree", "add", "-q", "--detach", filepath.Join(dir, "linked"))
	os.MkdirAll(filepath.Join(dir, "w", "sub"), 0o755)
	ctx := context.Background()
	for _, c := range []struct {
		name                 string
		g                    *Git
		gitDir, common, work string
		bare                 bool
	}{
		{"bare, by path", &Git{Dir: filepath.Join(dir, "b.git"), Env: env}, "b.git", "b.git", "", true},
		{"work tree, from a subdirectory", &Git{Dir: filepath.Join(dir, "w", "sub"), Env: env}, "w/.git", "w/.git", "w", false},
		{"linked worktree", &Git{Dir: filepath.Join(dir, "linked"), Env: env}, "w/.git/worktrees/linked", "w/.git", "linked", false},
		{"GIT_DIR", &Git{Dir: home, Env: append(env, "GIT_DIR="+filepath.Join(dir, "b.git"))}, "b.git", "b.git", "", true},
		{"--git-dir wins over GIT_DIR", &Git{GitDir: filepath.Join(dir, "w", ".git"), Dir: home, Env: append(env, "GIT_DIR="+filepath.Join(dir, "b.git"))}, "w/.git", "w/.git", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.g.Repository(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rel := func(p string) string {
				if p == "" {
					return ""
				}
				real, _ := filepath.EvalSymlinks(dir)
				if r, err := filepath.Rel(real, p); err == nil && !strings.HasPrefix(r, "..") {
					return filepath.ToSlash(r)
				}
				r, _ := filepath.Rel(dir, p)
				return filepath.ToSlash(r)
			}
			if rel(r.GitDir) != c.gitDir || rel(r.CommonDir) != c.common || r.Bare != c.bare || r.ObjectFormat != "sha1" || r.Shallow {
				t.Errorf("got %+v", r)
			}
			if c.work != "" && rel(r.WorkTree) != c.work {
				t.Errorf("work tree %q, want %q", r.WorkTree, c.work)
			}
		})
	}
}

func TestRepositoryErrors(t *testing.T) {
	_, env := isolated(t)
	dir := t.TempDir()
	ctx := context.Background()
	gitIn(t, env, dir, "init", "-q", "--bare", "b.git")

	_, err := (&Git{Dir: dir, Env: append(env, "GIT_CEILING_DIRECTORIES="+filepath.Dir(dir))}).Repository(ctx)
	var nr *NotRepositoryError
	if !errors.As(err, &nr) || nr.Named {
		t.Errorf("no repository: %v", err)
	}
	_, err = (&Git{Dir: dir, Env: append(env, "GIT_DIR="+filepath.Join(dir, "nothing"))}).Repository(ctx)
	if !errors.As(err, &nr) || !nr.Named || !strings.Contains(err.Error(), "GIT_DIR (or git --git-dir) names") {
		t.Errorf("GIT_DIR at nothing: %v", err)
	}
	_, err = (&Git{Dir: filepath.Join(dir, "b.git"), Env: append(env, "GIT_TEST_ASSUME_DIFFERENT_OWNER=1")}).Repository(ctx)
	var unsafe *UnsafeRepositoryError
	if !errors.As(err, &unsafe) || !strings.HasSuffix(err.Error(), "git config --global --add safe.directory "+unsafe.Path) {
		t.Errorf("unsafe: %v", err)
	}
	gitIn(t, env, filepath.Join(dir, "b.git"), "config", "core.repositoryformatversion", "1")
	gitIn(t, env, filepath.Join(dir, "b.git"), "config", "extensions.unknownToGit", "x")
	_, err = (&Git{Dir: filepath.Join(dir, "b.git"), Env: env}).Repository(ctx)
	var re *RepositoryError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "unknowntogit") {
		t.Errorf("unknown extension: %v", err)
	}
}

// TestAt: a path is asked about alone, without the caller's GIT_DIR and
// without looking above it.
func TestAt(t *testing.T) {
	_, env := isolated(t)
	dir := t.TempDir()
	gitIn(t, env, dir, "init", "-q", "w")
	os.MkdirAll(filepath.Join(dir, "w", "sub"), 0o755)
	ctx := context.Background()
	g, err := At(filepath.Join(dir, "w"), append(env, "GIT_DIR=/elsewhere"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := g.Repository(ctx); err != nil || !strings.HasSuffix(r.GitDir, "/w/.git") {
		t.Errorf("the work tree: %+v, %v", r, err)
	}
	g, _ = At(filepath.Join(dir, "w", "sub"), env)
	var nr *NotRepositoryError
	if _, err := g.Repository(ctx); !errors.As(err, &nr) {
		t.Errorf("a directory inside a work tree: %v", err)
	}
}

func TestProbeAndConfig(t *testing.T) {
	home, env := isolated(t)
	dir := t.TempDir()
	gitIn(t, env, dir, "init", "-q", "r")
	r := filepath.Join(dir, "r")
	os.WriteFile(filepath.Join(home, "inc"), []byte("[gachette]\n\thost = \"two\\nlines\"\n"), 0o644)
	gitIn(t, env, r, "config", "--global", "include.path", filepath.Join(home, "inc"))
	gitIn(t, env, r, "config", "GACHETTE.Domain", "local")
	gitIn(t, env, r, "config", "gachette.project.MyApp.url", "u")
	os.WriteFile(filepath.Join(r, ".git", "config"), append(must(os.ReadFile(filepath.Join(r, ".git", "config"))), "[core]\n\tflag\n"...), 0o644)
	g := &Git{Dir: r, Env: append(env, "GIT_CONFIG_PARAMETERS='gachette.arch'='arm64'")}
	p, err := g.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p.Repo == nil || p.RepoErr != nil {
		t.Fatalf("repository: %+v, %v", p.Repo, p.RepoErr)
	}
	c := p.Config
	for key, want := range map[string]string{
		"gachette.domain":            "local",
		"GACHETTE.DOMAIN":            "local",
		"gachette.host":              "two\nlines",
		"gachette.arch":              "arm64",
		"gachette.project.MyApp.url": "u",
		"user.name":                  "T",
	} {
		if got := c.Value(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if e, _ := c.Get("gachette.domain"); e.Scope != "local" || e.Where() != "local: "+filepath.Join(r, ".git", "config") {
		t.Errorf("domain from %q", e.Where())
	}
	if e, _ := c.Get("gachette.arch"); e.Where() != "command: command line" {
		t.Errorf("arch from %q", e.Where())
	}
	if e, _ := c.Get("gachette.host"); e.Where() != "global: "+filepath.Join(home, "inc") {
		t.Errorf("host from %q", e.Where())
	}
	if e, _ := c.Get("core.flag"); !e.Implicit || !must(e.Bool()) {
		t.Errorf("bare key: %+v", e)
	}
	if subs := c.Subsections("gachette", "project."); len(subs) != 1 || subs[0] != "project.MyApp" {
		t.Errorf("subsections %q", subs)
	}
	// a config file git cannot read is git's error
	os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[broken\n"), 0o644)
	if _, err := g.Probe(context.Background()); err == nil || !strings.Contains(err.Error(), "bad config line 1") {
		t.Errorf("broken config: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{"true": true, "Yes": true, "on": true, "1": true, "2": true, "1k": true, "-1": true,
		"false": false, "NO": false, "off": false, "0": false, "": false, "0m": false} {
		if got, err := ParseBool(in); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"maybe", "tru", "1x", "k"} {
		if _, err := ParseBool(bad); err == nil {
			t.Errorf("ParseBool(%q) accepted it", bad)
		}
	}
	if _, err := (ConfigEntry{Key: "gachette.sign", Value: "maybe", Scope: "global", Origin: "file:/h/.gitconfig"}).Bool(); err == nil ||
		err.Error() != `gachette.sign = "maybe" (from global: /h/.gitconfig) is not a boolean; use true or false` {
		t.Errorf("error: %v", err)
	}
}

func TestParseConfigMalformed(t *testing.T) {
	if _, err := ParseConfig([]byte("local\x00file:x\x00"), "/"); err == nil {
		t.Error("a truncated listing parsed")
	}
	c, err := ParseConfig(nil, "/")
	if err != nil || len(c.Entries) != 0 {
		t.Errorf("empty listing: %v, %v", c, err)
	}
}

func TestIdent(t *testing.T) {
	_, env := isolated(t)
	g := &Git{Dir: t.TempDir(), Env: append(env, "GIT_AUTHOR_NAME=Ann <A>", "GIT_AUTHOR_DATE=1700000000 +0130")}
	id, err := g.Ident(context.Background(), "GIT_AUTHOR_IDENT")
	if err != nil {
		t.Fatal(err)
	}
	if id.Name != "Ann A" || id.Email != "t@example.com" || id.When.Unix() != 1700000000 {
		t.Errorf("got %+v", id)
	}
	if _, off := id.When.Zone(); off != 90*60 {
		t.Errorf("zone offset %d", off)
	}
	g.Env = append(env, "GIT_CONFIG_COUNT=2", "GIT_CONFIG_KEY_0=user.useConfigOnly", "GIT_CONFIG_VALUE_0=true",
		"GIT_CONFIG_KEY_1=user.email", "GIT_CONFIG_VALUE_1=", "HOME="+t.TempDir())
	_, err = g.Ident(context.Background(), "GIT_COMMITTER_IDENT")
	var unknown *IdentUnknownError
	if !errors.As(err, &unknown) || !strings.Contains(err.Error(), "git config --global user.email") {
		t.Errorf("no identity: %v", err)
	}
}

func TestParseIdent(t *testing.T) {
	id, err := ParseIdent("A B <a@b.c> 1700000000 -0800")
	if err != nil || id.Name != "A B" || id.Email != "a@b.c" || !id.When.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("got %+v, %v", id, err)
	}
	for _, bad := range []string{"", "A <a@b.c>", "A a@b.c 1 +0000", "A <a> x +0000", "A <a> 1 +00", "A <a> 1 0000"} {
		if _, err := ParseIdent(bad); err == nil {
			t.Errorf("ParseIdent(%q) accepted it", bad)
		}
	}
}
