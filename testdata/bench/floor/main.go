// Command floor does the work of stack show, diff, log and add and writes
// their output, and nothing else: no cached answer of git's, no identity
// asked, no command line but its own (add still runs git update-ref: the
// refs are git's to write). The benchmark runs it beside git-gachette and
// C git: what a Go program pays for the work itself, the floor of
// git-gachette's figures on this machine.
//
//	floor show GITDIR DOMAIN/STACK
//	floor diff GITDIR DOMAIN/A DOMAIN/B
//	floor log GITDIR DOMAIN/STACK N
//	floor add GITDIR DOMAIN/STACK NAME VERSION FILE
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/gitexec"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("usage: floor show|diff|log GITDIR STACK...")
	}
	r, err := stackrepo.OpenFound(&gitexec.Repository{GitDir: args[1], CommonDir: args[1], Bare: true, ObjectFormat: "sha1"}, nil)
	if err != nil {
		return err
	}
	id := func(s string) stackrepo.StackID {
		v, _ := stackrepo.ParseStackID(s, "main")
		return v
	}
	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer out.Flush()
	switch args[0] {
	case "show":
		s, err := r.Stack(id(args[2]))
		if err != nil {
			return err
		}
		pkgs, err := r.Packages(s)
		if err != nil {
			return err
		}
		for i, p := range pkgs {
			if i > 0 {
				out.WriteByte('\n')
			}
			out.Write(p.Stanza())
		}
	case "diff":
		a, err := r.Stack(id(args[2]))
		if err != nil {
			return err
		}
		b, err := r.Stack(id(args[3]))
		if err != nil {
			return err
		}
		d, err := r.Diff(a, b)
		if err != nil {
			return err
		}
		for _, p := range d.Added {
			fmt.Fprintf(out, "+ %s %s\n", p.Name, p.Version)
		}
		for _, p := range d.Removed {
			fmt.Fprintf(out, "- %s %s\n", p.Name, p.Version)
		}
		for _, cs := range [][]stackrepo.VersionChange{d.Upgraded, d.Downgraded, d.Changed} {
			for _, c := range cs {
				fmt.Fprintf(out, "~ %s %s -> %s\n", c.Name, c.From.Version, c.To.Version)
			}
		}
	case "log":
		n, _ := strconv.Atoi(args[3])
		entries, err := r.Log(id(args[2]), n)
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Fprintf(out, "%s %s %s %s\n", e.Commit.String()[:12], e.Date.Format("2006-01-02 15:04"), e.Author, e.Subject)
		}
	case "add":
		if len(args) < 6 {
			return fmt.Errorf("usage: floor add GITDIR STACK NAME VERSION FILE")
		}
		who := object.Signature{Name: "Bench", Email: "bench@example.com", When: time.Now()}
		res, err := r.Add(id(args[2]), []stackrepo.Package{{Name: args[3], Version: args[4], Filename: args[5]}},
			stackrepo.Identity{Author: who, Committer: who})
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, res.Subject)
	}
	return nil
}
