package stackrepo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

// A push that seals a stack between an add's check that the stack is
// unpublished and the add's ref transaction wins: the add is refused, not
// written over the sealed tag.
func TestSealWinsOverAdd(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		s := id("main/s")
		must[*Result](t)(r.Create(s, nil, testIdent))
		before := must[*Stack](t)(r.Stack(s))
		sealed := false
		_, err := r.write(s, testIdent, func() (*Stack, *plan, error) {
			cur, err := r.writable(s)
			if err != nil {
				return nil, nil, err
			}
			if !sealed { // the push lands now
				sealed = true
				if err := r.refs.Update("push", RefUpdate{Name: s.TagRef(), Old: cur.Tag, New: cur.Tag}, RefUpdate{Name: s.publishedRef(), New: cur.Tag}); err != nil {
					t.Fatal(err)
				}
			}
			p := pkg("dh-late", "1.0")
			return cur, &plan{id: s, parent: cur.Commit, entries: cur.entries, newBlobs: map[string][]byte{p.Name: p.Stanza()}, action: "add", subject: "main/s: add dh-late 1.0"}, nil
		})
		var pe *PublishedError
		if !errors.As(err, &pe) {
			t.Fatalf("add after the seal: %v, want a PublishedError", err)
		}
		if after := must[*Stack](t)(r.Stack(s)); after.Tag != before.Tag {
			t.Fatalf("the sealed stack changed: %s, was %s", after.Tag, before.Tag)
		}
	})
}

// An add that lands between a push reading a stack and the push sealing
// it wins: the stack is not sealed, and the push says it changed.
func TestAddWinsOverSeal(t *testing.T) {
	forEachBackend(t, func(t *testing.T, r *Repo) {
		s, other := id("main/s"), id("main/t")
		must[*Result](t)(r.Create(s, nil, testIdent))
		must[*Result](t)(r.Create(other, nil, testIdent))
		tags := must[[]*pushTag](t)(r.readPushTags([]StackID{s, other}))
		must[*Result](t)(r.Add(s, []Package{pkg("dh-app", "1.0")}, testIdent))
		p := &pusher{r: r, rm: Remote{arg: "origin"}, res: &PushResult{}, ns: "refs/gachette/remotes/origin/"}
		st := map[string]refStatus{s.TagRef(): {flag: '*'}, other.TagRef(): {flag: '*'}}
		if err := p.landed(tags, st, nil); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.res.Changed, []StackID{s}) || !reflect.DeepEqual(p.res.Pushed, []StackID{other}) {
			t.Fatalf("changed %v, pushed %v; want [main/s] and [main/t]", p.res.Changed, p.res.Pushed)
		}
		if _, err := r.refs.Lookup(s.publishedRef()); !errors.Is(err, ErrRefNotFound) {
			t.Fatalf("the changed stack is sealed: %v", err)
		}
		if h, err := r.refs.Lookup(other.publishedRef()); err != nil || h != tags[1].tag {
			t.Fatalf("main/t sealed at %s (%v), want its tag %s", h, err, tags[1].tag)
		}
		// sealed already at that tag: nothing to write, nothing reported changed
		p.res = &PushResult{}
		if err := p.landed(tags[1:], st, nil); err != nil || len(p.res.Changed) > 0 {
			t.Fatalf("sealing again: %v, changed %v", err, p.res.Changed)
		}
	})
}

