package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ops-hero/git-gachette/stackrepo/debian"
)

// The check of a build's .debs (scripts/check.sh), in a session of its
// own once the builder's has ended: what the host found, what the
// builder claimed, and the verdict.

// checkAndMove runs the check session: it reads what check.sh found in
// staging, decides, and sends its verdict: the .debs to link into the
// debs path, or nothing (EOF) if any is refused. Once they are linked,
// the session waits for the last word (keep or undo: see pendingMove),
// which the caller gives once it knows whether they are recorded. When
// ctx is done before they are handed to the caller, the session is told
// to undo (at any point: before its verdict, while it links, after
// "moved") and takes back what it linked; after, ctx does not stop it.
func (r BuildRequest) checkAndMove(ctx context.Context, ex Executor, staging, reuse string, claims map[string]BuiltLine, log io.Writer) ([]Deb, *pendingMove, error) {
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	stderr := lineWriter(log)
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan error, 1)
	go func() {
		err := ex.Run(sctx, Script{Body: hostScript(checkSh), Args: []string{strings.TrimSuffix(r.DebsPath, "/"), staging, reuse},
			Stdin: inR, Stdout: outW, Stderr: stderr})
		outW.Close()
		stderr.Close()
		done <- err
	}()
	moved := make(chan struct{})
	stopped := make(chan struct{})
	undoSent := false // by the goroutine below, before stopped is closed
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			// "undo" on stdin, whatever the session is at (checking,
			// linking, or waiting for the last word): it takes back what
			// it linked and ends. Its stdin ending alone would not do
			// once it has said "moved" (that keeps them: the caller may
			// have recorded them and gone). Should it not end, its stdin
			// is closed after stopWait. (The write goes through once the
			// session reads; inW.Close below ends it otherwise.)
			undoSent = true
			go io.WriteString(inW, "undo\n")
			time.AfterFunc(stopWait, cancel)
		case <-moved:
		}
	}()
	sr := newSessionReader(outR)
	var found []record
	var readErr, verdictErr error
	var debs []Deb
	checked := false
	var conflict record
	for {
		rec, err := sr.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		switch {
		case !checked && rec.word == lineChecked && len(rec.fields) == 0:
			checked = true
			if debs, verdictErr = r.verdict(found, claims); verdictErr != nil {
				inW.Close() // no verdict: the session leaves the debs path as it was
				continue
			}
			var v strings.Builder
			v.WriteString("move\n")
			for _, d := range debs {
				v.WriteString(d.line() + "\n")
			}
			v.WriteString("end\n")
			go io.WriteString(inW, v.String())
		case !checked && len(found) < 4*maxDebs:
			found = append(found, rec)
		case checked && verdictErr == nil && rec.word == lineMoved && len(rec.fields) == 0:
			close(moved)
			<-stopped
			if ctx.Err() == nil {
				return debs, &pendingMove{in: inW, sr: sr, out: outR, done: done, cancel: cancel, debsPath: r.DebsPath}, nil
			}
			// stopped at the last moment: what it linked goes
			if !undoSent {
				go io.WriteString(inW, "undo\n")
			}
		case checked && rec.word == lineConflict && len(rec.fields) == 3:
			conflict = rec
		default:
			readErr = rec.unexpected()
		}
		if readErr != nil {
			break
		}
	}
	inW.Close()
	io.Copy(io.Discard, outR)
	err := <-done
	cancel()
	switch {
	case ctx.Err() != nil:
		return nil, nil, ctx.Err()
	case verdictErr != nil:
		return nil, nil, verdictErr
	case statusIs(err, exitConflict) && conflict.word != "":
		return nil, nil, conflictError(r.DebsPath, conflict.fields[0], conflict.fields[1], conflict.fields[2])
	case statusIs(err, exitNoStaging):
		return nil, nil, fmt.Errorf("the staging directory %s is gone: something on the host removed it during the build; build again", staging)
	case statusIs(err, exitMove):
		return nil, nil, fmt.Errorf("moving the .debs to %s failed (see the message above); the debs path is as it was", r.DebsPath)
	case err != nil && !checked:
		return nil, nil, fmt.Errorf("checking the .debs: %w", describeStatus(err))
	case err != nil:
		return nil, nil, fmt.Errorf("moving the .debs to %s: %w", r.DebsPath, describeStatus(err))
	case readErr != nil:
		return nil, nil, readErr
	}
	return nil, nil, fmt.Errorf("moving the .debs to %s: the session ended before they were moved", r.DebsPath)
}

