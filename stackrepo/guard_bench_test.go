package stackrepo_test

import (
	"fmt"
	"strings"
	"testing"

	. "github.com/ops-hero/git-gachette/stackrepo"
)

// BenchmarkCheckFiles checks the packages of one project (2 packages)
// against every stack, as quick does before it records: opening the
// repository and reading each stack's package names.
func BenchmarkCheckFiles(b *testing.B) {
	for _, n := range benchSizes {
		b.Run(fmt.Sprintf("stacks=%d", n), func(b *testing.B) {
			dir := fixture(b, n)
			r0, err := Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			s, err := r0.Stack(StackID{Domain: "main", Name: fmt.Sprint(n / 2)})
			if err != nil {
				b.Fatal(err)
			}
			all, err := r0.Packages(s)
			if err != nil {
				b.Fatal(err)
			}
			r0.Close()
			pkgs := []Package{all[0], all[1]}
			pkgs[1].SHA256 = strings.Repeat("0", 64) // a new one
			pkgs[1].Filename = "new_" + pkgs[1].Filename
			for b.Loop() {
				r, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.CheckFiles(pkgs); err != nil {
					b.Fatal(err)
				}
				r.Close()
			}
		})
	}
}
