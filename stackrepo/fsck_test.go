package stackrepo

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// TestFsckQuickAgrees: with its quick path (each tree and stanza checked
// once), Fsck reports exactly what checking every stack in full reports,
// on stacks that share trees and stanzas with broken ones. (From branch
// i13's b2d38f7, on go-git's object types.)
func TestFsckQuickAgrees(t *testing.T) {
	r := newMemory()
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	must[*Result](t)(r.Add(id("main/1"), []Package{pkg("dh-a", "1"), pkg("dh-b", "1")}, testIdent))
	from := id("main/1")
	must[*Result](t)(r.Create(id("main/2"), &from, testIdent)) // shares main/1's tree
	must[*Result](t)(r.Add(id("main/2"), []Package{pkg("dh-c", "1")}, testIdent))
	s1 := must[*Stack](t)(r.Stack(id("main/1")))

	blob := func(s string) plumbing.Hash { return must[plumbing.Hash](t)(r.writeBlob([]byte(s))) }
	tree := func(entries ...object.TreeEntry) plumbing.Hash {
		return must[plumbing.Hash](t)(r.writeObject(&object.Tree{Entries: entries}))
	}
	stack := func(name string, entries ...object.TreeEntry) {
		root := tree(object.TreeEntry{Name: "packages", Mode: filemode.Dir, Hash: tree(entries...)})
		c := must[plumbing.Hash](t)(r.writeObject(&object.Commit{TreeHash: root, Author: testIdent.Author, Committer: testIdent.Committer,
			Message: "main/" + name + ": add\n\nGachette-Stack: main/" + name + "\nGachette-Action: add\nGachette-Format: 1\n"}))
		tg := must[plumbing.Hash](t)(r.writeObject(&object.Tag{Name: "main/" + name, Tagger: testIdent.Committer, Message: "m\n", TargetType: plumbing.CommitObject, Target: c}))
		if err := r.refs.Update("test", RefUpdate{Name: "refs/tags/main/" + name, New: tg}); err != nil {
			t.Fatal(err)
		}
	}
	good := s1.entries[0]
	// a stanza that names another package, under both names
	wrong := object.TreeEntry{Name: "dh-x", Mode: filemode.Regular, Hash: good.Hash}
	stack("3", good, wrong)
	// the good stanza again, under its own name, after the wrong one
	stack("4", good)
	// a stanza that does not parse; a missing one; a tree where a file is
	stack("5", good, object.TreeEntry{Name: "dh-z", Mode: filemode.Regular, Hash: blob("Package: dh-z\nnot a field\n")})
	stack("6", object.TreeEntry{Name: "dh-gone", Mode: filemode.Regular, Hash: plumbing.NewHash("0123456789012345678901234567890123456789")})
	stack("7", object.TreeEntry{Name: "dh-dir", Mode: filemode.Dir, Hash: tree()})
	// a bad package name; a group-writable file (git's old 100664)
	stack("8", object.TreeEntry{Name: "DH", Mode: filemode.Regular, Hash: blob("Package: DH\nVersion: 1\nFilename: f.deb\n")})
	stack("9", object.TreeEntry{Name: good.Name, Mode: filemode.Deprecated, Hash: good.Hash})
	// the same tree as a good stack, in a stack named otherwise
	stack("10", s1.entries...)

	quick := must[*FsckReport](t)(r.Fsck())
	fsckQuick = false
	defer func() { fsckQuick = true }()
	full := must[*FsckReport](t)(r.Fsck())
	if !reflect.DeepEqual(quick, full) {
		t.Fatalf("quick:\n%+v\nfull:\n%+v", quick, full)
	}
	t.Logf("%d stacks, %d packages, problems: %+v", full.Stacks, full.Packages, full.Problems)
	if len(full.Problems) < 5 {
		t.Fatalf("too few problems: %+v", full.Problems)
	}
}