// keepWait bounds how long the last word of a check session may take.
var keepWait = 30 * time.Second

// pendingMove is a check session that has linked the .debs into the debs
// path and waits for the last word: keep (they are recorded: they stay,
// with the manifest that lets the next build of this commit reuse them)
// or undo (nothing was recorded: what it linked goes). A session that
// never gets it (the caller died) keeps them.
type pendingMove struct {
	in       *io.PipeWriter
	sr       *sessionReader
	out      *io.PipeReader
	done     chan error
	cancel   context.CancelFunc
	debsPath string
	once     sync.Once
	err      error
}

// end sends word and waits for the session to answer want and end.
func (p *pendingMove) end(word, want string) error {
	p.once.Do(func() {
		go func() {
			io.WriteString(p.in, word+"\n")
			p.in.Close()
		}()
		timer := time.AfterFunc(keepWait, p.cancel)
		defer timer.Stop()
		answered := false
		for {
			rec, err := p.sr.next()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					p.err = err
				}
				break
			}
			if rec.word == want && len(rec.fields) == 0 && !answered {
				answered = true
				continue
			}
			p.err = rec.unexpected()
			break
		}
		io.Copy(io.Discard, p.out)
		err := <-p.done
		p.cancel()
		switch {
		case err != nil:
			p.err = fmt.Errorf("%s the .debs in %s: %w", word, p.debsPath, describeStatus(err))
		case p.err == nil && !answered:
			p.err = fmt.Errorf("%s the .debs in %s: the session ended without saying it did", word, p.debsPath)
		}
	})
	return p.err
}

func conflictError(debsPath, file, have, made string) error {
	return fmt.Errorf("%s/%s already exists with SHA-256 %s, and this build made it with SHA-256 %s: a .deb in the debs path is never replaced, "+
		"since a stack may record it. Bump the version (a new commit or tag) or make the build reproducible", strings.TrimSuffix(debsPath, "/"), file, have, made)
}

// line is the deb line of d, as check.sh prints it and keeps it in the
// manifest.
func (d Deb) line() string {
	return strings.Join([]string{lineDeb, d.Filename, d.Name, d.Version, d.Architecture, d.SHA256, strconv.FormatInt(d.Size, 10)}, "\t")
}

// parseDeb reads a deb line.
func parseDeb(rec record) (Deb, error) {
	if rec.word != lineDeb || len(rec.fields) != 6 {
		return Deb{}, rec.unexpected()
	}
	f := rec.fields
	size, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil || size < 0 || !debian.IsSHA256(f[4]) {
		return Deb{}, rec.unexpected()
	}
	d := Deb{Filename: f[0], Name: f[1], Version: f[2], Architecture: f[3], SHA256: f[4], Size: size}
	if err := debian.CheckPackageName(d.Name); err != nil {
		return Deb{}, fmt.Errorf("%s: %w", d.Filename, err)
	}
	if err := debian.CheckVersion(d.Version); err != nil {
		return Deb{}, fmt.Errorf("%s: %w", d.Filename, err)
	}
	if err := debian.CheckArch(d.Architecture); err != nil {
		return Deb{}, fmt.Errorf("%s: %w", d.Filename, err)
	}
	return d, nil
}

// checkNames checks that a .deb's file name is the one its builder gives
// it: trebuchet's <name>-<version>-<arch>.deb, else Debian's
// <name>_<version without epoch>_<arch>.deb.
func (r BuildRequest) checkNames(d Deb) error {
	want := d.Name + "_" + noEpoch(d.Version) + "_" + d.Architecture + ".deb"
	if r.Builder == BuilderTrebuchet {
		want = d.Name + "-" + d.Version + "-" + d.Architecture + ".deb"
	}
	if d.Filename != want {
		return fmt.Errorf("%s: its control file says %s %s %s, so it should be named %s; refusing it", d.Filename, d.Name, d.Version, d.Architecture, want)
	}
	return nil
}

