package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// What a stack records is what was built, whatever the builder does
// (README, "What a builder can and cannot do to a stack"). Each test runs on this machine and over a real sshd.

func fileSHA256(t testing.TB, f string) string {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// buildWithin runs a build and fails the test if it has not returned
// after limit: a liveness bound, not a speed test.
func (p *project) buildWithin(limit time.Duration, r BuildRequest, log io.Writer) (*BuildResult, time.Duration, error) {
	p.t.Helper()
	type result struct {
		res *BuildResult
		err error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		res, err := p.build(context.Background(), r, log)
		done <- result{res, err}
	}()
	select {
	case r := <-done:
		return r.res, time.Since(start), r.err
	case <-time.After(limit):
		p.t.Fatalf("the build did not return within %s", limit)
		return nil, 0, nil
	}
}

// processesLike lists the processes whose command line holds s.
func processesLike(s string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte(s)) && e.Name() != strconv.Itoa(os.Getpid()) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}

// killLike kills, at the end of the test, the processes whose command
// line holds s (what a builder left running on purpose).
func killLike(t *testing.T, s string) {
	t.Cleanup(func() {
		for _, p := range processesLike(s) {
			pid, _ := strconv.Atoi(strings.SplitN(p, ":", 2)[0])
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// lineCounter counts the lines a build shows, and keeps the last ones.
type lineCounter struct {
	lines atomic.Int64
	last  bytes.Buffer
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.lines.Add(int64(bytes.Count(p, []byte("\n"))))
	if c.last.Len() > 1<<20 {
		c.last.Reset()
	}
	c.last.Write(p)
	return len(p), nil
}

// A builder cannot hang the build, nor make it keep its output in memory:
// no final newline, a reader of stdin, daemons that keep the output open
// (in its process group or in a session of their own), 100 MB of output,
// a line of 3 MB. Each ends when the builder ends, with everything shown.
func TestBuilderCannotHang(t *testing.T) {
	type tc struct {
		name, script string
		check        func(t *testing.T, c *lineCounter)
		gone         string // a process that must not survive the build
	}
	const lineLen = 100 // with its newline
	cases := []tc{
		{name: "no final newline", script: "printf 'the last words'\n" + makeDeb + "printf 'really the last'",
			check: func(t *testing.T, c *lineCounter) {
				if !strings.HasSuffix(c.last.String(), "really the last\n") {
					t.Errorf("the last line was not shown whole: %q", c.last.String())
				}
			}},
		{name: "stdin reader", script: "cat\nread -r x || echo 'stdin is empty'\n" + makeDeb,
			check: func(t *testing.T, c *lineCounter) {
				if !strings.Contains(c.last.String(), "stdin is empty") {
					t.Errorf("output: %q", c.last.String())
				}
			}},
		{name: "daemon in its process group", script: makeDeb + "sleep 1001.25 &\necho daemon started\n", gone: "sleep 1001.25"},
		{name: "daemon in a session of its own", script: makeDeb + "setsid sleep 1002.25 &\necho daemon started\n", gone: "sleep 1002.25"},
		{name: "daemon that started a daemon", script: makeDeb + "setsid sh -c '(setsid sleep 1003.251 &); sleep 1003.252' &\n", gone: "sleep 1003.25"},
		{name: "100 MB of output", script: "yes " + strings.Repeat("x", lineLen-1) + " | head -c 100000000\n" + makeDeb,
			check: func(t *testing.T, c *lineCounter) {
				if want := int64(100000000 / lineLen); c.lines.Load() != want {
					t.Errorf("%d lines shown, want %d", c.lines.Load(), want)
				}
			}},
		{name: "3 MB line", script: "head -c 3000000 /dev/zero | tr '\\0' y\necho\necho after\n" + makeDeb,
			check: func(t *testing.T, c *lineCounter) {
				if !strings.Contains(c.last.String(), "yyy… (a line of 3000000 bytes, shortened)\n") || !strings.Contains(c.last.String(), "\nafter\n") {
					t.Errorf("the long line was not shown shortened: %q", semverxTail(c.last.String()))
				}
			}},
	}
	forEachHost(t, func(t *testing.T, h testHost) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if c.gone != "" {
					killLike(t, c.gone)
				}
				p := newProject(t, h, c.script)
				co := p.prepare("main")
				var log lineCounter
				res, took, err := p.buildWithin(2*time.Minute, p.request(co), &log)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s on %s: %s", c.name, h.name, took.Round(time.Millisecond))
				checkRecorded(t, p.debs, res.Debs)
				if c.check != nil {
					c.check(t, &log)
				}
				if c.gone != "" {
					if left := processesLike(c.gone); len(left) > 0 {
						t.Errorf("still running after the build: %v", left)
					}
				}
			})
		}
	})
}

