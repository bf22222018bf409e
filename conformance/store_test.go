package conformance_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
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
	"othererror":       {"MissingIsErrNotFound"},
	"createoverwrites": {"CreateIfAbsent"},
	"noversioncheck":   {"IfVersionConflict", "ConcurrentConditionalOneWinner"},
	"resurrect":        {"UpdateOnMissingIsNotFound", "DeletedNeverResurrected", "ManagersDestroyNotResurrected"},
	"noexpiry":         {"TTLHonoured", "PastExpiresDeletes"},
	"touchnoop":        {"TouchExtends", "TouchMissingIsNotFound"},
	"aliasing":         {"BuffersNotAliased"},
	"ignoredelete":     {"PatchSemantics"},
	"nosizecap":        {"MaxSizeAtomic"},
	// Patches applied as a read-modify-write without atomicity: each
	// Update reads the record, lets other goroutines run, then writes back
	// its own merge. Single-threaded cases pass; concurrency loses writes.
	"nonatomic": {"ConcurrentDisjointUpdates", "MaxSizeAtomic", "ManagersOneSessionManyWriters"},
	// Principal index flaws, on the memory store (see flawedIndex).
	"revokeanyones": {"IndexDeleteHandle"},
	"nounbind":      {"IndexBindByUpdate"},
	"ignorekeep":    {"IndexDeletePrincipal"},
	"listunbound":   {"IndexBindOnCreate", "IndexDeleteLeaves"},
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
	if strings.HasPrefix(flaw, "revoke") || flaw == "nounbind" || flaw == "ignorekeep" || flaw == "listunbound" {
		conformance.RunStore(t, func(t *testing.T) sess.Store {
			st := sess.NewMemoryStore(sess.MemoryConfig{})
			t.Cleanup(func() { _ = st.Close() })
			return &flawedIndex{MemoryStore: st, flaw: flaw}
		})
		return
	}
	conformance.RunStore(t, func(t *testing.T) sess.Store { return newFlawedStore(flaw) })
}

// flawedIndex is the memory store with one rule of sess.PrincipalIndex
// broken on purpose.
type flawedIndex struct {
	*sess.MemoryStore
	flaw    string
	mu      sync.Mutex
	created map[string]bool // listunbound: every ID ever created
}

// DeleteHandle with flaw revokeanyones ignores whose session it is.
func (s *flawedIndex) DeleteHandle(ctx context.Context, handle, principal string) error {
	if s.flaw == "revokeanyones" {
		principal = ""
	}
	return s.MemoryStore.DeleteHandle(ctx, handle, principal)
}

// Update with flaw nounbind ignores an unbinding patch's principal.
func (s *flawedIndex) Update(ctx context.Context, id string, p sess.Patch) error {
	if s.flaw == "nounbind" && p.Principal != nil && *p.Principal == "" {
		p.Principal = nil
	}
	return s.MemoryStore.Update(ctx, id, p)
}

// DeletePrincipal with flaw ignorekeep deletes the kept sessions too.
func (s *flawedIndex) DeletePrincipal(ctx context.Context, principal string, keep []string) (int, error) {
	if s.flaw == "ignorekeep" {
		keep = nil
	}
	return s.MemoryStore.DeletePrincipal(ctx, principal, keep)
}

// Create with flaw listunbound remembers every ID, for ListPrincipal.
func (s *flawedIndex) Create(ctx context.Context, id string, rec sess.Record) error {
	if s.flaw == "listunbound" {
		s.mu.Lock()
		if s.created == nil {
			s.created = map[string]bool{}
		}
		s.created[id] = true
		s.mu.Unlock()
	}
	return s.MemoryStore.Create(ctx, id, rec)
}

