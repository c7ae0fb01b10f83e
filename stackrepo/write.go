package stackrepo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/semverx"
)

// Result describes a change written to a stack.
type Result struct {
	ID      StackID
	Tag     plumbing.Hash
	Commit  plumbing.Hash
	Subject string
	// Body is the commit message's text between the subject and the
	// trailers: one line per package when several change, the fields an
	// add replaced.
	Body string
	// Packages are the entries an add recorded (AddPackages), or found
	// in place.
	Packages []Package
	// Replaced are the entries an add replaced, with the fields that
	// changed.
	Replaced []Replacement
	// Unchanged is true when the change was already in place: nothing written.
	Unchanged bool
	// Attempts counts tries; more than one means the write lost races.
	Attempts int
}

// CheckedOutError says a write would move a branch a work tree has checked
// out (or is rebasing or bisecting: git holds those as checked out too).
type CheckedOutError struct {
	Branch   string
	WorkTree string
	// State is "rebase" or "bisect" when the work tree is in the middle of
	// one on the branch, else "".
	State string
}

func (e *CheckedOutError) Error() string {
	branch := strings.TrimPrefix(e.Branch, "refs/heads/")
	switch e.State {
	case "rebase":
		return fmt.Sprintf("the work tree %s is in the middle of a rebase of %s, so git holds %s as checked out there (git branch -f refuses to move it too), "+
			"and git-gachette will not move it; finish or abort the rebase first (git -C %s rebase --continue, or --abort)",
			e.WorkTree, branch, branch, e.WorkTree)
	case "bisect":
		return fmt.Sprintf("the work tree %s is in the middle of a bisect of %s, so git holds %s as checked out there (git branch -f refuses to move it too), "+
			"and git-gachette will not move it; end the bisect first (git -C %s bisect reset)",
			e.WorkTree, branch, branch, e.WorkTree)
	}
	return fmt.Sprintf("the work tree %s has %s checked out, and git-gachette will not move it under that work tree "+
		"(git refuses a push into a checked-out branch the same way); switch it to another branch (git -C %s switch --detach) "+
		"or keep stacks in a bare repository (git gachette init)", e.WorkTree, branch, e.WorkTree)
}

// NotStackBranchError says a domain branch exists but does not point at a
// stack of its domain: it is someone's own branch (a project's main), and
// git-gachette does not take it over.
type NotStackBranchError struct {
	Branch string
	Domain string
	Commit plumbing.Hash
	// Repo is the stacks repository (its git directory).
	Repo string
}

func (e *NotStackBranchError) Error() string {
	branch := strings.TrimPrefix(e.Branch, "refs/heads/")
	return fmt.Sprintf("the branch %s of %s points at %s, which is not a stack of domain %s: it looks like a branch of your own "+
		"(is this a project repository?), and git-gachette will not move it; "+
		"name the stacks repository (--stacks DIR, or git config gachette.stacks DIR; git gachette init DIR makes one), "+
		"or use another domain (-d DOMAIN)",
		branch, e.Repo, e.Commit.String()[:12], e.Domain)
}

// plan is what a change computes from the current state of a stack.
type plan struct {
	id        StackID       // the stack written (a bump learns it while planning)
	parent    plumbing.Hash // zero for a root commit
	entries   []object.TreeEntry
	newBlobs  map[string][]byte // stanzas to write, by package name
	subject   string
	body      string
	action    string
	trailers  [][2]string
	create    bool // the tag must not exist yet; the branch always moves
	unchanged bool
	replaced  []Replacement // entries an add replaced
}

// retryBudget bounds how long a write keeps retrying lost races; staleAfter
// is how long the same lock file may sit unchanged before a write gives up
// on it as probably left by a dead process.
const (
	retryBudget = 60 * time.Second
	staleAfter  = 3 * time.Second
)

