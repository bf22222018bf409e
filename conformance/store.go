package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// RunStore checks that a sess.Store keeps the whole contract documented on
// sess.Store and sess.Patch, one named subtest per property. newStore
// returns a fresh, empty store for each subtest; it registers any cleanup
// with t.Cleanup. A store author runs it from an ordinary test:
//
//	func TestStore(t *testing.T) {
//		conformance.RunStore(t, func(t *testing.T) sess.Store {
//			s := mystore.New(...)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Besides the store's own methods (also at realistic concurrency: a
// thousand patches in flight on one record) it drives the store through two
// sess.Managers sharing it, as two application instances would. The Close
// cases run only for stores that implement io.Closer, the GetShared checks
// only for stores that implement sess.SharedGetter, the Index cases only for
// stores that implement sess.PrincipalIndex (for others, one case checks
// that binding a session fails with sess.ErrNoPrincipalIndex). Some cases wait for
// records to expire, so the suite takes a few seconds. Run it with -race.
func RunStore(t *testing.T, newStore func(t *testing.T) sess.Store) {
	t.Helper()
	cases := slices.Clone(storeCases)
	if st := newStore(t); st != nil {
		if _, ok := st.(sess.PrincipalIndex); ok {
			cases = append(cases, indexCases...)
		} else {
			cases = append(cases, storeCase{"NoPrincipalIndexIsClear", "a store without sess.PrincipalIndex must make binding a session fail loudly, never silently skip the index (a revocation would miss sessions)", indexMissingIsClear})
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("why this matters: %s", c.why)
				}
			}()
			st := newStore(t)
			if st == nil {
				t.Fatal("newStore returned a nil store")
			}
			c.run(t, st)
		})
	}
}

type storeCase struct {
	name string
	why  string
	run  func(t *testing.T, st sess.Store)
}

var storeCases = []storeCase{
	{"MissingIsErrNotFound", "the Manager tells an unknown session (start a new one) from a store failure (answer 503) only by errors.Is(err, sess.ErrNotFound)", storeMissingIsNotFound},
	{"CreateIfAbsent", "Create is how a new session claims its ID; a second Create of a live ID must fail with ErrConflict so two sessions never share one record", storeCreateIfAbsent},
	{"VersionBumps", "every successful Create or Update must leave a higher version (Create: 1, Update: one more) and Touch none; conditional patches (renewals) rely on it", storeVersionBumps},
	{"UpdateOnMissingIsNotFound", "an Update of a record that does not exist must fail with ErrNotFound and create nothing", storeUpdateOnMissing},
	{"DeletedNeverResurrected", "after a logout deletes a session, a late Update must fail with ErrNotFound; storing it would bring a logged-out session back", storeDeletedNeverResurrected},
	{"DeleteMissingIsNil", "deleting an already deleted or never stored record is not an error: logout must not fail because the session had already expired", storeDeleteMissing},
	{"PatchSemantics", "a commit sends only its changes; the store must apply Set, Delete, Clear and Meta exactly as sess.Patch documents, or sessions lose or keep the wrong keys", storePatchSemantics},
	{"IfVersionConflict", "a conditional patch (a renewal retiring the old ID) must fail with ErrConflict, changing nothing, when the record moved on; otherwise a renewal drops a concurrent writer's change", storeIfVersionConflict},
	{"MaxSizeAtomic", "the size cap must be checked atomically with the patch: concurrent writers must never together push a record over MaxSize (the Manager would then discard the session as corrupt)", storeMaxSizeAtomic},
	{"TTLHonoured", "a record must disappear at its Expires and Get must never return a record whose Expires has passed; the session's idle and absolute timeouts depend on it", storeTTLHonoured},
	{"PastExpiresDeletes", "a write whose Expires is not in the future (a slow request, clock skew, a conditional delete) must delete the record rather than store it, possibly without any expiry", storePastExpiresDeletes},
	{"TouchExtends", "Touch moves a live record's expiry without rewriting its data or version, so reading requests keep a session alive", storeTouchExtends},
	{"TouchMissingIsNotFound", "Touch must not create a record, and reports ErrNotFound when there is none", storeTouchMissing},
	{"BuffersNotAliased", "the store must copy data in and out: the Manager reuses its buffers, and a caller changing a returned slice must not change the stored session", storeBuffersNotAliased},
	{"ConcurrentDisjointUpdates", "1,000 patches of different keys in flight on one record must all be applied: a read-modify-write without atomicity loses most of them", storeConcurrentDisjoint},
	{"ConcurrentSameKeyLastWins", "concurrent patches of one key must leave exactly one of the written values and count every write in the version", storeConcurrentSameKey},
	{"ConcurrentConditionalOneWinner", "of many conditional patches racing with the same IfVersion exactly one may win, or a renewal could retire a record that changed", storeConcurrentConditional},
	{"ManagersOneSessionManyWriters", "1,000 requests served by two instances, each changing its own key of one session, must all succeed and all be kept", storeManagersOneSession},
	{"ManagersManySessionsManyWriters", "1,000 sessions with 10 concurrent writers each, served by two instances, must keep every write", storeManagersManySessions},
	{"ManagersRenewKeepsConcurrentWrite", "a renewal must carry over a change another instance committed to the old ID after the renewing request loaded it", storeManagersRenew},
	{"ManagersDestroyNotResurrected", "a request that commits a change while another destroys the session must not bring the destroyed session back", storeManagersDestroy},
	{"HostileIDs", "a store must survive any ID without panicking and keep distinct IDs apart; IDs are bytes, not paths or patterns", storeHostileIDs},
	{"CloseIdempotent", "Close may be called twice, and calls after Close must fail with sess.ErrClosed rather than touch released resources", storeCloseIdempotent},
	{"CloseConcurrentWithUse", "closing a store while requests still use it must not race or panic", storeCloseConcurrent},
}

// storeTimeout bounds every store call the suite makes.
const storeTimeout = 30 * time.Second

func storeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	t.Cleanup(cancel)
	return ctx
}

func storeNewID(t *testing.T) string {
	t.Helper()
	id, err := sess.RandomID()
	if err != nil {
		t.Fatalf("RandomID: %v", err)
	}
	return id
}

