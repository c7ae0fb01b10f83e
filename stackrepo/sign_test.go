package stackrepo

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gitIn(t *testing.T, dir string, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"--git-dir=" + dir}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// signingRepo makes a stacks repository on disk with signing set up by
// setup (git config in it), opened again so its configuration applies.
func signingRepo(t *testing.T, setup func(dir string)) *Repo {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "stacks.git")
	r, err := Init(dir, "main")
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	setup(dir)
	r, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); gitFsck(t, dir) })
	return r
}

func sshSigning(t *testing.T) func(dir string) {
	keys := t.TempDir()
	key := filepath.Join(keys, "key")
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "releng", "-f", key)
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	allowed := filepath.Join(keys, "allowed_signers")
	if err := os.WriteFile(allowed, []byte("releng@example.com "+string(pub)), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(dir string) {
		gitIn(t, dir, nil, "config", "gpg.format", "ssh")
		gitIn(t, dir, nil, "config", "user.signingKey", key)
		gitIn(t, dir, nil, "config", "gpg.ssh.allowedSignersFile", allowed)
	}
}

func gpgSigning(t *testing.T) func(dir string) {
	home, err := os.MkdirTemp("", "gnupg")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GNUPGHOME", home)
	t.Cleanup(func() {
		_ = exec.Command("gpgconf", "--kill", "all").Run()
		os.RemoveAll(home)
	})
	run(t, "gpg", "--batch", "--passphrase", "", "--quick-generate-key", "Rel Eng <releng@example.com>", "ed25519", "sign", "never")
	return func(dir string) {
		gitIn(t, dir, nil, "config", "user.signingKey", "releng@example.com")
		gitIn(t, dir, nil, "config", "gpg.program", "gpg") // over a global one
	}
}

func TestSigning(t *testing.T) {
	for _, c := range []struct {
		name, signer string
		setup        func(t *testing.T) func(string)
	}{
		{"ssh", "releng@example.com", sshSigning},
		{"openpgp", "Rel Eng <releng@example.com>", gpgSigning},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := signingRepo(t, c.setup(t))
			signed := testIdent
			signed.Sign = true
			ctx := context.Background()
			must[*Result](t)(r.Create(id("main/1"), nil, signed))
			must[*Result](t)(r.Add(id("main/1"), []Package{pkg("dh-app", "1.0")}, signed))
			must[*Result](t)(r.Create(id("main/2"), nil, testIdent))
			must[*MoveResult](t)(r.Promote(PromoteRequest{Stack: id("main/1"), Env: "prod", Identity: signed}))

			// git itself accepts them
			gitIn(t, r.Dir, nil, "verify-tag", "refs/tags/main/1")
			gitIn(t, r.Dir, nil, "verify-commit", ChannelRef("main", "prod"))
			if got := gitIn(t, r.Dir, nil, "for-each-ref", "--format=%(taggername) %(taggeremail) %(taggerdate:raw)", "refs/tags/main/1"); got != "Rel Eng <releng@example.com> 1700000000 +0000" {
				t.Errorf("tagger %q", got)
			}

			v := must[*Verification](t)(r.VerifyStack(ctx, id("main/1")))
			if !v.Signed || !v.Good || v.Signer != c.signer {
				t.Errorf("verify main/1: %+v", v)
			}
			v = must[*Verification](t)(r.VerifyChannel(ctx, "main", "prod"))
			if !v.Signed || !v.Good || v.Signer != c.signer {
				t.Errorf("verify channel: %+v", v)
			}
			v = must[*Verification](t)(r.VerifyStack(ctx, id("main/2")))
			if v.Signed || v.Good {
				t.Errorf("verify unsigned main/2: %+v", v)
			}

			r.RequireSigned = true
			if _, _, err := r.Show(id("main/1"), nil); err != nil {
				t.Errorf("show signed: %v", err)
			}
			if _, _, _, err := r.ChannelShow("main", "prod", nil); err != nil {
				t.Errorf("channel show signed: %v", err)
			}
			var unsigned *UnsignedError
			if _, _, err := r.Show(id("main/2"), nil); !errors.As(err, &unsigned) || !strings.Contains(err.Error(), "stack main/2 is not signed") {
				t.Errorf("show unsigned: %v", err)
			}

			// a tampered tag: same signature, another message
			raw := gitIn(t, r.Dir, nil, "cat-file", "tag", "refs/tags/main/1")
			edited := strings.Replace(raw, "1 package", "2 packages", 1) + "\n"
			bad := gitIn(t, r.Dir, []byte(edited), "hash-object", "-w", "-t", "tag", "--stdin")
			gitIn(t, r.Dir, nil, "update-ref", "refs/tags/main/1", bad)
			r.reopen()
			v = must[*Verification](t)(r.VerifyStack(ctx, id("main/1")))
			if !v.Signed || v.Good {
				t.Errorf("verify tampered: %+v", v)
			}
			if _, _, err := r.Show(id("main/1"), nil); !errors.As(err, &unsigned) || !strings.Contains(err.Error(), "git does not accept") {
				t.Errorf("show tampered: %v", err)
			}
		})
	}
}

func TestSigningNoKey(t *testing.T) {
	r := signingRepo(t, func(dir string) { gitIn(t, dir, nil, "config", "gpg.format", "ssh") })
	signed := testIdent
	signed.Sign = true
	_, err := r.Create(id("main/1"), nil, signed)
	var se *SigningError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("create with no key: %v", err)
	}
	if refs := gitIn(t, r.Dir, nil, "for-each-ref"); refs != "" {
		t.Errorf("refs written: %s", refs)
	}
}

func TestSignForPush(t *testing.T) {
	r := signingRepo(t, sshSigning(t))
	must[*Result](t)(r.Create(id("main/1"), nil, testIdent))
	before := must[*Stack](t)(r.Stack(id("main/1")))
	signed := must[[]StackID](t)(r.signForPush([]StackID{id("main/1"), id("main/1")}))
	if len(signed) != 1 || signed[0] != id("main/1") {
		t.Fatalf("signed %v", signed)
	}
	r.reopen()
	after := must[*Stack](t)(r.Stack(id("main/1")))
	if after.Tag == before.Tag || after.Commit != before.Commit {
		t.Errorf("tag %s -> %s, commit %s -> %s", before.Tag, after.Tag, before.Commit, after.Commit)
	}
	gitIn(t, r.Dir, nil, "verify-tag", "refs/tags/main/1")
	if got := gitIn(t, r.Dir, nil, "for-each-ref", "--format=%(taggername) %(taggerdate:raw) %(contents:subject)", "refs/tags/main/1"); got != "Rel Eng 1700000000 +0000 main/1: 0 packages" {
		t.Errorf("signed tag keeps tagger and message: %q", got)
	}
	if again := must[[]StackID](t)(r.signForPush([]StackID{id("main/1")})); len(again) != 0 {
		t.Errorf("signed again: %v", again)
	}
}
