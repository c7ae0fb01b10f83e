package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ops-hero/git-gachette/stackrepo/termtext"
	"github.com/spf13/cobra"
)

// info prints a progress or result message to stderr unless --quiet.
func (a *app) info(format string, args ...any) {
	if !a.flags.quiet {
		fmt.Fprintf(a.stderr, format+"\n", args...)
	}
}

// warn prints a warning to stderr, even with --quiet; what it quotes from
// elsewhere (a remote's names and messages) is escaped for the terminal.
func (a *app) warn(format string, args ...any) {
	fmt.Fprintf(a.stderr, "warning: %s\n", termtext.EscapeLines(fmt.Sprintf(format, args...)))
}

// printJSON prints v as indented JSON. Strings keep their exact value,
// but what a terminal would obey is written as a JSON escape (\u202e),
// which every JSON reader turns back into the character: encoding/json
// escapes C0 controls only.
func (a *app) printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	a.printedJSON = true
	_, err = a.stdout.Write(append(escapeJSON(data), '\n'))
	return err
}

// errorJSON is what a command asked for JSON prints when it fails before
// its own JSON (which carries its error too).
type errorJSON struct {
	Error string `json:"error"`
}

// wantsJSON reports whether the command args name was asked for JSON
// (--json, or --format json).
func wantsJSON(root *cobra.Command, args []string) bool {
	c, _, err := root.Find(args)
	if err != nil || c == nil {
		return false
	}
	// flags after one cobra could not parse are not parsed: --json is
	// looked for among the arguments too
	for i, arg := range args {
		if arg == "--" {
			break
		}
		if arg == "--json" || arg == "--json=true" || arg == "--format=json" || arg == "-fjson" ||
			(arg == "--format" || arg == "-f") && i+1 < len(args) && args[i+1] == "json" {
			return c.Flags().Lookup("json") != nil || c.Flags().Lookup("format") != nil
		}
	}
	if f := c.Flags().Lookup("json"); f != nil && f.Changed && f.Value.String() == "true" {
		return true
	}
	f := c.Flags().Lookup("format")
	return f != nil && f.Changed && f.Value.String() == "json"
}

// escapeJSON writes DEL, C1 and bidirectional controls of encoded JSON as
// \uNNNN escapes (outside strings, JSON has none of them).
func escapeJSON(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == 0x7f || r >= 0x80 && termtext.IsTerminalControl(r) {
			if out == nil {
				out = append(make([]byte, 0, len(data)+16), data[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, data[i:i+n]...)
		}
		i += n
	}
	if out == nil {
		return data
	}
	return out
}

// count is "1 stack", "2 stacks".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// shortList names up to five stacks, then how many more.
func shortList[T interface{ String() string }](ids []T) string {
	var names []string
	for i, id := range ids {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(ids)-5))
			break
		}
		names = append(names, id.String())
	}
	return strings.Join(names, ", ")
}