// storeSameMilli reports whether two instants agree to the millisecond,
// the precision every store must keep.
func storeSameMilli(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Millisecond && d < time.Millisecond
}

// kv builds Entries from key, value pairs.
func kv(pairs ...string) []byte {
	var b []byte
	for i := 0; i+1 < len(pairs); i += 2 {
		b = sess.AppendEntry(b, pairs[i], []byte(pairs[i+1]))
	}
	return b
}

// set builds a Patch.Set from key, value pairs.
func set(pairs ...string) []sess.Entry {
	var out []sess.Entry
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, sess.Entry{Key: pairs[i], Value: []byte(pairs[i+1])})
	}
	return out
}

// storeEntries decodes a record's entries, failing on a malformed encoding
// or a repeated key.
func storeEntries(t *testing.T, rec sess.Record) map[string]string {
	t.Helper()
	es, err := sess.ParseEntries(rec.Entries)
	if err != nil {
		t.Fatalf("Get returned Entries that do not follow the entry encoding: %v", err)
	}
	m := make(map[string]string, len(es))
	for _, e := range es {
		if _, dup := m[e.Key]; dup {
			t.Fatalf("Get returned Entries holding key %q twice; keys must be unique", e.Key)
		}
		m[e.Key] = string(e.Value)
	}
	return m
}

func fmtEntries(m map[string]string) string {
	keys := slices.Sorted(maps.Keys(m))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%s", k, m[k])
	}
	return "{" + b.String() + "}"
}

func storeMustCreate(t *testing.T, st sess.Store, id, meta string, entries []byte, exp time.Time) {
	t.Helper()
	if err := st.Create(storeCtx(t), id, sess.Record{Meta: []byte(meta), Entries: entries, Expires: exp}); err != nil {
		t.Fatalf("Create of a new ID: %v, want nil", err)
	}
}

func storeMustUpdate(t *testing.T, st sess.Store, id string, p sess.Patch) {
	t.Helper()
	if err := st.Update(storeCtx(t), id, p); err != nil {
		t.Fatalf("Update of a live record: %v, want nil", err)
	}
}

func storeMustGet(t *testing.T, st sess.Store, id string) sess.Record {
	t.Helper()
	rec, err := st.Get(storeCtx(t), id)
	if err != nil {
		t.Fatalf("Get of a live record: %v, want nil", err)
	}
	return rec
}

func storeWantNotFound(t *testing.T, st sess.Store, id, when string) {
	t.Helper()
	rec, err := st.Get(storeCtx(t), id)
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("%s: Get = (version %d, %q), %v; want an error wrapping sess.ErrNotFound", when, rec.Version, rec.Entries, err)
	}
}

// storeCheck compares a record with the wanted meta, entries (as key,
// value pairs) and version (0: any).
func storeCheck(t *testing.T, rec sess.Record, meta string, version uint64, pairs ...string) {
	t.Helper()
	want := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		want[pairs[i]] = pairs[i+1]
	}
	got := storeEntries(t, rec)
	if string(rec.Meta) != meta || !maps.Equal(got, want) || version != 0 && rec.Version != version {
		t.Errorf("Get = (meta %q, version %d, entries %s), want (meta %q, version %d, entries %s)",
			rec.Meta, rec.Version, fmtEntries(got), meta, version, fmtEntries(want))
	}
}

func storeMissingIsNotFound(t *testing.T, st sess.Store) {
	_, err := st.Get(storeCtx(t), storeNewID(t))
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Get of a never stored ID: %v, want an error wrapping sess.ErrNotFound", err)
	}
}

func storeCreateIfAbsent(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	// Version in the record is ignored: a created record is at version 1.
	if err := st.Create(storeCtx(t), id, sess.Record{Meta: []byte("m1"), Entries: kv("a", "1", "b", ""), Version: 7, Expires: exp}); err != nil {
		t.Fatalf("Create of a new ID: %v, want nil", err)
	}
	rec := storeMustGet(t, st, id)
	storeCheck(t, rec, "m1", 1, "a", "1", "b", "")
	if !storeSameMilli(rec.Expires, exp) {
		t.Errorf("Get returned Expires %v, want %v (to the millisecond)", rec.Expires, exp)
	}
	err := st.Create(storeCtx(t), id, sess.Record{Meta: []byte("m2"), Entries: kv("c", "3"), Expires: exp})
	if !errors.Is(err, sess.ErrConflict) {
		t.Errorf("second Create of a live ID: %v, want an error wrapping sess.ErrConflict", err)
	}
	storeCheck(t, storeMustGet(t, st, id), "m1", 1, "a", "1", "b", "")
	// An empty session is a valid record too.
	id2 := storeNewID(t)
	storeMustCreate(t, st, id2, "m", nil, exp)
	storeCheck(t, storeMustGet(t, st, id2), "m", 1)
}

func storeVersionBumps(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "m", kv("n", "0"), exp)
	for v := uint64(1); v <= 5; v++ {
		storeMustUpdate(t, st, id, sess.Patch{Set: set("n", fmt.Sprint(v)), Expires: exp})
		storeCheck(t, storeMustGet(t, st, id), "m", v+1, "n", fmt.Sprint(v))
	}
	if err := st.Touch(storeCtx(t), id, exp.Add(time.Minute)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	storeCheck(t, storeMustGet(t, st, id), "m", 6, "n", "5")
	// An empty patch is still a write.
	storeMustUpdate(t, st, id, sess.Patch{Expires: exp})
	storeCheck(t, storeMustGet(t, st, id), "m", 7, "n", "5")
}

func storeUpdateOnMissing(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	for _, p := range []sess.Patch{
		{Set: set("x", "1"), Expires: time.Now().Add(time.Hour)},
		{Clear: true, Set: set("x", "1"), Meta: []byte("m"), Expires: time.Now().Add(time.Hour)},
		{IfVersion: 1, Set: set("x", "1"), Expires: time.Now().Add(time.Hour)},
	} {
		if err := st.Update(storeCtx(t), id, p); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Update(%+v) of a never stored ID: %v, want an error wrapping sess.ErrNotFound", p, err)
		}
		storeWantNotFound(t, st, id, "after a failed Update on a missing record")
	}
}

