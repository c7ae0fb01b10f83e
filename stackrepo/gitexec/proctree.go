package gitexec

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// SignalTree sends sig to pid and to every process below it (its
// children, theirs, …), then SIGCONT to them all, so that one stopped
// (a process of a background group that touched the terminal) acts on it.
// The tree is read before any signal is sent: a child whose parent ends
// is adopted elsewhere and could no longer be found.
//
// It is for a git that runs in the terminal's foreground process group
// (so that it can prompt), where its process group is the terminal's and
// ours: a signal to that group would reach the user's shell pipeline too.
// git started in a group of its own is signalled as a group instead.
func SignalTree(pid int, sig syscall.Signal) error {
	tree := []int{pid}
	seen := map[int]bool{pid: true}
	var parents map[int][]int // from /proc/*/stat, when children files are missing
	for i := 0; i < len(tree); i++ {
		kids, ok := childrenOf(tree[i])
		if !ok {
			if parents == nil {
				parents = allParents()
			}
			kids = parents[tree[i]]
		}
		for _, k := range kids {
			if !seen[k] {
				seen[k] = true
				tree = append(tree, k)
			}
		}
	}
	err := syscall.Kill(pid, sig)
	for _, p := range tree[1:] {
		syscall.Kill(p, sig)
	}
	for _, p := range tree {
		syscall.Kill(p, syscall.SIGCONT)
	}
	return err
}

// childrenOf reads /proc/PID/task/*/children (Linux with
// CONFIG_PROC_CHILDREN); ok is false when they cannot be read.
func childrenOf(pid int) (kids []int, ok bool) {
	tasks, err := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	if err != nil || len(tasks) == 0 {
		return nil, false
	}
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			if os.IsNotExist(err) {
				continue // the thread ended
			}
			return nil, false
		}
		for _, f := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(f); err == nil {
				kids = append(kids, k)
			}
		}
	}
	return kids, true
}

// allParents maps each parent to its children, from /proc/*/stat.
func allParents() map[int][]int {
	out := map[int][]int{}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			out[ppid] = append(out[ppid], pid)
		}
	}
	return out
}
