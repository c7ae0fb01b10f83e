package buildjob

import (
	"context"
	"fmt"

	"github.com/ops-hero/git-gachette/remote"
)

// LintRequest asks trebuchet which packages a build of the working copy
// Key would make, on the first build host. It reads Workdir, Trebuchet
// and ForwardAgent.
type LintRequest struct {
	Config
	Key, Missile string
}

// LintResult is the packages trebuchet would build, on Host.
type LintResult struct {
	Host     string
	Packages []string
}

// Lint runs trebuchet lint in the working copy of req.
func Lint(ctx context.Context, req LintRequest) (*LintResult, error) {
	if err := remote.CheckKey(req.Key); err != nil {
		return nil, err
	}
	p := newPool(req.Config)
	defer p.close()
	ex, err := p.first(ctx)
	if err != nil {
		return nil, err
	}
	log := req.reporter().hostLog("    ")
	names, err := remote.Lint(ctx, ex, req.Workdir, req.Key, req.Trebuchet, req.Missile, log)
	log.flush()
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = []string{}
	}
	return &LintResult{Host: ex.Host(), Packages: names}, nil
}

// count is "1 package", "2 packages".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