func storeDeletedNeverResurrected(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "m", kv("user", "alice"), exp)
	if err := st.Delete(storeCtx(t), id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	storeWantNotFound(t, st, id, "after Delete")
	for _, p := range []sess.Patch{
		{Set: set("late", "1"), Expires: exp},
		{Clear: true, Meta: []byte("m"), Expires: exp},
		{IfVersion: 1, Set: set("late", "1"), Expires: exp},
	} {
		if err := st.Update(storeCtx(t), id, p); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Update after Delete: %v, want an error wrapping sess.ErrNotFound", err)
		}
		storeWantNotFound(t, st, id, "after a late Update on a deleted record")
	}
}

func storeDeleteMissing(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	if err := st.Delete(storeCtx(t), id); err != nil {
		t.Errorf("Delete of a never stored ID: %v, want nil", err)
	}
	storeMustCreate(t, st, id, "m", kv("x", "1"), time.Now().Add(time.Hour))
	for i := range 2 {
		if err := st.Delete(storeCtx(t), id); err != nil {
			t.Errorf("Delete #%d: %v, want nil", i+1, err)
		}
	}
}

func storePatchSemantics(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "meta-1", kv("a", "1", "b", "2", "c", "3"), exp)
	steps := []struct {
		what  string
		patch sess.Patch
		meta  string
		want  []string
	}{
		{"Set of a new and an existing key", sess.Patch{Set: set("d", "4", "a", "one")}, "meta-1", []string{"a", "one", "b", "2", "c", "3", "d", "4"}},
		{"Delete of a key and a missing key", sess.Patch{Delete: []string{"b", "nope"}}, "meta-1", []string{"a", "one", "c", "3", "d", "4"}},
		{"Set and Delete together", sess.Patch{Set: set("e", "5"), Delete: []string{"c"}}, "meta-1", []string{"a", "one", "d", "4", "e", "5"}},
		{"a key set twice: the later counts", sess.Patch{Set: set("f", "first", "f", "second")}, "meta-1", []string{"a", "one", "d", "4", "e", "5", "f", "second"}},
		{"a key deleted and set: Set wins", sess.Patch{Set: set("a", "again"), Delete: []string{"a"}}, "meta-1", []string{"a", "again", "d", "4", "e", "5", "f", "second"}},
		{"empty and binary values", sess.Patch{Set: []sess.Entry{{Key: "g", Value: nil}, {Key: "h", Value: []byte{0, 0xff, '\r', '\n'}}}}, "meta-1", []string{"a", "again", "d", "4", "e", "5", "f", "second", "g", "", "h", "\x00\xff\r\n"}},
		{"Meta replaced", sess.Patch{Meta: []byte("meta-2")}, "meta-2", []string{"a", "again", "d", "4", "e", "5", "f", "second", "g", "", "h", "\x00\xff\r\n"}},
		{"Clear with Set", sess.Patch{Clear: true, Set: set("z", "26")}, "meta-2", []string{"z", "26"}},
		{"Clear alone", sess.Patch{Clear: true}, "meta-2", nil},
		{"Set after Clear", sess.Patch{Set: set("y", "25"), Meta: []byte("meta-3")}, "meta-3", []string{"y", "25"}},
	}
	for i, st2 := range steps {
		p := st2.patch
		p.Expires = exp
		if err := st.Update(storeCtx(t), id, p); err != nil {
			t.Fatalf("step %d (%s): Update: %v", i+1, st2.what, err)
		}
		rec := storeMustGet(t, st, id)
		t.Run(fmt.Sprintf("step%d", i+1), func(t *testing.T) {
			storeCheck(t, rec, st2.meta, uint64(i)+2, st2.want...)
		})
	}
	// Many keys at once, as a renewal's carry-over sends them.
	var pairs []string
	for i := range 200 {
		pairs = append(pairs, fmt.Sprintf("k%03d", i), strings.Repeat("v", i))
	}
	storeMustUpdate(t, st, id, sess.Patch{Clear: true, Set: set(pairs...), Expires: exp})
	storeCheck(t, storeMustGet(t, st, id), "meta-3", 0, pairs...)
	var del []string
	for i := 0; i < 200; i += 2 {
		del = append(del, fmt.Sprintf("k%03d", i))
	}
	storeMustUpdate(t, st, id, sess.Patch{Delete: del, Expires: exp})
	var odd []string
	for i := 1; i < 200; i += 2 {
		odd = append(odd, fmt.Sprintf("k%03d", i), strings.Repeat("v", i))
	}
	storeCheck(t, storeMustGet(t, st, id), "meta-3", 0, odd...)
}

func storeIfVersionConflict(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "m", kv("a", "1"), exp)
	storeMustUpdate(t, st, id, sess.Patch{Set: set("b", "2"), Expires: exp}) // version 2
	for _, v := range []uint64{1, 3, 1 << 40} {
		err := st.Update(storeCtx(t), id, sess.Patch{IfVersion: v, Clear: true, Set: set("stale", "x"), Meta: []byte("stale"), Expires: exp})
		if !errors.Is(err, sess.ErrConflict) {
			t.Errorf("Update(IfVersion=%d) of a record at version 2: %v, want an error wrapping sess.ErrConflict", v, err)
		}
		// A conditional delete at a stale version must not delete.
		if err := st.Update(storeCtx(t), id, sess.Patch{IfVersion: v}); !errors.Is(err, sess.ErrConflict) {
			t.Errorf("conditional delete (IfVersion=%d, zero Expires) of a record at version 2: %v, want an error wrapping sess.ErrConflict", v, err)
		}
	}
	storeCheck(t, storeMustGet(t, st, id), "m", 2, "a", "1", "b", "2")
	storeMustUpdate(t, st, id, sess.Patch{IfVersion: 2, Set: set("c", "3"), Expires: exp})
	storeCheck(t, storeMustGet(t, st, id), "m", 3, "a", "1", "b", "2", "c", "3")
	// The conditional delete a renewal uses: IfVersion and a zero Expires.
	if err := st.Update(storeCtx(t), id, sess.Patch{IfVersion: 3}); err != nil {
		t.Errorf("conditional delete at the current version: %v, want nil", err)
	}
	storeWantNotFound(t, st, id, "after a conditional delete at the current version")
}

