// Package redisstore keeps sess sessions in Redis, so that several
// instances of an application (behind a load balancer, or fiber with
// Prefork) share them.
//
// Pass the go-redis client you already have (standalone, Sentinel or
// Cluster) to New and the store to sess.Config:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	m, err := sess.New(sess.Config{
//		Secret: secret,
//		Store:  redisstore.New(rdb, redisstore.Config{}),
//	})
//
// The store does not own the client: close it yourself when the
// application stops.
//
// # What the store guarantees
//
//   - Compare-and-swap runs atomically on the server (one Lua script), so
//     two instances writing the same session never lose each other's
//     changes: the Manager merges per key on a version conflict.
//   - Every write sets the value and its expiry in the same script, with
//     the absolute deadline in milliseconds (PEXPIREAT). A write whose
//     deadline has passed deletes the record; no key is ever stored without
//     an expiry.
//   - Keys are Config.Prefix followed by sess.HashID(id), a SHA-256 of the
//     session ID: a dump of the database holds no usable session IDs.
//   - A request that only reads its session costs one round trip (HMGET);
//     one that changes it costs two (HMGET, then EVALSHA). A reading
//     request that moves the idle deadline by at least 1% of IdleTimeout
//     adds one EVALSHA (the Manager's Touch, which rewrites no data). The
//     first use of a script on a Redis server that has not cached it yet
//     (after a restart or SCRIPT FLUSH) costs one more round trip, as
//     go-redis falls back from EVALSHA to EVAL.
//   - Every call honours its context, which the Manager bounds with
//     Config.StoreTimeout. While Redis is unreachable calls fail, the
//     Manager answers 503 and keeps the client's cookie; once Redis answers
//     again the store works again without a restart.
//
// Each session is one Redis hash with three fields: v (version, decimal),
// d (the encoded session, opaque bytes) and e (the expiry, Unix
// milliseconds).
//
// Do not route reads to replicas (the ReadOnly, RouteByLatency or
// RouteRandomly cluster options): a replica that lags behind its primary
// can miss a session created a moment ago.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "sess:"

// DefaultMaxAbandoned is the default of Config.MaxAbandoned.
const DefaultMaxAbandoned = 1000

// ErrOverloaded is returned, wrapped, by a call that the Store refused
// without sending it because Config.MaxAbandoned earlier calls are still
// waiting on Redis after their callers gave up. It only happens with a
// client that does not apply context deadlines itself (see New), typically
// while Redis hangs. The Manager answers such a request with 503, as for
// any other store failure.
var ErrOverloaded = errors.New("redisstore: too many abandoned calls still waiting on Redis")

// Config configures a Store. The zero value means the documented defaults.
type Config struct {
	// Prefix is prepended to every key. Use distinct prefixes for
	// applications that share a Redis database. In Redis Cluster every
	// session is a single key, so any prefix works. Default: "sess:".
	Prefix string

	// MaxAbandoned bounds the calls that may still be running on a client
	// that ignores context deadlines after their callers returned at the
	// deadline (see New). While that many are pending, further calls fail
	// at once with ErrOverloaded. It does not apply to a client that
	// applies context deadlines itself. Default: DefaultMaxAbandoned.
	MaxAbandoned int
}

// Store is a sess.Store on Redis. It is safe for concurrent use. Create it
// with New.
type Store struct {
	client redis.UniversalClient
	prefix string
	// direct is set when the client applies context deadlines to every
	// step of a command itself, so calls need no guard (see honoursContext).
	direct       bool
	maxAbandoned int64
	abandoned    atomic.Int64 // guarded calls still running after their caller left
}

var _ sess.Store = (*Store)(nil)

