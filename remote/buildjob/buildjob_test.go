package buildjob

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/stackrepo"
)

// TestMain keeps the machine's git configuration out of every git the
// jobs run: a home of its own with an identity, no system file, no GIT_*.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "buildjob-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.WriteFile(filepath.Join(home, ".gitconfig"), []byte("[user]\n\tname = T\n\temail = t@example.com\n[advice]\n\tdetachedHead = false\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "GIT_") {
			os.Unsetenv(k)
		}
	}
	os.Setenv("HOME", home)
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	os.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	code := m.Run()
	os.RemoveAll(home)
	os.Exit(code)
}

// buildDeb is a command builder that makes one .deb, dh-NAME, at the
// commit's version.
const buildDeb = `set -e
root=$(mktemp -d)
mkdir -p "$root/DEBIAN"
printf 'Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: t\n' "$(cat name)" "$GACHETTE_VERSION" >"$root/DEBIAN/control"
dpkg-deb --root-owner-group --build "$root" "$GACHETTE_OUTPUT/$(cat name)_${GACHETTE_VERSION}_all.deb" >/dev/null
rm -rf "$root"
`

// project makes a git repository that builds package pkg, tagged tag.
func project(t *testing.T, pkg, tag string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"build-deb.sh": buildDeb, "name": pkg + "\n", ".missile.yml": "packages:\n  - name: " + strings.TrimPrefix(pkg, "dh-") + "\n"}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q", "-b", "main")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-q", "-m", "first")
	git(t, dir, "tag", tag)
	return dir
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// localConfig builds on this machine with the command builder; progress
// and host output go to out.
func localConfig(t *testing.T, out *syncBuffer) Config {
	t.Helper()
	for _, tool := range []string{"git", "dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is required", tool)
		}
	}
	dir := t.TempDir()
	env := map[string]string{"HOME": os.Getenv("HOME"), "XDG_STATE_HOME": filepath.Join(dir, "state")}
	return Config{
		Settings: Settings{Hosts: []string{"local"}, Workdir: filepath.Join(dir, "wd"), DebsPath: filepath.Join(dir, "debs"),
			Builder: remote.BuilderCommand, BuildCommand: "sh build-deb.sh", Trebuchet: "trebuchet", Arch: "amd64", BaseVersion: "0.0.1"},
		Env:      func(k string) string { return env[k] },
		Progress: out, HostOutput: out,
	}
}

// syncBuffer is a bytes.Buffer for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPrepareThenBuild(t *testing.T) {
	var out syncBuffer
	c := localConfig(t, &out)
	src := project(t, "dh-app", "v1.2.0")
	ctx := context.Background()
	prep, err := Prepare(ctx, PrepareRequest{Config: c, Key: "app", URL: src})
	if err != nil {
		t.Fatalf("prepare: %v\n%s", err, out.String())
	}
	if want := git(t, src, "rev-parse", "HEAD"); prep.Checkout.Commit != want || prep.Checkout.Version != "1.2.0" || prep.Host != "local" {
		t.Fatalf("prepared %+v on %s, want commit %s version 1.2.0 on local", prep.Checkout, prep.Host, want)
	}
	for i, wantReused := range []bool{false, true} {
		res, err := Build(ctx, BuildRequest{Config: c, Key: "app"})
		if err != nil {
			t.Fatalf("build %d: %v\n%s", i+1, err, out.String())
		}
		if len(res.Debs) != 1 || res.Debs[0].Name != "dh-app" || res.Debs[0].Version != "1.2.0" || res.Reused != wantReused ||
			res.Commit != prep.Checkout.Commit || res.DebsPath != c.DebsPath {
			t.Fatalf("build %d: %+v, want dh-app 1.2.0 in %s, reused %v", i+1, res, c.DebsPath, wantReused)
		}
		if _, err := os.Stat(filepath.Join(c.DebsPath, res.Debs[0].Filename)); err != nil {
			t.Fatalf("build %d: %v", i+1, err)
		}
	}
	if !strings.Contains(out.String(), "==> prepare app on local") || !strings.Contains(out.String(), "==> reused 1 package built before") {
		t.Errorf("progress:\n%s", out.String())
	}
}

// Requests are checked before any host is asked: a bad value fails
// alone, whatever the host.
func TestRequestsCheckedFirst(t *testing.T) {
	var out syncBuffer
	c := localConfig(t, &out)
	c.Hosts = []string{"nobody@host.invalid"}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"prepare key", func() error { _, err := Prepare(ctx, PrepareRequest{Config: c, Key: "a b", URL: "/src"}); return err }, "key"},
		{"prepare ref", func() error {
			_, err := Prepare(ctx, PrepareRequest{Config: c, Key: "app", URL: "/src", Ref: "--upload-pack=x"})
			return err
		}, "--upload-pack=x"},
		{"build debs path", func() error {
			_, err := Build(ctx, BuildRequest{Config: c, Key: "app", DebsPath: "/tmp/../x"})
			return err
		}, `must not contain ".."`},
		{"build version", func() error {
			_, err := Build(ctx, BuildRequest{Config: c, Key: "app", Versions: remote.Versions{App: "1.0;touch x"}})
			return err
		}, "--app-version"},
		{"lint key", func() error {
			_, err := Lint(ctx, LintRequest{Config: c, Key: "../x", Missile: ".missile.yml"})
			return err
		}, "key"},
		{"quick missile", func() error {
			_, err := Quick(ctx, QuickRequest{Config: c, Projects: []Project{{Name: "app", URL: "/src", Missile: "../m"}},
				Open: func() (*stackrepo.Repo, stackrepo.Identity, error) { panic("opened") }})
			return err
		}, "project app: missile"},
	} {
		err := tc.run()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", tc.name, err, tc.want)
		}
	}
	if out.String() != "" {
		t.Errorf("something ran:\n%s", out.String())
	}
}

func TestBuildNeedsPrepare(t *testing.T) {
	var out syncBuffer
	c := localConfig(t, &out)
	_, err := Build(context.Background(), BuildRequest{Config: c, Key: "app"})
	if err == nil || !strings.Contains(err.Error(), "no finished prepare of app on local") {
		t.Fatalf("got %v", err)
	}
}

func TestLint(t *testing.T) {
	var out syncBuffer
	c := localConfig(t, &out)
	trebuchet, err := filepath.Abs(filepath.Join("..", "..", "testdata", "bin", "trebuchet"))
	if err != nil {
		t.Fatal(err)
	}
	c.Trebuchet = trebuchet
	ctx := context.Background()
	if _, err := Lint(ctx, LintRequest{Config: c, Key: "app", Missile: ".missile.yml"}); err == nil || !strings.Contains(err.Error(), "app") {
		t.Fatalf("lint before prepare: %v", err)
	}
	if _, err := Prepare(ctx, PrepareRequest{Config: c, Key: "app", URL: project(t, "dh-web", "v1.0.0")}); err != nil {
		t.Fatal(err)
	}
	res, err := Lint(ctx, LintRequest{Config: c, Key: "app", Missile: ".missile.yml"})
	if err != nil {
		t.Fatalf("lint: %v\n%s", err, out.String())
	}
	if res.Host != "local" || len(res.Packages) != 1 || res.Packages[0] != "dh-web" {
		t.Fatalf("lint: %+v", res)
	}
}
