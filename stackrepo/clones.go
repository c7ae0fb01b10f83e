package stackrepo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// Partial and shallow clones: objects are read in-process, but a
// partial clone lacks some by design, and a shallow clone lacks the
// history before its boundary. Both are git's business: missing objects
// are fetched the way git fetches them, and walks stop where git's shallow
// list says history ends.

// prefetch makes sure the objects are here, fetching those a partial clone
// lacks in one request, as git does before reading many objects (a stack's
// stanzas are 200 blobs: one fetch, not 200). Elsewhere it does nothing:
// a missing object is then reported by the read that needs it.
func (r *Repo) prefetch(hashes []plumbing.Hash) error {
	if len(r.promisors) == 0 || r.objs == nil {
		return nil
	}
	var missing []plumbing.Hash
	for _, h := range hashes {
		if !r.objs.has(h) {
			missing = append(missing, h)
		}
	}
	return r.fetchMissing(missing)
}

// fetchMissing fetches objects from the promisor remotes in git's order,
// with the command git itself runs for a lazy fetch (promisor-remote.c:
// fetch with a no-op negotiation, no tags, no FETCH_HEAD, the ids on
// stdin), so credentials, ssh and URLs are git's. It stops as soon as
// nothing is missing.
func (r *Repo) fetchMissing(missing []plumbing.Hash) error {
	var lastErr error
	for _, remote := range r.promisors {
		if len(missing) == 0 {
			return nil
		}
		var in strings.Builder
		for _, h := range missing {
			in.WriteString(h.String() + "\n")
		}
		_, err := r.git.Output(context.Background(), strings.NewReader(in.String()),
			"-c", "fetch.negotiationAlgorithm=noop", "fetch", remote, "--no-tags", "--no-write-fetch-head",
			"--recurse-submodules=no", "--filter=blob:none", "--stdin")
		if err != nil {
			lastErr = fmt.Errorf("fetch from the promisor remote %s: %w", remote, err)
		}
		r.objs.close() // the fetch made a new pack: list the packs again
		still := missing[:0]
		for _, h := range missing {
			if !r.objs.has(h) {
				still = append(still, h)
			}
		}
		missing = still
	}
	if len(missing) == 0 {
		return nil
	}
	if lastErr == nil {
		lastErr = errors.New("no promisor remote has it")
	}
	return fmt.Errorf("%s is missing from this partial clone and could not be fetched: %w", missing[0], lastErr)
}

// isShallowRoot reports whether h is a commit at the boundary of a shallow
// clone: git has it, but not its parents.
func (r *Repo) isShallowRoot(h plumbing.Hash) (bool, error) {
	if !r.shallow {
		return false, nil
	}
	if r.shallowRoots == nil {
		roots, err := readShallow(filepath.Join(r.Dir, "shallow"))
		if err != nil {
			return false, err
		}
		r.shallowRoots = roots
	}
	return r.shallowRoots[h], nil
}

// readShallow reads git's list of shallow commits, one id a line.
func readShallow(path string) (map[plumbing.Hash]bool, error) {
	roots := map[plumbing.Hash]bool{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return roots, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the shallow clone's boundary: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); gitexec.IsHex(line, 40) {
			roots[plumbing.NewHash(line)] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the shallow clone's boundary %s: %w", path, err)
	}
	return roots, nil
}
