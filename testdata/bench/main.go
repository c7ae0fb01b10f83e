// Command bench measures git-gachette against its references, side by side
// in one run, and prints the table of its targets: figure, reference,
// ratio, target, met, and for each target not met the figures of the run
// that say why. It builds git-gachette (copied into
// place: a fresh go build output pays extra page-cache faults), the
// stacks fixtures (100, 10,000 and 100,000 stacks of 200 packages, cached
// in $TMPDIR), an aptly database, a real sshd on 127.0.0.1 and a project
// of 20,000 commits; push and fetch run against a 10,000-stack remote, by
// path and over ssh://.
//
//	go run ./testdata/bench                   # 15 runs of each, about 35 minutes
//	go run ./testdata/bench -runs 31
//	go run ./testdata/bench -only stacks      # one section (stacks, aptly, quick, prepare, pushfetch)
//	go run ./testdata/bench -only stacks -sizes 100,10000   # without the 100,000-stack fixture
//
// It needs git, dpkg-deb, aptly, ssh and sshd (apt-get install git
// dpkg-dev aptly openssh-client openssh-server). It is not a test: CI does
// not run it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ops-hero/git-gachette/remote/sshdtest"
	"github.com/ops-hero/git-gachette/stackrepo"
	"github.com/ops-hero/git-gachette/stackrepo/benchfixture"
	"github.com/ops-hero/git-gachette/stackrepo/gitservertest"
)

var (
	runs      = flag.Int("runs", 15, "timed runs of each command (after one warm-up run)")
	only      = flag.String("only", "", "run only these figures, comma-separated: stacks, aptly, quick, prepare, pushfetch (default: all)")
	sizesFlag = flag.String("sizes", "100,10000,100000", "the stacks fixtures of the stacks section, by number of stacks")
	binDir    = flag.String("bindir", "", "measure the git-gachette already built in this directory, e.g. an earlier version's, instead of building them")
	fsckMax   = flag.Int("fsckmax", 100000, "measure fsck at the fixtures of at most this many stacks")
)

// want reports whether the figures of section are to be measured.
func want(section string) bool {
	if *only == "" {
		return true
	}
	for _, s := range strings.Split(*only, ",") {
		if strings.TrimSpace(s) == section {
			return true
		}
	}
	return false
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// b holds the run's environment.
type b struct {
	tmp, bin, home string
	floor          string // the floor program
	env            []string
	rows           []row
	startup        []startup // start-up costs, for the reasons of targets not met
}

// startup is the whole-process cost of a command that does almost
// nothing: what every run pays before its work.
type startup struct {
	name   string
	wall   time.Duration
	faults int64
	instr  int64 // instructions (callgrind), 0 when not counted
}

// row is one line of the table.
type row struct {
	figure, ours, ref string
	ratio, target     float64
	note              string
	o, r              series   // the runs, when the row compares two commands
	oArgv, rArgv      []string // the commands, to profile when the target is not met
	floorArgv         []string // the floor program doing the same reads (see testdata/bench/floor)
	floorRuns         series   // or its runs, measured with the others (add)
}

func run() error {
	for _, tool := range []string{"go", "git", "dpkg-deb", "aptly", "ssh", "ssh-keygen", sshdtest.Path} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is required: apt-get install git dpkg-dev aptly openssh-client openssh-server", tool)
		}
	}
	tmp, err := os.MkdirTemp("", "gachette-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	x := &b{tmp: tmp, bin: filepath.Join(tmp, "bin", "git-gachette"), home: filepath.Join(tmp, "home")}
	step("building git-gachette")
	if err := x.build(); err != nil {
		return err
	}
	if *binDir != "" {
		if err := copyFile(filepath.Join(*binDir, "git-gachette"), x.bin); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(x.home, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(x.home, ".gitconfig"), []byte("[user]\n\tname = Bench\n\temail = bench@example.com\n"), 0o644); err != nil {
		return err
	}
	// git's answers are not kept while a file they depend on is younger
	// than 2 seconds (gitexec.ProbeCache): measure the steady state
	time.Sleep(2100 * time.Millisecond)
	x.env = []string{"HOME=" + x.home, "PATH=" + os.Getenv("PATH"), "LC_ALL=C", "GIT_CONFIG_NOSYSTEM=1"}

	var sizes []int
	for _, f := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 {
			return fmt.Errorf("-sizes %q: each size is a number of stacks, at least 100", *sizesFlag)
		}
		sizes = append(sizes, n)
	}
	if !want("stacks") {
		sizes = nil
	}
	fixtures := map[int]string{}
	for _, n := range append(sizes, 10000) {
		if fixtures[n] != "" || n != 10000 && !want("stacks") {
			continue
		}
		step(fmt.Sprintf("fixture: %d stacks of 200 packages (cached in %s; 100,000 take about 3 minutes to make)", n, os.TempDir()))
		dir, err := benchfixture.Path(n)
		if err != nil {
			return err
		}
		fixtures[n] = dir
	}
	large := fixtures[10000]
	if err := x.startups(); err != nil {
		return err
	}
	for _, sec := range []struct {
		name string
		run  func() error
	}{
		{"stacks", func() error { return x.stacks(sizes, fixtures) }},
		{"aptly", func() error { return x.aptly(large) }},
		{"quick", x.remote},
		{"prepare", x.prepare20k},
		{"pushfetch", func() error { return x.pushFetch(large) }},
	} {
		if want(sec.name) {
			if err := sec.run(); err != nil {
				return err
			}
		}
	}
	x.print()
	return nil
}

func step(s string) { fmt.Fprintf(os.Stderr, "== %s\n", s) }

// sample is one whole-process run.
type sample struct {
	wall   time.Duration
	cpu    time.Duration // user and system
	rss    int64         // bytes
	faults int64         // page faults, minor and major
}

