package stackrepo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/storage"
)

// Remote is where stacks are pushed to and fetched from. Name is the
// configured remote's name ("" when URL was given directly); it names the
// remote-tracking branches refs/remotes/<Name>/<domain>.
type Remote struct {
	Name string
	URL  string
}

func (rm Remote) String() string {
	if rm.Name != "" {
		return rm.Name
	}
	return rm.URL
}

// readOnlyRefs wraps the object storage handed to go-git's transport so
// that go-git never writes a reference: its ref writes do not follow git's
// lock protocol (see GO-GIT-NOTES and go-git #2399), so every local ref
// change is made by fileRefs instead. Writes are silently dropped.
type readOnlyRefs struct {
	storage.Storer
}

func (readOnlyRefs) SetReference(*plumbing.Reference) error              { return nil }
func (readOnlyRefs) CheckAndSetReference(_, _ *plumbing.Reference) error { return nil }
func (readOnlyRefs) RemoveReference(plumbing.ReferenceName) error        { return nil }
func (readOnlyRefs) PackRefs() error                                     { return nil }
func (r *Repo) goRemote(rm Remote) *git.Remote {
	name := rm.Name
	if name == "" {
		name = "gachette"
	}
	return git.NewRemote(readOnlyRefs{r.st}, &config.RemoteConfig{Name: name, URLs: []string{rm.URL}})
}

// remoteRefs lists the remote's references (an empty repository has none).
func (r *Repo) remoteRefs(ctx context.Context, rm Remote) (map[string]plumbing.Hash, error) {
	refs, err := r.goRemote(rm).ListContext(ctx, &git.ListOptions{})
	if errors.Is(err, transport.ErrEmptyRemoteRepository) {
		return map[string]plumbing.Hash{}, nil
	}
	if errors.Is(err, transport.ErrRepositoryNotFound) {
		return nil, fmt.Errorf("remote %s: %w; check the URL, or make it on the server with git gachette init (or git init --bare)", rm, err)
	}
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", rm, err)
	}
	out := map[string]plumbing.Hash{}
	for _, ref := range refs {
		if ref.Type() == plumbing.HashReference {
			out[ref.Name().String()] = ref.Hash()
		}
	}
	return out, nil
}

// PushResult tells what a push did.
type PushResult struct {
	Pushed   []StackID
	UpToDate []StackID
	Branches []string // domain branches pushed
	Warnings []string
}

// ConflictError lists stacks that differ between here and a remote.
type ConflictError struct {
	Remote string
	Stacks []string
	Fetch  bool
}

func (e *ConflictError) Error() string {
	if e.Fetch {
		return fmt.Sprintf("remote %s has different stacks under the same names: %s; they were left as they are here. "+
			"Rename the local stacks (stack create NEW --from STACK) to keep both", e.Remote, strings.Join(e.Stacks, ", "))
	}
	return fmt.Sprintf("remote %s already has different stacks under the same names: %s; nothing was pushed. "+
		"Published stacks never change: make new ones (git gachette stack create NEW --from STACK) and push those", e.Remote, strings.Join(e.Stacks, ", "))
}

