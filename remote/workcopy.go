package remote

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ops-hero/git-gachette/semverx"
)

// Checkout is a working copy prepared at a commit.
type Checkout struct {
	Key     string
	URL     string
	Ref     string
	Dir     string // on the build host
	Commit  string // full commit id
	Version string // package version from the commit (semverx.CommitVersion)
}

// WorkingCopy is the directory of a working copy on the build host.
func WorkingCopy(workdir, key string) string {
	return strings.TrimSuffix(workdir, "/") + "/working_copy/" + key
}

// Exit statuses of the prepare script, so that a failure names its step.
const (
	prepClone     = 10
	prepFetch     = 11
	prepRef       = 12
	prepCheckout  = 13
	prepSubmodule = 14
	prepLock      = 15
	prepLockBusy  = 16
)

// prepareScript clones (into a temporary name, renamed when complete, so
// an interrupted clone is never mistaken for a working copy) or fetches,
// resolves REF, checks the commit out (forced, detached), cleans, updates
// submodules, and prints "commit", "describe" and "count" lines. All of
// git's own output goes to stderr.
//
// It holds the working copy's lock (lockLines) throughout.
func prepareScript(workdir, key, url, ref string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wc=%s\nurl=%s\nref=%s\n", Quote(WorkingCopy(workdir, key)), Quote(url), Quote(ref))
	b.WriteString(`exec 3>&1 1>&2
mkdir -p -- "$(dirname -- "$wc")" || exit ` + strconv.Itoa(prepClone) + `
if [ -d "$wc/.git" ]; then
	git -C "$wc" config remote.origin.url "$url" &&
	git -C "$wc" -c fetch.writeCommitGraph=true fetch --quiet --prune --force --tags origin '+refs/heads/*:refs/remotes/origin/*' || exit ` + strconv.Itoa(prepFetch) + `
else
	rm -rf -- "$wc.tmp" &&
	git clone --quiet --no-checkout -- "$url" "$wc.tmp" &&
	git -C "$wc.tmp" commit-graph write --reachable --no-progress &&
	mv -- "$wc.tmp" "$wc" || { rm -rf -- "$wc.tmp"; exit ` + strconv.Itoa(prepClone) + `; }
fi
commit=
for cand in "refs/remotes/origin/$ref" "refs/remotes/$ref" "refs/tags/$ref"; do
	commit=$(git -C "$wc" rev-parse --verify --quiet "$cand^{commit}") && break
	commit=
done
if [ -z "$commit" ]; then
	case $ref in
	*[!0-9a-f]*) ;;
	*) [ ${#ref} -ge 4 ] && commit=$(git -C "$wc" rev-parse --verify --quiet "$ref^{commit}") || commit= ;;
	esac
fi
[ -n "$commit" ] || exit ` + strconv.Itoa(prepRef) + `
git -C "$wc" checkout --quiet --force --detach "$commit" &&
git -C "$wc" clean -ffdxq || exit ` + strconv.Itoa(prepCheckout) + `
if [ -f "$wc/.gitmodules" ]; then
	git -C "$wc" submodule --quiet sync --recursive &&
	git -C "$wc" submodule --quiet update --init --recursive --force &&
	git -C "$wc" submodule --quiet foreach --recursive 'git clean -ffdxq' || exit ` + strconv.Itoa(prepSubmodule) + `
fi
` + describeLines + "\n")
	return lockLines(WorkingCopyLock(workdir, key), key, "exit "+strconv.Itoa(prepLock), "exit "+strconv.Itoa(prepLockBusy)) + locked(b.String())
}

// describeLines prints what versions a commit ($commit in working copy
// $wc), on fd 3: "commit", "describe" and "count" lines. The commit count
// (a walk of the whole history) is only needed when no tag matches; the
// working copy's commit-graph (written at clone, kept up by fetch) makes
// both walks cheap on long histories.
var describeLines = func() string {
	match := ""
	for _, m := range semverx.DescribeMatch {
		match += " --match " + Quote(m)
	}
	return `echo "commit $commit" >&3
describe=$(git -C "$wc" describe --tags --long` + match + ` "$commit" 2>/dev/null) || describe=
echo "describe $describe" >&3
if [ -n "$describe" ]; then echo "count 0" >&3; else echo "count $(git -C "$wc" rev-list --count "$commit")" >&3; fi`
}()

