package stackrepo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// FetchResult tells what a fetch did.
type FetchResult struct {
	// Remote is the remote as shown: its name, or its URL without user
	// information.
	Remote string
	// New are the stacks created here, sealed in the same ref transaction.
	New []StackID
	// Known are here already as the same tag objects (and sealed now if
	// they were not).
	Known []StackID
	// Differ are here under the same names as other tag objects: kept as
	// they are here.
	Differ []StackID
	// Skipped are the remote's tags that are not stacks: never created
	// here.
	Skipped []SkippedTag
	// Branches are the local domain branches created or moved.
	Branches []string
	// Channels are the channels (domain/env) created or fast-forwarded.
	Channels []string
	Warnings []string
}

// SkippedTag is a tag of the remote that is not a stack.
type SkippedTag struct {
	Tag    string // its name, without refs/tags/, as the remote has it (escape it to print it)
	Reason string
}

// maxReconcileTries bounds how often a fetch reads its refs again after
// a concurrent local write made its ref transaction fail.
const maxReconcileTries = 8

// packRefsAfter is how many refs a fetch creates before it packs refs
// (git pack-refs --all, what git gc does): tens of thousands of loose
// ref files would make every later listing read as many files.
const packRefsAfter = 1000

// Fetch brings the remote's stacks here. git fetch copies the remote's
// tags, branches and channels into a namespace of ours
// (refs/gachette/remotes/<remote>/tags/…, heads/…, channels/…, pruned
// there, so it mirrors the remote); then one ref transaction reconciles
// them with the refs here: a stack new here is created and sealed at
// once (its published mark is written before its tag, so even a process
// killed in the middle of git's commit never leaves a fetched stack
// unsealed), a stack here as the same tag object is kept (and sealed), a
// stack here as another tag object is kept and reported (*ConflictError),
// a domain branch is created or moved to the remote's when that is a
// fast-forward or a newer stack (never one a work tree has checked out),
// and a channel is created or fast-forwarded. The remote's tags that are
// not stacks are skipped and listed. Only what differs is read and
// written: a fetch that brings nothing new writes no ref.
func (r *Repo) Fetch(ctx context.Context, rm Remote, opt RemoteOptions) (*FetchResult, error) {
	if r.Dir == "" {
		return nil, fmt.Errorf("fetch needs a repository on disk")
	}
	ns := rm.namespace()
	locks := r.lockFiles(ns)
	// The marks of pushes to this remote as they are before git fetch
	// asks the remote: those the fetch may settle whatever it finds (see
	// reconcile).
	marks, err := r.refs.List(rm.pushingNS())
	if err != nil {
		return nil, err
	}
	before := make(map[string]plumbing.Hash, len(marks))
	for _, m := range marks {
		before[m.Name] = m.Hash
	}
	run := r.remoteGit(ctx, opt, "fetch", "--no-tags", "--prune", "--no-write-fetch-head", "-q", "--", rm.arg,
		"+refs/tags/*:"+ns+"tags/*", "+refs/heads/*:"+ns+"heads/*", "+refs/gachette/channels/*:"+ns+"channels/*")
	if ctx.Err() != nil {
		r.removeNewLocks(ns, locks)
		return nil, &InterruptedError{Op: "fetch from " + rm.String(), Left: "nothing was recorded here: fetch again", Err: ctx.Err()}
	}
	if run.err != nil {
		return nil, r.remoteError("fetch", rm, run)
	}
	r.reopen()
	for attempt := 1; ; attempt++ {
		res, ups, created, err := r.reconcile(rm, ns, before)
		if err != nil {
			return res, err
		}
		if len(ups) > 0 {
			if ctx.Err() != nil {
				return nil, &InterruptedError{Op: "fetch from " + rm.String(), Left: "nothing was recorded here: fetch again", Err: ctx.Err()}
			}
			err = r.refs.Update("gachette: fetch from "+rm.String(), ups...)
		}
		var changed *RefChangedError
		switch {
		case err == nil:
			if created >= packRefsAfter {
				if _, err := r.git.Output(context.Background(), nil, "pack-refs", "--all"); err != nil {
					res.Warnings = append(res.Warnings, fmt.Sprintf("git pack-refs --all failed (the fetch itself is complete): %v", err))
				}
			}
			if len(res.Differ) > 0 {
				return res, &ConflictError{Remote: rm.String(), Stacks: idStrings(res.Differ), Fetch: true}
			}
			return res, nil
		case errors.As(err, &changed) && attempt < maxReconcileTries:
			// A local write got there first: read everything again.
			r.reopen()
		default:
			return res, fmt.Errorf("fetch from %s: the objects are here, but recording the stacks failed: %w", rm, err)
		}
	}
}

