package stackrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// Signing (README, "Signing"): with Identity.Sign, every stack tag is a
// signed tag object and every channel move a signed commit, both made by
// git with the user's signing settings (gpg.format, user.signingKey,
// gpg.program, gpg.ssh.program, …, as git config says in the stacks
// repository). Verifying is git's too: git verify-tag / verify-commit.

// SigningError says git could not sign a stack tag or channel move:
// nothing was written.
type SigningError struct {
	What string // "stack backend/124", "channel backend/prod"
	Err  error
}

func (e *SigningError) Error() string {
	return fmt.Sprintf("%s: git could not sign it (gachette.sign is true), so nothing was written: %v; "+
		"set a signing key as git wants it (git config user.signingKey KEY, and gpg.format ssh for an ssh key), "+
		"or turn signing off (git config gachette.sign false)", e.What, e.Err)
}

func (e *SigningError) Unwrap() error { return e.Err }

// signingConfig is the stacks repository's signing settings, as -c
// arguments: every gpg.* entry and user.signingkey, in git's order (a
// later one wins, as in git).
func (r *Repo) signingConfig() []string {
	var args []string
	if r.cfg == nil {
		return nil
	}
	for _, e := range r.cfg.Entries {
		if strings.HasPrefix(e.Key, "gpg.") || e.Key == "user.signingkey" {
			if e.Implicit {
				args = append(args, "-c", e.Key)
				continue
			}
			args = append(args, "-c", e.Key+"="+e.Value)
		}
	}
	return args
}

// identEnv is the environment that makes git write who as author and
// committer (tagger), at their dates.
func identEnv(who Identity) []string {
	date := func(s object.Signature) string {
		return fmt.Sprintf("%d %s", s.When.Unix(), s.When.Format("-0700"))
	}
	return []string{
		"GIT_AUTHOR_NAME=" + who.Author.Name, "GIT_AUTHOR_EMAIL=" + who.Author.Email, "GIT_AUTHOR_DATE=" + date(who.Author),
		"GIT_COMMITTER_NAME=" + who.Committer.Name, "GIT_COMMITTER_EMAIL=" + who.Committer.Email, "GIT_COMMITTER_DATE=" + date(who.Committer),
	}
}

// signedTag has git make tag as a signed tag object (git tag -s), in a
// scratch repository that borrows the stacks repository's objects (git
// has no command that signs a tag object without writing a ref), and
// writes that object's exact bytes into the stacks repository.
func (r *Repo) signedTag(ident Identity, tag *object.Tag) (plumbing.Hash, error) {
	what := "stack " + tag.Name
	if r.git == nil {
		return plumbing.ZeroHash, &SigningError{What: what, Err: errors.New("a repository in memory cannot sign")}
	}
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "gachette-sign-")
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", what, err)
	}
	defer os.RemoveAll(tmp)
	scratch := filepath.Join(tmp, "scratch.git")
	sg := &gitexec.Git{Env: r.git.Env, Dir: r.git.Dir, GitDir: scratch}
	if _, err := sg.Output(ctx, nil, "init", "--quiet", "--bare", "--template=", scratch); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: make a scratch repository to sign in: %w", what, err)
	}
	objects, err := filepath.Abs(filepath.Join(r.Dir, "objects"))
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if err := os.WriteFile(filepath.Join(scratch, "objects", "info", "alternates"), []byte(objects+"\n"), 0o644); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", what, err)
	}
	msgFile := filepath.Join(tmp, "message")
	if err := os.WriteFile(msgFile, []byte(tag.Message), 0o644); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", what, err)
	}
	args := append(r.signingConfig(), "tag", "-s", "--cleanup=verbatim", "-F", msgFile, tag.Name, tag.Target.String())
	if _, err := sg.WithEnv(identEnv(Identity{Author: tag.Tagger, Committer: tag.Tagger})...).Output(ctx, nil, args...); err != nil {
		return plumbing.ZeroHash, &SigningError{What: what, Err: err}
	}
	id, err := sg.Output(ctx, nil, "rev-parse", "--verify", "refs/tags/"+tag.Name)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", what, err)
	}
	raw, err := sg.Output(ctx, nil, "cat-file", "tag", strings.TrimSpace(string(id)))
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: %w", what, err)
	}
	h, err := r.writeRaw(plumbing.TagObject, raw)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("%s: write tag: %w", what, err)
	}
	if h.String() != strings.TrimSpace(string(id)) {
		return plumbing.ZeroHash, fmt.Errorf("%s: the signed tag git made is %s, but it was written as %s", what, strings.TrimSpace(string(id)), h)
	}
	return h, nil
}

