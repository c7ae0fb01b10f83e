package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The client's memory does not grow with the builder's output: 100 MB of
// it goes through a build in well under 100 MiB of peak RSS, measured in a
// process of its own (this test binary, run again as the client: see
// TestMain and runChild).

// childEnv, set, makes the test binary run one build (a childJob in JSON)
// as git-gachette would, its output to stdout, and exit.
const childEnv = "GACHETTE_REMOTE_CHILD"

type childJob struct {
	SSHHome string // empty: on this machine
	Req     BuildRequest
}

func runChild() int {
	var job childJob
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &job); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	var ex Executor = Local{}
	if job.SSHHome != "" {
		env := func(k string) string {
			if k == "HOME" {
				return job.SSHHome
			}
			return ""
		}
		s, err := DialSSH(ctx, SSHOptions{Host: "buildhost", Env: env})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer s.Close()
		ex = s
	}
	if _, err := buildKept(ctx, ex, job.Req, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// maxClientRSS is the target for the client's peak RSS (MiB).
const maxClientRSS = 100

// bigOutput is a builder that prints 100 MB before it makes its .deb.
const bigOutput = "yes " + "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz" + " | head -c 100000000\n" + makeDeb

// childBuild runs the build of co in a child process and returns its
// peak RSS in MiB.
func childBuild(tb testing.TB, h testHost, p *project, co *Checkout) float64 {
	tb.Helper()
	job := childJob{Req: p.request(co)}
	if h.name == "ssh" {
		job.SSHHome = sshd.home
	}
	data, err := json.Marshal(job)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(data))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("the build: %v\n%s", err, stderr.String())
	}
	return float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024
}

func TestClientMemory100MBOutput(t *testing.T) {
	forEachHost(t, func(t *testing.T, h testHost) {
		p := newProject(t, h, bigOutput)
		start := time.Now()
		rss := childBuild(t, h, p, p.prepare("main"))
		t.Logf("100 MB of builder output on %s: client peak RSS %.1f MiB, %s", h.name, rss, time.Since(start).Round(time.Millisecond))
		if rss > maxClientRSS {
			t.Errorf("client peak RSS %.1f MiB, over %d MiB", rss, maxClientRSS)
		}
	})
}

// BenchmarkBuild100MBOutput: a build whose builder prints 100 MB, on each
// host, reporting the client's peak RSS (peak-MiB) beside the time.
//
//	go test ./remote -run XXX -bench Build100MB -benchtime 3x
func BenchmarkBuild100MBOutput(b *testing.B) {
	for _, name := range []string{"local", "ssh"} {
		b.Run(name, func(b *testing.B) {
			h := testHost{name, Local{}}
			if name == "ssh" {
				h.ex = dialSSHD(b)
			}
			p := newProject(b, h, bigOutput)
			var peak float64
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				git(b, p.url, "commit", "-q", "--allow-empty", "-m", fmt.Sprint("again ", i))
				co := p.prepare("main")
				b.StartTimer()
				peak = max(peak, childBuild(b, h, p, co))
			}
			b.ReportMetric(peak, "peak-MiB")
			if peak > maxClientRSS {
				b.Errorf("client peak RSS %.1f MiB, over %d MiB", peak, maxClientRSS)
			}
		})
	}
}