// A stack whose tree git fsck calls duplicateEntries or treeNotSorted (two
// packages trees; a package listed twice, or out of order) is not read:
// git and git-gachette could each see another entry. Fetch skips it, as it
// reads stacks this way.
func TestMalformedTreesRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r := must[*Repo](t)(Init(dir, "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	must[*Result](t)(r.Add(id("main/1"), []Package{pkg("dh-a", "1"), pkg("dh-b", "1")}, testIdent))
	good := runGit(t, dir, "", "rev-parse", "main/1^{commit}")
	msg := runGit(t, dir, "", "log", "-1", "--format=%B", good)
	pkgs := runGit(t, dir, "", "rev-parse", good+":packages")
	a := runGit(t, dir, "", "rev-parse", good+":packages/dh-a")
	b := runGit(t, dir, "", "rev-parse", good+":packages/dh-b")
	for name, c := range map[string]struct{ root, want string }{
		"two-packages": {"040000 tree " + pkgs + "\tpackages\n040000 tree " + pkgs + "\tpackages\n", "lists packages twice"},
		"twice":        {"040000 tree " + runGit(t, dir, "100644 blob "+a+"\tdh-a\n100644 blob "+a+"\tdh-a\n", "mktree") + "\tpackages\n", "lists dh-a out of git's order or twice"},
		// (git mktree sorts: the tree is written as it is)
		"unsorted": {"040000 tree " + runGit(t, dir, rawEntry("dh-b", b)+rawEntry("dh-a", a), "hash-object", "-w", "-t", "tree", "--literally", "--stdin") + "\tpackages\n", "lists dh-a out of git's order or twice"},
		// only packages/ at the root: nothing git would check out that
		// git gachette does not show
		"gitmodules": {"100644 blob " + a + "\t.gitmodules\n040000 tree " + pkgs + "\tpackages\n", `its tree has ".gitmodules" (mode 0100644) at the root, where a stack has only packages/`},
		"readme":     {"040000 tree " + pkgs + "\tpackages\n100644 blob " + a + "\tREADME\n", `its tree has "README" (mode 0100644) at the root`},
		"symlink":    {"040000 tree " + pkgs + "\tpackages\n120000 blob " + a + "\tz\n", `its tree has "z" (mode 0120000) at the root`},
		"gitlink":    {"160000 commit " + good + "\tmod\n040000 tree " + pkgs + "\tpackages\n", `its tree has "mod" (mode 0160000) at the root`},
		// modes git does not write, which go-git reads as a regular file
		"badmode":    {"040000 tree " + runGit(t, dir, rawEntryMode("100664", "dh-a", a)+rawEntry("dh-b", b), "hash-object", "-w", "-t", "tree", "--literally", "--stdin") + "\tpackages\n", `entry "dh-a" has mode 100664, which git does not write (git fsck calls it badFilemode)`},
		"zeropadded": {"040000 tree " + runGit(t, dir, rawEntry("dh-a", a)+rawEntryMode("0100644", "dh-b", b), "hash-object", "-w", "-t", "tree", "--literally", "--stdin") + "\tpackages\n", `entry "dh-b" has mode 0100644, which git does not write (git fsck calls it zeroPaddedFilemode)`},
	} {
		tree := runGit(t, dir, c.root, "mktree")
		commit := runGit(t, dir, msg, "commit-tree", tree, "-p", good)
		runGit(t, dir, "", "tag", "-a", "-m", "main/"+name, "main/"+name, commit)
		if _, err := r.Stack(id("main/" + name)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
		// never copied
		from := id("main/" + name)
		if _, err := r.Create(id("main/copy-"+name), &from, testIdent); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("create --from %s: %v, want %q", name, err, c.want)
		}
	}
	// fsck reports each (its quick path included), and no copy was made
	rep := must[*FsckReport](t)(r.Fsck())
	for _, name := range []string{"two-packages", "twice", "unsorted", "gitmodules", "readme", "symlink", "gitlink", "badmode", "zeropadded"} {
		found := false
		for _, p := range rep.Problems {
			found = found || strings.HasPrefix(p.Where, "main/"+name)
		}
		if !found {
			t.Errorf("fsck does not report main/%s: %+v", name, rep.Problems)
		}
	}
	if out := runGit(t, dir, "", "for-each-ref", "refs/tags/main/copy-*"); out != "" {
		t.Errorf("copies were made: %s", out)
	}
}

// rawEntry is a regular file's entry in a tree object, as git writes it.
func rawEntry(name, hexID string) string {
	return rawEntryMode("100644", name, hexID)
}

// rawEntryMode is a tree entry with mode written as given.
func rawEntryMode(mode, name, hexID string) string {
	h := plumbing.NewHash(hexID)
	return mode + " " + name + "\x00" + string(h[:])
}

// fsck's quick path (each tree checked once, entries identical to the
// last tree's skipped) sees an unsorted tree that holds the same entries
// as the good stack before it. (An outside tester's finding: fsck said
// "no problems" where show refused.)
func TestFsckQuickSeesUnsorted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r := must[*Repo](t)(Init(dir, "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/good"), nil, testIdent))
	must[*Result](t)(r.Add(id("main/good"), []Package{pkg("dh-bar", "2"), pkg("dh-foo", "1")}, testIdent))
	good := runGit(t, dir, "", "rev-parse", "main/good^{commit}")
	bar := runGit(t, dir, "", "rev-parse", good+":packages/dh-bar")
	foo := runGit(t, dir, "", "rev-parse", good+":packages/dh-foo")
	pkgs := runGit(t, dir, rawEntry("dh-foo", foo)+rawEntry("dh-bar", bar), "hash-object", "-w", "-t", "tree", "--literally", "--stdin")
	tree := runGit(t, dir, "040000 tree "+pkgs+"\tpackages\n", "mktree")
	commit := runGit(t, dir, "main/u: add\n\nGachette-Stack: main/u\nGachette-Action: add\nGachette-Format: 1\n", "commit-tree", tree)
	runGit(t, dir, "", "tag", "-a", "-m", "u", "main/u", commit)
	rep := must[*FsckReport](t)(r.Fsck())
	if len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0].Where, "main/u") || !strings.Contains(rep.Problems[0].Problem, "out of git's order or twice") {
		t.Fatalf("fsck: %+v", rep.Problems)
	}
}

