// Command floor does the object reads of stack show, diff and log and
// writes their output, and nothing else: no git, no cached answer of
// git's, no command line but its own. The benchmark runs it beside
// git-gachette and C git: what a Go program pays for the work itself, the
// floor of git-gachette's figures on this machine.
//
//	floor show GITDIR DOMAIN/STACK
//	floor diff GITDIR DOMAIN/A DOMAIN/B
//	floor log GITDIR DOMAIN/STACK N
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"

	"github.com/ops-hero/git-gachette/internal/fast"
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
		return fast.WriteShow(out, "control", pkgs)
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
		fast.WriteDiff(out, d)
	case "log":
		n, _ := strconv.Atoi(args[3])
		entries, err := r.Log(id(args[2]), n)
		if err != nil {
			return err
		}
		fast.WriteLog(out, entries)
	}
	return nil
}
