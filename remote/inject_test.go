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
	for _, args := range [][]string{{"init", "-q", url}, {"-C", url, "add", ".missile.yml"}, {"-C", url, "commit", "-q", "-m", "one"}, {"-C", url, "tag", "v1.0.0"}} {
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
// build host's shell: KEY, URL, REF, workdir, missile, debs path, each
// version, web callback and extra description. Each run ends in a clear
// error or a harmless literal; the canary never appears.
func TestInjection(t *testing.T) {
	workdir, url := testProject(t)
	canary := filepath.Join(t.TempDir(), "CANARY")
	ctx := context.Background()
	base := BuildRequest{Key: "app", Workdir: workdir, DebsPath: filepath.Join(workdir, "debs"), Builder: BuilderTrebuchet,
		Trebuchet: trebuchetStandIn(t), Missile: ".missile.yml", Arch: "all", Versions: Versions{App: "1.0.0"}}
	fields := map[string]func(p string) error{
		"key": func(p string) error {
			_, err := Prepare(ctx, Local{}, workdir, p, url, "v1.0.0", "0.0.1", io.Discard)
			return err
		},
		"url": func(p string) error {
			_, err := Prepare(ctx, Local{}, workdir, "app2", p, "v1.0.0", "0.0.1", io.Discard)
			return err
		},
		"ref": func(p string) error {
			_, err := Prepare(ctx, Local{}, workdir, "app", url, p, "0.0.1", io.Discard)
			return err
		},
		"workdir": func(p string) error {
			_, err := Prepare(ctx, Local{}, p, "app", url, "v1.0.0", "0.0.1", io.Discard)
			return err
		},
		"base": func(p string) error {
			_, err := Prepare(ctx, Local{}, workdir, "app", url, "main", p, io.Discard)
			return err
		},
		"missile": func(p string) error {
			r := base
			r.Missile = p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"debs": func(p string) error {
			r := base
			r.DebsPath = p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"arch": func(p string) error {
			r := base
			r.Arch = p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"app-version": func(p string) error {
			r := base
			r.Versions.App = p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"env-version": func(p string) error {
			r := base
			r.Versions.Env = p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"web-callback": func(p string) error {
			r := base
			r.WebCallback = p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"web-callback-url": func(p string) error {
			r := base
			r.WebCallback = "https://ci.example.com/" + p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"extra-description": func(p string) error {
			r := base
			r.ExtraDescription = p
			_, err := buildKept(ctx, Local{}, r, io.Discard)
			return err
		},
		"lint-missile": func(p string) error {
			_, err := Lint(ctx, Local{}, workdir, "app", base.Trebuchet, p, io.Discard)
			return err
		},
		"trebuchet": func(p string) error {
			_, err := Lint(ctx, Local{}, workdir, "app", p, ".missile.yml", io.Discard)
			return err
		},
	}
	n := 0
	for name, run := range fields {
		for _, p := range payloads(canary) {
			n++
			err := run(p)
			if _, statErr := os.Stat(canary); statErr == nil {
				t.Fatalf("%s = %q created the canary (err: %v)", name, p, err)
			}
			// free text and a URL's path may carry the payload as a literal
			if err == nil && name != "extra-description" && name != "web-callback-url" {
				t.Errorf("%s = %q was accepted", name, p)
			}
			if err != nil && strings.TrimSpace(err.Error()) == "" {
				t.Errorf("%s = %q: empty error", name, p)
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
