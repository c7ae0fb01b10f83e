package remote

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// payloads are shell-injection attempts; each names the canary it would
// create. None may ever create it.
func payloads(canary string) []string {
	return []string{
		"$(touch " + canary + ")",
		"`touch " + canary + "`",
		";touch " + canary,
		"x;touch " + canary,
		"x' ; touch " + canary + " ; '",
		`x" ; touch ` + canary + ` ; "`,
		"x\ntouch " + canary,
		"--upload-pack=touch " + canary,
		"--output=" + canary,
		"-x",
		"x|touch " + canary,
		"x&&touch " + canary,
	}
}

// testProject makes a git repository with a missile, prepared as working
// copy "app" under workdir.
func testProject(t *testing.T) (workdir, url string) {
	t.Helper()
	dir := t.TempDir()
	url = filepath.Join(dir, "app")
	workdir = filepath.Join(dir, "wd")
	env := gitEnv()
	for _, args := range [][]string{{"init", "-q", url}, {"-C", url, "add", ".missile.yml"}, {"-C", url, "commit", "-q", "-m", "one"}, {"-C", url, "tag", "--no-sign", "v1.0.0"}} {
		if args[0] == "-C" && args[2] == "add" {
			if err := os.WriteFile(filepath.Join(url, ".missile.yml"), []byte("packages:\n  - name: app\n    arch: all\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		cmd := exec.Command("git", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if _, err := Prepare(context.Background(), Local{}, workdir, "app", url, "v1.0.0", "0.0.1", io.Discard); err != nil {
		t.Fatal(err)
	}
	return workdir, url
}

func trebuchetStandIn(t *testing.T) string {
	p, err := filepath.Abs("../testdata/bin/trebuchet")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInjection runs every payload through every value that reaches the
// build host's shell: KEY, URL, REF, workdir, base version, missile, debs
// path, each version, web callback and extra description. Each run must
// end for the reason the case is about: the value refused by its own check
// (the message names the value), or, where the value may be free text, the
// payload reaching the program as one literal argument. The canary never
// appears.
func TestInjection(t *testing.T) {
	workdir, url := testProject(t)
	canary := filepath.Join(t.TempDir(), "CANARY")
	ctx := context.Background()
	base := BuildRequest{Key: "app", Workdir: workdir, DebsPath: filepath.Join(workdir, "debs"), Builder: BuilderTrebuchet,
		Trebuchet: trebuchetStandIn(t), Missile: ".missile.yml", Arch: "all", Versions: Versions{App: "1.0.0"}}
	// build is a build of r into debs of its own (a literal description
	// makes another .deb than the last run's).
	build := func(r BuildRequest, log io.Writer) error {
		r.DebsPath = filepath.Join(t.TempDir(), "debs")
		_, err := buildKept(ctx, Local{}, r, log)
		return err
	}
	type field struct {
		run func(p string, log io.Writer) error
		// refused is how the value's own check starts its refusal
		refused string
		// literal reports whether the payload, taken as a literal,
		// ended the run as it should (err: the run's error, log: its
		// output); nil: the value must be refused
		literal func(p string, err error, log string) bool
	}
	missing := func(p string, err error, log string) bool {
		return err != nil && strings.Contains(log, "trebuchet: missile file "+p+" not found")
	}
	fields := map[string]field{
		"key": {refused: `working copy key "`, run: func(p string, log io.Writer) error {
			_, err := Prepare(ctx, Local{}, workdir, p, url, "v1.0.0", "0.0.1", log)
			return err
		}},
		"url": {refused: `repository URL "`, run: func(p string, log io.Writer) error {
			_, err := Prepare(ctx, Local{}, workdir, "app2", p, "v1.0.0", "0.0.1", log)
			return err
		}},
		"ref": {refused: `ref "`, run: func(p string, log io.Writer) error {
			_, err := Prepare(ctx, Local{}, workdir, "app", url, p, "0.0.1", log)
			return err
		}},
		"workdir": {refused: `workdir "`, run: func(p string, log io.Writer) error {
			_, err := Prepare(ctx, Local{}, p, "app", url, "v1.0.0", "0.0.1", log)
			return err
		}},
		// v1.0.0 is tagged: the base version is not needed for the
		// version, and is refused all the same
		"base": {refused: `base version `, run: func(p string, log io.Writer) error {
			_, err := Prepare(ctx, Local{}, workdir, "app", url, "v1.0.0", p, log)
			return err
		}},
		"missile": {refused: `missile "`, literal: missing, run: func(p string, log io.Writer) error {
			r := base
			r.Missile = p
			return build(r, log)
		}},
		"debs": {refused: `debs path "`, run: func(p string, log io.Writer) error {
			r := base
			r.DebsPath = p
			_, err := buildKept(ctx, Local{}, r, log)
			return err
		}},
		"arch": {refused: `architecture "`, run: func(p string, log io.Writer) error {
			r := base
			r.Arch = p
			return build(r, log)
		}},
		"app-version": {refused: `--app-version: version "`, run: func(p string, log io.Writer) error {
			r := base
			r.Versions.App = p
			return build(r, log)
		}},
		"env-version": {refused: `--env-version: version "`, run: func(p string, log io.Writer) error {
			r := base
			r.Versions.Env = p
			return build(r, log)
		}},
		"web-callback": {refused: `web callback "`, run: func(p string, log io.Writer) error {
			r := base
			r.WebCallback = p
			return build(r, log)
		}},
		"web-callback-url": {refused: `web callback "https://ci.example.com/`,
			literal: func(p string, err error, log string) bool { return err == nil },
			run: func(p string, log io.Writer) error {
				r := base
				r.WebCallback = "https://ci.example.com/" + p
				return build(r, log)
			}},
		"extra-description": {refused: `extra description "`,
			literal: func(p string, err error, log string) bool { return err == nil },
			run: func(p string, log io.Writer) error {
				r := base
				r.ExtraDescription = p
				return build(r, log)
			}},
		"lint-missile": {refused: `missile "`, literal: missing, run: func(p string, log io.Writer) error {
			_, err := Lint(ctx, Local{}, workdir, "app", base.Trebuchet, p, log)
			return err
		}},
		"trebuchet": {refused: `trebuchet path "`,
			literal: func(p string, err error, log string) bool {
				return err != nil && strings.Contains(err.Error(), "command not found: is trebuchet installed on the build host as "+p+"?")
			},
			run: func(p string, log io.Writer) error {
				_, err := Lint(ctx, Local{}, workdir, "app", p, ".missile.yml", log)
				return err
			}},
	}
	n := 0
	for name, f := range fields {
		for _, p := range payloads(canary) {
			n++
			var log bytes.Buffer
			err := f.run(p, &log)
			if _, statErr := os.Stat(canary); statErr == nil {
				t.Fatalf("%s = %q created the canary (err: %v)", name, p, err)
			}
			switch {
			case err != nil && strings.HasPrefix(err.Error(), f.refused):
			case f.literal != nil && f.literal(p, err, log.String()):
			case err == nil:
				t.Errorf("%s = %q was accepted", name, p)
			default:
				t.Errorf("%s = %q failed, but not as refused (%s…) or as a literal: %v\n%s", name, p, f.refused, err, log.String())
			}
		}
	}
	t.Logf("%d hostile inputs, no canary", n)
}

// FuzzQuote checks that any value, quoted, reaches a command as exactly
// one argument, unchanged.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a b", "it's", `"$(x)"`, "`x`", "a\nb", "\\", "'\\''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // no argument can hold NUL
		}
		out, err := exec.Command("/bin/sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		if string(out) != s {
			t.Fatalf("Quote(%q) reached the command as %q", s, out)
		}
	})
}

