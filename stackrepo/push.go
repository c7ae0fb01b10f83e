package stackrepo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/ops-hero/git-gachette/semverx"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// PushResult tells what a push did.
type PushResult struct {
	// Remote is the remote as shown: its name, or its URL without user
	// information.
	Remote string
	// Atomic is false when the remote does not take a push as one
	// transaction: its refs were then updated one by one.
	Atomic bool
	// Pushed are new on the remote, and sealed here.
	Pushed []StackID
	// UpToDate were on the remote already, as the same tag objects, and
	// are sealed here.
	UpToDate []StackID
	// Branches are the domain branches moved on the remote.
	Branches []string
	// Channels are the channels (domain/env) moved on the remote.
	Channels []string
	// Rejected are the refs that the remote (or git, before sending)
	// refused, with the reason; nothing of them is sealed.
	Rejected []Rejection
	// Changed were accepted by the remote as they were when the push
	// read them, but changed here meanwhile: they are not sealed, and the
	// remote keeps what it accepted.
	Changed  []StackID
	Warnings []string
	// Contacted is false when the remote had everything, as last pushed
	// or fetched, and no git push ran.
	Contacted bool
}

// Rejection is a ref that a push did not update.
type Rejection struct {
	Ref    string // the remote's ref, e.g. refs/tags/main/3
	Stack  string // the stack whose tag it is ("" for a branch)
	Reason string // git's or the server's reason, e.g. "hook declined"
	// ByServer says the server refused it (git had sent it).
	ByServer bool
	// Unsettled says the refusal does not settle what the remote has:
	// another push to it may still land the stack (its mark stays).
	Unsettled bool
}

// ConflictError lists stacks that differ between here and a remote.
type ConflictError struct {
	Remote string
	Stacks []string
	Fetch  bool
	// Others says what became of the other stacks of a push.
	Others string
}

func (e *ConflictError) Error() string {
	if e.Fetch {
		return fmt.Sprintf("remote %s has different stacks under the same names: %s; they were left as they are here. "+
			"To keep both, rename yours (git gachette stack rename STACK NEW), then fetch again; "+
			"or delete yours (git gachette stack delete STACK) to take the remote's", e.Remote, strings.Join(e.Stacks, ", "))
	}
	return fmt.Sprintf("remote %s already has different stacks under the same names: %s; %s. "+
		"Published stacks never change: rename yours (git gachette stack rename STACK NEW), fetch, and push again", e.Remote, strings.Join(e.Stacks, ", "), e.Others)
}

// RejectedError says the remote refused refs of a push.
type RejectedError struct {
	Remote string
	Refs   []Rejection
	Atomic bool
}

func (e *RejectedError) Error() string {
	parts := make([]string, len(e.Refs))
	for i, rj := range e.Refs {
		parts[i] = rj.Ref + " (" + termtext.Escape(rj.Reason) + ")"
	}
	what := "nothing was pushed: the remote takes a push as one transaction"
	if !e.Atomic {
		what = "what it accepted was pushed and is sealed here, the rest is not"
	}
	msg := fmt.Sprintf("remote %s refused %s; %s", e.Remote, strings.Join(parts, ", "), what)
	for _, rj := range e.Refs {
		if rj.ByServer {
			return msg + ". The remote's own messages (remote: …) above say why"
		}
	}
	return msg
}

// pushTag is a stack as a push reads it, once: the exact tag object sent,
// and the commit it tags. Nothing read later changes what is pushed or
// sealed.
type pushTag struct {
	id     StackID
	tag    plumbing.Hash
	commit plumbing.Hash
}

// pusher is one push in progress.
type pusher struct {
	r   *Repo
	rm  Remote
	opt RemoteOptions
	res *PushResult
	// tags are the stacks to send; known are those the remote has at the
	// same tag objects, as last seen (see split).
	tags, known []*pushTag
	// chans are the channels of the pushed domains, as read at the start.
	chans []Ref
	ns    string
	// pinned is the namespace holding the tags sent, when they are too
	// many to name one by one (see maxExplicit); unpinned says its
	// deletion is made.
	pinned   string
	unpinned bool
	// warned keeps branch warnings from repeating across attempts.
	warned map[string]bool
	// created counts the refs the push created here.
	created int
	// pns holds the marks of this remote's stacks being pushed
	// (refs/gachette/pushing/<remote>/<domain>/<stack>); marks are those
	// there, by name, at the tag objects sent.
	pns   string
	marks map[string]plumbing.Hash
	// learned is where the remote's domain branches are, as git said
	// after a lease failed (zero: the remote has none).
	learned map[string]plumbing.Hash
}

// pushingPrefix holds a mark per stack a push sent, or was about to send,
// whose outcome is not recorded here yet
// (refs/gachette/pushing/<remote>/<domain>/<stack>, at the tag object
// sent). It is written before git push starts and deleted with the seal,
// or once the remote's answer says it does not have the stack; a push
// interrupted (or killed) in between leaves it, and while it is there the
// stack does not change here: the remote may have it. The next push to
// that remote sends the stack again, and the next fetch from it sees
// whether it is there: either settles the mark.
const pushingPrefix = "refs/gachette/pushing/"

// maxLeaseTries bounds how often a push tries again after the remote's
// domain branch moved under it (a concurrent push).
const maxLeaseTries = 4

// maxExplicit is how many stacks a push names one by one
// (<tag-id>:refs/tags/<domain>/<name>). git matches every explicit
// refspec against every local ref, so naming 10,000 takes minutes; a
// larger push pins the exact tag objects it read under a namespace of its
// own (refs/gachette/push/<pid>-<n>/tags/…) and pushes them with one
// pattern refspec, then deletes the namespace.
const maxExplicit = 32

// PushDomain pushes every stack of domain (Push).
func (r *Repo) PushDomain(ctx context.Context, rm Remote, domain string, opt RemoteOptions) (*PushResult, error) {
	list, err := r.List(domain, false)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("domain %s has no stack to push; create one with: git gachette stack create NAME", domain)
	}
	ids := make([]StackID, len(list))
	for i, s := range list {
		ids[i] = s.ID
	}
	return r.Push(ctx, rm, ids, opt)
}