// write runs compute against the current state of the stack and commits
// the result with a compare-and-swap on the stack's tag (and domain
// branch). When another writer got there first it re-reads, re-applies and
// tries again, within retryBudget; then it fails naming the stack.
func (r *Repo) write(id StackID, ident Identity, compute func() (*Stack, *plan, error)) (*Result, error) {
	var res *Result
	attempts, err := r.retry("stack "+id.String(), func() error {
		var err error
		res, err = r.tryWrite(ident, compute)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Attempts = attempts
	return res, nil
}

// retry runs try until it does not lose a race: while it fails with a
// *RefChangedError, or a *RefLockedError whose lock file keeps changing,
// it reopens the repository and tries again, within retryBudget. what
// names what is written, for the errors. It returns the number of tries.
func (r *Repo) retry(what string, try func() error) (int, error) {
	start := time.Now()
	var lockSeen struct {
		path  string
		since time.Time
		mtime time.Time
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			r.reopen()
		}
		err := try()
		if err == nil {
			return attempt, nil
		}
		var changed *RefChangedError
		var locked *RefLockedError
		switch {
		case errors.As(err, &changed):
		case errors.As(err, &locked):
			st, serr := os.Stat(locked.LockFile)
			if serr == nil {
				if lockSeen.path != locked.LockFile || !lockSeen.mtime.Equal(st.ModTime()) {
					lockSeen.path, lockSeen.mtime, lockSeen.since = locked.LockFile, st.ModTime(), time.Now()
				} else if time.Since(lockSeen.since) > staleAfter {
					return attempt, fmt.Errorf("%s: %w (it has not changed for %s)", what, err, staleAfter)
				}
			}
		default:
			return attempt, err
		}
		if time.Since(start) > retryBudget {
			return attempt, fmt.Errorf("%s: gave up after %d attempts in %s, other writers kept changing it: %w", what, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		backoff := time.Duration(1+rand.IntN(min(1<<min(attempt, 6), 50))) * time.Millisecond
		time.Sleep(backoff)
	}
}

func (r *Repo) tryWrite(ident Identity, compute func() (*Stack, *plan, error)) (*Result, error) {
	cur, p, err := compute()
	if err != nil {
		return nil, err
	}
	id := p.id
	if p.unchanged {
		return &Result{ID: id, Tag: cur.Tag, Commit: cur.Commit, Subject: p.subject, Unchanged: true, Replaced: p.replaced}, nil
	}
	tagHash, commitHash, err := r.writeObjects(ident, p)
	if err != nil {
		return nil, err
	}

	// One transaction: the tag moves from the state compute read; for a
	// change in place, the stack must still be unpublished (a push that
	// sealed it meanwhile makes this fail, and the retry refuses); the
	// domain branch moves with it.
	updates := []RefUpdate{{Name: id.TagRef(), New: tagHash}}
	if cur != nil {
		updates[0].Old = cur.Tag
		// Still unpublished when the change lands: a push that seals the
		// stack meanwhile makes this transaction fail, and the retry
		// refuses the change (see Repo.seal).
		updates = append(updates, RefUpdate{Name: id.publishedRef()})
	}
	branch, err := r.branchUpdate(id, cur, p.create, commitHash)
	if err != nil {
		return nil, err
	}
	if branch != nil {
		updates = append(updates, *branch)
	}
	// No push may have marked the stack (see pushingPrefix) when the change
	// lands. The mark's name holds the remote's, which a write does not
	// know, so it cannot be an expectation of the transaction; instead the
	// marks are read once git holds the lock of the tag, before it
	// commits. A push writes its marks in a transaction that verifies each
	// tag is still the object it sends, so it takes that lock too: either
	// its marks are committed before this transaction locks the tag, and
	// the check sees them (the change is refused), or this transaction
	// commits first, and the push's verification fails (it reads the
	// stack again, and sends the new contents). Without the lock the
	// write could read "no mark", the push mark the stack and send it,
	// and the write land after: the remote would have what this
	// repository no longer has.
	var check func() error
	if cur != nil {
		check = func() error { return r.unsealed(id) }
	}
	if err := r.refs.UpdateChecked("gachette: "+p.subject, check, updates...); err != nil {
		return nil, err
	}
	return &Result{ID: id, Tag: tagHash, Commit: commitHash, Subject: p.subject, Body: p.body, Replaced: p.replaced}, nil
}

// writeObjects writes the objects of a change planned by p (its stanzas,
// trees, commit and tag) and makes them durable; no ref points at them
// yet.
func (r *Repo) writeObjects(ident Identity, p *plan) (tagHash, commitHash plumbing.Hash, err error) {
	id := p.id
	written := []plumbing.Hash{}
	names := make([]string, 0, len(p.newBlobs))
	for n := range p.newBlobs {
		names = append(names, n)
	}
	sort.Strings(names)
	added := make([]object.TreeEntry, 0, len(names))
	for _, n := range names {
		h, err := r.writeBlob(p.newBlobs[n])
		if err != nil {
			return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("stack %s: write stanza of %s: %w", id, n, err)
		}
		written = append(written, h)
		added = append(added, object.TreeEntry{Name: n, Mode: filemode.Regular, Hash: h})
	}
	entries := mergeEntries(p.entries, added)
	rootTree := &object.Tree{}
	if len(entries) > 0 {
		pkgTree, err := r.writeObject(&object.Tree{Entries: entries})
		if err != nil {
			return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("stack %s: write tree: %w", id, err)
		}
		written = append(written, pkgTree)
		rootTree.Entries = []object.TreeEntry{{Name: packagesDir, Mode: filemode.Dir, Hash: pkgTree}}
	}
	rootHash, err := r.writeObject(rootTree)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("stack %s: write tree: %w", id, err)
	}
	written = append(written, rootHash)
	msg := p.subject + "\n\n"
	if p.body != "" {
		msg += p.body + "\n\n"
	}
	msg += "Gachette-Stack: " + id.String() + "\nGachette-Action: " + p.action + "\n"
	for _, t := range p.trailers {
		msg += t[0] + ": " + t[1] + "\n"
	}
	msg += "Gachette-Format: " + FormatVersion + "\n"
	commit := &object.Commit{Author: ident.Author, Committer: ident.Committer, Message: msg, TreeHash: rootHash}
	if !p.parent.IsZero() {
		commit.ParentHashes = []plumbing.Hash{p.parent}
	}
	commitHash, err = r.writeObject(commit)
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("stack %s: write commit: %w", id, err)
	}
	written = append(written, commitHash)
	tag := &object.Tag{
		Name:       id.String(),
		Tagger:     ident.Committer,
		Message:    fmt.Sprintf("%s: %s\n\n%s\n", id, countPackages(len(entries)), p.subject),
		TargetType: plumbing.CommitObject,
		Target:     commitHash,
	}
	if ident.Sign {
		tagHash, err = r.signedTag(ident, tag)
	} else {
		tagHash, err = r.writeObject(tag)
	}
	var signErr *SigningError
	if errors.As(err, &signErr) {
		return plumbing.ZeroHash, plumbing.ZeroHash, err
	}
	if err != nil {
		return plumbing.ZeroHash, plumbing.ZeroHash, fmt.Errorf("stack %s: write tag: %w", id, err)
	}
	written = append(written, tagHash)
	r.syncObjects(written...)
	return tagHash, commitHash, nil
}

func countPackages(n int) string {
	if n == 1 {
		return "1 package"
	}
	return fmt.Sprintf("%d packages", n)
}

// branchUpdate decides whether the domain branch moves with this change:
// always on create, and when the domain has no branch (it was deleted);
// otherwise when it points at the stack being changed (its commit carries
// this stack's Gachette-Stack trailer, which also heals a branch left one
// step behind by a crash between two renames).
func (r *Repo) branchUpdate(id StackID, cur *Stack, create bool, commit plumbing.Hash) (*RefUpdate, error) {
	name := BranchRef(id.Domain)
	b, err := r.refs.Lookup(name)
	if err != nil && !errors.Is(err, ErrRefNotFound) {
		return nil, err
	}
	move := create || b.IsZero()
	if !move {
		if b == cur.Commit {
			move = true
		} else if c, err := r.readCommit(b); err == nil && trailers(c.Message)["Gachette-Stack"] == id.String() {
			move = true
		}
	}
	if !move {
		return nil, nil
	}
	held, err := r.checkedOut()
	if err != nil {
		return nil, err
	}
	if h, ok := held[name]; ok {
		return nil, &CheckedOutError{Branch: name, WorkTree: h.WorkTree, State: h.State}
	}
	if create && !b.IsZero() {
		if _, ok := r.stackAtCommit(id.Domain, b); !ok {
			return nil, &NotStackBranchError{Branch: name, Domain: id.Domain, Commit: b, Repo: r.Dir}
		}
	}
	return &RefUpdate{Name: name, Old: b, New: commit}, nil
}

// mergeEntries is entries with added put in, each replacing the entry of
// its name; both are sorted by name, and so is the result (one pass: an
// add of a 20,000-package index is not 20,000 copies of the tree).
func mergeEntries(entries, added []object.TreeEntry) []object.TreeEntry {
	out := make([]object.TreeEntry, 0, len(entries)+len(added))
	i := 0
	for _, e := range added {
		for i < len(entries) && entries[i].Name < e.Name {
			out = append(out, entries[i])
			i++
		}
		if i < len(entries) && entries[i].Name == e.Name {
			i++
		}
		out = append(out, e)
	}
	return append(out, entries[i:]...)
}

// Create makes a new stack: empty (a root commit of the empty tree) when
// from is nil, else a copy of from whose commit becomes its parent.
func (r *Repo) Create(id StackID, from *StackID, ident Identity) (*Result, error) {
	return r.write(id, ident, func() (*Stack, *plan, error) {
		return r.planCreate(id, from)
	})
}

func (r *Repo) planCreate(id StackID, from *StackID) (*Stack, *plan, error) {
	if _, err := r.refs.Lookup(id.TagRef()); err == nil {
		return nil, nil, &ExistsError{ID: id}
	} else if !errors.Is(err, ErrRefNotFound) {
		return nil, nil, err
	}
	p := &plan{id: id, action: "create", create: true}
	if from == nil {
		p.subject = id.String() + ": create empty"
		return nil, p, nil
	}
	src, err := r.Stack(*from)
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) {
			return nil, nil, fmt.Errorf("cannot create %s from %s: %w", id, *from, err)
		}
		return nil, nil, err
	}
	// every stanza read as show reads it: a stack that is not one (a
	// stanza naming another package) is not copied
	if _, err := r.Packages(src); err != nil {
		return nil, nil, fmt.Errorf("cannot create %s from %s: %w", id, *from, err)
	}
	p.parent = src.Commit
	p.entries = src.entries
	p.subject = fmt.Sprintf("%s: create from %s", id, src.ID)
	p.trailers = [][2]string{{"Gachette-From", src.ID.String()}}
	return nil, p, nil
}

