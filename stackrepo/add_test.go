package stackrepo

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// makeDeb builds name_version_arch.deb in dir with dpkg-deb.
func makeDeb(t *testing.T, dir, name, version, arch string) string {
	t.Helper()
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Fatal("dpkg-deb is required for this test: apt-get install dpkg")
	}
	root := filepath.Join(t.TempDir(), "root")
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	control := "Package: " + name + "\nVersion: " + version + "\nArchitecture: " + arch + "\nMaintainer: Rel Eng <releng@example.com>\nSource: " + name + "-src\nDescription: test\n"
	if err := os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(control), 0o644); err != nil {
		t.Fatal(err)
	}
	v := version
	if _, after, ok := strings.Cut(v, ":"); ok {
		v = after
	}
	deb := filepath.Join(dir, name+"_"+v+"_"+arch+".deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "--build", root, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	return deb
}

func writeFile(t *testing.T, file, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, file string) (string, int64) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), int64(len(data))
}

func TestReadDeb(t *testing.T) {
	dir := t.TempDir()
	deb := makeDeb(t, dir, "dh-app", "1:2.0-1", "amd64")
	p, err := ReadDeb(deb)
	if err != nil {
		t.Fatal(err)
	}
	sum, size := fileSum(t, deb)
	want := Package{Name: "dh-app", Version: "1:2.0-1", Architecture: "amd64", Filename: "dh-app_2.0-1_amd64.deb", SHA256: sum, Size: size}
	if p != want {
		t.Errorf("ReadDeb = %+v\nwant %+v", p, want)
	}

	// every bad input is named, with what is wrong with it
	notDeb := filepath.Join(dir, "notes.deb")
	writeFile(t, notDeb, "Package: dh-app\n")
	noVersion := filepath.Join(dir, "nov")
	writeFile(t, filepath.Join(noVersion, "DEBIAN", "control"), "Package: dh-nov\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: x\n")
	// dpkg-deb refuses to build it; a .deb can still be made by hand
	buildNoCheck := func(root, out string) string {
		if b, err := exec.Command("dpkg-deb", "--nocheck", "--root-owner-group", "--build", root, out).CombinedOutput(); err != nil {
			t.Fatalf("dpkg-deb: %v\n%s", err, b)
		}
		return out
	}
	badName := filepath.Join(dir, "badname")
	writeFile(t, filepath.Join(badName, "DEBIAN", "control"), "Package: DH_App\nVersion: 1.0\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: x\n")
	noArch := filepath.Join(dir, "noarch")
	writeFile(t, filepath.Join(noArch, "DEBIAN", "control"), "Package: dh-noarch\nVersion: 1.0\nMaintainer: x <x@example.com>\nDescription: x\n")
	link := filepath.Join(dir, "link.deb")
	if err := os.Symlink(deb, link); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	copyAs := func(name string, data []byte) string {
		writeFile(t, filepath.Join(dir, name), string(data))
		return filepath.Join(dir, name)
	}
	// the epoch written %3a (as apt names files), or a file not named
	// the Debian way: read
	for _, ok := range []string{copyAs("dh-app_1%3a2.0-1_amd64.deb", data), copyAs("app.deb", data), copyAs("dh-app_2.0-1_amd64_x.deb", data)} {
		if p, err := ReadDeb(ok); err != nil || p.Filename != filepath.Base(ok) {
			t.Errorf("ReadDeb(%s) = %+v, %v", ok, p, err)
		}
	}
	for _, c := range []struct{ file, want string }{
		{link, "link.deb: is a symbolic link (to " + deb + "): give the file itself, whose name is recorded as Filename"},
		{buildNoCheck(noArch, filepath.Join(dir, "noarch.deb")), "noarch.deb: its control file has no Architecture field"},
		{copyAs("dh-app_2.0-2_amd64.deb", data), "dh-app_2.0-2_amd64.deb: its file name says dh-app 2.0-2 amd64, its control file dh-app 1:2.0-1 amd64"},
		{copyAs("dh-app_2.0-1_all.deb", data), "its file name says dh-app 2.0-1 all, its control file dh-app 1:2.0-1 amd64"},
		{copyAs("dh-ap_2.0-1_amd64.deb", data), "its file name says dh-ap 2.0-1 amd64"},
		{copyAs("cut500.deb", data[:500]), "cut500.deb: it is cut short"},
		{copyAs("nodata.deb", data[:bytes.Index(data, []byte("data.tar"))]), "nodata.deb: not a Debian package: it has no data.tar member"},
		{filepath.Join(dir, "nope.deb"), "nope.deb: no such file"},
		{dir, ": is a directory, not a .deb file"},
		{notDeb, "notes.deb: not a Debian package"},
		{buildNoCheck(noVersion, filepath.Join(dir, "nov.deb")), "nov.deb: its control file has no Version field"},
		{buildNoCheck(badName, filepath.Join(dir, "badname.deb")), `badname.deb: its control file: package name "DH_App" has the character 'D'`},
	} {
		_, err := ReadDeb(c.file)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReadDeb(%s): %v, want %q", c.file, err, c.want)
		}
	}
	// a file that cannot be opened (as root too: a path through a file)
	if _, err := ReadDeb(filepath.Join(notDeb, "x.deb")); err == nil || !strings.Contains(err.Error(), "notes.deb/x.deb: cannot read it: not a directory") {
		t.Errorf("an unreadable path: %v", err)
	}
}

