package remote

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/ops-hero/git-gachette/remote/sshdtest"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	cleanup := gittest.MustIsolate()
	code := m.Run()
	sshd.stop()
	cleanup()
	removeBuildUser()
	os.Exit(code)
}

// testHost is a build host for the tests: this machine, or a real OpenSSH
// sshd on 127.0.0.1 reached through DialSSH. Both run the same tests.
type testHost struct {
	name string
	ex   Executor
}

// sharedSSHD is one sshd for the package's tests, started on first use.
type sharedSSHD struct {
	once sync.Once
	srv  *sshdtest.Server
	home string
	err  error
}

var sshd sharedSSHD

func (s *sharedSSHD) start() error {
	s.once.Do(func() {
		dir, err := os.MkdirTemp("", "gachette-remote-sshd-")
		if err != nil {
			s.err = err
			return
		}
		s.home = filepath.Join(dir, "home")
		pub, err := sshdtest.UserKey(s.home)
		if err != nil {
			s.err = err
			return
		}
		// the build host's git runs with the test home, not the
		// machine's; submodules of the test projects are local paths
		s.srv, s.err = sshdtest.Start(filepath.Join(dir, "sshd"), pub, "HOME="+os.Getenv("HOME"), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=protocol.file.allow", "GIT_CONFIG_VALUE_0=always")
		if s.err == nil {
			_, s.err = s.srv.Client(s.home)
		}
	})
	return s.err
}

func (s *sharedSSHD) stop() {
	if s.srv != nil {
		s.srv.Stop()
		os.RemoveAll(filepath.Dir(s.srv.Dir))
	}
}

// dialSSHD connects to the package's sshd (one connection per call, as
// one invocation of git-gachette makes).
func dialSSHD(t testing.TB) *SSH {
	t.Helper()
	if err := sshd.start(); err != nil {
		t.Fatalf("the SSH tests need a real sshd (%s): %v", sshdtest.Path, err)
	}
	env := func(k string) string {
		if k == "HOME" {
			return sshd.home
		}
		return ""
	}
	s, err := DialSSH(context.Background(), SSHOptions{Host: "buildhost", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachHost runs f on this machine, then over SSH.
func forEachHost(t *testing.T, f func(t *testing.T, h testHost)) {
	t.Run("local", func(t *testing.T) { f(t, testHost{"local", Local{}}) })
	t.Run("ssh", func(t *testing.T) { f(t, testHost{"ssh", dialSSHD(t)}) })
}

// gitEnv is the environment of the git commands that make test projects:
// the home TestMain made, without the GIT_* a test may have set.
func gitEnv() []string {
	return append(CleanEnv(os.Environ()), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com",
		"GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com")
}

// git runs git with args in dir and returns its output.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = gitEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// project is a git repository to build: one commit holding build.sh, a
// command builder script, tagged v1.0.0.
type project struct {
	t             testing.TB
	h             testHost
	url, wd, debs string
}

// newProject makes a project whose build.sh is script, and a workdir and
// debs path for it.
func newProject(t testing.TB, h testHost, script string) *project {
	t.Helper()
	dir := t.TempDir()
	p := &project{t: t, h: h, url: filepath.Join(dir, "app"), wd: filepath.Join(dir, "wd"), debs: filepath.Join(dir, "debs")}
	git(t, dir, "init", "-q", "-b", "main", p.url)
	p.commit(script, "one")
	git(t, p.url, "tag", "--no-sign", "v1.0.0")
	return p
}

// commit commits build.sh as script.
func (p *project) commit(script, msg string) {
	p.t.Helper()
	p.commitFile("build.sh", script)
}

// commitFile commits a file with its contents.
func (p *project) commitFile(name, contents string) {
	p.t.Helper()
	if err := os.WriteFile(filepath.Join(p.url, name), []byte(contents), 0o644); err != nil {
		p.t.Fatal(err)
	}
	git(p.t, p.url, "add", name)
	git(p.t, p.url, "commit", "-q", "--allow-empty", "-m", "change "+name)
}

func (p *project) prepare(ref string) *Checkout {
	p.t.Helper()
	co, err := Prepare(context.Background(), p.h.ex, p.wd, "app", p.url, ref, "0.0.1", io.Discard)
	if err != nil {
		p.t.Fatal(err)
	}
	return co
}

// request is the command builder running build.sh for co.
func (p *project) request(co *Checkout) BuildRequest {
	return BuildRequest{Key: "app", Workdir: p.wd, DebsPath: p.debs, Builder: BuilderCommand, Command: "sh build.sh",
		Versions: Versions{App: co.Version}, Commit: co.Commit}
}

func (p *project) build(ctx context.Context, r BuildRequest, log io.Writer) (*BuildResult, error) {
	return buildKept(ctx, p.h.ex, r, log)
}

// buildKept is Build, then Keep: the .debs stay in the debs path, as
// once recorded.
func buildKept(ctx context.Context, ex Executor, r BuildRequest, log io.Writer) (*BuildResult, error) {
	res, err := Build(ctx, ex, r, log)
	if err != nil {
		return nil, err
	}
	return res, res.Keep()
}

// makeDeb is shell that makes the .deb dh-app at $GACHETTE_VERSION in
// $GACHETTE_OUTPUT, holding the text $CONTENT (default "app").
const makeDeb = `r=$(mktemp -d); mkdir -p "$r/DEBIAN" "$r/usr/share/app"
printf '%s\n' "${CONTENT:-app}" > "$r/usr/share/app/content"
printf 'Package: dh-app\nVersion: %s\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: app\n' "$GACHETTE_VERSION" > "$r/DEBIAN/control"
SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group --build "$r" "$GACHETTE_OUTPUT/dh-app_${GACHETTE_VERSION}_all.deb" >/dev/null
rm -rf "$r"
`

// checkRecorded checks that each recorded .deb is in the debs path with
// that SHA-256 and size, and what dpkg-deb reads from it.
func checkRecorded(t *testing.T, debsPath string, debs []Deb) {
	t.Helper()
	for _, d := range debs {
		f := filepath.Join(debsPath, d.Filename)
		st, err := os.Lstat(f)
		if err != nil || !st.Mode().IsRegular() {
			t.Fatalf("recorded %s: not a regular file in the debs path (%v)", d.Filename, err)
		}
		if got := fileSHA256(t, f); got != d.SHA256 || st.Size() != d.Size {
			t.Fatalf("recorded %s with SHA-256 %s and size %d; the file has %s and %d", d.Filename, d.SHA256, d.Size, got, st.Size())
		}
		out, err := exec.Command("dpkg-deb", "--showformat=${Package} ${Version} ${Architecture}", "--show", f).Output()
		if want := fmt.Sprintf("%s %s %s", d.Name, d.Version, d.Architecture); err != nil || string(out) != want {
			t.Fatalf("recorded %s as %q; dpkg-deb reads %q (%v)", d.Filename, want, out, err)
		}
	}
}
