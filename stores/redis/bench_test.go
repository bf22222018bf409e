package redisstore

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

// BenchmarkUpdate measures the script that applies a commit's patch:
// "sequential" patches one record from one goroutine, "contended" has
// every goroutine patch its own key of one shared record.
func BenchmarkUpdate(b *testing.B) {
	requireRedis(b)
	c := newClient(b, &redis.Options{PoolSize: 64})
	hook := &countingHook{}
	c.AddHook(hook)
	st := newTestStore(b, c)
	value := make([]byte, 64)
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		id := randomHex(16)
		exp := time.Now().Add(time.Hour)
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: sess.AppendEntry(nil, "k", make([]byte, 512)), Expires: exp}); err != nil {
			b.Fatal(err)
		}
		hook.take()
		for b.Loop() {
			if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: "n", Value: value}}, Expires: exp, MaxSize: 64 << 10}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(hook.take()))/float64(b.N), "cmds/op")
	})
	b.Run("contended", func(b *testing.B) {
		id := randomHex(16)
		exp := time.Now().Add(time.Hour)
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: sess.AppendEntry(nil, "k", make([]byte, 512)), Expires: exp}); err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(4)
		var n atomic.Int64
		hook.take()
		b.RunParallel(func(pb *testing.PB) {
			key := strconv.FormatInt(n.Add(1), 10)
			for pb.Next() {
				if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: key, Value: value}}, Expires: exp, MaxSize: 64 << 10}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(len(hook.take()))/float64(b.N), "cmds/op")
	})
}

// BenchmarkGet measures the one HMGET a reading request costs.
func BenchmarkGet(b *testing.B) {
	requireRedis(b)
	st := newTestStore(b, newClient(b, nil))
	ctx := context.Background()
	id := randomHex(16)
	if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: sess.AppendEntry(nil, "k", make([]byte, 512)), Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := st.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