// Push publishes stacks, through git push --porcelain with explicit
// refspecs: each stack's tag as the exact tag object read when the push
// started (<tag-id>:refs/tags/<domain>/<name>, never overwriting one the
// remote has), and each domain's branch moved to the newest stack the
// remote will have, with a lease on what the remote's branch was
// (--force-with-lease). Where the remote supports it the push is atomic:
// all or nothing. Otherwise (the remote says it does not support
// --atomic) the tags go first, one by one, then the branches to the
// newest stacks that landed.
//
// The stacks the remote accepted, at the tag objects it accepted, are
// then sealed here by compare-and-swap (refs/gachette/published/…),
// together with a check that the stack's tag has not moved since: a stack
// changed meanwhile is not sealed (PushResult.Changed). Nothing rejected
// is sealed. Rejections are returned as *ConflictError (the remote has
// another stack under the name) and *RejectedError (the remote refused).
func (r *Repo) Push(ctx context.Context, rm Remote, ids []StackID, opt RemoteOptions) (*PushResult, error) {
	if r.Dir == "" {
		return nil, fmt.Errorf("push needs a repository on disk")
	}
	if opt.Sign {
		if _, err := r.signForPush(ids); err != nil {
			return nil, err
		}
	}
	var p *pusher
	var err error
	for attempt := 1; ; attempt++ {
		var tags []*pushTag
		var chans []Ref
		if tags, err = r.readPushTags(ids); err != nil {
			return nil, err
		}
		if chans, err = r.pushChannels(tags); err != nil {
			return nil, err
		}
		p = &pusher{r: r, rm: rm, opt: opt, res: &PushResult{Remote: rm.String(), Atomic: true}, tags: tags, chans: chans, ns: rm.namespace(), warned: map[string]bool{}}
		p.pns = rm.pushingNS()
		if err := p.unsettled(); err != nil {
			return nil, err
		}
		if err := p.goneMarks(); err != nil {
			return nil, err
		}
		if err := p.split(); err != nil {
			return nil, err
		}
		err = p.push(ctx)
		if err == errTagMoved && attempt < maxMarkTries {
			// a stack changed before it was marked: nothing was sent
			r.reopen()
			continue
		}
		if err == errTagMoved {
			err = fmt.Errorf("push to %s: stacks kept changing here while the push started; push again", rm)
		}
		break
	}
	if outcomeKnown(err) {
		p.unmark(settledBy(err))
	}
	if p.created >= packRefsAfter {
		// as fetch does: thousands of loose refs would slow every listing
		if _, perr := r.git.Output(context.Background(), nil, "pack-refs", "--all"); perr != nil {
			p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("git pack-refs --all failed (the push itself is complete): %v", perr))
		}
	}
	if len(p.res.Changed) > 0 {
		err = errors.Join(err, &ChangedError{Remote: rm.String(), Stacks: idStrings(p.res.Changed)})
	}
	return p.res, err
}

// ChangedError says stacks changed here while a push sent them: the
// remote has them as the push read them, and they are not sealed here.
type ChangedError struct {
	Remote string
	Stacks []string
}

func (e *ChangedError) Error() string {
	if len(e.Stacks) == 1 {
		return fmt.Sprintf("stack %s changed here while it was pushed: remote %s has it as it was when the push started, and it is not sealed here; "+
			"to publish its new contents, make a new stack from it (git gachette stack create NEW --from %s) and push that", e.Stacks[0], e.Remote, e.Stacks[0])
	}
	return fmt.Sprintf("stacks %s changed here while they were pushed: remote %s has them as they were when the push started, and they are not sealed here; "+
		"to publish their new contents, make new stacks from them (git gachette stack create NEW --from STACK) and push those", strings.Join(e.Stacks, ", "), e.Remote)
}

// checkUnmarked fails with a *PublishedError when a push to any remote
// has marked the stack (see pushingPrefix).
func (r *Repo) checkUnmarked(id StackID) error {
	marks, err := r.refs.List(pushingPrefix)
	if err != nil {
		return err
	}
	for _, m := range marks {
		if key, ok := strings.CutSuffix(strings.TrimPrefix(m.Name, pushingPrefix), "/"+id.String()); ok && !strings.Contains(key, "/") {
			return &PublishedError{ID: id, Pushing: key, Mark: m.Name, Clear: r.clearMark(m), Gone: r.remoteGone(key)}
		}
	}
	return nil
}

// clearMark is the command that deletes a mark, if it is still where it
// was seen (a push that marks the stack again meanwhile keeps its mark).
func (r *Repo) clearMark(m Ref) string {
	return "git --git-dir=" + ShellWord(r.Dir) + " update-ref -d " + m.Name + " " + m.Hash.String()
}

// remoteGone reports whether a mark's remote key names a remote that is no
// longer configured here (a URL's digest says nothing: false).
func (r *Repo) remoteGone(key string) bool {
	if strings.HasPrefix(key, "url-") || r.cfg == nil {
		return false
	}
	_, ok := r.cfg.Get("remote." + key + ".url")
	return !ok
}

// goneMarks warns of the marks left by pushes to remotes no longer
// configured here: no push or fetch of theirs can settle them, so each
// comes with the command that deletes it.
func (p *pusher) goneMarks() error {
	marks, err := p.r.refs.List(pushingPrefix)
	if err != nil {
		return err
	}
	for _, m := range marks {
		key, rest, ok := strings.Cut(strings.TrimPrefix(m.Name, pushingPrefix), "/")
		if !ok || strings.HasPrefix(m.Name, p.pns) || !p.r.remoteGone(key) {
			continue
		}
		p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("stack %s is marked as being pushed to remote %s, which is no longer configured here, "+
			"so it may not change here; if that remote is gone for good, delete the mark: %s", rest, key, p.r.clearMark(m)))
	}
	return nil
}

