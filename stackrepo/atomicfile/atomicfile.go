// Package atomicfile replaces files so that a reader sees the old content
// or the new, whole, never a part: through a file beside the target,
// renamed over it.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write replaces path with data through a temporary file in the same
// directory (mode 0600, as os.CreateTemp makes it), renamed into place.
// On error nothing is left behind.
func Write(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// WriteLocked replaces path with data as git replaces its own files
// (git config, refs): through <path>.lock, created exclusively so that two
// writers cannot both win, synced, then renamed into place. An existing
// file keeps its permissions. A lock file already there means another
// writer, or one that died: the error says so, and nothing is written.
func WriteLocked(path string, data []byte) error {
	lock := path + ".lock"
	f, err := os.OpenFile(lock, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists: another git config may be running; if not, remove it and try again", lock)
		}
		return err
	}
	if st, err := os.Stat(path); err == nil {
		f.Chmod(st.Mode().Perm())
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(lock)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(lock, path)
}
