package stackrepo

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
)

// What a build may record, checked against what the stacks repository
// records already: the stacks repository is on the client, where a
// builder on a build host cannot write.

// ChangedSinceError says a stack changed between the state a command
// read (before a build) and its write: the entries added, removed or
// changed since, which the command did not make.
type ChangedSinceError struct {
	ID      StackID
	Was     plumbing.Hash
	Now     plumbing.Hash
	Changes []string // "dh-evil 6.6.6 (added)", ...
}

func (e *ChangedSinceError) Error() string {
	what := "its commit moved"
	if len(e.Changes) > 0 {
		what = strings.Join(e.Changes, ", ")
	}
	return fmt.Sprintf("stack %s changed while this command ran (%s → %s: %s), and not by this command; nothing recorded. "+
		"Check who changed it (git gachette stack log %s), then run again", e.ID, e.Was.String()[:12], e.Now.String()[:12], what, e.ID)
}

// AddIfUnchanged is Add onto the state since of the stack (read with
// Stack before a long job, such as a build): if the stack is at another
// commit when it is written, nothing is written, and the error is a
// *ChangedSinceError naming what changed.
func (r *Repo) AddIfUnchanged(id StackID, since *Stack, pkgs []Package, ident Identity) (*Result, error) {
	if since == nil || since.ID != id {
		return nil, fmt.Errorf("stack %s: no earlier state to add onto", id)
	}
	return r.add(id, pkgs, ident, addOptions{since: since, replace: true})
}

// changedSince describes how cur differs from since.
func (r *Repo) changedSince(since, cur *Stack) error {
	e := &ChangedSinceError{ID: cur.ID, Was: since.Commit, Now: cur.Commit}
	d, err := r.Diff(since, cur)
	if err != nil {
		return e
	}
	for _, p := range d.Added {
		e.Changes = append(e.Changes, p.Name+" "+p.Version+" (added)")
	}
	for _, p := range d.Removed {
		e.Changes = append(e.Changes, p.Name+" "+p.Version+" (removed)")
	}
	for _, l := range [][]VersionChange{d.Upgraded, d.Downgraded, d.Changed} {
		for _, c := range l {
			e.Changes = append(e.Changes, c.Name+" "+c.From.Version+" → "+c.To.Version+" (changed)")
		}
	}
	return e
}

// FileConflict is a .deb about to be recorded whose file name a stack
// records with another SHA-256.
type FileConflict struct {
	Filename string
	Stack    StackID
	Recorded string // the SHA-256 the stack records
	Got      string // the SHA-256 of the file about to be recorded
}

// FileConflictError lists the conflicts of CheckFiles.
type FileConflictError struct{ Conflicts []FileConflict }

func (e *FileConflictError) Error() string {
	var b strings.Builder
	for i, c := range e.Conflicts {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s: stack %s records it with SHA-256 %s, and the file now has SHA-256 %s", c.Filename, c.Stack, c.Recorded, c.Got)
	}
	b.WriteString(". A .deb a stack records is never replaced: it was changed or replaced in the debs path since (by a build on the host?), " +
		"or built again differently. Nothing recorded: put the recorded file back, or bump the version (a new commit or tag)")
	return b.String()
}