// exe runs argv in env, returning its wall time and peak RSS. okCodes are
// the exit codes that are not failures (0 always is).
func (x *b) exe(stdin string, argv []string, okCodes ...int) (sample, string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = x.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		ok := false
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			for _, c := range okCodes {
				ok = ok || ee.ExitCode() == c
			}
		}
		if !ok {
			return sample{}, "", fmt.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, errb.String())
		}
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu, rss: ru.Maxrss * 1024, faults: ru.Minflt + ru.Majflt}, out.String(), nil
}

func median(s []time.Duration) time.Duration {
	c := append([]time.Duration(nil), s...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// series collects the runs of one command.
type series struct {
	walls  []time.Duration
	cpus   []time.Duration
	faults []time.Duration // page faults, kept as durations to share median
	rss    int64
}

func (s *series) add(v sample) {
	s.walls = append(s.walls, v.wall)
	s.cpus = append(s.cpus, v.cpu)
	s.faults = append(s.faults, time.Duration(v.faults))
	s.rss = max(s.rss, v.rss)
}

func (s series) medianFaults() int64 {
	if len(s.faults) == 0 {
		return 0
	}
	return int64(median(s.faults))
}

// pair runs ours and the reference alternately, runs times after a warm-up.
func (x *b) pair(ours, ref func() (sample, error)) (o, r series, err error) {
	for i := 0; i <= *runs; i++ {
		so, err := ours()
		if err != nil {
			return o, r, err
		}
		sr, err := ref()
		if err != nil {
			return o, r, err
		}
		if i > 0 {
			o.add(so)
			r.add(sr)
		}
	}
	return o, r, nil
}

func (x *b) cmd(stdin string, argv ...string) func() (sample, error) {
	return func() (sample, error) {
		s, _, err := x.exe(stdin, argv)
		return s, err
	}
}

func (x *b) addRow(figure string, o, r series, target float64, note string) float64 {
	ratio := float64(median(o.walls)) / float64(median(r.walls))
	x.rows = append(x.rows, row{figure: figure, ours: ms(median(o.walls)), ref: ms(median(r.walls)), ratio: ratio, target: target, note: note, o: o, r: r})
	return ratio
}

// stacks: issue 13's targets, at every size: show, diff, log, a long
// lineage, list, add, fsck and version against C git doing the same work;
// growth from the smallest fixture to the largest; peak RSS at the largest.
func (x *b) stacks(sizes []int, fixtures map[int]string) error {
	if len(sizes) == 0 {
		return nil
	}
	g := func(dir string, args ...string) []string { return append([]string{"git", "--git-dir", dir}, args...) }
	ours := func(dir string, args ...string) []string { return append([]string{x.bin, "--stacks", dir}, args...) }
	type figures struct {
		show, diff, add series
		rss             map[string]int64
	}
	all := map[int]*figures{}
	for _, n := range sizes {
		dir := fixtures[n]
		f := &figures{rss: map[string]int64{}}
		all[n] = f
		mid, a, z := fmt.Sprintf("main/%d", n/2), fmt.Sprintf("main/%d", n-50), fmt.Sprintf("main/%d", n)
		label := func(s string) string { return fmt.Sprintf("%s (%s stacks)", s, thousands(n)) }
		step(fmt.Sprintf("%s stacks: show, diff, log, lineage, list, add, fsck (%d runs each)", thousands(n), *runs))
		pair := func(figure string, target float64, o, r []string, okCodes ...int) (series, error) {
			so, sr, err := x.pair(x.cmdOK(o, okCodes...), x.cmdOK(r))
			if err != nil {
				return so, err
			}
			x.addRow(label(figure), so, sr, target, "")
			x.rows[len(x.rows)-1].oArgv, x.rows[len(x.rows)-1].rArgv = o, r
			return so, nil
		}
		floor := func(args ...string) { x.rows[len(x.rows)-1].floorArgv = append([]string{x.floor}, args...) }
		var err error
		if f.show, err = pair("show S --format control vs git grep -h -e '' S -- packages", 1.0,
			ours(dir, "stack", "show", mid, "--format", "control"), g(dir, "grep", "-h", "-e", "", mid, "--", "packages")); err != nil {
			return err
		}
		floor("show", dir, mid)
		if f.diff, err = pair("diff A B (50 changes) vs git diff --stat A B", 1.0,
			ours(dir, "stack", "diff", a, z), g(dir, "diff", "--stat", a, z), 1); err != nil {
			return err
		}
		floor("diff", dir, a, z)
		log20, err := pair("log S -n 20 vs git log --oneline -20 S", 1.2,
			ours(dir, "stack", "log", mid, "-n", "20"), g(dir, "log", "--oneline", "-20", mid))
		if err != nil {
			return err
		}
		floor("log", dir, mid, "20")
		f.rss["show"], f.rss["diff"], f.rss["log -n 20"] = f.show.rss, f.diff.rss, log20.rss
		if n >= 1000 {
			// main/1000's lineage: a create and an add for each of 1,000 stacks
			lineage, err := pair("log of a 2,000-commit lineage vs git log --oneline", 1.5,
				ours(dir, "stack", "log", "main/1000"), g(dir, "log", "--oneline", "main/1000"))
			if err != nil {
				return err
			}
			f.rss["log of 2,000"] = lineage.rss
		}
		if n >= 10000 {
			list, err := pair("list vs git for-each-ref refs/tags/main/", 0.5, ours(dir, "stack", "list"), g(dir, "for-each-ref", "refs/tags/main/"))
			if err != nil {
				return err
			}
			f.rss["list"] = list.rss
		}
		addO, addR, addF, err := x.adds(dir, z)
		if err != nil {
			return err
		}
		f.add = addO
		f.rss["add"] = addO.rss
		x.addRow(label("add vs hash-object, mktree ×2, commit-tree, tag -a, update-ref"), addO, addR, 0.5, addNote)
		x.rows[len(x.rows)-1].floorRuns = addF
		if n >= 10000 && n <= *fsckMax {
			saved := *runs
			if n >= 100000 {
				*runs = min(*runs, 7) // git fsck takes seconds
			}
			_, err := pair("fsck vs git fsck", 1.2, ours(dir, "fsck"), g(dir, "fsck"))
			*runs = saved
			if err != nil {
				return err
			}
		}
	}
	step(fmt.Sprintf("version vs git version (%d runs each)", *runs))
	vo, vr, err := x.pair(x.cmd("", x.bin, "version"), x.cmd("", "git", "version"))
	if err != nil {
		return err
	}
	x.addRow("version vs git version", vo, vr, 1.5, "")
	x.rows[len(x.rows)-1].oArgv, x.rows[len(x.rows)-1].rArgv = []string{x.bin, "version"}, []string{"git", "version"}
	small, large := sizes[0], sizes[len(sizes)-1]
	for _, n := range sizes {
		small, large = min(small, n), max(large, n)
	}
	if small != large {
		for _, gr := range []struct {
			name string
			a, b series
		}{{"show", all[large].show, all[small].show}, {"diff", all[large].diff, all[small].diff}, {"add", all[large].add, all[small].add}} {
			x.addRow(fmt.Sprintf("growth: %s at %s vs at %s stacks", gr.name, thousands(large), thousands(small)), gr.a, gr.b, 1.1, "")
		}
	}
	for _, name := range []string{"show", "diff", "add", "list", "log -n 20", "log of 2,000"} {
		rss, ok := all[large].rss[name]
		if !ok {
			continue
		}
		mib := float64(rss) / (1 << 20)
		x.rows = append(x.rows, row{figure: fmt.Sprintf("peak RSS: %s (%s stacks)", name, thousands(large)), ours: fmt.Sprintf("%.1f MiB", mib), ref: "64 MiB", ratio: mib / 64, target: 1.0})
	}
	return nil
}

// thousands writes n with commas: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// cmdOK runs argv; exit codes in ok are not failures.
func (x *b) cmdOK(argv []string, ok ...int) func() (sample, error) {
	return func() (sample, error) {
		v, _, err := x.exe("", argv, ok...)
		return v, err
	}
}

const addNote = "every add of ours fsyncs its new objects (at the same time) and their directories before git update-ref moves the refs; C git's plumbing fsyncs none (core.fsync's default), and its update-ref neither, as ours"

// adds changes one package of stack id, with git-gachette in one copy of
// the fixture and with C git plumbing in another.
func (x *b) adds(fixture, id string) (o, r, fl series, err error) {
	copies := [3]string{}
	for i := range copies {
		copies[i] = filepath.Join(x.tmp, fmt.Sprintf("add-%s-%d.git", filepath.Base(fixture), i))
		if out, err := exec.Command("git", "clone", "-q", "--bare", "--local", fixture, copies[i]).CombinedOutput(); err != nil {
			return o, r, fl, fmt.Errorf("git clone: %v\n%s", err, out)
		}
	}
	// git's answers about a repository whose files changed in the last 2
	// seconds are not kept (gitexec.ProbeCache): measure the steady state
	time.Sleep(2100 * time.Millisecond)
	gdir := copies[1]
	git := func(stdin string, args ...string) (sample, string, error) {
		return x.exe(stdin, append([]string{"git", "--git-dir", gdir}, args...))
	}
	// The packages listing C git starts from (read once, not timed: it
	// favours C git).
	_, listing, err := git("", "ls-tree", id+":packages")
	if err != nil {
		return o, r, fl, err
	}
	_, parent, err := git("", "rev-parse", id+"^{commit}")
	if err != nil {
		return o, r, fl, err
	}
	parent = strings.TrimSpace(parent)
	lines := strings.Split(strings.TrimSpace(listing), "\n")
	i := 0
	ours := func() (sample, error) {
		i++
		v := fmt.Sprintf("2.0.%d", i)
		s, _, err := x.exe("", []string{x.bin, "--stacks", copies[0], "stack", "add", id, "dh-pkg-007", v, "dh-pkg-007_" + v + "_all.deb"})
		return s, err
	}
	j := 0
	ref := func() (sample, error) {
		j++
		v := fmt.Sprintf("2.0.%d", j)
		p := stackrepo.Package{Name: "dh-pkg-007", Version: v, Filename: "dh-pkg-007_" + v + "_all.deb"}
		var total sample
		acc := func(s sample, out string, err error) (string, error) {
			total.wall += s.wall
			total.cpu += s.cpu
			total.faults += s.faults
			total.rss = max(total.rss, s.rss)
			return strings.TrimSpace(out), err
		}
		blob, err := acc(git(string(p.Stanza()), "hash-object", "-w", "--stdin"))
		if err != nil {
			return total, err
		}
		for k, l := range lines {
			if strings.HasSuffix(l, "\tdh-pkg-007") {
				lines[k] = "100644 blob " + blob + "\tdh-pkg-007"
			}
		}
		ptree, err := acc(git(strings.Join(lines, "\n")+"\n", "mktree"))
		if err != nil {
			return total, err
		}
		root, err := acc(git("040000 tree "+ptree+"\tpackages\n", "mktree"))
		if err != nil {
			return total, err
		}
		msg := fmt.Sprintf("%s: add dh-pkg-007 %s\n\nGachette-Stack: %s\nGachette-Action: add\nGachette-Format: 1\n", id, v, id)
		commit, err := acc(git("", "commit-tree", root, "-p", parent, "-m", msg))
		if err != nil {
			return total, err
		}
		if _, err := acc(git("", "tag", "-a", "-f", "-m", id, id, commit)); err != nil {
			return total, err
		}
		if _, err := acc(git("", "update-ref", "refs/heads/main", commit)); err != nil {
			return total, err
		}
		parent = commit
		return total, nil
	}
	k := 0
	floor := func() (sample, error) {
		k++
		v := fmt.Sprintf("2.0.%d", k)
		s, _, err := x.exe("", []string{x.floor, "add", copies[2], id, "dh-pkg-007", v, "dh-pkg-007_" + v + "_all.deb"})
		return s, err
	}
	for n := 0; n <= *runs; n++ {
		for _, f := range []struct {
			run func() (sample, error)
			s   *series
		}{{ours, &o}, {ref, &r}, {floor, &fl}} {
			v, err := f.run()
			if err != nil {
				return o, r, fl, err
			}
			if n > 0 {
				f.s.add(v)
			}
		}
	}
	return o, r, fl, nil
}

// aptly: stack diff against aptly snapshot diff of two equivalent
// 200-package snapshots, 50 packages apart.
func (x *b) aptly(large string) error {
	step("aptly: two 200-package snapshots, 50 differences")
	dir := filepath.Join(x.tmp, "aptly")
	conf := filepath.Join(dir, "aptly.conf")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(conf, []byte(`{"rootDir": "`+dir+`/root", "architectures": ["all", "amd64"]}`), 0o644); err != nil {
		return err
	}
	debs := [2]string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}
	var wg sync.WaitGroup
	errs := make(chan error, 250)
	mk := func(out string, j int, v string) {
		defer wg.Done()
		root := filepath.Join(x.tmp, "deb-"+filepath.Base(out)+"-"+strconv.Itoa(j))
		os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755)
		name := fmt.Sprintf("dh-pkg-%03d", j)
		ctl := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: all\nMaintainer: Bench <bench@example.com>\nDescription: bench\n", name, v)
		os.WriteFile(filepath.Join(root, "DEBIAN", "control"), []byte(ctl), 0o644)
		if o, err := exec.Command("dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, filepath.Join(out, name+"_"+v+"_all.deb")).CombinedOutput(); err != nil {
			errs <- fmt.Errorf("dpkg-deb: %v\n%s", err, o)
		}
		os.RemoveAll(root)
	}
	for _, d := range debs {
		os.MkdirAll(d, 0o755)
	}
	sem := make(chan struct{}, 8)
	for j := 0; j < 200; j++ {
		for k, d := range debs {
			v := "1.0.0"
			if k == 1 && j < 50 {
				v = "1.0.1"
			}
			wg.Add(1)
			sem <- struct{}{}
			go func() { mk(d, j, v); <-sem }()
		}
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	a := func(args ...string) error {
		_, _, err := x.exe("", append([]string{"aptly", "-config=" + conf}, args...))
		return err
	}
	for k, name := range []string{"A", "B"} {
		if err := a("repo", "create", "r"+name); err != nil {
			return err
		}
		if err := a("repo", "add", "-force-replace", "r"+name, debs[k]); err != nil {
			return err
		}
		if err := a("snapshot", "create", name, "from", "repo", "r"+name); err != nil {
			return err
		}
	}
	// The same two stacks of git-gachette: 50 packages apart.
	var o, r series
	for i := 0; i <= *runs; i++ {
		so, _, err := x.exe("", []string{x.bin, "--stacks", large, "stack", "diff", "main/9950", "main/10000"}, 1)
		if err != nil {
			return err
		}
		sr, out, err := x.exe("", []string{"aptly", "-config=" + conf, "snapshot", "diff", "A", "B"})
		if err != nil {
			return err
		}
		if i == 0 && strings.Count(out, "dh-pkg-") < 50 {
			return fmt.Errorf("aptly snapshot diff shows fewer than 50 differences:\n%s", out)
		}
		if i > 0 {
			o.add(so)
			r.add(sr)
		}
	}
	x.addRow("diff A B vs aptly snapshot diff (200 packages, 50 differences)", o, r, 0.5, "")
	return nil
}

// remote: one quick over a real sshd against one `ssh host true`.
func (x *b) remote() error {
	step(fmt.Sprintf("remote: quick over sshd on 127.0.0.1 vs ssh host true (%d runs each)", *runs))
	pub, err := sshdtest.UserKey(x.home)
	if err != nil {
		return err
	}
	srv, err := sshdtest.Start(filepath.Join(x.tmp, "sshd"), pub)
	if err != nil {
		return err
	}
	defer srv.Stop()
	user, err := srv.Client(x.home)
	if err != nil {
		return err
	}
	proxy, err := newTurnProxy(srv.Port)
	if err != nil {
		return err
	}
	defer proxy.Close()
	line, _ := srv.KnownHostsLine()
	kh := filepath.Join(x.home, ".ssh", "known_hosts")
	f, err := os.OpenFile(kh, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	fmt.Fprint(f, strings.Replace(line, fmt.Sprintf(":%d ", srv.Port), fmt.Sprintf(":%d ", proxy.port), 1))
	f.Close()

	// A project whose builder reports its own time.
	proj := filepath.Join(x.tmp, "proj")
	times := filepath.Join(x.tmp, "builder-ns")
	script := `set -e
start=$(date +%s%N)
root=$(mktemp -d)
mkdir -p "$root/DEBIAN"
printf 'Package: dh-bench\nVersion: %s\nArchitecture: all\nMaintainer: x <x@example.com>\nDescription: bench\n' "$GACHETTE_VERSION" > "$root/DEBIAN/control"
dpkg-deb --root-owner-group --build "$root" "$GACHETTE_OUTPUT/dh-bench_${GACHETTE_VERSION}_all.deb" >/dev/null
rm -rf "$root"
echo $(( $(date +%s%N) - start )) > ` + times + "\n"
	for _, c := range [][]string{{"init", "-q", proj}} {
		if out, err := exec.Command("git", c...).CombinedOutput(); err != nil {
			return fmt.Errorf("git: %v\n%s", err, out)
		}
	}
	if err := os.WriteFile(filepath.Join(proj, "build-deb.sh"), []byte(script), 0o644); err != nil {
		return err
	}
	for _, c := range [][]string{{"add", "."}, {"commit", "-q", "-m", "one"}, {"tag", "v1.0.0"}} {
		cmd := exec.Command("git", append([]string{"-C", proj}, c...)...)
		cmd.Env = x.env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git: %v\n%s", err, out)
		}
	}
	stacks := filepath.Join(x.tmp, "stacks.git")
	if _, _, err := x.exe("", []string{x.bin, "init", stacks}); err != nil {
		return err
	}
	env := append([]string(nil), x.env...)
	x.env = append(x.env, "GACHETTE_STACKS="+stacks, "GACHETTE_WORKDIR="+filepath.Join(x.tmp, "wd"), "GACHETTE_DEBS_PATH="+filepath.Join(x.tmp, "debs"),
		"GACHETTE_BUILDER=command", "GACHETTE_BUILD_COMMAND=sh build-deb.sh")
	defer func() { x.env = env }()
	if _, _, err := x.exe("", []string{"git", "config", "--global", "gachette.project.bench.url", proj}); err != nil {
		return err
	}
	i := 0
	quick := func(host string) (sample, error) {
		i++
		if _, _, err := x.exe("", []string{x.bin, "stack", "create", fmt.Sprintf("r%d", i)}); err != nil {
			return sample{}, err
		}
		// a new commit each time: the same one again would be reused, not built
		if _, _, err := x.exe("", []string{"git", "-C", proj, "commit", "-q", "--allow-empty", "-m", fmt.Sprint("again ", i)}); err != nil {
			return sample{}, err
		}
		s, _, err := x.exe("", []string{x.bin, "-q", "-H", host, "quick", "bench", "--stack", fmt.Sprintf("r%d", i)})
		if err != nil {
			return s, err
		}
		ns, err := os.ReadFile(times)
		if err != nil {
			return s, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(ns)), 10, 64)
		if err != nil {
			return s, err
		}
		s.wall -= time.Duration(n) // the time quick adds over the builder's
		return s, nil
	}
	key := filepath.Join(x.home, ".ssh", "id_ed25519")
	sshTrue := func(port int) []string {
		return []string{"ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentityFile=" + key, "-o", "UserKnownHostsFile=" + kh,
			"-p", strconv.Itoa(port), user + "@127.0.0.1", "true"}
	}
	o, r, err := x.pair(func() (sample, error) { return quick("buildhost") }, x.cmd("", sshTrue(srv.Port)...))
	if err != nil {
		return err
	}
	// One more of each, counted: connections and sessions from sshd's log,
	// round trips (turns of the conversation) from the proxy.
	srv.Mark()
	proxy.reset()
	if _, err := quick(fmt.Sprintf("%s@127.0.0.1:%d", user, proxy.port)); err != nil {
		return err
	}
	conns, sessions, _, err := srv.Counts()
	if err != nil {
		return err
	}
	quickTurns := proxy.turns()
	proxy.reset()
	if _, _, err := x.exe("", sshTrue(proxy.port)); err != nil {
		return err
	}
	_, trueSessions, _, _ := srv.Counts()
	trueTurns := proxy.turns()
	x.addRow("quick: time added over the builder vs ssh host true", o, r, 2.0,
		fmt.Sprintf("quick: %d connection, %d sessions, %d round trips; ssh true: 1 connection, %d session, %d round trips", conns, sessions, quickTurns, trueSessions, trueTurns))
	x.rows = append(x.rows, row{figure: "quick: SSH connections (exactly 1)", ours: strconv.Itoa(conns), ref: "1", ratio: float64(conns), target: 1.0})
	return nil
}

