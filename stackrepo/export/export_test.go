package export

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo"
)

var origin = Origin{Stack: stackrepo.StackID{Domain: "backend", Name: "124"}, Commit: "0123456789abcdef0123456789abcdef01234567"}

var pkgs = []stackrepo.Package{
	{Name: "dh-app", Version: "1:2.1.0~rc1+3.g1a2b3c4", Filename: "dh-app_2.1.0_all.deb", Architecture: "all"},
	{Name: "dh-app-config", Version: "1.0", Filename: "dh-app-config_1.0_all.deb"},
}

func render(t *testing.T, format string, o Origin, p []stackrepo.Package) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, format, o, p); err != nil {
		t.Fatalf("Render %s: %v", format, err)
	}
	return b.String()
}

func TestRender(t *testing.T) {
	for _, c := range []struct {
		format string
		o      Origin
		pkgs   []stackrepo.Package
		want   string
	}{
		{"apt", origin, pkgs, "dh-app=1:2.1.0~rc1+3.g1a2b3c4\ndh-app-config=1.0\n"},
		{"apt", origin, nil, ""},
		{"apt-pin", origin, pkgs, `# git gachette: stack backend/124 (commit 0123456789abcdef0123456789abcdef01234567)
# Pin-Priority 1001: apt installs these versions even over newer ones, so a rollback downgrades.

Package: dh-app
Pin: version 1:2.1.0~rc1+3.g1a2b3c4
Pin-Priority: 1001

Package: dh-app-config
Pin: version 1.0
Pin-Priority: 1001
`},
		{"ansible", Origin{Stack: origin.Stack, Channel: "backend/prod"}, pkgs, `# git gachette: channel backend/prod runs stack backend/124
# ansible.builtin.apt: name: "{{ gachette_packages }}", with allow_downgrade: true so a rollback downgrades.
---
gachette_stack: "backend/124"
gachette_channel: "backend/prod"
gachette_packages:
  - "dh-app=1:2.1.0~rc1+3.g1a2b3c4"
  - "dh-app-config=1.0"
`},
		{"ansible", origin, nil, `# git gachette: stack backend/124 (commit 0123456789abcdef0123456789abcdef01234567)
# ansible.builtin.apt: name: "{{ gachette_packages }}", with allow_downgrade: true so a rollback downgrades.
---
gachette_stack: "backend/124"
gachette_commit: "0123456789abcdef0123456789abcdef01234567"
gachette_packages: []
`},
		{"puppet", origin, pkgs, `# git gachette: stack backend/124 (commit 0123456789abcdef0123456789abcdef01234567)
package { 'dh-app': ensure => '1:2.1.0~rc1+3.g1a2b3c4' }
package { 'dh-app-config': ensure => '1.0' }
`},
		{"control", origin, pkgs, "Package: dh-app\nVersion: 1:2.1.0~rc1+3.g1a2b3c4\nArchitecture: all\nFilename: dh-app_2.1.0_all.deb\n\nPackage: dh-app-config\nVersion: 1.0\nFilename: dh-app-config_1.0_all.deb\n"},
	} {
		if got := render(t, c.format, c.o, c.pkgs); got != c.want {
			t.Errorf("%s of %d packages:\n%s\nwant:\n%s", c.format, len(c.pkgs), got, c.want)
		}
	}
}

// TestRenderRefuses: what cannot be written faithfully is an error
// naming it, and nothing is written.
func TestRenderRefuses(t *testing.T) {
	for _, c := range []struct {
		format string
		o      Origin
		pkgs   []stackrepo.Package
		want   string
	}{
		{"yaml", origin, pkgs, `export format "yaml" is not one of apt, apt-pin, ansible, puppet, control`},
		{"apt-pin", origin, []stackrepo.Package{pkgs[0], {Name: "dh-app\nPin: version 9", Version: "1"}}, `backend/124 cannot be exported as apt-pin: package name "dh-app\nPin: version 9" has`},
		{"puppet", origin, []stackrepo.Package{{Name: "dh-app", Version: "1' }\nexec { 'x"}}, `backend/124 cannot be exported as puppet: package dh-app: `},
		{"ansible", origin, []stackrepo.Package{{Name: "dh-app", Version: "{{ lookup('pipe','id') }}"}}, `backend/124 cannot be exported as ansible: package dh-app: `},
		{"ansible", Origin{Stack: stackrepo.StackID{Domain: "backend", Name: "{{x}}"}}, nil, `stack name "{{x}}" is not valid`},
		{"puppet", Origin{Stack: origin.Stack, Commit: "abc\n"}, nil, `commit "abc\n" of stack backend/124 is not a hexadecimal object name`},
		{"apt", Origin{Stack: origin.Stack, Channel: "prod"}, nil, `channel "prod" is not <domain>/<env>`},
	} {
		var b bytes.Buffer
		err := Render(&b, c.format, c.o, c.pkgs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got error %v, want one containing %q", c.format, err, c.want)
		}
		if b.Len() > 0 {
			t.Errorf("%s: wrote %q before failing", c.format, b.String())
		}
	}
}

