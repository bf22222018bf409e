package sess

import (
	"context"
	"slices"
	"sync"
)

// memIndex is the MemoryStore's principal index. Its lock is taken inside a
// shard's lock (never the other way round), and only for bound records.
type memIndex struct {
	mu       sync.Mutex
	byPrinc  map[string]map[string][32]byte // principal -> handle -> key
	byHandle map[string]string              // handle -> principal
}

// bind records that the record under k (in sh) is bound to principal.
// Callers hold sh.mu and have unbound any earlier binding of k.
func (x *memIndex) bind(sh *memShard, k [32]byte, principal, handle string) {
	if sh.bound == nil {
		sh.bound = make(map[[32]byte]memBinding)
	}
	sh.bound[k] = memBinding{principal: principal, handle: handle}
	x.mu.Lock()
	if x.byPrinc == nil {
		x.byPrinc, x.byHandle = make(map[string]map[string][32]byte), make(map[string]string)
	}
	hs := x.byPrinc[principal]
	if hs == nil {
		hs = make(map[string][32]byte)
		x.byPrinc[principal] = hs
	}
	hs[handle] = k
	x.byHandle[handle] = principal
	x.mu.Unlock()
}

// unbind drops the binding of the record under k, if any. Callers hold
// sh.mu.
func (x *memIndex) unbind(sh *memShard, k [32]byte) {
	if sh.bound == nil {
		return
	}
	b, ok := sh.bound[k]
	if !ok {
		return
	}
	delete(sh.bound, k)
	x.mu.Lock()
	if hs := x.byPrinc[b.principal]; hs != nil {
		delete(hs, b.handle)
		if len(hs) == 0 {
			delete(x.byPrinc, b.principal)
		}
	}
	delete(x.byHandle, b.handle)
	x.mu.Unlock()
}

func (x *memIndex) reset() {
	x.mu.Lock()
	x.byPrinc, x.byHandle = nil, nil
	x.mu.Unlock()
}

// snapshot returns the handles and keys bound to principal.
func (x *memIndex) snapshot(principal string) map[string][32]byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	hs := x.byPrinc[principal]
	out := make(map[string][32]byte, len(hs))
	for h, k := range hs {
		out[h] = k
	}
	return out
}

// find returns the key and principal of a bound handle.
func (x *memIndex) find(handle string) (k [32]byte, principal string, ok bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if principal, ok = x.byHandle[handle]; ok {
		k, ok = x.byPrinc[principal][handle]
	}
	return k, principal, ok
}

// boundRecord returns a copy of the live record under k if it is still
// bound to principal under handle.
func (s *MemoryStore) boundRecord(k [32]byte, principal, handle string) (IndexedRecord, bool) {
	sh := s.shard(&k)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.m[k]
	if !ok || e.expires <= s.now().UnixNano() || sh.bound[k] != (memBinding{principal, handle}) {
		return IndexedRecord{}, false
	}
	rec := e.record(slices.Clone(e.buf))
	rec.Principal = principal
	return IndexedRecord{Handle: handle, Record: rec}, true
}

// ListPrincipal implements PrincipalIndex.
func (s *MemoryStore) ListPrincipal(_ context.Context, principal string) ([]IndexedRecord, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	var out []IndexedRecord
	for h, k := range s.index.snapshot(principal) {
		if r, ok := s.boundRecord(k, principal, h); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// GetHandle implements PrincipalIndex.
func (s *MemoryStore) GetHandle(_ context.Context, handle string) (IndexedRecord, error) {
	if s.closed.Load() {
		return IndexedRecord{}, ErrClosed
	}
	k, p, ok := s.index.find(handle)
	if !ok {
		return IndexedRecord{}, ErrNotFound
	}
	r, ok := s.boundRecord(k, p, handle)
	if !ok {
		return IndexedRecord{}, ErrNotFound
	}
	return r, nil
}

// DeleteHandle implements PrincipalIndex.
func (s *MemoryStore) DeleteHandle(_ context.Context, handle, principal string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	k, p, ok := s.index.find(handle)
	if !ok || (principal != "" && p != principal) {
		return ErrNotFound
	}
	if !s.deleteBound(k, p, handle) {
		return ErrNotFound
	}
	return nil
}

// DeletePrincipal implements PrincipalIndex.
func (s *MemoryStore) DeletePrincipal(_ context.Context, principal string, keep []string) (int, error) {
	if s.closed.Load() {
		return 0, ErrClosed
	}
	n := 0
	for h, k := range s.index.snapshot(principal) {
		if !slices.Contains(keep, h) && s.deleteBound(k, principal, h) {
			n++
		}
	}
	return n, nil
}

// deleteBound deletes the record under k if it is live and bound to
// principal under handle, reporting whether it did. An expired one is
// removed too, but not counted.
func (s *MemoryStore) deleteBound(k [32]byte, principal, handle string) bool {
	sh := s.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[k]
	if !ok || sh.bound[k] != (memBinding{principal, handle}) {
		return false
	}
	s.remove(sh, k)
	return e.expires > s.now().UnixNano()
}
