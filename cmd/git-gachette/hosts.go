package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ops-hero/git-gachette/remote"
	"github.com/ops-hero/git-gachette/remote/buildjob"
	"github.com/ops-hero/git-gachette/semverx"
	"github.com/ops-hero/git-gachette/stackrepo/debian"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
	"github.com/ops-hero/git-gachette/stackrepo/termtext"
)

// hostUse is which commands on build hosts read a setting.
type hostUse int

const (
	forPrepare hostUse = 1 << iota
	forLint
	forBuild // build and quick
	forAll   = forPrepare | forLint | forBuild
)

// hostConfig checks and types the settings a command on build hosts
// reads, in one place, before anything runs on a host: a bad value fails
// at once, naming where it was set. The job gets them typed.
func (a *app) hostConfig(use hostUse) (buildjob.Config, error) {
	if err := a.load(); err != nil {
		return buildjob.Config{}, err
	}
	s := a.settings
	c := buildjob.Config{AcceptNewHostKeys: a.flags.acceptNew, Env: a.env}
	if !a.flags.quiet {
		c.Progress, c.HostOutput = a.stderr, a.stderr
	}
	var err error
	if c.Hosts, err = hostList(s.Host); err != nil {
		return c, err
	}
	fields := []struct {
		v     value
		uses  hostUse
		named bool // its error names the origin already
		set   func(string) error
	}{
		// as written: a path with ".." is refused, not cleaned
		{s.Workdir, forAll, false, func(v string) error {
			c.Workdir = buildjob.CleanHostPath(v)
			return remote.CheckHostPath("workdir", v)
		}},
		{s.DebsPath, forBuild, false, func(v string) error {
			c.DebsPath = buildjob.CleanHostPath(v)
			return remote.CheckHostPath("debs path", v)
		}},
		{s.Builder, forBuild, false, func(v string) error { c.Builder = v; return remote.CheckBuilder(v) }},
		{s.Trebuchet, forLint | forBuild, false, func(v string) error {
			if c.Trebuchet = v; s.Builder.Value != remote.BuilderTrebuchet {
				return nil
			}
			return remote.CheckTrebuchetPath(v)
		}},
		{s.Arch, forBuild, false, func(v string) error { c.Arch = v; return debian.CheckArch(v) }},
		{s.BuildCommand, forBuild, false, func(v string) error {
			c.BuildCommand = v
			return remote.CheckBuildCommand(s.Builder.Value, v)
		}},
		{s.BaseVersion, forPrepare | forBuild, false, func(v string) error { c.BaseVersion = v; return semverx.CheckBaseVersion(v) }},
		{s.ForwardAgent, forAll, true, func(string) error { c.ForwardAgent, err = s.ForwardAgent.bool(); return err }},
		{s.BuildTimeout, forBuild, false, func(v string) error { c.BuildTimeout, err = buildTimeout(v); return err }},
		{s.BuildUser, forBuild, false, func(v string) error { c.BuildUser = v; return remote.CheckBuildUser(v) }},
	}
	for _, f := range fields {
		if f.uses&use == 0 {
			continue
		}
		if err := f.set(f.v.Value); err != nil && f.named {
			return c, err
		} else if err != nil {
			return c, fmt.Errorf("%w (from %s)", err, f.v.Origin)
		}
	}
	return c, nil
}

// bool reads the value as git reads a boolean.
func (v value) bool() (bool, error) {
	b, err := gitexec.ParseBool(v.Value)
	if err != nil {
		return false, fmt.Errorf("%s = %q (from %s) is not a boolean; use true or false", v.Key, v.Value, v.Origin)
	}
	return b, nil
}

// hostList is the build hosts gachette.host lists (several separated by
// commas), each checked.
func hostList(v value) ([]string, error) {
	if strings.TrimSpace(v.Value) == "" {
		return nil, fmt.Errorf("no build host: set one with --host, GACHETTE_HOST or git config gachette.host (local for this machine)")
	}
	var hosts []string
	for _, h := range strings.Split(v.Value, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, fmt.Errorf("host list %q (from %s) has an empty entry; give hosts as host1,host2", termtext.Shorten(v.Value), v.Origin)
		}
		if err := remote.CheckHost(h); err != nil {
			return nil, fmt.Errorf("%w (from %s); give hosts as host1,host2", err, v.Origin)
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

// buildTimeout reads gachette.buildTimeout: a Go duration (30m, 2h); empty
// or 0 is no limit.
func buildTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("build timeout %q is not a duration such as 45m or 2h (0 for none)", termtext.Shorten(v))
	}
	return d, nil
}

// exitInterrupted is the exit status of a command stopped by SIGINT or
// SIGTERM, as a shell reports one killed by SIGINT.
const exitInterrupted = 130

// interrupted is err, or the "interrupted" exit (130) when ctx was
// cancelled by a signal: whatever a step was doing then, it stopped, and
// nothing was recorded.
func interrupted(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	}
	return err
}