// ListPrincipal with flaw listunbound adds every record created, live or
// not, bound or not.
func (s *flawedIndex) ListPrincipal(ctx context.Context, principal string) ([]sess.IndexedRecord, error) {
	recs, err := s.MemoryStore.ListPrincipal(ctx, principal)
	if err != nil || s.flaw != "listunbound" {
		return recs, err
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.created))
	for id := range s.created {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		h := sess.HashID(id)
		if slices.ContainsFunc(recs, func(r sess.IndexedRecord) bool { return r.Handle == h }) {
			continue
		}
		rec, err := s.MemoryStore.Get(ctx, id)
		if err != nil {
			rec = sess.Record{Meta: []byte("m"), Version: 1, Expires: time.Now().Add(time.Hour)}
		}
		rec.Principal = principal
		recs = append(recs, sess.IndexedRecord{Handle: h, Record: rec})
	}
	return recs, nil
}

// flawedStore is a minimal map store that breaks one rule of the contract
// on purpose, chosen by flaw ("" breaks none).
type flawedStore struct {
	flaw string
	mu   sync.Mutex
	m    map[string]flawedRecord
}

type flawedRecord struct {
	meta, entries []byte
	version       uint64
	expires       time.Time
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
	return sess.Record{Meta: s.copyData(r.meta), Entries: s.copyData(r.entries), Version: r.version, Expires: r.expires}, nil
}

func (s *flawedStore) Create(_ context.Context, id string, rec sess.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, live := s.live(id); live && s.flaw != "createoverwrites" {
		return sess.ErrConflict
	}
	if s.flaw != "noexpiry" && !time.Now().Before(rec.Expires) {
		delete(s.m, id)
		return nil
	}
	s.m[id] = flawedRecord{meta: s.copyData(rec.Meta), entries: s.copyData(rec.Entries), version: 1, expires: rec.Expires}
	return nil
}

func (s *flawedStore) Update(_ context.Context, id string, p sess.Patch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, live := s.live(id)
	if s.flaw == "nonatomic" {
		// Read, release the lock while "computing", write back.
		s.mu.Unlock()
		runtime.Gosched()
		time.Sleep(time.Microsecond)
		s.mu.Lock()
	}
	if !live && s.flaw != "resurrect" {
		return sess.ErrNotFound
	}
	if p.IfVersion != 0 && p.IfVersion != r.version && s.flaw != "noversioncheck" {
		return sess.ErrConflict
	}
	if s.flaw != "noexpiry" && !time.Now().Before(p.Expires) {
		delete(s.m, id)
		return nil
	}
	if s.flaw == "ignoredelete" {
		p.Delete = nil
	}
	entries, err := sess.ApplyPatch(nil, r.entries, &p)
	if err != nil {
		return err
	}
	meta := r.meta
	if p.Meta != nil {
		meta = s.copyData(p.Meta)
	}
	if p.MaxSize > 0 && len(meta)+len(entries) > p.MaxSize && s.flaw != "nosizecap" {
		return sess.ErrTooLarge
	}
	s.m[id] = flawedRecord{meta: meta, entries: entries, version: r.version + 1, expires: p.Expires}
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

// TestAdapterSuiteCatchesNonAtomicStore checks that the adapter suite's
// many-writer cases fail, over real HTTP, on a store that applies patches
// as a read-modify-write without atomicity.
func TestAdapterSuiteCatchesNonAtomicStore(t *testing.T) {
	if os.Getenv(flawEnv) != "" {
		t.Skip("inside a flaw subprocess")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNonAtomicStoreAdapterChild$/^ThousandWritersOneSession$", "-test.count=1")
	cmd.Env = append(os.Environ(), flawEnv+"=nonatomic")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("adapter suite with a non-atomic store: err = %v, want a failing exit status\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- FAIL: TestNonAtomicStoreAdapterChild/ThousandWritersOneSession ") {
		t.Errorf("a non-atomic store was not caught by ThousandWritersOneSession\n%s", out)
	}
}

// TestNonAtomicStoreAdapterChild is the subprocess body of
// TestAdapterSuiteCatchesNonAtomicStore.
func TestNonAtomicStoreAdapterChild(t *testing.T) {
	if os.Getenv(flawEnv) != "nonatomic" {
		t.Skip("runs only as a subprocess of TestAdapterSuiteCatchesNonAtomicStore")
	}
	conformance.RunWithStore(t, mount, func(t *testing.T) sess.Store { return newFlawedStore("nonatomic") })
}