// CreateBump makes the stack that follows the domain's highest semver
// stack (see semverx.Bump), from it unless empty is set.
func (r *Repo) CreateBump(domain string, part semverx.Part, empty bool, ident Identity) (*Result, error) {
	return r.write(StackID{Domain: domain, Name: "(next " + string(part) + ")"}, ident, func() (*Stack, *plan, error) {
		list, err := r.List(domain, false)
		if err != nil {
			return nil, nil, err
		}
		names := make([]string, len(list))
		for i, s := range list {
			names[i] = s.ID.Name
		}
		highest, ok := semverx.Highest(names)
		if !ok {
			return nil, nil, fmt.Errorf("domain %s has no stack named as a version (like 1.0.0 or 124) to bump from; create the first one by name: git gachette stack create 1.0.0 --domain %s", domain, domain)
		}
		next, err := semverx.Bump(highest, part)
		if err != nil {
			return nil, nil, err
		}
		id := StackID{Domain: domain, Name: next}
		if err := CheckName("stack", next); err != nil {
			return nil, nil, err
		}
		from := &StackID{Domain: domain, Name: highest}
		if empty {
			from = nil
		}
		return r.planCreate(id, from)
	})
}

// Add puts packages into a stack in one commit, replacing any entry of the
// same name, whatever it records (AddPackages refuses to lose recorded
// fields at the same version). Adding exactly what is there already
// writes nothing.
func (r *Repo) Add(id StackID, pkgs []Package, ident Identity) (*Result, error) {
	return r.add(id, pkgs, ident, addOptions{replace: true})
}

