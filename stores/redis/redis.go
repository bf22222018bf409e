// Package redisstore keeps sess sessions in Redis, so that several
// instances of an application (behind a load balancer, or fiber with
// Prefork) share them.
//
// Pass the go-redis client you already have (standalone, Sentinel or
// Cluster) to New and the store to sess.Config:
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:                  "127.0.0.1:6379",
//		ContextTimeoutEnabled: true, // end each command at the Manager's StoreTimeout
//	})
//	m, err := sess.New(sess.Config{
//		Secret: secret,
//		Store:  redisstore.New(rdb, redisstore.Config{}),
//	})
//
// The store does not own the client: close it yourself when the
// application stops.
//
// # Layout
//
// Each session is one Redis hash under Config.Prefix + sess.HashID(id), a
// SHA-256 of the session ID, so a dump of the database holds no usable
// session IDs. Each session key is one field, its name the key prefixed
// with "_", its value the key's encoded value. Four reserved fields (names
// without the "_") hold the record's header: v (version, decimal), m (the
// Manager's meta bytes), s (the running size of the entries in the entry
// encoding, for Patch.MaxSize) and x (the expiry, Unix milliseconds); a
// fifth, p, holds the principal of a record bound to one (see below) and
// is absent otherwise. The key itself expires at x (PEXPIREAT, set in the
// same script as every write), so no key is ever stored without an expiry.
//
// # Principal index
//
// The Store implements sess.PrincipalIndex, so the Manager can list and
// revoke a user's sessions (Manager.Sessions, Manager.RevokeAll). Each
// principal has a sorted set under Config.Prefix + "p:" +
// sess.HashID(principal) whose members are the handles of the sessions
// bound to it (sess.HashID of the session ID: the part of the session's
// key after the prefix), each scored with the session's expiry in Unix
// milliseconds. Writes of a bound session raise its score (ZADD GT) to the
// new expiry; the index key expires at its highest score, so an index
// vanishes with its last session, and expired members are pruned by score
// (on the Redis clock) whenever the index is written or read. Deleting a
// bound session (Delete, an Update or Touch that deletes, DeleteHandle,
// DeletePrincipal) removes its member right after. A session unbound or
// moved to another principal stays a member of its former principal's
// index until its score passes, but is never listed or revoked there:
// listings read every member's record and keep only live ones still bound
// to the principal.
//
// On a Redis Cluster a session's key and its principal's index are in
// different hash slots, and no script touches both: the store runs one
// script on each key, on one server as on a Cluster. It never removes a
// member from an index except once its score has passed or after deleting
// the session itself, so a session bound while DeletePrincipal runs is
// either deleted by it or listed afterwards, never live and unlisted.
//
// # What the store guarantees
//
//   - Create and Update each run as one Lua script on the server, which
//     touches the session's single key only (Redis Cluster never sees a
//     cross-slot command; the principal index has scripts of its own).
//     Update applies the whole patch (clear, deletes, sets, meta, expiry,
//     version check, size cap) atomically with no
//     read-modify-write round trip from the application, so concurrent
//     requests that set different keys of one session never conflict and
//     all of their changes survive, across any number of instances. Of two
//     requests setting the same key, the one Redis runs last wins.
//   - An Update of a session that is gone fails with sess.ErrNotFound: a
//     destroyed or expired session is never brought back. An Update or
//     Touch whose expiry is not in the future deletes the record.
//   - A request that only reads its session costs one round trip
//     (HGETALL); one that changes it costs two (HGETALL, then EVALSHA); a
//     new session costs one (EVALSHA); destroying one costs two (HGETALL,
//     then EVALSHA of the delete script). A reading request that moves the
//     idle deadline adds one EVALSHA (Touch). A session bound to a
//     principal costs the same to read; a new bound session costs one
//     round trip (its create and index scripts in one pipeline), and every
//     other write of a bound session one more than unbound (the index
//     script or a ZREM). The first use of a script on a Redis server that
//     has not cached it yet (after a restart or SCRIPT FLUSH) costs one
//     more round trip, as go-redis falls back from EVALSHA to EVAL.
//   - Every call returns by the deadline of its context, which the Manager
//     sets from Config.StoreTimeout, whatever the client's options (see
//     New). While Redis is unreachable calls fail and the Manager answers
//     503; once Redis answers again the store works without a restart.
//   - A call that failed (a timeout, a broken connection) may still have
//     been applied by Redis: the command may have reached the server before
//     the failure. A call that returned nil was applied. For a bound
//     session a failed write may have been applied in part: a Create that
//     stored the session but could not index it deletes the session again
//     (best effort; nobody holds its ID yet), and a binding Update indexes
//     before it binds; but an Update or Touch that extended a bound
//     session and then failed to raise its score leaves it listed only
//     until its former expiry, until its next successful write raises the
//     score again.
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
	"strings"
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
	// session, and every principal's index, is a single key, so any prefix
	// works. Default: "sess:".
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