// signedCommit has git write commit as a signed commit (git commit-tree
// -S) in the stacks repository; what names it for errors.
func (r *Repo) signedCommit(what string, ident Identity, c *object.Commit) (plumbing.Hash, error) {
	if r.git == nil {
		return plumbing.ZeroHash, &SigningError{What: what, Err: errors.New("a repository in memory cannot sign")}
	}
	args := []string{"commit-tree", "-S"}
	for _, p := range c.ParentHashes {
		args = append(args, "-p", p.String())
	}
	args = append(args, c.TreeHash.String())
	out, err := r.git.WithEnv(identEnv(ident)...).Output(context.Background(), strings.NewReader(c.Message), args...)
	if err != nil {
		return plumbing.ZeroHash, &SigningError{What: what, Err: err}
	}
	s := strings.TrimSpace(string(out))
	if !gitexec.IsObjectName(s) {
		return plumbing.ZeroHash, fmt.Errorf("%s: git commit-tree printed %q, not an object id", what, s)
	}
	return plumbing.NewHash(s), nil
}

// Verification is what git said of a stack's tag or a channel's move.
type Verification struct {
	// What is "stack backend/124" or "channel backend/prod".
	What string
	// Object is the tag (stack) or commit (channel) verified.
	Object plumbing.Hash
	// Signed says the object carries a signature at all.
	Signed bool
	// Good says git verify-tag / verify-commit accepted it.
	Good bool
	// Signer is who signed, as git's verification output names them ("" when
	// it does not).
	Signer string
	// Output is git's raw verification output (--raw).
	Output string
}

// UnsignedError is gachette.requireSigned refusing a stack or channel
// whose signature is missing or that git does not accept.
type UnsignedError struct {
	V Verification
}

func (e *UnsignedError) Error() string {
	why := "is not signed"
	if e.V.Signed {
		why = "has a signature git does not accept (git verify-" + map[bool]string{true: "tag", false: "commit"}[strings.HasPrefix(e.V.What, "stack")] + " " + e.V.Object.String() + ")"
	}
	return fmt.Sprintf("%s %s, and gachette.requireSigned is true: refusing to show it; "+
		"check it with git gachette %s verify", e.V.What, why, strings.Fields(e.V.What)[0])
}

// VerifyStack asks git whether the tag of stack id is signed and good
// (git verify-tag --raw).
func (r *Repo) VerifyStack(ctx context.Context, id StackID) (*Verification, error) {
	s, err := r.Stack(id)
	if err != nil {
		return nil, err
	}
	raw, err := r.readRaw(s.Tag)
	if err != nil {
		return nil, objectError(s.Tag, "tag", err)
	}
	return r.verify(ctx, "stack "+id.String(), "verify-tag", s.Tag, tagSigned(raw.data))
}

// VerifyChannel asks git whether the newest move of channel <d>/<env> is
// a signed, good commit (git verify-commit --raw).
func (r *Repo) VerifyChannel(ctx context.Context, d, env string) (*Verification, error) {
	tip, err := r.channelTip(d, env)
	if err != nil {
		return nil, err
	}
	c, err := r.readCommit(tip)
	if err != nil {
		return nil, fmt.Errorf("channel %s/%s: %w", d, env, err)
	}
	return r.verify(ctx, "channel "+d+"/"+env, "verify-commit", tip, c.PGPSignature != "")
}

func (r *Repo) verify(ctx context.Context, what, verb string, h plumbing.Hash, signed bool) (*Verification, error) {
	v := &Verification{What: what, Object: h, Signed: signed}
	if !signed {
		return v, nil
	}
	if r.git == nil {
		return nil, errors.New("a repository in memory cannot verify")
	}
	cmd := r.git.Command(ctx, verb, "--raw", h.String())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	v.Output = out.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
		v.Good = true
	case errors.As(err, &ee):
	default:
		return nil, fmt.Errorf("%s: git %s: %w", what, verb, err)
	}
	v.Signer = signer(v.Output)
	return v, nil
}

// tagSigned says a tag object's text carries a signature git would check
// (OpenPGP, SSH or X.509, appended to the message).
func tagSigned(data []byte) bool {
	for _, m := range []string{"-----BEGIN PGP SIGNATURE-----", "-----BEGIN SSH SIGNATURE-----", "-----BEGIN SIGNED MESSAGE-----"} {
		if bytes.Contains(data, []byte("\n"+m+"\n")) {
			return true
		}
	}
	return false
}

// signer finds who signed in git's raw verification output: gpg's
// GOODSIG/BADSIG user id, ssh-keygen's principal, else the key.
func signer(out string) string {
	for _, line := range strings.Split(out, "\n") {
		for _, p := range []string{"[GNUPG:] GOODSIG ", "[GNUPG:] BADSIG ", "[GNUPG:] EXPSIG ", "[GNUPG:] EXPKEYSIG ", "[GNUPG:] REVKEYSIG "} {
			if rest, ok := strings.CutPrefix(line, p); ok {
				if _, uid, ok := strings.Cut(rest, " "); ok {
					return uid
				}
				return rest
			}
		}
		if rest, ok := strings.CutPrefix(line, `Good "git" signature for `); ok {
			if i := strings.LastIndex(rest, " with "); i >= 0 {
				return rest[:i]
			}
			return rest
		}
		if rest, ok := strings.CutPrefix(line, `Good "git" signature with `); ok {
			return rest
		}
	}
	return ""
}

// requireSigned refuses (an *UnsignedError) what v says is unsigned or bad.
func requireSigned(v *Verification) error {
	if v.Signed && v.Good {
		return nil
	}
	return &UnsignedError{V: *v}
}
