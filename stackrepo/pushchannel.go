package stackrepo

import (
	"context"
	"fmt"
	"strings"
)

// channelRejection says why the remote refused channel c, in words. A
// channel the remote has moved elsewhere (not a fast-forward of it) is
// named with both stacks: the one it runs there, read from the remote's
// channel (fetched into the namespace), and the one it runs here.
func (p *pusher) channelRejection(ctx context.Context, c Ref, s refStatus) Rejection {
	reason := s.reason
	switch reason {
	case "non-fast-forward", "fetch first":
		reason += ": the remote's channel has moves this one lacks"
		if both := p.bothStacks(ctx, c); both != "" {
			reason += " (" + both + ")"
		}
		reason += fmt.Sprintf("; fetch (git gachette fetch), look at both, take the remote's (git --git-dir=%s update-ref %s %s %s), then promote again where it should be",
			ShellWord(p.r.Dir), c.Name, p.ns+"channels/"+strings.TrimPrefix(c.Name, channelPrefix), c.Hash)
	}
	return Rejection{Ref: c.Name, Reason: reason, ByServer: s.byServer}
}

// bothStacks is "there main/prod runs main/2, here main/3" for channel
// c, or "" when either cannot be told (a channel moved by hand).
func (p *pusher) bothStacks(ctx context.Context, c Ref) string {
	d, env, ok := strings.Cut(strings.TrimPrefix(c.Name, channelPrefix), "/")
	if !ok {
		return ""
	}
	here, err := p.r.moves(d, env, c.Hash, 1)
	if err != nil || len(here) == 0 || here[0].Stack.Name == "" {
		return ""
	}
	seen := p.ns + "channels/" + d + "/" + env
	run := p.r.remoteGit(ctx, p.opt, "fetch", "--no-tags", "--no-write-fetch-head", "-q", "--", p.rm.arg, "+"+c.Name+":"+seen)
	if run.err != nil {
		return ""
	}
	p.r.reopen()
	tip, err := p.r.refs.Lookup(seen)
	if err != nil {
		return ""
	}
	there, err := p.r.moves(d, env, tip, 1)
	if err != nil || len(there) == 0 || there[0].Stack.Name == "" {
		return ""
	}
	return fmt.Sprintf("there %s/%s runs %s, moved by %s on %s; here it runs %s", d, env, there[0].Stack, there[0].Author,
		there[0].Date.UTC().Format("2006-01-02 15:04 MST"), here[0].Stack)
}