func storeMaxSizeAtomic(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	meta := "meta"
	storeMustCreate(t, st, id, meta, kv("a", "1"), exp)
	size := len(meta) + sess.EntrySize(1, 1)
	grow := sess.EntrySize(1, 10)
	// Exactly at the cap is allowed; one byte over is not.
	if err := st.Update(storeCtx(t), id, sess.Patch{Set: set("b", "0123456789"), Expires: exp, MaxSize: size + grow - 1}); !errors.Is(err, sess.ErrTooLarge) {
		t.Errorf("Update growing the record one byte past MaxSize: %v, want an error wrapping sess.ErrTooLarge", err)
	}
	storeCheck(t, storeMustGet(t, st, id), meta, 1, "a", "1")
	if err := st.Update(storeCtx(t), id, sess.Patch{Set: set("b", "0123456789"), Expires: exp, MaxSize: size + grow}); err != nil {
		t.Errorf("Update growing the record exactly to MaxSize: %v, want nil", err)
	}
	// Shrinking a record is always possible below the cap, and a
	// replaced value counts only once.
	if err := st.Update(storeCtx(t), id, sess.Patch{Set: set("b", "9876543210"), Expires: exp, MaxSize: size + grow}); err != nil {
		t.Errorf("Update replacing a value by one of the same size at MaxSize: %v, want nil", err)
	}

	// Concurrent writers, each within the cap alone: exactly as many as fit
	// may succeed, the others must fail with ErrTooLarge, and the record
	// must never exceed the cap.
	id = storeNewID(t)
	storeMustCreate(t, st, id, meta, nil, exp)
	const writers, fit = 200, 50
	value := strings.Repeat("x", 100)
	entry := sess.EntrySize(len("w000"), len(value))
	maxSize := len(meta) + fit*entry
	ctx := storeCtx(t)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			errs[w] = st.Update(ctx, id, sess.Patch{Set: set(fmt.Sprintf("w%03d", w), value), Expires: exp, MaxSize: maxSize})
		})
	}
	close(start)
	wg.Wait()
	ok := map[string]bool{}
	for w, err := range errs {
		switch {
		case err == nil:
			ok[fmt.Sprintf("w%03d", w)] = true
		case !errors.Is(err, sess.ErrTooLarge):
			t.Fatalf("concurrent writer %d: %v, want nil or an error wrapping sess.ErrTooLarge", w, err)
		}
	}
	rec := storeMustGet(t, st, id)
	got := storeEntries(t, rec)
	if n := len(rec.Meta) + len(rec.Entries); n > maxSize {
		t.Errorf("after %d concurrent writers the record holds %d bytes, over MaxSize %d", writers, n, maxSize)
	}
	if len(ok) != fit || len(got) != fit {
		t.Errorf("%d writers succeeded and the record holds %d keys; want exactly %d of each (as many as fit under MaxSize)", len(ok), len(got), fit)
	}
	for k := range ok {
		if _, in := got[k]; !in {
			t.Errorf("writer %s succeeded but its key is missing", k)
		}
	}
}