// CheckPrepare checks prepare's arguments, as Prepare does before it runs
// anything; an empty ref is the default (HEAD).
func CheckPrepare(workdir, key, url, ref string) error {
	checks := []error{CheckHostPath("workdir", workdir), CheckKey(key), CheckURL(url)}
	if ref != "" {
		checks = append(checks, CheckRef(ref))
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

// Prepare makes the working copy KEY of URL at REF on the build host and
// computes the package version of its commit. Git's output goes to log.
func Prepare(ctx context.Context, ex Executor, workdir, key, url, ref, baseVersion string, log io.Writer) (*Checkout, error) {
	if ref == "" {
		ref = "HEAD"
	}
	if err := CheckPrepare(workdir, key, url, ref); err != nil {
		return nil, err
	}
	co := &Checkout{Key: key, URL: url, Ref: ref, Dir: WorkingCopy(workdir, key)}
	var out bytes.Buffer
	err := ex.Run(ctx, prepareScript(workdir, key, url, ref), nil, &out, log)
	what := fmt.Sprintf("prepare %s (%s at %s) on %s", key, url, ref, ex.Host())
	var ee *ExitError
	if errors.As(err, &ee) && ee.Signal == "" {
		switch ee.Status {
		case prepClone:
			return nil, fmt.Errorf("%s: git clone failed (see its message above); check the URL and that the build host can reach it", what)
		case prepFetch:
			return nil, fmt.Errorf("%s: git fetch failed in %s (see its message above)", what, co.Dir)
		case prepRef:
			return nil, fmt.Errorf("%s: no branch, tag or commit %q in %s", what, ref, url)
		case prepCheckout:
			return nil, fmt.Errorf("%s: checkout failed in %s (see its message above)", what, co.Dir)
		case prepSubmodule:
			return nil, fmt.Errorf("%s: submodule update failed (see its message above)", what)
		case prepLock:
			return nil, lockFailed(what, workdir, key)
		case prepLockBusy:
			return nil, lockBusy(what, workdir, key)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if co.Commit, co.Version, err = readDescribe(out.String(), baseVersion); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return co, nil
}

// readDescribe turns the lines of describeLines into the commit and its
// package version.
func readDescribe(out, baseVersion string) (commit, version string, err error) {
	var describe string
	count := -1
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		switch k {
		case "commit":
			commit = v
		case "describe":
			describe = v
		case "count":
			count, _ = strconv.Atoi(v)
		}
	}
	if len(commit) != 40 && len(commit) != 64 || count < 0 {
		return "", "", fmt.Errorf("unexpected answer from the build host: %q", out)
	}
	version, err = semverx.CommitVersion(describe, count, commit, baseVersion)
	return commit, version, err
}

// exitNoWorkingCopy is the status of Describe's script when the working
// copy has not been prepared.
const exitNoWorkingCopy = 3

// requireWorkingCopy is the script line that ends with exitNoWorkingCopy
// when the working copy dir has not been prepared.
func requireWorkingCopy(dir string) string {
	return "[ -d " + Quote(dir+"/.git") + " ] || exit " + strconv.Itoa(exitNoWorkingCopy) + "\n"
}

// noWorkingCopy is the error for a script that ended with
// exitNoWorkingCopy, else nil.
func noWorkingCopy(err error, key, host, dir string) error {
	var ee *ExitError
	if errors.As(err, &ee) && ee.Signal == "" && ee.Status == exitNoWorkingCopy {
		return fmt.Errorf("no working copy of %s on %s (%s): make it first with: git gachette prepare %s URL [REF]", key, host, dir, key)
	}
	return nil
}

// Describe reads the commit a prepared working copy is at, and its
// package version.
func Describe(ctx context.Context, ex Executor, workdir, key, baseVersion string, log io.Writer) (*Checkout, error) {
	if err := CheckHostPath("workdir", workdir); err != nil {
		return nil, err
	}
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	co := &Checkout{Key: key, Dir: WorkingCopy(workdir, key)}
	script := requireWorkingCopy(co.Dir) + "exec 3>&1 1>&2\nwc=" + Quote(co.Dir) + "\n" +
		`commit=$(git -C "$wc" rev-parse --verify HEAD)` + "\n" + describeLines + "\n"
	var out bytes.Buffer
	if err := ex.Run(ctx, script, nil, &out, log); err != nil {
		if e := noWorkingCopy(err, key, ex.Host(), co.Dir); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("working copy %s on %s: %w", key, ex.Host(), err)
	}
	var err error
	if co.Commit, co.Version, err = readDescribe(out.String(), baseVersion); err != nil {
		return nil, fmt.Errorf("working copy %s on %s: %w", key, ex.Host(), err)
	}
	return co, nil
}
