// Package clidoc makes, from a git plugin's cobra command tree, what is
// installed beside its binary: manual pages (roff) and shell completion
// scripts that plug into git's own completion.
package clidoc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ops-hero/git-gachette/stackrepo/atomicfile"
)

// Header is what every page says of the program: how users type it, its
// version and date (zero: none, so that a build is reproducible), and the
// sections only the program knows (EXIT STATUS, ENVIRONMENT …), printed on
// the main page after the commands.
type Header struct {
	Command string // "git gachette"
	Version string
	Date    time.Time
	Extra   []Section
}

// Section is a page section: a title, plain text (paragraphs separated by
// blank lines; lines that start with a space are printed as they are),
// then a list of items.
type Section struct {
	Title string
	Text  string
	Items []Item
}

// Item is a term and what it means, in a section's list.
type Item struct {
	Term, Text string
}

// Page is one manual page: its file name (git-gachette.1) and roff text.
type Page struct {
	Name string
	Text []byte
}

// ManPages makes the manual of root's program, section 1: the main page,
// named after the program (git-gachette.1, the page "git gachette --help"
// opens through git), describes every command; each command has a page of
// its own too (git-gachette-stack-add.1). Hidden commands and cobra's help
// are left out.
//
// cobra's doc package writes one page per command only, and reads the
// commands' text as markdown (which reflows the aligned tables of a Long
// text); here the text is taken as written.
func ManPages(root *cobra.Command, h Header) []Page {
	prog := root.Name()
	cmds := documented(root)
	var pages []Page
	main := newPage(h, prog, prog, root.Short)
	main.synopsis(h, cmds)
	main.section("DESCRIPTION", root.Long)
	main.heading("COMMANDS")
	for _, c := range cmds {
		main.sub(usageLine(h, c))
		main.paragraphs(description(c))
		main.flags("Options:", c.NonInheritedFlags())
		main.examples(c.Example)
	}
	main.heading("GLOBAL OPTIONS")
	main.flagList(root.PersistentFlags())
	for _, s := range h.Extra {
		main.section(s.Title, s.Text)
		for _, it := range s.Items {
			main.tagged(it.Term, it.Text)
		}
	}
	see := []string{"git(1)"}
	for _, c := range cmds {
		see = append(see, pageName(c)+"(1)")
	}
	main.section("SEE ALSO", strings.Join(see, ", "))
	pages = append(pages, Page{Name: prog + ".1", Text: main.Bytes()})

	for _, c := range cmds {
		p := newPage(h, prog, pageName(c), c.Short)
		p.heading("SYNOPSIS")
		p.noFill(usageLine(h, c))
		p.section("DESCRIPTION", description(c))
		if subs := documented(c); len(subs) > 0 {
			p.heading("COMMANDS")
			for _, s := range subs {
				p.tagged(usageLine(h, s), s.Short)
			}
		}
		p.flags("OPTIONS", c.NonInheritedFlags())
		p.flags("GLOBAL OPTIONS", c.InheritedFlags())
		if c.Example != "" {
			p.heading("EXAMPLES")
			p.noFill(c.Example)
		}
		see := []string{prog + "(1)"}
		if c.Parent() != root {
			see = append(see, pageName(c.Parent())+"(1)")
		}
		p.section("SEE ALSO", strings.Join(see, ", "))
		pages = append(pages, Page{Name: pageName(c) + ".1", Text: p.Bytes()})
	}
	return pages
}

// WriteManPages writes pages into dir (made if missing), each replaced
// whole, and returns the paths written.
func WriteManPages(dir string, pages []Page) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, p := range pages {
		path := filepath.Join(dir, p.Name)
		if err := atomicfile.Write(path, p.Text); err != nil {
			return paths, fmt.Errorf("writing the manual page %s: %w", path, err)
		}
		if err := os.Chmod(path, 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// ManDirBeside is where man looks for the pages of a program installed
// as exe: share/man/man1 beside the directory exe is in (man-db searches
// ../share/man of every directory of PATH).
func ManDirBeside(exe string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(exe)), "share", "man", "man1")
}