// Field names. An entry's field is entryPrefix + its key; the reserved
// fields have no such prefix, so no session key can collide with them.
const (
	entryPrefix = "_"
	fVersion    = "v"
	fMeta       = "m"
	fSize       = "s"
	fExpires    = "x"
	fPrincipal  = "p"
)

// Result codes of the scripts.
const (
	resOK       = 0
	resConflict = 1
	resNotFound = 2
	resTooLarge = 3
)

// The scripts. Each touches KEYS[1] only, so they run on any Redis Cluster
// node that owns the session's slot. A record whose x is not after now
// (the application's clock, ARGV[1]) counts as gone even if Redis has not
// expired it yet (clock skew between the application and Redis). Expiries
// are Unix milliseconds, well within the integers a Lua number holds
// exactly; versions are kept as decimal strings and incremented with
// HINCRBY, never through a Lua number. Batches of arguments go to HSET and
// HDEL in chunks, as Lua's unpack has a bounded stack.

// createScript stores a new record if no live record holds the key.
// ARGV: now, expiry, meta, entries size, principal ("": unbound), the
// score of the record's index entry (field i: the record's index entry
// needs no raise while its expiry stays at or below it), then field/value
// pairs.
var createScript = redis.NewScript(`
local k = KEYS[1]
local now = tonumber(ARGV[1])
local x = tonumber(redis.call('HGET', k, 'x'))
if x and x > now then return 1 end
redis.call('DEL', k)
if tonumber(ARGV[2]) <= now then return 0 end
redis.call('HSET', k, 'v', '1', 'm', ARGV[3], 's', ARGV[4], 'x', ARGV[2])
if ARGV[5] ~= '' then redis.call('HSET', k, 'p', ARGV[5], 'i', ARGV[6]) end
for i = 7, #ARGV, 1000 do
	redis.call('HSET', k, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('PEXPIREAT', k, ARGV[2])
return 0
`)

