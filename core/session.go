package sess

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

type change struct {
	key  string
	val  any
	del  bool
	sent bool  // already committed to the store by this request
	end  int32 // scratch: end of the encoded value while building a patch
}

// Session is one request's view of a session. Handlers get it from their
// adapter (sesshttp.From, sessgin.From, ...) or from FromContext. Its
// methods are safe for concurrent use by the goroutines of one request;
// a Session must not be used after its request has ended.
//
// Reads never touch the store: the record was loaded before the handler ran.
// Changes are kept in memory and persisted once, just before the response
// starts, and only if there are any. A commit sends the store only the
// keys the request changed, as a Patch the store applies atomically, so
// concurrent requests changing different keys of the same session all keep
// their changes; of two requests setting the same key, the later commit
// wins.
//
// A request with one of Config.SkipHeaders gets an inert Session: it reads
// empty, ignores Set, Delete, Clear, Renew and Destroy (logging them at
// level Debug), touches no store and sets no cookie, so handlers never need
// a nil check.
type Session struct {
	mu sync.Mutex
	m  *Manager
	c  Carrier

	id string // current ID; "" until a new session first needs one
	// version is the stored record's as loaded (1 once created), not
	// tracked after updates; after Renew, that of the record it replaces.
	version  uint64
	entries  []byte   // encoded entries as loaded or created
	absolute int64    // absolute deadline, Unix milliseconds; 0 = not yet fixed
	expires  int64    // the record's, Unix nanoseconds
	now      int64    // when Load ran, Unix nanoseconds
	lt       lifetime // the session's own Lifetime, see SetLifetime
	// principal is the bound principal (see SetPrincipal), possibly
	// aliasing the loaded Meta, which is never modified; created is the
	// sign-in time (Unix ms).
	principal []byte
	created   int64
	changes   []change
	// oldID is the record to delete at commit (destroyed or renewed), or
	// "". There is at most one: Renew and Destroy set it only for a stored
	// record, which a commit must store again before there can be another.
	oldID string
	err   error

	// Flags, kept together to keep the Session small.
	stored    bool // a record exists under id
	resign    bool // cookie verified with a previous secret
	isNew     bool
	skipped   bool // a skip header: reads empty, changes are ignored
	metaDirty bool // lt or absolute changed: the commit rewrites Meta
	// cookieDirty: the cookie's persistence or Max-Age changed, so the
	// commit re-sends it.
	cookieDirty bool
	status      Status // StatusModified or StatusDestroyed once the request did so
	bindDirty   bool   // the binding changed: the commit sends Patch.Principal
	// forwarded: the request carries a renewed session's old ID and
	// reached the new session through the grace window (Config.RenewGrace):
	// no cookie, no Renew.
	forwarded bool
	cleared   bool
	clearSent bool // the Clear was already committed
	dirty     bool // changes not yet committed
	destroyed bool // Destroy was called and no new session replaced it
	renewed   bool
	started   bool // the response has started (first commit done)
	encHeld   bool // entries may live in encBuf: do not reuse it
	ctxUsed   atomic.Bool

	// Allocated with the session to save allocations per request.
	changeBuf [1]change
	setBuf    [1]Entry
	encBuf    [40]byte // encoded values of a small commit
	hdrBuf    [3]string
	hc        headerCarrier
	ctx       sessionCtx
	lc        Lifecycle
}

// ID returns the session ID, or "" for a new session that has not stored
// anything yet. Never log it: it is a bearer credential.
func (s *Session) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// IsNew reports whether the session was not loaded from the store: the
// request carried no valid cookie for a live session, or Destroy was called.
func (s *Session) IsNew() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isNew
}

// ignored reports whether s is the inert session of a skipped request, on
// which op does nothing; it logs the ignored call at level Debug. Callers
// hold s.mu.
func (s *Session) ignored(op string) bool {
	if !s.skipped {
		return false
	}
	s.m.logSession(context.Background(), slog.LevelDebug, "sess: session change ignored: the request carries a skip header", "",
		slog.String("event", "skipped_change"), slog.String("op", op))
	return true
}