// fsck reports channel refs that are not channels or do not read (which
// stack list and stack delete refuse to go on with): a channel at a blob,
// one whose name is no valid environment. (An outside tester's finding:
// fsck said "no problems".)
func TestFsckReportsBrokenChannels(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r := must[*Repo](t)(Init(dir, "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	blob := runGit(t, dir, "x\n", "hash-object", "-w", "--stdin")
	c := runGit(t, dir, "", "rev-parse", "main/1^{commit}")
	must[*Result](t)(r.Create(id("main/2"), nil, testIdent))
	must[*Result](t)(r.Add(id("main/2"), []Package{pkg("dh-a", "2")}, testIdent))
	runGit(t, dir, "", "update-ref", "refs/gachette/channels/main/blob", blob)
	runGit(t, dir, "", "update-ref", "refs/gachette/channels/main/pr\u202eod", c)
	// a commit that is no move; one naming another domain's channel; a
	// move whose tree is not the stack it names (an outside tester's
	// findings: fsck reported only the first channel that did not read,
	// and none of these)
	tree1 := runGit(t, dir, "", "rev-parse", "main/1^{tree}")
	c2 := runGit(t, dir, "", "rev-parse", "main/2^{commit}")
	runGit(t, dir, "", "update-ref", "refs/gachette/channels/main/notrail", runGit(t, dir, "x\n", "commit-tree", tree1))
	runGit(t, dir, "", "update-ref", "refs/gachette/channels/main/otherdom",
		runGit(t, dir, "x\n\nGachette-Channel: frontend/prod\nGachette-Stack: frontend/1\nGachette-Action: promote\nGachette-Format: 1\n", "commit-tree", tree1))
	runGit(t, dir, "", "update-ref", "refs/gachette/channels/main/lies",
		runGit(t, dir, "main/lies: promote 2\n\nGachette-Channel: main/lies\nGachette-Stack: main/2\nGachette-Action: promote\nGachette-Format: 1\n", "commit-tree", tree1, "-p", c2))
	rep := must[*FsckReport](t)(r.Fsck())
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.Where+": "+p.Problem)
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{
		"refs/gachette/channels/main/pr\u202eod: not a channel",
		"refs/gachette/channels/main/blob: channel main/blob",
		"refs/gachette/channels/main/notrail: not a channel: ",
		"refs/gachette/channels/main/otherdom: not a channel: ",
		"refs/gachette/channels/main/lies: channel main/lies: move ",
		"says it runs main/2, but its tree is not that stack's",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("fsck does not say %q:\n%s", want, joined)
		}
	}
	// show and the listings refuse the lying move (its packages are not
	// the stack it names)
	if _, _, _, err := r.ChannelShow("main", "lies", nil); err == nil || !strings.Contains(err.Error(), "its tree is not that stack's") {
		t.Errorf("channel show of a lying move: %v", err)
	}
}

