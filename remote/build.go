package remote

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/ops-hero/git-gachette/semverx"
)

// The builders (gachette.builder).
const (
	BuilderTrebuchet = "trebuchet"
	BuilderDpkg      = "dpkg-buildpackage"
	BuilderCommand   = "command"
)

// Versions are the versions passed to trebuchet (SPEC §7).
type Versions struct {
	App, Env, Service, Static string
}

// BuildRequest is one build in a prepared working copy.
type BuildRequest struct {
	Key      string
	Workdir  string
	DebsPath string
	Builder  string
	// Trebuchet is the trebuchet executable on the host (gachette.trebuchet).
	Trebuchet string
	// Command is the shell command of the command builder (gachette.buildCommand).
	Command          string
	Missile          string
	Arch             string
	Versions         Versions
	Commit           string
	WebCallback      string
	ExtraDescription string
}

// Deb is a package built and checked on the host.
type Deb struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	Architecture string `json:"architecture"`
	Filename     string `json:"filename"`
	SHA256       string `json:"sha256"`
	Size         int64  `json:"size"`
}

// validate checks every value that will reach the host's shell.
func (r BuildRequest) validate() error {
	checks := []error{CheckKey(r.Key), CheckHostPath("workdir", r.Workdir), CheckHostPath("debs path", r.DebsPath)}
	switch r.Builder {
	case BuilderTrebuchet:
		checks = append(checks, CheckTrebuchetPath(r.Trebuchet), CheckRelPath("missile", r.Missile))
		if r.WebCallback != "" {
			checks = append(checks, CheckCallbackURL(r.WebCallback))
		}
		checks = append(checks, CheckText("extra description", r.ExtraDescription))
	case BuilderDpkg:
	case BuilderCommand:
		checks = append(checks, CheckBuildCommand(r.Builder, r.Command))
	default:
		return CheckBuilder(r.Builder)
	}
	if r.Arch != "" {
		checks = append(checks, checkArch(r.Arch))
	}
	for _, v := range []struct{ flag, v string }{{"app-version", r.Versions.App}, {"env-version", r.Versions.Env}, {"service-version", r.Versions.Service}, {"static-version", r.Versions.Static}} {
		if v.v != "" {
			if err := semverx.CheckDebianVersion(v.v); err != nil {
				checks = append(checks, fmt.Errorf("--%s: %w", v.flag, err))
			}
		}
	}
	if r.Commit != "" && (len(r.Commit) < 7 || strings.Trim(r.Commit, "0123456789abcdef") != "") {
		checks = append(checks, fmt.Errorf("commit %q is not a commit id", r.Commit))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// CheckBuilder checks a gachette.builder value.
func CheckBuilder(b string) error {
	switch b {
	case BuilderTrebuchet, BuilderDpkg, BuilderCommand:
		return nil
	}
	return fmt.Errorf("builder %q is not one of trebuchet, dpkg-buildpackage, command", semverx.Shorten(b))
}

// CheckArch checks a Debian architecture name (all, amd64, arm64, ...).
func CheckArch(a string) error { return checkArch(a) }

// CheckBuildCommand checks gachette.buildCommand: the command builder
// needs one; the other builders do not use it.
func CheckBuildCommand(builder, command string) error {
	if builder == BuilderCommand && strings.TrimSpace(command) == "" {
		return fmt.Errorf("the command builder needs a command: git config gachette.buildCommand 'make deb'")
	}
	return nil
}

// CheckTrebuchetPath checks the path of trebuchet on the build host.
func CheckTrebuchetPath(p string) error { return checkLine("trebuchet path", p, 1024) }

func checkArch(a string) error {
	if a == "" || len(a) > 64 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || a[0] == '-' {
		return fmt.Errorf("architecture %q is not a Debian architecture (e.g. all, amd64)", semverx.Shorten(a))
	}
	return nil
}

// buildScript is the shell script that runs the builder in the working
// copy, with its output (the .debs) in staging. It is exported to tests
// through BuildScript.
func (r BuildRequest) buildScript(staging string) string {
	wc := WorkingCopy(r.Workdir, r.Key)
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\nmkdir -p -- %s\ncd -- %s\n", Quote(staging), Quote(wc))
	switch r.Builder {
	case BuilderTrebuchet:
		args := []string{Quote(r.Trebuchet), "build", Quote(r.Missile), "--output", Quote(staging)}
		if r.Arch != "" {
			args = append(args, "--arch", Quote(r.Arch))
		}
		for _, v := range []struct{ flag, v string }{{"--app-version", r.Versions.App}, {"--env-version", r.Versions.Env}, {"--service-version", r.Versions.Service}, {"--static-version", r.Versions.Static}} {
			if v.v != "" {
				args = append(args, v.flag, Quote(v.v))
			}
		}
		if r.WebCallback != "" {
			args = append(args, "--web-callback", Quote(r.WebCallback))
		}
		if r.ExtraDescription != "" {
			args = append(args, "--extra-description", Quote(r.ExtraDescription))
		}
		b.WriteString(strings.Join(args, " ") + "\n")
	case BuilderDpkg:
		// The package is versioned from the commit like the other builders:
		// a changelog entry for the computed version goes on top (the next
		// prepare's checkout -f and clean -ffdx undo it). The .changes file
		// is found by its name, <source>_<version>_<host arch>.changes, not
		// by time, so concurrent builds in the same workdir do not mix; the
		// .debs it lists are moved to staging.
		b.WriteString(`[ -f debian/changelog ] || { echo "gachette: the working copy has no debian/changelog: is it a Debian source package? (else use another gachette.builder)" >&2; exit 1; }
`)
		if v := r.Versions.App; v != "" {
			fmt.Fprintf(&b, `src=$(dpkg-parsechangelog -S Source)
{ printf '%%s (%%s) UNRELEASED; urgency=medium\n\n  * Built by git-gachette from commit %%s.\n\n -- git-gachette <git-gachette@localhost>  %%s\n\n' "$src" %s %s "$(date -R)"; cat debian/changelog; } > debian/changelog.gachette
mv -f debian/changelog.gachette debian/changelog
`, Quote(v), Quote(r.Commit))
		}
		b.WriteString(`dpkg-buildpackage -b -us -uc >&2
src=$(dpkg-parsechangelog -S Source) ver=$(dpkg-parsechangelog -S Version)
base=../${src}_${ver#*:}_$(dpkg-architecture -qDEB_HOST_ARCH)
[ -f "$base.changes" ] || { echo "gachette: dpkg-buildpackage wrote no $base.changes" >&2; exit 1; }
for f in $(sed -n '/^Files:/,/^[^ ]/s/^ .* \([^ ]*\.deb\)$/\1/p' "$base.changes"); do mv -- "../$f" ` + Quote(staging) + `/; done
rm -f -- "$base.changes" "$base.buildinfo"
`)
	case BuilderCommand:
		fmt.Fprintf(&b, "GACHETTE_OUTPUT=%s GACHETTE_VERSION=%s GACHETTE_COMMIT=%s GACHETTE_ARCH=%s\nexport GACHETTE_OUTPUT GACHETTE_VERSION GACHETTE_COMMIT GACHETTE_ARCH\n/bin/sh -c %s\n",
			Quote(staging), Quote(r.Versions.App), Quote(r.Commit), Quote(r.Arch), Quote(r.Command))
	}
	return b.String()
}

// Markers between the parts of the build session's output; each build
// adds a random suffix, so that the builder's own output cannot fake them.
const (
	markCheck    = "@@gachette-check-"
	markNoDebs   = "@@gachette-nodebs-"
	markMoved    = "@@gachette-moved-"
	markLock     = "@@gachette-lock-"
	markLockBusy = "@@gachette-lock-busy-"
	markMoves    = "@@gachette-wc-moved-" // followed by " <commit at HEAD>"
)

// sessionScript is the whole build in one session: the builder, then the
// check of every .deb in staging (file, Package, Version, Architecture
// from dpkg-deb, SHA-256 and size, tab-separated, between two markCheck
// lines), then it waits for the verdict on stdin: "move", the file names,
// "end". Anything else — another answer, EOF because the caller died or
// the connection dropped — and the staging directory is removed by the
// EXIT trap, so a failed build never leaves anything behind on the host.
func (r BuildRequest) sessionScript(staging, nonce string) string {
	debs := strings.TrimSuffix(r.DebsPath, "/")
	return "staging=" + Quote(staging) + " debs=" + Quote(debs) + `
trap 'rm -rf -- "$staging"' EXIT
trap 'exit 129' HUP INT PIPE TERM
if ! { mkdir -p -- "$debs" && [ -d "$debs" ] && [ -w "$debs" ] && mkdir -p -- "$staging"; } >&2; then
	echo ` + markNoDebs + nonce + `
	exit 1
fi
` + lockLines(WorkingCopyLock(r.Workdir, r.Key), r.Key, "{ echo "+markLock+nonce+"; exit 1; }", "{ echo "+markLockBusy+nonce+"; exit 1; }") + r.checkHead(nonce) +
		locked(r.buildScript(staging)) + `rc=$?
exec 9>&-
[ $rc -eq 0 ] || exit $rc
echo ` + markCheck + nonce + `
cd -- "$staging"
for f in *.deb; do
	[ -f "$f" ] || continue
	fields=$(dpkg-deb --showformat='${Package}\t${Version}\t${Architecture}' --show -- "$f")
	sum=$(sha256sum -- "$f")
	printf '%s\t%s\t%s\t%s\n' "$f" "$fields" "${sum%% *}" "$(stat -c %s -- "$f")"
done
echo ` + markCheck + nonce + `
read -r verdict || exit 1
[ "$verdict" = move ] || exit 1
f=
while read -r f; do
	[ "$f" = end ] && break
	case $f in */*|.*|'') echo "gachette: bad file name $f" >&2; exit 1 ;; esac
	mv -f -- "$staging/$f" "$debs/$f"
done
[ "$f" = end ] || exit 1
echo ` + markMoved + nonce + `
`
}

// checkHead makes the session stop, before the builder runs, when the
// working copy is no longer at the commit the build was asked for: another
// prepare moved it between this build's prepare (or describe) and its
// lock.
func (r BuildRequest) checkHead(nonce string) string {
	if r.Commit == "" {
		return ""
	}
	return "head=$(git -C " + Quote(WorkingCopy(r.Workdir, r.Key)) + ` rev-parse --verify --quiet HEAD 2>/dev/null) || head=
case $head in ` + r.Commit + `*) ;; *) echo ` + markMoves + nonce + ` "$head"; exit 1 ;; esac
`
}

// Build runs the builder in the prepared working copy, then checks every
// .deb on the host: name, version and architecture from its control file
// must match what the builder claimed (its Built: lines, or the file name),
// and the SHA-256 and size are recorded. Checked .debs are moved to the
// debs path. All of it is one session: the script waits on stdin for the
// verdict; on any failure the staging directory is removed, so nothing
// half-built is left for the next run.
func Build(ctx context.Context, ex Executor, r BuildRequest, stdout, stderr io.Writer) ([]Deb, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	nonce := randomSuffix()
	staging := strings.TrimSuffix(r.DebsPath, "/") + "/.gachette-" + r.Key + "-" + nonce
	what := fmt.Sprintf("build %s on %s", r.Key, ex.Host())

	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := ex.Run(ctx, r.sessionScript(staging, nonce), stdinR, outW, stderr)
		outW.Close()
		done <- err
	}()
	// The session's output: the builder's (streamed, and kept for its
	// Built: lines), the check lines, then the moved marker.
	var builderOut, list bytes.Buffer
	part, moved, noDebs := 0, false, false
	var debs []Deb
	var verdictErr, lockErr error
	sc := bufio.NewScanner(outR)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == markCheck+nonce && part < 2:
			part++
			if part < 2 {
				continue
			}
			debs, verdictErr = r.verdict(builderOut.String(), list.String())
			if verdictErr != nil {
				stdinW.Close() // EOF: the script removes staging
				continue
			}
			var v strings.Builder
			v.WriteString("move\n")
			for _, d := range debs {
				v.WriteString(d.Filename + "\n")
			}
			v.WriteString("end\n")
			go func() { io.WriteString(stdinW, v.String()) }()
		case line == markNoDebs+nonce && part == 0:
			noDebs = true
		case line == markLockBusy+nonce && part == 0:
			lockErr = lockBusy(what, r.Workdir, r.Key)
		case line == markLock+nonce && part == 0:
			lockErr = lockFailed(what, r.Workdir, r.Key)
		case strings.HasPrefix(line, markMoves+nonce+" ") && part == 0:
			head := strings.TrimPrefix(line, markMoves+nonce+" ")
			if head == "" {
				lockErr = fmt.Errorf("%s: the working copy %s is gone; prepare it again", what, WorkingCopy(r.Workdir, r.Key))
			} else {
				lockErr = fmt.Errorf("%s: the working copy is at %s, not at %s: %w; run again (git gachette quick, or prepare then build)", what, head, r.Commit, ErrWorkingCopyMoved)
			}
		case line == markMoved+nonce && part == 2:
			moved = true
		case part == 0:
			builderOut.WriteString(line + "\n")
			fmt.Fprintln(stdout, line)
		case part == 1:
			list.WriteString(line + "\n")
		}
	}
	stdinW.Close()
	io.Copy(io.Discard, outR)
	err := <-done
	switch {
	case lockErr != nil:
		return nil, lockErr
	case noDebs:
		return nil, fmt.Errorf("%s: the debs path %s is not a directory the build user can write (see the message above); set gachette.debsPath or fix it on the host", what, r.DebsPath)
	case part == 0 && err != nil:
		return nil, fmt.Errorf("%s: %s failed: %w%s%s", what, r.Builder, err, signalHint(err), r.notFoundHint(err))
	case part < 2 && err != nil:
		return nil, fmt.Errorf("%s: checking the .debs: %w", what, err)
	case verdictErr != nil:
		return nil, fmt.Errorf("%s: %w", what, verdictErr)
	case err != nil || !moved:
		if err == nil {
			err = errors.New("the session ended before the .debs were moved")
		}
		return nil, fmt.Errorf("%s: moving the .debs to %s: %w", what, r.DebsPath, err)
	}
	return debs, nil
}