// updateScript applies a patch (see sess.Patch for the steps).
// ARGV: now, if-version ("0": any), expiry, clear ("1"/"0"), has-meta
// ("1"/"0"), meta, max size (0: none), number of deletes n, set principal
// ("1"/"0"), the principal ("": unbind), the index score of a binding, the
// n fields to delete, then field/value pairs to set. On success it returns
// {0, the principal} when the caller must update the index of the
// principal the record was bound to (the patch deleted the record, or
// moved its expiry past its index entry's score, which it then records as
// raised), else 0.
var updateScript = redis.NewScript(`
local k = KEYS[1]
local now = tonumber(ARGV[1])
local cur = redis.call('HMGET', k, 'v', 'x', 's', 'p', 'i')
local x = tonumber(cur[2])
if not cur[1] or not x or x <= now then return 2 end
if ARGV[2] ~= '0' and cur[1] ~= ARGV[2] then return 1 end
if tonumber(ARGV[3]) <= now then
	redis.call('DEL', k)
	if cur[4] then return {0, cur[4]} end
	return 0
end
local ok = 0
if cur[4] and ARGV[9] ~= '1' and tonumber(ARGV[3]) > (tonumber(cur[5]) or 0) then
	ok = {0, cur[4]}
	redis.call('HSET', k, 'i', ARGV[3])
end
local clear = ARGV[4] == '1'
local size = 0
if not clear then size = tonumber(cur[3]) or 0 end
local function uvlen(n)
	local c = 1
	while n >= 128 do
		n = math.floor(n / 128)
		c = c + 1
	end
	return c
end
local function esize(f, vl)
	local kl = #f - 1
	return uvlen(kl) + kl + uvlen(vl) + vl
end
-- pending[f]: the size field f will have after the patch (0: absent).
local pending = {}
local function cursize(f)
	local p = pending[f]
	if p ~= nil then return p end
	if clear then return 0 end
	local l = redis.call('HSTRLEN', k, f)
	if l == 0 and redis.call('HEXISTS', k, f) == 0 then return 0 end
	return esize(f, l)
end
local nd = tonumber(ARGV[8])
local sets = 12 + nd
for i = 12, sets - 1 do
	size = size - cursize(ARGV[i])
	pending[ARGV[i]] = 0
end
for i = sets, #ARGV, 2 do
	local f = ARGV[i]
	local es = esize(f, #ARGV[i + 1])
	size = size - cursize(f) + es
	pending[f] = es
end
local mlen
if ARGV[5] == '1' then mlen = #ARGV[6] else mlen = redis.call('HSTRLEN', k, 'm') end
local max = tonumber(ARGV[7])
if max > 0 and size + mlen > max then return 3 end
if clear then
	local m = ARGV[6]
	if ARGV[5] ~= '1' then m = redis.call('HGET', k, 'm') or '' end
	redis.call('DEL', k)
	redis.call('HSET', k, 'v', cur[1], 'm', m)
	if cur[4] then redis.call('HSET', k, 'p', cur[4], 'i', ARGV[3]) end
	if cur[4] and cur[5] and tonumber(cur[5]) > tonumber(ARGV[3]) then redis.call('HSET', k, 'i', cur[5]) end
else
	for i = 12, sets - 1, 1000 do
		redis.call('HDEL', k, unpack(ARGV, i, math.min(i + 999, sets - 1)))
	end
	if ARGV[5] == '1' then redis.call('HSET', k, 'm', ARGV[6]) end
end
for i = sets, #ARGV, 1000 do
	redis.call('HSET', k, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
if ARGV[9] == '1' then
	if ARGV[10] == '' then redis.call('HDEL', k, 'p', 'i') else redis.call('HSET', k, 'p', ARGV[10], 'i', ARGV[11]) end
end
redis.call('HSET', k, 's', string.format('%d', size), 'x', ARGV[3])
redis.call('HINCRBY', k, 'v', 1)
redis.call('PEXPIREAT', k, ARGV[3])
return ok
`)

// touchScript moves the expiry of a live record. ARGV: now, new expiry.
// On success it returns {0, the principal} when the caller must update the
// index of the principal the record is bound to (as updateScript), else 0.
var touchScript = redis.NewScript(`
local k = KEYS[1]
local now = tonumber(ARGV[1])
local cur = redis.call('HMGET', k, 'x', 'p', 'i')
local x = tonumber(cur[1])
if not x or x <= now then return 2 end
if tonumber(ARGV[2]) <= now then
	redis.call('DEL', k)
	if cur[2] then return {0, cur[2]} end
	return 0
end
local ok = 0
if cur[2] and tonumber(ARGV[2]) > (tonumber(cur[3]) or 0) then
	ok = {0, cur[2]}
	redis.call('HSET', k, 'i', ARGV[2])
end
redis.call('HSET', k, 'x', ARGV[2])
redis.call('PEXPIREAT', k, ARGV[2])
return ok
`)

