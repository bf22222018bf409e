package sess

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	memShards = 512
	// sweepBatch bounds how many expired records one lock hold removes, so
	// a sweep never stalls requests on that shard for long.
	sweepBatch = 64
	// DefaultSweepInterval is how often the memory store removes expired
	// records.
	DefaultSweepInterval = time.Minute
)

// MemoryConfig configures a MemoryStore. The zero value means the
// documented defaults.
type MemoryConfig struct {
	// MaxSessions caps the number of live sessions. When the store is full,
	// creating a session fails with ErrStoreFull (the request that tried
	// gets 503) while existing sessions keep working. Default: 0, no cap.
	MaxSessions int
	// SweepInterval is how often expired records are removed. Expired
	// records are never returned, swept or not. Default: one minute.
	SweepInterval time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// MemoryStore is an in-process Store: the default when Config.Store is nil,
// and the store behind package github.com/gosess/sess/stores/memory. It
// suits a single process; run several instances behind a load balancer with
// a shared store such as stores/redis instead.
//
// Records live in 512 shards, each a map behind its own lock, so reads of
// different sessions never contend on one lock. Update applies a Patch
// under the shard's lock, so concurrent commits of different keys all
// land. Get copies data out; every write stores a fresh buffer that is
// never changed afterwards, which is what lets GetShared hand it out without
// a copy. A background goroutine removes expired records in small batches;
// Close stops it.
type MemoryStore struct {
	shards [memShards]memShard
	index  memIndex
	count  atomic.Int64
	max    int64
	now    func() time.Time
	closed atomic.Bool
	once   sync.Once
	stop   chan struct{}
	done   chan struct{}
}

type memShard struct {
	mu sync.RWMutex
	m  map[[32]byte]memEntry
	// bound holds the principal of the shard's bound records; nil until
	// the first one, so unbound sessions cost nothing.
	bound map[[32]byte]memBinding
	_     [32]byte // keep shards on separate cache lines
}

type memBinding struct{ principal, handle string }

// memEntry is a stored record in 32 bytes, the size of a map slot's value
// that keeps a store of millions of sessions cache-friendly: buf holds the
// version and Meta's length (uvarints, two bytes for most records), then
// Meta, then Entries, and is never modified once stored.
type memEntry struct {
	buf     []byte
	expires int64 // Unix nanoseconds
}

// newMemBuf returns a buffer for a record of version v with meta, with
// room for n bytes of entries after it, and the length of its header.
func newMemBuf(v uint64, meta []byte, n int) (buf []byte, hdr int) {
	hdr = uvarintLen(v) + uvarintLen(uint64(len(meta)))
	buf = make([]byte, 0, hdr+len(meta)+n)
	buf = binary.AppendUvarint(buf, v)
	buf = binary.AppendUvarint(buf, uint64(len(meta)))
	return append(buf, meta...), hdr
}

// header returns e's version and the offsets of its Meta and Entries.
func (e *memEntry) header() (v uint64, meta, entries int) {
	v, a := binary.Uvarint(e.buf)
	n, b := binary.Uvarint(e.buf[a:])
	return v, a + b, a + b + int(n)
}

// record returns e as a Record whose bytes alias b, e.buf or a copy of it.
func (e *memEntry) record(b []byte) Record {
	v, m, n := e.header()
	return Record{Meta: b[m:n:n], Entries: b[n:len(b):len(b)], Version: v, Expires: time.Unix(0, e.expires)}
}

// NewMemoryStore returns a running MemoryStore. Call Close to stop its
// sweeper when it is no longer needed.
func NewMemoryStore(cfg MemoryConfig) *MemoryStore {
	s := &MemoryStore{max: int64(cfg.MaxSessions), now: cfg.Now, stop: make(chan struct{}), done: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
	for i := range s.shards {
		s.shards[i].m = make(map[[32]byte]memEntry)
	}
	interval := cfg.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	go s.sweeper(interval)
	return s
}

// NonBlocking reports true: calls only take a shard lock, never wait on
// I/O. It implements the NonBlocking capability.
func (s *MemoryStore) NonBlocking() bool { return true }

// ProcessLocal reports true: the records live in this process only.
func (s *MemoryStore) ProcessLocal() bool { return true }

// memKey turns an ID into a fixed-size map key: the 32 decoded bytes of a
// default 43-character ID, or a SHA-256 of any other ID.
func memKey(id string) [32]byte {
	var k [32]byte
	if len(id) == 43 && decodeID(id, &k) {
		return k
	}
	return sha256.Sum256([]byte("gosess/sess memory key\x00" + id))
}

// b64Values maps base64url characters to their 6-bit values, others to 0xff.
var b64Values = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		t[c] = byte(i)
	}
	return t
}()