func storeTTLHonoured(t *testing.T, st sess.Store) {
	const ttl = 300 * time.Millisecond
	id := storeNewID(t)
	exp := time.Now().Add(ttl)
	storeMustCreate(t, st, id, "m", kv("k", "short-lived"), exp)
	// Poll until well past the expiry. Every record Get returns must have
	// been live when the call started; a record missing while the clock is
	// still before its expiry was dropped too early.
	for {
		start := time.Now()
		rec, err := st.Get(storeCtx(t), id)
		end := time.Now()
		switch {
		case err == nil:
			if !start.Before(rec.Expires) {
				t.Fatalf("Get returned a record whose Expires (%v) had passed before the call started (%v)", rec.Expires, start)
			}
		case errors.Is(err, sess.ErrNotFound):
			if end.Before(exp.Add(-time.Millisecond)) {
				t.Fatalf("record gone at %v, before its Expires %v", end, exp)
			}
		default:
			t.Fatalf("Get: %v", err)
		}
		if start.After(exp.Add(ttl)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	storeWantNotFound(t, st, id, fmt.Sprintf("%v after Expires", ttl))
	err := st.Update(storeCtx(t), id, sess.Patch{Set: set("late", "1"), Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Update of an expired record: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after Update of an expired record")
	// An expired record does not block a new one under the same ID.
	storeMustCreate(t, st, id, "m", kv("k", "again"), time.Now().Add(time.Hour))
	storeCheck(t, storeMustGet(t, st, id), "m", 1, "k", "again")
}

func storePastExpiresDeletes(t *testing.T, st sess.Store) {
	past := time.Now().Add(-time.Second)
	for _, exp := range []time.Time{past, {}} {
		id := storeNewID(t)
		if err := st.Create(storeCtx(t), id, sess.Record{Meta: []byte("m"), Entries: kv("k", "dead"), Expires: exp}); err != nil {
			t.Errorf("Create with Expires %v: %v, want nil (nothing stored)", exp, err)
		}
		storeWantNotFound(t, st, id, fmt.Sprintf("after creating with Expires %v", exp))
	}
	for _, exp := range []time.Time{past, {}} {
		id := storeNewID(t)
		storeMustCreate(t, st, id, "m", kv("k", "v1"), time.Now().Add(time.Hour))
		if err := st.Update(storeCtx(t), id, sess.Patch{Set: set("k", "v2"), Expires: exp}); err != nil {
			t.Errorf("Update with Expires %v: %v, want nil (record deleted)", exp, err)
		}
		storeWantNotFound(t, st, id, fmt.Sprintf("after Update with Expires %v", exp))
		err := st.Update(storeCtx(t), id, sess.Patch{Set: set("k", "v3"), Expires: time.Now().Add(time.Hour)})
		if !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Update after the record was deleted by a past Expires: %v, want an error wrapping sess.ErrNotFound", err)
		}
	}
}

func storeTouchExtends(t *testing.T, st sess.Store) {
	// A short TTL keeps the test fast; on a machine so slow that the record
	// expires before Touch runs, try again with a longer one.
	var id string
	var exp, later time.Time
	ttl := 300 * time.Millisecond
	for attempt := 0; ; attempt++ {
		id = storeNewID(t)
		exp = time.Now().Add(ttl)
		storeMustCreate(t, st, id, "m", kv("k", "data"), exp)
		later = time.Now().Add(time.Hour)
		err := st.Touch(storeCtx(t), id, later)
		if err == nil {
			break
		}
		if !errors.Is(err, sess.ErrNotFound) || time.Now().Before(exp) || attempt == 4 {
			t.Fatalf("Touch of a live record: %v, want nil", err)
		}
		ttl *= 2
	}
	time.Sleep(time.Until(exp.Add(ttl)))
	rec, err := st.Get(storeCtx(t), id)
	if err != nil {
		t.Fatalf("Get after the original Expires of a touched record: %v, want the record", err)
	}
	storeCheck(t, rec, "m", 1, "k", "data")
	if !storeSameMilli(rec.Expires, later) {
		t.Errorf("Get after Touch: Expires %v, want %v (to the millisecond)", rec.Expires, later)
	}
	// Touch into the past ends the record.
	if err := st.Touch(storeCtx(t), id, time.Now().Add(-time.Second)); err != nil && !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch with an expiry in the past: %v, want nil or ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after Touch with an expiry in the past")
}

func storeTouchMissing(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	if err := st.Touch(storeCtx(t), id, time.Now().Add(time.Hour)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch of a never stored ID: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after Touch of a missing record")
	storeMustCreate(t, st, id, "m", kv("k", "x"), time.Now().Add(time.Hour))
	if err := st.Delete(storeCtx(t), id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := st.Touch(storeCtx(t), id, time.Now().Add(time.Hour)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch after Delete: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after Touch of a deleted record")
}

func storeBuffersNotAliased(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	meta, entries := []byte("meta"), kv("k", "original")
	if err := st.Create(storeCtx(t), id, sess.Record{Meta: meta, Entries: entries, Expires: exp}); err != nil {
		t.Fatalf("Create: %v", err)
	}
	copy(meta, "XXXX")
	entries[len(entries)-1] = 'X'
	got := storeMustGet(t, st, id)
	storeCheck(t, got, "meta", 1, "k", "original")
	// Changing or appending to what Get returned must not reach the store.
	if len(got.Meta) > 0 {
		got.Meta[0] = 'Y'
	}
	if len(got.Entries) > 0 {
		got.Entries[len(got.Entries)-1] = 'Y'
	}
	_ = append(got.Meta, "appended"...)
	_ = append(got.Entries, "appended"...)
	storeCheck(t, storeMustGet(t, st, id), "meta", 1, "k", "original")

	key, val, newMeta := []byte("k2"), []byte("second"), []byte("meta2")
	p := sess.Patch{Set: []sess.Entry{{Key: string(key), Value: val}}, Delete: []string{"k"}, Meta: newMeta, Expires: exp}
	storeMustUpdate(t, st, id, p)
	copy(val, "XXXXXX")
	copy(newMeta, "XXXXX")
	a, b := storeMustGet(t, st, id), storeMustGet(t, st, id)
	storeCheck(t, a, "meta2", 2, "k2", "second")
	if len(a.Entries) > 0 && len(b.Entries) > 0 {
		a.Entries[len(a.Entries)-1] = 'Y'
		if b.Entries[len(b.Entries)-1] == 'Y' {
			t.Errorf("two Gets returned Entries sharing memory")
		}
	}

	sg, ok := st.(sess.SharedGetter)
	if !ok {
		return
	}
	shared, err := sg.GetShared(storeCtx(t), id)
	if err != nil {
		t.Fatalf("GetShared of a live record: %v", err)
	}
	storeCheck(t, shared, "meta2", 2, "k2", "second")
	snapshot := sess.Record{Meta: bytes.Clone(shared.Meta), Entries: bytes.Clone(shared.Entries)}
	// A shared record must not change, whatever happens later.
	_ = append(shared.Meta, "appended"...)
	storeMustUpdate(t, st, id, sess.Patch{Set: set("k2", "third", "k3", "x"), Meta: []byte("meta3"), Expires: exp})
	storeMustUpdate(t, st, id, sess.Patch{Clear: true, Expires: exp})
	if !bytes.Equal(shared.Meta, snapshot.Meta) || !bytes.Equal(shared.Entries, snapshot.Entries) {
		t.Errorf("a record returned by GetShared changed after later writes: meta %q entries %q, was %q %q", shared.Meta, shared.Entries, snapshot.Meta, snapshot.Entries)
	}
}

func storeConcurrentDisjoint(t *testing.T, st sess.Store) {
	const writers = 1000
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "m", kv("base", "0"), exp)
	ctx := storeCtx(t)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			errs[w] = st.Update(ctx, id, sess.Patch{Set: set(fmt.Sprintf("w%04d", w), fmt.Sprint(w)), Expires: exp})
		})
	}
	close(start)
	wg.Wait()
	failed := 0
	for w, err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("writer %d: Update: %v, want nil (disjoint patches never conflict)", w, err)
			}
		}
	}
	rec := storeMustGet(t, st, id)
	got := storeEntries(t, rec)
	missing := 0
	for w := range writers {
		if got[fmt.Sprintf("w%04d", w)] != fmt.Sprint(w) {
			missing++
		}
	}
	if got["base"] != "0" {
		t.Errorf("the key no writer touched is gone")
	}
	if failed > 0 || missing > 0 {
		t.Errorf("of %d concurrent disjoint Updates %d failed and %d keys are missing; want all %d kept", writers, failed, missing, writers)
	}
	if rec.Version != writers+1 {
		t.Errorf("version after %d Updates of a new record = %d, want %d", writers, rec.Version, writers+1)
	}
}

func storeConcurrentSameKey(t *testing.T, st sess.Store) {
	const writers = 200
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "m", kv("k", "start", "other", "kept"), exp)
	ctx := storeCtx(t)
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			errs[w] = st.Update(ctx, id, sess.Patch{Set: set("k", fmt.Sprintf("w%d", w)), Expires: exp})
		})
	}
	close(start)
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: Update: %v, want nil", w, err)
		}
	}
	rec := storeMustGet(t, st, id)
	got := storeEntries(t, rec)
	var w int
	if _, err := fmt.Sscanf(got["k"], "w%d", &w); err != nil || w < 0 || w >= writers || len(got) != 2 || got["other"] != "kept" {
		t.Errorf("after %d concurrent writes of one key: entries %s; want k set by one of the writers and other kept", writers, fmtEntries(got))
	}
	if rec.Version != writers+1 {
		t.Errorf("version after %d Updates of a new record = %d, want %d", writers, rec.Version, writers+1)
	}
}

