package remote

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The findings of an outside attack on the build side (issue 11, second
// round), each a test on this machine and over a real sshd.

// Builder output reaches the terminal with its control characters shown,
// not obeyed: no title change, no erased prefix, no reordered text.
func TestBuilderOutputEscaped(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain\ttabbed", "plain\ttabbed"},
		{"\x1b]0;PWNED\x07title", `\e]0;PWNED\x07title`},
		{"\x1b[2K\rgit-gachette: all good", `\e[2K\rgit-gachette: all good`},
		{"a\u202etxt.exe", `a\u202etxt.exe`},
		{"\u2066x\u2069 \u200f", `\u2066x\u2069 \u200f`},
		{"c1 \u009b31m", `c1 \u009b31m`},
		{"raw \x9b31m", `raw \x9b31m`},
		{"del\x7f nul\x00", `del\x7f nul\x00`},
		{"héllo wörld ✓", "héllo wörld ✓"},
	}
	for _, c := range cases {
		var out bytes.Buffer
		showTo(&out)([]byte(c.in), 0)
		if got := strings.TrimSuffix(out.String(), "\n"); got != c.want {
			t.Errorf("%q shown as %q, want %q", c.in, got, c.want)
		}
	}
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, `printf '\033]0;PWNED\007\033[2K\rgit-gachette: all good\n\342\200\256txt.exe\n'`+"\n"+makeDeb)
		co := p.prepare("main")
		var log bytes.Buffer
		if _, err := p.build(context.Background(), p.request(co), &log); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(log.String(), "\x1b\r\x07\u202e") {
			t.Errorf("control characters reached the log: %q", log.String())
		}
		if !strings.Contains(log.String(), `\e]0;PWNED\x07\e[2K\rgit-gachette: all good`+"\n"+`\u202etxt.exe`+"\n") {
			t.Errorf("log: %q", log.String())
		}
	})
}

// A password in a URL is never shown: the user name stays.
func TestRedactPassword(t *testing.T) {
	for in, want := range map[string]string{
		"https://deploy:s3cret@git.example.com/x.git":        "https://deploy@git.example.com/x.git",
		"https://deploy@git.example.com/x.git":               "https://deploy@git.example.com/x.git",
		"http://u:p@ss@host:8080/x":                          "http://u@host:8080/x",
		"git@github.com:a/b.git":                             "git@github.com:a/b.git",
		"/srv/git/a:b@c":                                     "/srv/git/a:b@c",
		"fatal: 'ssh://me:pw@h/r' and 'https://x:y@z/' both": "fatal: 'ssh://me@h/r' and 'https://x@z/' both",
		"ftp://host/p?x=a:b@c":                               "ftp://host/p?x=a:b@c",
	} {
		if got := RedactPassword(in); got != want {
			t.Errorf("RedactPassword(%q) = %q, want %q", in, got, want)
		}
	}
	var out bytes.Buffer
	w := redactTo(&out, "https://deploy:s3cret@h/x.git")
	io.WriteString(w, "fatal: unable to access 'https://deploy:s3cret@h/x.git/': no\n")
	io.WriteString(w, "remote: deploy:s3cret@h said no\n")
	if strings.Contains(out.String(), "s3cret") {
		t.Errorf("shown: %q", out.String())
	}
}

