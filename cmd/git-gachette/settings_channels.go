package main

import (
	"strings"

	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

// channelSettings is one [gachette "channel.ENV"] subsection: Requires
// is the channel a stack must have run before it is promoted to ENV.
type channelSettings struct {
	Env      string
	Requires value
}

// resolveChannels reads the [gachette "channel.ENV"] subsections, in the
// order git lists them.
func resolveChannels(cfg *gitexec.Config) []channelSettings {
	var out []channelSettings
	for _, sub := range cfg.Subsections("gachette", "channel.") {
		c := channelSettings{Env: strings.TrimPrefix(sub, "channel."), Requires: value{Key: "gachette." + sub + ".requires"}}
		if e, ok := cfg.Get(c.Requires.Key); ok {
			c.Requires.Value, c.Requires.Origin = e.Value, "git config ("+e.Where()+")"
		}
		out = append(out, c)
	}
	return out
}

// gate is gachette.channel.<env>.requires (Value "" when not set).
func (s *settings) gate(env string) value {
	for _, c := range s.Channels {
		if c.Env == env {
			return c.Requires
		}
	}
	return value{Key: "gachette.channel." + env + ".requires"}
}