// semverxTail is the end of a long text, for a message.
func semverxTail(s string) string {
	if len(s) > 300 {
		return "…" + s[len(s)-300:]
	}
	return s
}

// forgeScript is a builder that tries every way to make the check say
// what it wants: protocol lines on its output (with any nonce it can
// read), the same lines straight into its session's stdout, a text file
// named like a .deb, and a process that outlives it, holding nothing of
// its output, to write a forged check into its build's check session's
// stdout and change the .deb once checked. It also makes a real .deb.
// (Into its own build's check only: the same forgery into every check
// session on the machine failed the builds other tests ran beside it,
// "unexpected output from the build host: \"started\"". A builder running
// as the SSH user can make another build on the host fail that way, never
// record what it did not make; gachette.buildUser keeps builders out of
// the sessions' /proc.)
const forgeScript = `tmp=$(mktemp -d)
cat >"$tmp/forged.sh" <<'EOF'
evil=$(printf '%064d' 0)
forged() {
	printf 'started\nreused\nchecked\nmoved\n'
	printf 'deb\tdh-evil_9.9_all.deb\tdh-evil\t9.9\tall\t%s\t1\n' "$evil"
	printf 'deb\tdh-app_%s_all.deb\tdh-app\t%s\tall\t%s\t1\n' "$GACHETTE_VERSION" "$GACHETTE_VERSION" "$evil"
	printf 'have\tdh-app_%s_all.deb\t%s\n' "$GACHETTE_VERSION" "$evil"
	for w in $(tr '\0' '\n' </proc/$PPID/cmdline) "$GACHETTE_OUTPUT"; do
		n=${w##*-}
		printf '@@gachette-check-%s\ndh-evil_9.9_all.deb\tdh-evil\t9.9\tall\t%s\t1\n@@gachette-check-%s\n@@gachette-moved-%s\n' "$n" "$evil" "$n" "$n"
	done
}
EOF
cat >"$tmp/forger.sh" <<'EOF'
. "$(dirname "$0")/forged.sh"
i=0
while [ $i -lt 5000 ]; do
	for pid in $(pgrep -f "check.sh DEBS STAGING"); do
		# its own build's check only (STAGING is its output directory):
		# the others are other tests' builds, running beside it
		tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$OUT" || continue
		forged >"/proc/$pid/fd/1" 2>/dev/null
		echo "forged into $pid" >>"$LOG"
		echo tampered >>"$OUT/dh-app_${GACHETTE_VERSION}_all.deb"
		exit 0
	done
	sleep 0.002
	i=$((i + 1))
done
EOF
. "$tmp/forged.sh"
printf 'no newline, then forged lines'
forged
forged >/proc/$PPID/fd/1 2>/dev/null
forged >/proc/$PPID/fd/2 2>/dev/null
echo 'not a deb' >"$GACHETTE_OUTPUT/dh-evil_9.9_all.deb.txt"
` + makeDeb + `
OUT=$GACHETTE_OUTPUT LOG=$PWD/../forger.log setsid sh "$tmp/forger.sh" forger-1005 </dev/null >/dev/null 2>&1 &
sleep 0.5 # (what is still in the builder's process group when it ends is killed)
`