// verdict reads the builder's claims from its output and compares them
// with the check lines.
func (r BuildRequest) verdict(builderOut, list string) ([]Deb, error) {
	claims := map[string]BuiltLine{}
	if r.Builder == BuilderTrebuchet {
		sc := bufio.NewScanner(strings.NewReader(builderOut))
		sc.Buffer(make([]byte, 64*1024), 1<<20)
		for sc.Scan() {
			b, ok, err := ParseBuilt(sc.Text())
			if err != nil {
				return nil, err
			}
			if ok {
				claims[b.FileName] = b
			}
		}
		if len(claims) == 0 {
			return nil, errors.New(`trebuchet printed no "Built:" line; nothing was built`)
		}
	}
	debs, err := checkDebs(list, claims, r.Builder == BuilderTrebuchet)
	if err != nil {
		return nil, err
	}
	if len(debs) == 0 {
		return nil, errors.New("the builder made no .deb file")
	}
	return debs, nil
}

// checkDebs compares what dpkg-deb read from each .deb with the claim: a
// trebuchet Built: line, else the Debian file name <name>_<version>_<arch>.deb.
func checkDebs(list string, claims map[string]BuiltLine, trebuchet bool) ([]Deb, error) {
	var debs []Deb
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 6 {
			return nil, fmt.Errorf("unexpected .deb check output %q", line)
		}
		size, err := strconv.ParseInt(f[5], 10, 64)
		if err != nil || len(f[4]) != 64 {
			return nil, fmt.Errorf("unexpected .deb check output %q", line)
		}
		d := Deb{Filename: f[0], Name: f[1], Version: f[2], Architecture: f[3], SHA256: f[4], Size: size}
		if trebuchet {
			c, ok := claims[d.Filename]
			if !ok {
				continue // not ours: trebuchet did not report it
			}
			if c.Name != d.Name || c.Version != d.Version {
				return nil, fmt.Errorf("%s: trebuchet said %s %s, but its control file says %s %s; refusing it", d.Filename, c.Name, c.Version, d.Name, d.Version)
			}
			want := c.Name + "-" + c.Version + "-" + d.Architecture + ".deb"
			if d.Filename != want {
				return nil, fmt.Errorf("%s: its control file says architecture %s (so %s); refusing it", d.Filename, d.Architecture, want)
			}
			seen[d.Filename] = true
		} else {
			want := d.Name + "_" + noEpoch(d.Version) + "_" + d.Architecture + ".deb"
			if d.Filename != want {
				return nil, fmt.Errorf("%s: its control file says %s %s %s, so it should be named %s; refusing it", d.Filename, d.Name, d.Version, d.Architecture, want)
			}
		}
		if err := semverx.CheckPackageName(d.Name); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Filename, err)
		}
		if err := semverx.CheckDebianVersion(d.Version); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Filename, err)
		}
		debs = append(debs, d)
	}
	for name := range claims {
		if !seen[name] {
			return nil, fmt.Errorf("trebuchet reported %s, but there is no such file in its output", name)
		}
	}
	return debs, nil
}

