package stackrepo

import (
	"github.com/go-git/go-git/v5/plumbing/object"
)

// signForPush makes a signed tag (git tag -s, see signedTag) of every
// stack of ids whose tag is not signed and that no remote has yet (not
// sealed as published), keeping its name, commit, tagger and message,
// and moves the stacks' tags to them in one ref transaction, before a
// push with RemoteOptions.Sign reads them: every tag that push publishes
// is then signed. A stack a push has marked (a remote may have it as it
// is) is refused (*PublishedError), as a change to it would be. It
// returns the stacks it signed; on an error nothing was moved.
func (r *Repo) signForPush(ids []StackID) ([]StackID, error) {
	var updates []RefUpdate
	var signed []StackID
	seen := map[StackID]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		s, err := r.Stack(id)
		if err != nil {
			return nil, err
		}
		raw, err := r.readRaw(s.Tag)
		if err != nil {
			return nil, objectError(s.Tag, "tag", err)
		}
		if tagSigned(raw.data) {
			continue
		}
		if _, err := r.refs.Lookup(id.publishedRef()); err == nil {
			continue // a remote has it as it is
		}
		if err := r.checkUnmarked(id); err != nil {
			return nil, err
		}
		var tag object.Tag
		if err := tag.Decode(memoryObject(s.Tag, raw)); err != nil {
			return nil, objectError(s.Tag, "tag", err)
		}
		h, err := r.signedTag(Identity{Author: tag.Tagger, Committer: tag.Tagger}, &tag)
		if err != nil {
			return nil, err
		}
		r.syncObjects(h)
		updates = append(updates, RefUpdate{Name: id.TagRef(), Old: s.Tag, New: h}, RefUpdate{Name: id.publishedRef()})
		signed = append(signed, id)
	}
	if len(updates) == 0 {
		return nil, nil
	}
	check := func() error {
		for _, id := range signed {
			if err := r.checkUnmarked(id); err != nil {
				return err
			}
		}
		return nil
	}
	if err := r.refs.UpdateChecked("gachette: sign for push", check, updates...); err != nil {
		return nil, err
	}
	return signed, nil
}
