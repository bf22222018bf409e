package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

var _ sess.PrincipalIndex = (*Store)(nil)

// The principal index. Each principal has a sorted set under
// Config.Prefix + "p:" + sess.HashID(principal) whose members are the
// handles (sess.HashID of the session ID, the hex part of the session's
// key) of the records bound to it, each scored with the record's expiry in
// Unix milliseconds; the record's hash names its principal in field p.
//
// On a Redis Cluster the index and the records live in different slots,
// so no script touches both: every write of a bound record runs a script
// on the record's key and a command on the index's key (the index script
// or a ZREM), and every listing reads the index and then the records. What
// keeps a record from escaping its principal's index (live and bound but
// not listed, so that DeletePrincipal misses it) is one rule: a member
// leaves the index only
//
//   - by score, once its score has passed on the Redis clock (the record's
//     key, which expires at the record's expiry on the same clock, is gone
//     by then), or
//   - after the operation that removes it deleted the record itself
//     (Delete, a deleting Update or Touch, DeleteHandle, DeletePrincipal;
//     session IDs are never reused, so no later record has that handle);
//
// and a member's score is never lower than its record's expiry once the
// write that set that expiry has returned: writes of a bound record raise
// the score (ZADD GT) to the new expiry. A record bound concurrently with
// DeletePrincipal is therefore either seen and deleted by it or still in
// the index afterwards. Members of records that were unbound or moved to
// another principal stay until their score passes (removing them at once
// could undo a concurrent binding back to that principal), as do members
// whose deletion's ZREM failed; listings fetch every member's record and
// return only live ones still bound to the principal. An index key
// expires at its highest score, so an abandoned index vanishes with its
// last record.

// indexKey returns the key of principal's index.
func (s *Store) indexKey(principal string) string {
	return s.prefix + "p:" + sess.HashID(principal)
}

