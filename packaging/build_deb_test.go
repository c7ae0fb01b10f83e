// Package packaging holds the script that builds the Debian package of
// git-gachette (build-deb.sh) and its test.
package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestBuildDeb builds the package with build-deb.sh, reads its control
// fields and files with dpkg-deb, installs it with dpkg into a throw-away
// root (its own database, no chroot) and checks what is installed: the
// binary runs and says the package's version, man renders the page, and
// git's bash completion finds ours by name in the installed tree.
func TestBuildDeb(t *testing.T) {
	for _, tool := range []string{"go", "git", "dpkg", "dpkg-deb", "gzip", "man", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is required: %v", tool, err)
		}
	}
	tmp := t.TempDir()
	out := run(t, nil, "sh", "build-deb.sh", filepath.Join(tmp, "out"))
	deb := strings.TrimSpace(out)
	arch := strings.TrimSpace(run(t, nil, "dpkg", "--print-architecture"))
	m := regexp.MustCompile(`/git-gachette_([^_/]+)_([^_/]+)\.deb$`).FindStringSubmatch(deb)
	if m == nil || m[2] != arch {
		t.Fatalf("build-deb.sh made %q; want git-gachette_<version>_%s.deb", deb, arch)
	}
	version := m[1]

	// control fields
	for field, want := range map[string]string{
		"Package": "git-gachette", "Version": version, "Architecture": arch, "Depends": "git",
		"Maintainer": "git-gachette developers <dev@gachette.invalid>",
	} {
		if got := strings.TrimSpace(run(t, nil, "dpkg-deb", "-f", deb, field)); got != want {
			t.Errorf("control field %s = %q, want %q", field, got, want)
		}
	}
	if d := run(t, nil, "dpkg-deb", "-f", deb, "Description"); !strings.HasPrefix(d, "record sets of Debian package versions in git") {
		t.Errorf("Description: %q", d)
	}
	run(t, nil, "dpkg", "--validate-version", version)

	// files: owned by root, with their modes
	list := run(t, nil, "dpkg-deb", "-c", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root .* ./usr/bin/git-gachette",
		"-rw-r--r-- root/root .* ./usr/share/man/man1/git-gachette.1.gz",
		"-rw-r--r-- root/root .* ./usr/share/man/man1/git-gachette-stack-add.1.gz",
		"-rw-r--r-- root/root .* ./usr/share/bash-completion/completions/git-gachette",
		"-rw-r--r-- root/root .* ./usr/share/zsh/vendor-completions/_git-gachette",
		"drwxr-xr-x root/root .* ./\n",
	} {
		if !regexp.MustCompile(`(?m)^` + want).MatchString(list) {
			t.Errorf("the package has no line %q:\n%s", want, list)
		}
	}

	// install into a throw-away root with its own dpkg database
	root := filepath.Join(tmp, "root")
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// git is not installed in the throw-away root (--force-depends); what
	// this machine's dpkg configuration may exclude (a container's
	// path-exclude of /usr/share/man) is included again.
	run(t, nil, "dpkg", "--root="+root, "--force-depends", "--path-include=/*", "-i", deb)
	if st := run(t, nil, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "-f=${Status} ${Version}", "git-gachette"); st != "install ok installed "+version {
		t.Errorf("dpkg-query: %q", st)
	}
	installed := strings.Fields(run(t, nil, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-L", "git-gachette"))
	for _, want := range []string{"/usr/bin/git-gachette", "/usr/share/man/man1/git-gachette.1.gz", "/usr/share/bash-completion/completions/git-gachette", "/usr/share/zsh/vendor-completions/_git-gachette"} {
		if !slices.Contains(installed, want) {
			t.Errorf("dpkg -L has no %s: %v", want, installed)
		}
		if _, err := os.Stat(filepath.Join(root, want)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}

	// the binary runs and says the package's version
	bin := filepath.Join(root, "usr/bin/git-gachette")
	if v := run(t, nil, bin, "version"); !strings.HasPrefix(v, "git-gachette "+version+" ") {
		t.Errorf("git-gachette version: %q, want version %s", v, version)
	}

	// man renders the installed page, without a warning
	page := run(t, []string{"MANWIDTH=100", "LC_ALL=C.UTF-8"}, "man", "--warnings", "-l", filepath.Join(root, "usr/share/man/man1/git-gachette.1.gz"))
	for _, want := range []string{"GIT-GACHETTE(1)", "git gachette stack rename OLD NEW", "git-gachette " + version} {
		if !strings.Contains(page, want) {
			t.Errorf("man -l of the installed page shows no %q:\n%s", want, page)
		}
	}

	// git's completion loads ours from the installed tree by its name:
	// git gachette st<TAB> is "stack"
	home := filepath.Join(tmp, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "XDG_DATA_DIRS=" + filepath.Join(root, "usr/share") + ":/usr/share",
		"PATH=" + filepath.Join(root, "usr/bin") + ":" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1"}
	reply := run(t, env, "bash", "-c", `source /usr/share/bash-completion/bash_completion && __load_completion git || exit 1
COMP_WORDS=(git gachette st) COMP_CWORD=2 COMP_LINE="git gachette st" COMP_POINT=15
__git_wrap__git_main git st gachette 2>/dev/null
declare -F _git_gachette >/dev/null || { echo "_git_gachette is not defined" >&2; exit 1; }
printf '%s\n' "${COMPREPLY[@]}"`)
	if reply != "stack\n" {
		t.Errorf("git gachette st<TAB> with the installed completion: %q, want stack", reply)
	}
}

// run runs a command in this directory with env added, and returns its
// standard output; any failure ends the test.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}
