package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec/gittest"
)

// hostileCase is one bad input: the command line, extra environment, and
// what its error must say.
type hostileCase struct {
	name string
	args []string
	env  []string
	want string // regexp the error must match
}

var (
	tenKB      = strings.Repeat("a", 10*1024)
	tenKBDigit = "1." + strings.Repeat("9", 10*1024)
)

func hostileCases(wd string) []hostileCase {
	add := func(name, version, file string, flags ...string) []string {
		return append([]string{"stack", "add", "1", name, version, file}, flags...)
	}
	prepare := func(key, url, ref string) []string { return []string{"-H", "local", "prepare", key, url, ref} }
	const good = "/srv/app.git"
	return []hostileCase{
		// stack names
		{name: "stack: empty", args: []string{"stack", "create", ""}, want: `stack name is empty`},
		{name: "stack: ..", args: []string{"stack", "create", ".."}, want: `stack name ".." is not valid`},
		{name: "stack: @{1}", args: []string{"stack", "create", "@{1}"}, want: `stack name "@\{1\}" is not valid`},
		{name: "stack: @", args: []string{"stack", "create", "@"}, want: `stack name "@" is not valid`},
		{name: "stack: glob *", args: []string{"stack", "create", "a*"}, want: `stack name "a\*" is not valid`},
		{name: "stack: glob ?", args: []string{"stack", "create", "a?"}, want: `stack name "a\?" is not valid`},
		{name: "stack: bracket", args: []string{"stack", "create", "a[b"}, want: `stack name "a\[b" is not valid`},
		{name: "stack: backslash", args: []string{"stack", "create", `a\b`}, want: `stack name "a\\\\b" is not valid`},
		{name: "stack: trailing dot", args: []string{"stack", "create", "a."}, want: `stack name "a." is not valid`},
		{name: "stack: trailing slash", args: []string{"stack", "create", "a/"}, want: `stack name is empty`},
		{name: "stack: leading slash", args: []string{"stack", "create", "/a"}, want: `domain name is empty`},
		{name: "stack: trailing space", args: []string{"stack", "create", "124 "}, want: `stack name "124 " is not valid: a space`},
		{name: "stack: newline", args: []string{"stack", "create", "12\n4"}, want: `stack name "12\\n4" is not valid`},
		{name: "stack: tab", args: []string{"stack", "create", "12\t4"}, want: `stack name "12\\t4" is not valid`},
		{name: "stack: DEL", args: []string{"stack", "create", "12\x7f"}, want: `stack name "12\\x7f" is not valid`},
		{name: "stack: full-width digits", args: []string{"stack", "create", "１２４"}, want: `non-ASCII character .１. \(U\+FF11\)`},
		{name: "stack: Cyrillic look-alike", args: []string{"stack", "create", "tеst"}, want: `non-ASCII character .е. \(U\+0435\)`},
		{name: "stack: zero-width space", args: []string{"stack", "create", "12\u200b4"}, want: `U\+200B`},
		{name: "stack: no-break space", args: []string{"stack", "create", "12\u00a04"}, want: `U\+00A0`},
		{name: "stack: right-to-left override", args: []string{"stack", "create", "1\u202e24"}, want: `U\+202E`},
		{name: "stack: invalid UTF-8", args: []string{"stack", "create", "12\xff"}, want: `stack name "12\\xff" is not valid`},
		{name: "stack: 10 KB", args: []string{"stack", "create", tenKB}, want: `stack name "a{20,}…" is longer than 100 bytes`},
		{name: "stack: show missing", args: []string{"stack", "show", "nosuch"}, want: `stack main/nosuch does not exist`},
		{name: "stack: diff missing", args: []string{"stack", "diff", "1", "nosuch"}, want: `stack main/nosuch does not exist`},
		{name: "stack: --from missing", args: []string{"stack", "create", "9", "--from", "nosuch"}, want: `stack main/nosuch does not exist`},
		{name: "stack: --from 10 KB", args: []string{"stack", "create", "9", "--from", tenKB}, want: `--from: stack name "a{20,}…" is longer than 100 bytes`},
		{name: "stack: add to missing", args: []string{"stack", "add", "nosuch", "dh-x", "1.0", "x.deb"}, want: `stack main/nosuch does not exist`},
		{name: "stack: create existing", args: []string{"stack", "create", "1"}, want: `stack main/1 exists already`},
		{name: "bump: empty", args: []string{"stack", "create", "--bump", ""}, want: `--bump is empty: give major, minor or patch`},

		// domains
		// channel names (envs), and a gate that names no channel
		{name: "channel: ..", args: []string{"promote", "1", ".."}, want: `channel name ".." is not valid`},
		{name: "channel: bidi", args: []string{"promote", "1", "pr\u202eod"}, want: `channel name "pr\\u202eod" is not valid`},
		{name: "channel: ref syntax", args: []string{"rollback", "prod@{1}"}, want: `channel name "prod@\{1\}" is not valid`},
		{name: "channel: show of a path", args: []string{"channel", "show", "../../heads/main"}, want: `channel name "../../heads/main" is not valid`},
		{name: "channel: gate with a slash", args: []string{"promote", "1", "prod"},
			env: []string{"GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=gachette.channel.prod.requires", "GIT_CONFIG_VALUE_0=a/b"}, want: `gachette.channel.prod.requires: channel name "a/b" is not valid`},
		{name: "domain: empty flag", args: []string{"stack", "list", "--domain", ""}, want: `--domain is empty: give it a value`},
		{name: "domain: full-width", args: []string{"stack", "list", "--domain", "ｍａｉｎ"}, want: `domain name "ｍａｉｎ" is not valid: the non-ASCII character`},
		{name: "domain: slash", args: []string{"stack", "list", "--domain", "a/b"}, want: `domain name "a/b" is not valid`},
		{name: "domain: 10 KB", args: []string{"stack", "list", "--domain", tenKB}, want: `domain name "a{20,}…" is longer than 100 bytes`},
		{name: "domain: newline in env", args: []string{"stack", "list"}, env: []string{"GACHETTE_DOMAIN=main\nx"}, want: `domain name "main\\nx" is not valid.*GACHETTE_DOMAIN`},

		// package names
		{name: "package: underscore", args: add("dh_app", "1.0", "x.deb"), want: `package name "dh_app" has the character ._.`},
		{name: "package: umlaut", args: add("dh-äpp", "1.0", "x.deb"), want: `package name "dh-äpp" has the character`},
		{name: "package: Cyrillic look-alike", args: add("dh-аpp", "1.0", "x.deb"), want: `package name "dh-аpp" has the character`},
		{name: "package: newline", args: add("dh-app\nVersion: 9", "1.0", "x.deb"), want: `package name "dh-app\\nVersion: 9" has the character`},
		{name: "package: 10 KB", args: add(tenKB, "1.0", "x.deb"), want: `package name "a{20,}…" is longer than 100 bytes`},
		{name: "package: remove missing", args: []string{"stack", "remove", "1", "dh-nosuch"}, want: `stack main/1 has no package dh-nosuch`},

		// versions
		{name: "version: epoch only", args: add("dh-app", "1:", "x.deb"), want: `version "1:" is not a Debian version`},
		{name: "version: epoch too big", args: add("dh-app", "10000000000:1", "x.deb"), want: `version "10000000000:1" is not a Debian version: the epoch before ':' is too big`},
		{name: "version: empty epoch", args: add("dh-app", ":1.0", "x.deb"), want: `version ":1.0" is not a Debian version`},
		{name: "version: stanza injection", args: add("dh-app", "1.0\nPackage: evil", "x.deb"), want: `version "1.0\\nPackage: evil" has the control character U\+000A`},
		{name: "version: full-width digit", args: add("dh-app", "１.0", "x.deb"), want: `version "１.0" is not a Debian version`},
		{name: "version: trailing newline", args: add("dh-app", "1.0\n", "x.deb"), want: `version "1.0\\n" has surrounding whitespace`},
		{name: "version: 10 KB", args: add("dh-app", tenKBDigit, "x.deb"), want: `version "1.9{20,}…" is longer than 128 bytes`},

		// file names
		{name: "file: absolute", args: add("dh-app", "1.0", "/etc/passwd"), want: `file name "/etc/passwd" must not contain ./.`},
		{name: "file: dot", args: add("dh-app", "1.0", "."), want: `file name "." is not a file name`},
		{name: "file: NUL look-alike U+2400", args: add("dh-app", "1.0", "x\u2400.deb"), want: `file name "x␀.deb" has the non-ASCII character`},
		{name: "file: 10 KB", args: add("dh-app", "1.0", tenKB), want: `file name "a{20,}…" is longer than 255 bytes`},

		// stanza fields given as flags
		{name: "sha256: upper case", args: add("dh-app", "1.0", "x.deb", "--sha256", strings.Repeat("AB", 32)), want: `sha256 "(AB)+" is not 64 lowercase hex digits`},
		{name: "sha256: 63 digits", args: add("dh-app", "1.0", "x.deb", "--sha256", strings.Repeat("a", 63)), want: `is not 64 lowercase hex digits`},
		{name: "size: zero", args: add("dh-app", "1.0", "x.deb", "--size", "0"), want: `size 0 is not the size of a .deb file`},
		{name: "size: overflow", args: add("dh-app", "1.0", "x.deb", "--size", "99999999999999999999"), want: `--size "99999999999999999999" is too large`},
		{name: "arch: two", args: add("dh-app", "1.0", "x.deb", "--arch", "all amd64"), want: `architecture "all amd64" is not a Debian architecture`},
		{name: "arch: newline", args: add("dh-app", "1.0", "x.deb", "--arch", "all\nSize: 1"), want: `architecture "all\\nSize: 1" is not a Debian architecture`},
		{name: "commit: 39 digits", args: add("dh-app", "1.0", "x.deb", "--commit", strings.Repeat("1", 39)), want: `commit "1{39}" is not a full commit id`},
		{name: "commit: upper case", args: add("dh-app", "1.0", "x.deb", "--commit", strings.Repeat("A", 40)), want: `is not a full commit id`},
		{name: "source: colon and newline", args: add("dh-app", "1.0", "x.deb", "--source", "a: b\nc: d"), want: `source .* has the control character U\+000A`},
		{name: "source: 10 KB", args: add("dh-app", "1.0", "x.deb", "--source", tenKB), want: `source "a{20,}…" is longer than 4096 bytes`},
		{name: "ref: newline", args: add("dh-app", "1.0", "x.deb", "--ref", "main\nSHA256: x"), want: `ref .* has the control character U\+000A`},
		{name: "built-on: carriage return", args: add("dh-app", "1.0", "x.deb", "--built-on", "h\rx"), want: `built-on .* has the control character U\+000D`},

		// show formats
		{name: "format: unknown", args: []string{"stack", "show", "1", "--format", "yaml"}, want: `format "yaml" is not one of`},

		// remotes
		{name: "remote: option", args: []string{"push", "--remote", "--upload-pack=touch x"}, want: `is not a remote name, URL or path`},
		{name: "remote: ext transport", args: []string{"push", "--remote", "ext::sh -c touch% x"}, want: `remote "ext::sh -c touch% x" \(from flag --remote\) uses git.s ext:: transport`},
		{name: "remote: fetch ext", args: []string{"fetch", "--remote", "ext::sh -c touch% x"}, want: `remote "ext::sh -c touch% x" \(from flag --remote\) uses git.s ext:: transport`},
		{name: "remote: empty", args: []string{"push", "--remote", ""}, want: `remote`},
		{name: "remote: newline", args: []string{"push", "--remote", "origin\nx"}, want: `origin\\nx`},

		// prepare: keys, URLs, refs (rejected before anything runs)
		{name: "key: space", args: prepare("my app", good, "main"), want: `working copy key "my app" has`},
		{name: "key: dot-dot", args: prepare("..", good, "main"), want: `working copy key ".." must not start with`},
		{name: "key: slash", args: prepare("a/b", good, "main"), want: `working copy key "a/b" has`},
		{name: "key: 10 KB", args: prepare(tenKB, good, "main"), want: `working copy key "a{20,}…" is longer than 100 bytes`},
		{name: "url: ext", args: prepare("app", "ext::sh -c touch% /tmp/pwned", "main"), want: `repository URL "ext::sh -c touch% /tmp/pwned"`},
		{name: "url: option", args: prepare("app", "--upload-pack=touch /tmp/pwned", "main"), want: `unknown flag --upload-pack`},
		{name: "url: newline", args: prepare("app", good+"\nx", "main"), want: `repository URL ".*\\nx" has the control character U\+000A`},
		{name: "url: empty", args: prepare("app", "", "main"), want: `repository URL is empty`},
		{name: "url: 10 KB", args: prepare("app", "/"+tenKB, "main"), want: `repository URL "/a{20,}…" is longer than 2048 bytes`},
		{name: "ref: option", args: prepare("app", good, "--orphan"), want: `unknown flag --orphan`},
		{name: "ref: dot-dot", args: prepare("app", good, "a..b"), want: `ref "a..b" is not a branch, tag or commit`},
		{name: "ref: reflog", args: prepare("app", good, "main@{1}"), want: `ref "main@\{1\}" is not a branch, tag or commit`},
		{name: "ref: space", args: prepare("app", good, "main x"), want: `ref "main x" is not a branch, tag or commit`},
		{name: "ref: 10 KB", args: prepare("app", good, tenKB), want: `ref "a{20,}…" is longer than 255 bytes`},

		// hosts
		{name: "host: empty user", args: []string{"-H", "@h", "prepare", "app", good}, want: `host "@h" has an empty user name`},
		{name: "host: port zero", args: []string{"-H", "h:0", "prepare", "app", good}, want: `port "0" is not between 1 and 65535`},
		{name: "host: full-width", args: []string{"-H", "ｂｕｉｌｄ", "prepare", "app", good}, want: `host "ｂｕｉｌｄ" is not`},
		{name: "host: newline", args: []string{"-H", "h\nx", "prepare", "app", good}, want: `host "h\\nx" is not`},
		{name: "host: 10 KB", args: []string{"-H", tenKB, "prepare", "app", good}, want: `host "a{20,}…" is longer than 255 bytes`},
		{name: "host: list with empty", args: []string{"-H", "local,,local", "prepare", "app", good}, want: `host list "local,,local" \(from flag --host\) has an empty entry`},

		// configuration values
		{name: "config: builder", args: []string{"-H", "local", "build", "app"}, env: []string{"GACHETTE_BUILDER=make"}, want: `builder "make" is not one of trebuchet, dpkg-buildpackage, command \(from environment GACHETTE_BUILDER\)`},
		{name: "config: forwardAgent", args: []string{"-H", "local", "prepare", "app", good}, env: []string{"GACHETTE_FORWARD_AGENT=maybe"}, want: `gachette.forwardAgent = "maybe" \(from environment GACHETTE_FORWARD_AGENT\) is not a boolean`},
		{name: "config: workdir relative", args: []string{"-H", "local", "prepare", "app", good}, env: []string{"GACHETTE_WORKDIR=rel/wd"}, want: `workdir "rel/wd" must be an absolute path on the build host \(from environment GACHETTE_WORKDIR\)`},
		{name: "config: workdir newline", args: []string{"-H", "local", "prepare", "app", good}, env: []string{"GACHETTE_WORKDIR=" + wd + "\nx"}, want: `workdir ".*\\nx" has the control character U\+000A.*\(from environment GACHETTE_WORKDIR\)`},
		{name: "config: debs path 10 KB", args: []string{"-H", "local", "build", "app"}, env: []string{"GACHETTE_DEBS_PATH=/" + tenKB}, want: `debs path "/a{20,}…" is longer than 1024 bytes \(from environment GACHETTE_DEBS_PATH\)`},
		{name: "config: stacks missing", args: []string{"stack", "list"}, env: []string{"GACHETTE_STACKS=/nonexistent/stacks.git"}, want: `/nonexistent/stacks.git`},
		{name: "config: base version", args: []string{"-H", "local", "quick", "app", "--stack", "1"}, env: []string{"GACHETTE_BASE_VERSION=abc"}, want: `base version.*"abc" is not a Debian version.*\(from environment GACHETTE_BASE_VERSION\)`},
		{name: "config: base version too long", args: []string{"-H", "local", "quick", "app", "--stack", "1"}, env: []string{"GACHETTE_BASE_VERSION=" + strings.Repeat("1", 100)}, want: `base version \(gachette.baseVersion\) "1{20,}…" is longer than 96 bytes.*\(from environment GACHETTE_BASE_VERSION\)`},
		{name: "config: command builder, no command", args: []string{"-H", "local", "build", "app"}, env: []string{"GACHETTE_BUILDER=command", "GACHETTE_BUILD_COMMAND= "}, want: `the command builder needs a command: git config gachette.buildCommand 'make deb' \(from environment GACHETTE_BUILD_COMMAND\)`},
		{name: "config: host", args: []string{"prepare", "app", good}, env: []string{"GACHETTE_HOST=-oProxyCommand=touch x"}, want: `host "-oProxyCommand=touch x" is not .*\(from environment GACHETTE_HOST\)`},
		{name: "config: trebuchet path", args: []string{"-H", "local", "build", "app"}, env: []string{"GACHETTE_TREBUCHET=/usr/bin/treb\nuchet"}, want: `trebuchet path ".*\\nuchet" has the control character U\+000A.*\(from environment GACHETTE_TREBUCHET\)`},
		{name: "quick: unknown project", args: []string{"-H", "local", "quick", "nosuch", "--stack", "1"}, want: `project nosuch.*gachette.project.nosuch.url`},
		{name: "quick: project key look-alike", args: []string{"-H", "local", "quick", "аpp", "--stack", "1"}, want: `working copy key "аpp" has`},
	}
}