// A builder that forges the check records nothing false: whatever it
// manages, the build fails or records exactly the .deb it made, as the
// debs path holds it.
func TestForgingBuilder(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		killLike(t, "forger-1005")
		p := newProject(t, h, forgeScript)
		co := p.prepare("main")
		var log bytes.Buffer
		res, _, err := p.buildWithin(time.Minute, p.request(co), &log)
		if err != nil {
			t.Logf("refused: %v", err)
		} else {
			if len(res.Debs) != 1 || res.Debs[0].Name != "dh-app" {
				t.Fatalf("recorded %+v", res.Debs)
			}
			checkRecorded(t, p.debs, res.Debs)
		}
		if _, err := os.Stat(filepath.Join(p.debs, "dh-evil_9.9_all.deb")); err == nil {
			t.Error("the forged .deb is in the debs path")
		}
		forger, _ := os.ReadFile(filepath.Join(p.wd, "working_copy", "forger.log"))
		t.Logf("forger: %q", forger)
	})
}

// runCheck runs check.sh on staging (holding one real .deb, made by a
// build that is kept back from its check) with the verdict verdict(lines)
// computes from what the check printed, and returns the session's error.
func runCheck(t *testing.T, h testHost, p *project, staging string, verdict func(lines []string) string) error {
	t.Helper()
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	defer inW.Close()
	done := make(chan error, 1)
	go func() {
		err := h.ex.Run(context.Background(), Script{Body: hostScript(checkSh), Args: []string{p.debs, staging, ""},
			Stdin: inR, Stdout: outW, Stderr: io.Discard})
		outW.Close()
		done <- err
	}()
	var lines []string
	sr := newSessionReader(outR)
	for {
		rec, err := sr.next()
		if err != nil {
			break
		}
		l := strings.Join(append([]string{rec.word}, rec.fields...), "\t")
		if l == lineChecked {
			go func() { io.WriteString(inW, verdict(lines)); inW.Close() }()
			continue
		}
		lines = append(lines, l)
	}
	return <-done
}

// The move re-reads each .deb: a verdict holding a line the check did not
// print (forged into the check session's output), a file not in staging,
// or a .deb changed since its check, is refused, and the debs path left as
// it was.
func TestCheckRefusesForgedVerdict(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		co := p.prepare("main")
		staging := filepath.Join(p.debs, ".gachette", "staging", "app-test")
		build := func() {
			t.Helper()
			os.RemoveAll(staging)
			if err := os.MkdirAll(staging, 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", "-c", makeDeb)
			cmd.Env = append(os.Environ(), "GACHETTE_OUTPUT="+staging, "GACHETTE_VERSION="+co.Version)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
		}
		forged := strings.Join([]string{lineDeb, "dh-app_" + co.Version + "_all.deb", "dh-app", co.Version, "all", strings.Repeat("0", 64), "1"}, "\t")
		for _, c := range []struct {
			name    string
			verdict func(lines []string) string
			status  int
		}{
			{"forged line", func([]string) string { return "move\n" + forged + "\nend\n" }, exitMove},
			{"no such file", func([]string) string { return "move\n" + strings.Replace(forged, "dh-app_", "dh-evil_", 1) + "\nend\n" }, exitNoVerdict},
			{"changed since checked", func(lines []string) string {
				f, err := os.OpenFile(filepath.Join(staging, "dh-app_"+co.Version+"_all.deb"), os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Error(err)
				}
				f.WriteString("tampered")
				f.Close()
				return "move\n" + lines[0] + "\nend\n"
			}, exitMove},
			{"no verdict", func([]string) string { return "" }, exitNoVerdict},
		} {
			build()
			err := runCheck(t, h, p, staging, c.verdict)
			if !statusIs(err, c.status) {
				t.Errorf("%s: got %v, want exit status %d", c.name, err, c.status)
			}
			checkNoFiles(t, p.debs)
		}
		// the true verdict is taken
		build()
		if err := runCheck(t, h, p, staging, func(lines []string) string { return "move\n" + lines[0] + "\nend\n" }); err != nil {
			t.Fatal(err)
		}
	})
}

