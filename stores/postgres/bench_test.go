package pgstore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/jackc/pgx/v5/pgxpool"
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

// BenchmarkUpdate measures the one statement a modifying request's commit
// costs, on a session of 8 entries: "sequential" sets one key from one
// goroutine; "contended" has every goroutine set its own keys on one
// shared session, as concurrent requests of one browser do (they queue on
// the row lock; none is ever refused). Each Update is a commit, so the
// figure includes the server's WAL flush (synchronous_commit).
func BenchmarkUpdate(b *testing.B) {
	requirePostgres(b)
	pool, tr := tracedPool(b, func(c *pgxpool.Config) { c.MaxConns = 8 })
	st := newTestStore(b, pool, Config{SweepInterval: -1})
	tr.name = opNames(st)
	ctx := context.Background()
	val := make([]byte, 64)
	b.Run("sequential", func(b *testing.B) {
		id := benchRecord(b, st, 8)
		exp := time.Now().Add(time.Hour)
		tr.take()
		for b.Loop() {
			if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: "key1", Value: val}}, Expires: exp, MaxSize: 1 << 20}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(tr.take()))/float64(b.N), "roundtrips/op")
	})
	b.Run("contended", func(b *testing.B) {
		id := benchRecord(b, st, 8)
		exp := time.Now().Add(time.Hour)
		var g atomic.Int64
		b.SetParallelism(4)
		tr.take()
		b.RunParallel(func(pb *testing.PB) {
			key := fmt.Sprintf("writer%d", g.Add(1))
			for pb.Next() {
				if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: key, Value: val}}, Expires: exp, MaxSize: 1 << 20}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(len(tr.take()))/float64(b.N), "roundtrips/op")
	})
}

// BenchmarkGet measures the one SELECT a reading request costs, on a
// session of 8 entries.
func BenchmarkGet(b *testing.B) {
	requirePostgres(b)
	st := newTestStore(b, newPool(b, "", nil), Config{SweepInterval: -1})
	id := benchRecord(b, st, 8)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