// deleteScript deletes a key of any type and returns the principal the
// record was bound to, or 0 for an unbound, missing or foreign one.
var deleteScript = redis.NewScript(`
local k = KEYS[1]
local p = false
if redis.call('TYPE', k).ok == 'hash' then p = redis.call('HGET', k, 'p') end
redis.call('DEL', k)
if p then return p end
return 0
`)

// Scripts lists every script the store runs, for tests that preload them.
var scripts = []*redis.Script{createScript, updateScript, touchScript, deleteScript, deleteBoundScript, indexAddScript, indexReadScript}

// errMalformed reports a hash under the prefix that the store did not
// write (or that lost fields); it counts as no session.
var errMalformed = fmt.Errorf("redisstore: get: malformed record: %w", sess.ErrNotFound)

// Get implements sess.Store with one HGETALL. A missing, expired or
// malformed record gives an error wrapping sess.ErrNotFound. The record's
// Principal is filled for a bound record.
func (s *Store) Get(ctx context.Context, id string) (sess.Record, error) {
	key := s.key(id)
	h, err := call(s, ctx, func(ctx context.Context) (map[string]string, error) {
		return s.client.HGetAll(ctx, key).Result()
	})
	if err != nil {
		return sess.Record{}, wrap("get", err)
	}
	return parseRecord(h, time.Now().UnixMilli())
}

// parseRecord builds the record an HGETALL returned, or fails with an
// error wrapping sess.ErrNotFound for a missing, malformed or expired one
// (its x not after now, in Unix milliseconds).
func parseRecord(h map[string]string, now int64) (sess.Record, error) {
	if len(h) == 0 {
		return sess.Record{}, sess.ErrNotFound
	}
	vs, ok1 := h[fVersion]
	ms, ok2 := h[fMeta]
	xs, ok3 := h[fExpires]
	if !ok1 || !ok2 || !ok3 {
		return sess.Record{}, errMalformed
	}
	v, err1 := strconv.ParseUint(vs, 10, 64)
	x, err2 := strconv.ParseInt(xs, 10, 64)
	if err1 != nil || err2 != nil || v == 0 {
		return sess.Record{}, errMalformed
	}
	if x <= now {
		return sess.Record{}, sess.ErrNotFound
	}
	size := 0
	for f, val := range h {
		if k, ok := strings.CutPrefix(f, entryPrefix); ok {
			size += sess.EntrySize(len(k), len(val))
		}
	}
	// Copies throughout: the record shares no memory with the client.
	entries := make([]byte, 0, size)
	for f, val := range h {
		if k, ok := strings.CutPrefix(f, entryPrefix); ok {
			entries = sess.AppendEntry(entries, k, []byte(val))
		}
	}
	return sess.Record{Meta: []byte(ms), Entries: entries, Version: v, Expires: time.UnixMilli(x), Principal: h[fPrincipal]}, nil
}

// value returns b as a script argument: as is for a direct call (go-redis
// writes it to the connection before returning and keeps no reference), a
// copy for a guarded call, which may outlive the Store method.
func (s *Store) value(b []byte) any {
	if s.direct {
		return b
	}
	return string(b)
}

// deadline returns now and the expiry in Unix milliseconds, the expiry
// clamped to now when it is not in the future (the scripts then delete
// instead of storing).
// indexScore is the score of a bound record's index entry: its expiry, or
// its Deadline (the latest expiry it can get) if later, so that later
// writes need not raise it.
func indexScore(exp int64, dl time.Time) int64 {
	if dl.IsZero() {
		return exp
	}
	return max(exp, dl.UnixMilli())
}

func deadline(expires time.Time) (now, exp int64) {
	now = time.Now().UnixMilli()
	exp = expires.UnixMilli()
	if expires.IsZero() || exp <= now {
		exp = now
	}
	return now, exp
}

