// Package benchfixture writes the stacks repositories the benchmarks and
// testdata/bench measure: one domain, main, of N stacks of 200 packages,
// in the stacks format, packed as a real repository is after git gc.
package benchfixture

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/ops-hero/git-gachette/stackrepo"
)

// Packages is the number of packages in every fixture stack.
const Packages = 200

// Path returns a stacks repository with n stacks of Packages packages in
// domain main, built once and cached in the temp directory: stack 1 holds
// every package, each next stack is created from the previous one (a
// commit) and then has one package changed (a commit), as `stack create
// --from` and `stack add` would. Stacks k and k+d (d < 200) differ in d
// packages. It is written with git fast-import and then `git gc`.
func Path(n int) (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("gachette-bench-v1-%d-%d.git", n, Packages))
	if _, err := os.Stat(filepath.Join(dir, "fixture-complete")); err == nil {
		return dir, nil
	}
	os.RemoveAll(dir)
	if err := write(dir, n); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "fixture-complete"), nil, 0o644)
}

// Stanza is package j of the fixture at version 1.0.k.
func Stanza(j, k int) string {
	p := stackrepo.Package{Name: fmt.Sprintf("dh-pkg-%03d", j), Version: fmt.Sprintf("1.0.%d", k), Architecture: "all",
		Filename: fmt.Sprintf("dh-pkg-%03d_1.0.%d_all.deb", j, k), Size: 1000 + int64(j)}
	return string(p.Stanza())
}

func write(dir string, n int) error {
	r, err := stackrepo.Init(dir, "main")
	if err != nil {
		return err
	}
	r.Close()
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	data := func(s string) { fmt.Fprintf(w, "data %d\n%s\n", len(s), s) }
	who := "Bench <bench@example.com> 1700000000 +0000"
	commit := func(stack int, action, subject string, files map[string]string, extra string) {
		fmt.Fprintf(w, "commit refs/heads/main\nauthor %s\ncommitter %s\n", who, who)
		data(fmt.Sprintf("main/%d: %s\n\nGachette-Stack: main/%d\nGachette-Action: %s\n%sGachette-Format: 1\n", stack, subject, stack, action, extra))
		for name, content := range files {
			fmt.Fprintf(w, "M 100644 inline packages/%s\n", name)
			data(content)
		}
	}
	tag := func(stack int) {
		fmt.Fprintf(w, "tag main/%d\nfrom refs/heads/main\ntagger %s\n", stack, who)
		data(fmt.Sprintf("main/%d: %d packages\n", stack, Packages))
	}
	first := map[string]string{}
	for j := 0; j < Packages; j++ {
		first[fmt.Sprintf("dh-pkg-%03d", j)] = Stanza(j, 0)
	}
	commit(1, "create", "create empty", nil, "")
	commit(1, "add", fmt.Sprintf("add %d packages", Packages), first, "")
	tag(1)
	for k := 2; k <= n; k++ {
		commit(k, "create", fmt.Sprintf("create from main/%d", k-1), nil, fmt.Sprintf("Gachette-From: main/%d\n", k-1))
		j := k % Packages
		commit(k, "add", fmt.Sprintf("add dh-pkg-%03d 1.0.%d", j, k), map[string]string{fmt.Sprintf("dh-pkg-%03d", j): Stanza(j, k)}, "")
		tag(k)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w", err)
	}
	if out, err := exec.Command("git", "-C", dir, "gc", "--quiet").CombinedOutput(); err != nil {
		return fmt.Errorf("git gc: %v\n%s", err, out)
	}
	return nil
}
