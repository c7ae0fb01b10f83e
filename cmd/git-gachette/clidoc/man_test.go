package clidoc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"--format apt", `\-\-format apt`},
		{`C:\path`, `C:\epath`},
		{".SH not a request", `\&.SH not a request`},
		{"'also not", `\&'also not`},
		{"…and more", `\&...and more`},
		{"a — b → c", `a \[u2014] b \[u2192] c`},
		{"bell\a", `bell\[uFFFD]`},
		{"tab\there", "tab        here"},
	} {
		if got := escape(tc.in); got != tc.want {
			t.Errorf("escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// testTree is a program with the text a manual must carry through as
// written: requests, backslashes, a table, non-ASCII, a hidden command.
func testTree() *cobra.Command {
	root := &cobra.Command{Use: "git-demo", Short: "Demonstrate pages", Long: "The demo.\n.SH is text here, and so is \\fB.\n\nIt says — and means — “this”."}
	root.PersistentFlags().StringP("domain", "d", "", "domain of the `NAME`")
	run := func(*cobra.Command, []string) error { return nil }
	group := &cobra.Command{Use: "thing", Short: "Work on things", RunE: run}
	show := &cobra.Command{Use: "show THING [PART...]", Short: "Show a thing", RunE: run,
		Long:    "Show THING.\n\n  table  for people (default)\n  json   for programs",
		Example: "  git demo thing show a\n  git demo thing show a --format json"}
	show.Flags().String("format", "table", "output format")
	hidden := &cobra.Command{Use: "secret", Short: "Hidden", Hidden: true, RunE: run}
	group.AddCommand(show)
	root.AddCommand(group, hidden)
	return root
}

func TestManPages(t *testing.T) {
	pages := ManPages(testTree(), Header{Command: "git demo", Version: "1.2.3",
		Extra: []Section{{Title: "EXIT STATUS", Text: "0 on success.", Items: []Item{{Term: "2", Text: "usage"}}}}})
	var names []string
	for _, p := range pages {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, " "), "git-demo.1 git-demo-thing.1 git-demo-thing-show.1"; got != want {
		t.Fatalf("pages %s, want %s", got, want)
	}
	main := string(pages[0].Text)
	for _, want := range []string{
		`.TH "GIT\-DEMO" 1 "" "git\-demo 1.2.3" "Git Manual"`,
		"git demo thing show THING [PART...]\n",
		"git demo thing COMMAND\n",
		`\&.SH is text here, and so is \efB.`,
		".nf\ntable  for people (default)\njson   for programs\n.fi",
		`\-d, \-\-domain NAME`,
		`\-\-format string` + "\noutput format (default \"table\")",
		".SH \"EXIT STATUS\"\n.PP\n0 on success.\n.TP\n2\nusage\n",
		"git(1), git\\-demo\\-thing(1), git\\-demo\\-thing\\-show(1)",
	} {
		if !strings.Contains(main, want) {
			t.Errorf("the main page has no %q:\n%s", want, main)
		}
	}
	if strings.Contains(main, "secret") {
		t.Errorf("the main page documents a hidden command:\n%s", main)
	}
	sub := string(pages[2].Text)
	for _, want := range []string{".SH \"OPTIONS\"", ".SH \"GLOBAL OPTIONS\"", ".SH \"EXAMPLES\"", "git\\-demo(1), git\\-demo\\-thing(1)"} {
		if !strings.Contains(sub, want) {
			t.Errorf("the page of thing show has no %q:\n%s", want, sub)
		}
	}
}

// TestManRenders: man(1) renders every page without a warning, and the
// text reads as written. man-db is required (.ci/run installs it).
func TestManRenders(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Fatal("man is required: apt-get install man-db")
	}
	dir := t.TempDir()
	paths, err := WriteManPages(filepath.Join(dir, "man1"), ManPages(testTree(), Header{Command: "git demo", Version: "1.2.3"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		st, err := os.Stat(path)
		if err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, mode %v; want 0644", path, err, st.Mode())
		}
		cmd := exec.Command("man", "--warnings", "-l", path)
		cmd.Env = append(os.Environ(), "MANWIDTH=120", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
		var out, errs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errs
		if err := cmd.Run(); err != nil || errs.Len() > 0 {
			t.Errorf("man -l %s: %v\n%s", path, err, errs.String())
		}
		if strings.HasSuffix(path, "git-demo.1") {
			for _, want := range []string{".SH is text here, and so is \\fB.", "It says — and means — “this”.", "git demo thing show a --format json", "-d, --domain NAME"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("man -l %s does not show %q:\n%s", path, want, out.String())
				}
			}
		}
	}
}

func TestManDirBeside(t *testing.T) {
	if got, want := ManDirBeside("/home/u/go/bin/git-gachette"), "/home/u/go/share/man/man1"; got != want {
		t.Errorf("ManDirBeside = %s, want %s", got, want)
	}
	if got, want := ManDirBeside("/usr/bin/git-gachette"), "/usr/share/man/man1"; got != want {
		t.Errorf("ManDirBeside = %s, want %s", got, want)
	}
}