// CheckFiles checks packages about to be recorded against every stack of
// every domain, and every earlier state of each (its history: what it
// recorded before an entry was replaced): a package whose file name one
// records (for a package of the same name) with another SHA-256 is a
// *FileConflictError, naming both. Each commit costs one small object
// read, each distinct tree of packages two (read raw: only the entries of
// those names are looked at), each distinct stanza of those names one.
func (r *Repo) CheckFiles(pkgs []Package) error {
	want := map[string][]Package{}
	for _, p := range pkgs {
		want[p.Name] = append(want[p.Name], p)
	}
	if len(want) == 0 {
		return nil
	}
	refs, err := r.refs.List("refs/tags/")
	if err != nil {
		return err
	}
	type todo struct {
		commit plumbing.Hash
		id     StackID
	}
	var queue []todo
	for _, ref := range refs {
		d, n, ok := strings.Cut(strings.TrimPrefix(ref.Name, "refs/tags/"), "/")
		if !ok || CheckName("domain", d) != nil || CheckName("stack", n) != nil {
			continue
		}
		raw, err := r.readRaw(ref.Hash)
		if err != nil {
			return fmt.Errorf("stack %s/%s: %w", d, n, objectError(ref.Hash, "tag", err))
		}
		commit, ok := header(raw.data, "object")
		if raw.typ == plumbing.TagObject && ok && bytes.Contains(raw.data, []byte("\ntype commit\n")) {
			queue = append(queue, todo{commit, StackID{Domain: d, Name: n}})
		}
	}
	seenCommit := map[plumbing.Hash]bool{}
	seenTree := map[plumbing.Hash]bool{}
	seenBlob := map[plumbing.Hash]bool{}
	found := map[string]FileConflict{}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if seenCommit[c.commit] {
			continue
		}
		seenCommit[c.commit] = true
		raw, err := r.readRaw(c.commit)
		if err != nil {
			return fmt.Errorf("stack %s: %w", c.id, objectError(c.commit, "commit", err))
		}
		if raw.typ != plumbing.CommitObject || !bytes.Contains(raw.data, []byte("\nGachette-Format: ")) {
			continue // not a stack's: nothing it records
		}
		for _, p := range headers(raw.data, "parent") {
			queue = append(queue, todo{p, c.id})
		}
		root, ok := header(raw.data, "tree")
		if !ok || seenTree[root] {
			continue
		}
		seenTree[root] = true
		raw, err = r.readRaw(root)
		if err != nil || raw.typ != plumbing.TreeObject {
			return fmt.Errorf("stack %s: %w", c.id, objectError(root, "tree", err))
		}
		tree, ok := treeEntry(raw.data, packagesDir)
		if !ok || seenTree[tree] {
			continue
		}
		seenTree[tree] = true
		raw, err = r.readRaw(tree)
		if err != nil || raw.typ != plumbing.TreeObject {
			return fmt.Errorf("stack %s: %w", c.id, objectError(tree, "tree", err))
		}
		for name, ps := range want {
			blob, ok := treeEntry(raw.data, name)
			if !ok || seenBlob[blob] {
				continue
			}
			seenBlob[blob] = true
			data, err := r.readBlob(blob)
			if err != nil {
				return fmt.Errorf("stack %s: %w", c.id, err)
			}
			rec, err := ParseStanza(data)
			if err != nil {
				return fmt.Errorf("stack %s: package %s: %w", c.id, name, err)
			}
			for _, p := range ps {
				if rec.Filename == p.Filename && rec.SHA256 != "" && !strings.EqualFold(rec.SHA256, p.SHA256) {
					if _, dup := found[p.Filename]; !dup {
						found[p.Filename] = FileConflict{Filename: p.Filename, Stack: c.id, Recorded: rec.SHA256, Got: p.SHA256}
					}
				}
			}
		}
	}
	if len(found) == 0 {
		return nil
	}
	e := &FileConflictError{}
	for _, c := range found {
		e.Conflicts = append(e.Conflicts, c)
	}
	sort.Slice(e.Conflicts, func(i, j int) bool { return e.Conflicts[i].Filename < e.Conflicts[j].Filename })
	return e
}

// headers reads the object ids of every header line "<name> <hex>".
func headers(data []byte, name string) []plumbing.Hash {
	var out []plumbing.Hash
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i <= 0 {
			break
		}
		if v, ok := bytes.CutPrefix(data[:i], []byte(name+" ")); ok && len(v) == 2*len(plumbing.ZeroHash) {
			out = append(out, plumbing.NewHash(string(v)))
		}
		data = data[i+1:]
	}
	return out
}

// header reads the object id of the first header line "<name> <hex>" of a
// tag or commit.
func header(data []byte, name string) (plumbing.Hash, bool) {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i <= 0 {
			return plumbing.ZeroHash, false // the end of the headers
		}
		if v, ok := bytes.CutPrefix(data[:i], []byte(name+" ")); ok {
			return plumbing.NewHash(string(v)), len(v) == 2*len(plumbing.ZeroHash)
		}
		data = data[i+1:]
	}
	return plumbing.ZeroHash, false
}

// treeEntry finds the entry name in raw tree data ("<mode> <name>\0<id>"...).
func treeEntry(data []byte, name string) (plumbing.Hash, bool) {
	size := len(plumbing.ZeroHash)
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		nul := bytes.IndexByte(data, 0)
		if sp < 0 || nul < sp || len(data) < nul+1+size {
			return plumbing.ZeroHash, false
		}
		if string(data[sp+1:nul]) == name {
			var h plumbing.Hash
			copy(h[:], data[nul+1:nul+1+size])
			return h, true
		}
		data = data[nul+1+size:]
	}
	return plumbing.ZeroHash, false
}