// A stack whose stanza names another package than its file is not copied
// by create --from (it read only the tree before); such a stack cannot
// be deleted by git gachette (whether a remote has it cannot be told), and
// the refusal says how to remove it by hand. (An outside tester's
// findings.)
func TestMisnamedStanzaNotCopied(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r := must[*Repo](t)(Init(dir, "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	must[*Result](t)(r.Add(id("main/1"), []Package{pkg("dh-a", "1")}, testIdent))
	good := runGit(t, dir, "", "rev-parse", "main/1^{commit}")
	a := runGit(t, dir, "", "rev-parse", good+":packages/dh-a")
	pkgs := runGit(t, dir, "100644 blob "+a+"\tdh-b\n", "mktree")
	tree := runGit(t, dir, "040000 tree "+pkgs+"\tpackages\n", "mktree")
	commit := runGit(t, dir, "main/mis: add\n\nGachette-Stack: main/mis\nGachette-Action: add\nGachette-Format: 1\n", "commit-tree", tree)
	runGit(t, dir, "", "tag", "-a", "-m", "mis", "main/mis", commit)
	from := id("main/mis")
	if _, err := r.Create(id("main/copy"), &from, testIdent); err == nil || !strings.Contains(err.Error(), `describes package "dh-a"`) {
		t.Fatalf("create --from a misnamed stack: %v", err)
	}
	if out := runGit(t, dir, "", "for-each-ref", "refs/tags/main/copy"); out != "" {
		t.Fatalf("a copy was made: %s", out)
	}
	// a tree that does not read: delete refuses, naming git update-ref -d
	bad := runGit(t, dir, "100644 blob "+a+"\t.gitmodules\n040000 tree "+pkgs+"\tpackages\n", "mktree")
	badCommit := runGit(t, dir, "main/bad: add\n\nGachette-Stack: main/bad\nGachette-Action: add\nGachette-Format: 1\n", "commit-tree", bad)
	runGit(t, dir, "", "tag", "-a", "-m", "bad", "main/bad", badCommit)
	tag := runGit(t, dir, "", "rev-parse", "refs/tags/main/bad")
	_, err := r.Delete([]StackID{id("main/bad")})
	if err == nil || !strings.Contains(err.Error(), "remove it with: git --git-dir="+dir+" update-ref -d refs/tags/main/bad "+tag) {
		t.Fatalf("delete of a stack that does not read: %v", err)
	}
}

// A channel ref that is no move of its channel is not listed as a
// channel, and its log says what show says. (An outside tester's finding:
// channel list printed it with a zero date and no stack, and channel log
// printed nothing, exit 0.)
func TestNoMoveChannelNotListed(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s.git")
	r := must[*Repo](t)(Init(dir, "main"))
	defer r.Close()
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	runGit(t, dir, "", "update-ref", "refs/gachette/channels/main/notrail", runGit(t, dir, "x\n", "commit-tree", runGit(t, dir, "", "rev-parse", "main/1^{tree}")))
	if list := must[[]ChannelInfo](t)(r.Channels("main")); len(list) != 0 {
		t.Errorf("listed: %+v", list)
	}
	var nm *NotMoveError
	if _, err := r.ChannelLog("main", "notrail", -1); !errors.As(err, &nm) {
		t.Errorf("channel log of a ref that is no move: %v", err)
	}
}
