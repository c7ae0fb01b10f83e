package stackrepo

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// twoStacks makes main/123 (dh-app 1.0) and main/124 from it (dh-app 2.0).
func twoStacks(t *testing.T, r *Repo) {
	t.Helper()
	must[*Result](t)(r.Create(id("main/123"), nil, testIdent))
	must[*Result](t)(r.Add(id("main/123"), []Package{pkg("dh-app", "1.0"), pkg("dh-config", "1.0")}, testIdent))
	must[*Result](t)(r.Create(id("main/124"), &StackID{Domain: "main", Name: "123"}, testIdent))
	must[*Result](t)(r.Add(id("main/124"), []Package{pkg("dh-app", "2.0")}, testIdent))
}

func promoteReq(s, env string) PromoteRequest {
	return PromoteRequest{Stack: id(s), Env: env, Identity: testIdent}
}

func rollbackReq(env, to string) RollbackRequest {
	return RollbackRequest{Domain: "main", Env: env, To: to, Identity: testIdent}
}

// checkMove checks a move commit as SPEC §6 has it.
func checkMove(t *testing.T, r *Repo, m Move, subject, stack, action string, prev plumbing.Hash) {
	t.Helper()
	c := must[*object.Commit](t)(r.readCommit(m.Commit))
	st := must[*Stack](t)(r.Stack(id(stack)))
	sc := must[*object.Commit](t)(r.readCommit(st.Commit))
	want := []plumbing.Hash{st.Commit}
	if !prev.IsZero() {
		want = []plumbing.Hash{prev, st.Commit}
	}
	if !slices.Equal(c.ParentHashes, want) {
		t.Errorf("%s: parents %v, want %v", subject, c.ParentHashes, want)
	}
	if c.TreeHash != sc.TreeHash {
		t.Errorf("%s: tree %s, want the stack's %s", subject, c.TreeHash, sc.TreeHash)
	}
	wantMsg := subject + "\n\nGachette-Channel: main/prod\nGachette-Stack: " + stack + "\nGachette-Action: " + action + "\nGachette-Format: 1\n"
	if c.Message != wantMsg {
		t.Errorf("message %q, want %q", c.Message, wantMsg)
	}
	if c.Author.Email != testIdent.Author.Email || c.Committer.Email != testIdent.Committer.Email {
		t.Errorf("%s: author %v committer %v", subject, c.Author, c.Committer)
	}
}

