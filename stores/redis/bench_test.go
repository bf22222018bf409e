package redisstore

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

// watchCAS is CompareAndSwap done with WATCH/MULTI/EXEC instead of the
// Lua script, kept only to measure the choice (BenchmarkCAS).
func (s *Store) watchCAS(ctx context.Context, id string, old uint64, rec sess.Record) error {
	key := s.key(id)
	now := time.Now().UnixMilli()
	exp := rec.Expires.UnixMilli()
	var result error
	err := s.client.Watch(ctx, func(tx *redis.Tx) error {
		vals, err := tx.HMGet(ctx, key, "v", "e").Result()
		if err != nil {
			return err
		}
		e, _ := vals[1].(string)
		en, perr := strconv.ParseInt(e, 10, 64)
		live := vals[0] != nil && perr == nil && en > now
		switch {
		case old == 0 && live:
			result = sess.ErrConflict
			return nil
		case old > 0 && !live:
			result = sess.ErrNotFound
			return nil
		case old > 0 && vals[0] != strconv.FormatUint(old, 10):
			result = sess.ErrConflict
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if exp <= now {
				p.Del(ctx, key)
				return nil
			}
			p.HSet(ctx, key, "v", old+1, "d", rec.Data, "e", exp)
			p.PExpireAt(ctx, key, time.UnixMilli(exp))
			return nil
		})
		return err
	}, key)
	if errors.Is(err, redis.TxFailedErr) {
		return sess.ErrConflict
	}
	if err != nil {
		return wrap("compare-and-swap", err)
	}
	return result
}

// BenchmarkCAS compares the Lua script CompareAndSwap uses with
// WATCH/MULTI/EXEC: "sequential" writes one record from one goroutine,
// "contended" has every goroutine increment one shared record with
// Get + CompareAndSwap until it succeeds (ns/op is per successful update).
func BenchmarkCAS(b *testing.B) {
	requireRedis(b)
	c := newClient(b, &redis.Options{PoolSize: 64})
	hook := &countingHook{}
	c.AddHook(hook)
	st := newTestStore(b, c)
	impls := []struct {
		name string
		cas  func(context.Context, string, uint64, sess.Record) error
	}{
		{"lua", st.CompareAndSwap},
		{"watch", st.watchCAS},
	}
	data := make([]byte, 512)
	ctx := context.Background()
	for _, impl := range impls {
		b.Run(impl.name+"/sequential", func(b *testing.B) {
			id := randomHex(16)
			exp := time.Now().Add(time.Hour)
			if err := impl.cas(ctx, id, 0, sess.Record{Data: data, Version: 1, Expires: exp}); err != nil {
				b.Fatal(err)
			}
			v := uint64(1)
			hook.take()
			for b.Loop() {
				if err := impl.cas(ctx, id, v, sess.Record{Data: data, Version: v + 1, Expires: exp}); err != nil {
					b.Fatal(err)
				}
				v++
			}
			b.ReportMetric(float64(len(hook.take()))/float64(b.N), "cmds/op")
		})
		b.Run(impl.name+"/contended", func(b *testing.B) {
			id := randomHex(16)
			exp := time.Now().Add(time.Hour)
			if err := impl.cas(ctx, id, 0, sess.Record{Data: data, Version: 1, Expires: exp}); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(4)
			hook.take()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					for {
						rec, err := st.Get(ctx, id)
						if err != nil {
							b.Error(err)
							return
						}
						err = impl.cas(ctx, id, rec.Version, sess.Record{Data: data, Version: rec.Version + 1, Expires: exp})
						if err == nil {
							break
						}
						if !errors.Is(err, sess.ErrConflict) {
							b.Error(err)
							return
						}
					}
				}
			})
			b.ReportMetric(float64(len(hook.take()))/float64(b.N), "cmds/op")
		})
	}
}

// BenchmarkGet measures the one HMGET a reading request costs.
func BenchmarkGet(b *testing.B) {
	requireRedis(b)
	st := newTestStore(b, newClient(b, nil))
	ctx := context.Background()
	id := randomHex(16)
	if err := st.CompareAndSwap(ctx, id, 0, sess.Record{Data: make([]byte, 512), Version: 1, Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := st.Get(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