// Create implements sess.Store with one script run (EVALSHA). A record
// with a Principal is bound to it: the store adds it to the principal's
// index in the same round trip (a pipeline of the index script and the
// create script; on a Cluster, one per node, in parallel).
func (s *Store) Create(ctx context.Context, id string, rec sess.Record) error {
	now, exp := deadline(rec.Expires)
	score := indexScore(exp, rec.Deadline)
	args := []any{now, exp, s.value(rec.Meta), 0, rec.Principal, score}
	size := 0
	for rest := rec.Entries; len(rest) > 0; {
		k, v, r, err := sess.NextEntry(rest)
		if err != nil {
			return fmt.Errorf("redisstore: create: %w", err)
		}
		args = append(args, entryPrefix+string(k), s.value(v))
		size += sess.EntrySize(len(k), len(v))
		rest = r
	}
	args[3] = size
	if rec.Principal == "" || exp <= now {
		return s.run(ctx, "create", createScript, id, args)
	}
	handle := sess.HashID(id)
	runs := []scriptRun{
		{indexAddScript, s.indexKey(rec.Principal), []any{score, handle}},
		{createScript, s.prefix + handle, args},
	}
	res, err := call(s, ctx, func(ctx context.Context) (int, error) {
		cmds := s.runAll(ctx, runs)
		res, _, err := scriptResult(cmds[1])
		if err != nil || res != resOK {
			return res, err
		}
		if err := cmds[0].Err(); err != nil {
			// Stored but not indexed: a bound record that would escape
			// DeletePrincipal. Nobody holds its ID yet (the Manager hands
			// out no cookie for a failed Create), so take it back.
			_ = s.client.Del(ctx, s.prefix+handle).Err()
			return res, fmt.Errorf("indexing the record: %w", err)
		}
		return res, nil
	})
	if err != nil {
		return wrap("create", err)
	}
	return resultErr("create", res)
}

// Update implements sess.Store with one script run (EVALSHA) that applies
// the whole patch on the server. A record bound to a principal has an
// index entry scored by the later of its expiry and the Deadline given
// when it was bound (the Manager passes the session's absolute deadline,
// which no expiry passes); only a patch that moves the expiry past that
// score, or deletes the record, costs one more round trip: after the
// script, raising the score (an index script) or removing the entry
// (ZREM). A patch that
// binds the record (a non-empty Patch.Principal) runs the index script
// for the new principal before the patch instead, so that the record is
// never bound without being indexed. A record unbound or moved to another
// principal stays in the former principal's index, never listed there,
// until its score passes.
func (s *Store) Update(ctx context.Context, id string, p sess.Patch) error {
	now, exp := deadline(p.Expires)
	args := make([]any, 0, 10+len(p.Delete)+2*len(p.Set))
	hasMeta, meta := "0", any("")
	if p.Meta != nil {
		hasMeta, meta = "1", s.value(p.Meta)
	}
	clear := "0"
	if p.Clear {
		clear = "1"
	}
	bind, principal := "0", ""
	binds := p.Principal != nil // read here: a guarded call may outlive the method
	if binds {
		bind, principal = "1", *p.Principal
	}
	score := indexScore(exp, p.Deadline)
	args = append(args, now, strconv.FormatUint(p.IfVersion, 10), exp, clear, hasMeta, meta, max(p.MaxSize, 0), len(p.Delete), bind, principal, score)
	for _, k := range p.Delete {
		args = append(args, entryPrefix+k)
	}
	for _, e := range p.Set {
		args = append(args, entryPrefix+e.Key, s.value(e.Value))
	}
	handle := sess.HashID(id)
	deletes := exp <= now
	preindexed := principal != "" && !deletes
	key := s.prefix + handle
	res, err := call(s, ctx, func(ctx context.Context) (int, error) {
		if preindexed {
			// Index first, in a round trip of its own: if that fails,
			// nothing else is done, so a failure never leaves the record
			// bound but missing from the index.
			if err := indexAddScript.Run(ctx, s.client, []string{s.indexKey(principal)}, score, handle).Err(); err != nil {
				return 0, fmt.Errorf("indexing the record: %w", err)
			}
		}
		res, was, err := scriptResult(updateScript.Run(ctx, s.client, []string{key}, args...))
		if err != nil || res != resOK || preindexed || was == "" {
			return res, err
		}
		return res, s.reindex(ctx, was, handle, exp, deletes)
	})
	if err != nil {
		return wrap("update", err)
	}
	return resultErr("update", res)
}

