package gitconfig

import (
	"os"
	"path/filepath"
	"testing"
)

func envOf(m map[string]string) Env { return func(k string) string { return m[k] } }

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPrecedenceAndIncludes(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	gitDir := filepath.Join(dir, "work", "repo", ".git")
	write(t, filepath.Join(home, ".gitconfig"), "[gachette]\n\tdomain = global\n\thost = h1\n[include]\n\tpath = extra\n"+
		"[includeIf \"gitdir:~/../work/\"]\n\tpath = ~/work.inc\n[includeIf \"gitdir:/elsewhere/\"]\n\tpath = ~/no.inc\n"+
		"[gachette \"project.app\"]\n\turl = git@x:app.git\n[core]\n\tflag\n")
	write(t, filepath.Join(home, "extra"), "[gachette]\n\tworkdir = /w\n")
	write(t, filepath.Join(home, "work.inc"), "[user]\n\temail = work@example.com\n")
	write(t, filepath.Join(home, "no.inc"), "[user]\n\temail = wrong@example.com\n")
	write(t, filepath.Join(gitDir, "config"), "[GACHETTE]\n\tDomain = local\n")
	cfg, err := Load(gitDir, envOf(map[string]string{"HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
		"GIT_CONFIG_PARAMETERS": `'gachette.host'='from -c' 'gachette.arch=arm64' 'core.bare'`}))
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]string{
		"gachette.domain":          "local",
		"gachette.host":            "from -c",
		"gachette.arch":            "arm64",
		"gachette.workdir":         "/w",
		"user.email":               "work@example.com",
		"gachette.project.app.url": "git@x:app.git",
	} {
		if got := cfg.Value(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if e, _ := cfg.Get("gachette.domain"); e.Scope != Local {
		t.Errorf("domain scope %s", e.Scope)
	}
	if e, _ := cfg.Get("core.flag"); !e.Implicit {
		t.Errorf("bare key not implicit: %+v", e)
	} else if b, err := e.Bool(); !b || err != nil {
		t.Errorf("bare key reads %v, %v", b, err)
	}
	if subs := cfg.Subsections("gachette", "project."); len(subs) != 1 || subs[0] != "project.app" {
		t.Errorf("subsections %v", subs)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".gitconfig"), "[gachette\n")
	if _, err := Load("", envOf(map[string]string{"HOME": dir, "GIT_CONFIG_NOSYSTEM": "1"})); err == nil {
		t.Error("a broken config file loaded")
	}
	if _, err := Load("", envOf(map[string]string{"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_COUNT": "1"})); err == nil {
		t.Error("GIT_CONFIG_COUNT without its key loaded")
	}
	if _, err := (Entry{Key: "k", Value: "maybe"}).Bool(); err == nil {
		t.Error(`"maybe" read as a boolean`)
	}
}