func TestEntriesRefuse(t *testing.T) {
	for _, c := range []struct {
		req  AddRequest
		want string
	}{
		{AddRequest{Packages: []Package{{Name: "dh-app", Version: "1.0", Filename: "dh-app_1.0_all.deb", Architecture: "amd64"}}},
			"architecture amd64 conflicts with the file name dh-app_1.0_all.deb, which says all"},
		{AddRequest{Packages: []Package{{Name: "dh-app", Version: "1.0", Filename: "a.deb"}}, Source: "https://deploy:s3cret@example.com/x.git"},
			"--source https://example.com/x.git (user name and password left out here) carries a password: give the URL without credentials"},
		{AddRequest{Debs: []string{"x.deb"}, Source: "git:s3cret@example.com:x.git"}, "--source example.com:x.git (user name and password left out here)"},
		{AddRequest{Index: "-", Source: "ssh://git:s3cret@example.com:2222/x.git"}, "--source ssh://example.com:2222/x.git"},
	} {
		_, err := c.req.Entries()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.req, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the password is printed: %v", err)
		}
	}
	for _, ok := range []string{"https://deploy@example.com/x.git", "git@github.com:ops/x.git", "https://example.com/a@b:c", "github.com:ops/x@y:z.git", ""} {
		if err := CheckSourceURL(ok); err != nil {
			t.Errorf("CheckSourceURL(%q): %v", ok, err)
		}
	}
	// the architecture the name gives, or the same one given
	pkgs, err := AddRequest{Packages: []Package{{Name: "dh-app", Version: "1.0", Filename: "dh-app_1.0_all.deb", Architecture: "all"}}}.Entries()
	if err != nil || pkgs[0].Architecture != "all" {
		t.Errorf("Entries = %+v, %v", pkgs, err)
	}
}

func TestReadPackagesIndex(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	text := "Package: dh-app\nVersion: 2.1.0\nArchitecture: all\nMaintainer: x <x@example.com>\n" +
		"Filename: pool/main/d/dh-app/dh-app_2.1.0_all.deb\nSize: 2368\nMD5sum: 00\nSHA256: " + sum + "\nSource: dh-app-src (2.1)\nDescription: app\n more\n\n" +
		"Package: dh-config\nVersion: 1.0\nFilename: ./dh-config_1.0_all.deb\n"
	pkgs, err := ReadPackagesIndex(strings.NewReader(text), "Packages")
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Name: "dh-app", Version: "2.1.0", Architecture: "all", Filename: "dh-app_2.1.0_all.deb", SHA256: sum, Size: 2368},
		{Name: "dh-config", Version: "1.0", Filename: "dh-config_1.0_all.deb"},
	}
	if !reflect.DeepEqual(pkgs, want) {
		t.Errorf("ReadPackagesIndex = %+v\nwant %+v", pkgs, want)
	}

	bad := "Package: dh-a\nVersion: 1.0\nFilename: dh-a_1.0_all.deb\n\n" + // line 1
		"Package: dh-b\nFilename: dh-b.deb\n\n" + // line 5
		"Package: dh-c\nVersion: abc\nFilename: dh-c.deb\n\n" + // line 8
		"Package: dh-a\nVersion: 2.0\nFilename: dh-a_2.0_all.deb\n\n" + // line 12
		"Package: dh-d\nVersion: 1\nFilename: pool/\n\n" + // line 16
		"Package: dh-e\nVersion: 1\nFilename: e.deb\nSize: 0\n\n" + // line 20
		"Package: dh-f\nVersion: 1\nFilename: f.deb\nSHA256: XYZ\n\n" + // line 25
		"Version: 1\nFilename: g.deb\n\n" + // line 30
		"Package: dh-g\nVersion: 1\nFilename: g.deb\nSHA256: XYZ\nSize: -5\n" // line 33
	_, err = ReadPackagesIndex(strings.NewReader(bad), "Packages")
	if err == nil {
		t.Fatal("a bad index was read")
	}
	for _, w := range []string{
		"Packages line 5 (dh-b): no Version field",
		`Packages line 9 (dh-c): version "abc" is not a Debian version`,
		"Packages line 12 (dh-a): package dh-a is given a second time (first at line 1)",
		`Packages line 18 (dh-d): the Filename "pool/" names a directory`,
		`Packages line 23 (dh-e): the Size "0" is not a positive number`,
		`Packages line 28 (dh-f): sha256 "XYZ" is not 64 lowercase hex digits`,
		"Packages line 30: no Package field",
		// every problem of a stanza, each at its line
		`Packages line 36 (dh-g): sha256 "XYZ" is not 64 lowercase hex digits`,
		`Packages line 37 (dh-g): the Size "-5" is not a positive number`,
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the error does not say %q:\n%v", w, err)
		}
	}
	if strings.Contains(err.Error(), "line 1 ") {
		t.Errorf("the good stanza is named:\n%v", err)
	}

	for _, c := range []struct{ text, want string }{
		{"", "Packages has no package stanza"},
		{"Package: dh-a\n continued\nbroken\n", `Packages line 3: "broken" is not "Field: value"`},
		{strings.Repeat("Package: x\n\n", 30), "and 70 more problems"},
		{"\x1f\x8b\x08\x00\x00\x00", "Packages is gzip-compressed: decompress it first (zcat Packages | git gachette stack add STACK --packages -)"},
		{"\xfd7zXZ\x00\x00", "Packages is xz-compressed"},
		{"\x28\xb5\x2f\xfd\x00", "Packages is zstd-compressed"},
	} {
		if _, err := ReadPackagesIndex(strings.NewReader(c.text), "Packages"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text[:min(len(c.text), 40)], err, c.want)
		}
	}
}

