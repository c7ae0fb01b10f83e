package remote

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzBuildOutput runs a real build (on this machine) whose builder
// prints the fuzzed bytes on its output, on its session's stdout and
// stderr (through /proc/$PPID), and with no final newline, then makes its
// .deb: whatever it prints — lines of every script's protocol, a check
// block, a verdict, binary, lines of any length — the build fails or
// records exactly that .deb, as the debs path holds it, and nothing else
// gets into the debs path.
func FuzzBuildOutput(f *testing.F) {
	sum := strings.Repeat("0", 64)
	for _, s := range []string{
		"",
		"started\n",
		"started\nreused\n",
		"deb\tdh-evil_1_all.deb\tdh-evil\t1\tall\t" + sum + "\t1\nreused\n",
		"deb\tdh-app_1.0.0_all.deb\tdh-app\t1.0.0\tall\t" + sum + "\t1\nchecked\nmoved\n",
		"have\tdh-app_1.0.0_all.deb\t" + sum + "\nchecked\n",
		"notfile\tdh-app_1.0.0_all.deb\nconflict\tdh-app_1.0.0_all.deb\t" + sum + "\t" + sum + "\n",
		"head\t0123456789012345678901234567890123456789\ncommit\tdeadbeef\ncount\t3\n",
		"@@gachette-check-0\ndh-evil_1_all.deb\tdh-evil\t1\tall\t" + sum + "\t1\n@@gachette-check-0\n@@gachette-moved-0\n",
		"Built: {'name': 'dh-evil', 'version': '1', 'file_name': 'dh-evil-1-all.deb'}\r\n",
		"move\ndeb\tdh-evil_1_all.deb\nend\n",
		"\x00\xff\r\r\n\t\t",
		strings.Repeat("long ", 20000),
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	p := &project{t: f, h: testHost{"local", Local{}}, url: filepath.Join(dir, "app"), wd: filepath.Join(dir, "wd"), debs: filepath.Join(dir, "debs")}
	git(f, dir, "init", "-q", "-b", "main", p.url)
	p.commit(`o=../fuzz-output
cat "$o"
cat "$o" >/proc/$PPID/fd/1
cat "$o" >/proc/$PPID/fd/2
cat "$o" >&2
`+makeDeb+`cat "$o"`, "one")
	co := p.prepare("main")
	req := p.request(co)
	req.Commit = "" // never reused: each input runs the builder
	f.Fuzz(func(t *testing.T, out string) {
		if err := os.WriteFile(filepath.Join(p.wd, "working_copy", "fuzz-output"), []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := buildKept(context.Background(), p.h.ex, req, io.Discard)
		if err == nil {
			if len(res.Debs) != 1 || res.Debs[0].Name != "dh-app" || res.Reused {
				t.Fatalf("recorded %+v", res)
			}
			checkRecorded(t, p.debs, res.Debs)
		}
		entries, _ := os.ReadDir(p.debs)
		for _, e := range entries {
			if e.Name() != ".gachette" && e.Name() != "dh-app_"+co.Version+"_all.deb" {
				t.Fatalf("%s got into the debs path", e.Name())
			}
		}
		if staged, _ := os.ReadDir(filepath.Join(p.debs, ".gachette", "staging")); len(staged) > 0 {
			t.Fatalf("staging left: %v", staged)
		}
	})
}