// poisonScript is a build that writes into its working copy's .git
// everything that could run at, or change, the next prepare: hooks (in
// hooks/ and through core.hooksPath), an fsmonitor command, a smudge
// filter, a tag v99.0.0, branches shadowing the remote's, a replace ref,
// a graft, a shallow file, an index that hides a changed file. CANARY is
// where anything that runs would write.
const poisonScript = `hook='#!/bin/sh
echo "$0 ran" >>CANARY
echo "# planted" >>build.sh'
mkdir -p .git/hooks .git/myhooks .git/info
for h in post-checkout pre-commit reference-transaction post-merge; do
	printf '%s\n' "$hook" >".git/hooks/$h"
	printf '%s\n' "$hook" >".git/myhooks/$h"
	chmod +x ".git/hooks/$h" ".git/myhooks/$h"
done
git config core.hooksPath "$PWD/.git/myhooks"
git config core.fsmonitor "echo fsmonitor ran >>CANARY; false"
git config filter.evil.smudge "echo smudge ran >>CANARY; echo smudged"
git config filter.evil.required true
echo '* filter=evil' >.git/info/attributes
git tag v99.0.0
one=$(git rev-parse HEAD~1)
git branch -f main "$one"
git update-ref refs/remotes/origin/main "$one"
echo "$one" >.git/shallow
git replace HEAD "$one"
git update-index --assume-unchanged build.sh
echo '# changed by the build' >>build.sh
` + makeDeb

// Nothing a build writes under .git changes the next prepare: no hook or
// command of the working copy runs, the checkout is the commit's tree,
// and the version is the one a fresh working copy gives the commit.
func TestPoisonedWorkingCopy(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		canary := filepath.Join(t.TempDir(), "canary")
		script := strings.ReplaceAll(poisonScript, "CANARY", canary)
		p := newProject(t, h, script)
		p.commit(script+"# two\n", "two")
		co := p.prepare("main")
		var log bytes.Buffer
		res, err := p.build(context.Background(), p.request(co), &log)
		if err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		checkRecorded(t, p.debs, res.Debs)
		if _, err := os.Stat(canary); err != nil {
			t.Fatal("the build did not get its hooks to run once, as a check: the test is broken")
		}
		os.Remove(canary)

		again := p.prepare("main")
		if data, err := os.ReadFile(canary); err == nil {
			t.Errorf("the next prepare ran the build's commands:\n%s", data)
		}
		wc := WorkingCopy(p.wd, "app")
		if got, err := os.ReadFile(filepath.Join(wc, "build.sh")); err != nil || string(got) != script+"# two\n" {
			t.Errorf("build.sh after the prepare is not the commit's: %q", got)
		}
		if again.Commit != co.Commit || again.Version != co.Version || again.Version == "99.0.0" {
			t.Errorf("after the build, prepare gives %s %s; before, %s %s", again.Commit, again.Version, co.Commit, co.Version)
		}
		if tags := git(t, wc, "tag"); tags != "v1.0.0\n" {
			t.Errorf("tags of the working copy: %q", tags)
		}
		if st := git(t, wc, "status", "--porcelain", "--ignored"); st != "" {
			t.Errorf("the working copy is not clean: %q", st)
		}
		// a fresh working copy gives the same version
		fresh, err := Prepare(context.Background(), h.ex, p.wd, "fresh", p.url, "main", "0.0.1", io.Discard)
		if err != nil || fresh.Version != co.Version {
			t.Errorf("a fresh working copy: %v %v, want %s", fresh, err, co.Version)
		}
	})
}

