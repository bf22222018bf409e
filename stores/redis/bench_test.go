package redisstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

// benchRecord creates a session of n 64-byte entries and returns its ID.
func benchRecord(b *testing.B, st *Store, n int) string {
	b.Helper()
	var entries []byte
	for i := range n {
		entries = sess.AppendEntry(entries, fmt.Sprintf("key%d", i), make([]byte, 64))
	}
	id := randomHex(16)
	if err := st.Create(context.Background(), id, sess.Record{Meta: []byte("meta"), Entries: entries, Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	return id
}

// BenchmarkUpdate measures the one EVALSHA a modifying request's commit
// costs: "sequential" sets one key from one goroutine; "contended" has
// every goroutine set its own keys on one shared session, as concurrent
// requests of one browser do (none of them is ever refused).
func BenchmarkUpdate(b *testing.B) {
	requireRedis(b)
	c := newClient(b, &redis.Options{PoolSize: 64, ContextTimeoutEnabled: true})
	hook := &countingHook{}
	c.AddHook(hook)
	st := newTestStore(b, c)
	ctx := context.Background()
	val := make([]byte, 64)
	b.Run("sequential", func(b *testing.B) {
		id := benchRecord(b, st, 8)
		exp := time.Now().Add(time.Hour)
		hook.take()
		for b.Loop() {
			if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: "key1", Value: val}}, Expires: exp, MaxSize: 1 << 20}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(hook.take()))/float64(b.N), "cmds/op")
	})
	b.Run("contended", func(b *testing.B) {
		id := benchRecord(b, st, 8)
		exp := time.Now().Add(time.Hour)
		var g atomic.Int64
		b.SetParallelism(4)
		hook.take()
		b.RunParallel(func(pb *testing.PB) {
			key := fmt.Sprintf("writer%d", g.Add(1))
			for pb.Next() {
				if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: key, Value: val}}, Expires: exp, MaxSize: 1 << 20}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(len(hook.take()))/float64(b.N), "cmds/op")
	})
}

// BenchmarkGet measures the one HGETALL a reading request costs, on a
// session of 8 entries, with a client the store calls directly
// (ContextTimeoutEnabled) and with one it guards (go-redis's default
// options): the difference is the cost of the guard.
func BenchmarkGet(b *testing.B) {
	requireRedis(b)
	for _, kind := range []struct {
		name string
		opts *redis.Options
	}{
		{"direct", &redis.Options{ContextTimeoutEnabled: true}},
		{"guarded", &redis.Options{}},
	} {
		b.Run(kind.name, func(b *testing.B) {
			st := newTestStore(b, newClient(b, kind.opts))
			if st.direct != (kind.name == "direct") {
				b.Fatalf("direct = %v", st.direct)
			}
			id := benchRecord(b, st, 8)
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.Get(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