func storeConcurrentConditional(t *testing.T, st sess.Store) {
	const writers, rounds = 16, 10
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "m", kv("k", "start"), exp)
	ctx := storeCtx(t)
	for v := uint64(1); v <= rounds; v++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, writers)
		for w := range writers {
			wg.Go(func() {
				<-start
				errs[w] = st.Update(ctx, id, sess.Patch{IfVersion: v, Set: set("k", fmt.Sprintf("r%d-w%d", v, w)), Expires: exp})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won Update(IfVersion=%d)", v, winner, w, v)
			case err == nil:
				winner = w
			case !errors.Is(err, sess.ErrConflict):
				t.Fatalf("round %d: losing writer got %v, want an error wrapping sess.ErrConflict", v, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won Update(IfVersion=%d)", v, v)
		}
		storeCheck(t, storeMustGet(t, st, id), "m", v+1, "k", fmt.Sprintf("r%d-w%d", v, winner))
	}
}

// storeCarrier is a sess.Carrier for driving a Manager without HTTP.
type storeCarrier struct {
	cookie string // request Cookie header, or ""
	mu     sync.Mutex
	out    map[string][]string
}

func (c *storeCarrier) RequestHeader(name string) []string {
	if name == "Cookie" && c.cookie != "" {
		return []string{c.cookie}
	}
	return nil
}

func (c *storeCarrier) AddResponseHeader(name, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out == nil {
		c.out = make(map[string][]string)
	}
	c.out[name] = append(c.out[name], value)
}

func (c *storeCarrier) setCookies() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out["Set-Cookie"]
}

// storeSecret is the signing key shared by the suite's Managers, like
// instances of one application.
var storeSecret = []byte("conformance store suite secret, 32+ bytes long")

func storeManager(t *testing.T, st sess.Store) *sess.Manager {
	t.Helper()
	m, err := sess.New(sess.Config{
		Secret: storeSecret,
		Store:  st,
		Logger: slog.New(slog.DiscardHandler),
		// The cases check what is kept under load, not latency: a thousand
		// requests in flight queue for a networked store's connections.
		StoreTimeout: storeTimeout / 2,
	})
	if err != nil {
		t.Fatalf("sess.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// storeStartSession creates a session holding "init" through m and returns
// the request Cookie header that carries it and its ID.
func storeStartSession(t *testing.T, m *sess.Manager) (cookie, id string) {
	t.Helper()
	ctx := storeCtx(t)
	c := &storeCarrier{}
	x := m.Begin(ctx, c)
	s, err := x.Session(), x.Err()
	if err != nil || s == nil {
		t.Fatalf("Load without a cookie = %v, %v; want a new session", s, err)
	}
	s.Set("init", true)
	if !x.Start(200) {
		t.Fatalf("Commit of a new session: %v", x.Err())
	}
	lines := c.setCookies()
	if len(lines) != 1 {
		t.Fatalf("Commit of a new session set cookies %q, want one", lines)
	}
	nameValue, _, _ := strings.Cut(lines[0], ";")
	value, ok := strings.CutPrefix(nameValue, m.CookieName()+"=")
	dot := strings.LastIndexByte(value, '.')
	if !ok || dot <= 0 {
		t.Fatalf("Set-Cookie %q does not carry a signed session ID", lines[0])
	}
	return nameValue, value[:dot]
}

// errStoreSessionGone reports a cookie whose session the Manager did not
// find.
var errStoreSessionGone = errors.New("conformance: the Manager did not find the session")

// storeRequest loads the session for cookie through m, applies change and
// commits it as a 200 response.
func storeRequest(ctx context.Context, m *sess.Manager, cookie string, change func(s *sess.Session)) (*sess.Session, error) {
	c := &storeCarrier{cookie: cookie}
	x := m.Begin(ctx, c)
	s, err := x.Session(), x.Err()
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	if s.IsNew() {
		return s, errStoreSessionGone
	}
	change(s)
	if !x.Start(200) {
		return s, fmt.Errorf("committing: %w", x.Err())
	}
	return s, nil
}

// storeReadBack loads the session for cookie through m and returns it,
// failing if it is gone.
func storeReadBack(t *testing.T, m *sess.Manager, cookie string) *sess.Session {
	t.Helper()
	s, err := storeRequest(storeCtx(t), m, cookie, func(*sess.Session) {})
	if err != nil {
		t.Fatalf("reading the session back: %v", err)
	}
	return s
}

func storeManagersOneSession(t *testing.T, st sess.Store) {
	const writers = 1000
	ms := []*sess.Manager{storeManager(t, st), storeManager(t, st)}
	ctx := storeCtx(t)
	cookie, _ := storeStartSession(t, ms[0])
	errs := make([]error, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			_, errs[w] = storeRequest(ctx, ms[w%2], cookie, func(s *sess.Session) { s.Set(fmt.Sprintf("key-%04d", w), w) })
		})
	}
	close(start)
	wg.Wait()
	failed := 0
	for w, err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("writer %d: %v", w, err)
			}
		}
	}
	s := storeReadBack(t, ms[1], cookie)
	kept := 0
	for w := range writers {
		if v, ok := sess.Get[int](s, fmt.Sprintf("key-%04d", w)); ok && v == w {
			kept++
		}
	}
	if v, ok := sess.Get[bool](s, "init"); !ok || !v {
		t.Errorf("init = %v, %v; want true (a key no writer touched was lost)", v, ok)
	}
	if failed > 0 || kept != writers {
		t.Errorf("%d concurrent requests on one session through two Managers: %d failed, %d of %d keys kept; want all kept", writers, failed, kept, writers)
	}
}