// FuzzBuildScript runs the trebuchet command line built from fuzzed values
// (when they pass validation) against a fake trebuchet that records its
// arguments: they must arrive exactly as given, and nothing else may run.
func FuzzBuildScript(f *testing.F) {
	f.Add(".missile.yml", "1.0.0", "https://ci.example.com/x", "nightly build", "all")
	f.Add("$(touch CANARY)", "1.0`id`", "https://x/$(id)", "it's \"quoted\"; rm -rf /", "amd64")
	f.Fuzz(func(t *testing.T, missile, version, callback, extra, arch string) {
		dir := t.TempDir()
		fake := filepath.Join(dir, "trebuchet")
		if err := os.WriteFile(fake, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$(dirname \"$0\")/argv\"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		wd := filepath.Join(dir, "wd")
		if err := os.MkdirAll(filepath.Join(wd, "working_copy", "app"), 0o755); err != nil {
			t.Fatal(err)
		}
		r := BuildRequest{Key: "app", Workdir: wd, DebsPath: filepath.Join(dir, "debs"), Builder: BuilderTrebuchet, Trebuchet: fake,
			Missile: missile, Arch: arch, Versions: Versions{App: version}, WebCallback: callback, ExtraDescription: extra}
		if r.Validate() != nil {
			return
		}
		staging := filepath.Join(dir, "staging")
		cmd := exec.Command("/bin/sh", append([]string{"-c", builderSh, "gachette-builder", staging}, r.builderArgs()...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("script failed: %v\n%s", err, out)
		}
		got, err := os.ReadFile(filepath.Join(dir, "argv"))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"build", missile, "--output", staging}
		if arch != "" { // an empty arch is left out: trebuchet's default applies
			want = append(want, "--arch", arch)
		}
		want = append(want, "--app-version", version)
		if callback != "" { // an empty callback is left out, not passed empty
			want = append(want, "--web-callback", callback)
		}
		if extra != "" {
			want = append(want, "--extra-description", extra)
		}
		if args := strings.Split(strings.TrimSuffix(string(got), "\x00"), "\x00"); strings.Join(args, "\n") != strings.Join(want, "\n") {
			t.Fatalf("trebuchet got %q, want %q", args, want)
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !map[string]bool{"trebuchet": true, "wd": true, "argv": true}[e.Name()] {
				t.Fatalf("the script created %s", e.Name())
			}
		}
	})
}

// FuzzParseBuilt checks the trebuchet output parser never panics, and
// reads back what a Python repr of the values would print.
func FuzzParseBuilt(f *testing.F) {
	f.Add("Built: {'name': 'dh-foo', 'version': '1.0.0', 'file_name': 'dh-foo-1.0.0-all.deb'}")
	f.Add(`Built: {"name": "dh-a", 'version': u'1\'2', 'file_name': 'x\\y', 'n': 3}`)
	f.Add("Built: {'name': 'a\\x41\\u00e9'")
	f.Fuzz(func(t *testing.T, line string) {
		b, ok, err := ParseBuilt(line)
		if !strings.HasPrefix(line, "Built: ") && (ok || err != nil) {
			t.Fatalf("chatter %q read as a Built line", line)
		}
		if err == nil && ok {
			again := "Built: {'name': " + pyRepr(b.Name) + ", 'version': " + pyRepr(b.Version) + ", 'file_name': " + pyRepr(b.FileName) + "}"
			b2, _, err := ParseBuilt(again)
			if err != nil || b2 != b {
				t.Fatalf("round trip of %+v through %q: %+v, %v", b, again, b2, err)
			}
		}
	})
}

func pyRepr(s string) string {
	var b bytes.Buffer
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ { // bytes: s may hold invalid UTF-8
		switch c := s[i]; c {
		case '\\', '\'':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

func TestParseBuiltAndLint(t *testing.T) {
	b, ok, err := ParseBuilt(`Built: {'name': 'dh-foo', 'version': '1.0\'1', 'file_name': "dh-foo-1.0'1-all.deb"}`)
	if !ok || err != nil || b.Name != "dh-foo" || b.Version != "1.0'1" || b.FileName != "dh-foo-1.0'1-all.deb" {
		t.Errorf("ParseBuilt: %+v %v %v", b, ok, err)
	}
	if _, ok, _ := ParseBuilt("building dh-foo"); ok {
		t.Error("chatter read as Built")
	}
	for _, bad := range []string{"Built: {'name': 'x'", "Built: {'name': 'x', 'version': '1'}", "Built: ['x']", "Built: {'name' 'x'}"} {
		if _, ok, err := ParseBuilt(bad); !ok || err == nil {
			t.Errorf("ParseBuilt(%q) accepted", bad)
		}
	}
	names, err := ParseLint("chatter\nPackages to be built: dh-a, dh-b,dh-c\n")
	if err != nil || strings.Join(names, " ") != "dh-a dh-b dh-c" {
		t.Errorf("ParseLint: %v %v", names, err)
	}
	if _, err := ParseLint("nothing"); err == nil {
		t.Error("ParseLint without the line succeeded")
	}
}
