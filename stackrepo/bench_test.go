package stackrepo_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	. "github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/benchfixture"
)

// benchPackages is the number of packages in every fixture stack.
const benchPackages = benchfixture.Packages

var benchIdent = Identity{
	Author:    object.Signature{Name: "Bench", Email: "bench@example.com", When: time.Unix(1700000000, 0).UTC()},
	Committer: object.Signature{Name: "Bench", Email: "bench@example.com", When: time.Unix(1700000000, 0).UTC()},
}

func fixture(tb testing.TB, n int) string {
	tb.Helper()
	dir, err := benchfixture.Path(n)
	if err != nil {
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
				if _, err := r.Add(target, []Package{p}, benchIdent); err != nil {
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

// BenchmarkList lists every stack of the domain, newest first, with its
// marks, as `stack list` does.
func BenchmarkList(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			dir := fixture(b, n)
			for b.Loop() {
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				l, err := r.ListStacks(ListRequest{Domain: "main"})
				if err != nil || len(l.Stacks) != n {
					b.Fatal(l, err)
				}
				r.Close()
			}
		})
	}
}