func (s *Session) findChange(key string) int {
	for i := range s.changes {
		if s.changes[i].key == key {
			return i
		}
	}
	return -1
}

// lookup returns the change or stored entry for key. Callers hold s.mu.
func (s *Session) lookup(key string) (ch *change, tag byte, payload []byte, ok bool) {
	if i := s.findChange(key); i >= 0 {
		c := &s.changes[i]
		return c, 0, nil, !c.del
	}
	if s.cleared {
		return nil, 0, nil, false
	}
	tag, payload, ok = findEntry(s.entries, key)
	return nil, tag, payload, ok
}

// Get returns the value stored under key, with the same Go type in the
// request that set it and in every later request. Values of the built-in
// types (see Set) come back with their exact Go type. Values of any other
// type come back in their Codec's generic form, as the codec decodes them
// into an any (for JSONCodec: map[string]any, []any, float64, string,
// bool), also in the request that set them; so do such values nested in a
// []any or map[string]any. Use the typed Get function to get them back as
// their own type. The returned value is a copy: changing it does not change
// the session until it is passed to Set.
func (s *Session) Get(key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, tag, p, ok := s.lookup(key)
	if !ok {
		return nil, false
	}
	if ch != nil {
		if immutable(ch.val) {
			return ch.val, true
		}
		if tag, p, ok = s.encodeChange(ch); !ok {
			return nil, false
		}
	}
	v, err := decodeValue(tag, p, s.m.cfg.Codec)
	if err != nil {
		s.m.logSession(context.Background(), slog.LevelWarn, "sess: cannot decode session value", s.id, slog.String("key", key), slog.Any("error", err))
		return nil, false
	}
	return v, true
}

// immutable reports whether v is of a built-in scalar type, which Get can
// return as set: it needs no copy and decodes to the same type.
func immutable(v any) bool {
	switch v.(type) {
	case nil, string, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, time.Duration, time.Time:
		return true
	}
	return false
}

// encodeChange encodes a pending change's value as a commit would, so that
// the request that set it reads what every later request reads. A value
// the Codec cannot encode reads as missing (the commit will fail with
// ErrEncode). Callers hold s.mu.
func (s *Session) encodeChange(ch *change) (tag byte, payload []byte, ok bool) {
	b, err := appendValue(nil, ch.val, s.m.cfg.Codec, 0)
	if err == nil {
		tag, payload, _, err = readValue(b)
	}
	if err != nil {
		s.m.logSession(context.Background(), slog.LevelWarn, "sess: cannot encode session value", s.id, slog.String("key", ch.key), slog.Any("error", err))
		return 0, nil, false
	}
	return tag, payload, true
}