// turnProxy forwards TCP to sshd and counts the turns of the
// conversation: each time the server answers after the client spoke.
type turnProxy struct {
	l    net.Listener
	port int
	mu   sync.Mutex
	n    int
	last byte // 'c' or 's'
}

func newTurnProxy(to int) (*turnProxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &turnProxy{l: l, port: l.Addr().(*net.TCPAddr).Port}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", to))
			if err != nil {
				c.Close()
				continue
			}
			go p.pipe(c, s, 'c')
			go p.pipe(s, c, 's')
		}
	}()
	return p, nil
}

func (p *turnProxy) pipe(from, to net.Conn, dir byte) {
	defer to.Close()
	buf := make([]byte, 32*1024)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			p.mu.Lock()
			if dir == 's' && p.last == 'c' {
				p.n++
			}
			p.last = dir
			p.mu.Unlock()
			if _, werr := to.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			return
		}
	}
}

func (p *turnProxy) reset() {
	p.mu.Lock()
	p.n, p.last = 0, 0
	p.mu.Unlock()
}

func (p *turnProxy) turns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func (p *turnProxy) Close() error { return p.l.Close() }

// prepare20k: the second prepare of a 20,000-commit project, after one new
// commit, against the first (a clone).
func (x *b) prepare20k() error {
	step("prepare: a project of 20,000 commits, cloned, then fetched after one new commit")
	proj := filepath.Join(x.tmp, "big")
	if out, err := exec.Command("git", "init", "-q", proj).CombinedOutput(); err != nil {
		return fmt.Errorf("git init: %v\n%s", err, out)
	}
	fi := exec.Command("git", "-C", proj, "fast-import", "--quiet")
	var in strings.Builder
	who := "Bench <bench@example.com> 1700000000 +0000"
	for i := 1; i <= 20000; i++ {
		content := fmt.Sprintf("line %d\n", i)
		msg := fmt.Sprintf("commit %d", i)
		fmt.Fprintf(&in, "commit refs/heads/main\ncommitter %s\ndata %d\n%s\nM 100644 inline file%d\ndata %d\n%s\n", who, len(msg), msg, i%500, len(content), content)
		if i == 1 {
			fmt.Fprintf(&in, "")
		}
	}
	fi.Stdin = strings.NewReader(in.String())
	if out, err := fi.CombinedOutput(); err != nil {
		return fmt.Errorf("git fast-import: %v\n%s", err, out)
	}
	for _, c := range [][]string{{"tag", "v1.0.0", "main~100"}, {"checkout", "-q", "main"}, {"gc", "-q"}} {
		cmd := exec.Command("git", append([]string{"-C", proj}, c...)...)
		cmd.Env = x.env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v\n%s", c, err, out)
		}
	}
	url := "file://" + proj
	var first, second series
	var fetched []string
	for i := 0; i < 3; i++ {
		wd := filepath.Join(x.tmp, fmt.Sprintf("wd20k-%d", i))
		prep := []string{x.bin, "-q", "-H", "local", "prepare", "big", url}
		x.env = append(x.env, "GACHETTE_WORKDIR="+wd)
		s1, _, err := x.exe("", prep)
		if err != nil {
			return err
		}
		first.add(s1)
		before := countObjects(filepath.Join(wd, "working_copy", "big"))
		cmd := exec.Command("git", "-C", proj, "commit", "-q", "--allow-empty", "-m", fmt.Sprintf("new %d", i))
		cmd.Env = x.env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("git commit: %v\n%s", err, out)
		}
		s2, _, err := x.exe("", prep)
		if err != nil {
			return err
		}
		second.add(s2)
		after := countObjects(filepath.Join(wd, "working_copy", "big"))
		fetched = append(fetched, fmt.Sprintf("%d→%d", before, after))
		x.env = x.env[:len(x.env)-1]
	}
	x.addRow("prepare again after one new commit vs first prepare (20k commits)", second, first, 0.1,
		"objects in the working copy before→after the second prepare: "+strings.Join(fetched, ", ")+" (fetch, not clone)")
	return nil
}