func noEpoch(v string) string {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		return v[i+1:]
	}
	return v
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Lint runs trebuchet lint in the working copy and returns the packages
// the build would make.
func Lint(ctx context.Context, ex Executor, workdir, key, trebuchet, missile string, stderr io.Writer) ([]string, error) {
	for _, err := range []error{CheckHostPath("workdir", workdir), CheckKey(key), CheckTrebuchetPath(trebuchet), CheckRelPath("missile", missile)} {
		if err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	wc := WorkingCopy(workdir, key)
	script := requireWorkingCopy(wc) + "cd -- " + Quote(wc) + " && " + Quote(trebuchet) + " lint " + Quote(missile)
	if err := ex.Run(ctx, script, nil, &out, stderr); err != nil {
		if e := noWorkingCopy(err, key, ex.Host(), wc); e != nil {
			return nil, e
		}
		r := BuildRequest{Builder: BuilderTrebuchet, Trebuchet: trebuchet}
		return nil, fmt.Errorf("lint %s on %s: %w%s", key, ex.Host(), err, r.notFoundHint(err))
	}
	return ParseLint(out.String())
}

// notFoundHint explains exit status 127, the shell's "command not found".
func (r BuildRequest) notFoundHint(err error) string {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != "" || ee.Status != 127 {
		return ""
	}
	switch r.Builder {
	case BuilderTrebuchet:
		return fmt.Sprintf(" (command not found: is trebuchet installed on the build host as %s? set gachette.trebuchet to its path)", r.Trebuchet)
	case BuilderDpkg:
		return " (command not found: install dpkg-dev and the package's build dependencies on the build host)"
	}
	return " (a command was not found on the build host; see its message above)"
}

// signalHint explains a builder's exit status above 128: the shell that ran
// it reports a command killed by signal N as 128+N.
func signalHint(err error) string {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != "" || ee.Status <= 128 || ee.Status > 128+64 {
		return ""
	}
	name := unix.SignalName(syscall.Signal(ee.Status - 128))
	if name == "" {
		return ""
	}
	return fmt.Sprintf(" (killed by signal %s: out of memory, a timeout, or someone on the host?)", strings.TrimPrefix(name, "SIG"))
}