func TestParsePorcelain(t *testing.T) {
	out := "To git://127.0.0.1:1/r.git\n" +
		"*\t1111111111111111111111111111111111111111:refs/tags/main/1\t[new tag]\n" +
		"=\t2222222222222222222222222222222222222222:refs/tags/main/2\t[up to date]\n" +
		"+\t3333333333333333333333333333333333333333:refs/heads/main\t9daeb85...fcc9749 (forced update)\n" +
		"!\t4444444444444444444444444444444444444444:refs/tags/main/3\t[remote rejected] (hook declined)\n" +
		"!\t5555555555555555555555555555555555555555:refs/tags/main/4\t[rejected] (atomic push failed)\n" +
		"Done\n" +
		// a second push URL that refused main/1
		"To ssh://mirror/r.git\n" +
		"!\t1111111111111111111111111111111111111111:refs/tags/main/1\t[rejected] (already exists)\n" +
		"=\t2222222222222222222222222222222222222222:refs/tags/main/2\t[up to date]\n" +
		"Done\n"
	st := parsePorcelain([]byte(out))
	want := map[string]refStatus{
		"refs/tags/main/1": {flag: '!', from: "1111111111111111111111111111111111111111", to: "refs/tags/main/1", reason: "already exists"},
		"refs/tags/main/2": {flag: '=', from: "2222222222222222222222222222222222222222", to: "refs/tags/main/2"},
		"refs/heads/main":  {flag: '+', from: "3333333333333333333333333333333333333333", to: "refs/heads/main"},
		"refs/tags/main/3": {flag: '!', from: "4444444444444444444444444444444444444444", to: "refs/tags/main/3", reason: "hook declined", byServer: true},
		"refs/tags/main/4": {flag: '!', from: "5555555555555555555555555555555555555555", to: "refs/tags/main/4", reason: "atomic push failed"},
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("parsePorcelain:\n got %+v\nwant %+v", st, want)
	}
	if !st["refs/tags/main/4"].collateral() || st["refs/tags/main/3"].collateral() {
		t.Error("collateral: atomic push failed is, hook declined is not")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://alice:s3cret@example.com/x.git": "https://example.com/x.git",
		"ssh://git@example.com/x.git":            "ssh://example.com/x.git",
		"git@example.com:x.git":                  "git@example.com:x.git",
		"origin":                                 "origin",
		"/srv/stacks.git":                        "/srv/stacks.git",
		"fatal: unable to access 'https://bob:pw@h/r.git/': 403":  "fatal: unable to access 'https://h/r.git/': 403",
		"remote: see http://u:p@h/x and https://v:q@k/y for help": "remote: see http://h/x and https://k/y for help",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRemote(t *testing.T) {
	for _, bad := range []string{"", "-x", "--upload-pack=touch x", "a\nb", "ext::sh -c touch% x", "FD::3", strings.Repeat("a", 2049)} {
		if _, err := ParseRemote(bad); err == nil {
			t.Errorf("ParseRemote(%q) accepted it", bad)
		}
	}
	dir := t.TempDir()
	wd, _ := os.Getwd()
	t.Cleanup(func() { os.Chdir(wd) })
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir("remote.git", 0o755); err != nil {
		t.Fatal(err)
	}
	ns := func(arg string) string {
		rm, err := ParseRemote(arg)
		if err != nil {
			t.Fatal(err)
		}
		return rm.namespace()
	}
	if got := ns("origin"); got != "refs/gachette/remotes/origin/" {
		t.Errorf("namespace of origin: %s", got)
	}
	// a path, relative or absolute, is one remote; a password does not
	// change which
	if a, b := ns("remote.git"), ns(filepath.Join(dir, "remote.git")); a != b || !strings.HasPrefix(a, "refs/gachette/remotes/url-") {
		t.Errorf("namespaces of one directory: %s and %s", a, b)
	}
	if a, b := ns("https://a:b@h/x.git"), ns("https://a:c@h/x.git"); a != b {
		t.Errorf("namespaces of one URL: %s and %s", a, b)
	}
	if a, b := ns("https://h/x.git"), ns("https://h/y.git"); a == b {
		t.Errorf("two URLs share %s", a)
	}
}

// A push of more stacks than it names one by one pins them under a
// namespace of its own, pushes them with one pattern, seals them, and
// leaves no pinned ref behind (nor any left by a push that died).
func TestPushManyPinned(t *testing.T) {
	dir := t.TempDir()
	r := must[*Repo](t)(Init(filepath.Join(dir, "stacks.git"), "main"))
	defer r.Close()
	remote := filepath.Join(dir, "remote.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", remote).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	var ids []StackID
	for i := 1; i <= maxExplicit+8; i++ {
		s := id(fmt.Sprintf("main/%d", i))
		must[*Result](t)(r.Create(s, nil, testIdent))
		ids = append(ids, s)
	}
	first := must[*Stack](t)(r.Stack(ids[0]))
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf("%s%d-1/tags/main/1", pinPrefix, dead.Process.Pid)
	if err := r.refs.Update("test", RefUpdate{Name: stale, New: first.Tag}); err != nil {
		t.Fatal(err)
	}
	rm := must[Remote](t)(ParseRemote(remote))
	res, err := r.Push(context.Background(), rm, ids, RemoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pushed) != len(ids) || !res.Atomic || !reflect.DeepEqual(res.Branches, []string{"main"}) {
		t.Fatalf("pushed %d of %d (atomic %v), branches %v", len(res.Pushed), len(ids), res.Atomic, res.Branches)
	}
	for _, s := range ids {
		here := must[*Stack](t)(r.Stack(s))
		out, err := exec.Command("git", "-C", remote, "rev-parse", s.TagRef()).Output()
		if err != nil || strings.TrimSpace(string(out)) != here.Tag.String() {
			t.Fatalf("%s: remote has %q (%v), here %s", s, out, err, here.Tag)
		}
		if h, err := r.refs.Lookup(s.publishedRef()); err != nil || h != here.Tag {
			t.Fatalf("%s sealed at %s (%v), want %s", s, h, err, here.Tag)
		}
	}
	if left := must[[]Ref](t)(r.refs.List(pinPrefix)); len(left) > 0 {
		t.Fatalf("pinned refs left: %v", left)
	}
}

// On a terminal, git push and fetch run in git-gachette's own process
// group, the terminal's foreground one: a prompt for a password or a host
// key turns echo off, which stops a background process (SIGTTOU). Without
// a terminal they run in a group of their own, which Ctrl-C does not reach
// half-way through (git-gachette stops them itself).
func TestRemoteGitProcessGroup(t *testing.T) {
	dir := t.TempDir()
	r := must[*Repo](t)(Init(filepath.Join(dir, "stacks.git"), "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	ssh := filepath.Join(dir, "ssh")
	out := filepath.Join(dir, "pgid")
	if err := os.WriteFile(ssh, []byte("#!/bin/sh\nps -o pgid= -p $$ > \"$PGID_FILE\"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GIT_SSH_COMMAND", ssh)
	t.Setenv("PGID_FILE", out)
	rm := must[Remote](t)(ParseRemote("ssh://example.invalid/stacks.git"))
	for _, interactive := range []bool{true, false} {
		os.Remove(out)
		_, perr := r.Push(context.Background(), rm, []StackID{id("main/1")}, RemoteOptions{Interactive: interactive})
		if err := perr; err == nil || !strings.Contains(err.Error(), "push failed") {
			t.Logf("push: %v", err)
			t.Fatal("push to a remote that is not there succeeded")
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatalf("interactive %v: the ssh stand-in did not run: %v (push: %v)", interactive, err, perr)
		}
		same := strings.TrimSpace(string(b)) == fmt.Sprint(syscall.Getpgrp())
		if same != interactive {
			t.Errorf("interactive %v: git's ssh ran in process group %s, git-gachette's is %d", interactive, strings.TrimSpace(string(b)), syscall.Getpgrp())
		}
	}
}

// A push of no stacks pushes nothing: no git push runs (a bare "git push
// <url>" would push what git's own push.default says).
func TestPushNothing(t *testing.T) {
	dir := t.TempDir()
	r := must[*Repo](t)(Init(filepath.Join(dir, "stacks.git"), "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	t.Setenv("GIT_SSH_COMMAND", "false")
	rm := must[Remote](t)(ParseRemote("ssh://example.invalid/stacks.git"))
	res, err := r.Push(context.Background(), rm, nil, RemoteOptions{})
	if err != nil || res.Contacted {
		t.Fatalf("push of no stacks: contacted %v, %v", res != nil && res.Contacted, err)
	}
}