// countObjects is the number of objects in a repository, loose and packed.
func countObjects(dir string) int {
	out, err := exec.Command("git", "-C", dir, "count-objects", "-v").Output()
	if err != nil {
		return -1
	}
	n := 0
	for _, l := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(l, ": ")
		if k == "count" || k == "in-pack" {
			c, _ := strconv.Atoi(v)
			n += c
		}
	}
	return n
}

func (x *b) print() {
	fmt.Printf("\ngit-gachette benchmark: medians of %d whole-process runs, side by side (%s)\n\n", *runs, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FIGURE\tOURS\tREFERENCE\tRATIO\tTARGET\tMET")
	all := true
	for _, r := range x.rows {
		met := r.ratio <= r.target
		all = all && met
		fmt.Fprintf(w, "%s\t%s\t%s\t%.2f×\t≤ %.1f×\t%s\n", r.figure, r.ours, r.ref, r.ratio, r.target, yes(met))
	}
	w.Flush()
	fmt.Println()
	for _, r := range x.rows {
		if r.note != "" {
			fmt.Printf("* %s: %s\n", r.figure, r.note)
		}
	}
	if !all {
		x.why()
	}
}

// startups measures what a process costs before its work: an empty Go
// program (the floor of any Go command), git-gachette's `version` and C
// git's `git version`, side by side; and their instructions.
func (x *b) startups() error {
	step(fmt.Sprintf("start-up: an empty Go program, git-gachette version, git version (%d runs each)", *runs))
	dir := filepath.Join(x.tmp, "empty")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644); err != nil {
		return err
	}
	built := filepath.Join(dir, "empty.build")
	build := exec.Command("go", "build", "-o", built, "main.go")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build of an empty program: %v\n%s", err, out)
	}
	empty := filepath.Join(dir, "empty")
	if err := copyFile(built, empty); err != nil {
		return err
	}
	cmds := []struct {
		name string
		argv []string
	}{{"empty Go program", []string{empty}}, {"git-gachette version", []string{x.bin, "version"}}, {"git version", []string{"git", "version"}}}
	s := make([]series, len(cmds))
	for i := 0; i <= *runs; i++ {
		for k, c := range cmds {
			v, _, err := x.exe("", c.argv)
			if err != nil {
				return err
			}
			if i > 0 {
				s[k].add(v)
			}
		}
	}
	for k, c := range cmds {
		x.startup = append(x.startup, startup{name: c.name, wall: median(s[k].walls), faults: s[k].medianFaults(), instr: x.instructions(c.argv)})
	}
	return nil
}

