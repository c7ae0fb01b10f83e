package stackrepo

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// benchPackages is the number of packages in every fixture stack.
const benchPackages = 200

// fixture returns a stacks repository with n stacks of benchPackages
// packages in domain main, built once and cached in the temp directory:
// stack 1 holds every package, each next stack is created from the
// previous one (a commit) and then has one package changed (a commit), as
// `stack create --from` and `stack add` would. It is written with git
// fast-import and then `git gc`, so it is packed as a real repository is.
func fixture(tb testing.TB, n int) string {
	tb.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("gachette-bench-v1-%d-%d.git", n, benchPackages))
	if _, err := os.Stat(filepath.Join(dir, "fixture-complete")); err == nil {
		return dir
	}
	os.RemoveAll(dir)
	r, err := Init(dir, "main")
	if err != nil {
		tb.Fatal(err)
	}
	r.Close()
	cmd := exec.Command("git", "-C", dir, "fast-import", "--quiet")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(stdin, 1<<20)
	data := func(s string) { fmt.Fprintf(w, "data %d\n%s\n", len(s), s) }
	who := "Bench <bench@example.com> 1700000000 +0000"
	stanza := func(j, k int) string {
		p := Package{Name: fmt.Sprintf("dh-pkg-%03d", j), Version: fmt.Sprintf("1.0.%d", k), Architecture: "all",
			Filename: fmt.Sprintf("dh-pkg-%03d_1.0.%d_all.deb", j, k), Size: 1000 + int64(j)}
		return string(p.Stanza())
	}
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
		data(fmt.Sprintf("main/%d: %d packages\n", stack, benchPackages))
	}
	first := map[string]string{}
	for j := 0; j < benchPackages; j++ {
		first[fmt.Sprintf("dh-pkg-%03d", j)] = stanza(j, 0)
	}
	commit(1, "create", "create empty", nil, "")
	commit(1, "add", fmt.Sprintf("add %d packages", benchPackages), first, "")
	tag(1)
	for k := 2; k <= n; k++ {
		commit(k, "create", fmt.Sprintf("create from main/%d", k-1), nil, fmt.Sprintf("Gachette-From: main/%d\n", k-1))
		j := k % benchPackages
		commit(k, "add", fmt.Sprintf("add dh-pkg-%03d 1.0.%d", j, k), map[string]string{fmt.Sprintf("dh-pkg-%03d", j): stanza(j, k)}, "")
		tag(k)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		tb.Fatalf("git fast-import: %v", err)
	}
	if out, err := exec.Command("git", "-C", dir, "gc", "--quiet").CombinedOutput(); err != nil {
		tb.Fatalf("git gc: %v\n%s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "fixture-complete"), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// scratchCopy clones the fixture (hard-linked objects, packed refs) so a
// benchmark may write to it.
func scratchCopy(b *testing.B, src string) string {
	dst := filepath.Join(b.TempDir(), "copy.git")
	if out, err := exec.Command("git", "clone", "-q", "--bare", "--local", src, dst).CombinedOutput(); err != nil {
		b.Fatalf("git clone: %v\n%s", err, out)
	}
	return dst
}

var benchSizes = []int{100, 10000}

// BenchmarkShow opens the repository and reads one whole stack, as
// `stack show` does.
func BenchmarkShow(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			dir := fixture(b, n)
			target := StackID{"main", fmt.Sprint(n / 2)}
			for b.Loop() {
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				s, err := r.Stack(target)
				if err != nil {
					b.Fatal(err)
				}
				pkgs, err := r.Packages(s)
				if err != nil || len(pkgs) != benchPackages {
					b.Fatal(len(pkgs), err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkAdd opens the repository and changes one package of the newest
// stack, as `stack add` does (with every fsync and lock).
func BenchmarkAdd(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			dir := scratchCopy(b, fixture(b, n))
			target := StackID{"main", fmt.Sprint(n)}
			i := 0
			for b.Loop() {
				i++
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				p := Package{Name: "dh-pkg-007", Version: fmt.Sprintf("2.0.%d", i), Filename: fmt.Sprintf("dh-pkg-007_2.0.%d_all.deb", i)}
				if _, err := r.Add(target, []Package{p}, testIdent); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkDiff compares two stacks 50 changes apart.
func BenchmarkDiff(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			dir := fixture(b, n)
			a, z := StackID{"main", fmt.Sprint(n - 50)}, StackID{"main", fmt.Sprint(n)}
			for b.Loop() {
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				sa, err := r.Stack(a)
				if err != nil {
					b.Fatal(err)
				}
				sz, err := r.Stack(z)
				if err != nil {
					b.Fatal(err)
				}
				d, err := r.Diff(sa, sz)
				if err != nil || len(d.Upgraded) != 50 {
					b.Fatal(d, err)
				}
				r.Close()
			}
		})
	}
}

// BenchmarkList lists every stack of the domain, newest first.
func BenchmarkList(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			dir := fixture(b, n)
			for b.Loop() {
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				list, err := r.List("main", false)
				if err != nil || len(list) != n {
					b.Fatal(len(list), err)
				}
				r.Close()
			}
		})
	}
}