// Tags are exactly the remote's at every prepare: one deleted upstream is
// gone, one added or moved upstream is seen; an old and a fresh working
// copy give a commit the same version.
func TestTagsFollowTheRemote(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		p.commit(makeDeb+"# two\n", "two")
		check := func(want string) {
			t.Helper()
			old := p.prepare("main")
			fresh, err := Prepare(context.Background(), h.ex, t.TempDir(), "app", p.url, "main", "0.0.1", io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(old.Version, want) || old.Version != fresh.Version {
				t.Errorf("old working copy: %s, fresh one: %s, want %s…", old.Version, fresh.Version, want)
			}
		}
		check("1.0.0+1.g")
		git(t, p.url, "tag", "-d", "v1.0.0")
		check("0.0.1+2.g")
		git(t, p.url, "tag", "--no-sign", "v2.0.0", "main~1")
		check("2.0.0+1.g")
		git(t, p.url, "tag", "--no-sign", "-f", "v2.0.0", "main")
		check("2.0.0")
	})
}

// Only regular files are taken: a .deb that is a symbolic link (to a
// file the builder could change later) is refused.
func TestSymlinkedDebRefused(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, `real=$(mktemp -d)
GACHETTE_OUTPUT=$real sh -c '`+strings.ReplaceAll(makeDeb, "'", `'\''`)+`'
ln -s "$real/dh-app_${GACHETTE_VERSION}_all.deb" "$GACHETTE_OUTPUT/"
`)
		co := p.prepare("main")
		_, err := p.build(context.Background(), p.request(co), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "dh-app_"+co.Version+"_all.deb is a symbolic link or not a regular file; only regular files are taken") {
			t.Fatalf("got %v", err)
		}
		checkNoFiles(t, p.debs)
	})
}

// A .deb in the debs path is never replaced by one with other contents;
// the same commit built with the same settings is reused; a failed build
// leaves every file as it was.
func TestDebsNeverReplaced(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		co := p.prepare("main")
		req := p.request(co)
		first, err := p.build(context.Background(), req, io.Discard)
		if err != nil || first.Reused {
			t.Fatal(first, err)
		}
		f := filepath.Join(p.debs, first.Debs[0].Filename)
		sum := fileSHA256(t, f)
		intact := func(what string) {
			t.Helper()
			if got := fileSHA256(t, f); got != sum {
				t.Fatalf("%s: %s changed (SHA-256 %s, was %s)", what, f, got, sum)
			}
			if entries, _ := os.ReadDir(filepath.Join(p.debs, ".gachette", "staging")); len(entries) > 0 {
				t.Fatalf("%s: staging left: %v", what, entries)
			}
		}

		// same commit, same settings: reused, nothing built
		again, err := p.build(context.Background(), req, io.Discard)
		if err != nil || !again.Reused || len(again.Debs) != 1 || again.Debs[0] != first.Debs[0] {
			t.Fatalf("the same build again: %+v %v", again, err)
		}
		intact("reused")

		// other settings, same version, other contents: refused
		other := req
		other.Command = "CONTENT=other sh build.sh"
		_, err = p.build(context.Background(), other, io.Discard)
		want := fmt.Sprintf("%s already exists with SHA-256 %s, and this build made it with SHA-256 ", f, sum)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Bump the version (a new commit or tag) or make the build reproducible") {
			t.Fatalf("a different .deb of the same name: got %v", err)
		}
		intact("refused")

		// other settings, the same contents (a reproducible build): taken
		same := req
		same.Command = "CONTENT=app sh build.sh"
		if res, err := p.build(context.Background(), same, io.Discard); err != nil || res.Reused || res.Debs[0] != first.Debs[0] {
			t.Fatalf("an identical .deb of the same name: %+v %v", res, err)
		}
		intact("identical")

		// a build that fails after writing its .deb
		failing := req
		failing.Command = "CONTENT=failed sh build.sh; exit 3"
		if _, err := p.build(context.Background(), failing, io.Discard); err == nil || !strings.Contains(err.Error(), "command failed: exit status 3") {
			t.Fatalf("a failing build: %v", err)
		}
		intact("failed")

		// a recorded .deb changed in the debs path: not reused, and not
		// replaced either
		if err := os.WriteFile(f, []byte("changed"), 0o644); err != nil {
			t.Fatal(err)
		}
		sum = fileSHA256(t, f)
		var log bytes.Buffer
		if _, err := p.build(context.Background(), req, &log); err == nil || !strings.Contains(err.Error(), "already exists with SHA-256 "+sum) {
			t.Fatalf("a build over a changed .deb: %v", err)
		}
		if !strings.Contains(log.String(), "is not as the build of this commit recorded it; building again") {
			t.Errorf("the build did not say why it did not reuse: %q", log.String())
		}
		intact("changed")
	})
}