// instructions counts the instructions of one run of argv with callgrind
// (valgrind), all threads: repeatable whatever the load of the machine.
// 0 when valgrind is not installed or fails.
func (x *b) instructions(argv []string) int64 {
	if _, err := exec.LookPath("valgrind"); err != nil {
		return 0
	}
	for try := 0; try < 3; try++ {
		cmd := exec.Command("valgrind", append([]string{"--tool=callgrind", "--callgrind-out-file=/dev/null"}, argv...)...)
		// callgrind loses track of Go's preemption signals now and then
		cmd.Env = append(append([]string(nil), x.env...), "GODEBUG=asyncpreemptoff=1")
		var errb strings.Builder
		cmd.Stderr = &errb
		cmd.Run()
		for _, l := range strings.Split(errb.String(), "\n") {
			if _, v, ok := strings.Cut(l, "Collected : "); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
					return n
				}
			}
		}
	}
	return 0
}

// why prints, for each target not met, the figures of this run that
// explain it: wall and CPU time, page faults and instructions of ours and
// of the reference, against the start-up floor (an empty Go program and
// git-gachette version against git version).
func (x *b) why() {
	fmt.Println("\nWhy some targets are not met (figures of this run; medians; instructions counted by callgrind, one run):")
	floor := map[string]startup{}
	for _, s := range x.startup {
		floor[s.name] = s
		fmt.Printf("  start-up: %-22s %9s  %5d page faults  %s\n", s.name, ms(s.wall), s.faults, instr(s.instr))
	}
	empty, gitv := floor["empty Go program"], floor["git version"]
	fmt.Printf("  An empty Go program costs %s more than git version (%d page faults more): the Go runtime's start\n"+
		"  (threads, signal handlers, heap) before any work; git-gachette version costs %s more than that.\n",
		ms(empty.wall-gitv.wall), empty.faults-gitv.faults, ms(floor["git-gachette version"].wall-empty.wall))
	for _, r := range x.rows {
		if r.ratio <= r.target || len(r.o.walls) == 0 {
			continue
		}
		o, ref := median(r.o.walls), median(r.r.walls)
		fmt.Printf("  %s:\n    ours %s wall, %s CPU, %d page faults%s; reference %s wall, %s CPU, %d page faults%s\n",
			r.figure, ms(o), ms(median(r.o.cpus)), r.o.medianFaults(), x.instrOf(r.oArgv, ref), ms(ref), ms(median(r.r.cpus)), r.r.medianFaults(), x.instrOf(r.rArgv, ref))
		fmt.Printf("    less the start-up difference (empty Go program - git version): ours %s = %.2f× the reference\n",
			ms(o-(empty.wall-gitv.wall)), float64(o-(empty.wall-gitv.wall))/float64(ref))
		if len(r.floorRuns.walls) > 0 {
			f := median(r.floorRuns.walls)
			fmt.Printf("    floor (the same objects, fsyncs and git update-ref from a Go program with nothing else: no cached answer,\n"+
				"    no identity asked, no CLI; testdata/bench/floor), measured with them: %s (%d page faults) = %.2f× the reference\n",
				ms(f), r.floorRuns.medianFaults(), float64(f)/float64(ref))
		}
		if len(r.floorArgv) > 0 {
			fo, fr, err := x.pair(x.cmdOK(r.floorArgv), x.cmdOK(r.rArgv))
			if err == nil {
				f, fref := median(fo.walls), median(fr.walls)
				fmt.Printf("    floor (the same reads and output in a Go program with nothing else: no git, no cached answer, no CLI;\n"+
					"    testdata/bench/floor), side by side again: %s (%d page faults) vs %s = %.2f×; less the start-up difference %.2f×\n",
					ms(f), fo.medianFaults(), ms(fref), float64(f)/float64(fref), float64(f-(empty.wall-gitv.wall))/float64(fref))
			}
		}
	}
}

