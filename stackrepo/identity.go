package stackrepo

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// Identity is who writes a change: the commit's author and committer (the
// committer also tags).
type Identity struct {
	Author    object.Signature
	Committer object.Signature
	// Sign makes every stack tag a signed tag and every channel move a
	// signed commit, made by git with its signing settings
	// (gachette.sign; see sign.go).
	Sign bool
}

// Identity asks git who writes to this repository, as git commit would
// here: git var GIT_AUTHOR_IDENT and GIT_COMMITTER_IDENT, run together.
// When git has no identity to give, the error says how to set one.
func (r *Repo) Identity(ctx context.Context) (Identity, error) {
	if r.git == nil {
		return Identity{}, fmt.Errorf("a repository in memory has no git identity")
	}
	var committer gitexec.Ident
	var cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		committer, cerr = r.git.Ident(ctx, "GIT_COMMITTER_IDENT")
	}()
	author, aerr := r.git.Ident(ctx, "GIT_AUTHOR_IDENT")
	<-done
	if aerr != nil {
		return Identity{}, aerr
	}
	if cerr != nil {
		return Identity{}, cerr
	}
	return Identity{Author: signature(author), Committer: signature(committer)}, nil
}

func signature(id gitexec.Ident) object.Signature {
	return object.Signature{Name: id.Name, Email: id.Email, When: id.When}
}