// verdict decides from what check.sh found: every .deb in staging must be
// a regular file dpkg-deb reads; the builder's claims must match their
// control files; a file of the same name in the debs path must be the
// same.
func (r BuildRequest) verdict(found []record, claims map[string]BuiltLine) ([]Deb, error) {
	var debs []Deb
	have := map[string]string{}
	seen := map[string]bool{}
	for _, rec := range found {
		switch {
		case rec.word == lineNotFile && len(rec.fields) == 1:
			return nil, fmt.Errorf("%s is a symbolic link or not a regular file; only regular files are taken", rec.fields[0])
		case rec.word == lineNotDeb && len(rec.fields) == 1:
			return nil, fmt.Errorf("%s is not a Debian package dpkg-deb can read (see its message above)", rec.fields[0])
		case rec.word == lineSparse && len(rec.fields) == 3:
			return nil, fmt.Errorf("%s is a sparse file (%s bytes long, %s bytes on disk), which no .deb is; refusing it before reading it all", rec.fields[0], rec.fields[1], rec.fields[2])
		case rec.word == lineBadName && len(rec.fields) == 1:
			return nil, fmt.Errorf("the builder made a file named %q: a .deb file name must not start with '-' or '.', and holds only letters, digits and . _ + ~ -", rec.fields[0])
		case rec.word == lineHave && len(rec.fields) == 2:
			have[rec.fields[0]] = rec.fields[1]
		default:
			d, err := parseDeb(rec)
			if err != nil {
				return nil, err
			}
			if r.Builder == BuilderTrebuchet {
				c, ok := claims[d.Filename]
				if !ok {
					continue // not ours: trebuchet did not report it
				}
				if err := r.checkClaim(c, d); err != nil {
					return nil, err
				}
				seen[d.Filename] = true
			} else if err := r.checkNames(d); err != nil {
				return nil, err
			}
			debs = append(debs, d)
		}
	}
	for name := range claims {
		if !seen[name] {
			return nil, fmt.Errorf("trebuchet reported %s, but its output has no such .deb file", name)
		}
	}
	if len(debs) == 0 {
		if r.Builder == BuilderTrebuchet {
			return nil, errors.New(`trebuchet printed no "Built:" line; nothing was built`)
		}
		return nil, errors.New("the builder made no .deb file")
	}
	for _, d := range debs {
		switch h, ok := have[d.Filename]; {
		case !ok, h == d.SHA256:
		case h == "-":
			return nil, fmt.Errorf("%s/%s exists and is not a regular file; remove it, or set another gachette.debsPath", strings.TrimSuffix(r.DebsPath, "/"), d.Filename)
		default:
			return nil, conflictError(r.DebsPath, d.Filename, h, d.SHA256)
		}
	}
	return debs, nil
}

// checkClaim compares a trebuchet Built: line with the .deb's control
// file. An empty version is the one passed for the package's kind
// (trebuchet reports an empty string when its --*-version flag was not
// given).
func (r BuildRequest) checkClaim(c BuiltLine, d Deb) error {
	version := c.Version
	if version == "" {
		passed := map[string]bool{}
		for _, v := range []string{r.Versions.App, r.Versions.Env, r.Versions.Service, r.Versions.Static} {
			if v != "" {
				passed[v] = true
			}
		}
		switch {
		case len(passed) == 0:
			return fmt.Errorf("%s: trebuchet reported no version for %s, and none was passed: give the versions (--app-version, --env-version, --service-version, --static-version)", d.Filename, c.Name)
		case !passed[d.Version]:
			return fmt.Errorf("%s: trebuchet reported no version for %s, and its control file says %s, which is none of the versions passed; refusing it", d.Filename, c.Name, d.Version)
		}
		version = d.Version
	}
	if c.Name != d.Name || version != d.Version {
		return fmt.Errorf("%s: trebuchet said %s %s, but its control file says %s %s; refusing it", d.Filename, c.Name, version, d.Name, d.Version)
	}
	if want := c.Name + "-" + version + "-" + d.Architecture + ".deb"; d.Filename != want {
		return fmt.Errorf("%s: its control file says architecture %s (so %s); refusing it", d.Filename, d.Architecture, want)
	}
	return nil
}

func noEpoch(v string) string {
	if i := strings.IndexByte(v, ':'); i >= 0 {
		return v[i+1:]
	}
	return v
}