// Every value is checked at the edge, whether or not the builder uses it.
func TestBuildRequestValidatesEverything(t *testing.T) {
	ok := BuildRequest{Key: "app", Workdir: "/w", DebsPath: "/d", Builder: BuilderCommand, Command: "sh build.sh"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		change func(r *BuildRequest)
		want   string
	}{
		{func(r *BuildRequest) { r.Missile = "a\nb" }, `missile "a\nb" has the control character U+000A`},
		{func(r *BuildRequest) { r.ExtraDescription = "a\nb" }, `extra description "a\nb" has the control character U+000A`},
		{func(r *BuildRequest) { r.WebCallback = "ftp://x" }, `web callback "ftp://x" is not an http:// or https:// URL`},
		{func(r *BuildRequest) { r.Trebuchet = "-x" }, `trebuchet path "-x" starts with '-'`},
		{func(r *BuildRequest) { r.DebsPath = "/a/../b" }, `debs path "/a/../b" must not contain ".."`},
		{func(r *BuildRequest) { r.Builder = BuilderDpkg; r.Missile = "../x" }, `missile "../x" must stay inside the working copy`},
	} {
		r := ok
		c.change(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// A .deb named with a leading '-' or '.' is refused, saying so.
func TestBadDebNameRefused(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb+`mv "$GACHETTE_OUTPUT/dh-app_${GACHETTE_VERSION}_all.deb" "$GACHETTE_OUTPUT/-dh-app_${GACHETTE_VERSION}_all.deb"`+"\n")
		co := p.prepare("main")
		_, err := p.build(context.Background(), p.request(co), io.Discard)
		if err == nil || !strings.Contains(err.Error(), `the builder made a file named "-dh-app_`+co.Version+`_all.deb": a .deb file name must not start with '-' or '.', and holds only letters, digits and . _ + ~ -`) {
			t.Fatalf("got %v", err)
		}
	})
}

// tamperObject rewrites, in the repository gitDir, the object id as if it
// held contents (of type typ): what a build can do to its working copy's
// object store. Packs are exploded first, so that the loose object is the
// one git reads.
func tamperObject(t *testing.T, gitDir, id, typ string, contents []byte) {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(gitDir, "objects", "pack", "*.pack"))
	for _, p := range packs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(p)
		os.Remove(strings.TrimSuffix(p, ".pack") + ".idx")
		os.Remove(strings.TrimSuffix(p, ".pack") + ".rev")
		cmd := exec.Command("git", "--git-dir", gitDir, "unpack-objects", "-q")
		cmd.Stdin = bytes.NewReader(data)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("unpack-objects: %v\n%s", err, out)
		}
	}
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	fmt.Fprintf(zw, "%s %d\x00", typ, len(contents))
	zw.Write(contents)
	zw.Close()
	f := filepath.Join(gitDir, "objects", id[:2], id[2:])
	os.Chmod(f, 0o644)
	if err := os.WriteFile(f, z.Bytes(), 0o444); err != nil {
		t.Fatal(err)
	}
}

// A build that rewrites objects of its working copy (under their real
// ids) changes nothing a later prepare checks out: the objects the
// checkout uses are verified, and the working copy cloned again when one
// does not hash to its id. A blob, a tree, the commit.
func TestTamperedObjectsRecloned(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		p.commitFile("content.txt", "genuine\n")
		p.prepare("main")
		wc := WorkingCopy(p.wd, "app")
		gd := filepath.Join(wc, ".git")
		for _, c := range []struct{ what, obj, typ string }{
			{"blob", "main:content.txt", "blob"},
			{"tree", "main^{tree}", "tree"},
			{"commit", "main", "commit"},
		} {
			t.Run(c.what, func(t *testing.T) {
				id := strings.TrimSpace(git(t, wc, "rev-parse", "origin/"+c.obj))
				var evil []byte
				switch c.typ {
				case "blob":
					evil = []byte("EVIL\n")
				case "tree":
					// the same tree, with content.txt holding what a blob of the
					// project says
					var b bytes.Buffer
					for _, l := range strings.Split(strings.TrimSpace(git(t, wc, "ls-tree", id)), "\n") {
						meta, name, _ := strings.Cut(l, "\t")
						f := strings.Fields(meta)
						raw, _ := hex.DecodeString(f[2])
						if name == "content.txt" {
							raw, _ = hex.DecodeString(strings.TrimSpace(git(t, wc, "rev-parse", "origin/main:build.sh")))
						}
						fmt.Fprintf(&b, "%s %s\x00%s", strings.TrimPrefix(f[0], "0"), name, raw)
					}
					evil = b.Bytes()
				case "commit":
					body := git(t, wc, "cat-file", "commit", id)
					tree := strings.TrimSpace(git(t, wc, "rev-parse", "origin/main~1^{tree}"))
					evil = []byte(strings.Replace(body, "tree "+strings.TrimSpace(git(t, wc, "rev-parse", id+"^{tree}")), "tree "+tree, 1))
				}
				tamperObject(t, gd, id, c.typ, evil)
				os.WriteFile(filepath.Join(wc, "content.txt"), []byte("EVIL\n"), 0o644)
				var log bytes.Buffer
				if _, err := Prepare(context.Background(), h.ex, p.wd, "app", p.url, "main", "0.0.1", &log); err != nil {
					t.Fatalf("%v\n%s", err, log.String())
				}
				if got, _ := os.ReadFile(filepath.Join(wc, "content.txt")); string(got) != "genuine\n" {
					t.Errorf("content.txt after the prepare: %q\n%s", got, log.String())
				}
				if !strings.Contains(log.String(), "cloning it again") {
					t.Errorf("the prepare did not say it cloned again: %q", log.String())
				}
				if out, err := exec.Command("git", "-C", wc, "fsck", "--no-dangling").CombinedOutput(); err != nil {
					t.Errorf("git fsck of the working copy: %v\n%s", err, out)
				}
			})
		}
	})
}