// validHandle reports whether h is of the form of a handle (64 lowercase
// hexadecimal digits), so that prefix + h can only name a session's key.
func validHandle(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := range len(h) {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// The index scripts prune by the Redis clock (TIME): a member whose score
// is before it belongs to a record whose key Redis has expired. They touch
// KEYS[1], the index, only.
const redisNow = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', k, '-inf', string.format('(%d', now))
`

// indexAddScript adds a handle to an index or raises its score, prunes
// expired members and moves the index's expiry to its highest score.
// ARGV: score (the record's expiry), handle.
var indexAddScript = redis.NewScript(`
local k = KEYS[1]` + redisNow + `
redis.call('ZADD', k, 'GT', ARGV[1], ARGV[2])
local top = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', k, string.format('%d', tonumber(top[2])))
return 0
`)

// indexReadScript prunes expired members of an index and returns the
// others.
var indexReadScript = redis.NewScript(`
local k = KEYS[1]` + redisNow + `
return redis.call('ZRANGE', k, 0, -1)
`)

// Result codes of deleteBoundScript.
const (
	delLive    = 0 // a live record was deleted
	delExpired = 1 // a record past its x (not yet expired by Redis) was deleted
	delNone    = 2 // nothing was deleted
)

// deleteBoundScript deletes a record if it is bound to the principal
// ARGV[2] (to any principal if that is empty). ARGV: now, principal. It
// returns {result code, the record's principal}.
var deleteBoundScript = redis.NewScript(`
local k = KEYS[1]
if redis.call('TYPE', k).ok ~= 'hash' then return {2, ''} end
local cur = redis.call('HMGET', k, 'p', 'x')
if not cur[1] or (ARGV[2] ~= '' and cur[1] ~= ARGV[2]) then return {2, ''} end
redis.call('DEL', k)
local x = tonumber(cur[2])
if x and x > tonumber(ARGV[1]) then return {0, cur[1]} end
return {1, cur[1]}
`)

// scriptRun is one script to run on one key in a pipeline.
type scriptRun struct {
	script *redis.Script
	key    string
	args   []any
}

// runAll runs the scripts in one pipeline (one round trip; on a Cluster,
// one per node, in parallel) and returns their commands, whose errors the
// caller checks one by one. On one server the scripts run in order.
// Scripts the server has not cached (after a restart or SCRIPT FLUSH) run
// again with EVAL, in a second pipeline.
func (s *Store) runAll(ctx context.Context, runs []scriptRun) []*redis.Cmd {
	cmds := make([]*redis.Cmd, len(runs))
	if len(runs) == 1 {
		r := runs[0]
		cmds[0] = r.script.Run(ctx, s.client, []string{r.key}, r.args...)
		return cmds
	}
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range runs {
			cmds[i] = r.script.EvalSha(ctx, p, []string{r.key}, r.args...)
		}
		return nil
	})
	var again []int
	for i, c := range cmds {
		if err := c.Err(); err != nil && (errors.Is(err, redis.ErrNoScript) || redis.HasErrorPrefix(err, "NOSCRIPT")) {
			again = append(again, i)
		}
	}
	if len(again) > 0 {
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, i := range again {
				r := runs[i]
				cmds[i] = r.script.Eval(ctx, p, []string{r.key}, r.args...)
			}
			return nil
		})
	}
	return cmds
}

// members returns the handles in principal's index, pruning expired ones.
func (s *Store) members(ctx context.Context, principal string) ([]string, error) {
	hs, err := indexReadScript.Run(ctx, s.client, []string{s.indexKey(principal)}).StringSlice()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(hs, func(h string) bool { return !validHandle(h) }), nil
}

// ListPrincipal implements sess.PrincipalIndex in two round trips: the
// index script (pruning expired entries and returning the handles), then
// one pipeline of HGETALL, one per handle (on a Cluster, one pipeline per
// node, in parallel). It returns the live records still bound to
// principal, with Handle and Principal filled, in no particular order.
func (s *Store) ListPrincipal(ctx context.Context, principal string) ([]sess.IndexedRecord, error) {
	if principal == "" {
		return nil, nil
	}
	out, err := call(s, ctx, func(ctx context.Context) ([]sess.IndexedRecord, error) {
		hs, err := s.members(ctx, principal)
		if err != nil || len(hs) == 0 {
			return nil, err
		}
		cmds := make([]*redis.MapStringStringCmd, len(hs))
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, h := range hs {
				cmds[i] = p.HGetAll(ctx, s.prefix+h)
			}
			return nil
		})
		now := time.Now().UnixMilli()
		var out []sess.IndexedRecord
		for i, c := range cmds {
			h, err := c.Result()
			if err != nil {
				return nil, err
			}
			rec, err := parseRecord(h, now)
			if err != nil || rec.Principal != principal {
				continue
			}
			out = append(out, sess.IndexedRecord{Handle: hs[i], Record: rec})
		}
		return out, nil
	})
	if err != nil {
		return nil, wrap("list principal", err)
	}
	return out, nil
}

// GetHandle implements sess.PrincipalIndex with one HGETALL of the record
// named by handle. It returns an error wrapping sess.ErrNotFound for a
// missing, expired or unbound record, and for a string that is not of the
// form of a handle (without asking Redis).
func (s *Store) GetHandle(ctx context.Context, handle string) (sess.IndexedRecord, error) {
	if !validHandle(handle) {
		return sess.IndexedRecord{}, sess.ErrNotFound
	}
	key := s.prefix + handle
	h, err := call(s, ctx, func(ctx context.Context) (map[string]string, error) {
		return s.client.HGetAll(ctx, key).Result()
	})
	if err != nil {
		return sess.IndexedRecord{}, wrap("get handle", err)
	}
	rec, err := parseRecord(h, time.Now().UnixMilli())
	if err != nil {
		return sess.IndexedRecord{}, err
	}
	if rec.Principal == "" {
		return sess.IndexedRecord{}, sess.ErrNotFound
	}
	return sess.IndexedRecord{Handle: handle, Record: rec}, nil
}

// DeleteHandle implements sess.PrincipalIndex: one script run (EVALSHA)
// deletes the record named by handle if it is live and bound to principal
// (to any principal if principal is empty), then a ZREM removes it from
// its principal's index (best effort: the record is gone already). It
// returns an error wrapping sess.ErrNotFound, changing nothing, if there
// is no such record.
func (s *Store) DeleteHandle(ctx context.Context, handle, principal string) error {
	if !validHandle(handle) {
		return sess.ErrNotFound
	}
	res, err := call(s, ctx, func(ctx context.Context) (int, error) {
		res, p, err := scriptResult(deleteBoundScript.Run(ctx, s.client, []string{s.prefix + handle}, time.Now().UnixMilli(), principal))
		if err == nil && res != delNone {
			_ = s.client.ZRem(ctx, s.indexKey(p), handle).Err()
		}
		return res, err
	})
	if err != nil {
		return wrap("delete handle", err)
	}
	if res != delLive {
		return sess.ErrNotFound
	}
	return nil
}

// DeletePrincipal implements sess.PrincipalIndex in three round trips
// whatever the number of records: the index script (returning the
// handles), one pipeline of scripts each deleting one record if it is
// still bound to principal (on a Cluster, one pipeline per node, in
// parallel), and one ZREM of the deleted records from the index. It
// returns how many live records it deleted; records whose handles are in
// keep are left alone. If some deletions fail it returns the count of the
// others and the first error.
func (s *Store) DeletePrincipal(ctx context.Context, principal string, keep []string) (int, error) {
	if principal == "" {
		return 0, nil
	}
	keep = slices.Clone(keep) // a guarded call may outlive this method
	n, err := call(s, ctx, func(ctx context.Context) (int, error) {
		hs, err := s.members(ctx, principal)
		if err != nil {
			return 0, err
		}
		hs = slices.DeleteFunc(hs, func(h string) bool { return slices.Contains(keep, h) })
		if len(hs) == 0 {
			return 0, nil
		}
		now := time.Now().UnixMilli()
		runs := make([]scriptRun, len(hs))
		for i, h := range hs {
			runs[i] = scriptRun{deleteBoundScript, s.prefix + h, []any{now, principal}}
		}
		n := 0
		var deleted []any
		var first error
		for i, c := range s.runAll(ctx, runs) {
			res, _, err := scriptResult(c)
			switch {
			case err != nil:
				if first == nil {
					first = err
				}
			case res == delLive:
				n++
				fallthrough
			case res == delExpired:
				deleted = append(deleted, hs[i])
			}
		}
		if len(deleted) > 0 {
			_ = s.client.ZRem(ctx, s.indexKey(principal), deleted...).Err()
		}
		if first != nil {
			return n, fmt.Errorf("deleting %d records: %w", len(hs), first)
		}
		return n, nil
	})
	if err != nil {
		return n, wrap("delete principal", err)
	}
	return n, nil
}
