package sess

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// FuzzMeta: any Meta the parser accepts re-encodes to a Meta that parses
// to the same header; nothing panics.
func FuzzMeta(f *testing.F) {
	f.Add(appendMeta(nil, 1700000000000, lifetime{}, 0, nil))
	f.Add(appendMeta(nil, 1700000000000, lifetime{mode: modePersistent, idle: time.Hour, maxAge: 24 * 3600}, 0, nil))
	f.Add(appendMeta(nil, 1700000000000, lifetime{}, 1690000000000, []byte("alice@example.test")))
	f.Add(appendMeta(nil, 1700000000000, lifetime{mode: modeBrowser}, 1, bytes.Repeat([]byte("p"), maxPrincipal)))
	f.Add([]byte{recordFormatBound, 1, 0, 0, 0, 0, 0})
	f.Add([]byte{recordFormatBound, 1, 0, 0, 0, 5, 0xff, 'a'})
	f.Add(forwardMeta("old-session-id-0123456789", "new-session-id-0123456789"))
	f.Fuzz(func(t *testing.T, meta []byte) {
		h, err := parseRecord(meta, nil, 4096)
		if err != nil {
			return
		}
		if len(h.principal) > maxPrincipal {
			t.Fatalf("accepted a principal of %d bytes", len(h.principal))
		}
		again := appendMeta(nil, h.absolute, h.lt, h.created, h.principal)
		h2, err := parseRecord(again, nil, 4096)
		if err != nil {
			t.Fatalf("re-encoded Meta %x of %x does not parse: %v", again, meta, err)
		}
		if h2.absolute != h.absolute || h2.lt != h.lt || !bytes.Equal(h2.principal, h.principal) || (len(h.principal) > 0 && h2.created != h.created) {
			t.Fatalf("round trip changed the header: %+v -> %+v", h, h2)
		}
	})
}

// FuzzForward: a forwarding Meta unseals only with the old ID it was
// sealed with, and never panics on hostile input.
func FuzzForward(f *testing.F) {
	f.Add("old-session-id-0123456789", "new-session-id-0123456789", []byte{recordFormatForward, 3, 'a', 'b', 'c'})
	f.Add("qqqqqqqqqqqqqqqqqqqqqq", "x", []byte{recordFormatForward, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, old, id string, hostile []byte) {
		_, _ = forwardTarget(hostile, old)
		if !validID(old) || !validID(id) {
			return
		}
		got, ok := forwardTarget(forwardMeta(old, id), old)
		if !ok || got != id {
			t.Fatalf("forward %q -> %q unsealed as %q, %v", old, id, got, ok)
		}
		if other := old + "x"; validID(other) {
			if got, ok := forwardTarget(forwardMeta(old, id), other); ok && got == id {
				t.Fatalf("a forward unsealed with the wrong old ID")
			}
		}
		if !validID(forwardID(old)) {
			t.Fatalf("forwardID(%q) = %q is not a valid ID", old, forwardID(old))
		}
	})
}

// TestMemoryIndexNoPileUp: the memory store's index forgets records that
// were deleted, expired and swept, or unbound.
func TestMemoryIndexNoPileUp(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewMemoryStore(MemoryConfig{Now: clock})
	defer s.Close()
	ctx := context.Background()
	var ids []string
	for i := range 300 {
		id, _ := RandomID()
		ids = append(ids, id)
		p := fmt.Sprintf("user%d", i%3)
		if err := s.Create(ctx, id, Record{Meta: []byte("m"), Expires: now.Add(time.Duration(1+i%2) * time.Minute), Principal: p}); err != nil {
			t.Fatal(err)
		}
	}
	size := func() (int, int) {
		s.index.mu.Lock()
		defer s.index.mu.Unlock()
		n := 0
		for _, hs := range s.index.byPrinc {
			n += len(hs)
		}
		return n, len(s.index.byHandle)
	}
	if n, h := size(); n != 300 || h != 300 {
		t.Fatalf("index holds %d/%d entries, want 300", n, h)
	}
	for _, id := range ids[:10] {
		_ = s.Delete(ctx, id)
	}
	empty := ""
	for _, id := range ids[10:20] {
		if err := s.Update(ctx, id, Patch{Principal: &empty, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, h := size(); n != 280 || h != 280 {
		t.Fatalf("after 10 deletes and 10 unbinds the index holds %d/%d entries, want 280", n, h)
	}
	now = now.Add(90 * time.Second) // half of the rest expire
	s.Sweep()
	if n, h := size(); n != 140 || h != 140 {
		t.Fatalf("after sweeping expired records the index holds %d/%d entries, want 140", n, h)
	}
	now = now.Add(time.Hour)
	s.Sweep()
	if n, h := size(); n != 0 || h != 0 || len(s.index.byPrinc) != 0 {
		t.Fatalf("after every record expired the index holds %d/%d entries and %d principals, want none", n, h, len(s.index.byPrinc))
	}
}
