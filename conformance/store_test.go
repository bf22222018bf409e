package conformance_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// TestRunStoreMemory runs the store suite against core's in-memory store.
func TestRunStoreMemory(t *testing.T) {
	conformance.RunStore(t, func(t *testing.T) sess.Store {
		st := sess.NewMemoryStore(sess.MemoryConfig{})
		t.Cleanup(func() { _ = st.Close() })
		return st
	})
}

// TestRunStoreReference runs the suite against flawedStore with no flaw,
// so the flaw tests below check the suite, not the reference store.
func TestRunStoreReference(t *testing.T) {
	conformance.RunStore(t, func(t *testing.T) sess.Store { return newFlawedStore("") })
}

// flawEnv selects the flaw of the store TestFlawedStoreChild checks.
const flawEnv = "SESS_CONFORMANCE_STORE_FLAW"

// storeFlaws maps each deliberate defect to subtests of RunStore that must
// catch it on every run.
var storeFlaws = map[string][]string{
	"othererror":     {"MissingIsErrNotFound"},
	"lastwriterwins": {"CreateIfAbsent", "WrongVersionIsConflict", "SwapOnMissingIsNotFound", "DeletedNeverResurrected", "ConcurrentSwapOneWinner"},
	"resurrect":      {"SwapOnMissingIsNotFound", "DeletedNeverResurrected", "ManagersDestroyNotResurrected"},
	"noexpiry":       {"TTLHonoured", "PastExpiresDeletes"},
	"touchnoop":      {"TouchExtends", "TouchMissingIsNotFound"},
	"aliasing":       {"BuffersNotAliased"},
}

// TestRunStoreCatchesFlaws runs the suite against deliberately broken
// stores in a subprocess each and checks that the expected cases fail.
func TestRunStoreCatchesFlaws(t *testing.T) {
	if os.Getenv(flawEnv) != "" {
		t.Skip("inside a flaw subprocess")
	}
	for flaw, want := range storeFlaws {
		t.Run(flaw, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestFlawedStoreChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), flawEnv+"="+flaw)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) {
				t.Fatalf("suite against a store with flaw %q: err = %v, want a failing exit status\n%s", flaw, err, out)
			}
			for _, name := range want {
				if !strings.Contains(string(out), "--- FAIL: TestFlawedStoreChild/"+name+" ") {
					t.Errorf("flaw %q was not caught by %s\n%s", flaw, name, out)
				}
			}
			if strings.Contains(string(out), "panic:") {
				t.Errorf("suite panicked on flaw %q\n%s", flaw, out)
			}
		})
	}
}

// TestFlawedStoreChild is the subprocess body of TestRunStoreCatchesFlaws.
func TestFlawedStoreChild(t *testing.T) {
	flaw := os.Getenv(flawEnv)
	if flaw == "" {
		t.Skip("runs only as a subprocess of TestRunStoreCatchesFlaws")
	}
	if _, ok := storeFlaws[flaw]; !ok {
		t.Fatalf("unknown flaw %q", flaw)
	}
	conformance.RunStore(t, func(t *testing.T) sess.Store { return newFlawedStore(flaw) })
}

// flawedStore is a minimal map store that breaks one rule of the contract
// on purpose, chosen by flaw ("" breaks none).
type flawedStore struct {
	flaw string
	mu   sync.Mutex
	m    map[string]flawedRecord
}

type flawedRecord struct {
	data    []byte
	version uint64
	expires time.Time
}

func newFlawedStore(flaw string) *flawedStore {
	return &flawedStore{flaw: flaw, m: make(map[string]flawedRecord)}
}

func (s *flawedStore) live(id string) (flawedRecord, bool) {
	r, ok := s.m[id]
	return r, ok && (s.flaw == "noexpiry" || time.Now().Before(r.expires))
}

func (s *flawedStore) copyData(b []byte) []byte {
	if s.flaw == "aliasing" {
		return b
	}
	return slices.Clone(b)
}

func (s *flawedStore) Get(_ context.Context, id string) (sess.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(id)
	if !ok {
		if s.flaw == "othererror" {
			return sess.Record{}, errors.New("no such key")
		}
		return sess.Record{}, sess.ErrNotFound
	}
	return sess.Record{Data: s.copyData(r.data), Version: r.version, Expires: r.expires}, nil
}

func (s *flawedStore) CompareAndSwap(_ context.Context, id string, old uint64, rec sess.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, live := s.live(id)
	if s.flaw != "lastwriterwins" {
		switch {
		case old == 0 && live:
			return sess.ErrConflict
		case old > 0 && !live && s.flaw != "resurrect":
			return sess.ErrNotFound
		case old > 0 && live && r.version != old:
			return sess.ErrConflict
		}
	}
	if s.flaw != "noexpiry" && !time.Now().Before(rec.Expires) {
		delete(s.m, id)
		return nil
	}
	s.m[id] = flawedRecord{data: s.copyData(rec.Data), version: old + 1, expires: rec.Expires}
	return nil
}

func (s *flawedStore) Touch(_ context.Context, id string, expires time.Time) error {
	if s.flaw == "touchnoop" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(id)
	if !ok {
		return sess.ErrNotFound
	}
	r.expires = expires
	s.m[id] = r
	return nil
}

func (s *flawedStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}