// A working copy cloned from a path on the host shares no object file
// with the project's repository (git clone would hard-link them, and a
// build writing its objects would change the project's).
func TestLocalCloneSharesNoObject(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		git(t, p.url, "repack", "-q") // loose objects are hard-linked one by one, packs too
		p.prepare("main")
		filepath.WalkDir(filepath.Join(WorkingCopy(p.wd, "app"), ".git", "objects"), func(f string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			st, err := os.Stat(f)
			if err == nil && st.Sys().(*syscall.Stat_t).Nlink > 1 {
				t.Errorf("%s is hard-linked (%d links)", f, st.Sys().(*syscall.Stat_t).Nlink)
			}
			return nil
		})
		if _, err := os.Stat(filepath.Join(WorkingCopy(p.wd, "app"), ".git", "objects", "info", "alternates")); err == nil {
			t.Error("the working copy borrows objects (alternates)")
		}
	})
}

// victim is a git work tree with an untracked file: what a prepare
// following a planted symbolic link would wipe.
func victim(t *testing.T) string {
	t.Helper()
	v := filepath.Join(t.TempDir(), "victim")
	git(t, ".", "init", "-q", "-b", "main", v)
	os.WriteFile(filepath.Join(v, "precious"), []byte("mine\n"), 0o644)
	return v
}

func victimIntact(t *testing.T, v string) {
	t.Helper()
	if got, err := os.ReadFile(filepath.Join(v, "precious")); err != nil || string(got) != "mine\n" {
		t.Errorf("the victim's file: %q %v", got, err)
	}
	if out := git(t, v, "for-each-ref"); out != "" {
		t.Errorf("the victim got refs:\n%s", out)
	}
}