func TestAddPackages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		s := id("main/1.6.0")
		must[*Result](t)(r.Create(s, nil, testIdent))
		dir := t.TempDir()
		worker := makeDeb(t, dir, "dh-worker", "1.0", "amd64")
		web := makeDeb(t, dir, "dh-web", "2.0", "all")

		// .debs: one commit, fields read from the files
		res := must[*Result](t)(r.AddPackages(s, AddRequest{Debs: []string{worker, web}, Source: "git@example.com:w.git"}, testIdent))
		if res.Subject != "main/1.6.0: add 2 packages" || len(res.Packages) != 2 || len(res.Replaced) != 0 {
			t.Errorf("result %+v", res)
		}
		st := must[*Stack](t)(r.Stack(s))
		got := must[[]Package](t)(r.Packages(st))
		sum, size := fileSum(t, worker)
		if w := (Package{Name: "dh-worker", Version: "1.0", Architecture: "amd64", Filename: filepath.Base(worker), SHA256: sum, Size: size, Source: "git@example.com:w.git"}); got[1] != w {
			t.Errorf("dh-worker recorded as %+v, want %+v", got[1], w)
		}

		// what quick records: full provenance
		full := got[1]
		full.Commit, full.BuiltOn = strings.Repeat("1a", 20), "hero@build1"
		res = must[*Result](t)(r.Add(s, []Package{full}, testIdent))
		if res.Subject != "main/1.6.0: add dh-worker 1.0 (was 1.0): Commit, Built-On added" {
			t.Errorf("subject %q", res.Subject)
		}

		// re-adding by hand without the provenance: refused, naming it
		hand := AddRequest{Packages: []Package{{Name: "dh-worker", Version: "1.0", Filename: "dh-worker_1.0_amd64.deb"}}}
		_, err := r.AddPackages(s, hand, testIdent)
		var sv *SameVersionError
		if !errors.As(err, &sv) || !strings.Contains(err.Error(), "stack main/1.6.0 records more of dh-worker 1.0 (SHA256, Size, Source, Commit, Built-On) than this entry says") {
			t.Fatalf("a re-add that drops provenance: %v", err)
		}
		if now := must[*Stack](t)(r.Stack(s)); now.Commit != res.Commit {
			t.Fatal("a refused add wrote")
		}
		// the architecture came from the file name: it is not dropped
		if !reflect.DeepEqual(sv.Entries[0].Removed, []string{"SHA256", "Size", "Source", "Commit", "Built-On"}) {
			t.Errorf("removed %v", sv.Entries[0].Removed)
		}

		// --replace: recorded, and the message names what went
		hand.Replace = true
		res = must[*Result](t)(r.AddPackages(s, hand, testIdent))
		if res.Subject != "main/1.6.0: add dh-worker 1.0 (was 1.0): SHA256, Size, Source, Commit, Built-On removed" || res.Body != "" {
			t.Errorf("subject %q body %q", res.Subject, res.Body)
		}
		if len(res.Replaced) != 1 || !reflect.DeepEqual(res.Replaced[0].Removed, []string{"SHA256", "Size", "Source", "Commit", "Built-On"}) {
			t.Errorf("replaced %+v", res.Replaced)
		}

		// another version: allowed; the subject says the version, the body the fields
		res = must[*Result](t)(r.AddPackages(s, AddRequest{Debs: []string{makeDeb(t, dir, "dh-web", "2.1", "amd64")}}, testIdent))
		// (the two .debs may have the same size)
		body := "dh-web 2.1 (was 2.0): Architecture, Filename, SHA256 changed; Source removed"
		if res.Replaced[0].Changed[len(res.Replaced[0].Changed)-1] == "Size" {
			body = "dh-web 2.1 (was 2.0): Architecture, Filename, SHA256, Size changed; Source removed"
		}
		if res.Subject != "main/1.6.0: add dh-web 2.1 (was 2.0)" || res.Body != body {
			t.Errorf("subject %q body %q", res.Subject, res.Body)
		}
		msg := must[*Stack](t)(r.Stack(s))
		if c, err := r.readCommit(msg.Commit); err != nil || !strings.Contains(c.Message, "\n\n"+body+"\n\nGachette-Stack:") {
			t.Errorf("commit message %q (%v)", c.Message, err)
		}

		// several: one commit, a line each
		res = must[*Result](t)(r.AddPackages(s, AddRequest{Packages: []Package{
			{Name: "dh-web", Version: "2.2", Filename: "dh-web_2.2_all.deb"},
			{Name: "dh-new", Version: "0.1", Filename: "dh-new.deb"},
		}}, testIdent))
		if res.Subject != "main/1.6.0: add 2 packages" || res.Body != "  dh-web 2.2 (was 2.1): Architecture, Filename changed; SHA256, Size removed\n  dh-new 0.1" {
			t.Errorf("subject %q body %q", res.Subject, res.Body)
		}

		// one form at a time; bad inputs all named
		if _, err := r.AddPackages(s, AddRequest{Debs: []string{web}, Index: "Packages"}, testIdent); err == nil || !strings.Contains(err.Error(), "give the packages one way") {
			t.Errorf("two forms: %v", err)
		}
		_, err = r.AddPackages(s, AddRequest{Debs: []string{filepath.Join(dir, "a.deb"), web, filepath.Join(dir, "b.deb"), web}}, testIdent)
		for _, w := range []string{"a.deb: no such file", "b.deb: no such file", "package dh-web is given twice"} {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("bad .debs: %v, want %q", err, w)
			}
		}
		_, err = r.AddPackages(s, AddRequest{Packages: []Package{{Name: "dh-x", Version: "1", Filename: "out/dh-x_1_all.deb"}}}, testIdent)
		if err == nil || !strings.Contains(err.Error(), "or give the .deb file alone after the stack") {
			t.Errorf("a path as FILE: %v", err)
		}
	})
}

