package stackrepo

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/object"
)

func TestCreateStacks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		must[*Result](t)(r.Create(id("main/1.0.0"), nil, testIdent))
		must[*Result](t)(r.Create(id("main/3.0.0"), nil, testIdent))
		was := branchOf(t, r, "main")
		res := must[*CreateStacksResult](t)(r.CreateStacks([]NewStack{
			{ID: id("main/2.0.0"), Packages: []Package{pkg("dh-b", "2"), pkg("dh-a", "1")}},
			{ID: id("main/2.1.0")},
			{ID: id("other/5"), Packages: []Package{pkg("dh-a", "5")}},
		}, "import", testIdent))
		if len(res.Created) != 3 || res.Attempts != 1 {
			t.Fatalf("created %+v", res)
		}
		if got := versions(t, r, id("main/2.0.0")); len(got) != 2 || got["dh-a"] != "1" || got["dh-b"] != "2" {
			t.Errorf("main/2.0.0 holds %v", got)
		}
		if s := res.Created[0].Subject; s != "main/2.0.0: import 2 packages" {
			t.Errorf("subject %q", s)
		}
		if s := res.Created[1].Subject; s != "main/2.1.0: import empty" {
			t.Errorf("subject %q", s)
		}
		st := must[*Stack](t)(r.Stack(id("main/2.0.0")))
		c := must[*object.Commit](t)(r.readCommit(st.Commit))
		if len(c.ParentHashes) != 0 || !strings.Contains(c.Message, "Gachette-Action: import\n") || !strings.Contains(c.Message, "Gachette-Stack: main/2.0.0\n") {
			t.Errorf("commit %v:\n%s", c.ParentHashes, c.Message)
		}
		// main's newest is still 3.0.0: its branch stays; other's is new
		if b := branchOf(t, r, "main"); b != was {
			t.Errorf("branch main moved to %s", b)
		}
		other := must[*Stack](t)(r.Stack(id("other/5")))
		if b := branchOf(t, r, "other"); b != other.Commit || len(res.Branches) != 1 || res.Branches[0].Stack != id("other/5") {
			t.Errorf("branch other at %s, moves %+v", b, res.Branches)
		}
		// the newest of a domain moves its branch
		res = must[*CreateStacksResult](t)(r.CreateStacks([]NewStack{{ID: id("main/4.0.0")}, {ID: id("main/0.1")}}, "import", testIdent))
		if b := branchOf(t, r, "main"); b != res.Created[0].Commit {
			t.Errorf("branch main at %s, want 4.0.0's %s", b, res.Created[0].Commit)
		}
		// one existing stack: nothing written
		before := tagOf(t, r, id("main/9"))
		_, err := r.CreateStacks([]NewStack{{ID: id("main/9")}, {ID: id("main/1.0.0")}}, "import", testIdent)
		var ex *ExistsError
		if !errors.As(err, &ex) || ex.ID != id("main/1.0.0") {
			t.Errorf("create over an existing stack: %v", err)
		}
		if tagOf(t, r, id("main/9")) != before {
			t.Error("main/9 was written though the create failed")
		}
		for _, bad := range [][]NewStack{
			{{ID: id("main/x")}, {ID: id("main/x")}},
			{{ID: id("main/y"), Packages: []Package{pkg("dh-a", "1"), pkg("dh-a", "2")}}},
			{{ID: id("main/z"), Packages: []Package{{Name: "dh-a", Version: "not a version", Filename: "f.deb"}}}},
			{{ID: id("main/bad name")}},
		} {
			if _, err := r.CreateStacks(bad, "import", testIdent); err == nil {
				t.Errorf("CreateStacks(%+v) succeeded", bad)
			}
		}
	})
}