func idStrings(ids []StackID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// reconcile compares the namespace (the remote as just fetched) with the
// refs here and returns what to write, in the order git commits it:
// published marks, then tags, then branches and channels. It reads
// objects only for what differs. created counts the refs it creates.
func (r *Repo) reconcile(rm Remote, ns string, marksBefore map[string]plumbing.Hash) (*FetchResult, []RefUpdate, int, error) {
	res := &FetchResult{Remote: rm.String()}
	seen, err := r.refs.List(ns)
	if err != nil {
		return res, nil, 0, err
	}
	maps := map[string]map[string]plumbing.Hash{}
	for _, prefix := range []string{"refs/tags/", "refs/gachette/published/", "refs/gachette/channels/"} {
		refs, err := r.refs.List(prefix)
		if err != nil {
			return res, nil, 0, err
		}
		m := make(map[string]plumbing.Hash, len(refs))
		for _, ref := range refs {
			m[ref.Name] = ref.Hash
		}
		maps[prefix] = m
	}
	tagsHere, pubHere, chansHere := maps["refs/tags/"], maps["refs/gachette/published/"], maps["refs/gachette/channels/"]

	var pubUps, tagUps, branchUps, chanUps []RefUpdate
	domains := map[string]bool{}
	checked := map[string]bool{}
	var heads, chans []Ref
	for _, ref := range seen {
		rest := ref.Name[len(ns):]
		kind, name, _ := strings.Cut(rest, "/")
		switch kind {
		case "heads":
			heads = append(heads, Ref{Name: name, Hash: ref.Hash})
			continue
		case "channels":
			chans = append(chans, Ref{Name: name, Hash: ref.Hash})
			continue
		case "tags":
		default:
			continue
		}
		d, n, ok := strings.Cut(name, "/")
		if !ok || CheckName("domain", d) != nil || CheckName("stack", n) != nil {
			res.Skipped = append(res.Skipped, SkippedTag{Tag: name, Reason: "not named <domain>/<stack>, each one name of letters, digits, '.', '_', '+' and '-'"})
			continue
		}
		id := StackID{Domain: d, Name: n}
		here, exists := tagsHere[id.TagRef()]
		pub := pubHere[id.publishedRef()]
		// Every case of a remote stack against the refs here.
		switch {
		case exists && here == ref.Hash:
			domains[d] = true
			res.Known = append(res.Known, id)
			if pub != ref.Hash {
				pubUps = append(pubUps, RefUpdate{Name: id.publishedRef(), Old: pub, New: ref.Hash})
			}
		case exists:
			domains[d] = true
			res.Differ = append(res.Differ, id)
		default:
			if why := r.notAStack(id, ref.Hash, checked); why != "" {
				res.Skipped = append(res.Skipped, SkippedTag{Tag: name, Reason: why})
				continue
			}
			domains[d] = true
			res.New = append(res.New, id)
			if pub != ref.Hash {
				pubUps = append(pubUps, RefUpdate{Name: id.publishedRef(), Old: pub, New: ref.Hash})
			}
			tagUps = append(tagUps, RefUpdate{Name: id.TagRef(), New: ref.Hash})
		}
	}
	for _, h := range heads {
		if CheckName("domain", h.Name) != nil || !domains[h.Name] {
			continue // not the branch of a domain with stacks on the remote
		}
		up, moved, warn := r.branchFromRemote(rm, h.Name, h.Hash)
		if warn != "" {
			res.Warnings = append(res.Warnings, warn)
		}
		if up != nil {
			branchUps = append(branchUps, *up)
			res.Branches = append(res.Branches, moved)
		}
	}
	for _, c := range chans {
		d, env, ok := strings.Cut(c.Name, "/")
		if !ok || CheckName("domain", d) != nil || CheckName("channel", env) != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("channel %s of %s skipped: not named <domain>/<env>", c.Name, rm))
			continue
		}
		name := "refs/gachette/channels/" + c.Name
		mine := chansHere[name]
		if mine == c.Hash {
			continue
		}
		// read as every command here reads a channel: one that does not
		// read would make them refuse to go on in the domain
		if ch, err := r.channelAt(d, env, c.Hash); err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("channel %s of %s skipped: %v", c.Name, rm, err))
			continue
		} else if len(ch.Moves) == 0 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("channel %s of %s skipped: %s is no move of it (no Gachette-Channel: %s trailer)", c.Name, rm, c.Hash, c.Name))
			continue
		}
		switch {
		case mine.IsZero(), r.isAncestor(mine, c.Hash):
			chanUps = append(chanUps, RefUpdate{Name: name, Old: mine, New: c.Hash})
			res.Channels = append(res.Channels, c.Name)
		case r.isAncestor(c.Hash, mine):
			// ahead here: push carries it
		default:
			res.Warnings = append(res.Warnings, fmt.Sprintf("channel %s kept: it and the one of %s have moved apart (neither contains the other), and push will be refused until they meet; "+
				"look at both (git log --first-parent %s %s), take the remote's (git --git-dir=%s update-ref %s %s %s), then promote again where it should be",
				c.Name, rm, name, ns+"channels/"+c.Name, ShellWord(r.Dir), name, ns+"channels/"+c.Name, mine))
		}
	}
	// Marks of pushes to this remote are settled: the remote, as just
	// fetched, has each such stack at the object marked (sealed above), or
	// the push that marked it ended before this fetch asked the remote
	// (the mark was there, at the same object, before git fetch ran: the
	// remote has the stack as seen, or it does not). A mark written since,
	// at another object, is a push under way that the fetch may have
	// overtaken: it stays. Each deletion expects the mark as read, so one
	// written again meanwhile fails the transaction, and it is read again.
	pns := rm.pushingNS()
	marks, err := r.refs.List(pns)
	if err != nil {
		return res, nil, 0, err
	}
	for _, m := range marks {
		old, was := marksBefore[m.Name]
		theirs, has := nsHash(seen, ns+"tags/"+strings.TrimPrefix(m.Name, pns))
		if (was && old == m.Hash) || (has && theirs == m.Hash) {
			chanUps = append(chanUps, RefUpdate{Name: m.Name, Old: m.Hash})
		}
	}
	ups := append(append(append(pubUps, tagUps...), branchUps...), chanUps...)
	return res, ups, len(pubUps) + len(tagUps), nil
}

