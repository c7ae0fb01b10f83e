package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os/exec"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdBuildUser makes a user for the builder to run as (gachette.buildUser)
// for the rest of the script, named after $WORK, and sets BUILD_USER; the
// user goes at the end. It takes root (useradd), and sudo.
//
//	builduser
func cmdBuildUser(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: builduser")
	}
	for _, tool := range []string{"sudo", "useradd", "userdel"} {
		if _, err := exec.LookPath(tool); err != nil {
			ts.Fatalf("%s is required: apt-get install sudo passwd", tool)
		}
	}
	sum := sha256.Sum256([]byte(ts.Getenv("WORK")))
	name := "gbu-" + hex.EncodeToString(sum[:6])
	if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/bin/sh", name).CombinedOutput(); err != nil {
		ts.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	ts.Defer(func() {
		exec.Command("pkill", "-KILL", "-u", name).Run()
		exec.Command("userdel", name).Run()
	})
	ts.Setenv("BUILD_USER", name)
}