// hostile are strings each quoting must carry through unchanged.
var hostile = []string{
	"plain", "it's", `a\`, `\'`, `\\'`, `"`, `a"b\"c`, "two\nlines", "tab\there", "cr\r",
	"{{ lookup('pipe', 'id') }}", "${facts}", "$x", "#not a comment", "key: value", "- item", "[1, 2]",
	"&anchor", "*alias", "!tag", "%", "@", "`", "yes", "null", "~", "1e3", "0x1f", "",
	"é", "\u2028", "\u0085", "\x7f", "\x1b[31m", "\u202e", "😀", "\ufeff",
}

// TestYAMLQuote reads yamlQuote's strings back with PyYAML, the reader
// Ansible uses.
func TestYAMLQuote(t *testing.T) {
	var doc strings.Builder
	for _, s := range append(hostile, "\x00", "bad\xffutf8") {
		doc.WriteString("- " + yamlQuote(s) + "\n")
	}
	cmd := exec.Command("/usr/bin/python3", "-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)")
	cmd.Stdin = strings.NewReader(doc.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PyYAML (apt-get install python3-yaml) on\n%s: %v", doc.String(), err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{}, hostile...), "\x00", "bad\ufffdutf8")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PyYAML read\n%q\nwant\n%q", got, want)
	}
}

// TestPuppetQuote reads puppetQuote's strings back with Puppet's own
// parser (puppet parser dump), as package titles and ensure values.
func TestPuppetQuote(t *testing.T) {
	var ps []stackrepo.Package
	for i := 0; i+1 < len(hostile); i += 2 {
		ps = append(ps, stackrepo.Package{Name: hostile[i], Version: hostile[i+1]})
	}
	var b bytes.Buffer
	puppet(&b, origin, ps)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "stack.pp")
	if err := os.WriteFile(manifest, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"parser", "dump", "--format", "json"}
	for _, d := range []string{"confdir", "vardir", "codedir", "logdir", "rundir", "publicdir"} {
		args = append(args, "--"+d, filepath.Join(dir, d))
	}
	cmd := exec.Command("puppet", append(args, manifest)...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("puppet parser dump (apt-get install puppet-agent) on\n%s: %v", b.String(), err)
	}
	// {"^":["block",{"^":["resource",{"#":["type",…,"bodies",[{"#":["title",T,"ops",[{"^":["=>","ensure",V]}]]}]]}]},…]}
	var ast struct {
		Block []json.RawMessage `json:"^"`
	}
	if err := json.Unmarshal(out, &ast); err != nil || len(ast.Block) != len(ps)+1 {
		t.Fatalf("puppet parser dump: %v, %d resources in\n%s", err, len(ast.Block)-1, out)
	}
	for i, p := range ps {
		var res struct {
			R []json.RawMessage `json:"^"`
		}
		var body struct {
			H []json.RawMessage `json:"#"`
		}
		var bodies []struct {
			H []json.RawMessage `json:"#"`
		}
		var ops []struct {
			Op []string `json:"^"`
		}
		var title string
		if json.Unmarshal(ast.Block[i+1], &res) != nil || len(res.R) != 2 || json.Unmarshal(res.R[1], &body) != nil || len(body.H) != 4 ||
			json.Unmarshal(body.H[3], &bodies) != nil || len(bodies) != 1 || len(bodies[0].H) != 4 ||
			json.Unmarshal(bodies[0].H[1], &title) != nil || json.Unmarshal(bodies[0].H[3], &ops) != nil || len(ops) != 1 {
			t.Fatalf("resource %d does not read as a package resource: %s", i, ast.Block[i+1])
		}
		if title != p.Name || !reflect.DeepEqual(ops[0].Op, []string{"=>", "ensure", p.Version}) {
			t.Errorf("puppet read package %q ensure %q, want %q ensure %q", title, ops[0].Op, p.Name, p.Version)
		}
	}
}
