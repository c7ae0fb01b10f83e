package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// setting is one gachette.* configuration key (README, "Configuration").
type setting struct {
	key    string // the name after "gachette."
	flag   string // global or command flag that overrides it, if any
	def    string
	help   string
	isBool bool
}

// knownSettings lists every setting in the order config show prints them.
var knownSettings = []setting{
	{key: "stacks", flag: "stacks", def: "", help: "stacks repository (default: the git repository you stand in)"},
	{key: "domain", flag: "domain", def: "main", help: "default domain"},
	{key: "remote", def: "origin", help: "remote that push and fetch use"},
	{key: "host", flag: "host", def: "local", help: "build host: [user@]host[:port], an ~/.ssh/config alias, or local"},
	{key: "workdir", def: "/tmp/gachette", help: "work directory on the build host"},
	{key: "debsPath", def: "/tmp/gachette/debs", help: "where built .debs go on the build host"},
	{key: "builder", def: "trebuchet", help: "trebuchet | dpkg-buildpackage | command"},
	{key: "buildCommand", def: "", help: "shell command for the command builder"},
	{key: "trebuchet", def: "trebuchet", help: "path to trebuchet on the build host"},
	{key: "arch", def: "amd64", help: "architecture to build for"},
	{key: "baseVersion", def: "0.0.1", help: "package version base when a project has no version tag"},
	{key: "forwardAgent", flag: "forward-agent", def: "false", help: "forward the ssh agent to the build host", isBool: true},
	{key: "buildTimeout", def: "", help: "stop a build that runs longer than this (45m, 2h); empty: no limit"},
	{key: "buildUser", def: "", help: "run the builder as this user on the build host (sudo -n -u USER), apart from the SSH user; empty: as the SSH user"},
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

// value is a setting's effective value and where it came from.
type value struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Origin string `json:"origin"`
}

// bool reads the value as git reads a boolean.
func (v value) bool() (bool, error) {
	b, err := gitexec.ParseBool(v.Value)
	if err != nil {
		return false, fmt.Errorf("%s = %q (from %s) is not a boolean; use true or false", v.Key, v.Value, v.Origin)
	}
	return b, nil
}

type settings struct {
	cfg  *gitexec.Config
	env  func(string) string
	root *cobra.Command
	// stacks is gachette.stacks as load resolved it: it chooses the
	// repository whose configuration cfg is, so it is not read from cfg.
	stacks value
}

func newSettings(cfg *gitexec.Config, env func(string) string, root *cobra.Command, stacks value) *settings {
	return &settings{cfg: cfg, env: env, root: root, stacks: stacks}
}

// get resolves a setting: flag > GACHETTE_* > git config (as git resolves
// it in the stacks repository: git -c, worktree, local, global, system)
// > default.
func (s *settings) get(key string) value {
	if key == "stacks" {
		return s.stacks
	}
	for _, k := range knownSettings {
		if k.key != key {
			continue
		}
		if k.flag != "" && s.root != nil {
			if f := s.root.PersistentFlags().Lookup(k.flag); f != nil && f.Changed {
				return value{Key: "gachette." + key, Value: f.Value.String(), Origin: "flag --" + k.flag}
			}
		}
		if v := s.env(envName(key)); v != "" {
			return value{Key: "gachette." + key, Value: v, Origin: "environment " + envName(key)}
		}
		if e, ok := s.cfg.Get("gachette." + key); ok {
			v := e.Value
			if e.Implicit && k.isBool {
				v = "true" // a bare key is true to git
			}
			return value{Key: "gachette." + key, Value: v, Origin: "git config (" + e.Where() + ")"}
		}
		return value{Key: "gachette." + key, Value: k.def, Origin: "default"}
	}
	panic("unknown setting " + key)
}

// all resolves every setting, and the projects' subsections.
func (s *settings) all() []value {
	var out []value
	for _, k := range knownSettings {
		out = append(out, s.get(k.key))
	}
	for _, sub := range s.cfg.Subsections("gachette", "project.") {
		for _, field := range []string{"url", "missile", "ref"} {
			if e, ok := s.cfg.Get("gachette." + sub + "." + field); ok {
				out = append(out, value{Key: "gachette." + sub + "." + field, Value: e.Value, Origin: "git config (" + e.Where() + ")"})
			}
		}
	}
	return out
}