// addOptions: with since set, add adds onto that state of the stack
// only, and fails with a *ChangedSinceError if the stack is at another
// commit; without replace, it refuses (*SameVersionError) to replace an
// entry by one of the same version that lacks fields the entry records.
type addOptions struct {
	since   *Stack
	replace bool
}

func (r *Repo) add(id StackID, pkgs []Package, ident Identity, o addOptions) (*Result, error) {
	if len(pkgs) == 0 {
		return nil, fmt.Errorf("stack %s: no package to add", id)
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("stack %s: %w", id, err)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("package %s is given twice", p.Name)
		}
		seen[p.Name] = true
	}
	return r.write(id, ident, func() (*Stack, *plan, error) {
		cur, err := r.writable(id)
		if err != nil {
			return nil, nil, err
		}
		if o.since != nil && cur.Commit != o.since.Commit {
			return nil, nil, r.changedSince(o.since, cur)
		}
		p := &plan{id: id, parent: cur.Commit, entries: cur.entries, newBlobs: map[string][]byte{}, action: "add"}
		var lines []string
		var refused []Replacement
		for _, pkg := range pkgs {
			stanza := pkg.Stanza()
			line := pkg.Name + " " + pkg.Version
			if old, ok := cur.entry(pkg.Name); ok {
				if old.Hash == plumbing.ComputeHash(plumbing.BlobObject, stanza) {
					continue
				}
				prev, err := r.readPackage(cur, old)
				if err != nil {
					return nil, nil, err
				}
				rep := replacement(prev, pkg)
				if !o.replace && rep.sameVersion() && len(rep.Removed) > 0 {
					refused = append(refused, rep)
				}
				p.replaced = append(p.replaced, rep)
				line = rep.String()
			}
			p.newBlobs[pkg.Name] = stanza
			lines = append(lines, line)
		}
		if len(refused) > 0 {
			return nil, nil, &SameVersionError{ID: id, Entries: refused}
		}
		p.unchanged = len(lines) == 0
		p.subject, p.body = summary(id, "add", lines)
		if len(lines) == 1 && len(p.replaced) == 1 {
			// One package: the subject keeps the headline, "add dh-app
			// 2.1.0 (was 2.0.0)", and the body the fields that changed;
			// at the same version the fields are the headline.
			if rep := p.replaced[0]; rep.Version != rep.PreviousVersion || rep.Details() == "" {
				p.subject, p.body = summary(id, "add", []string{rep.Name + " " + rep.Version + " (was " + rep.PreviousVersion + ")"})
				if rep.Details() != "" {
					p.body = rep.String()
				}
			}
		}
		if p.unchanged {
			p.subject = fmt.Sprintf("%s: unchanged, the same entries are there already", id)
		}
		return cur, p, nil
	})
}

