package clidoc

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// The completion scripts are cobra's, which ask the program itself what
// to complete (PROGRAM __complete ARGS…: the commands' ValidArgsFunction
// and flag completion functions), with what makes them answer through
// git too, as git-lfs does for its own: git's completion completes
// "git NAME <TAB>" with a function of a set name that it looks for (and,
// with the bash-completion package, loads from the file named after
// git-NAME), so the same script serves both ways of typing the command.

// gitName is the git subcommand of a plugin: git-gachette → gachette.
func gitName(root *cobra.Command) (string, error) {
	name, ok := strings.CutPrefix(root.Name(), "git-")
	if !ok || name == "" {
		return "", fmt.Errorf("completion through git: the program %q is not named git-NAME", root.Name())
	}
	return name, nil
}

// BashCompletion writes the bash completion script of root's program
// git-NAME: "git-NAME <TAB>" completes through cobra's script, and
// "git NAME <TAB>" through _git_NAME, which git's bash completion calls
// (it sets cur, words and cword, and __git_cmd_idx to NAME's index in
// words). Installed as bash-completion/completions/git-NAME, the
// bash-completion package loads it for either. Completions come without
// descriptions, as git's own.
func BashCompletion(root *cobra.Command, w io.Writer) error {
	name, err := gitName(root)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := root.GenBashCompletionV2(&buf, false); err != nil {
		return err
	}
	prog := root.Name()
	for _, fn := range []string{"__" + prog + "_get_completion_results", "__" + prog + "_process_completion_results"} {
		if !bytes.Contains(buf.Bytes(), []byte(fn+"()")) {
			return fmt.Errorf("cobra's bash completion has no function %s: the git hook needs one", fn)
		}
	}
	fmt.Fprintf(&buf, `
# git %[2]s <TAB>: git's completion calls _git_%[3]s with its cur, words
# and cword, words[__git_cmd_idx] being %[2]q. The words after it, up to
# the cursor, are completed as if %[1]s had been typed. git completes
# with -o nospace; a complete word gets its space unless the answer says
# otherwise.
_git_%[3]s()
{
    local __%[3]s_idx=${__git_cmd_idx:-1}
    local -a __%[3]s_words=(%[1]s "${words[@]:__%[3]s_idx+1:cword-__%[3]s_idx}")
    local -a words=("${__%[3]s_words[@]}")
    local cword=$((${#words[@]} - 1))
    local out directive
    compopt +o nospace 2>/dev/null
    __%[1]s_get_completion_results
    __%[1]s_process_completion_results
}
`, prog, name, strings.ReplaceAll(name, "-", "_"))
	_, err = buf.WriteTo(w)
	return err
}

// ZshCompletion writes the zsh completion script of root's program
// git-NAME, to install as _git-NAME in a directory of fpath: zsh's _git
// lists NAME among git's commands (with the description on the file's
// second line) and completes "git NAME <TAB>" with the function
// _git-NAME, the one that completes "git-NAME <TAB>". Called by _git,
// the function's first word is NAME, not the program: the program is
// named in full.
func ZshCompletion(root *cobra.Command, w io.Writer) error {
	if _, err := gitName(root); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := root.GenZshCompletion(&buf); err != nil {
		return err
	}
	prog := root.Name()
	script := buf.String()
	for _, r := range []struct{ old, new string }{
		{"#compdef " + prog + "\n", "#compdef " + prog + "\n#description " + zshDescription(root.Short) + "\n"},
		{`requestComp="${words[1]} __complete `, `requestComp="` + prog + ` __complete `},
	} {
		if strings.Count(script, r.old) != 1 {
			return fmt.Errorf("cobra's zsh completion does not have %q once: the git hook needs it", r.old)
		}
		script = strings.Replace(script, r.old, r.new, 1)
	}
	_, err := io.WriteString(w, script)
	return err
}

// zshDescription is a command's short text as _git lists commands: one
// line, starting in lower case.
func zshDescription(short string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(short), "\n")
	if line == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(line)
	return string(unicode.ToLower(r)) + line[n:]
}
