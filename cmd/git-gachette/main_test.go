package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// Every git-gachette the tests run is this test binary; under -race it
	// would sleep a second before exiting (GORACE's atexit_sleep_ms): the
	// suite ran ~8 minutes of which most was that sleep.
	os.Setenv("GORACE", raceOptions())
	testscript.Main(m, map[string]func(){
		"git-gachette": func() { os.Exit(Main(os.Args[1:])) },
	})
}

// TestScripts runs the CLI scripts in testdata/script against the real git
// binary: every script's repositories are checked with git itself.
func TestScripts(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is required for the CLI tests: apt-get install git")
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		Setup:               setupScriptEnv,
		Condition: func(cond string) (bool, error) {
			if cond == "root" { // can give files away (chown)
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"refs-save":   cmdRefsSave,
			"refs-same":   cmdRefsSame,
			"fsck":        cmdFsck,
			"same-commit": cmdSameCommit,
			"sshd":        cmdSshd,
			"crash":       cmdCrash,
			"waitfile":    cmdWaitFile,
			"interrupt":   cmdInterrupt,
			"exitcode":    cmdExitCode,
			"not-running": cmdNotRunning,
			"gitserver":   cmdGitServer,
			"crash-fetch": cmdCrashFetch,
			"builduser":   cmdBuildUser,
		},
	})
}

// setupScriptEnv gives each script a home of its own with a git identity
// (and $GACHETTE_TEST_GITCONFIG), and no system config, so nothing of the
// machine leaks in.
func setupScriptEnv(env *testscript.Env) error {
	home := filepath.Join(env.WorkDir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	if err := gittest.WriteHome(home, "Rel Eng", "releng@example.com", "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"); err != nil {
		return err
	}
	env.Setenv("HOME", home)
	env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	env.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	env.Setenv("GORACE", raceOptions())
	// the trebuchet stand-in, and the repository root for fixtures
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return err
	}
	env.Setenv("GACHETTE_SRC", root)
	env.Setenv("TREBUCHET", filepath.Join(root, "testdata", "bin", "trebuchet"))
	// Unset (not empty: git treats an empty GIT_WORK_TREE as set) what
	// would point git or git-gachette elsewhere.
	vars := env.Vars[:0]
	for _, kv := range env.Vars {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "GIT_") && !strings.HasPrefix(k, "GACHETTE_") && k != "EMAIL" && k != "SSH_AUTH_SOCK" || k == "GIT_CONFIG_NOSYSTEM" || k == "GACHETTE_SRC" {
			vars = append(vars, kv)
		}
	}
	env.Vars = vars
	// local submodules of the test projects
	env.Setenv("GIT_CONFIG_COUNT", "1")
	env.Setenv("GIT_CONFIG_KEY_0", "protocol.file.allow")
	env.Setenv("GIT_CONFIG_VALUE_0", "always")
	return nil
}

func refsState(ts *testscript.TestScript, repo string) string {
	dir := ts.MkAbs(repo)
	out, err := exec.Command("git", "-C", dir, "for-each-ref", "--format=%(objectname) %(refname)").CombinedOutput()
	ts.Check(err)
	head, err := os.ReadFile(filepath.Join(gitDir(dir), "HEAD"))
	ts.Check(err)
	return string(out) + "HEAD " + string(head)
}

func gitDir(dir string) string {
	if st, err := os.Stat(filepath.Join(dir, ".git")); err == nil && st.IsDir() {
		return filepath.Join(dir, ".git")
	}
	return dir
}

// snapshotFile is where refs-save keeps a repository's refs: in $WORK,
// named after the repository's absolute path, so it is in no repository.
func snapshotFile(ts *testscript.TestScript, repo string) string {
	return filepath.Join(ts.Getenv("WORK"), ".refs"+strings.ReplaceAll(ts.MkAbs(repo), "/", "_"))
}

// cmdRefsSave remembers every ref (and HEAD) of a repository.
func cmdRefsSave(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: refs-save REPO")
	}
	ts.Check(os.WriteFile(snapshotFile(ts, args[0]), []byte(refsState(ts, args[0])), 0o644))
}

// cmdRefsSame checks that every ref is as refs-save saw it, and that no
// lock file is left behind.
func cmdRefsSame(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: refs-same REPO")
	}
	want, err := os.ReadFile(snapshotFile(ts, args[0]))
	ts.Check(err)
	if got := refsState(ts, args[0]); got != string(want) {
		ts.Fatalf("refs changed:\nbefore:\n%s\nafter:\n%s", want, got)
	}
	filepath.WalkDir(gitDir(ts.MkAbs(args[0])), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".lock") {
			ts.Fatalf("lock file left behind: %s", p)
		}
		return nil
	})
}

// cmdFsck runs git fsck --strict and fails on any error or warning.
func cmdFsck(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fsck REPO")
	}
	cmd := exec.Command("git", "-C", ts.MkAbs(args[0]), "fsck", "--strict", "--no-dangling", "--no-progress")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || strings.TrimSpace(out.String()) != "" {
		ts.Fatalf("git fsck --strict %s: %v\n%s", args[0], err, out.String())
	}
}

// cmdSameCommit checks, with git rev-parse in the current directory, that
// two revisions name the same commit.
func cmdSameCommit(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: same-commit REV REV")
	}
	var got [2]string
	for i, rev := range args {
		cmd := exec.Command("git", "rev-parse", "--verify", "-q", rev+"^{commit}")
		cmd.Dir = ts.MkAbs(".")
		out, err := cmd.Output()
		if err != nil {
			ts.Fatalf("git rev-parse %s: %v", rev, err)
		}
		got[i] = strings.TrimSpace(string(out))
	}
	if (got[0] == got[1]) == neg {
		ts.Fatalf("%s is %s and %s is %s", args[0], got[0], args[1], got[1])
	}
}

// raceOptions is GORACE for the git-gachette processes the tests start:
// the caller's options, and no sleep at exit (a race is still reported,
// and fails the run with exit status 66).
func raceOptions() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}
