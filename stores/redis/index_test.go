package redisstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

// TestIndexHygiene checks, with a raw client, what the principal index
// leaves in Redis, on one server and on a Redis Cluster of three
// primaries: every way of deleting a bound record removes its entry at
// once, writes keep an entry's score at its record's expiry and the
// index's own expiry at its highest score, and entries of expired records
// are gone after a listing, or with the index key at its expiry.
func TestIndexHygiene(t *testing.T) {
	t.Run("standalone", func(t *testing.T) {
		requireRedis(t)
		c := newClient(t, nil)
		indexHygiene(t, c, newTestStore(t, c))
	})
	t.Run("cluster", func(t *testing.T) {
		c := startCluster(t, 3).Client(t)
		indexHygiene(t, c, newTestStore(t, c))
	})
}

func indexHygiene(t *testing.T, c redis.UniversalClient, st *Store) {
	ctx := context.Background()
	newID := func() string { return randomHex(16) }
	create := func(principal string, exp time.Time) string {
		t.Helper()
		id := newID()
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: sess.AppendEntry(nil, "k", []byte("v")), Expires: exp, Principal: principal}); err != nil {
			t.Fatalf("Create: %v", err)
		}
		return id
	}
	// score returns the entry of id in principal's index, or -1 if none.
	score := func(principal, id string) int64 {
		t.Helper()
		v, err := c.ZScore(ctx, st.indexKey(principal), sess.HashID(id)).Result()
		if errors.Is(err, redis.Nil) {
			return -1
		}
		if err != nil {
			t.Fatalf("ZSCORE: %v", err)
		}
		return int64(v)
	}
	// indexExpiry returns the index key's PEXPIRETIME in Unix ms (-1: no
	// expiry, -2: no key).
	indexExpiry := func(principal string) int64 {
		t.Helper()
		d, err := c.PExpireTime(ctx, st.indexKey(principal)).Result()
		if err != nil {
			t.Fatalf("PEXPIRETIME: %v", err)
		}
		if d < 0 {
			return int64(d)
		}
		return d.Milliseconds()
	}
	exists := func(principal string) bool {
		t.Helper()
		n, err := c.Exists(ctx, st.indexKey(principal)).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	hour := time.Now().Add(time.Hour).Truncate(time.Millisecond)

	t.Run("LayoutAndScores", func(t *testing.T) {
		id := create("alice", hour)
		if got := score("alice", id); got != hour.UnixMilli() {
			t.Errorf("score after Create = %d, want the expiry %d", got, hour.UnixMilli())
		}
		if got := indexExpiry("alice"); got != hour.UnixMilli() {
			t.Errorf("index PEXPIRETIME = %d, want its highest score %d", got, hour.UnixMilli())
		}
		if p, err := c.HGet(ctx, st.key(id), fPrincipal).Result(); err != nil || p != "alice" {
			t.Errorf("field p = %q, %v; want alice", p, err)
		}
		later := hour.Add(time.Minute)
		if err := st.Touch(ctx, id, later); err != nil {
			t.Fatal(err)
		}
		if got := score("alice", id); got != later.UnixMilli() {
			t.Errorf("score after Touch = %d, want the new expiry %d", got, later.UnixMilli())
		}
		latest := later.Add(time.Minute)
		if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: "k2", Value: []byte("v")}}, Expires: latest}); err != nil {
			t.Fatal(err)
		}
		if got := score("alice", id); got != latest.UnixMilli() {
			t.Errorf("score after Update = %d, want the new expiry %d", got, latest.UnixMilli())
		}
		if got := indexExpiry("alice"); got != latest.UnixMilli() {
			t.Errorf("index PEXPIRETIME after Update = %d, want %d", got, latest.UnixMilli())
		}
		// A Clear keeps the binding; an earlier expiry leaves the score
		// above it.
		if err := st.Update(ctx, id, sess.Patch{Clear: true, Expires: hour}); err != nil {
			t.Fatal(err)
		}
		if got := score("alice", id); got != latest.UnixMilli() {
			t.Errorf("score after an Update to an earlier expiry = %d, want it kept at %d", got, latest.UnixMilli())
		}
		if hs := listHandles(t, st, "alice"); !slices.Contains(hs, sess.HashID(id)) {
			t.Errorf("a cleared record is no longer listed: %v", hs)
		}
		// A short-lived record does not shorten the index's life.
		short := create("alice", time.Now().Add(time.Second))
		if got := indexExpiry("alice"); got != latest.UnixMilli() {
			t.Errorf("index PEXPIRETIME after adding a shorter record = %d, want %d", got, latest.UnixMilli())
		}
		if got := score("alice", short); got < 0 {
			t.Errorf("the short record is not indexed")
		}
		// An unbound record writes no index and no field p.
		free := create("", hour)
		if n, _ := c.HExists(ctx, st.key(free), fPrincipal).Result(); n {
			t.Errorf("an unbound record has a field p")
		}
		if exists("") {
			t.Errorf("an index exists for the empty principal")
		}
	})

	t.Run("DeletesRemoveEntriesAtOnce", func(t *testing.T) {
		deleted := map[string]func(id string) error{
			"Delete": func(id string) error { return st.Delete(ctx, id) },
			"Update deleting": func(id string) error {
				return st.Update(ctx, id, sess.Patch{IfVersion: 1})
			},
			"Touch to the past": func(id string) error { return st.Touch(ctx, id, time.Now().Add(-time.Second)) },
			"DeleteHandle":      func(id string) error { return st.DeleteHandle(ctx, sess.HashID(id), "bob") },
			"DeleteHandle any":  func(id string) error { return st.DeleteHandle(ctx, sess.HashID(id), "") },
			"DeletePrincipal": func(id string) error {
				n, err := st.DeletePrincipal(ctx, "bob", nil)
				if err == nil && n != 1 {
					t.Errorf("DeletePrincipal deleted %d, want 1", n)
				}
				return err
			},
		}
		for name, del := range deleted {
			id := create("bob", hour)
			if score("bob", id) < 0 {
				t.Fatalf("%s: the record is not indexed", name)
			}
			if err := del(id); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := score("bob", id); got != -1 {
				t.Errorf("%s: the deleted record's entry is still in the index (score %d)", name, got)
			}
			if exists("bob") {
				t.Errorf("%s: the emptied index still exists", name)
			}
		}
	})

	t.Run("ExpiredEntriesDoNotPileUp", func(t *testing.T) {
		const n = 20
		long := create("carol", hour)
		exp := time.Now().Add(time.Second) // room for 2n creates on a slow machine
		for range n {
			create("carol", exp)
			create("dave", exp)
		}
		if got, _ := c.ZCard(ctx, st.indexKey("carol")).Result(); got != n+1 {
			t.Fatalf("carol's index holds %d entries, want %d", got, n+1)
		}
		time.Sleep(time.Until(exp) + 500*time.Millisecond)
		if hs := listHandles(t, st, "carol"); !slices.Equal(hs, []string{sess.HashID(long)}) {
			t.Errorf("carol's list after expiry = %v, want only the long-lived record", hs)
		}
		members, err := c.ZRange(ctx, st.indexKey("carol"), 0, -1).Result()
		if err != nil || !slices.Equal(members, []string{sess.HashID(long)}) {
			t.Errorf("carol's index after a listing = %v, %v; want only the live record's entry", members, err)
		}
		// dave was never listed: his index expired with his last record.
		if exists("dave") {
			t.Errorf("dave's index outlived all of his records")
		}
		if hs := listHandles(t, st, "dave"); len(hs) != 0 {
			t.Errorf("dave's list = %v, want none", hs)
		}
	})

	t.Run("MovedIsNeverRevokedByTheFormerPrincipal", func(t *testing.T) {
		id := create("frank", hour)
		grace := "grace"
		if err := st.Update(ctx, id, sess.Patch{Principal: &grace, Expires: hour}); err != nil {
			t.Fatal(err)
		}
		if score("grace", id) != hour.UnixMilli() {
			t.Errorf("the moved record is not in its new principal's index at its expiry")
		}
		// Its entry in frank's index stays until its score passes (see
		// the package doc), but counts for nothing there.
		if hs := listHandles(t, st, "frank"); len(hs) != 0 {
			t.Errorf("frank's list after the move = %v, want none", hs)
		}
		if n, err := st.DeletePrincipal(ctx, "frank", nil); err != nil || n != 0 {
			t.Errorf("DeletePrincipal of the former principal = %d, %v; want 0", n, err)
		}
		if rec, err := st.Get(ctx, id); err != nil || rec.Principal != "grace" {
			t.Errorf("the moved record after its former principal's revocation: principal %q, %v; want live, bound to grace", rec.Principal, err)
		}
		if n, err := st.DeletePrincipal(ctx, "grace", nil); err != nil || n != 1 {
			t.Errorf("DeletePrincipal of the new principal = %d, %v; want 1", n, err)
		}
	})

	t.Run("ForeignIndexKey", func(t *testing.T) {
		// A key of another type where the index should be: binding fails
		// and leaves no bound record behind.
		if err := c.Set(ctx, st.indexKey("eve"), "x", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		id := newID()
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Expires: hour, Principal: "eve"}); err == nil {
			t.Errorf("Create bound to a principal whose index cannot be written: nil, want an error")
		}
		if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Get after the failed Create: %v, want ErrNotFound (a bound record the index misses)", err)
		}
		free := create("", hour)
		eve := "eve"
		if err := st.Update(ctx, free, sess.Patch{Principal: &eve, Expires: hour}); err == nil {
			t.Errorf("Update binding to a principal whose index cannot be written: nil, want an error")
		}
		rec, err := st.Get(ctx, free)
		if err != nil || rec.Principal != "" || rec.Version != 1 {
			t.Errorf("record after the failed binding = principal %q, version %d, %v; want unchanged and unbound", rec.Principal, rec.Version, err)
		}
		if err := c.Del(ctx, st.indexKey("eve")).Err(); err != nil {
			t.Fatal(err)
		}
	})
}