// Remove takes packages out of a stack in one commit. Every name must be
// in the stack.
func (r *Repo) Remove(id StackID, names []string, ident Identity) (*Result, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("stack %s: no package to remove", id)
	}
	for _, n := range names {
		if err := checkPackageName(n); err != nil {
			return nil, err
		}
	}
	return r.write(id, ident, func() (*Stack, *plan, error) {
		cur, err := r.writable(id)
		if err != nil {
			return nil, nil, err
		}
		gone := map[string]bool{}
		var lines []string
		for _, n := range names {
			e, ok := cur.entry(n)
			if !ok {
				return nil, nil, fmt.Errorf("stack %s has no package %s; see its packages with: git gachette stack show %s", id, n, id)
			}
			if gone[n] {
				continue
			}
			prev, err := r.readPackage(cur, e)
			if err != nil {
				return nil, nil, err
			}
			gone[n] = true
			lines = append(lines, n+" (was "+prev.Version+")")
		}
		p := &plan{id: id, parent: cur.Commit, action: "remove"}
		for _, e := range cur.entries {
			if !gone[e.Name] {
				p.entries = append(p.entries, e)
			}
		}
		p.subject, p.body = summary(id, "remove", lines)
		return cur, p, nil
	})
}

// CheckWritable reports whether the stack exists and may change in place,
// so that a long job (a build) can fail before it starts rather than after.
func (r *Repo) CheckWritable(id StackID) error {
	_, err := r.writable(id)
	return err
}

// writable reads a stack for an in-place change, refusing sealed ones
// (*PublishedError): published (a remote has it, or may: see published),
// or run by a channel (see channelSeal).
func (r *Repo) writable(id StackID) (*Stack, error) {
	cur, err := r.Stack(id)
	if err != nil {
		return nil, err
	}
	where, err := r.published(cur)
	if err != nil {
		return nil, err
	}
	if where != "" {
		return nil, &PublishedError{ID: id, Where: where}
	}
	if err := r.channelSeal(id); err != nil {
		return nil, err
	}
	return cur, nil
}

// unsealed is what of writable's rule a change checks again while git
// holds the lock of the stack's tag, before it commits (the published
// mark is an expectation of the transaction itself): no push marked the
// stack, and no channel ran it. A push marks, and a promotion moves a
// channel, in a transaction that verifies the tag, so it takes that lock
// too: either it committed before, and this sees it, or it comes after,
// and its verification fails.
func (r *Repo) unsealed(id StackID) error {
	if err := r.checkUnmarked(id); err != nil {
		return err
	}
	return r.channelSeal(id)
}

// summary makes a commit subject (and a body when several packages change).
func summary(id StackID, verb string, lines []string) (string, string) {
	if len(lines) == 1 {
		return fmt.Sprintf("%s: %s %s", id, verb, lines[0]), ""
	}
	return fmt.Sprintf("%s: %s %d packages", id, verb, len(lines)), "  " + strings.Join(lines, "\n  ")
}
