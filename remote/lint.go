package remote

import (
	"context"
	"fmt"
	"io"
)

// Lint runs trebuchet lint in the working copy (scripts/lint.sh) and
// returns the packages the build would make.
func Lint(ctx context.Context, ex Executor, workdir, key, trebuchet, missile string, stderr io.Writer) ([]string, error) {
	for _, err := range []error{CheckHostPath("workdir", workdir), CheckKey(key), CheckTrebuchetPath(trebuchet), CheckRelPath("missile", missile)} {
		if err != nil {
			return nil, err
		}
	}
	var names []string
	found := false
	out := newLineSplitter(func(line []byte, cut int) {
		if n, ok := parseLintLine(string(line)); ok && !found && cut == 0 {
			names, found = n, true
		}
	})
	errOut := lineWriter(stderr)
	wc := WorkingCopy(workdir, key)
	err := ex.Run(ctx, Script{Body: hostScript(lintSh), Args: []string{wc, trebuchet, missile}, Stdout: out, Stderr: errOut})
	out.Close()
	errOut.Close()
	if err != nil {
		if e := noWorkingCopy(err, key, ex.Host(), wc); e != nil {
			return nil, e
		}
		r := BuildRequest{Builder: BuilderTrebuchet, Trebuchet: trebuchet}
		return nil, fmt.Errorf("lint %s on %s: %w%s", key, ex.Host(), err, r.notFoundHint(err))
	}
	if !found {
		return nil, fmt.Errorf("lint %s on %s: trebuchet lint printed no \"Packages to be built:\" line", key, ex.Host())
	}
	return names, nil
}