// notAStack says why the remote's tag h for id is not a stack ("" when it
// is one): a lightweight tag, a tag of something other than a commit, a
// commit not written by git-gachette, a malformed tree, a stanza that is
// not valid. checked holds the stanzas (name and blob) found valid.
func (r *Repo) notAStack(id StackID, h plumbing.Hash, checked map[string]bool) string {
	raw, err := r.readRaw(h)
	if err != nil {
		return objectError(h, "tag", err).Error()
	}
	switch raw.typ {
	case plumbing.TagObject:
	case plumbing.CommitObject:
		return fmt.Sprintf("a lightweight tag (it points at commit %s, not at an annotated tag)", h)
	default:
		return fmt.Sprintf("it points at %s %s, not at an annotated tag", article(raw.typ), h)
	}
	tag, err := object.DecodeTag(r.st, memoryObject(h, raw))
	if err != nil {
		return fmt.Sprintf("tag %s cannot be decoded: %v", h, err)
	}
	if tag.TargetType != plumbing.CommitObject {
		return fmt.Sprintf("an annotated tag of %s %s, not of a commit", article(tag.TargetType), tag.Target)
	}
	s, err := r.stackAt(id, h, tag.Target)
	if err != nil {
		return strings.TrimPrefix(err.Error(), "stack "+id.String()+": ")
	}
	// Every stanza is read as show and diff read it, so that nothing
	// fetched is refused later; a stanza shared by stacks (most are,
	// along a lineage) is read once.
	for _, e := range s.entries {
		key := e.Name + "\x00" + e.Hash.String()
		if checked[key] {
			continue
		}
		if _, err := r.readPackage(s, e); err != nil {
			return strings.TrimPrefix(err.Error(), "stack "+id.String()+": ")
		}
		checked[key] = true
	}
	return ""
}