// The caller's GIT_* and GACHETTE_* never reach a build's git commands or
// its builder: git --git-dir=STACKS gachette quick leaves STACKS alone.
func TestCleanEnvironment(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		stacks := filepath.Join(t.TempDir(), "stacks.git")
		git(t, ".", "init", "-q", "--bare", stacks)
		before := git(t, stacks, "for-each-ref") + git(t, stacks, "config", "--list", "--local")
		t.Setenv("GIT_DIR", stacks)
		t.Setenv("GIT_WORK_TREE", t.TempDir())
		t.Setenv("GIT_CONFIG_PARAMETERS", "'core.hookspath'='/nonexistent'")
		t.Setenv("GACHETTE_STACKS", stacks)
		p := newProject(t, h, "env | grep -E '^(GIT|GACHETTE)_' | sort >../env.txt\n"+makeDeb)
		co := p.prepare("main")
		if _, err := p.build(context.Background(), p.request(co), io.Discard); err != nil {
			t.Fatal(err)
		}
		t.Setenv("GIT_DIR", "")
		os.Unsetenv("GIT_DIR")
		if after := git(t, stacks, "for-each-ref") + git(t, stacks, "config", "--list", "--local"); after != before {
			t.Errorf("the stacks repository changed:\n%s\n%s", before, after)
		}
		env, err := os.ReadFile(filepath.Join(p.wd, "working_copy", "env.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(env)), "\n") {
			k, _, _ := strings.Cut(l, "=")
			switch {
			case k == "GACHETTE_OUTPUT", k == "GACHETTE_VERSION", k == "GACHETTE_COMMIT", k == "GACHETTE_ARCH":
			case h.name == "ssh" && strings.HasPrefix(k, "GIT_CONFIG_") && !strings.Contains(l, "hookspath"):
				// the build host's own environment (sshd's SetEnv)
			default:
				t.Errorf("the builder saw %s", l)
			}
		}
	})
}

// Cancelling a build (Ctrl-C) stops the builder and everything it
// started, on the host, within seconds; nothing is recorded or left in
// the debs path, and the next build works.
func TestBuildCancelled(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		killLike(t, "sleep 1006.25")
		p := newProject(t, h, "sleep 1006.25 &\n"+makeDeb+"touch ../started\nsleep 1006.25\n")
		co := p.prepare("main")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := p.build(ctx, p.request(co), io.Discard)
			done <- err
		}()
		waitFor(t, filepath.Join(p.wd, "working_copy", "started"))
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("the build went on after it was cancelled")
		}
		t.Logf("cancelled on %s: returned after %s", h.name, time.Since(start).Round(time.Millisecond))
		if left := processesLike("sleep 1006.25"); len(left) > 0 {
			t.Errorf("still running after the build was cancelled: %v", left)
		}
		checkNoFiles(t, p.debs)
		os.Remove(filepath.Join(p.wd, "working_copy", "started"))

		next := p.request(co)
		next.Command = "sh -c \"$(grep -v sleep build.sh)\""
		if res, err := p.build(context.Background(), next, io.Discard); err != nil || len(res.Debs) != 1 {
			t.Fatalf("the next build: %v %v", res, err)
		}
	})
}