// A build that replaces what prepare writes with symbolic links gets
// nothing written through them: the working copy itself, its temporary
// clone, its state, its lock, and the working copies' directory.
func TestPrepareFollowsNoLink(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		p.prepare("main")
		wc := WorkingCopy(p.wd, "app")
		dir := filepath.Dir(wc)

		// the working copy, a link to another work tree
		v := victim(t)
		os.Rename(wc, wc+".old")
		os.Symlink(v, wc)
		var log bytes.Buffer
		if _, err := Prepare(context.Background(), h.ex, p.wd, "app", p.url, "main", "0.0.1", &log); err != nil {
			t.Fatalf("%v\n%s", err, log.String())
		}
		victimIntact(t, v)
		if st, err := os.Lstat(wc); err != nil || !st.IsDir() {
			t.Errorf("the working copy is not a directory again: %v %v", st, err)
		}
		if !strings.Contains(log.String(), wc+" is a symbolic link, which git-gachette never made (a build did?); removing it") {
			t.Errorf("log: %q", log.String())
		}

		// the state older versions kept, and the lock, links to a file
		for _, name := range []string{".app.prepared", ".app.prepared.tmp", ".app.lock"} {
			f := filepath.Join(t.TempDir(), "victimfile")
			os.WriteFile(f, []byte("mine\n"), 0o644)
			os.Remove(filepath.Join(dir, name))
			os.Symlink(f, filepath.Join(dir, name))
			if _, err := Prepare(context.Background(), h.ex, p.wd, "app", p.url, "main", "0.0.1", io.Discard); err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(f); string(got) != "mine\n" {
				t.Errorf("written through %s: %q", name, got)
			}
		}

		// the temporary clone of a new working copy
		other := filepath.Join(t.TempDir(), "other")
		os.MkdirAll(other, 0o755)
		os.WriteFile(filepath.Join(other, "precious"), []byte("mine\n"), 0o644)
		os.Symlink(other, filepath.Join(dir, ".new.clone"))
		if _, err := Prepare(context.Background(), h.ex, p.wd, "new", p.url, "main", "0.0.1", io.Discard); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(other, "precious")); string(got) != "mine\n" {
			t.Errorf("the clone went through the link: %q", got)
		}

		// the working copies' directory, a link to another place
		elsewhere := t.TempDir()
		os.Rename(dir, dir+".old")
		os.Symlink(elsewhere, dir)
		if _, err := Prepare(context.Background(), h.ex, p.wd, "app", p.url, "main", "0.0.1", io.Discard); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(elsewhere); len(entries) > 0 {
			t.Errorf("prepare wrote through the working copies' directory link: %v", entries)
		}
	})
}

// What a build leaves in the git directory that the reset cannot undo
// (a lock file that is a directory, a file where a directory of refs
// should be) does not stop later prepares: the working copy is cloned
// again.
func TestPrepareRecoversFromBrokenGitDir(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		p.prepare("main")
		gd := filepath.Join(WorkingCopy(p.wd, "app"), ".git")
		for _, c := range []struct {
			what   string
			break_ func() error
		}{
			{"index.lock directory", func() error { return os.MkdirAll(filepath.Join(gd, "index.lock", "x"), 0o755) }},
			{"HEAD.lock file", func() error { return os.WriteFile(filepath.Join(gd, "HEAD.lock"), nil, 0o644) }},
			{"ref lock", func() error {
				return os.WriteFile(filepath.Join(gd, "refs", "remotes", "origin", "main.lock"), nil, 0o644)
			}},
			{"refs/remotes file", func() error {
				if err := os.RemoveAll(filepath.Join(gd, "refs", "remotes")); err != nil {
					return err
				}
				git(t, gd, "pack-refs", "--all")
				return os.WriteFile(filepath.Join(gd, "refs", "remotes"), []byte("x"), 0o644)
			}},
		} {
			if err := c.break_(); err != nil {
				t.Fatal(err)
			}
			p.commitFile("n", c.what)
			var log bytes.Buffer
			co, err := Prepare(context.Background(), h.ex, p.wd, "app", p.url, "main", "0.0.1", &log)
			if err != nil {
				t.Fatalf("%s: %v\n%s", c.what, err, log.String())
			}
			if head := strings.TrimSpace(git(t, p.url, "rev-parse", "main")); co.Commit != head {
				t.Errorf("%s: prepared %s, want %s", c.what, co.Commit, head)
			}
		}
	})
}

// A key is never a temporary name of another: preparing app leaves the
// working copy of key app.tmp (or app.clone) as it is.
func TestKeysDoNotCollide(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		for _, k := range []string{"app.tmp", "app.clone"} {
			if _, err := Prepare(context.Background(), h.ex, p.wd, k, p.url, "main", "0.0.1", io.Discard); err != nil {
				t.Fatal(err)
			}
		}
		p.prepare("main")
		for _, k := range []string{"app.tmp", "app.clone"} {
			if _, err := os.Stat(filepath.Join(WorkingCopy(p.wd, k), "build.sh")); err != nil {
				t.Errorf("the working copy of %s: %v", k, err)
			}
		}
	})
}

