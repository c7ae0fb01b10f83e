package clidoc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestBashCompletion(t *testing.T) {
	var out bytes.Buffer
	if err := BashCompletion(testTree(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"complete -o default -F __start_git-demo git-demo", // git-demo <TAB>
		"_git_demo()\n{", // git demo <TAB>
		`local -a __demo_words=(git-demo "${words[@]:__demo_idx+1:cword-__demo_idx}")`,
		"__git-demo_get_completion_results\n    __git-demo_process_completion_results\n}",
		"__completeNoDesc", // git's completions have no descriptions
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the bash script has no %q", want)
		}
	}
}

func TestZshCompletion(t *testing.T) {
	var out bytes.Buffer
	if err := ZshCompletion(testTree(), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.HasPrefix(s, "#compdef git-demo\n#description demonstrate pages\n") {
		t.Errorf("the zsh script does not start with what _git reads:\n%.200s", s)
	}
	if !strings.Contains(s, `requestComp="git-demo __complete ${words[2,-1]}"`) || strings.Contains(s, `"${words[1]} __complete`) {
		t.Errorf("the zsh script does not name the program (called by _git, words[1] is demo)")
	}
}

func TestCompletionNeedsGitName(t *testing.T) {
	root := &cobra.Command{Use: "demo"}
	if err := BashCompletion(root, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `"demo" is not named git-NAME`) {
		t.Errorf("bash: %v", err)
	}
	if err := ZshCompletion(root, &bytes.Buffer{}); err == nil {
		t.Error("zsh: no error")
	}
}
