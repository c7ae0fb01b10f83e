package stackrepo

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestListStacksMarks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		for _, s := range []string{"main/1", "main/2", "main/3", "main/4", "main/5", "other/x"} {
			must[*Result](t)(r.Create(id(s), nil, testIdent))
		}
		// no remote at all: nothing is "not pushed"
		l := must[*Listing](t)(r.ListStacks(ListRequest{Domain: "main"}))
		for i, s := range l.Stacks {
			if m := l.Marks[i]; m.Unpushed || m.Published != "" || len(m.Channels)+len(m.PastChannels) != 0 {
				t.Errorf("%s marked in a repository without remotes: %+v", s.ID, m)
			}
		}
		// 5 sealed, 4 reachable from a remote-tracking branch, 3 on a
		// remote as last fetched (not sealed: an interrupted push), 2 marked by a
		// push; channels: prod ran 4 then runs 5, staging runs 5
		sealed := must[*Stack](t)(r.Stack(id("main/5")))
		tracked := must[*Stack](t)(r.Stack(id("main/4")))
		seen := must[*Stack](t)(r.Stack(id("main/3")))
		marked := must[*Stack](t)(r.Stack(id("main/2")))
		for _, u := range []RefUpdate{
			{Name: id("main/5").publishedRef(), New: sealed.Tag},
			{Name: "refs/remotes/origin/main", New: tracked.Commit},
			{Name: "refs/gachette/remotes/origin/tags/main/3", New: seen.Tag},
			{Name: "refs/gachette/remotes/origin/tags/main/1", New: seen.Tag}, // another stack under its name
			{Name: pushingPrefix + "origin/main/2", New: marked.Tag},
		} {
			if err := r.refs.Update("test", u); err != nil {
				t.Fatal(err)
			}
		}
		promote(t, r, "prod", id("main/4"))
		promote(t, r, "prod", id("main/5"))
		promote(t, r, "staging", id("main/5"))
		l = must[*Listing](t)(r.ListStacks(ListRequest{Domain: "main"}))
		got := map[string]StackMarks{}
		var order []string
		for i, s := range l.Stacks {
			got[s.ID.Name] = l.Marks[i]
			order = append(order, s.ID.Name)
		}
		if strings.Join(order, " ") != "5 4 3 2 1" || l.Domains != nil {
			t.Errorf("listing %v, domains %v", order, l.Domains)
		}
		for name, want := range map[string]StackMarks{
			"5": {Published: "pushed or fetched by git-gachette", Channels: []string{"prod", "staging"}},
			"4": {Published: "reachable from origin/main", PastChannels: []string{"prod"}},
			"3": {},
			"2": {},
			"1": {Unpushed: true},
		} {
			g := got[name]
			if g.Published != want.Published || g.Unpushed != want.Unpushed || !slices.Equal(g.Channels, want.Channels) || !slices.Equal(g.PastChannels, want.PastChannels) {
				t.Errorf("main/%s: %+v, want %+v", name, g, want)
			}
		}
		// every domain, domains by name
		l = must[*Listing](t)(r.ListStacks(ListRequest{AllDomains: true, Dates: true}))
		if len(l.Stacks) != 6 || len(l.Marks) != 6 || l.Stacks[5].ID != id("other/x") || !l.Marks[5].Unpushed || l.Stacks[5].Date.IsZero() {
			t.Errorf("all domains: %+v", l.Stacks)
		}
		// a domain without stacks says which domains have some
		l = must[*Listing](t)(r.ListStacks(ListRequest{Domain: "nothing"}))
		if len(l.Stacks) != 0 || DomainsHint(l.Domains) != "domains here: main (5), other (1)" {
			t.Errorf("empty listing: %+v, %q", l, DomainsHint(l.Domains))
		}
		if _, err := r.ListStacks(ListRequest{Domain: "bad/name"}); err == nil {
			t.Error("a bad domain name was listed")
		}
		ds := must[[]DomainInfo](t)(r.DomainList())
		if len(ds) != 2 || ds[0] != (DomainInfo{Name: "main", Stacks: 5, Newest: id("main/5")}) || ds[1] != (DomainInfo{Name: "other", Stacks: 1, Newest: id("other/x")}) {
			t.Errorf("domains %+v", ds)
		}
	})
}

func TestEmptyRepositoryHints(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		l := must[*Listing](t)(r.ListStacks(ListRequest{Domain: "main"}))
		if len(l.Stacks) != 0 || !strings.Contains(DomainsHint(l.Domains), "no stacks yet: create one with git gachette stack create NAME") {
			t.Errorf("empty repository: %+v %q", l, DomainsHint(l.Domains))
		}
		// a domain's name where a stack's is expected
		must[*Result](t)(r.Create(id("backend/1"), nil, testIdent))
		var nf *NotFoundError
		_, err := r.Stack(id("main/backend"))
		if !errors.As(err, &nf) || err.Error() != "backend is a domain, not a stack: list its stacks with git gachette stack list -d backend" {
			t.Errorf("a domain's name as a stack: %v", err)
		}
		if _, err := r.Stack(id("main/frontend")); !errors.As(err, &nf) || nf.IsDomain {
			t.Errorf("a name that is nothing: %v", err)
		}
		// fsck of a domain without stacks is no success
		rep := must[*FsckReport](t)(r.Fsck("nosuch"))
		if len(rep.Problems) != 1 || rep.Problems[0].Where != "domain nosuch" || !strings.Contains(rep.Problems[0].Problem, "domains here: backend (1)") {
			t.Errorf("fsck of a domain without stacks: %+v", rep)
		}
		if rep := must[*FsckReport](t)(r.Fsck("backend")); len(rep.Problems) != 0 {
			t.Errorf("fsck of backend: %+v", rep)
		}
	})
}