// FuzzReadPackagesIndex checks that an index never panics the reader,
// and that every entry it accepts is one a stack can record.
func FuzzReadPackagesIndex(f *testing.F) {
	f.Add("Package: dh-app\nVersion: 1.0\nArchitecture: all\nFilename: pool/main/d/dh-app_1.0_all.deb\nSize: 10\nSHA256: " + strings.Repeat("ab", 32) + "\n\nPackage: dh-b\nVersion: 2\nFilename: b.deb\n")
	f.Add("Package: a\n continued\n\n\nPackage: a\nVersion: 1\nFilename: ../\n")
	f.Add("Package: dh-a\nVersion: 1\nFilename: /\n")
	f.Add("Package: dh-a\nVersion: 1\nFilename: a\\b.deb\nSize: 1e3\n")
	f.Fuzz(func(t *testing.T, text string) {
		pkgs, err := ReadPackagesIndex(strings.NewReader(text), "Packages")
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if err := p.Validate(); err != nil {
				t.Fatalf("accepted %+v from %q but Validate says %v", p, text, err)
			}
		}
	})
}

func TestMergeEntries(t *testing.T) {
	e := func(names ...string) []object.TreeEntry {
		var out []object.TreeEntry
		for _, n := range names {
			out = append(out, object.TreeEntry{Name: n, Hash: plumbing.ComputeHash(plumbing.BlobObject, []byte(n+"@"+strings.Join(names, ",")))})
		}
		return out
	}
	old := e("dh-b", "dh-d", "dh-f")
	added := e("dh-a", "dh-d", "dh-e", "dh-g")
	got := mergeEntries(old, added)
	var names []string
	for _, x := range got {
		names = append(names, x.Name)
	}
	if strings.Join(names, " ") != "dh-a dh-b dh-d dh-e dh-f dh-g" {
		t.Fatalf("merged %v", names)
	}
	if got[2] != added[1] || got[1] != old[0] || got[4] != old[2] {
		t.Errorf("the added entry does not replace the old one of its name: %v", got)
	}
	if len(mergeEntries(nil, nil)) != 0 || len(mergeEntries(old, nil)) != 3 || len(mergeEntries(nil, added)) != 4 {
		t.Error("empty sides")
	}
}
