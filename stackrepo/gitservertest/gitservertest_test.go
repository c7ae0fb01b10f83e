package gitservertest

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
)

// Each server takes a push and serves it back, with C git as the client.
func TestServers(t *testing.T) {
	home := t.TempDir()
	if err := gittest.WriteHome(home, "T", "t@example.com", ""); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	git := func(env []string, args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Env = append([]string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"}, env...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	git(nil, "init", "-q", "src")
	git(nil, "-C", "src", "commit", "-q", "--allow-empty", "-m", "one")
	want := strings.TrimSpace(git(nil, "-C", "src", "rev-parse", "HEAD"))

	root := t.TempDir()
	check := func(name, url string, env ...string) {
		t.Helper()
		if _, err := Bare(root, name+".git", "main"); err != nil {
			t.Fatal(err)
		}
		git(env, "-C", "src", "push", "-q", url+name+".git", "HEAD:refs/heads/main")
		if got := git(env, "ls-remote", url+name+".git", "refs/heads/main"); !strings.HasPrefix(got, want) {
			t.Errorf("%s: ls-remote says %q, want %s", name, got, want)
		}
	}

	d, err := StartDaemon(t.TempDir(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	check("daemon", d.URL)

	h, err := StartHTTP(t.TempDir(), root, "alice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	check("http", strings.Replace(h.URL, "http://", "http://alice:s3cret@", 1))
	cmd := exec.Command("git", "ls-remote", h.URL+"http.git")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0"}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "terminal prompts disabled") {
		t.Errorf("HTTP without credentials: %v\n%s", err, out)
	}

	hs, err := StartHTTPS(t.TempDir(), root, "alice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Stop()
	check("https", strings.Replace(hs.URL, "https://", "https://alice:s3cret@", 1), "GIT_SSL_CAINFO="+hs.CAFile)

	s, err := StartSSH(t.TempDir(), home, "gitserver")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	check("ssh", "ssh://gitserver"+root+"/", "GIT_SSH_COMMAND="+s.Command)
	if n, err := s.Sessions(); err != nil || n != 2 {
		t.Errorf("sshd sessions: %d, %v; want 2 (one push, one ls-remote)", n, err)
	}
}
