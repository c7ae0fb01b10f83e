package remote

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkParseBuilt parses one trebuchet "Built:" line.
func BenchmarkParseBuilt(b *testing.B) {
	line := `Built: {'name': 'dh-app-config', 'version': '1.0.0+2.gabcdef1', 'file_name': 'dh-app-config-1.0.0+2.gabcdef1-all.deb', 'description': 'it\'s here'}`
	for b.Loop() {
		if _, ok, err := ParseBuilt(line); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkQuote quotes a value with quotes and newlines in it.
func BenchmarkQuote(b *testing.B) {
	for b.Loop() {
		Quote("it's a \"value\"\nwith $(things) in it")
	}
}

// twoCommitProject makes a git project: v1.0.0, then one more commit on
// main.
func twoCommitProject(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "proj")
	for _, args := range [][]string{{"init", "-q", "-b", "main", dir}, {"-C", dir, "commit", "-q", "--allow-empty", "-m", "one"}, {"-C", dir, "tag", "--no-sign", "v1.0.0"},
		{"-C", dir, "commit", "-q", "--allow-empty", "-m", "two"}} {
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@example.com", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// BenchmarkPrepareAgain prepares an existing working copy on this machine:
// fetch, checkout, clean, describe — what every prepare after the first
// costs, without SSH.
func BenchmarkPrepareAgain(b *testing.B) {
	proj := twoCommitProject(b)
	wd := b.TempDir()
	ctx := context.Background()
	if _, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDeb is a command builder that makes one small .deb.
const benchDeb = `set -e; r=$(mktemp -d); mkdir -p "$r/DEBIAN"
printf 'Package: dh-bench\nVersion: %s\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: b\n' "$GACHETTE_VERSION" > "$r/DEBIAN/control"
dpkg-deb --root-owner-group --build "$r" "$GACHETTE_OUTPUT/dh-bench_${GACHETTE_VERSION}_all.deb" >/dev/null; rm -rf "$r"`

// BenchmarkBuildCommand runs the command builder, the .deb check and the
// move on this machine: the fixed cost of a build around the builder (two
// sessions). The .deb is removed between runs, so that each is built.
func BenchmarkBuildCommand(b *testing.B) {
	proj := twoCommitProject(b)
	wd, debs := b.TempDir(), b.TempDir()
	ctx := context.Background()
	co, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	req := BuildRequest{Key: "proj", Workdir: wd, DebsPath: debs, Builder: BuilderCommand, Command: benchDeb, Versions: Versions{App: co.Version}, Commit: co.Commit}
	for b.Loop() {
		res, err := buildKept(ctx, Local{}, req, io.Discard)
		if err != nil || len(res.Debs) != 1 || res.Reused {
			b.Fatal(res, err)
		}
		b.StopTimer()
		if err := os.RemoveAll(filepath.Join(debs, ".gachette", "manifests")); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(filepath.Join(debs, res.Debs[0].Filename)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkBuildReused is a build of a commit built before with the same
// settings: its .debs checked again, nothing built (one session).
func BenchmarkBuildReused(b *testing.B) {
	proj := twoCommitProject(b)
	wd, debs := b.TempDir(), b.TempDir()
	ctx := context.Background()
	co, err := Prepare(ctx, Local{}, wd, "proj", proj, "main", "0.0.1", io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	req := BuildRequest{Key: "proj", Workdir: wd, DebsPath: debs, Builder: BuilderCommand, Command: benchDeb, Versions: Versions{App: co.Version}, Commit: co.Commit}
	if _, err := buildKept(ctx, Local{}, req, io.Discard); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if res, err := buildKept(ctx, Local{}, req, io.Discard); err != nil || !res.Reused {
			b.Fatal(res, err)
		}
	}
}