func TestPromoteRollback(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		twoStacks(t, r)
		m1 := must[*MoveResult](t)(r.Promote(promoteReq("main/123", "prod")))
		checkMove(t, r, m1.Move, "main/prod: promote 123", "main/123", "promote", plumbing.ZeroHash)
		m2 := must[*MoveResult](t)(r.Promote(promoteReq("main/124", "prod")))
		checkMove(t, r, m2.Move, "main/prod: promote 124 (was 123)", "main/124", "promote", m1.Commit)

		again := must[*MoveResult](t)(r.Promote(promoteReq("main/124", "prod")))
		if !again.Unchanged || again.Commit != m2.Commit {
			t.Errorf("promoting what it runs: %+v", again)
		}
		if tip, _ := r.refs.Lookup(ChannelRef("main", "prod")); tip != m2.Commit {
			t.Errorf("promoting what it runs moved the channel to %s", tip)
		}

		m3 := must[*MoveResult](t)(r.Rollback(rollbackReq("prod", "")))
		checkMove(t, r, m3.Move, "main/prod: rollback to 123 (was 124)", "main/123", "rollback", m2.Commit)
		// the stack it ran before the one it runs now: 124 again
		m4 := must[*MoveResult](t)(r.Rollback(rollbackReq("prod", "")))
		checkMove(t, r, m4.Move, "main/prod: rollback to 124 (was 123)", "main/124", "rollback", m3.Commit)
		if res := must[*MoveResult](t)(r.Rollback(rollbackReq("prod", "124"))); !res.Unchanged {
			t.Errorf("rollback --to what it runs: %+v", res)
		}
		m5 := must[*MoveResult](t)(r.Rollback(rollbackReq("prod", "123")))
		checkMove(t, r, m5.Move, "main/prod: rollback to 123 (was 124)", "main/123", "rollback", m4.Commit)

		log := must[[]Move](t)(r.ChannelLog("main", "prod", -1))
		var got []string
		for _, m := range log {
			got = append(got, m.Action+" "+m.Stack.Name+" was "+m.Was+" by "+m.Author)
		}
		want := []string{
			"rollback 123 was 124 by Ann Author <ann@example.com>",
			"rollback 124 was 123 by Ann Author <ann@example.com>",
			"rollback 123 was 124 by Ann Author <ann@example.com>",
			"promote 124 was 123 by Ann Author <ann@example.com>",
			"promote 123 was  by Ann Author <ann@example.com>",
		}
		if !slices.Equal(got, want) {
			t.Errorf("log:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if two := must[[]Move](t)(r.ChannelLog("main", "prod", 2)); len(two) != 2 {
			t.Errorf("log -n 2: %d moves", len(two))
		}

		must[*MoveResult](t)(r.Promote(promoteReq("main/124", "staging")))
		chans := must[[]ChannelInfo](t)(r.Channels("main"))
		if len(chans) != 2 || chans[0].Env != "prod" || chans[0].Current.Stack.Name != "123" || chans[1].Env != "staging" || chans[1].Current.Stack.Name != "124" {
			t.Errorf("channels %+v", chans)
		}
		m, s, pkgs := must3(t)(r.ChannelShow("main", "prod", nil))
		if m.Stack != id("main/123") || s.Commit != m5.Commit || len(pkgs) != 2 || pkgs[0].Name != "dh-app" || pkgs[0].Version != "1.0" {
			t.Errorf("show: %+v %+v %+v", m, s, pkgs)
		}
		if _, _, pkgs := must3(t)(r.ChannelShow("main", "staging", []string{"dh-app"})); len(pkgs) != 1 || pkgs[0].Version != "2.0" {
			t.Errorf("show dh-app: %+v", pkgs)
		}
		var np *NoPackageError
		if _, _, _, err := r.ChannelShow("main", "staging", []string{"dh-nothing"}); !errors.As(err, &np) {
			t.Errorf("show of a package it does not run: %v", err)
		}

		// stack list marks the channels
		l := must[*Listing](t)(r.ListStacks(ListRequest{Domain: "main"}))
		for i, s := range l.Stacks {
			mk := l.Marks[i]
			switch s.ID.Name {
			case "123":
				if !slices.Equal(mk.Channels, []string{"prod"}) || mk.PastChannels != nil {
					t.Errorf("123's marks %+v", mk)
				}
			case "124":
				if !slices.Equal(mk.Channels, []string{"staging"}) || !slices.Equal(mk.PastChannels, []string{"prod"}) {
					t.Errorf("124's marks %+v", mk)
				}
			}
		}
	})
}

func must3(t *testing.T) func(*Move, *Stack, []Package, error) (*Move, *Stack, []Package) {
	return func(m *Move, s *Stack, p []Package, err error) (*Move, *Stack, []Package) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m, s, p
	}
}

// TestPromotedIsSealed: a stack a channel runs or ran does not change in
// place, nor goes, nor changes name.
func TestPromotedIsSealed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		twoStacks(t, r)
		must[*MoveResult](t)(r.Promote(promoteReq("main/123", "prod")))
		must[*MoveResult](t)(r.Promote(promoteReq("main/124", "prod")))
		for _, s := range []string{"main/123", "main/124"} {
			tag := tagOf(t, r, id(s))
			_, err := r.Add(id(s), []Package{pkg("dh-new", "1")}, testIdent)
			var pub *PublishedError
			if !errors.As(err, &pub) || !slices.Equal(pub.Channels, []string{"main/prod"}) ||
				!strings.Contains(err.Error(), "channel main/prod ran it") || !strings.Contains(err.Error(), "git gachette stack create NEW --from "+s) {
				t.Errorf("add to %s: %v", s, err)
			}
			if _, err := r.Remove(id(s), []string{"dh-app"}, testIdent); !errors.As(err, &pub) {
				t.Errorf("remove from %s: %v", s, err)
			}
			if err := r.CheckWritable(id(s)); !errors.As(err, &pub) {
				t.Errorf("CheckWritable(%s): %v", s, err)
			}
			var kept *KeptError
			if _, err := r.Delete([]StackID{id(s)}); !errors.As(err, &kept) || !strings.Contains(err.Error(), "channel main/prod ran it") {
				t.Errorf("delete %s: %v", s, err)
			}
			if _, err := r.Rename(id(s), id(s+"x"), testIdent); !errors.As(err, &kept) {
				t.Errorf("rename %s: %v", s, err)
			}
			if tagOf(t, r, id(s)) != tag {
				t.Errorf("%s moved", s)
			}
		}
		// a stack made from it is free
		must[*Result](t)(r.Create(id("main/125"), &StackID{Domain: "main", Name: "124"}, testIdent))
		must[*Result](t)(r.Add(id("main/125"), []Package{pkg("dh-app", "3.0")}, testIdent))
	})
}