// Touch implements sess.Store with one script run (EVALSHA): it moves the
// expiry of a live record without rewriting its data or version. An
// expiry that is not in the future deletes the record. A bound record
// costs one more round trip only when the new expiry passes its index
// entry's score or the record is deleted, as with Update.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	now, exp := deadline(expires)
	handle := sess.HashID(id)
	keys := []string{s.prefix + handle}
	res, err := call(s, ctx, func(ctx context.Context) (int, error) {
		res, was, err := scriptResult(touchScript.Run(ctx, s.client, keys, now, exp))
		if err != nil || res != resOK || was == "" {
			return res, err
		}
		return res, s.reindex(ctx, was, handle, exp, exp <= now)
	})
	if err != nil {
		return wrap("touch", err)
	}
	return resultErr("touch", res)
}

// reindex updates principal's index after a write of a record bound to it
// under handle: it raises the record's score to exp, or, if the write
// deleted the record, removes it (best effort: a leftover entry is never
// listed, and leaves the index once its score passes).
func (s *Store) reindex(ctx context.Context, principal, handle string, exp int64, deleted bool) error {
	if deleted {
		_ = s.client.ZRem(ctx, s.indexKey(principal), handle).Err()
		return nil
	}
	if err := indexAddScript.Run(ctx, s.client, []string{s.indexKey(principal)}, exp, handle).Err(); err != nil {
		return fmt.Errorf("indexing the record: %w", err)
	}
	return nil
}

// Delete implements sess.Store with one script run (EVALSHA) that deletes
// the key and reports the principal the record was bound to; a bound
// record costs one more round trip, a ZREM from its principal's index
// (best effort, as the record is gone already). Deleting a missing record
// is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	handle := sess.HashID(id)
	keys := []string{s.prefix + handle}
	if _, err := call(s, ctx, func(ctx context.Context) (struct{}, error) {
		v, err := deleteScript.Run(ctx, s.client, keys).Result()
		if err != nil {
			return struct{}{}, err
		}
		if p, ok := v.(string); ok && p != "" {
			_ = s.client.ZRem(ctx, s.indexKey(p), handle).Err()
		}
		return struct{}{}, nil
	}); err != nil {
		return wrap("delete", err)
	}
	return nil
}

// run runs script on the session's key with args and maps its result
// code.
func (s *Store) run(ctx context.Context, op string, script *redis.Script, id string, args []any) error {
	keys := []string{s.key(id)}
	res, err := call(s, ctx, func(ctx context.Context) (int, error) {
		res, _, err := scriptResult(script.Run(ctx, s.client, keys, args...))
		return res, err
	})
	if err != nil {
		return wrap(op, err)
	}
	return resultErr(op, res)
}

// scriptResult reads the reply of a record script: a result code, or an
// array of the code and the principal the record is bound to.
func scriptResult(cmd *redis.Cmd) (int, string, error) {
	v, err := cmd.Result()
	if err != nil {
		return 0, "", err
	}
	switch v := v.(type) {
	case int64:
		return int(v), "", nil
	case []any:
		if len(v) == 2 {
			code, ok1 := v[0].(int64)
			p, ok2 := v[1].(string)
			if ok1 && ok2 {
				return int(code), p, nil
			}
		}
	}
	return 0, "", fmt.Errorf("unexpected script reply %T", v)
}

// resultErr maps a script's result code to the error the Store returns.
func resultErr(op string, res int) error {
	switch res {
	case resOK:
		return nil
	case resConflict:
		return sess.ErrConflict
	case resNotFound:
		return sess.ErrNotFound
	case resTooLarge:
		return sess.ErrTooLarge
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
