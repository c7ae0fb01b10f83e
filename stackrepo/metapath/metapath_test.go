package metapath

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/stackrepo"
)

var ident = stackrepo.Identity{
	Author:    object.Signature{Name: "T", Email: "t@example.com", When: time.Unix(1700000000, 0).UTC()},
	Committer: object.Signature{Name: "T", Email: "t@example.com", When: time.Unix(1700000000, 0).UTC()},
}

// tree writes files (path -> content) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		dir := filepath.Dir(p)
		if strings.HasSuffix(rel, "/") {
			dir = p
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(rel, "/") {
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// files reads every regular file and symlink of a tree.
func files(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		case d.IsDir():
			if ents, _ := os.ReadDir(p); len(ents) == 0 {
				out[rel+"/"] = ""
			}
		default:
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sample() map[string]string {
	return map[string]string{
		"domain/backend/stacks/123/packages/dh-app/version":    "2.0.0\n",
		"domain/backend/stacks/123/packages/dh-config/version": "1.0.0\n",
		"domain/backend/stacks/124/packages/dh-app/version":    "2.1.0\n",
		"domain/backend/stacks/124/packages/dh-config/version": "1.0.1\n",
		"domain/backend/stacks/empty/packages/":                "",
		"domain/web/stacks/1.0.0/packages/dh-web/version":      "1:3.0~rc1\n",
		"packages/dh-app/version/2.0.0/file":                   "dh-app-2.0.0-all.deb\n",
		"packages/dh-app/version/2.1.0/file":                   "dh-app-2.1.0-all.deb\n",
		"packages/dh-config/version/1.0.0/file":                "dh-config-1.0.0-all.deb\n",
		"packages/dh-config/version/1.0.1/file":                "dh-config-1.0.1-all.deb\n",
		"packages/dh-web/version/1:3.0~rc1/file":               "dh-web_3.0~rc1_all.deb\n",
	}
}

func newRepo(t *testing.T) *stackrepo.Repo {
	t.Helper()
	r, err := stackrepo.Init(filepath.Join(t.TempDir(), "stacks.git"), "backend")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func names(ids []stackrepo.StackID) string {
	var s []string
	for _, id := range ids {
		s = append(s, id.String())
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

func TestImportExportRoundTrip(t *testing.T) {
	src := tree(t, sample())
	if err := os.Symlink("domain", filepath.Join(src, "domains")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("124", filepath.Join(src, "domain/backend/stacks/latest")); err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	res, err := Import(r, ImportRequest{MetaPath: src}, ident)
	if err != nil {
		t.Fatal(err)
	}
	var created []stackrepo.StackID
	for _, c := range res.Created {
		created = append(created, c.ID)
	}
	if got := names(created); got != "backend/123 backend/124 backend/empty web/1.0.0" {
		t.Errorf("created %s", got)
	}
	if len(res.Aliases) != 1 || res.Aliases[0].Path != "domain/backend/stacks/latest" || res.Aliases[0].Target != "124" {
		t.Errorf("aliases %+v", res.Aliases)
	}
	st, err := r.Stack(stackrepo.StackID{Domain: "backend", Name: "124"})
	if err != nil {
		t.Fatal(err)
	}
	pkgs, _ := r.Packages(st)
	if len(pkgs) != 2 || pkgs[0] != (stackrepo.Package{Name: "dh-app", Version: "2.1.0", Filename: "dh-app-2.1.0-all.deb"}) {
		t.Errorf("backend/124 holds %+v", pkgs)
	}

	// again: nothing written
	res, err = Import(r, ImportRequest{MetaPath: src}, ident)
	if err != nil || len(res.Created) != 0 || len(res.Identical) != 4 {
		t.Errorf("second import: %+v, %v", res, err)
	}

	// export: the same tree (without latest, which is not a stack)
	out := filepath.Join(t.TempDir(), "meta")
	for _, d := range []string{"backend", "web"} {
		if _, err := Export(r, ExportRequest{Dir: out, Domain: d}); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(filepath.Join(src, "domain/backend/stacks/latest"))
	want, got := files(t, src), files(t, out)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: exported %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: exported, not in the original", k)
		}
	}
	// a second export changes nothing
	er, err := Export(r, ExportRequest{Dir: out, Domain: "backend"})
	if err != nil || names(er.Unchanged) != "backend/123 backend/124 backend/empty" || er.Files != 0 || len(er.Written)+len(er.Replaced) != 0 {
		t.Errorf("second export: %+v, %v", er, err)
	}
}

func TestImportDifferent(t *testing.T) {
	r := newRepo(t)
	if _, err := r.Create(stackrepo.StackID{Domain: "backend", Name: "124"}, nil, ident); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Add(stackrepo.StackID{Domain: "backend", Name: "124"}, []stackrepo.Package{{Name: "dh-app", Version: "2.2.0", Filename: "dh-app-2.2.0-all.deb"}}, ident); err != nil {
		t.Fatal(err)
	}
	before, _ := r.Stack(stackrepo.StackID{Domain: "backend", Name: "124"})
	res, err := Import(r, ImportRequest{MetaPath: tree(t, sample()), Domain: "backend"}, ident)
	var de *DifferentError
	if !errors.As(err, &de) || len(de.Different) != 1 || de.Different[0].ID.Name != "124" {
		t.Fatalf("import over a different stack: %v", err)
	}
	if got := strings.Join(de.Different[0].Lines, "; "); got != "dh-app: 2.2.0 here, 2.1.0 in meta_path; dh-config 1.0.1 only in meta_path" {
		t.Errorf("differences: %s", got)
	}
	if len(res.Created) != 2 {
		t.Errorf("the others were not imported: %+v", res.Created)
	}
	after, _ := r.Stack(stackrepo.StackID{Domain: "backend", Name: "124"})
	if after.Tag != before.Tag {
		t.Error("the different stack was overwritten")
	}
}

func TestImportBadInput(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(files map[string]string)
		setup func(t *testing.T, root string)
		want  []string
	}{
		{name: "bad names", edit: func(f map[string]string) {
			f["domain/back end/stacks/1/packages/"] = ""
			f["domain/backend/stacks/-x/packages/"] = ""
			f["domain/backend/stacks/9/packages/Dh_App/version"] = "1.0\n"
		}, want: []string{"domain/back end: domain name", "domain/backend/stacks/-x: stack name", "domain/backend/stacks/9/packages/Dh_App: "}},
		{name: "bad versions", edit: func(f map[string]string) {
			f["domain/backend/stacks/9/packages/dh-a/version"] = "not a version\n"
			f["domain/backend/stacks/9/packages/dh-b/version"] = "\n"
			f["domain/backend/stacks/9/packages/dh-c/version"] = "1.0\n2.0\n"
		}, want: []string{"stacks/9/packages/dh-a/version: ", "stacks/9/packages/dh-b/version: is empty", "stacks/9/packages/dh-c/version: has more than one line"}},
		{name: "missing", edit: func(f map[string]string) {
			f["domain/backend/stacks/9/packages/dh-a/"] = ""
			f["domain/backend/stacks/9/packages/dh-app/version"] = "9.9\n"
			f["domain/backend/stacks/10/"] = ""
		}, want: []string{"stacks/9/packages/dh-a/version: is missing", "packages/dh-app/version/9.9/file: is missing", "stacks/10/packages: is missing"}},
		{name: "bad file name", edit: func(f map[string]string) {
			f["domain/backend/stacks/9/packages/dh-app/version"] = "9.9\n"
			f["packages/dh-app/version/9.9/file"] = "../../etc/passwd\n"
		}, want: []string{"packages/dh-app/version/9.9/file: file name"}},
		// a Debian file name for another package or version, as stack add
		// refuses for a .deb (an outside tester's finding)
		{name: "file of another package", edit: func(f map[string]string) {
			f["domain/backend/stacks/9/packages/dh-app/version"] = "9.9\n"
			f["packages/dh-app/version/9.9/file"] = "other_9.9_all.deb\n"
		}, want: []string{"packages/dh-app/version/9.9/file: names other_9.9_all.deb, whose Debian file name says other 9.9, not dh-app 9.9"}},
		{name: "symlinks", setup: func(t *testing.T, root string) {
			os.MkdirAll(filepath.Join(root, "domain/backend/stacks/9/packages/dh-app"), 0o755)
			os.Symlink("/etc/hostname", filepath.Join(root, "domain/backend/stacks/9/packages/dh-app/version"))
			os.Symlink("/tmp", filepath.Join(root, "domain/backend/stacks/out"))
			os.MkdirAll(filepath.Join(root, "domain/backend/stacks/8/packages/dh-x"), 0o755)
			os.WriteFile(filepath.Join(root, "domain/backend/stacks/8/packages/dh-x/version"), []byte("1\n"), 0o644)
			os.MkdirAll(filepath.Join(root, "packages/dh-x/version"), 0o755)
			os.Symlink("/etc", filepath.Join(root, "packages/dh-x/version/1"))
		}, want: []string{"stacks/9/packages/dh-app/version: is a symlink", `stacks/out: is a symlink to "/tmp"`, "packages/dh-x/version/1: is a symlink"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := sample()
			if c.edit != nil {
				c.edit(f)
			}
			root := tree(t, f)
			if c.setup != nil {
				c.setup(t, root)
			}
			r := newRepo(t)
			_, err := Import(r, ImportRequest{MetaPath: root}, ident)
			var te *TreeError
			if !errors.As(err, &te) {
				t.Fatalf("import: %v", err)
			}
			if len(te.Problems) != len(c.want) {
				t.Errorf("%d problems, want %d:\n%v", len(te.Problems), len(c.want), err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not name %q:\n%v", w, err)
				}
			}
			if ds, _ := r.Domains(); len(ds) != 0 {
				t.Errorf("stacks were written: %v", ds)
			}
		})
	}
}

func TestExportReplacesAtomically(t *testing.T) {
	r := newRepo(t)
	if _, err := Import(r, ImportRequest{MetaPath: tree(t, sample()), Domain: "backend"}, ident); err != nil {
		t.Fatal(err)
	}
	out := tree(t, map[string]string{
		"domain/backend/stacks/124/packages/dh-app/version": "1.0\n",
		"domain/backend/stacks/124/packages/dh-old/version": "1.0\n",
		"domain/backend/stacks/999/packages/":               "",
	})
	res, err := Export(r, ExportRequest{Dir: out, Stacks: []stackrepo.StackID{{Domain: "backend", Name: "124"}}})
	if err != nil {
		t.Fatal(err)
	}
	if names(res.Replaced) != "backend/124" || res.Files != 2 || res.Domains != "symlink" {
		t.Errorf("export: %+v", res)
	}
	got := files(t, out)
	if got["domain/backend/stacks/124/packages/dh-app/version"] != "2.1.0\n" || got["domain/backend/stacks/124/packages/dh-old/version"] != "" ||
		got["domain/backend/stacks/999/packages/"] != "" || got["domains"] != "-> domain" {
		t.Errorf("tree after export: %v", got)
	}
	ents, _ := os.ReadDir(filepath.Join(out, "domain/backend/stacks"))
	if len(ents) != 2 {
		t.Errorf("left behind: %v", ents)
	}
	// a file naming another .deb for the same version: refused, nothing written
	if err := os.MkdirAll(filepath.Join(out, "packages/dh-app/version/2.0.0"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "packages/dh-app/version/2.0.0/file"), []byte("other.deb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Export(r, ExportRequest{Dir: out, Domain: "backend"})
	var ee *ExportError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), `packages/dh-app/version/2.0.0/file: holds "other.deb", but stack backend/123 records`) {
		t.Errorf("export over another file name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "domain/backend/stacks/123")); !errors.Is(err, os.ErrNotExist) {
		t.Error("stack 123 was written though the export was refused")
	}
}