// pushingNS is where marks of stacks being pushed to rm are kept.
func (rm Remote) pushingNS() string {
	return pushingPrefix + strings.TrimPrefix(rm.namespace(), "refs/gachette/remotes/")
}

// unsettled reads the marks an interrupted push to this remote left, and
// adds their stacks to this push: sending them again settles them (the
// remote has them as they are, or takes them now, and they are sealed; or
// it refuses them, and they are not on it). A mark whose stack is gone
// here is deleted when the push ends.
func (p *pusher) unsettled() error {
	marks, err := p.r.refs.List(p.pns)
	if err != nil {
		return err
	}
	p.marks = make(map[string]plumbing.Hash, len(marks))
	have := map[StackID]bool{}
	for _, t := range p.tags {
		have[t.id] = true
	}
	for _, m := range marks {
		p.marks[m.Name] = m.Hash
		d, n, ok := strings.Cut(strings.TrimPrefix(m.Name, p.pns), "/")
		id := StackID{Domain: d, Name: n}
		if !ok || have[id] || CheckName("domain", d) != nil || CheckName("stack", n) != nil {
			continue
		}
		have[id] = true
		more, err := p.r.readPushTags([]StackID{id})
		var nf *NotFoundError
		switch {
		case errors.As(err, &nf):
		case err != nil:
			return err
		default:
			p.tags = append(p.tags, more...)
		}
	}
	return nil
}

// mark records, before git push starts, that the stacks of tags are being
// pushed: each mark at the tag object sent (see pushingPrefix).
func (p *pusher) markUpdates(tags []*pushTag) []RefUpdate {
	var ups []RefUpdate
	for _, t := range tags {
		if name := p.pns + t.id.String(); p.marks[name] != t.tag {
			// The tag is verified (and locked) with the mark: a write of
			// the stack checks for marks while it holds that lock (see
			// Repo.tryWrite), so the two never overlap.
			ups = append(ups, RefUpdate{Name: name, Old: p.marks[name], New: t.tag},
				RefUpdate{Name: t.id.TagRef(), Old: t.tag, New: t.tag})
		}
	}
	return ups
}

// errTagMoved says a stack changed here between the moment the push read
// it and the moment it marked it: the push starts again from the new
// contents (nothing was sent).
var errTagMoved = errors.New("a stack changed here before it was marked")

// markFailed sorts out why a transaction writing marks failed: a tag that
// moved is errTagMoved; a lock held (by a write that holds the tag's lock
// while it looks for marks, for a few milliseconds) is worth another try.
func markFailed(err error) (retry bool, _ error) {
	var changed *RefChangedError
	var locked *RefLockedError
	switch {
	case errors.As(err, &changed) && strings.HasPrefix(changed.Name, "refs/tags/"):
		return false, errTagMoved
	case errors.As(err, &locked):
		return true, err
	}
	return false, err
}

// mark writes the marks of the stacks sent, in one ref transaction; a
// concurrent push of the same stacks to the same remote may have written
// some meanwhile: they are read again.
func (p *pusher) mark() error {
	for attempt := 1; ; attempt++ {
		ups := p.markUpdates(p.tags)
		if len(ups) == 0 {
			return nil
		}
		err := p.r.refs.Update("gachette: push to "+p.rm.String()+" (mark the stacks sent)", ups...)
		if err == nil {
			p.marked(ups)
			return nil
		}
		retry, err := markFailed(err)
		var changed *RefChangedError
		switch {
		case err == errTagMoved:
			return err
		case retry && attempt < maxMarkTries:
			time.Sleep(time.Duration(attempt*(10+rand.IntN(20))) * time.Millisecond)
		case errors.As(err, &changed) && attempt < maxMarkTries:
			names := make([]string, len(p.tags))
			for i, t := range p.tags {
				names[i] = p.pns + t.id.String()
			}
			cur, lerr := p.r.lookupMany(names)
			if lerr != nil {
				return lerr
			}
			for _, n := range names {
				if h, ok := cur[n]; ok {
					p.marks[n] = h
				} else {
					delete(p.marks, n)
				}
			}
		default:
			return fmt.Errorf("push to %s: %w", p.rm, err)
		}
	}
}

// maxMarkTries bounds the attempts to write the marks.
const maxMarkTries = 12

// marked notes the marks ups wrote.
func (p *pusher) marked(ups []RefUpdate) {
	if p.marks == nil {
		p.marks = map[string]plumbing.Hash{}
	}
	for _, u := range ups {
		if strings.HasPrefix(u.Name, p.pns) {
			if u.New.IsZero() {
				delete(p.marks, u.Name)
			} else {
				p.marks[u.Name] = u.New
			}
		}
	}
}

// unmark deletes the marks left once the remote's answer is known: their
// stacks were refused, or are gone here; only (when only is not nil)
// limits it to the stacks named there.
func (p *pusher) unmark(only map[string]bool) {
	if only != nil {
		for name := range p.marks {
			if !only[strings.TrimPrefix(name, p.pns)] {
				delete(p.marks, name)
			}
		}
	}
	if len(p.marks) == 0 {
		return
	}
	var err error
	for attempt := 1; attempt <= maxLeaseTries; attempt++ {
		// as they are now: a concurrent push of the same stacks may have
		// settled some
		cur, lerr := p.r.lookupMany(sortedKeys(p.marks))
		if lerr != nil {
			err = lerr
			break
		}
		var ups []RefUpdate
		for _, name := range sortedKeys(cur) {
			ups = append(ups, RefUpdate{Name: name, Old: cur[name]})
		}
		if len(ups) == 0 {
			p.marks = nil
			return
		}
		if err = p.r.refs.Update("gachette: push to "+p.rm.String()+" (settled)", ups...); err == nil {
			p.marks = nil
			return
		}
		var changed *RefChangedError
		if !errors.As(err, &changed) {
			break
		}
	}
	if err != nil {
		p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("the marks of the stacks this push sent could not be deleted (%v): "+
			"those stacks stay unchangeable here until the next push or fetch of %s", err, p.rm))
	}
}