func TestPromoteGate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		twoStacks(t, r)
		req := promoteReq("main/124", "prod")
		req.Requires, req.RequiresKey = "staging", "gachette.channel.prod.requires"
		_, err := r.Promote(req)
		var gate *GateError
		if !errors.As(err, &gate) || err.Error() != "cannot promote main/124 to main/prod: gachette.channel.prod.requires = staging, and channel main/staging has not run main/124; "+
			"promote it there first: git gachette promote main/124 staging" {
			t.Errorf("past the gate, no staging: %v", err)
		}
		must[*MoveResult](t)(r.Promote(promoteReq("main/123", "staging")))
		if _, err := r.Promote(req); !errors.As(err, &gate) {
			t.Errorf("past the gate, staging runs another: %v", err)
		}
		must[*MoveResult](t)(r.Promote(promoteReq("main/124", "staging")))
		must[*MoveResult](t)(r.Promote(promoteReq("main/123", "staging")))
		// staging ran 124: it may go to prod, though staging runs 123 now
		if res := must[*MoveResult](t)(r.Promote(req)); res.Subject != "main/prod: promote 124" {
			t.Errorf("through the gate: %q", res.Subject)
		}
		if _, err := r.ChannelLog("main", "prod", -1); err != nil {
			t.Fatal(err)
		}
		self := promoteReq("main/124", "prod")
		self.Requires, self.RequiresKey = "prod", "gachette.channel.prod.requires"
		if _, err := r.Promote(self); err == nil || !strings.Contains(err.Error(), "names the channel itself") {
			t.Errorf("a gate on itself: %v", err)
		}
		bad := promoteReq("main/124", "prod")
		bad.Requires, bad.RequiresKey = "stag/ing", "gachette.channel.prod.requires"
		if _, err := r.Promote(bad); err == nil || !strings.Contains(err.Error(), "gachette.channel.prod.requires: channel name \"stag/ing\" is not valid") {
			t.Errorf("a gate that is no channel name: %v", err)
		}
	})
}

func TestPromoteBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		twoStacks(t, r)
		var nf *NotFoundError
		if _, err := r.Promote(promoteReq("main/999", "prod")); !errors.As(err, &nf) {
			t.Errorf("unknown stack: %v", err)
		}
		for _, env := range []string{"", "pr/od", "-x", "prod.lock", "a..b"} {
			if _, err := r.Promote(promoteReq("main/123", env)); err == nil || !strings.Contains(err.Error(), "channel name") {
				t.Errorf("env %q: %v", env, err)
			}
		}
		var nc *NoChannelError
		if _, err := r.Rollback(rollbackReq("prod", "")); !errors.As(err, &nc) ||
			!strings.Contains(err.Error(), "channel main/prod does not exist: no stack was promoted to it") {
			t.Errorf("rollback of no channel: %v", err)
		}
		if _, err := r.ChannelLog("main", "prod", -1); !errors.As(err, &nc) {
			t.Errorf("log of no channel: %v", err)
		}
		if _, _, _, err := r.ChannelShow("main", "prod", nil); !errors.As(err, &nc) {
			t.Errorf("show of no channel: %v", err)
		}
		must[*MoveResult](t)(r.Promote(promoteReq("main/123", "prod")))
		if _, err := r.Rollback(rollbackReq("prod", "")); err == nil ||
			!strings.Contains(err.Error(), "channel main/prod has no earlier stack to roll back to: it has run only main/123") {
			t.Errorf("rollback with one stack in the history: %v", err)
		}
		if _, err := r.Rollback(rollbackReq("prod", "124")); err == nil || !strings.Contains(err.Error(), "channel main/prod never ran main/124") {
			t.Errorf("rollback --to a stack it never ran: %v", err)
		}
		if _, err := r.Rollback(rollbackReq("prod", "no/pe")); err == nil || !strings.Contains(err.Error(), "stack name") {
			t.Errorf("rollback --to a bad name: %v", err)
		}
		// a channel ref that is no move is not moved on
		c := must[*Stack](t)(r.Stack(id("main/124")))
		if err := r.refs.Update("test", RefUpdate{Name: ChannelRef("main", "odd"), New: c.Commit}); err != nil {
			t.Fatal(err)
		}
		var nm *NotMoveError
		if _, err := r.Promote(promoteReq("main/124", "odd")); !errors.As(err, &nm) {
			t.Errorf("promote onto a ref that is no move: %v", err)
		}
		if _, _, _, err := r.ChannelShow("main", "odd", nil); !errors.As(err, &nm) {
			t.Errorf("show of a ref that is no move: %v", err)
		}
	})
}