// Get returns the value under key as a T, in the request that set it as
// in every later request. It reports false if the key is missing or holds
// a value that is not a T. Values stored through the Codec are decoded
// straight into T, so a struct set in one request comes back as that
// struct in the next; with T an interface type (such as any) Get returns
// what Session.Get returns.
func Get[T any](s *Session, key string) (T, bool) {
	var zero T
	if s == nil {
		return zero, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, tag, p, ok := s.lookup(key)
	if !ok {
		return zero, false
	}
	if ch != nil {
		// A value of type T reads as itself, unless a later request would
		// read something else: for an interface T (which Session.Get's
		// generic form satisfies too) or a container holding codec values.
		if v, ok := ch.val.(T); ok && !isInterface[T]() && !container(ch.val) {
			return v, true
		}
		if tag, p, ok = s.encodeChange(ch); !ok {
			return zero, false
		}
	}
	// Fast paths for the most common types: no boxing, no allocation.
	switch out := any(&zero).(type) {
	case *int:
		if tag == tInt {
			v, _ := binary.Varint(p)
			if v >= math.MinInt && v <= math.MaxInt {
				*out = int(v)
				return zero, true
			}
			return zero, false
		}
	case *int64:
		if tag == tInt64 {
			*out, _ = binary.Varint(p)
			return zero, true
		}
	case *bool:
		if tag == tTrue || tag == tFalse {
			*out = tag == tTrue
			return zero, true
		}
	case *string:
		if tag == tString {
			*out = string(p)
			return zero, true
		}
	}
	if tag == tCodec {
		var out T
		if err := s.m.cfg.Codec.Unmarshal(p, &out); err != nil {
			return zero, false
		}
		return out, true
	}
	v, err := decodeValue(tag, p, s.m.cfg.Codec)
	if err != nil {
		return zero, false
	}
	t, ok := v.(T)
	return t, ok
}

// isInterface reports whether T is an interface type.
func isInterface[T any]() bool { return reflect.TypeFor[T]().Kind() == reflect.Interface }

// container reports whether v is a built-in container that may hold values
// of other types, which come back in their codec's generic form.
func container(v any) bool {
	switch v.(type) {
	case []any, map[string]any:
		return true
	}
	return false
}

// Set stores value under key. Strings, []byte, bools, all integer and float
// types, time.Time, time.Duration, []string, []int, []int64, []float64,
// []bool, []any, map[string]string, map[string]int and map[string]any (of
// these types, nested up to 32 levels) are encoded natively and come back
// with their exact type. Any other type is encoded with Config.Codec when
// the session is committed (a value it cannot encode fails the commit), and
// Session.Get reads it back in the codec's generic form, in this request as
// in later ones; Get[T] reads it back as a T.
func (s *Session) Set(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignored("Set") {
		return
	}
	if i := s.findChange(key); i >= 0 {
		s.changes[i] = change{key: key, val: value}
	} else {
		s.addChange(change{key: key, val: value})
	}
	s.dirty, s.status = true, StatusModified
}

func (s *Session) addChange(c change) {
	if s.changes == nil {
		s.changes = s.changeBuf[:0]
	}
	s.changes = append(s.changes, c)
}

// Delete removes key. Deleting a missing key changes nothing.
func (s *Session) Delete(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignored("Delete") {
		return
	}
	s.deleteLocked(key)
}

func (s *Session) deleteLocked(key string) {
	if _, _, _, ok := s.lookup(key); !ok {
		return
	}
	if i := s.findChange(key); i >= 0 {
		s.changes[i] = change{key: key, del: true}
	} else {
		s.addChange(change{key: key, del: true})
	}
	s.dirty, s.status = true, StatusModified
}

// Pop returns the value under key and deletes it, for one-time values such
// as flash messages.
func (s *Session) Pop(key string) (any, bool) {
	v, ok := s.Get(key)
	if ok {
		s.Delete(key)
	}
	return v, ok
}

// Clear removes every key. The session itself, its ID and its deadlines
// stay; use Destroy to end the session.
func (s *Session) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignored("Clear") {
		return
	}
	if len(s.keysLocked()) == 0 {
		return
	}
	s.cleared, s.clearSent = true, false
	s.changes = s.changes[:0]
	s.dirty, s.status = true, StatusModified
}

// Keys returns the session's keys in sorted order.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keysLocked()
}

func (s *Session) keysLocked() []string {
	var keys []string
	if !s.cleared {
		for rest := s.entries; len(rest) > 0; {
			k, _, r, err := NextEntry(rest)
			if err != nil {
				break
			}
			if s.findChange(string(k)) < 0 {
				keys = append(keys, string(k))
			}
			rest = r
		}
	}
	for _, c := range s.changes {
		if !c.del {
			keys = append(keys, c.key)
		}
	}
	slices.Sort(keys)
	return keys
}

// Len returns the number of keys.
func (s *Session) Len() int { return len(s.Keys()) }

