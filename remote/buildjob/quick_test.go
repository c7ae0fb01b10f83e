package buildjob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ops-hero/git-gachette/stackrepo"
)

// stacks makes a stacks repository with the empty stack main/1, and the
// Open of a QuickRequest on it.
func stacks(t *testing.T) (stackrepo.StackID, string, func() (*stackrepo.Repo, stackrepo.Identity, error)) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stacks.git")
	r, err := stackrepo.Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ident, err := r.Identity(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id, err := stackrepo.ParseStackID("1", "main")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(id, nil, ident); err != nil {
		t.Fatal(err)
	}
	open := func() (*stackrepo.Repo, stackrepo.Identity, error) {
		r, err := stackrepo.Open(dir)
		if err != nil {
			return nil, stackrepo.Identity{}, err
		}
		return r, ident, nil
	}
	return id, dir, open
}

// recorded is what the stack records, as name=version@commit.
func recorded(t *testing.T, dir string, id stackrepo.StackID) []string {
	t.Helper()
	r, err := stackrepo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s, err := r.Stack(id)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := r.Packages(s)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		out = append(out, p.Name+"="+p.Version+"@"+p.Commit)
	}
	return out
}

func debsIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".deb") {
			names = append(names, e.Name())
		}
	}
	return names
}

func TestQuickRecordsEveryProjectInOneCommit(t *testing.T) {
	var out syncBuffer
	c := localConfig(t, &out)
	id, dir, open := stacks(t)
	app, conf := project(t, "dh-app", "v2.1.0"), project(t, "dh-conf", "v1.0.0")
	res, err := Quick(context.Background(), QuickRequest{Config: c, Stack: id, Open: open,
		Projects: []Project{{Name: "conf", URL: conf, Missile: ".missile.yml"}, {Name: "app", URL: app, Missile: ".missile.yml"}}})
	if err != nil {
		t.Fatalf("quick: %v\n%s", err, out.String())
	}
	appCommit, confCommit := git(t, app, "rev-parse", "HEAD"), git(t, conf, "rev-parse", "HEAD")
	want := []string{"dh-app=2.1.0@" + appCommit, "dh-conf=1.0.0@" + confCommit}
	if got := recorded(t, dir, id); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("recorded %v, want %v", got, want)
	}
	if len(res.Packages) != 2 || res.Packages[0].Name != "dh-app" || res.Record.Unchanged || res.Stack != id {
		t.Fatalf("result %+v", res)
	}
	p := res.Packages[0]
	if p.BuiltOn != "local" || p.Ref != "origin/main" || p.Source != app || p.SHA256 == "" || p.Size == 0 {
		t.Errorf("provenance of %s: %+v", p.Name, p)
	}
	if got := debsIn(t, c.DebsPath); len(got) != 2 {
		t.Errorf("debs path holds %v, want both .debs", got)
	}
	if !strings.Contains(out.String(), "==> record 2 packages in main/1") {
		t.Errorf("progress:\n%s", out.String())
	}
}

func TestQuickFailureRecordsNothing(t *testing.T) {
	for _, tc := range []struct {
		name string
		pkgs [2]string // what each project builds
		url2 string    // the second project's URL ("": its repository)
		want string
	}{
		{"a project fails", [2]string{"dh-app", "dh-conf"}, "/nonexistent/conf", "nothing recorded in main/1:\n  prepare conf"},
		{"a package twice", [2]string{"dh-app", "dh-app"}, "", "nothing recorded in main/1: package dh-app is made by both project app and project conf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out syncBuffer
			c := localConfig(t, &out)
			id, dir, open := stacks(t)
			url2 := tc.url2
			if url2 == "" {
				url2 = project(t, tc.pkgs[1], "v1.0.0")
			}
			_, err := Quick(context.Background(), QuickRequest{Config: c, Stack: id, Open: open,
				Projects: []Project{{Name: "app", URL: project(t, tc.pkgs[0], "v1.0.0"), Missile: ".missile.yml"}, {Name: "conf", URL: url2, Missile: ".missile.yml"}}})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q…", err, tc.want)
			}
			if got := recorded(t, dir, id); len(got) != 0 {
				t.Errorf("recorded %v", got)
			}
			if got := debsIn(t, c.DebsPath); len(got) != 0 {
				t.Errorf("the debs path keeps %v: nothing records them", got)
			}
		})
	}
}

func TestQuickInterrupted(t *testing.T) {
	var out syncBuffer
	c := localConfig(t, &out)
	id, dir, open := stacks(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Quick(ctx, QuickRequest{Config: c, Stack: id, Open: open, Projects: []Project{{Name: "app", URL: project(t, "dh-app", "v1.0.0"), Missile: ".missile.yml"}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := recorded(t, dir, id); len(got) != 0 {
		t.Errorf("recorded %v", got)
	}
}

func TestQuickRefusesAPublishedOrMissingStack(t *testing.T) {
	var out syncBuffer
	c := localConfig(t, &out)
	_, _, open := stacks(t)
	missing, _ := stackrepo.ParseStackID("2", "main")
	_, err := Quick(context.Background(), QuickRequest{Config: c, Stack: missing, Open: open, Projects: []Project{{Name: "app", URL: "/src", Missile: ".missile.yml"}}})
	if err == nil || !strings.Contains(err.Error(), "main/2") {
		t.Fatalf("got %v, want an error naming main/2", err)
	}
	if strings.Contains(out.String(), "==> prepare") {
		t.Errorf("built for a stack that cannot record:\n%s", out.String())
	}
}