// decodeID decodes a canonical 43-character unpadded base64url string into
// 32 bytes. It is the store's hot path; non-canonical or invalid input
// reports false.
func decodeID(id string, k *[32]byte) bool {
	var bad byte
	j := 0
	for i := 0; i < 40; i += 4 {
		a, b, c, d := b64Values[id[i]], b64Values[id[i+1]], b64Values[id[i+2]], b64Values[id[i+3]]
		bad |= a | b | c | d
		k[j] = a<<2 | b>>4
		k[j+1] = b<<4 | c>>2
		k[j+2] = c<<6 | d
		j += 3
	}
	a, b, c := b64Values[id[40]], b64Values[id[41]], b64Values[id[42]]
	bad |= a | b | c
	k[30] = a<<2 | b>>4
	k[31] = b<<4 | c>>2
	// 0xff marks an invalid character (it sets bits above the 6 of any
	// value); the last character's low two bits must be zero (canonical).
	return bad&0xc0 == 0 && c&3 == 0
}

func (s *MemoryStore) shard(k *[32]byte) *memShard {
	return &s.shards[(uint(k[0])|uint(k[1])<<8)%memShards]
}

// lookup returns the record under id, if any, expired or not.
func (s *MemoryStore) lookup(id string) (memEntry, bool, error) {
	if s.closed.Load() {
		return memEntry{}, false, ErrClosed
	}
	k := memKey(id)
	sh := s.shard(&k)
	sh.mu.RLock()
	e, ok := sh.m[k]
	sh.mu.RUnlock()
	return e, ok, nil
}

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, id string) (Record, error) {
	e, ok, err := s.lookup(id)
	if err != nil || !ok || e.expires <= s.now().UnixNano() {
		return Record{}, notFound(err)
	}
	return e.record(slices.Clone(e.buf)), nil
}

// GetShared implements SharedGetter: it returns the stored bytes without a
// copy. They never change, also after later writes of the record. It does
// not read the clock: a record past its Expires that the sweeper has not
// removed yet is returned, and the caller checks Expires.
func (s *MemoryStore) GetShared(_ context.Context, id string) (Record, error) {
	e, ok, err := s.lookup(id)
	if err != nil || !ok {
		return Record{}, notFound(err)
	}
	return e.record(e.buf), nil
}

func notFound(err error) error {
	if err != nil {
		return err
	}
	return ErrNotFound
}

// Create implements Store. With MaxSessions set, creating a record in a
// full store fails with ErrStoreFull.
func (s *MemoryStore) Create(_ context.Context, id string, rec Record) error {
	if s.closed.Load() {
		return ErrClosed
	}
	buf, _ := newMemBuf(1, rec.Meta, len(rec.Entries))
	buf = append(buf, rec.Entries...)
	exp := rec.Expires.UnixNano()
	var handle string
	if rec.Principal != "" {
		handle = HashID(id)
	}
	k := memKey(id)
	sh := s.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now().UnixNano()
	e, ok := sh.m[k]
	if ok && e.expires > now {
		return ErrConflict
	}
	if exp <= now {
		if ok {
			s.remove(sh, k)
		}
		return nil
	}
	if !ok {
		if s.max > 0 && s.count.Load() >= s.max {
			return ErrStoreFull
		}
		s.count.Add(1)
	}
	s.index.unbind(sh, k)
	if rec.Principal != "" {
		s.index.bind(sh, k, rec.Principal, handle)
	}
	sh.m[k] = memEntry{buf: buf, expires: exp}
	return nil
}