// settledBy says which marks a push that returned err (with a known
// outcome) may delete: nil for all of them (it succeeded, or nothing was
// sent), else the stacks the remote refused for a reason of their own
// (another stack there under the name, a hook that declined that tag).
// A stack refused only because something else was (an atomic push that
// failed on a branch's lease, or on a ref the remote could not lock) keeps
// its mark: another push of it may be under way, relying on that mark, and
// the remote may take it from that one; the next push or fetch settles it.
func settledBy(err error) map[string]bool {
	var only map[string]bool
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case *ConflictError:
			for _, st := range e.Stacks {
				only[st] = true
			}
		case *RejectedError:
			for _, rj := range e.Refs {
				if rj.Stack != "" && !rj.Unsettled {
					only[rj.Stack] = true
				}
			}
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		}
	}
	switch err.(type) {
	case *ConflictError, *RejectedError, interface{ Unwrap() []error }:
		only = map[string]bool{}
		walk(err)
	}
	return only
}

// outcomeKnown reports whether a push that returned err knows what the
// remote did with every stack it sent: it succeeded, or the remote (or
// git, before sending) refused some, or git failed as a whole, saying so
// (no such remote, no access: git updates no ref without reporting it).
// Any other failure (interrupted, git killed, the seal failed) leaves the
// marks in place.
func outcomeKnown(err error) bool {
	switch e := err.(type) {
	case nil, *ConflictError, *RejectedError, *NoSuchRemoteError:
		return true
	case *RemoteError:
		return !killedBy(e.Err, syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGPIPE, syscall.SIGSEGV, syscall.SIGABRT)
	case interface{ Unwrap() []error }:
		for _, x := range e.Unwrap() {
			if !outcomeKnown(x) {
				return false
			}
		}
		return true
	}
	return false
}

// readPushTags reads the tag and commit of each stack once. Many stacks
// are read with one listing per domain (a lookup each would scan
// packed-refs each time).
func (r *Repo) readPushTags(ids []StackID) ([]*pushTag, error) {
	seen := map[StackID]bool{}
	var names []string
	var uniq []StackID
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
			names = append(names, id.TagRef())
		}
	}
	refs, err := r.lookupMany(names)
	if err != nil {
		return nil, err
	}
	out := make([]*pushTag, 0, len(uniq))
	for _, id := range uniq {
		tag, ok := refs[id.TagRef()]
		if !ok {
			return nil, r.notFound(id)
		}
		commit, err := r.peelTag(id, tag)
		if err != nil {
			return nil, err
		}
		out = append(out, &pushTag{id: id, tag: tag, commit: commit})
	}
	return out, nil
}

// pushChannels lists the channels of the domains of tags
// (refs/gachette/channels/<domain>/<env>): push carries them, fast-forward
// only.
func (r *Repo) pushChannels(tags []*pushTag) ([]Ref, error) {
	domains := map[string]bool{}
	for _, t := range tags {
		domains[t.id.Domain] = true
	}
	var out []Ref
	for _, d := range sortedKeys(domains) {
		refs, err := r.refs.List("refs/gachette/channels/" + d + "/")
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if CheckName("channel", strings.TrimPrefix(ref.Name, "refs/gachette/channels/"+d+"/")) == nil {
				out = append(out, ref)
			}
		}
	}
	return out, nil
}

