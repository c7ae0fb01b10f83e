//go:build !linux

package metapath

import "errors"

// exchange is Linux's renameat2 RENAME_EXCHANGE; elsewhere Export falls
// back to two renames.
func exchange(a, b string) error { return errors.ErrUnsupported }