// lockFiles lists the ref lock files under the fetch namespace ns.
func (r *Repo) lockFiles(ns string) map[string]bool {
	out := map[string]bool{}
	root := filepath.Join(r.Dir, filepath.FromSlash(strings.TrimSuffix(ns, "/")))
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".lock") {
			out[path] = true
		}
		return nil
	})
	return out
}

// removeNewLocks removes the lock files under ns that were not there
// before a git fetch that git-gachette stopped (Ctrl-C): git (2.39)
// interrupted in the middle of its ref transaction leaves one behind,
// which would make every later fetch of the remote fail. Only git
// fetch, run by git-gachette, writes in ns; a concurrent fetch of the
// same remote whose lock goes fails on it and says so (nothing is lost:
// ns only mirrors the remote).
func (r *Repo) removeNewLocks(ns string, before map[string]bool) {
	for path := range r.lockFiles(ns) {
		if !before[path] {
			os.Remove(path)
		}
	}
}

func (r *Repo) isCommit(h plumbing.Hash) bool {
	_, err := r.readCommit(h)
	return err == nil
}

// branchFromRemote decides whether the local branch of domain d follows
// the remote's (theirs): created when absent, moved when theirs
// fast-forwards it or points at a newer stack, else kept with a warning;
// never moved under a work tree that has it checked out.
func (r *Repo) branchFromRemote(rm Remote, d string, theirs plumbing.Hash) (*RefUpdate, string, string) {
	name := BranchRef(d)
	mine, err := r.refs.Lookup(name)
	if err != nil && !errors.Is(err, ErrRefNotFound) {
		return nil, "", fmt.Sprintf("domain branch %s kept: %v", d, err)
	}
	theirStack, theirsIsStack := r.stackAtCommit(d, theirs)
	mineStack, mineIsStack := r.stackAtCommit(d, mine)
	switch {
	case mine == theirs:
		return nil, "", ""
	case !r.isCommit(theirs):
		return nil, "", fmt.Sprintf("domain branch %s of %s skipped: it points at %s, which is not a commit", d, rm, theirs.String()[:12])
	case mine.IsZero(), r.isAncestor(mine, theirs):
	case theirsIsStack && mineIsStack && theirStack != mineStack && r.newerStackName(d, theirStack, theirs, mineStack, mine):
	case theirsIsStack && mineIsStack && theirStack != mineStack:
		return nil, "", "" // here at a newer stack: push carries it
	default:
		return nil, "", fmt.Sprintf("domain branch %s kept: the one of %s points at %s, which neither follows it nor is a newer stack", d, rm, theirs.String()[:12])
	}
	held, err := r.checkedOut()
	if err != nil {
		return nil, "", fmt.Sprintf("domain branch %s kept: %v", d, err)
	}
	if h, ok := held[name]; ok {
		how := "has it checked out"
		if h.State != "" {
			how = "is in the middle of a " + h.State + " of it"
		}
		return nil, "", fmt.Sprintf("domain branch %s not moved: the work tree %s %s (git-gachette never moves a checked-out branch); "+
			"its stacks are here all the same", d, h.WorkTree, how)
	}
	return &RefUpdate{Name: name, Old: mine, New: theirs}, d, ""
}

// newerStackName reports whether stack a (at commit ca) comes before b
// (at cb) in stack list order.
func (r *Repo) newerStackName(d, a string, ca plumbing.Hash, b string, cb plumbing.Hash) bool {
	return r.newerStack(a, ca, &pushTag{id: StackID{Domain: d, Name: b}, commit: cb})
}

// nsHash finds name in refs, sorted by name (as List returns them).
func nsHash(refs []Ref, name string) (plumbing.Hash, bool) {
	i, ok := slices.BinarySearchFunc(refs, name, func(r Ref, n string) int { return strings.Compare(r.Name, n) })
	if !ok {
		return plumbing.ZeroHash, false
	}
	return refs[i].Hash, true
}
