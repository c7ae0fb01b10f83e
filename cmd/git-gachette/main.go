// Command git-gachette builds Debian packages on build hosts and records
// them in stacks: named, versioned sets of package versions kept as commits
// and tags in a plain git repository. Installed on PATH, it runs as
// `git gachette`.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:]))
}
