package stackrepo

import (
	"errors"
	"fmt"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// Deleting and renaming stacks: only stacks no remote has and no channel
// ran, each in one ref transaction with the domain branch.

// KeptError says a stack may not be deleted or renamed: it is published
// (a remote has it under its name), or a channel ran it (a channel's
// history names it, and rollback needs it).
type KeptError struct {
	ID StackID
	// Op is "delete" or "rename"; To is the new name of a rename.
	Op string
	To StackID
	// Where says where it is published ("" when it is not).
	Where string
	// Channels are the channels (domain/env) whose history names it.
	Channels []string
}

func (e *KeptError) Error() string {
	why := fmt.Sprintf("it is published (%s): a remote has it under this name, and it stays", e.Where)
	if strings.HasPrefix(e.Where, "reachable from ") {
		why = fmt.Sprintf("it is published (%s): a remote has its commit, and it stays", e.Where)
	}
	if e.Where == "" {
		s := ""
		if len(e.Channels) > 1 {
			s = "s"
		}
		why = fmt.Sprintf("channel%s %s ran it, and a channel's history keeps the stacks it ran (rollback goes back to them)", s, strings.Join(e.Channels, ", "))
	}
	if e.Op == "rename" {
		return fmt.Sprintf("stack %s cannot be renamed: %s; make a stack of the new name from it instead: git gachette stack create %s --from %s", e.ID, why, e.To, e.ID)
	}
	return fmt.Sprintf("stack %s cannot be deleted: %s; leave it, and make the stack you want from it if need be: git gachette stack create NEW --from %s", e.ID, why, e.ID)
}

// BranchMove is a domain branch that followed a delete or a rename.
type BranchMove struct {
	Domain string
	From   plumbing.Hash
	// To is where it points now, at the stack Stack; zero when it was
	// deleted (no stack is left in the domain).
	To    plumbing.Hash
	Stack StackID
}

// DeletedStack is a stack Delete deleted: its tag and commit as they were.
type DeletedStack struct {
	ID     StackID
	Tag    plumbing.Hash
	Commit plumbing.Hash
}

// DeleteResult tells what Delete did.
type DeleteResult struct {
	Deleted  []DeletedStack
	Branches []BranchMove
	// Attempts counts tries; more than one means the delete lost races.
	Attempts int
}

// Delete deletes stacks, all in one ref transaction or none: each must
// exist, be unpublished (see published) and be named by no channel's
// history (*KeptError otherwise). A domain branch that points at a
// deleted stack moves to the newest stack left in its domain (the first
// of List), or is deleted with the domain's last stack. Each tag is
// deleted from the object read, and the transaction verifies that no
// stack got sealed, no channel moved and no push marked one meanwhile.
// Nothing is written to the objects: the deleted stacks' commits stay in
// the lineage of the stacks made from them, and in git's reflogs.
func (r *Repo) Delete(ids []StackID) (*DeleteResult, error) {
	if len(ids) == 0 {
		return nil, errors.New("no stack to delete")
	}
	var uniq []StackID
	seen := map[StackID]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	var res *DeleteResult
	attempts, err := r.retry("delete "+joinIDs(uniq), func() error {
		var err error
		res, err = r.tryDelete(uniq)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Attempts = attempts
	return res, nil
}

func (r *Repo) tryDelete(ids []StackID) (*DeleteResult, error) {
	res := &DeleteResult{}
	var updates []RefUpdate
	gone := map[string]map[string]bool{} // domain → names
	var domains []string
	for _, id := range ids {
		cur, err := r.deletable(id, "delete", StackID{})
		if err != nil {
			return nil, err
		}
		res.Deleted = append(res.Deleted, DeletedStack{ID: id, Tag: cur.Tag, Commit: cur.Commit})
		// the tag goes from the object read; the stack is still unsealed
		updates = append(updates, RefUpdate{Name: id.TagRef(), Old: cur.Tag}, RefUpdate{Name: id.publishedRef()})
		if gone[id.Domain] == nil {
			gone[id.Domain] = map[string]bool{}
			domains = append(domains, id.Domain)
		}
		gone[id.Domain][id.Name] = true
	}
	for _, d := range domains {
		chans, err := r.channelTips(d)
		if err != nil {
			return nil, err
		}
		updates = append(updates, chans...)
		move, tag, err := r.branchAfterDelete(d, gone[d])
		if err != nil {
			return nil, err
		}
		if move != nil {
			res.Branches = append(res.Branches, *move)
			updates = append(updates, RefUpdate{Name: BranchRef(d), Old: move.From, New: move.To})
			if !tag.IsZero() {
				// the stack it moves to is still there, as read (one
				// deleted or renamed meanwhile cannot hold it)
				updates = append(updates, RefUpdate{Name: move.Stack.TagRef(), Old: tag, New: tag})
			}
		} else if b, err := r.branchAt(d); err != nil {
			return nil, err
		} else {
			// the branch stays where it is, as read: a writer that moves
			// it meanwhile (onto a stack this deletes) makes this fail,
			// and the retry moves it on
			updates = append(updates, RefUpdate{Name: BranchRef(d), Old: b, New: b})
		}
	}
	check := func() error {
		for _, id := range ids {
			if err := r.unsealed(id); err != nil {
				return kept(err, id, "delete", StackID{})
			}
		}
		return nil
	}
	if err := r.refs.UpdateChecked("gachette: delete "+joinIDs(ids), check, updates...); err != nil {
		return nil, err
	}
	return res, nil
}

// RenameResult tells what Rename did.
type RenameResult struct {
	From, To StackID
	// Tag and Commit are the renamed stack's: a new commit, on the old
	// one, that records the rename.
	Tag     plumbing.Hash
	Commit  plumbing.Hash
	Subject string
	// Branch is the domain branch, when it followed the stack.
	Branch *BranchMove
	// Attempts counts tries; more than one means the rename lost races.
	Attempts int
}

// Rename gives a stack a new name in its domain, in one ref transaction:
// the stack from must exist, be unpublished and be named by no channel's
// history (*KeptError otherwise); to must not exist. The stack under its
// new name is a new commit whose parent is the old one, with the same
// tree ("<to>: rename from <from>", Gachette-Action rename,
// Gachette-From), and a new annotated tag; the old tag is deleted. The
// domain branch follows when it pointed at the stack (or was absent).
func (r *Repo) Rename(from, to StackID, ident Identity) (*RenameResult, error) {
	switch {
	case from.Domain != to.Domain:
		return nil, fmt.Errorf("cannot rename %s to %s: a rename keeps the stack in its domain; to have it in domain %s, make a stack there from it: git gachette stack create %s --from %s",
			from, to, to.Domain, to, from)
	case from == to:
		return nil, fmt.Errorf("cannot rename %s to %s: it is its name already", from, to)
	}
	var res *RenameResult
	attempts, err := r.retry("rename "+from.String(), func() error {
		var err error
		res, err = r.tryRename(from, to, ident)
		return err
	})
	if err != nil {
		return nil, err
	}
	res.Attempts = attempts
	return res, nil
}

func (r *Repo) tryRename(from, to StackID, ident Identity) (*RenameResult, error) {
	cur, err := r.deletable(from, "rename", to)
	if err != nil {
		return nil, err
	}
	if _, err := r.refs.Lookup(to.TagRef()); err == nil {
		return nil, fmt.Errorf("cannot rename %s: %w", from, &ExistsError{ID: to})
	} else if !errors.Is(err, ErrRefNotFound) {
		return nil, err
	}
	chans, err := r.channelTips(from.Domain)
	if err != nil {
		return nil, err
	}
	p := &plan{id: to, parent: cur.Commit, entries: cur.entries, action: "rename",
		subject: fmt.Sprintf("%s: rename from %s", to, from), trailers: [][2]string{{"Gachette-From", from.String()}}}
	tag, commit, err := r.writeObjects(ident, p)
	if err != nil {
		return nil, err
	}
	updates := append([]RefUpdate{
		{Name: to.TagRef(), New: tag},
		{Name: from.TagRef(), Old: cur.Tag},
		{Name: from.publishedRef()},
	}, chans...)
	res := &RenameResult{From: from, To: to, Tag: tag, Commit: commit, Subject: p.subject}
	b, err := r.refs.Lookup(BranchRef(from.Domain))
	if err != nil && !errors.Is(err, ErrRefNotFound) {
		return nil, err
	}
	// as a change of the stack moves it (branchUpdate): when it points at
	// the stack, or is absent
	if name, ok := r.stackAtCommit(from.Domain, b); b.IsZero() || b == cur.Commit || ok && name == from.Name {
		if err := r.notCheckedOut(from.Domain); err != nil {
			return nil, err
		}
		res.Branch = &BranchMove{Domain: from.Domain, From: b, To: commit, Stack: to}
		updates = append(updates, RefUpdate{Name: BranchRef(from.Domain), Old: b, New: commit})
	} else {
		// it stays, as read (see tryDelete)
		updates = append(updates, RefUpdate{Name: BranchRef(from.Domain), Old: b, New: b})
	}
	check := func() error { return kept(r.unsealed(from), from, "rename", to) }
	if err := r.refs.UpdateChecked("gachette: "+p.subject, check, updates...); err != nil {
		return nil, err
	}
	return res, nil
}

// deletable reads a stack that op ("delete", "rename" to to) would take
// away under its name: it must be unpublished (the rule of every change
// in place, writable), else a *KeptError; a stack a push marked keeps
// writable's error, which says how to settle it.
func (r *Repo) deletable(id StackID, op string, to StackID) (*Stack, error) {
	cur, err := r.writable(id)
	var (
		pub *PublishedError
		nf  *NotFoundError
		fe  *FormatError
	)
	switch {
	case errors.As(err, &pub) && pub.Pushing == "":
		return nil, kept(err, id, op, to)
	case err == nil:
		if name, uerr := r.unknownRemote(); uerr != nil {
			return nil, uerr
		} else if name != "" {
			// (a git clone brings the remote's tags, and nothing says
			// they are the remote's until git gachette fetch seals them)
			return nil, fmt.Errorf("cannot %s %s: git fetched from remote %s (a git clone?) but git gachette has never fetched from it nor pushed to it, so whether it has %s cannot be told; "+
				"run git gachette fetch --remote %s first (it seals the stacks it has), then %s again", op, id, name, id, name, op)
		}
	case err != nil && !errors.As(err, &pub) && !errors.As(err, &nf) && !errors.As(err, &fe) && r.Dir != "":
		// a stack that does not read cannot be checked for publication:
		// git gachette leaves it, and says how to take it away by hand
		if tag, lerr := r.refs.Lookup(id.TagRef()); lerr == nil {
			return nil, fmt.Errorf("%w; git gachette cannot %s a stack it cannot read (nor tell whether a remote has it). If no remote has it, remove it with: git --git-dir=%s update-ref -d %s %s",
				err, op, ShellWord(r.Dir), id.TagRef(), tag)
		}
	}
	return cur, err
}

// kept is err, a stack's refusal to change in place, as the refusal of op
// ("delete", "rename" to to): a *KeptError, unless the stack is sealed
// by a push's mark (whose error says how to settle it).
func kept(err error, id StackID, op string, to StackID) error {
	var pub *PublishedError
	if errors.As(err, &pub) && pub.Pushing == "" {
		return &KeptError{ID: id, Op: op, To: to, Where: pub.Where, Channels: pub.Channels}
	}
	return err
}

// branchAfterDelete is where the branch of domain d goes when the stacks
// of gone are deleted: nowhere (nil) unless it points at one of them (its
// commit's Gachette-Stack, as branchUpdate reads it); then to the newest
// stack left (the first of List that reads; its tag as read is returned
// too), or it is deleted with the domain's last stack.
func (r *Repo) branchAfterDelete(d string, gone map[string]bool) (*BranchMove, plumbing.Hash, error) {
	b, err := r.refs.Lookup(BranchRef(d))
	if errors.Is(err, ErrRefNotFound) {
		return nil, plumbing.ZeroHash, nil
	} else if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if name, ok := r.stackAtCommit(d, b); !ok || !gone[name] {
		return nil, plumbing.ZeroHash, nil
	}
	if err := r.notCheckedOut(d); err != nil {
		return nil, plumbing.ZeroHash, err
	}
	list, err := r.List(d, false)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	for _, s := range list {
		if gone[s.ID.Name] {
			continue
		}
		// a stack whose tag does not read (git gachette fsck names it)
		// cannot hold the branch: the next one does
		if commit, err := r.peelTag(s.ID, s.Tag); err == nil {
			return &BranchMove{Domain: d, From: b, To: commit, Stack: s.ID}, s.Tag, nil
		}
	}
	return &BranchMove{Domain: d, From: b}, plumbing.ZeroHash, nil
}

// notCheckedOut refuses (*CheckedOutError) to move the branch of domain
// d when a work tree has it checked out.
func (r *Repo) notCheckedOut(d string) error {
	held, err := r.checkedOut()
	if err != nil {
		return err
	}
	if h, ok := held[BranchRef(d)]; ok {
		return &CheckedOutError{Branch: BranchRef(d), WorkTree: h.WorkTree, State: h.State}
	}
	return nil
}

func joinIDs(ids []StackID) string {
	return strings.Join(idStrings(ids), ", ")
}

// branchAt is where the branch of domain d points (zero: it does not
// exist).
func (r *Repo) branchAt(d string) (plumbing.Hash, error) {
	b, err := r.refs.Lookup(BranchRef(d))
	if errors.Is(err, ErrRefNotFound) {
		return plumbing.ZeroHash, nil
	}
	return b, err
}

// unknownRemote names a remote configured here (with a URL) that git has
// fetched from (it has remote-tracking branches: a git clone's origin; or
// no fetch refspec: a git clone --bare's) but git gachette never fetched
// from nor pushed to (nothing under its refs/gachette/remotes/
// namespace): the stacks here may be its, and nothing says which. ""
// when there is none.
func (r *Repo) unknownRemote() (string, error) {
	if r.cfg == nil {
		return "", nil
	}
	for _, name := range r.cfg.Subsections("remote", "") {
		if r.cfg.Value("remote."+name+".url") == "" || CheckName("remote", name) != nil {
			continue
		}
		refs, err := r.refs.List("refs/gachette/remotes/" + name + "/")
		if err != nil || len(refs) > 0 {
			if err != nil {
				return "", err
			}
			continue
		}
		// git fetched from it (a git clone, a git fetch): its tags may be
		// here, stacks the remote has
		tracking, err := r.refs.List("refs/remotes/" + name + "/")
		if err != nil {
			return "", err
		}
		// (git clone --bare copies the tags and sets no fetch refspec,
		// which git remote add always sets)
		if len(tracking) > 0 || r.cfg.Value("remote."+name+".fetch") == "" {
			return name, nil
		}
	}
	return "", nil
}
