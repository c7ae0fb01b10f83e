package remote

import (
	"context"
	"io"
	"strings"
	"testing"
)

// trebuchet's Built: lines as trebuchet 0.1.1 prints them:
// a Python 2 dict repr, keys in any order, u'…' strings, escapes, "\r".
func TestParseBuiltAsTrebuchetPrintsIt(t *testing.T) {
	want := BuiltLine{Name: "dh-app", Version: "1.0", FileName: "dh-app-1.0-all.deb"}
	for _, line := range []string{
		`Built: {'name': 'dh-app', 'version': '1.0', 'file_name': 'dh-app-1.0-all.deb'}`,
		`Built: {'file_name': 'dh-app-1.0-all.deb', 'name': u'dh-app', 'version': '1.0'}`,
		"Built: {'version': u'1.0', 'file_name': u'dh-app-1.0-all.deb', 'name': u'dh-app'}\r",
		`Built: {"version": "1.0", 'file_name': 'dh-\x61pp-1.0-all.deb', 'name': u'dh-\u0061pp', 'extra': 3}`,
	} {
		if b, ok, err := ParseBuilt(line); !ok || err != nil || b != want {
			t.Errorf("ParseBuilt(%q) = %+v, %v, %v", line, b, ok, err)
		}
	}
	b, ok, err := ParseBuilt(`Built: {'name': "it's", 'version': '', 'file_name': 'a\'b'}`)
	if !ok || err != nil || b != (BuiltLine{Name: "it's", FileName: "a'b"}) {
		t.Errorf("quotes and an empty version: %+v, %v, %v", b, ok, err)
	}
	if _, ok, err := ParseBuilt(`Built: {'name': 'x', 'file_name': 'x.deb'}`); !ok || err == nil {
		t.Error("a Built: line without a version was accepted")
	}
}

// An empty version in a Built: line is the version passed for the
// package's kind: the control file's version must be one of those
// passed, and there must be some.
func TestCheckClaimEmptyVersion(t *testing.T) {
	d := Deb{Name: "dh-env", Version: "2.0", Architecture: "amd64", Filename: "dh-env-2.0-amd64.deb"}
	c := BuiltLine{Name: "dh-env", FileName: d.Filename}
	for _, tc := range []struct {
		versions Versions
		err      string
	}{
		{Versions{App: "1.0", Env: "2.0"}, ""},
		{Versions{App: "1.0"}, "dh-env-2.0-amd64.deb: trebuchet reported no version for dh-env, and its control file says 2.0, which is none of the versions passed; refusing it"},
		{Versions{}, "dh-env-2.0-amd64.deb: trebuchet reported no version for dh-env, and none was passed: give the versions (--app-version, --env-version, --service-version, --static-version)"},
	} {
		err := BuildRequest{Versions: tc.versions}.checkClaim(c, d)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || err.Error() != tc.err) {
			t.Errorf("versions %+v: got %v, want %q", tc.versions, err, tc.err)
		}
	}
}

// The trebuchet stand-in prints keys in changing order and "\r\n" line
// ends: a build reads them, on each host; a package whose version flag
// was not given (built at trebuchet's default 1.0.0, reported empty) is
// refused unless 1.0.0 was passed for another kind.
func TestTrebuchetBuild(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, "")
		missile := "packages:\n  - name: app_config\n  - name: app_env\n    type: env\n    arch: amd64\n  - name: app_svc\n    type: service\n"
		git(t, p.url, "rm", "-q", "build.sh")
		p.commitFile(".missile.yml", missile)
		co := p.prepare("main")
		req := BuildRequest{Key: "app", Workdir: p.wd, DebsPath: p.debs, Builder: BuilderTrebuchet, Trebuchet: trebuchetStandIn(t),
			Missile: ".missile.yml", Arch: "amd64", Versions: Versions{App: co.Version, Env: co.Version, Service: co.Version, Static: co.Version}, Commit: co.Commit}
		res, err := buildKept(context.Background(), h.ex, req, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Debs) != 3 {
			t.Fatalf("recorded %+v", res.Debs)
		}
		checkRecorded(t, p.debs, res.Debs)

		req.Versions = Versions{App: "7.0", Env: "8.0"}
		_, err = buildKept(context.Background(), h.ex, req, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "dh-app-svc-1.0.0-amd64.deb: trebuchet reported no version for dh-app-svc, and its control file says 1.0.0, which is none of the versions passed; refusing it") {
			t.Fatalf("a package without its version: %v", err)
		}
		req.Versions.Service = "1.0.0"
		if _, err := buildKept(context.Background(), h.ex, req, io.Discard); err != nil {
			t.Fatalf("the service version passed as 1.0.0: %v", err)
		}
	})
}
