package stackrepo

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"
)

var _ RefStore = (*memRefs)(nil)

// newMemory returns an empty repository in memory (go-git's memory
// storage), for the tests that run on both backends.
func newMemory() *Repo {
	return &Repo{st: memory.NewStorage(), refs: newMemRefs()}
}

// memRefs is a RefStore in memory, for the in-memory repositories of the tests.
type memRefs struct {
	mu   sync.Mutex
	refs map[string]plumbing.Hash
}

func newMemRefs() *memRefs { return &memRefs{refs: map[string]plumbing.Hash{}} }

func (m *memRefs) Lookup(name string) (plumbing.Hash, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.refs[name]
	if !ok {
		return plumbing.ZeroHash, ErrRefNotFound
	}
	return h, nil
}

func (m *memRefs) List(prefix string) ([]Ref, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var refs []Ref
	for n, h := range m.refs {
		if strings.HasPrefix(n, prefix) {
			refs = append(refs, Ref{Name: n, Hash: h})
		}
	}
	sort.Slice(refs, func(i, j int) bool { return refs[i].Name < refs[j].Name })
	return refs, nil
}

func (m *memRefs) Update(_ string, updates ...RefUpdate) error {
	return m.UpdateChecked("", nil, updates...)
}

// UpdateChecked runs check before it takes the lock (check reads refs
// through m): an in-memory repository has one process.
func (m *memRefs) UpdateChecked(_ string, check func() error, updates ...RefUpdate) error {
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	if err := checkUpdates(updates); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range updates {
		if cur := m.refs[u.Name]; cur != u.Old {
			return &RefChangedError{Name: u.Name, Want: u.Old, Got: cur}
		}
		if u.Old.IsZero() && !u.New.IsZero() {
			for n := range m.refs {
				if strings.HasPrefix(n, u.Name+"/") || strings.HasPrefix(u.Name, n+"/") {
					return fmt.Errorf("cannot create %s: reference %s exists", u.Name, n)
				}
			}
		}
	}
	for _, u := range updates {
		if u.New.IsZero() {
			delete(m.refs, u.Name)
		} else {
			m.refs[u.Name] = u.New
		}
	}
	return nil
}
