package stackrepo

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func withSHA(p Package, sum string) Package {
	p.SHA256 = strings.Repeat(sum, 64/len(sum))
	return p
}

// A stack changed between the state read before a build and the record
// (a builder on this machine ran stack add on it): nothing is added, and
// the changes are named.
func TestAddIfUnchanged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		s := id("main/1")
		must[*Result](t)(r.Create(s, nil, testIdent))
		before := must[*Stack](t)(r.Stack(s))
		must[*Result](t)(r.Add(s, []Package{pkg("dh-evil", "6.6.6")}, testIdent))
		_, err := r.AddIfUnchanged(s, before, []Package{pkg("dh-app", "1.0")}, testIdent)
		var changed *ChangedSinceError
		if !errors.As(err, &changed) || !strings.Contains(err.Error(), "stack main/1 changed while this command ran") ||
			!strings.Contains(err.Error(), "dh-evil 6.6.6 (added)") {
			t.Fatalf("got %v", err)
		}
		if v := versions(t, r, s); v["dh-app"] != "" {
			t.Errorf("added anyway: %v", v)
		}
		// onto the state it read: added
		now := must[*Stack](t)(r.Stack(s))
		must[*Result](t)(r.AddIfUnchanged(s, now, []Package{pkg("dh-app", "1.0")}, testIdent))
		if v := versions(t, r, s); v["dh-app"] != "1.0" {
			t.Errorf("not added: %v", v)
		}
	})
}

// A .deb whose file name a stack records with another SHA-256 is refused,
// naming both; the same file, or another file, is fine.
func TestCheckFiles(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
		must[*Result](t)(r.Create(id("other/7"), nil, testIdent))
		must[*Result](t)(r.Add(id("main/1"), []Package{withSHA(pkg("dh-app", "1.0"), "a"), withSHA(pkg("dh-lib", "2.0"), "b")}, testIdent))
		must[*Result](t)(r.Add(id("other/7"), []Package{withSHA(pkg("dh-app", "1.1"), "c")}, testIdent))
		for _, ok := range [][]Package{
			{withSHA(pkg("dh-app", "1.0"), "a")},
			{withSHA(pkg("dh-app", "1.2"), "e")},
			{withSHA(pkg("dh-new", "1.0"), "e")},
		} {
			if err := r.CheckFiles(ok); err != nil {
				t.Errorf("%v: %v", ok, err)
			}
		}
		err := r.CheckFiles([]Package{withSHA(pkg("dh-app", "1.1"), "e"), withSHA(pkg("dh-lib", "2.0"), "f")})
		var conflict *FileConflictError
		if !errors.As(err, &conflict) || len(conflict.Conflicts) != 2 {
			t.Fatalf("got %v", err)
		}
		want := fmt.Sprintf("dh-app_1.1_all.deb: stack other/7 records it with SHA-256 %s, and the file now has SHA-256 %s", strings.Repeat("c", 64), strings.Repeat("e", 64))
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "dh-lib_2.0_all.deb: stack main/1 records it") {
			t.Errorf("got %v", err)
		}
		// an entry replaced since: what the stack recorded before counts
		must[*Result](t)(r.Add(id("main/1"), []Package{withSHA(pkg("dh-app", "1.5"), "d")}, testIdent))
		if err := r.CheckFiles([]Package{withSHA(pkg("dh-app", "1.0"), "e")}); err == nil || !strings.Contains(err.Error(), "dh-app_1.0_all.deb: stack main/1 records it with SHA-256 "+strings.Repeat("a", 64)) {
			t.Errorf("an earlier state of a stack: got %v", err)
		}
	})
}