// Without a ref, the remote's default branch is named (origin/main, not
// HEAD); refs are taken in their full forms too.
func TestPrepareRefForms(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		git(t, p.url, "branch", "other")
		p.commit(makeDeb+"# two\n", "two")
		main := strings.TrimSpace(git(t, p.url, "rev-parse", "main"))
		tag := strings.TrimSpace(git(t, p.url, "rev-parse", "v1.0.0"))
		for _, c := range []struct{ ref, commit, named string }{
			{"", main, "origin/main"},
			{"HEAD", main, "origin/main"},
			{"refs/heads/main", main, "refs/heads/main"},
			{"heads/main", main, "heads/main"},
			{"refs/tags/v1.0.0", tag, "refs/tags/v1.0.0"},
			{"tags/v1.0.0", tag, "tags/v1.0.0"},
			{"refs/remotes/origin/other", tag, "refs/remotes/origin/other"},
		} {
			co, err := Prepare(context.Background(), h.ex, p.wd, "app", p.url, c.ref, "0.0.1", io.Discard)
			if err != nil {
				t.Errorf("%q: %v", c.ref, err)
				continue
			}
			if co.Commit != c.commit || co.Ref != c.named {
				t.Errorf("%q: prepared %s as %s, want %s as %s", c.ref, co.Commit, co.Ref, c.commit, c.named)
			}
		}
		// HEAD with two branches at its commit: HEAD it stays
		git(t, p.url, "branch", "-f", "other", "main")
		if co, err := Prepare(context.Background(), h.ex, p.wd, "app", p.url, "", "0.0.1", io.Discard); err != nil || co.Ref != "HEAD" {
			t.Errorf("two branches at HEAD: %+v %v", co, err)
		}
	})
}

// The .debs a build links into the debs path are taken back when nothing
// records them (Undo: a failure elsewhere, Ctrl-C), and kept, with the
// manifest for reuse, once recorded (Keep). A file that was there before
// is never taken back.
func TestUndoTakesBackLinks(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		co := p.prepare("main")
		req := p.request(co)
		res, err := Build(context.Background(), h.ex, req, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(p.debs, res.Debs[0].Filename)
		if _, err := os.Stat(f); err != nil {
			t.Fatalf("not linked before the last word: %v", err)
		}
		if err := res.Undo(); err != nil {
			t.Fatal(err)
		}
		checkNoFiles(t, p.debs)
		if m, _ := filepath.Glob(filepath.Join(p.debs, ".gachette", "manifests", "*")); len(m) > 0 {
			t.Errorf("manifests after undo: %v", m)
		}
		// built again: kept
		res, err = Build(context.Background(), h.ex, req, io.Discard)
		if err != nil || res.Reused {
			t.Fatal(res, err)
		}
		if err := res.Keep(); err != nil {
			t.Fatal(err)
		}
		checkRecorded(t, p.debs, res.Debs)
		// an identical .deb made another way, undone: the file stays
		same := req
		same.Command = "CONTENT=app sh build.sh"
		res, err = Build(context.Background(), h.ex, same, io.Discard)
		if err != nil || res.Reused {
			t.Fatal(res, err)
		}
		if err := res.Undo(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(f); err != nil {
			t.Errorf("a file that was there before was taken back: %v", err)
		}
		// and the kept one is reused
		if res, err := buildKept(context.Background(), h.ex, req, io.Discard); err != nil || !res.Reused {
			t.Fatalf("not reused: %+v %v", res, err)
		}
	})
}

// stagingLeft lists what is left in the debs path's staging directory.
func stagingLeft(t *testing.T, debs string) []string {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(debs, ".gachette", "staging"))
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// Cancelled at any instant around the end of the builder (between the
// build session and the check), a build leaves no staging directory.
func TestCancelAroundBuilderEnd(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb+"touch ../done\n")
		co := p.prepare("main")
		done := filepath.Join(p.wd, "working_copy", "done")
		for i, delay := range []time.Duration{0, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
			os.Remove(done)
			req := p.request(co)
			req.Command = fmt.Sprintf("sh build.sh # %d", i) // never reused
			ctx, cancel := context.WithCancel(context.Background())
			errc := make(chan error, 1)
			go func() {
				res, err := Build(ctx, h.ex, req, io.Discard)
				if err == nil {
					err = res.Undo()
				}
				errc <- err
			}()
			waitFor(t, done)
			time.Sleep(delay)
			cancel()
			<-errc
			if left := stagingLeft(t, p.debs); len(left) > 0 {
				t.Errorf("cancelled %s after the builder's end: left %v", delay, left)
			}
			checkNoFiles(t, p.debs)
		}
	})
}