// New returns a Store that keeps sessions through client under cfg.Prefix.
// It does no I/O. The client stays the caller's: the Store never closes
// it. New panics if client is nil.
//
// Every call returns by the deadline of its context (the Manager's
// Config.StoreTimeout), whatever the client's options. go-redis applies
// context deadlines to its network I/O only when ContextTimeoutEnabled is
// set; otherwise a command to a Redis that hangs blocks for the client's
// ReadTimeout (5 s by default) and its retries. A *redis.Client (standalone
// or Sentinel failover) with ContextTimeoutEnabled and no negative
// ReadTimeout or WriteTimeout is called directly. Any other client (one
// without ContextTimeoutEnabled, a *redis.ClusterClient, a *redis.Ring, a
// wrapper) is called from a goroutine the caller stops waiting for at the
// deadline; the abandoned command finishes or times out on its own, and at
// most Config.MaxAbandoned such commands may be pending at once. Set
// ContextTimeoutEnabled on every client: abandoned commands then end at
// their deadline instead of holding a connection for ReadTimeout.
func New(client redis.UniversalClient, cfg Config) *Store {
	if client == nil {
		panic("redisstore: New called with a nil client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.MaxAbandoned <= 0 {
		cfg.MaxAbandoned = DefaultMaxAbandoned
	}
	return &Store{client: client, prefix: cfg.Prefix, direct: honoursContext(client), maxAbandoned: int64(cfg.MaxAbandoned)}
}

// honoursContext reports whether every step of a command on c (waiting for
// a pooled connection, dialling, writing, reading, backing off between
// retries) ends at the context's deadline. For *redis.Client that holds with
// ContextTimeoutEnabled, unless a negative timeout (-2) turns socket
// deadlines off altogether. Cluster and Ring clients also do work under
// contexts of their own (topology reloads, command metadata), so they are
// not trusted.
func honoursContext(c redis.UniversalClient) bool {
	rc, ok := c.(*redis.Client)
	if !ok {
		return false
	}
	o := rc.Options()
	return o.ContextTimeoutEnabled && o.ReadTimeout >= 0 && o.WriteTimeout >= 0
}

// call runs op on the client so that it returns by the time ctx is done.
// With a client that honours contexts it is a plain call. Otherwise op runs
// in a goroutine; if ctx ends first, call returns ctx's error and op is
// left to finish on its own, counted in s.abandoned. op must not refer to
// memory the caller may reuse after call returns.
func call[T any](s *Store, ctx context.Context, op func(context.Context) (T, error)) (T, error) {
	if s.direct {
		return op(ctx)
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if s.abandoned.Load() >= s.maxAbandoned {
		return zero, ErrOverloaded
	}
	type result struct {
		v   T
		err error
	}
	// state: 0 running, 1 answered, 2 abandoned by the caller.
	var state atomic.Int32
	done := make(chan result, 1)
	go func() {
		v, err := op(ctx)
		done <- result{v, err}
		if !state.CompareAndSwap(0, 1) {
			s.abandoned.Add(-1)
		}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		if state.CompareAndSwap(0, 2) {
			s.abandoned.Add(1)
			return zero, ctx.Err()
		}
		r := <-done // op finished meanwhile
		return r.v, r.err
	}
}

// key returns the Redis key of a session: the prefix and a hash of the ID,
// never the ID itself.
func (s *Store) key(id string) string { return s.prefix + sess.HashID(id) }

// Result codes of the scripts.
const (
	resOK       = 0
	resConflict = 1
	resNotFound = 2
)

// Compare-and-swap is one Lua script rather than WATCH/MULTI/EXEC. The
// script is one round trip (EVALSHA) on any pooled connection and settles
// each attempt on the server in one step. WATCH pins a connection and
// costs three round trips (WATCH, HMGET, MULTI..EXEC pipelined), and a
// losing EXEC repeats all three. Measured with BenchmarkCAS against a
// local Redis (2 cores, 512-byte records): about 48µs per write for the
// script against 120µs for WATCH, and about 250µs against 630µs per
// successful update with 8 goroutines contending for one record. Network
// latency widens the gap, as it multiplies the round trips. The script
// also keeps a modifying request within two round trips (HMGET at load,
// EVALSHA at commit).
//
// Versions are compared as strings: the store writes them in canonical
// decimal, and Lua numbers (doubles) would lose precision above 2^53.
//
// KEYS[1]: the session key. ARGV: old version, new version, data, expiry
// (Unix ms), now (Unix ms). A record whose e is not after now counts as
// gone even if Redis has not expired it yet (clock skew between the
// application and Redis). A write whose expiry is not after now deletes
// the record; PEXPIREAT with a past deadline would delete it too, so no
// key is ever left without an expiry.
var casScript = redis.NewScript(`
local k = KEYS[1]
local cur = redis.call('HMGET', k, 'v', 'e')
local live = cur[1] and cur[2] and tonumber(cur[2]) and tonumber(cur[2]) > tonumber(ARGV[5])
if ARGV[1] == '0' then
	if live then return 1 end
else
	if not live then return 2 end
	if cur[1] ~= ARGV[1] then return 1 end
end
if tonumber(ARGV[4]) <= tonumber(ARGV[5]) then
	redis.call('DEL', k)
	return 0
end
redis.call('HSET', k, 'v', ARGV[2], 'd', ARGV[3], 'e', ARGV[4])
redis.call('PEXPIREAT', k, ARGV[4])
return 0
`)

// touchScript moves the expiry of a live record. KEYS[1]: the session key.
// ARGV: new expiry (Unix ms), now (Unix ms).
var touchScript = redis.NewScript(`
local k = KEYS[1]
local e = redis.call('HGET', k, 'e')
if not e or not tonumber(e) or tonumber(e) <= tonumber(ARGV[2]) then return 2 end
if tonumber(ARGV[1]) <= tonumber(ARGV[2]) then
	redis.call('DEL', k)
	return 0
end
redis.call('HSET', k, 'e', ARGV[1])
redis.call('PEXPIREAT', k, ARGV[1])
return 0
`)

// Get implements sess.Store with one HMGET. A missing, expired or
// malformed record gives an error wrapping sess.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (sess.Record, error) {
	key := s.key(id)
	vals, err := call(s, ctx, func(ctx context.Context) ([]any, error) {
		return s.client.HMGet(ctx, key, "v", "d", "e").Result()
	})
	if err != nil {
		return sess.Record{}, wrap("get", err)
	}
	if len(vals) != 3 || vals[0] == nil {
		return sess.Record{}, sess.ErrNotFound
	}
	vs, ok1 := vals[0].(string)
	ds, ok2 := vals[1].(string)
	es, ok3 := vals[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return sess.Record{}, fmt.Errorf("redisstore: get: malformed record: %w", sess.ErrNotFound)
	}
	v, err1 := strconv.ParseUint(vs, 10, 64)
	e, err2 := strconv.ParseInt(es, 10, 64)
	if err1 != nil || err2 != nil || v == 0 {
		return sess.Record{}, fmt.Errorf("redisstore: get: malformed record: %w", sess.ErrNotFound)
	}
	if e <= time.Now().UnixMilli() {
		return sess.Record{}, sess.ErrNotFound
	}
	// The string conversion copies: the record shares no memory with the
	// client's buffers.
	return sess.Record{Data: []byte(ds), Version: v, Expires: time.UnixMilli(e)}, nil
}

// CompareAndSwap implements sess.Store with one script run (EVALSHA).
func (s *Store) CompareAndSwap(ctx context.Context, id string, old uint64, rec sess.Record) error {
	now := time.Now().UnixMilli()
	exp := rec.Expires.UnixMilli()
	if exp <= now {
		exp = now // the script deletes instead of storing
	}
	// go-redis writes a []byte to the connection before Run returns and
	// keeps no reference to it, so a direct call may pass rec.Data as is. A
	// guarded call may outlive CompareAndSwap: it gets a copy.
	var data any = rec.Data
	if !s.direct {
		data = string(rec.Data)
	}
	keys := []string{s.key(id)}
	res, err := call(s, ctx, func(ctx context.Context) (int, error) {
		return casScript.Run(ctx, s.client, keys,
			strconv.FormatUint(old, 10), strconv.FormatUint(old+1, 10), data, exp, now).Int()
	})
	if err != nil {
		return wrap("compare-and-swap", err)
	}
	return result("compare-and-swap", res)
}

// Touch implements sess.Store with one script run (EVALSHA): it moves the
// expiry of a live record without rewriting its data. An expiry that is not
// in the future deletes the record.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	now := time.Now().UnixMilli()
	exp := expires.UnixMilli()
	if exp <= now {
		exp = now
	}
	keys := []string{s.key(id)}
	res, err := call(s, ctx, func(ctx context.Context) (int, error) {
		return touchScript.Run(ctx, s.client, keys, exp, now).Int()
	})
	if err != nil {
		return wrap("touch", err)
	}
	return result("touch", res)
}

// Delete implements sess.Store with one DEL. Deleting a missing record is
// not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	key := s.key(id)
	if _, err := call(s, ctx, func(ctx context.Context) (int64, error) {
		return s.client.Del(ctx, key).Result()
	}); err != nil {
		return wrap("delete", err)
	}
	return nil
}

func result(op string, res int) error {
	switch res {
	case resOK:
		return nil
	case resConflict:
		return sess.ErrConflict
	case resNotFound:
		return sess.ErrNotFound
	}
	return fmt.Errorf("redisstore: %s: unexpected script result %d", op, res)
}

// wrap adds context to a go-redis error; redis.Nil becomes sess.ErrNotFound.
func wrap(op string, err error) error {
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: %s: %w", op, sess.ErrNotFound)
	}
	return fmt.Errorf("redisstore: %s: %w", op, err)
}