func storeManagersManySessions(t *testing.T, st sess.Store) {
	const sessions, writers, inFlight = 1000, 10, 1000
	ms := []*sess.Manager{storeManager(t, st), storeManager(t, st)}
	ctx := storeCtx(t)
	cookies := make([]string, sessions)
	for i := range cookies {
		cookies[i], _ = storeStartSession(t, ms[i%2])
	}
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []error
	for w := range writers {
		for i, cookie := range cookies {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				key := fmt.Sprintf("key-%d", w)
				if _, err := storeRequest(ctx, ms[(i+w)%2], cookie, func(s *sess.Session) { s.Set(key, i*100+w) }); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Errorf("session %d, writer %d: %w", i, w, err))
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	for _, err := range failures[:min(len(failures), 5)] {
		t.Error(err)
	}
	lost := 0
	for i, cookie := range cookies {
		s := storeReadBack(t, ms[i%2], cookie)
		for w := range writers {
			if v, ok := sess.Get[int](s, fmt.Sprintf("key-%d", w)); !ok || v != i*100+w {
				lost++
			}
		}
		if v, ok := sess.Get[bool](s, "init"); !ok || !v {
			lost++
		}
	}
	if len(failures) > 0 || lost > 0 {
		t.Errorf("%d sessions x %d writers through two Managers: %d requests failed, %d keys lost; want none", sessions, writers, len(failures), lost)
	}
}

// storeCookieOf returns the name=value of the session cookie a commit set,
// or "".
func storeCookieOf(c *storeCarrier, name string) string {
	for _, line := range c.setCookies() {
		nv, _, _ := strings.Cut(line, ";")
		if v, ok := strings.CutPrefix(nv, name+"="); ok && v != "" {
			return nv
		}
	}
	return ""
}

func storeManagersRenew(t *testing.T, st sess.Store) {
	ma, mb := storeManager(t, st), storeManager(t, st)
	ctx := storeCtx(t)
	cookie, oldID := storeStartSession(t, ma)
	// A loads the session and will renew it (a login); meanwhile B commits
	// a change to the old ID.
	ca := &storeCarrier{cookie: cookie}
	xa := ma.Begin(ctx, ca)
	sa, err := xa.Session(), xa.Err()
	if err != nil || sa == nil || sa.IsNew() {
		t.Fatalf("Begin on A: IsNew=%v, %v; want the session", sa != nil && sa.IsNew(), err)
	}
	if _, err := storeRequest(ctx, mb, cookie, func(s *sess.Session) { s.Set("cart", "book") }); err != nil {
		t.Fatalf("B's write: %v", err)
	}
	sa.Renew()
	sa.Set("user", "alice")
	if !xa.Start(200) {
		t.Fatalf("A's renewing commit: %v, want nil", xa.Err())
	}
	nc := storeCookieOf(ca, ma.CookieName())
	if nc == "" {
		t.Fatalf("the renewing commit set no session cookie: %q", ca.setCookies())
	}
	s := storeReadBack(t, mb, nc)
	if v, _ := sess.Get[string](s, "cart"); v != "book" {
		t.Errorf("renewed session: cart = %q, want %q (a change committed to the old ID before the renewal finished was lost)", v, "book")
	}
	if v, _ := sess.Get[string](s, "user"); v != "alice" {
		t.Errorf("renewed session: user = %q, want %q", v, "alice")
	}
	if v, _ := sess.Get[bool](s, "init"); !v {
		t.Errorf("renewed session lost the key set before the renewal")
	}
	if _, err := st.Get(ctx, oldID); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("old ID after the renewal: Get = %v, want ErrNotFound", err)
	}

	// Then race a renewal against writers on the old ID, many times: the
	// renewal must succeed (or lose against nothing), the old ID must end.
	for round := range 10 {
		cookie, oldID := storeStartSession(t, ma)
		var wg sync.WaitGroup
		start := make(chan struct{})
		var renewErr error
		var newCookie string
		wg.Go(func() {
			<-start
			c := &storeCarrier{cookie: cookie}
			x := ma.Begin(ctx, c)
			if err := x.Err(); err != nil {
				renewErr = err
				return
			}
			s := x.Session()
			s.Renew()
			s.Set("user", "bob")
			if !x.Start(200) {
				renewErr = x.Err()
			}
			newCookie = storeCookieOf(c, ma.CookieName())
		})
		for w := range 8 {
			wg.Go(func() {
				<-start
				_, err := storeRequest(ctx, mb, cookie, func(s *sess.Session) { s.Set(fmt.Sprintf("w%d", w), w) })
				if err != nil && !errors.Is(err, errStoreSessionGone) {
					t.Errorf("round %d: writer %d: %v", round, w, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if renewErr != nil {
			t.Fatalf("round %d: renewing request: %v", round, renewErr)
		}
		if newCookie == "" {
			t.Fatalf("round %d: the renewal set no cookie", round)
		}
		s := storeReadBack(t, mb, newCookie)
		if v, _ := sess.Get[string](s, "user"); v != "bob" {
			t.Errorf("round %d: renewed session: user = %q, want bob", round, v)
		}
		if v, _ := sess.Get[bool](s, "init"); !v {
			t.Errorf("round %d: renewed session lost the key set before the renewal", round)
		}
		if _, err := st.Get(ctx, oldID); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("round %d: old ID after the renewal: Get = %v, want ErrNotFound", round, err)
		}
	}
}

func storeManagersDestroy(t *testing.T, st sess.Store) {
	ma, mb := storeManager(t, st), storeManager(t, st)
	ctx := storeCtx(t)

	// Deterministic order first: B loads, A destroys and commits, then B
	// commits its change.
	cookie, id := storeStartSession(t, ma)
	cb := &storeCarrier{cookie: cookie}
	xb := mb.Begin(ctx, cb)
	sb, err := xb.Session(), xb.Err()
	if err != nil || sb.IsNew() {
		t.Fatalf("Load on B: IsNew=%v, %v; want the session", sb != nil && sb.IsNew(), err)
	}
	if _, err := storeRequest(ctx, ma, cookie, (*sess.Session).Destroy); err != nil {
		t.Fatalf("destroying request: %v", err)
	}
	sb.Set("late", "change")
	if !xb.Start(200) {
		t.Errorf("Commit of a change to a session destroyed meanwhile: %v, want nil (change dropped)", xb.Err())
	}
	if got := cb.setCookies(); len(got) != 0 {
		t.Errorf("Commit of a change to a destroyed session set cookies %q, want none", got)
	}
	if rec, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("after destroy, then a late commit: store Get = (version %d), %v; want ErrNotFound (session resurrected)", rec.Version, err)
	}

	// Then race them, many times.
	for round := range 20 {
		cookie, id := storeStartSession(t, ma)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, m := range []*sess.Manager{ma, mb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = storeRequest(ctx, m, cookie, func(s *sess.Session) {
					if i == 0 {
						s.Destroy()
					} else {
						s.Set("racing", round)
					}
				})
			}()
		}
		close(start)
		wg.Wait()
		if errs[0] != nil {
			t.Fatalf("round %d: destroying request: %v", round, errs[0])
		}
		// The writer may find the session already gone at Load; that is
		// fine. Any other failure is not.
		if err := errs[1]; err != nil && !errors.Is(err, errStoreSessionGone) {
			t.Fatalf("round %d: writing request: %v", round, err)
		}
		if rec, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
			t.Fatalf("round %d: store Get after a destroy raced a write = (version %d), %v; want ErrNotFound (session resurrected)", round, rec.Version, err)
		}
		c := &storeCarrier{cookie: cookie}
		if x := mb.Begin(ctx, c); x.Err() != nil || !x.Session().IsNew() {
			t.Fatalf("round %d: Load with the destroyed session's cookie: IsNew=%v, %v; want a new session", round, x.Session() != nil && x.Session().IsNew(), x.Err())
		}
	}
}

func storeHostileIDs(t *testing.T, st sess.Store) {
	ids := []string{
		"",
		strings.Repeat("A", 10<<10),
		"\x00",
		"a\x00b",
		"a",
		"a\x00",
		"../../etc/passwd",
		"*",
		"sess:*",
		"\r\nDEL *\r\n",
		"\xff\xfe\xfd",
		"' OR '1'='1",
	}
	exp := time.Now().Add(time.Hour)
	created := make(map[string]bool)
	for i, id := range ids {
		storeNoPanic(t, i, func() error {
			ctx := storeCtx(t)
			if _, err := st.Get(ctx, id); err == nil {
				return errors.New("Get of a never stored ID returned a record")
			}
			if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: kv("k", fmt.Sprintf("data-%d", i)), Expires: exp}); err != nil {
				return nil // a store may refuse odd IDs, as long as it does not panic
			}
			created[id] = true
			return nil
		})
	}
	for i, id := range ids {
		if !created[id] {
			continue
		}
		storeNoPanic(t, i, func() error {
			ctx := storeCtx(t)
			rec, err := st.Get(ctx, id)
			if err != nil {
				return fmt.Errorf("Get after a successful create: %w", err)
			}
			if got, want := storeEntries(t, rec)["k"], fmt.Sprintf("data-%d", i); got != want {
				return fmt.Errorf("Get = %q, want %q (records of different IDs mixed up)", got, want)
			}
			if err := st.Touch(ctx, id, exp.Add(time.Minute)); err != nil {
				return fmt.Errorf("Touch: %w", err)
			}
			if err := st.Update(ctx, id, sess.Patch{IfVersion: 1, Set: set("k", "v2"), Expires: exp}); err != nil {
				return fmt.Errorf("Update(IfVersion=1): %w", err)
			}
			if err := st.Delete(ctx, id); err != nil {
				return fmt.Errorf("Delete: %w", err)
			}
			if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
				return fmt.Errorf("Get after Delete: %v, want ErrNotFound", err)
			}
			return nil
		})
	}
}