// lookupMany reads references by name: a lookup each for a few, one
// listing per directory for many.
func (r *Repo) lookupMany(names []string) (map[string]plumbing.Hash, error) {
	out := make(map[string]plumbing.Hash, len(names))
	if len(names) <= 16 {
		for _, n := range names {
			h, err := r.refs.Lookup(n)
			if errors.Is(err, ErrRefNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			out[n] = h
		}
		return out, nil
	}
	want := map[string]bool{}
	dirs := map[string]bool{}
	for _, n := range names {
		want[n] = true
		dirs[n[:strings.LastIndexByte(n, '/')+1]] = true
	}
	for _, d := range sortedKeys(dirs) {
		refs, err := r.refs.List(d)
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if want[ref.Name] {
				out[ref.Name] = ref.Hash
			}
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// split sets aside the stacks and channels that the remote has as they
// are here, as last seen (the namespace, which fetch mirrors and push
// records): they are not sent again, so that a push of a domain of
// thousands of stacks with nothing new runs no git push and writes no
// ref. A remote whose refs were removed behind git-gachette's back gets
// them again after a fetch.
func (p *pusher) split() error {
	names := make([]string, 0, len(p.tags)+len(p.chans))
	for _, t := range p.tags {
		names = append(names, p.ns+"tags/"+t.id.String())
	}
	for _, c := range p.chans {
		names = append(names, p.ns+"channels/"+strings.TrimPrefix(c.Name, "refs/gachette/channels/"))
	}
	seen, err := p.r.lookupMany(names)
	if err != nil {
		return err
	}
	send := p.tags[:0:0]
	for _, t := range p.tags {
		if seen[p.ns+"tags/"+t.id.String()] == t.tag {
			p.known = append(p.known, t)
		} else {
			send = append(send, t)
		}
	}
	p.tags = send
	chans := p.chans[:0:0]
	for _, c := range p.chans {
		if seen[p.ns+"channels/"+strings.TrimPrefix(c.Name, "refs/gachette/channels/")] != c.Hash {
			chans = append(chans, c)
		}
	}
	p.chans = chans
	return nil
}

// all is every stack of the push: sent, or known to the remote.
func (p *pusher) all() []*pushTag {
	return append(p.known[:len(p.known):len(p.known)], p.tags...)
}

func (p *pusher) push(ctx context.Context) error {
	if len(p.known) > 0 {
		// sealed now if they are not yet: the remote has them
		st := make(map[string]refStatus, len(p.known))
		for _, t := range p.known {
			st[t.id.TagRef()] = refStatus{flag: '='}
		}
		if err := p.landed(p.known, st, nil); err != nil {
			return err
		}
	}
	if len(p.tags) == 0 && len(p.chans) == 0 && len(p.planBranches(p.known, false)) == 0 {
		return nil // nothing new: no git push
	}
	if len(p.tags) > maxExplicit {
		unpin, err := p.pin()
		if err != nil {
			return err
		}
		defer unpin()
	} else if err := p.mark(); err != nil {
		return err
	}
	err := p.atomic(ctx)
	if !errors.Is(err, errNoAtomic) {
		return err
	}
	p.res.Atomic = false
	p.res.Warnings = append(p.res.Warnings, fmt.Sprintf("remote %s does not support atomic push (receive.advertiseAtomic is false there): "+
		"its refs were updated one by one, and only the stacks it accepted are sealed here", p.rm))
	return p.inPhases(ctx)
}

// pinPrefix holds the namespaces of pushes in progress (see maxExplicit).
const pinPrefix = "refs/gachette/push/"

// pin writes the tags of the push under a namespace of its own, at the
// tag objects read, in one ref transaction; namespaces left by pushes
// that died are deleted in the same transaction. unpin deletes it.
func (p *pusher) pin() (unpin func(), err error) {
	p.pinned = fmt.Sprintf("%s%d-%d/", pinPrefix, os.Getpid(), time.Now().UnixNano())
	ups := make([]RefUpdate, 0, len(p.tags))
	for _, t := range p.tags {
		ups = append(ups, RefUpdate{Name: p.pinned + "tags/" + t.id.Domain + "/" + t.id.Name, New: t.tag})
	}
	stale, err := p.r.refs.List(pinPrefix)
	if err != nil {
		return nil, err
	}
	for _, ref := range stale {
		owner, _, _ := strings.Cut(strings.TrimPrefix(ref.Name, pinPrefix), "-")
		if pid, err := strconv.Atoi(owner); err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			ups = append(ups, RefUpdate{Name: ref.Name, Old: ref.Hash})
		}
	}
	marks := p.markUpdates(p.tags)
	for attempt := 1; ; attempt++ {
		err := p.r.refs.Update("gachette: push to "+p.rm.String()+" (pin the tags sent)", append(ups, marks...)...)
		if err == nil {
			break
		}
		retry, err := markFailed(err)
		if err == errTagMoved {
			return nil, err
		}
		if !retry || attempt >= maxMarkTries {
			return nil, fmt.Errorf("push to %s: %w", p.rm, err)
		}
		time.Sleep(time.Duration(attempt*(10+rand.IntN(20))) * time.Millisecond)
	}
	p.marked(marks)
	return func() {
		if !p.unpinned {
			// A failure leaves refs the next large push deletes.
			p.r.refs.Update("gachette: push to "+p.rm.String()+" (done)", p.pinDeletes()...)
		}
	}, nil
}

// pinDeletes is the deletion of the pinned tags (made with the seal when
// there is one, so that a large push runs one ref transaction less).
func (p *pusher) pinDeletes() []RefUpdate {
	del := make([]RefUpdate, len(p.tags))
	for i, t := range p.tags {
		del[i] = RefUpdate{Name: p.pinned + "tags/" + t.id.Domain + "/" + t.id.Name, Old: t.tag}
	}
	return del
}

// errNoAtomic says the remote refused --atomic before anything was sent.
var errNoAtomic = errors.New("the remote does not support atomic push")

// atomic pushes every tag and the domain branches in one atomic push, and
// tries again (a bounded number of times) when the only thing that failed
// is a branch lease: the remote's branch moved since it was last seen.
func (p *pusher) atomic(ctx context.Context) error {
	for attempt := 1; ; attempt++ {
		plans := p.planBranches(p.all(), attempt == maxLeaseTries)
		st, err := p.run(ctx, true, p.tags, plans, p.chans)
		if err != nil {
			return err
		}
		var rejected []Rejection
		var conflicts []string
		var stale []string
		for _, t := range p.tags {
			s, ok := st[t.id.TagRef()]
			switch {
			case !ok:
				rejected = append(rejected, Rejection{Ref: t.id.TagRef(), Stack: t.id.String(), Reason: "git reported nothing for it"})
			case s.accepted(), s.collateral():
			case s.reason == "already exists":
				conflicts = append(conflicts, t.id.String())
			default:
				rejected = append(rejected, Rejection{Ref: t.id.TagRef(), Stack: t.id.String(), Reason: s.reason, ByServer: s.byServer})
			}
		}
		for _, b := range plans {
			s, ok := st[BranchRef(b.domain)]
			switch {
			case !ok:
				rejected = append(rejected, Rejection{Ref: BranchRef(b.domain), Reason: "git reported nothing for it"})
			case s.accepted(), s.collateral():
			case s.reason == "stale info":
				stale = append(stale, b.domain)
			default:
				rejected = append(rejected, Rejection{Ref: BranchRef(b.domain), Reason: s.reason, ByServer: s.byServer})
			}
		}
		for _, c := range p.chans {
			switch s, ok := st[c.Name]; {
			case !ok:
				rejected = append(rejected, Rejection{Ref: c.Name, Reason: "git reported nothing for it"})
			case s.accepted(), s.collateral():
			default:
				rejected = append(rejected, p.channelRejection(ctx, c, s))
			}
		}
		allAccepted := len(rejected)+len(conflicts)+len(stale) == 0
		for _, s := range st {
			allAccepted = allAccepted && s.accepted()
		}
		if !allAccepted && len(rejected)+len(conflicts)+len(stale) == 0 {
			// Every ref failed together and none is named as the cause:
			// the remote's own ref transaction failed (a push landing
			// there meanwhile moved a branch from under the lease, or
			// still holds its locks). Nothing landed: learn where the
			// branches are now and try again; in the end, each is
			// refused with what the remote said.
			if attempt < maxLeaseTries {
				var domains []string
				for _, b := range plans {
					domains = append(domains, b.domain)
				}
				// (best effort: a push beside this one may be updating the
				// same remote-tracking refs here; the lease decides)
				if len(domains) > 0 {
					if err := p.refresh(ctx, domains); err != nil && ctx.Err() != nil {
						return err
					}
				}
				continue
			}
			rejected = p.unexplained(st, plans)
		}
		switch {
		case allAccepted:
			p.movedChannels(st)
			return p.landed(p.tags, st, plans)
		case len(rejected)+len(conflicts) == 0 && len(stale) > 0 && attempt < maxLeaseTries:
			// Only leases failed: learn where those branches are now.
			if err := p.refresh(ctx, stale); err != nil {
				return err
			}
			continue
		case len(rejected)+len(conflicts) == 0 && len(stale) > 0:
			rejected = append(rejected, Rejection{Ref: BranchRef(stale[0]), Reason: fmt.Sprintf("the remote's branch kept moving (%d attempts): another push is running; try again", attempt)})
		}
		p.res.Rejected = append(p.res.Rejected, rejected...)
		for _, c := range conflicts {
			p.res.Rejected = append(p.res.Rejected, Rejection{Ref: "refs/tags/" + c, Stack: c, Reason: "already exists"})
		}
		return p.failure(conflicts, rejected, "nothing was pushed")
	}
}

// unexplained is every ref of an atomic push the remote refused, each
// with the remote's reason and what to do: for when none of them is
// named as the cause (see refStatus.collateral). They settle nothing: the
// push that holds the remote's locks may still land them, so their
// marks stay until a later push or fetch sees what the remote has.
func (p *pusher) unexplained(st map[string]refStatus, plans []branchPlan) []Rejection {
	var out []Rejection
	add := func(ref, stack string) {
		if s, ok := st[ref]; ok && !s.accepted() {
			out = append(out, Rejection{Ref: ref, Stack: stack, ByServer: s.byServer, Unsettled: true,
				Reason: s.reason + ": the remote could not update its refs (another push to it may still be under way, see its message above); push again"})
		}
	}
	for _, t := range p.tags {
		add(t.id.TagRef(), t.id.String())
	}
	for _, b := range plans {
		add(BranchRef(b.domain), "")
	}
	for _, c := range p.chans {
		add(c.Name, "")
	}
	return out
}

// inPhases pushes to a remote without atomic push: the tags first, and
// what landed is sealed; then each domain branch, moved to the newest
// stack that landed (never to one the remote refused).
func (p *pusher) inPhases(ctx context.Context) error {
	var landed []*pushTag
	var rejected []Rejection
	var conflicts []string
	st, err := p.run(ctx, false, p.tags, nil, p.chans)
	if err != nil {
		return err
	}
	p.movedChannels(st)
	for _, c := range p.chans {
		if s, ok := st[c.Name]; ok && !s.accepted() {
			rejected = append(rejected, p.channelRejection(ctx, c, s))
		}
	}
	for _, t := range p.tags {
		s, found := st[t.id.TagRef()]
		switch {
		case !found:
			rejected = append(rejected, Rejection{Ref: t.id.TagRef(), Stack: t.id.String(), Reason: "git reported nothing for it"})
		case s.accepted():
			landed = append(landed, t)
		case s.reason == "already exists":
			conflicts = append(conflicts, t.id.String())
		default:
			rejected = append(rejected, Rejection{Ref: t.id.TagRef(), Stack: t.id.String(), Reason: s.reason, ByServer: s.byServer})
		}
	}
	if err := p.landed(landed, st, nil); err != nil {
		return err
	}
	// The branches, to the newest stacks that landed.
	for attempt := 1; attempt <= maxLeaseTries; attempt++ {
		plans := p.planBranches(append(p.known[:len(p.known):len(p.known)], landed...), attempt == maxLeaseTries)
		if len(plans) == 0 {
			break
		}
		st, err := p.run(ctx, false, nil, plans, nil)
		if err != nil {
			return err
		}
		var stale []string
		var moved []branchPlan
		for _, b := range plans {
			s, ok := st[BranchRef(b.domain)]
			switch {
			case ok && s.accepted():
				moved = append(moved, b)
			case ok && s.reason == "stale info" && attempt < maxLeaseTries:
				stale = append(stale, b.domain)
			case ok:
				rejected = append(rejected, Rejection{Ref: BranchRef(b.domain), Reason: s.reason, ByServer: s.byServer})
			default:
				rejected = append(rejected, Rejection{Ref: BranchRef(b.domain), Reason: "git reported nothing for it"})
			}
		}
		if err := p.landed(nil, st, moved); err != nil {
			return err
		}
		if len(stale) == 0 {
			break
		}
		if err := p.refresh(ctx, stale); err != nil {
			return err
		}
	}
	for _, c := range conflicts {
		p.res.Rejected = append(p.res.Rejected, Rejection{Ref: "refs/tags/" + c, Stack: c, Reason: "already exists"})
	}
	p.res.Rejected = append(p.res.Rejected, rejected...)
	if len(conflicts)+len(rejected) == 0 {
		return nil
	}
	return p.failure(conflicts, rejected, fmt.Sprintf("they were not pushed (%d other stacks were)", len(landed)))
}

func (p *pusher) failure(conflicts []string, rejected []Rejection, others string) error {
	var errs []error
	if len(conflicts) > 0 {
		errs = append(errs, &ConflictError{Remote: p.rm.String(), Stacks: conflicts, Others: others})
	}
	if len(rejected) > 0 {
		errs = append(errs, &RejectedError{Remote: p.rm.String(), Refs: rejected, Atomic: p.res.Atomic})
	}
	return errors.Join(errs...)
}

// run is one git push --porcelain of tags, branches and channels (never
// forced: a channel moves on the remote only by fast-forward). It returns the
// status of each ref, errNoAtomic when the remote refused --atomic, and
// an error when git failed without a word on any ref (no such remote, no
// access, network).
func (p *pusher) run(ctx context.Context, atomic bool, tags []*pushTag, plans []branchPlan, chans []Ref) (map[string]refStatus, error) {
	args := []string{"push", "--porcelain"}
	if atomic {
		args = append(args, "--atomic")
	}
	for _, b := range plans {
		args = append(args, "--force-with-lease="+BranchRef(b.domain)+":"+b.expect.String())
	}
	args = append(args, "--", p.rm.arg)
	if p.pinned != "" && len(tags) > 0 {
		args = append(args, p.pinned+"tags/*:refs/tags/*")
	} else {
		for _, t := range tags {
			args = append(args, t.tag.String()+":"+t.id.TagRef())
		}
	}
	for _, b := range plans {
		args = append(args, b.target.commit.String()+":"+BranchRef(b.domain))
	}
	for _, c := range chans {
		args = append(args, c.Hash.String()+":"+c.Name)
	}
	p.res.Contacted = true
	run := p.r.remoteGit(ctx, p.opt, args...)
	if ctx.Err() != nil {
		return nil, &InterruptedError{Op: "push to " + p.rm.String(), Left: "the remote may have what was sent: its stacks may not change here until the next push (or fetch) of " + p.rm.String() + " settles them", Err: ctx.Err()}
	}
	st := parsePorcelain(run.stdout)
	if run.err != nil && len(st) == 0 {
		if strings.Contains(run.rest, "does not support --atomic push") {
			return nil, errNoAtomic
		}
		return nil, p.r.remoteError("push", p.rm, run)
	}
	return st, nil
}

// movedChannels records the channels the remote moved.
func (p *pusher) movedChannels(st map[string]refStatus) {
	for _, c := range p.chans {
		if s, ok := st[c.Name]; ok && s.accepted() && s.flag != '=' {
			p.res.Channels = append(p.res.Channels, strings.TrimPrefix(c.Name, "refs/gachette/channels/"))
		}
	}
}

// landed seals the stacks whose tags the remote accepted and records the
// branches it moved, in one ref transaction: for each stack, a check
// that its tag is still the object pushed and the published mark set to
// it; for each branch, the remote's new value under the namespace. A
// stack whose tag moved meanwhile is left unsealed (PushResult.Changed).
func (p *pusher) landed(tags []*pushTag, st map[string]refStatus, moved []branchPlan) error {
	var pub []string
	for _, t := range tags {
		pub = append(pub, t.id.publishedRef(), p.ns+"tags/"+t.id.String(), p.pns+t.id.String())
	}
	var chans []Ref
	for _, c := range p.chans {
		if s, ok := st[c.Name]; ok && s.accepted() {
			chans = append(chans, c)
			pub = append(pub, p.ns+"channels/"+strings.TrimPrefix(c.Name, "refs/gachette/channels/"))
		}
	}
	var unpin []RefUpdate
	if p.pinned != "" && !p.unpinned && len(tags) > 0 {
		unpin = p.pinDeletes()
	}
	for attempt := 0; ; attempt++ {
		cur, err := p.r.lookupMany(pub)
		if err != nil {
			return err
		}
		var ups []RefUpdate
		for _, t := range tags {
			// what the remote now has, for the next push (see split)
			if seen := p.ns + "tags/" + t.id.String(); cur[seen] != t.tag {
				ups = append(ups, RefUpdate{Name: seen, Old: cur[seen], New: t.tag})
			}
			if cur[t.id.publishedRef()] == t.tag {
				continue
			}
			ups = append(ups, RefUpdate{Name: t.id.TagRef(), Old: t.tag, New: t.tag},
				RefUpdate{Name: t.id.publishedRef(), Old: cur[t.id.publishedRef()], New: t.tag})
		}
		for _, c := range chans {
			if seen := p.ns + "channels/" + strings.TrimPrefix(c.Name, "refs/gachette/channels/"); cur[seen] != c.Hash {
				ups = append(ups, RefUpdate{Name: seen, Old: cur[seen], New: c.Hash})
			}
		}
		for _, b := range moved {
			name := p.ns + "heads/" + b.domain
			old, err := p.r.refs.Lookup(name)
			if err != nil && !errors.Is(err, ErrRefNotFound) {
				return err
			}
			if old != b.target.commit {
				ups = append(ups, RefUpdate{Name: name, Old: old, New: b.target.commit})
			}
		}
		for _, t := range tags {
			// the mark goes with the seal (a concurrent push of the
			// stack may have deleted it already)
			if name := p.pns + t.id.String(); !cur[name].IsZero() {
				ups = append(ups, RefUpdate{Name: name, Old: cur[name]})
			} else {
				delete(p.marks, name)
			}
		}
		ups = append(ups, unpin...)
		if len(ups) > 0 {
			err = p.r.refs.Update("gachette: push to "+p.rm.String(), ups...)
		}
		var changed *RefChangedError
		switch {
		case err == nil:
			p.unpinned = p.unpinned || len(unpin) > 0
			p.marked(ups)
			for _, u := range ups {
				if u.Old.IsZero() {
					p.created++
				}
			}
			for _, t := range tags {
				if st[t.id.TagRef()].flag == '=' {
					p.res.UpToDate = append(p.res.UpToDate, t.id)
				} else {
					p.res.Pushed = append(p.res.Pushed, t.id)
				}
			}
			for _, b := range moved {
				if st[BranchRef(b.domain)].flag != '=' {
					p.res.Branches = append(p.res.Branches, b.domain)
				}
			}
			return nil
		case errors.As(err, &changed) && attempt < len(tags)+maxLeaseTries:
			// A stack changed here while it was pushed: the remote has
			// what was read, the stack is not sealed. Anything else that
			// changed (a concurrent push or fetch) is read again.
			for i, t := range tags {
				if t.id.TagRef() == changed.Name {
					p.res.Changed = append(p.res.Changed, t.id)
					tags = append(tags[:i:i], tags[i+1:]...)
					break
				}
			}
		default:
			return fmt.Errorf("%s accepted the push, but recording it here failed: %w; push again to record it", p.rm, err)
		}
	}
}

// branchPlan is a domain branch to move on the remote: to target's
// commit, if the remote's branch is still expect (zero: absent).
type branchPlan struct {
	domain string
	target *pushTag
	expect plumbing.Hash
}

// planBranches decides, for each domain of tags, where the remote's
// domain branch goes: to the newest stack among tags, unless the remote's
// branch is there already or at a newer stack. A branch the remote has
// at a commit that is no stack known here is left alone, with a warning
// (when warn is set, or the first time).
func (p *pusher) planBranches(tags []*pushTag, warn bool) []branchPlan {
	byDomain := map[string][]*pushTag{}
	for _, t := range tags {
		byDomain[t.id.Domain] = append(byDomain[t.id.Domain], t)
	}
	var plans []branchPlan
	for _, d := range sortedKeys(byDomain) {
		newest := p.r.newestTag(byDomain[d])
		expect, seen := p.remoteBranch(d)
		switch remote, ok := p.r.stackAtCommit(d, expect); {
		case expect.IsZero():
		case expect == newest.commit && seen:
			continue
		case expect == newest.commit:
			// only git's remote-tracking branch says so, and it may be
			// stale (a remote whose URL changed): pushed with that lease,
			// it is up to date or git says where the branch really is
		case ok && remote == newest.id.Name:
			// the remote's branch is at another commit of this stack
		case ok && p.r.newerStack(remote, expect, newest):
			continue
		case ok:
		case p.r.isAncestor(expect, newest.commit):
		default:
			w := fmt.Sprintf("domain branch %s not moved on %s: it points at %s, which is no stack known here; "+
				"fetch (git gachette fetch) and push again, or move it with git push --force-with-lease", d, p.rm, expect.String()[:12])
			if !p.warned[w] {
				p.warned[w] = true
				p.res.Warnings = append(p.res.Warnings, w)
			}
			continue
		}
		plans = append(plans, branchPlan{domain: d, target: newest, expect: expect})
	}
	return plans
}

// remoteBranch is the remote's domain branch as last seen: as git said
// after a lease failed in this push, else recorded under the namespace by
// fetch and push, else git's remote-tracking branch of a named remote
// (which a remote whose URL changed leaves stale: seen is false), else
// absent.
func (p *pusher) remoteBranch(d string) (h plumbing.Hash, seen bool) {
	if h, ok := p.learned[d]; ok {
		return h, true
	}
	if h, err := p.r.refs.Lookup(p.ns + "heads/" + d); err == nil {
		return h, true
	}
	if p.rm.isName() {
		if h, err := p.r.refs.Lookup("refs/remotes/" + p.rm.arg + "/" + d); err == nil {
			return h, false
		}
	}
	return plumbing.ZeroHash, true
}

// refresh learns where the remote's branches of domains are now: git
// fetch of those branches into the namespace (a branch the remote no
// longer has is pruned there).
func (p *pusher) refresh(ctx context.Context, domains []string) error {
	args := []string{"fetch", "--no-tags", "--prune", "--no-write-fetch-head", "-q", "--", p.rm.arg}
	for _, d := range domains {
		args = append(args, "+refs/heads/"+d+"*:"+p.ns+"heads/"+d+"*")
	}
	run := p.r.remoteGit(ctx, p.opt, args...)
	if ctx.Err() != nil {
		return &InterruptedError{Op: "push to " + p.rm.String(), Err: ctx.Err()}
	}
	if run.err != nil {
		return p.r.remoteError("fetch", p.rm, run)
	}
	p.r.reopen()
	if p.learned == nil {
		p.learned = map[string]plumbing.Hash{}
	}
	for _, d := range domains {
		h, err := p.r.refs.Lookup(p.ns + "heads/" + d)
		if err != nil && !errors.Is(err, ErrRefNotFound) {
			return err
		}
		p.learned[d] = h // zero: the remote has no such branch
	}
	return nil
}

// newestTag is the newest of tags (of one domain) in stack list order.
func (r *Repo) newestTag(tags []*pushTag) *pushTag {
	names := make([]string, len(tags))
	for i, t := range tags {
		names[i] = t.id.Name
	}
	order := semverx.NewestFirst(names, func(i int) int64 { return r.commitTime(tags[i].commit) })
	return tags[order[0]]
}

// newerStack reports whether stack name, at commit, comes before t in
// stack list order (newest first).
func (r *Repo) newerStack(name string, commit plumbing.Hash, t *pushTag) bool {
	if name == t.id.Name {
		return false
	}
	order := semverx.NewestFirst([]string{name, t.id.Name}, func(i int) int64 {
		if i == 0 {
			return r.commitTime(commit)
		}
		return r.commitTime(t.commit)
	})
	return order[0] == 0
}

func (r *Repo) commitTime(h plumbing.Hash) int64 {
	c, err := r.readCommit(h)
	if err != nil {
		return 0
	}
	return c.Committer.When.Unix()
}

// stackAtCommit names the stack of domain d whose change commit h is
// (its Gachette-Stack trailer), when h is such a commit here.
func (r *Repo) stackAtCommit(d string, h plumbing.Hash) (string, bool) {
	if h.IsZero() {
		return "", false
	}
	c, err := r.readCommit(h)
	if err != nil {
		return "", false
	}
	id, err := ParseStackID(trailers(c.Message)["Gachette-Stack"], d)
	if err != nil || id.Domain != d {
		return "", false
	}
	return id.Name, true
}

// isAncestor reports whether a is b or one of its ancestors (a must be
// present locally to be found): git merge-base --is-ancestor, exact
// whatever the commit dates say.
func (r *Repo) isAncestor(a, b plumbing.Hash) bool {
	if a == b {
		return true
	}
	if r.git == nil {
		name, err := r.containedByWalk(a, []Ref{{Name: "b", Hash: b}})
		return err == nil && name != ""
	}
	_, err := r.git.Output(context.Background(), nil, "merge-base", "--is-ancestor", a.String(), b.String())
	return err == nil
}