// TestConcurrentPromotes: two promotions of one channel, the second
// landing between the first's read and its transaction: both land, in
// order, the first on top of the second.
func TestConcurrentPromotes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		twoStacks(t, r)
		must[*Result](t)(r.Create(id("main/125"), &StackID{Domain: "main", Name: "124"}, testIdent))
		must[*MoveResult](t)(r.Promote(promoteReq("main/123", "prod")))
		inner := r.refs
		var wrapper *sealingRefs
		wrapper = &sealingRefs{RefStore: inner, seal: func() {
			r.refs = inner
			if _, err := r.Promote(promoteReq("main/124", "prod")); err != nil {
				t.Fatalf("the other writer: %v", err)
			}
			r.refs = wrapper
		}}
		r.refs = wrapper
		res, err := r.Promote(promoteReq("main/125", "prod"))
		r.refs = inner
		if err != nil {
			t.Fatalf("the writer that lost the race: %v", err)
		}
		if res.Attempts != 2 || res.Subject != "main/prod: promote 125 (was 124)" {
			t.Errorf("after the race: %d attempts, %q", res.Attempts, res.Subject)
		}
		var got []string
		for _, m := range must[[]Move](t)(r.ChannelLog("main", "prod", -1)) {
			got = append(got, m.Subject)
		}
		want := []string{"main/prod: promote 125 (was 124)", "main/prod: promote 124 (was 123)", "main/prod: promote 123"}
		if !slices.Equal(got, want) {
			t.Errorf("moves %q, want %q", got, want)
		}
	})
}

// TestWriteLosesToPromote: a stack promoted between a change's read and
// its transaction is not changed (the change checks the channels while
// git holds the tag's lock; the promotion verifies the tag).
func TestWriteLosesToPromote(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		twoStacks(t, r)
		tag := tagOf(t, r, id("main/124"))
		inner := r.refs
		r.refs = &sealingRefs{RefStore: inner, seal: func() {
			r.refs = inner
			if _, err := r.Promote(promoteReq("main/124", "prod")); err != nil {
				t.Fatalf("the promotion: %v", err)
			}
		}}
		_, err := r.Add(id("main/124"), []Package{pkg("dh-new", "1")}, testIdent)
		r.refs = inner
		var pub *PublishedError
		if !errors.As(err, &pub) || len(pub.Channels) != 1 {
			t.Fatalf("add racing a promotion: %v", err)
		}
		if tagOf(t, r, id("main/124")) != tag {
			t.Errorf("the promoted stack moved")
		}
	})
}

// TestPromoteLosesToWrite: a change landing between a promotion's read
// and its transaction makes the promotion read the stack again: the
// channel runs the stack as it is.
func TestPromoteLosesToWrite(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		twoStacks(t, r)
		inner := r.refs
		r.refs = &sealingRefs{RefStore: inner, seal: func() {
			r.refs = inner
			must[*Result](t)(r.Add(id("main/124"), []Package{pkg("dh-new", "1")}, testIdent))
		}}
		res, err := r.Promote(promoteReq("main/124", "prod"))
		r.refs = inner
		if err != nil {
			t.Fatal(err)
		}
		if res.Attempts != 2 {
			t.Errorf("%d attempts", res.Attempts)
		}
		if _, _, pkgs := must3(t)(r.ChannelShow("main", "prod", []string{"dh-new"})); len(pkgs) != 1 {
			t.Errorf("the channel runs the stack as it was read first")
		}
	})
}