// Update implements Store: it applies p under the shard's lock.
func (s *MemoryStore) Update(_ context.Context, id string, p Patch) error {
	if s.closed.Load() {
		return ErrClosed
	}
	exp := p.Expires.UnixNano()
	var handle string
	if p.Principal != nil && *p.Principal != "" {
		handle = HashID(id)
	}
	k := memKey(id)
	sh := s.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := s.now().UnixNano()
	e, ok := sh.m[k]
	if !ok || e.expires <= now {
		return ErrNotFound
	}
	v, m, n := e.header()
	if p.IfVersion != 0 && p.IfVersion != v {
		return ErrConflict
	}
	if exp <= now {
		s.remove(sh, k)
		return nil
	}
	meta, entries := e.buf[m:n], e.buf[n:]
	if p.Meta != nil {
		meta = p.Meta
	}
	size := 0
	if !p.Clear {
		size += len(entries)
	}
	for _, x := range p.Set {
		size += EntrySize(len(x.Key), len(x.Value))
	}
	buf, hdr := newMemBuf(v+1, meta, size)
	buf, err := ApplyPatch(buf, entries, &p)
	if err != nil {
		return fmt.Errorf("sess: memory store: stored entries: %w", err)
	}
	if n := len(buf) - hdr; p.MaxSize > 0 && n > p.MaxSize {
		return fmt.Errorf("%w: %d bytes, cap %d", ErrTooLarge, n, p.MaxSize)
	}
	if p.Principal != nil {
		s.index.unbind(sh, k)
		if *p.Principal != "" {
			s.index.bind(sh, k, *p.Principal, handle)
		}
	}
	sh.m[k] = memEntry{buf: buf, expires: exp}
	return nil
}

// Touch implements Store.
func (s *MemoryStore) Touch(_ context.Context, id string, expires time.Time) error {
	if s.closed.Load() {
		return ErrClosed
	}
	k := memKey(id)
	sh := s.shard(&k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.m[k]
	if !ok || e.expires <= s.now().UnixNano() {
		return ErrNotFound
	}
	e.expires = expires.UnixNano()
	sh.m[k] = e
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	k := memKey(id)
	sh := s.shard(&k)
	sh.mu.Lock()
	if _, ok := sh.m[k]; ok {
		s.remove(sh, k)
	}
	sh.mu.Unlock()
	return nil
}

// remove deletes the record under k, which exists, and its index entry.
// Callers hold sh.mu.
func (s *MemoryStore) remove(sh *memShard, k [32]byte) {
	delete(sh.m, k)
	s.count.Add(-1)
	s.index.unbind(sh, k)
}

// Len returns the number of records held, including expired ones not yet
// swept.
func (s *MemoryStore) Len() int { return int(s.count.Load()) }

// Sweep removes every expired record now, a batch at a time per shard.
// The background sweeper calls it every SweepInterval.
func (s *MemoryStore) Sweep() {
	for i := range s.shards {
		if s.closed.Load() {
			return
		}
		s.sweepShard(&s.shards[i])
	}
}

func (s *MemoryStore) sweepShard(sh *memShard) {
	for {
		now := s.now().UnixNano()
		n := 0
		sh.mu.Lock()
		for k, e := range sh.m {
			if e.expires <= now {
				delete(sh.m, k)
				s.index.unbind(sh, k)
				n++
				if n == sweepBatch {
					break
				}
			}
		}
		sh.mu.Unlock()
		s.count.Add(int64(-n))
		if n < sweepBatch {
			return
		}
	}
}

func (s *MemoryStore) sweeper(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// Close stops the sweeper and drops every record. Later calls return
// ErrClosed. Close is idempotent and safe to call concurrently with other
// methods.
func (s *MemoryStore) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		<-s.done
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			clear(sh.m)
			sh.bound = nil
			sh.mu.Unlock()
		}
		s.index.reset()
		s.count.Store(0)
	})
	return nil
}
