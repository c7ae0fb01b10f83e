package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// value is a setting's effective value and where it came from.
type value struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Origin string `json:"origin"`
}

// settings are every gachette.* setting (README, "Configuration"), resolved once by
// resolveSettings, each with where it came from. Commands read fields, so
// a misspelt setting does not compile; the commands on build hosts check
// and type theirs once more (hostConfig).
type settings struct {
	Stacks, Domain, Remote, Host, Workdir, DebsPath, Builder, BuildCommand,
	Trebuchet, Arch, BaseVersion, ForwardAgent, BuildTimeout, BuildUser,
	Sign, RequireSigned value
	// Projects are the [gachette "project.NAME"] subsections, in the
	// order git lists them.
	Projects []projectSettings
	// Channels are the [gachette "channel.ENV"] subsections (gates), in
	// the order git lists them.
	Channels []channelSettings
}

// projectSettings is one [gachette "project.NAME"] subsection.
type projectSettings struct {
	Name              string
	URL, Missile, Ref value
}

// setting describes one gachette.* key: how it is resolved, and where it
// goes in settings.
type setting struct {
	key    string // the name after "gachette."
	flag   string // global flag that overrides it, if any
	def    string
	help   string
	isBool bool
	field  func(*settings) *value
}

// knownSettings lists every setting in the order config show prints them.
var knownSettings = []setting{
	{key: "stacks", flag: "stacks", def: "", help: "stacks repository (default: the git repository you stand in)", field: func(s *settings) *value { return &s.Stacks }},
	{key: "domain", flag: "domain", def: "main", help: "default domain", field: func(s *settings) *value { return &s.Domain }},
	{key: "remote", def: "origin", help: "remote that push and fetch use", field: func(s *settings) *value { return &s.Remote }},
	{key: "host", flag: "host", def: "local", help: "build host: [user@]host[:port], an ~/.ssh/config alias, or local", field: func(s *settings) *value { return &s.Host }},
	{key: "workdir", def: "/tmp/gachette", help: "work directory on the build host", field: func(s *settings) *value { return &s.Workdir }},
	{key: "debsPath", def: "/tmp/gachette/debs", help: "where built .debs go on the build host", field: func(s *settings) *value { return &s.DebsPath }},
	{key: "builder", def: "trebuchet", help: "trebuchet | dpkg-buildpackage | command", field: func(s *settings) *value { return &s.Builder }},
	{key: "buildCommand", def: "", help: "shell command for the command builder", field: func(s *settings) *value { return &s.BuildCommand }},
	{key: "trebuchet", def: "trebuchet", help: "path to trebuchet on the build host", field: func(s *settings) *value { return &s.Trebuchet }},
	{key: "arch", def: "amd64", help: "architecture to build for", field: func(s *settings) *value { return &s.Arch }},
	{key: "baseVersion", def: "0.0.1", help: "package version base when a project has no version tag", field: func(s *settings) *value { return &s.BaseVersion }},
	{key: "forwardAgent", flag: "forward-agent", def: "false", help: "forward the ssh agent to the build host", isBool: true, field: func(s *settings) *value { return &s.ForwardAgent }},
	{key: "buildTimeout", def: "", help: "stop a build that runs longer than this (45m, 2h); empty: no limit", field: func(s *settings) *value { return &s.BuildTimeout }},
	{key: "buildUser", def: "", help: "run the builder as this user on the build host (sudo -n -u USER), apart from the SSH user; empty: as the SSH user", field: func(s *settings) *value { return &s.BuildUser }},
	{key: "sign", def: "false", help: "sign every stack tag and channel move with git's signing settings (gpg.format, user.signingKey)", isBool: true, field: func(s *settings) *value { return &s.Sign }},
	{key: "requireSigned", def: "false", help: "stack show and channel show refuse a stack or channel git does not verify as signed", isBool: true, field: func(s *settings) *value { return &s.RequireSigned }},
}

// envName is GACHETTE_ and the key in upper snake case (debsPath → DEBS_PATH).
func envName(key string) string {
	var b strings.Builder
	b.WriteString("GACHETTE_")
	for i, r := range key {
		if r >= 'A' && r <= 'Z' && i > 0 {
			b.WriteByte('_')
		}
		b.WriteString(strings.ToUpper(string(r)))
	}
	return b.String()
}

// resolveSettings resolves every setting once: flag > GACHETTE_* > git
// config (as git resolves it in the stacks repository: git -c, worktree,
// local, global, system) > default. stacks is gachette.stacks as load
// resolved it: it chooses the repository whose configuration cfg is, so
// it is not read from cfg.
func resolveSettings(cfg *gitexec.Config, env func(string) string, root *cobra.Command, stacks value) *settings {
	s := &settings{}
	for _, k := range knownSettings {
		*k.field(s) = resolve(k, cfg, env, root)
	}
	s.Stacks = stacks
	for _, sub := range cfg.Subsections("gachette", "project.") {
		p := projectSettings{Name: strings.TrimPrefix(sub, "project.")}
		for _, f := range []struct {
			name string
			v    *value
		}{{"url", &p.URL}, {"missile", &p.Missile}, {"ref", &p.Ref}} {
			*f.v = value{Key: "gachette." + sub + "." + f.name}
			if e, ok := cfg.Get(f.v.Key); ok {
				f.v.Value, f.v.Origin = e.Value, "git config ("+e.Where()+")"
			}
		}
		s.Projects = append(s.Projects, p)
	}
	s.Channels = resolveChannels(cfg)
	return s
}

func resolve(k setting, cfg *gitexec.Config, env func(string) string, root *cobra.Command) value {
	key := "gachette." + k.key
	if k.flag != "" && root != nil {
		if f := root.PersistentFlags().Lookup(k.flag); f != nil && f.Changed {
			return value{Key: key, Value: f.Value.String(), Origin: "flag --" + k.flag}
		}
	}
	if v := env(envName(k.key)); v != "" {
		return value{Key: key, Value: v, Origin: "environment " + envName(k.key)}
	}
	if e, ok := cfg.Get(key); ok {
		v := e.Value
		if e.Implicit && k.isBool {
			v = "true" // a bare key is true to git
		}
		return value{Key: key, Value: v, Origin: "git config (" + e.Where() + ")"}
	}
	return value{Key: key, Value: k.def, Origin: "default"}
}

// project is the subsection of the project name, if there is one.
func (s *settings) project(name string) (projectSettings, bool) {
	for _, p := range s.Projects {
		if p.Name == name {
			return p, true
		}
	}
	return projectSettings{}, false
}

// all is every setting, then the projects' fields that are set, in the
// order config show prints them.
func (s *settings) all() []value {
	var out []value
	for _, k := range knownSettings {
		out = append(out, *k.field(s))
	}
	for _, p := range s.Projects {
		for _, v := range []value{p.URL, p.Missile, p.Ref} {
			if v.Origin != "" {
				out = append(out, v)
			}
		}
	}
	for _, c := range s.Channels {
		if c.Requires.Origin != "" {
			out = append(out, c.Requires)
		}
	}
	return out
}