// TestHostileInputs feeds every argument and configuration value bad
// input — names, versions, refs, URLs, paths, domains, hosts, stanza fields
// with newlines or colons, Unicode look-alikes, 10 KB values — and checks
// each gets a short error naming it, a non-zero exit, and changes nothing:
// same refs, same objects, no lock, nothing made on the build host.
// (NUL bytes cannot be in arguments or the environment; they are covered
// where they can arrive: stanzas and the builder's output, by the fuzz
// targets and the corrupt-repository tests.)
func TestHostileInputs(t *testing.T) {
	bin, err := exec.LookPath("git-gachette")
	if err != nil {
		t.Fatalf("git-gachette is not on PATH (testscript.Main puts it there): %v", err)
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	stacks := filepath.Join(dir, "stacks.git")
	wd := filepath.Join(dir, "wd")
	if err := gittest.WriteHome(home, "R", "r@example.com", "[gachette \"project.app\"]\n\turl = /srv/app.git\n"); err != nil {
		t.Fatal(err)
	}
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM=1", "GORACE=" + raceOptions(), "GACHETTE_STACKS=" + stacks,
		"GACHETTE_WORKDIR=" + wd, "GACHETTE_DEBS_PATH=" + filepath.Join(dir, "debs")}
	run := func(extra []string, args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env, cmd.Dir = append(append([]string{}, env...), extra...), dir
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stderr.String(), code
	}
	for _, setup := range [][]string{{"init", stacks}, {"stack", "create", "1"}, {"stack", "add", "1", "dh-app", "1.0", "dh-app_1.0_all.deb"}} {
		if out, code := run(nil, setup...); code != 0 {
			t.Fatalf("%v: %s", setup, out)
		}
	}
	state := func() string {
		var b strings.Builder
		for _, args := range [][]string{{"for-each-ref"}, {"count-objects", "-v"}, {"config", "--list", "--local"}} {
			out, err := exec.Command("git", append([]string{"-C", stacks}, args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("git %v: %v\n%s", args, err, out)
			}
			b.Write(out)
		}
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && (strings.HasSuffix(p, ".lock") || p == wd || filepath.Base(p) == "x" || filepath.Base(p) == "pwned") {
				b.WriteString("left behind: " + p + "\n")
			}
			return nil
		})
		return b.String()
	}
	before := state()
	cases := hostileCases(wd)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, code := run(c.env, c.args...)
			t.Logf("exit %d: %s", code, out)
			if code == 0 {
				t.Fatalf("accepted; stderr:\n%.400s", out)
			}
			if !strings.HasPrefix(out, "git-gachette: ") || strings.Contains(out, "panic") || strings.Contains(out, "%!") {
				t.Errorf("not one clear error (exit %d):\n%s", code, out)
			}
			if len(out) > 2000 {
				t.Errorf("the error is %d bytes long: values must be shortened in messages:\n%.300s…", len(out), out)
			}
			if !regexp.MustCompile(c.want).MatchString(out) {
				t.Errorf("error does not match %q:\n%.400s", c.want, out)
			}
			if after := state(); after != before {
				before = after // report each change once
				t.Fatalf("something changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	t.Logf("%d hostile inputs", len(cases))
}
