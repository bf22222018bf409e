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
//   - A commit's Patch is applied atomically on the server (one Lua script
//     merges it into the stored entries), so instances writing different
//     keys of one session never conflict and never lose each other's
//     changes.
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
// Each session is one Redis hash with four fields: v (version, decimal), m
// (the record's Meta), d (its Entries, in the entry encoding) and e (the
// expiry, Unix milliseconds).
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
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "sess:"

// Config configures a Store. The zero value means the documented defaults.
type Config struct {
	// Prefix is prepended to every key. Use distinct prefixes for
	// applications that share a Redis database. In Redis Cluster every
	// session is a single key, so any prefix works. Default: "sess:".
	Prefix string
}

// Store is a sess.Store on Redis. It is safe for concurrent use. Create it
// with New.
type Store struct {
	client redis.UniversalClient
	prefix string
}

var _ sess.Store = (*Store)(nil)

// New returns a Store that keeps sessions through client under cfg.Prefix.
// It does no I/O. The client stays the caller's: the Store never closes
// it. New panics if client is nil.
func New(client redis.UniversalClient, cfg Config) *Store {
	if client == nil {
		panic("redisstore: New called with a nil client")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	return &Store{client: client, prefix: cfg.Prefix}
}

// key returns the Redis key of a session: the prefix and a hash of the ID,
// never the ID itself.
func (s *Store) key(id string) string { return s.prefix + sess.HashID(id) }

// Result codes of the scripts.
const (
	resOK       = 0
	resConflict = 1
	resNotFound = 2
	resTooLarge = 3
)

// Writes are Lua scripts rather than WATCH/MULTI/EXEC: a script is one
// round trip (EVALSHA) on any pooled connection and settles the write on
// the server in one step, so concurrent patches never need a retry. A
// modifying request stays within two round trips (HMGET at load, EVALSHA
// at commit).
//
// Versions are compared as strings: the store writes them in canonical
// decimal. A record whose e is not after now counts as gone even if Redis
// has not expired it yet (clock skew between the application and Redis).
// A write whose expiry is not after now deletes the record; PEXPIREAT with
// a past deadline would delete it too, so no key is ever left without an
// expiry.

// createScript stores a new record unless a live one holds the key.
// KEYS[1]: the session key. ARGV: meta, entries, expiry (Unix ms), now
// (Unix ms).
var createScript = redis.NewScript(`
local k = KEYS[1]
local e = redis.call('HGET', k, 'e')
if e and tonumber(e) and tonumber(e) > tonumber(ARGV[4]) then return 1 end
if tonumber(ARGV[3]) <= tonumber(ARGV[4]) then
	redis.call('DEL', k)
	return 0
end
redis.call('DEL', k)
redis.call('HSET', k, 'v', '1', 'm', ARGV[1], 'd', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIREAT', k, ARGV[3])
return 0
`)

// patchScript applies a sess.Patch to a live record. It walks the stored
// entries (uvarint key length, key, uvarint value length, value), keeps
// those whose key the patch neither sets nor deletes, and appends the
// patch's entries, encoded by the client. KEYS[1]: the session key. ARGV:
// now, expiry (both Unix ms), IfVersion ("0": none), clear ("1"), has meta
// ("1"), meta, encoded Set entries, MaxSize ("0": none), then every key the
// patch sets or deletes.
var patchScript = redis.NewScript(`
local k = KEYS[1]
local now = tonumber(ARGV[1])
local cur = redis.call('HMGET', k, 'v', 'm', 'd', 'e')
if not (cur[1] and cur[2] and cur[3] and cur[4] and tonumber(cur[4]) and tonumber(cur[4]) > now) then return 2 end
if ARGV[3] ~= '0' and cur[1] ~= ARGV[3] then return 1 end
if tonumber(ARGV[2]) <= now then
	redis.call('DEL', k)
	return 0
end
local out = {}
if ARGV[4] ~= '1' then
	local drop = {}
	for i = 9, #ARGV do drop[ARGV[i]] = true end
	local d = cur[3]
	local pos, n = 1, #d
	local function uvarint()
		local x, mul = 0, 1
		while true do
			local b = string.byte(d, pos)
			if not b then return error('sess: malformed stored entries') end
			pos = pos + 1
			x = x + (b % 128) * mul
			if b < 128 then return x end
			mul = mul * 128
		end
	end
	while pos <= n do
		local start = pos
		local kl = uvarint()
		local key = string.sub(d, pos, pos + kl - 1)
		pos = pos + kl
		pos = pos + uvarint()
		if pos > n + 1 then return error('sess: malformed stored entries') end
		if not drop[key] then out[#out + 1] = string.sub(d, start, pos - 1) end
	end
end
out[#out + 1] = ARGV[7]
local data = table.concat(out)
local meta = cur[2]
if ARGV[5] == '1' then meta = ARGV[6] end
local max = tonumber(ARGV[8])
if max > 0 and #meta + #data > max then return 3 end
redis.call('HSET', k, 'v', tostring(tonumber(cur[1]) + 1), 'm', meta, 'd', data, 'e', ARGV[2])
redis.call('PEXPIREAT', k, ARGV[2])
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
	vals, err := s.client.HMGet(ctx, s.key(id), "v", "m", "d", "e").Result()
	if err != nil {
		return sess.Record{}, wrap("get", err)
	}
	if len(vals) != 4 || vals[0] == nil {
		return sess.Record{}, sess.ErrNotFound
	}
	vs, ok1 := vals[0].(string)
	ms, ok2 := vals[1].(string)
	ds, ok3 := vals[2].(string)
	es, ok4 := vals[3].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 {
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
	// One allocation for both; the conversion copies, so the record shares
	// no memory with the client's buffers.
	buf := make([]byte, 0, len(ms)+len(ds))
	buf = append(append(buf, ms...), ds...)
	return sess.Record{Meta: buf[:len(ms):len(ms)], Entries: buf[len(ms):], Version: v, Expires: time.UnixMilli(e)}, nil
}

// Create implements sess.Store with one script run (EVALSHA).
func (s *Store) Create(ctx context.Context, id string, rec sess.Record) error {
	now := time.Now().UnixMilli()
	exp := rec.Expires.UnixMilli()
	if exp <= now {
		exp = now // the script deletes instead of storing
	}
	// go-redis writes the arguments to the connection before Run returns
	// and keeps no reference to them, so the caller may reuse the slices.
	res, err := createScript.Run(ctx, s.client, []string{s.key(id)}, rec.Meta, rec.Entries, exp, now).Int()
	if err != nil {
		return wrap("create", err)
	}
	return result("create", res)
}

// Update implements sess.Store with one script run (EVALSHA) that applies
// the patch on the server.
func (s *Store) Update(ctx context.Context, id string, p sess.Patch) error {
	now := time.Now().UnixMilli()
	exp := p.Expires.UnixMilli()
	if p.Expires.IsZero() || exp <= now {
		exp = now // the script deletes instead of storing
	}
	// Set entries encoded once, a repeated key counting once (the later).
	set, err := sess.ApplyPatch(nil, nil, &sess.Patch{Clear: true, Set: p.Set})
	if err != nil {
		return fmt.Errorf("redisstore: update: %w", err)
	}
	clear, hasMeta := "0", "0"
	if p.Clear {
		clear = "1"
	}
	if p.Meta != nil {
		hasMeta = "1"
	}
	args := make([]any, 0, 8+len(p.Set)+len(p.Delete))
	args = append(args, now, exp, strconv.FormatUint(p.IfVersion, 10), clear, hasMeta, p.Meta, set, p.MaxSize)
	for _, e := range p.Set {
		args = append(args, e.Key)
	}
	for _, k := range p.Delete {
		args = append(args, k)
	}
	res, err := patchScript.Run(ctx, s.client, []string{s.key(id)}, args...).Int()
	if err != nil {
		return wrap("update", err)
	}
	return result("update", res)
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
	res, err := touchScript.Run(ctx, s.client, []string{s.key(id)}, exp, now).Int()
	if err != nil {
		return wrap("touch", err)
	}
	return result("touch", res)
}

// Delete implements sess.Store with one DEL. Deleting a missing record is
// not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if err := s.client.Del(ctx, s.key(id)).Err(); err != nil {
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
	case resTooLarge:
		return fmt.Errorf("redisstore: %s: %w", op, sess.ErrTooLarge)
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