// Push publishes stacks (their tags) and the domain branches of their
// domains, with explicit refspecs and no force: a stack that differs on
// the remote stops the whole push before anything is sent. A domain branch
// that the remote has moved elsewhere is left alone, with a warning. Pushed
// stacks are recorded as published.
func (r *Repo) Push(ctx context.Context, rm Remote, ids []StackID) (*PushResult, error) {
	if r.Dir == "" {
		return nil, fmt.Errorf("push needs a repository on disk")
	}
	remote, err := r.remoteRefs(ctx, rm)
	if err != nil {
		return nil, err
	}
	res := &PushResult{}
	var specs []config.RefSpec
	var conflicts []string
	domains := map[string]bool{}
	for _, id := range ids {
		s, err := r.Stack(id)
		if err != nil {
			return nil, err
		}
		domains[id.Domain] = true
		switch theirs, ok := remote[id.TagRef()]; {
		case !ok:
			specs = append(specs, config.RefSpec(id.TagRef()+":"+id.TagRef()))
			res.Pushed = append(res.Pushed, id)
		case theirs == s.Tag:
			res.UpToDate = append(res.UpToDate, id)
		default:
			conflicts = append(conflicts, id.String())
		}
	}
	if len(conflicts) > 0 {
		return nil, &ConflictError{Remote: rm.String(), Stacks: conflicts}
	}
	for _, d := range sortedKeys(domains) {
		name := BranchRef(d)
		mine, err := r.refs.Lookup(name)
		if errors.Is(err, ErrRefNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		theirs, ok := remote[name]
		switch {
		case ok && theirs == mine:
		case !ok || r.isAncestor(theirs, mine):
			specs = append(specs, config.RefSpec(name+":"+name))
			res.Branches = append(res.Branches, d)
		default:
			res.Warnings = append(res.Warnings, fmt.Sprintf("domain branch %s not pushed: the remote's %s points at %s, which is not in the lineage of %s here; the stacks themselves are pushed", d, d, theirs.String()[:12], mine.String()[:12]))
		}
	}
	if len(specs) > 0 {
		err := r.goRemote(rm).PushContext(ctx, &git.PushOptions{RemoteName: remoteName(rm), RefSpecs: specs, Atomic: true})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil, fmt.Errorf("push to %s: %w", rm, err)
		}
	}
	for _, id := range append(append([]StackID{}, res.Pushed...), res.UpToDate...) {
		if err := r.markPublished(id); err != nil {
			return res, err
		}
	}
	if rm.Name != "" {
		for _, d := range res.Branches {
			mine, _ := r.refs.Lookup(BranchRef(d))
			if err := r.setRef("refs/remotes/"+rm.Name+"/"+d, mine); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

func remoteName(rm Remote) string {
	if rm.Name != "" {
		return rm.Name
	}
	return "gachette"
}

// setRef moves name to h, whatever it was, by compare-and-swap.
func (r *Repo) setRef(name string, h plumbing.Hash) error {
	for {
		cur, err := r.refs.Lookup(name)
		if err != nil && !errors.Is(err, ErrRefNotFound) {
			return err
		}
		if cur == h {
			return nil
		}
		err = r.refs.Update("gachette: "+name, RefUpdate{Name: name, Old: cur, New: h})
		var changed *RefChangedError
		if !errors.As(err, &changed) {
			return err
		}
	}
}

// markPublished records that a stack is published, at its current commit.
func (r *Repo) markPublished(id StackID) error {
	s, err := r.Stack(id)
	if err != nil {
		return err
	}
	err = r.refs.Update("gachette: published "+id.String(), RefUpdate{Name: id.publishedRef(), New: s.Commit})
	var changed *RefChangedError
	if errors.As(err, &changed) {
		return nil // recorded already
	}
	return err
}

// isAncestor reports whether a is b or one of its ancestors (a must be
// present locally to be found).
func (r *Repo) isAncestor(a, b plumbing.Hash) bool {
	c, err := r.readCommit(a)
	if err != nil {
		return false
	}
	ok, err := r.reachable(a, c.Committer.When, b)
	return err == nil && ok
}

// FetchResult tells what a fetch did.
type FetchResult struct {
	New      []StackID
	Known    []StackID
	Branches []string // local domain branches created or fast-forwarded
	Warnings []string
}

// Fetch brings the remote's stacks here: new stacks are created, stacks
// known here and identical are kept, and stacks that differ are reported
// and left alone. Domain branches are tracked as refs/remotes/<name>/<d>
// for a named remote, and the local domain branch is created or
// fast-forwarded. Every stack fetched is recorded as published.
func (r *Repo) Fetch(ctx context.Context, rm Remote) (*FetchResult, error) {
	if r.Dir == "" {
		return nil, fmt.Errorf("fetch needs a repository on disk")
	}
	remote, err := r.remoteRefs(ctx, rm)
	if err != nil {
		return nil, err
	}
	missing := false
	for _, h := range remote {
		if r.st.HasEncodedObject(h) != nil {
			missing = true
			break
		}
	}
	if missing {
		specs := []config.RefSpec{"+refs/tags/*:refs/tags/*", "+refs/heads/*:refs/gachette-fetch/*"}
		err := r.goRemote(rm).FetchContext(ctx, &git.FetchOptions{RemoteName: remoteName(rm), RefSpecs: specs, Tags: git.NoTags})
		if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
			return nil, fmt.Errorf("fetch from %s: %w", rm, err)
		}
		r.reopen()
	}
	res := &FetchResult{}
	var conflicts []string
	names := sortedKeys(remote)
	for _, name := range names {
		h := remote[name]
		rest, ok := strings.CutPrefix(name, "refs/tags/")
		if !ok {
			continue
		}
		d, n, ok := strings.Cut(rest, "/")
		if !ok || CheckName("domain", d) != nil || CheckName("stack", n) != nil {
			continue
		}
		id := StackID{Domain: d, Name: n}
		mine, err := r.refs.Lookup(name)
		switch {
		case errors.Is(err, ErrRefNotFound):
			if err := r.refs.Update("gachette: fetch", RefUpdate{Name: name, New: h}); err != nil {
				return res, err
			}
			res.New = append(res.New, id)
		case err != nil:
			return res, err
		case mine == h:
			res.Known = append(res.Known, id)
		default:
			conflicts = append(conflicts, id.String())
			continue
		}
		if err := r.markPublished(id); err != nil {
			return res, fmt.Errorf("fetched %s: %w", id, err)
		}
	}
	for _, name := range names {
		d, ok := strings.CutPrefix(name, "refs/heads/")
		if !ok || CheckName("domain", d) != nil {
			continue
		}
		theirs := remote[name]
		if rm.Name != "" {
			if err := r.setRef("refs/remotes/"+rm.Name+"/"+d, theirs); err != nil {
				return res, err
			}
		}
		mine, err := r.refs.Lookup(name)
		if err != nil && !errors.Is(err, ErrRefNotFound) {
			return res, err
		}
		switch {
		case mine == theirs:
		case mine.IsZero() || r.isAncestor(mine, theirs):
			held, err := r.checkedOut()
			if err != nil {
				return res, err
			}
			if wt, ok := held[name]; ok {
				res.Warnings = append(res.Warnings, fmt.Sprintf("domain branch %s not moved: the work tree %s has it checked out", d, wt))
				continue
			}
			if err := r.refs.Update("gachette: fetch", RefUpdate{Name: name, Old: mine, New: theirs}); err != nil {
				return res, err
			}
			res.Branches = append(res.Branches, d)
		default:
			res.Warnings = append(res.Warnings, fmt.Sprintf("domain branch %s kept: the remote's points at another lineage (%s)", d, theirs.String()[:12]))
		}
	}
	if len(conflicts) > 0 {
		return res, &ConflictError{Remote: rm.String(), Stacks: conflicts, Fetch: true}
	}
	return res, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