// A sparse "deb" (a small file passing for a huge one, which would take
// minutes to read) is refused before it is read.
func TestSparseDebRefused(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb+`truncate -s 8G "$GACHETTE_OUTPUT/dh-app_${GACHETTE_VERSION}_all.deb"`+"\n")
		co := p.prepare("main")
		req := p.request(co)
		req.Timeout = time.Minute
		_, took, err := p.buildWithin(time.Minute, req, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "dh-app_"+co.Version+"_all.deb is a sparse file (8589934592 bytes long,") {
			t.Fatalf("got %v", err)
		}
		if took > 10*time.Second {
			t.Errorf("refused after %s", took)
		}
		checkNoFiles(t, p.debs)
	})
}

// Every build starts from the commit's tree, exactly: what an earlier
// build changed in the working copy (a tracked file, files it left, a
// tag) is not built, and objects it rewrote stop the build.
func TestBuildStartsFromTheCommit(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		co := p.prepare("main")
		wc := WorkingCopy(p.wd, "app")
		req := p.request(co)
		req.Command = `echo '# tampered' >>build.sh; echo junk >junk; git tag v9.9.9; sh build.sh`
		if _, err := p.build(context.Background(), req, io.Discard); err != nil {
			t.Fatal(err)
		}
		req.Command = `cp build.sh ../seen-build.sh; ls -A >../seen-ls; sh build.sh # 2`
		if _, err := p.build(context.Background(), req, io.Discard); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(filepath.Join(p.wd, "working_copy", "seen-build.sh")); string(got) != makeDeb {
			t.Errorf("the second build saw build.sh as %q", got)
		}
		if got, _ := os.ReadFile(filepath.Join(p.wd, "working_copy", "seen-ls")); string(got) != ".git\nbuild.sh\n" {
			t.Errorf("the second build saw %q", got)
		}
		// objects rewritten since: refused, prepare again
		id := strings.TrimSpace(git(t, wc, "rev-parse", "HEAD:build.sh"))
		tamperObject(t, filepath.Join(wc, ".git"), id, "blob", []byte("EVIL\n"))
		req.Command = "sh build.sh # 3"
		_, err := p.build(context.Background(), req, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "cannot be made the commit's tree again before the build (the checkout failed; see the message above): prepare it again") {
			t.Fatalf("got %v", err)
		}
		if co2 := p.prepare("main"); co2.Commit != co.Commit {
			t.Fatalf("prepare again: %s", co2.Commit)
		}
		if _, err := p.build(context.Background(), req, io.Discard); err != nil {
			t.Fatalf("after prepare: %v", err)
		}
	})
}

// A staging directory left by a run that died (its lock free, untouched
// for an hour) is removed by the next build; one whose lock is held is
// not, nor a recent one.
func TestStaleStagingSwept(t *testing.T) {
	requireFlock(t)
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, makeDeb)
		co := p.prepare("main")
		dir := filepath.Join(p.debs, ".gachette", "staging")
		old := time.Now().Add(-2 * time.Hour)
		mk := func(name string, when time.Time) string {
			d := filepath.Join(dir, name)
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(d, "x.deb"), []byte("x"), 0o644)
			os.WriteFile(d+".lock", nil, 0o644)
			os.Chtimes(d+".lock", when, when)
			return d
		}
		dead := mk("app-dead", old)
		held := mk("app-held", old)
		recent := mk("app-recent", time.Now())
		f, err := os.Open(held + ".lock")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		if _, err := p.build(context.Background(), p.request(co), io.Discard); err != nil {
			t.Fatal(err)
		}
		for d, want := range map[string]bool{dead: false, held: true, recent: true} {
			if _, err := os.Stat(d); (err == nil) != want {
				t.Errorf("%s there: %v, want %v", d, err == nil, want)
			}
		}
		if _, err := os.Stat(dead + ".lock"); err == nil {
			t.Error("the dead run's lock is left")
		}
	})
}