// Renew gives the session a new ID and keeps its data, as after a login or
// any other change of privilege: the old ID stops working when the response
// is committed, which defeats session fixation. The absolute deadline is
// kept, and so is the session's own Lifetime. On a new session that has stored nothing yet Renew does nothing, as
// the session will get a fresh ID anyway.
func (s *Session) Renew() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignored("Renew") {
		return
	}
	if !s.stored {
		return
	}
	if s.forwarded {
		s.m.logSession(context.Background(), slog.LevelInfo, "sess: Renew ignored: the request carries a renewed session's old ID (grace window)", s.id, slog.String("event", "forwarded_renew"))
		return
	}
	id, err := s.m.newID()
	if err != nil {
		s.err = err
		return
	}
	s.oldID = s.id
	s.id, s.stored = id, false
	s.renewed, s.dirty, s.status = true, true, StatusModified
}

// Destroy ends the session, as at logout: its record is deleted and its
// cookie expired when the response is committed. A Set after Destroy starts
// a new session with a new ID; the destroyed one is never recreated.
func (s *Session) Destroy() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignored("Destroy") {
		return
	}
	if s.stored {
		s.oldID = s.id
		s.destroyed, s.status = true, StatusDestroyed
	} else if s.oldID != "" {
		// A renewed session destroyed before commit: nothing new to create,
		// the old record still goes.
		s.destroyed, s.status = true, StatusDestroyed
	} else if s.status == StatusModified {
		s.status = StatusUnmodified // a new session's changes are gone: New again
	}
	s.lt, s.metaDirty, s.cookieDirty = lifetime{}, false, false
	s.principal, s.created, s.bindDirty = nil, 0, false
	s.forwarded = false
	s.id, s.stored, s.version, s.isNew = "", false, 0, true
	s.entries, s.absolute, s.resign = nil, 0, false
	s.cleared, s.clearSent, s.changes, s.dirty, s.renewed = false, false, nil, false, false
}

// discardLocked drops every pending change. Callers hold s.mu.
func (s *Session) discardLocked() {
	s.cleared, s.clearSent, s.changes, s.dirty = false, false, nil, false
	s.oldID, s.destroyed = "", false
}

// sentLocked marks every change as committed: they stay as the request's
// view over the loaded entries. Callers hold s.mu.
func (s *Session) sentLocked() {
	for i := range s.changes {
		s.changes[i].sent = true
	}
	s.clearSent = s.cleared
	s.dirty = false
}

type ctxKey struct{}

// sessionCtx is a context node carrying a session. The first one for a
// session lives inside the Session itself, saving an allocation per request.
type sessionCtx struct {
	context.Context
	s *Session
}

// managerKey is the context key of one Manager's session, for
// FromContextFor.
type managerKey struct{ m *Manager }

func (c *sessionCtx) Value(key any) any {
	switch k := key.(type) {
	case ctxKey:
		return c.s
	case managerKey:
		if k.m == c.s.m {
			return c.s
		}
	}
	return c.Context.Value(key)
}

// newContext returns the request's context (s.ctx.Context, set by Begin)
// carrying s (Lifecycle.Context), so framework-neutral code can use
// FromContext.
func newContext(s *Session) context.Context {
	if s.ctxUsed.CompareAndSwap(false, true) {
		s.ctx.s = s
		return &s.ctx
	}
	return &sessionCtx{Context: s.ctx.Context, s: s}
}

// FromContext returns the session stored in ctx by an adapter's middleware.
// With several Managers in one chain it returns the innermost one's; use
// FromContextFor to choose.
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	return s, ok && s != nil
}

// FromContextFor returns the session of Manager m stored in ctx by an
// adapter's middleware, for chains that run several Managers (different
// cookie names, such as a long-lived preferences session and a login
// session): each handler reaches the session it asks for, whatever the
// order of the middlewares.
func FromContextFor(ctx context.Context, m *Manager) (*Session, bool) {
	if m == nil || ctx == nil {
		return nil, false
	}
	s, ok := ctx.Value(managerKey{m}).(*Session)
	return s, ok && s != nil
}
