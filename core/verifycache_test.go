package sess

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestVerifyCache(t *testing.T) {
	s := newSigner("sid", []byte("test-secret-0123456789-abcdefghijklmnop"), [][]byte{[]byte("old-secret-0123456789-abcdefghijklmnopq")})
	id, _ := RandomID()
	good := s.sign(id)
	// A value in a buffer the server reuses, as fasthttp's are.
	buf := []byte(good)
	aliased := unsafe.String(&buf[0], len(buf))
	if got, key, ok := s.verify(aliased); !ok || got != id || key != 0 {
		t.Fatalf("verify(good) = %q, %d, %v", got, key, ok)
	}
	copy(buf, "XXXXXXXXXXXXXXXXXXXX")
	if got, _, ok := s.verify(good); !ok || got != id {
		t.Fatalf("a cached value changed with the buffer it was read from: %q, %v", got, ok)
	}
	// Forged values are never cached, however often they are sent.
	forged := good[:len(good)-2] + "AA"
	for range 3 {
		if _, _, ok := s.verify(forged); ok {
			t.Fatal("a forged value verified")
		}
	}
	if _, cached := s.cache.get(forged); cached {
		t.Fatal("a forged value was cached")
	}
	// A value signed with a previous key keeps its key index from the cache.
	old := newSigner("sid", []byte("old-secret-0123456789-abcdefghijklmnopq"), nil).sign(id)
	for range 2 {
		if _, key, ok := s.verify(old); !ok || key != 1 {
			t.Fatalf("a value signed with the previous key: key %d, %v; want 1", key, ok)
		}
	}
	// A value longer than the inline entry (an ID of a custom generator)
	// verifies every time without being cached.
	long := s.sign(strings.Repeat("L", 100))
	for range 2 {
		if got, _, ok := s.verify(long); !ok || got != strings.Repeat("L", 100) {
			t.Fatalf("a 100-character ID: %q, %v", got, ok)
		}
	}
	if _, cached := s.cache.get(long); cached {
		t.Fatal("a value longer than verifyMaxLen was cached")
	}
	// Many sessions: each value still verifies, cached or not.
	for i := range 50_000 {
		v := s.sign(fmt.Sprintf("%043d", i))
		if got, _, ok := s.verify(v); !ok || got != fmt.Sprintf("%043d", i) {
			t.Fatalf("value %d: %q, %v", i, got, ok)
		}
	}
	for i := range 100 {
		id := fmt.Sprintf("%043d", i)
		if got, _, ok := s.verify(s.sign(id)); !ok || got != id {
			t.Fatalf("value %d after eviction: %q, %v", i, got, ok)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	s := newSigner("sid", []byte("test-secret-0123456789-abcdefghijklmnop"), nil)
	id, _ := RandomID()
	v := s.sign(id)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			s.verify(v)
		}
	})
	b.Run("hmac", func(b *testing.B) {
		for b.Loop() {
			s.verifyMAC(id, v[len(id)+1:])
		}
	})
	// Requests spread over 10,000 sessions, as in benchmarks/ ParallelHit:
	// the table and its entries are mostly out of the CPU's caches.
	ids := make([]string, 10_000)
	vals := make([]string, len(ids))
	for i := range ids {
		ids[i], _ = RandomID()
		vals[i] = s.sign(ids[i])
	}
	b.Run("cached-10k", func(b *testing.B) {
		i := 0
		for b.Loop() {
			s.verify(vals[i])
			i = (i + 1) % len(vals)
		}
	})
	b.Run("hmac-10k", func(b *testing.B) {
		i := 0
		for b.Loop() {
			s.verifyMAC(ids[i], vals[i][len(ids[i])+1:])
			i = (i + 1) % len(vals)
		}
	})
}

// TestVerifyCacheSecondChance: a value in use keeps its slot against one
// newcomer, and yields it once it stopped being used.
func TestVerifyCacheSecondChance(t *testing.T) {
	s := newSigner("sid", []byte("test-secret-0123456789-abcdefghijklmnop"), nil)
	seen := map[int]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		v := s.sign(fmt.Sprintf("id-%040d", i))
		slot, _ := s.cache.index(v)
		if other, ok := seen[slot]; ok {
			a, b = other, v
		}
		seen[slot] = v
	}
	cached := func(v string) bool { _, ok := s.cache.get(v); return ok }
	s.verify(a)
	s.verify(a) // a is used
	s.verify(b) // b is refused once: a loses its mark
	if cached(b) {
		t.Fatal("a newcomer evicted a value in use")
	}
	s.verify(b) // a was not used since: b takes the slot
	if !cached(b) {
		t.Fatal("a value that stopped being used kept its slot")
	}
	if cached(a) {
		t.Fatal("two values in one slot")
	}
}

// TestVerifyCacheConcurrentSlot: values that share a slot, verified with
// different keys from many goroutines at once, always verify as
// themselves with their own key, while the slot changes hands under them.
func TestVerifyCacheConcurrentSlot(t *testing.T) {
	cur, prev := []byte("test-secret-0123456789-abcdefghijklmnop"), []byte("old-secret-0123456789-abcdefghijklmnopq")
	s := newSigner("sid", cur, [][]byte{prev})
	old := newSigner("sid", prev, nil)
	type value struct {
		v, id string
		key   int
	}
	// Four values in one slot, two of them signed with the previous key.
	bySlot := map[int][]value{}
	var vals []value
	for i := 0; vals == nil; i++ {
		x := value{id: fmt.Sprintf("id-%040d", i), key: i % 2}
		x.v = s.sign(x.id)
		if x.key == 1 {
			x.v = old.sign(x.id)
		}
		slot, _ := s.cache.index(x.v)
		if bySlot[slot] = append(bySlot[slot], x); len(bySlot[slot]) == 4 {
			vals = bySlot[slot]
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			for n := range 20_000 {
				x := vals[(g+n)%len(vals)]
				got, key, ok := s.verify(x.v)
				if !ok || got != x.id || key != x.key {
					errs <- fmt.Sprintf("verify(%q) = %q, %d, %v; want %q, %d", x.v, got, key, ok, x.id, x.key)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

// TestVerifyCacheTornRead: a value spliced from two cached values that
// share a slot (the first word of one, the rest of the other) is never
// found, however the reads interleave with the writes that replace one
// value by the other: a reader that overlaps a write does not trust what
// it read.
func TestVerifyCacheTornRead(t *testing.T) {
	s := newSigner("sid", []byte("test-secret-0123456789-abcdefghijklmnop"), nil)
	bySlot := map[int]string{}
	var v, w string
	for v == "" {
		id, _ := RandomID()
		x := s.sign(id)
		slot, _ := s.cache.index(x)
		if other, ok := bySlot[slot]; ok && other[:8] != x[:8] {
			v, w = other, x
		}
		bySlot[slot] = x
	}
	forged := w[:8] + v[8:]
	var c verifyCache
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 300_000 {
			c.put(v, 0)
			c.put(w, 0)
		}
	}()
	found := 0
	for {
		select {
		case <-done:
			if found > 0 {
				t.Fatalf("a value spliced from two cached values was found %d times", found)
			}
			return
		default:
		}
		if _, ok := c.get(forged); ok {
			found++
		}
	}
}