// When a build returns, cancelled or not, nothing of its host scripts
// still runs (no sleep of theirs lingers).
func TestNothingLingers(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		killLike(t, "sleep 1012.5")
		p := newProject(t, h, makeDeb+"touch ../started\nsleep 1012.5\n")
		co := p.prepare("main")
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := p.build(ctx, p.request(co), io.Discard)
			errc <- err
		}()
		waitFor(t, filepath.Join(p.wd, "working_copy", "started"))
		cancel()
		<-errc
		time.Sleep(200 * time.Millisecond)
		// (the host scripts of this test: their arguments hold its debs path)
		for _, s := range []string{p.debs, "sleep 1012.5"} {
			if left := processesLike(s); len(left) > 0 {
				t.Errorf("still running after the build returned: %v", left)
			}
		}
		// and after a build that ends by itself
		req := p.request(co)
		req.Command = "sh -c \"$(grep -v sleep build.sh)\""
		if _, err := p.build(context.Background(), req, io.Discard); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if left := processesLike(p.debs); len(left) > 0 {
			t.Errorf("still running after the build: %v", left)
		}
		// the relay's timer, in a session of its own, was stopped whole
		if left := timersOf(t); len(left) > 0 {
			t.Errorf("the relay's timer still runs: %v", left)
		}
	})
}

// Every exit status of the host scripts has a message: none is shown as
// a bare "exit status N".
func TestEveryStatusHasAMeaning(t *testing.T) {
	for k, v := range protocol {
		if !strings.HasPrefix(k, "EXIT_") {
			continue
		}
		n := exitStatus(k)
		got := describeStatus(&ExitError{Status: n}).Error()
		if _, ok := statusMeaning[n]; !ok || got == fmt.Sprintf("exit status %d", n) {
			t.Errorf("%s (%s): %q", k, v, got)
		}
	}
}

// gachette.buildTimeout bounds the check of the .debs too: a check that
// takes too long (here a sha256sum that hangs) is stopped, with all it
// runs, saying so.
func TestBuildTimeoutCoversTheCheck(t *testing.T) {
	killLike(t, "sleep 1015.5")
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "sha256sum"), []byte("#!/bin/sh\nexec sleep 1015.5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	p := newProject(t, testHost{"local", Local{}}, makeDeb)
	co := p.prepare("main")
	req := p.request(co)
	req.Timeout = 2 * time.Second
	_, took, err := p.buildWithin(time.Minute, req, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "stopped after 2s (gachette.buildTimeout) while its .debs were checked") {
		t.Fatalf("got %v", err)
	}
	t.Logf("stopped after %s", took)
	for deadline := time.Now().Add(5 * time.Second); len(processesLike("sleep 1015.5")) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the check goes on: %v", processesLike("sleep 1015.5"))
		}
	}
	checkNoFiles(t, p.debs)
}

// timersOf lists the relay timers (build.sh's gachette-timer) that
// outlived their relay: left behind by a build that ended. (A timer's
// arguments name its relay's pid, not a path: one of another build still
// running has its relay.)
func timersOf(t *testing.T) []string {
	t.Helper()
	var left []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		// sh -c SCRIPT gachette-timer RELAY: the timer itself, not a host
		// script (of another test, running beside this one) whose text
		// names it
		argv := strings.Split(strings.TrimSuffix(string(cmdline), "\x00"), "\x00")
		if len(argv) != 5 || argv[1] != "-c" || argv[3] != "gachette-timer" {
			continue
		}
		if _, err := os.Stat("/proc/" + argv[4]); err != nil {
			left = append(left, e.Name()+": "+strings.Join(argv, " "))
		}
	}
	return left
}
