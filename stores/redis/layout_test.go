package redisstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// TestPatchModel applies random patches (sets, duplicate sets, deletes,
// clears, meta changes, size caps exactly at and one byte under the
// patched size) to one record and checks after each that the record read
// back equals a model kept in Go, and that the running size field s equals
// the size of the stored entries: Update's MaxSize check relies on it.
func TestPatchModel(t *testing.T) {
	requireRedis(t)
	c := newClient(t, nil)
	st := newTestStore(t, c)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	id := randomHex(16)
	exp := time.Now().Add(time.Hour)
	model := map[string]string{"a": "1"}
	meta := "meta"
	if err := st.Create(ctx, id, sess.Record{Meta: []byte(meta), Entries: sess.AppendEntry(nil, "a", []byte("1")), Expires: exp}); err != nil {
		t.Fatal(err)
	}
	version := uint64(1)
	sizeOf := func(m map[string]string, meta string) int {
		n := len(meta)
		for k, v := range m {
			n += sess.EntrySize(len(k), len(v))
		}
		return n
	}
	for step := range 300 {
		var p sess.Patch
		next := maps.Clone(model)
		nextMeta := meta
		if rng.IntN(10) == 0 {
			p.Clear = true
			clear(next)
		}
		for range rng.IntN(4) {
			k := "k" + strconv.Itoa(rng.IntN(12))
			p.Delete = append(p.Delete, k)
			delete(next, k)
		}
		for range rng.IntN(5) {
			k := "k" + strconv.Itoa(rng.IntN(12))
			v := strings.Repeat("x", rng.IntN(300)) // lengths across the 1- and 2-byte varint boundary
			p.Set = append(p.Set, sess.Entry{Key: k, Value: []byte(v)})
			next[k] = v
		}
		if rng.IntN(4) == 0 {
			nextMeta = strings.Repeat("m", rng.IntN(20))
			p.Meta = []byte(nextMeta)
		}
		p.Expires = exp
		want := sizeOf(next, nextMeta)
		switch rng.IntN(3) {
		case 0:
			p.MaxSize = want
		case 1:
			p.MaxSize = want - 1
		}
		if rng.IntN(5) == 0 {
			p.IfVersion = version
		}
		err := st.Update(ctx, id, p)
		switch {
		case p.MaxSize > 0 && p.MaxSize < want:
			if !errors.Is(err, sess.ErrTooLarge) {
				t.Fatalf("step %d: Update to %d bytes with MaxSize %d: %v, want ErrTooLarge", step, want, p.MaxSize, err)
			}
		case err != nil:
			t.Fatalf("step %d: Update: %v", step, err)
		default:
			model, meta = next, nextMeta
			version++
		}
		rec, err := st.Get(ctx, id)
		if err != nil {
			t.Fatalf("step %d: Get: %v", step, err)
		}
		got := map[string]string{}
		for rest := rec.Entries; len(rest) > 0; {
			k, v, r, err := sess.NextEntry(rest)
			if err != nil {
				t.Fatalf("step %d: entries: %v", step, err)
			}
			got[string(k)] = string(v)
			rest = r
		}
		if !maps.Equal(got, model) || string(rec.Meta) != meta || rec.Version != version {
			t.Fatalf("step %d: record (%d keys, meta %q, version %d), want (%d keys, meta %q, version %d)", step, len(got), rec.Meta, rec.Version, len(model), meta, version)
		}
		s, err := c.HGet(ctx, st.key(id), fSize).Result()
		if err != nil {
			t.Fatal(err)
		}
		if s != fmt.Sprint(sizeOf(model, "")) {
			t.Fatalf("step %d: running size s = %s, want %d", step, s, sizeOf(model, ""))
		}
	}
}

// TestLargePatch sets and then deletes more fields in one patch than Lua's
// unpack takes at once (the scripts send them in chunks).
func TestLargePatch(t *testing.T) {
	requireRedis(t)
	st := newTestStore(t, newClient(t, nil))
	ctx := context.Background()
	id := randomHex(16)
	exp := time.Now().Add(time.Hour)
	var entries []byte
	for i := range 5000 {
		entries = sess.AppendEntry(entries, fmt.Sprintf("c%d", i), []byte("v"))
	}
	if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: entries, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	var p sess.Patch
	for i := range 5000 {
		p.Set = append(p.Set, sess.Entry{Key: fmt.Sprintf("u%d", i), Value: []byte("v")})
		p.Delete = append(p.Delete, fmt.Sprintf("c%d", i))
	}
	p.Expires = exp
	if err := st.Update(ctx, id, p); err != nil {
		t.Fatalf("Update with 5,000 sets and 5,000 deletes: %v", err)
	}
	rec, err := st.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rest := rec.Entries; len(rest) > 0; n++ {
		k, _, r, err := sess.NextEntry(rest)
		if err != nil || !strings.HasPrefix(string(k), "u") {
			t.Fatalf("entry %q, %v; want only u* keys", k, err)
		}
		rest = r
	}
	if n != 5000 {
		t.Errorf("%d entries after the patch, want 5000", n)
	}
}