// listHandles returns the sorted handles ListPrincipal reports.
func listHandles(t *testing.T, st *Store, principal string) []string {
	t.Helper()
	recs, err := st.ListPrincipal(context.Background(), principal)
	if err != nil {
		t.Fatalf("ListPrincipal: %v", err)
	}
	var hs []string
	for _, r := range recs {
		hs = append(hs, r.Handle)
	}
	slices.Sort(hs)
	return hs
}

// TestIndexScriptFlush runs the pipelined index paths (a bound Create,
// DeletePrincipal) on a server whose script cache was just flushed, as
// after a restart: the scripts that met NOSCRIPT run again with EVAL.
func TestIndexScriptFlush(t *testing.T) {
	r := startOwnedRedis(t)
	c := newClient(t, &redis.Options{Addr: r.Addr, ContextTimeoutEnabled: true})
	hook := &countingHook{}
	c.AddHook(hook)
	st := New(c, Config{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	var ids []string
	for range 2 {
		if err := c.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		hook.take()
		id := randomHex(16)
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Expires: exp, Principal: "alice"}); err != nil {
			t.Fatalf("bound Create after SCRIPT FLUSH: %v", err)
		}
		if got, want := hook.take(), []string{"pipeline[evalsha evalsha]", "pipeline[eval eval]"}; !slices.Equal(got, want) {
			t.Errorf("bound Create after SCRIPT FLUSH sent %v, want %v", got, want)
		}
		ids = append(ids, id)
	}
	want := []string{sess.HashID(ids[0]), sess.HashID(ids[1])}
	slices.Sort(want)
	if hs := listHandles(t, st, "alice"); !slices.Equal(hs, want) {
		t.Errorf("listed %v, want %v", hs, want)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := st.DeletePrincipal(ctx, "alice", nil); err != nil || n != 2 {
		t.Errorf("DeletePrincipal after SCRIPT FLUSH = %d, %v; want 2", n, err)
	}
	for _, id := range ids {
		if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Get after DeletePrincipal: %v, want ErrNotFound", err)
		}
	}
}