// instrOf counts argv's instructions when it is short enough to run under
// callgrind (the reference took under 200 ms).
func (x *b) instrOf(argv []string, ref time.Duration) string {
	if len(argv) == 0 || ref > 200*time.Millisecond {
		return ""
	}
	return ", " + instr(x.instructions(argv))
}

func instr(n int64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f M instructions", float64(n)/1e6)
}

// build builds git-gachette as the README installs
// them, and the floor program, and copies them into place.
func (x *b) build() error {
	out := filepath.Join(x.tmp, "build")
	x.floor = filepath.Join(x.tmp, "floor", "floor")
	for _, prog := range []string{"git-gachette", "floor"} {
		pkg, to := "./cmd/"+prog, filepath.Join(filepath.Dir(x.bin), prog)
		if prog == "floor" {
			pkg, to = "./testdata/bench/floor", x.floor
		}
		cmd := exec.Command("go", "build", "-o", filepath.Join(out, prog), pkg)
		if o, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build (run this from the repository's top): %v\n%s", err, o)
		}
		if err := copyFile(filepath.Join(out, prog), to); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies an executable, written and synced, to a new file.
func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "NO"
}

// pushFetch: push and fetch against a 10,000-stack remote, by path and
// over ssh:// (sshd on 127.0.0.1 through an ssh config alias), side by
// side with git push / git fetch of the same refs from a copy of the same
// repository.
func (x *b) pushFetch(large string) error {
	step("push and fetch: a 10,000-stack remote, by path and over ssh://")
	srv, err := gitservertest.StartSSH(filepath.Join(x.tmp, "gitsshd"), x.home, "gitserver")
	if err != nil {
		return err
	}
	defer srv.Stop()
	for _, t := range []struct {
		name string
		url  func(string) string
		env  []string
	}{
		{"path", func(p string) string { return p }, nil},
		{"ssh", func(p string) string { return "ssh://gitserver" + p }, []string{"GIT_SSH_COMMAND=" + srv.Command}},
	} {
		saved := x.env
		x.env = append(append([]string(nil), x.env...), t.env...)
		err := x.pushFetchOver(large, t.name, t.url)
		x.env = saved
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *b) pushFetchOver(large, transport string, url func(string) string) error {
	dir := filepath.Join(x.tmp, "pf-"+transport)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	clone := func(name string) (string, error) {
		p := filepath.Join(dir, name)
		_, _, err := x.exe("", []string{"git", "clone", "-q", "--mirror", large, p})
		return p, err
	}
	bare := func(name string) (string, error) {
		p := filepath.Join(dir, name)
		_, _, err := x.exe("", []string{"git", "init", "-q", "--bare", p})
		return p, err
	}
	ours := func(stacks string, args ...string) []string {
		return append([]string{x.bin, "-q", "--stacks", stacks}, args...)
	}
	g := func(gitDir string, args ...string) []string {
		return append([]string{"git", "--git-dir", gitDir}, args...)
	}
	label := func(s string) string {
		return fmt.Sprintf("%s (10k, %s)", s, map[string]string{"path": "path", "ssh": "ssh://"}[transport])
	}

	// One new stack, pushed: its tag and the domain branch.
	step(fmt.Sprintf("%s: push of one new stack vs git push of its tag and branch (%d runs each)", transport, *runs))
	var repos [4]string
	for i, n := range []string{"push-ours.git", "push-ref.git", "push-ours-remote.git", "push-ref-remote.git"} {
		var err error
		if repos[i], err = clone(n); err != nil {
			return err
		}
	}
	newStack := func(stacks string, n int) error {
		_, _, err := x.exe("", ours(stacks, "stack", "create", strconv.Itoa(n), "--from", strconv.Itoa(n-1)))
		return err
	}
	no, nr := 10000, 10000
	o, r, err := x.pair(func() (sample, error) {
		no++
		if err := newStack(repos[0], no); err != nil {
			return sample{}, err
		}
		s, _, err := x.exe("", ours(repos[0], "push", strconv.Itoa(no), "--remote", url(repos[2])))
		return s, err
	}, func() (sample, error) {
		nr++
		if err := newStack(repos[1], nr); err != nil {
			return sample{}, err
		}
		s, _, err := x.exe("", g(repos[1], "push", "--porcelain", url(repos[3]), "refs/tags/main/"+strconv.Itoa(nr), "refs/heads/main"))
		return s, err
	})
	if err != nil {
		return err
	}
	x.addRow(label("push one new stack vs git push of its tag and branch"), o, r, 1.2, "")

	// Fetch: the first one, then one new stack, then nothing new.
	step(fmt.Sprintf("%s: first fetch, fetch of one new stack, fetch of nothing new (%d runs each)", transport, *runs))
	remote, err := clone("fetch-remote.git")
	if err != nil {
		return err
	}
	local := filepath.Join(dir, "fetch-ours.git")
	if _, _, err := x.exe("", []string{x.bin, "init", local}); err != nil {
		return err
	}
	first, _, err := x.exe("", ours(local, "fetch", "--remote", url(remote)))
	if err != nil {
		return err
	}
	loose := looseObjects(local)
	_, out, err := x.exe("", g(local, "for-each-ref", "--count=1", "--format=%(refname)", "refs/gachette/remotes/"))
	if err != nil {
		return err
	}
	// refs/gachette/remotes/<key>/…: the namespace the fetch uses
	parts := strings.SplitN(strings.TrimSpace(out), "/", 5)
	if len(parts) < 5 {
		return fmt.Errorf("the first fetch made no ref under refs/gachette/remotes/ (%q)", out)
	}
	ns := strings.Join(parts[:4], "/") + "/"
	refspecs := []string{"+refs/tags/*:" + ns + "tags/*", "+refs/heads/*:" + ns + "heads/*", "+refs/gachette/channels/*:" + ns + "channels/*"}
	fetchArgs := append([]string{"fetch", "--no-tags", "--prune", "--no-write-fetch-head", "-q", url(remote)}, refspecs...)
	refFirst := filepath.Join(dir, "fetch-ref-first.git")
	if _, err := bare("fetch-ref-first.git"); err != nil {
		return err
	}
	refFirstSample, _, err := x.exe("", g(refFirst, fetchArgs...))
	if err != nil {
		return err
	}
	x.rows = append(x.rows, row{figure: label("first fetch: loose objects left (git fetch: " + strconv.Itoa(looseObjects(refFirst)) + ")"),
		ours: strconv.Itoa(loose), ref: "100", ratio: float64(loose) / 100, target: 1.0,
		note: fmt.Sprintf("first fetch took %s; git fetch of the same refspecs into an empty repository %s", ms(first.wall), ms(refFirstSample.wall))})
	copyOf := filepath.Join(dir, "fetch-ref.git")
	if _, _, err := x.exe("", []string{"cp", "-a", local, copyOf}); err != nil {
		return err
	}
	top := 10000
	o, r, err = x.pair(func() (sample, error) {
		top++
		if err := newStack(remote, top); err != nil {
			return sample{}, err
		}
		s, _, err := x.exe("", ours(local, "fetch", "--remote", url(remote)))
		return s, err
	}, x.cmd("", g(copyOf, fetchArgs...)...))
	if err != nil {
		return err
	}
	x.addRow(label("fetch of one new stack vs git fetch of the same refspecs"), o, r, 1.5, "")
	o, r, err = x.pair(x.cmd("", ours(local, "fetch", "--remote", url(remote))...), x.cmd("", g(copyOf, fetchArgs...)...))
	if err != nil {
		return err
	}
	x.addRow(label("fetch of nothing new vs git fetch of the same refspecs"), o, r, 1.5, "")

	// The first push of all 10,000 stacks to an empty remote; fewer runs,
	// each from a fresh copy.
	full := min(*runs, 3)
	step(fmt.Sprintf("%s: first push of 10,000 stacks vs git push of every tag and the branch (%d runs each)", transport, full))
	var fo, fr series
	for i := 0; i <= full; i++ {
		var s [2]sample
		for k, name := range []string{"ours", "ref"} {
			src, err := clone(fmt.Sprintf("full-%s-%d.git", name, i))
			if err != nil {
				return err
			}
			dst, err := bare(fmt.Sprintf("full-%s-remote-%d.git", name, i))
			if err != nil {
				return err
			}
			argv := ours(src, "push", "--remote", url(dst))
			if name == "ref" {
				argv = g(src, "push", "--porcelain", url(dst), "refs/tags/*:refs/tags/*", "refs/heads/main")
			}
			if s[k], _, err = x.exe("", argv); err != nil {
				return err
			}
			os.RemoveAll(src)
			os.RemoveAll(dst)
		}
		if i > 0 {
			fo.add(s[0])
			fr.add(s[1])
		}
	}
	x.addRow(label("first push of every stack vs git push of all tags and the branch"), fo, fr, 1.2,
		fmt.Sprintf("medians of %d runs; git-gachette pins the 10,000 tag objects it read (one ref transaction), git pushes them, and one transaction seals them (a check and a create per stack) and drops the pins", full))
	return nil
}

// looseObjects is the number of loose objects in a repository.
func looseObjects(dir string) int {
	out, err := exec.Command("git", "--git-dir", dir, "count-objects", "-v").Output()
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, _ := strings.Cut(l, ": "); k == "count" {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}