func storeNoPanic(t *testing.T, i int, f func() error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("hostile ID #%d: store panicked: %v", i, p)
		}
	}()
	if err := f(); err != nil {
		t.Errorf("hostile ID #%d: %v", i, err)
	}
}

func storeCloser(t *testing.T, st sess.Store) io.Closer {
	t.Helper()
	c, ok := st.(io.Closer)
	if !ok {
		t.Skipf("%T does not implement io.Closer", st)
	}
	return c
}

func storeWantClosed(t *testing.T, st sess.Store, when string) {
	t.Helper()
	ctx := storeCtx(t)
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Get = %v, want an error wrapping sess.ErrClosed", when, err)
	}
	if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Expires: exp}); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Create = %v, want an error wrapping sess.ErrClosed", when, err)
	}
	if err := st.Update(ctx, id, sess.Patch{Set: set("k", "v"), Expires: exp}); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Update = %v, want an error wrapping sess.ErrClosed", when, err)
	}
	if err := st.Touch(ctx, id, exp); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Touch = %v, want an error wrapping sess.ErrClosed", when, err)
	}
	if err := st.Delete(ctx, id); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Delete = %v, want an error wrapping sess.ErrClosed", when, err)
	}
}

func storeCloseIdempotent(t *testing.T, st sess.Store) {
	c := storeCloser(t, st)
	storeMustCreate(t, st, storeNewID(t), "m", kv("k", "x"), time.Now().Add(time.Hour))
	if err := c.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	storeWantClosed(t, st, "after Close")
}

func storeCloseConcurrent(t *testing.T, st sess.Store) {
	c := storeCloser(t, st)
	ctx := storeCtx(t)
	exp := time.Now().Add(time.Hour)
	ids := make([]string, 8)
	for i := range ids {
		ids[i] = storeNewID(t)
		storeMustCreate(t, st, ids[i], "m", kv("k", "x"), exp)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := uint64(1); ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = st.Get(ctx, id)
				_ = st.Update(ctx, id, sess.Patch{Set: set("k", "y"), Expires: exp})
				_ = st.Touch(ctx, id, exp)
				_ = st.Create(ctx, fmt.Sprintf("close-%d-%d", g, v), sess.Record{Meta: []byte("m"), Entries: kv("k", "z"), Expires: exp})
			}
		}()
	}
	var closers sync.WaitGroup
	closeErrs := make([]error, 2)
	for i := range closeErrs {
		closers.Add(1)
		go func() {
			defer closers.Done()
			closeErrs[i] = c.Close()
		}()
	}
	closers.Wait()
	close(stop)
	wg.Wait()
	for i, err := range closeErrs {
		if err != nil {
			t.Errorf("concurrent Close #%d: %v", i+1, err)
		}
	}
	storeWantClosed(t, st, "after concurrent Close")
}