// ManFinds reports whether man(1) opens the page at path for name, as
// "man -w name" says.
func ManFinds(name, path string) (bool, error) {
	out, err := exec.Command("man", "-w", name).Output()
	if errors.Is(err, exec.ErrNotFound) {
		return false, errors.New("man is not installed (apt-get install man-db)")
	}
	if err != nil {
		return false, nil // no page by that name where man looks
	}
	got, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return sameFile(got, path), nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// documented lists the commands under c that have a page, depth first.
func documented(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, s := range c.Commands() {
		if !s.IsAvailableCommand() || s.IsAdditionalHelpTopicCommand() || s.Name() == "help" {
			continue
		}
		out = append(out, s)
		out = append(out, documented(s)...)
	}
	return out
}

// subPath is the names of c and its parents below the root: "stack add"
// (CommandPath starts with the root's display name, whatever it is).
func subPath(c *cobra.Command) []string {
	var names []string
	for ; c.HasParent(); c = c.Parent() {
		names = append([]string{c.Name()}, names...)
	}
	return names
}

// pageName is the page of a command: git-gachette-stack-add.
func pageName(c *cobra.Command) string {
	return strings.Join(append([]string{c.Root().Name()}, subPath(c)...), "-")
}

// usageLine is the command as users type it, with its arguments.
func usageLine(h Header, c *cobra.Command) string {
	path := strings.Join(append([]string{h.Command}, subPath(c)...), " ")
	_, args, _ := strings.Cut(c.Use, " ")
	line := strings.TrimSpace(path + " " + args)
	if c.HasAvailableSubCommands() {
		line += " COMMAND"
	}
	return line
}

func description(c *cobra.Command) string {
	if c.Long != "" {
		return c.Long
	}
	return c.Short
}

// page is a manual page being written, in roff with the man macros.
type page struct{ bytes.Buffer }

func newPage(h Header, prog, name, short string) *page {
	p := &page{}
	date := ""
	if !h.Date.IsZero() {
		date = h.Date.UTC().Format("2006-01-02")
	}
	fmt.Fprintf(&p.Buffer, ".TH %s 1 %s %s %s\n", quoteArg(strings.ToUpper(name)), quoteArg(date),
		quoteArg(strings.TrimSpace(prog+" "+h.Version)), quoteArg("Git Manual"))
	p.WriteString(".nh\n.ad l\n")
	p.heading("NAME")
	p.line(name + " - " + short)
	return p
}

func (p *page) synopsis(h Header, cmds []*cobra.Command) {
	p.heading("SYNOPSIS")
	lines := []string{h.Command + " [GLOBAL OPTIONS] COMMAND [ARGUMENTS]", ""}
	for _, c := range cmds {
		if !c.HasAvailableSubCommands() {
			lines = append(lines, usageLine(h, c))
		}
	}
	p.noFill(strings.Join(lines, "\n"))
}

func (p *page) heading(title string) { p.WriteString(".SH " + quoteArg(title) + "\n") }

// sub is a subsection heading, taken from the next line (no quoting).
func (p *page) sub(title string) { p.WriteString(".SS\n"); p.line(title) }

func (p *page) section(title, text string) {
	p.heading(title)
	p.paragraphs(text)
}

// paragraphs prints text: blank lines separate paragraphs, filled; lines
// that start with a space (a command, a table) are kept as they are.
func (p *page) paragraphs(text string) {
	for _, para := range strings.Split(strings.Trim(text, "\n"), "\n\n") {
		lines := strings.Split(strings.Trim(para, "\n"), "\n")
		for len(lines) > 0 && lines[0] != "" {
			literal := strings.HasPrefix(lines[0], " ")
			n := 1
			for n < len(lines) && strings.HasPrefix(lines[n], " ") == literal {
				n++
			}
			if literal {
				p.noFill(strings.Join(lines[:n], "\n"))
			} else {
				p.WriteString(".PP\n")
				for _, l := range lines[:n] {
					p.line(strings.TrimSpace(l))
				}
			}
			lines = lines[n:]
		}
	}
}

// noFill prints lines as they are (less the indentation they share),
// indented.
func (p *page) noFill(text string) {
	p.WriteString(".PP\n.RS 4\n.nf\n")
	lines := strings.Split(strings.Trim(text, "\n"), "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); indent < 0 || n < indent {
			indent = n
		}
	}
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if len(l) >= indent && indent > 0 {
			l = l[indent:]
		}
		p.line(l)
	}
	p.WriteString(".fi\n.RE\n")
}

func (p *page) examples(text string) {
	if text == "" {
		return
	}
	p.WriteString(".PP\n")
	p.line("Examples:")
	p.noFill(text)
}

// flags prints a titled list of flags; nothing when there are none.
func (p *page) flags(title string, fs *pflag.FlagSet) {
	if !fs.HasAvailableFlags() || onlyHelp(fs) {
		return
	}
	if strings.ToUpper(title) == title {
		p.heading(title)
	} else {
		p.WriteString(".PP\n")
		p.line(title)
	}
	p.flagList(fs)
}

func onlyHelp(fs *pflag.FlagSet) bool {
	only := true
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			only = false
		}
	})
	return only
}

func (p *page) flagList(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" {
			return
		}
		name, usage := pflag.UnquoteUsage(f)
		tag := "--" + f.Name
		if f.Shorthand != "" {
			tag = "-" + f.Shorthand + ", " + tag
		}
		if name != "" {
			tag += " " + name
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" {
			usage += fmt.Sprintf(" (default %q)", d)
		}
		p.tagged(tag, usage)
	})
}

// tagged is a .TP item: a tag line, then its text.
func (p *page) tagged(tag, text string) {
	p.WriteString(".TP\n")
	p.line(tag)
	p.line(text)
}

// line writes one line of text, escaped so that roff prints it as it is.
func (p *page) line(s string) {
	p.WriteString(escape(s))
	p.WriteByte('\n')
}

// escape makes s a line of roff text that reads as s: backslashes and
// minus signs escaped (a "-" in an option or a command must be an ASCII
// minus when copied), a leading "." or "'" (a request) neutralised,
// every non-ASCII character named by its code point, whatever encoding the
// formatter assumes ("…" is "...": groff has no ASCII form for it), and
// control characters shown as U+FFFD.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-':
			b.WriteString(`\-`)
		case r == '\t':
			b.WriteString("        ")
		case r == '…':
			b.WriteString("...")
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\[uFFFD]`)
		case r > 0x7e:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	if out := b.String(); strings.HasPrefix(out, ".") || strings.HasPrefix(out, "'") {
		return `\&` + out
	}
	return b.String()
}

// quoteArg is a macro argument: quoted, its quotes and backslashes escaped.
func quoteArg(s string) string {
	return `"` + strings.ReplaceAll(escape(s), `"`, `\(dq`) + `"`
}