// gachette.buildTimeout stops a builder that runs too long, saying so.
func TestBuildTimeout(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		killLike(t, "sleep 1007.25")
		p := newProject(t, h, makeDeb+"sleep 1007.25\n")
		co := p.prepare("main")
		req := p.request(co)
		req.Timeout = time.Second
		_, _, err := p.buildWithin(time.Minute, req, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "stopped after 1s (gachette.buildTimeout): the builder had not finished; nothing was recorded") {
			t.Fatalf("got %v", err)
		}
		if left := processesLike("sleep 1007.25"); len(left) > 0 {
			t.Errorf("still running after the timeout: %v", left)
		}
		checkNoFiles(t, p.debs)
	})
}

// waitFor waits (up to a minute) for a file to exist.
func waitFor(t *testing.T, f string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(f); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear", f)
		}
	}
}

// A prepare cancelled while git waits on the network stops git on the
// host within seconds, and the next prepare does not wait for it.
func TestPrepareCancelled(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() { // a git daemon that never answers
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		url := "git://" + l.Addr().String() + "/never"
		wd := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			_, err := Prepare(ctx, h.ex, wd, "app", url, "main", "0.0.1", io.Discard)
			done <- err
		}()
		for deadline := time.Now().Add(time.Minute); len(processesLike(url)) == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("git clone never started")
			}
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("the prepare went on after it was cancelled")
		}
		for deadline := time.Now().Add(10 * time.Second); len(processesLike(url)) > 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("still running: %v", processesLike(url))
			}
		}
		p := newProject(t, h, makeDeb)
		if _, err := Prepare(context.Background(), h.ex, wd, "app", p.url, "main", "0.0.1", io.Discard); err != nil {
			t.Fatalf("the next prepare: %v", err)
		}
	})
}

// overlapWriter records whether two Writes were ever in progress at once.
type overlapWriter struct {
	inflight, overlaps, writes atomic.Int32
}

func (w *overlapWriter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	if w.inflight.Add(1) > 1 {
		w.overlaps.Add(1)
	}
	time.Sleep(20 * time.Microsecond) // a slow terminal: a wider window
	w.inflight.Add(-1)
	return len(p), nil
}

// noisyHost is an Executor whose scripts print builder output on stdout
// (after "started") while they print on stderr, from two goroutines, as
// an SSH session or a local process does: then fail, so that a build
// stops after its first session.
type noisyHost struct{}

func (noisyHost) Host() string { return "noisy" }
func (noisyHost) Close() error { return nil }
func (noisyHost) Run(ctx context.Context, sc Script) error {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		io.WriteString(sc.Stdout, "started\n")
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(sc.Stdout, "out %d\n", i)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; i < 2000; i++ {
			fmt.Fprintf(sc.Stderr, "err %d\n", i)
		}
	}()
	wg.Wait()
	return &ExitError{Host: "noisy", Status: 1}
}

// Build's log gets one Write at a time, though the builder's output and
// the host script's stderr arrive on goroutines of their own: any
// io.Writer will do.
func TestBuildLogWritesOneAtATime(t *testing.T) {
	r := BuildRequest{Key: "app", Workdir: "/w", DebsPath: "/d", Builder: BuilderCommand, Command: "true", Commit: strings.Repeat("a", 40)}
	var w overlapWriter
	if _, err := Build(context.Background(), noisyHost{}, r, &w); err == nil {
		t.Fatal("the noisy host's build succeeded")
	}
	if n := w.overlaps.Load(); n > 0 {
		t.Errorf("%d Writes to the log overlapped another", n)
	}
	if w.writes.Load() < 4000 {
		t.Errorf("%d Writes to the log, want every line of both streams", w.writes.Load())
	}
}
