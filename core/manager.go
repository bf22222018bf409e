package sess

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"
)

const (
	maxCASRetries    = 16
	maxCreateRetries = 3
)

// Manager runs the session lifecycle for one cookie name. It is immutable
// after New and safe for concurrent use. Adapters drive each request
// through a Lifecycle (Begin); handlers only use the Session.
type Manager struct {
	cfg      Config
	signer   *signer
	cookies  *cookieWriter
	store    Store
	owned    *MemoryStore // the default store, closed by Close
	local    bool         // store never blocks: no per-call timeout context
	shared   *MemoryStore // the store, if it is a bare MemoryStore: copy-free paths
	touchMin time.Duration
	// builtinIDs: GenerateID is RandomID, whose output needs no check.
	builtinIDs bool
	// realClock: Now is time.Now, so its readings can be shared with a
	// memory store that also runs on time.Now.
	realClock bool
}

// New validates cfg and returns a Manager. Every validation failure wraps
// ErrInvalidConfig and says which field is wrong.
func New(cfg Config) (*Manager, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:     c,
		signer:  newSigner(c.CookieName, c.Secret, c.PreviousSecrets),
		cookies: newCookieWriter(&c),
		store:   c.Store,
	}
	if m.store == nil {
		m.owned = NewMemoryStore(MemoryConfig{})
		m.store = m.owned
	}
	_, m.local = m.store.(interface{ nonBlocking() })
	// Only the memory store itself: a wrapper that embeds one (to inject
	// faults, to count calls) must see every call.
	if ms, ok := m.store.(*MemoryStore); ok {
		m.shared = ms
	}
	m.builtinIDs = cfg.GenerateID == nil
	m.realClock = cfg.Now == nil
	if c.IdleTimeout > 0 {
		m.touchMin = max(c.IdleTimeout/100, time.Second)
	}
	return m, nil
}

// Close releases the default in-memory store, if the Manager created one.
// A Store passed in Config stays open; its owner closes it.
func (m *Manager) Close() error {
	if m.owned != nil {
		return m.owned.Close()
	}
	return nil
}

// CookieName returns the session cookie's name.
func (m *Manager) CookieName() string { return m.cfg.CookieName }

// ObjectName returns the key under which adapters put the session in their
// framework's per-request bag.
func (m *Manager) ObjectName() string { return m.cfg.ObjectName }

// Store returns the store the Manager uses.
func (m *Manager) Store() Store { return m.store }

// Logger returns the Manager's logger.
func (m *Manager) Logger() *slog.Logger { return m.cfg.Logger }

func (m *Manager) now() time.Time { return m.cfg.Now() }

// realNow passes a clock reading on to the memory store only if it came
// from time.Now; a zero time makes the store read its own clock.
func (m *Manager) realNow(now time.Time) time.Time {
	if m.realClock {
		return now
	}
	return time.Time{}
}

func (m *Manager) newID() (string, error) {
	id, err := m.cfg.GenerateID()
	if err != nil {
		return "", fmt.Errorf("sess: generating session ID: %w", err)
	}
	if !m.builtinIDs && !validID(id) {
		return "", fmt.Errorf("sess: GenerateID returned an ID of length %d outside the base64url alphabet or 16..128 characters", len(id))
	}
	return id, nil
}

func (m *Manager) logSession(ctx context.Context, level slog.Level, msg, id string, attrs ...slog.Attr) {
	if !m.cfg.Logger.Enabled(ctx, level) {
		return
	}
	if id != "" {
		attrs = append(attrs, slog.String("session", m.signer.hashID(id)))
	}
	m.cfg.Logger.LogAttrs(ctx, level, msg, attrs...)
}

// cas stores rec; the Manager never touches rec.Data afterwards. now is
// the Manager's reading of the clock.
func (m *Manager) cas(ctx context.Context, id string, old uint64, rec Record, now time.Time) error {
	if m.shared != nil {
		return m.shared.casOwned(ctx, id, old, rec, m.realNow(now))
	}
	return m.store.CompareAndSwap(ctx, id, old, rec)
}

// storeCtx gives a store call its own deadline, detached from the request's
// cancellation: a client that disconnects must not abort a commit halfway.
func (m *Manager) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.local {
		return ctx, func() {}
	}
	return context.WithTimeout(context.WithoutCancel(ctx), m.cfg.StoreTimeout)
}

func storeErr(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrStoreUnavailable, op, err)
}

// skip reports whether the request carries one of Config.SkipHeaders, in
// which case the request runs without a session.
func (m *Manager) skip(c Carrier) bool {
	for _, h := range m.cfg.SkipHeaders {
		vals := c.RequestHeader(h.Name)
		if len(vals) == 0 {
			continue
		}
		if h.Value == "" || h.Value == "*" {
			return true
		}
		for _, v := range vals {
			if v == h.Value {
				return true
			}
		}
	}
	return false
}

// loaded is one verified cookie's record, parsed.
type loaded struct {
	id      string
	key     int
	rec     Record
	hdr     header
	entries []byte
}

// load reads the session for a request. It returns a nil Session and a nil
// error when a skip header is present. A missing, malformed, forged or
// expired cookie gives a new, empty session, never an error: the store is
// consulted only for cookies whose MAC verifies, and an ID the store does
// not hold is never adopted. The only error is a store failure (wrapping
// ErrStoreUnavailable), on which the adapter must answer with
// ErrorResponse and not run the handler.
//
// With c == nil the carrier is a headerCarrier over req and resp, stored
// inside the Session.
func (m *Manager) load(ctx context.Context, c Carrier, req, resp http.Header) (*Session, error) {
	s := &Session{m: m, c: c, isNew: true, now: m.now()}
	if c == nil {
		s.hc = headerCarrier{req: req, resp: resp, spare: &s.hdrBuf}
		c = &s.hc
		s.c = c
	}
	if len(m.cfg.SkipHeaders) > 0 && m.skip(c) {
		return nil, nil
	}
	var cands [maxCandidates]string
	n := cookieCandidates(c.RequestHeader("Cookie"), m.cfg.CookieName, &cands)
	if n == 0 {
		return s, nil
	}
	var ids [maxCandidates]string
	var keys [maxCandidates]int
	nv, invalid := 0, 0
	for _, v := range cands[:n] {
		id, key, ok := m.signer.verify(v)
		if !ok {
			invalid++
			continue
		}
		dup := false
		for _, seen := range ids[:nv] {
			dup = dup || seen == id
		}
		if !dup {
			ids[nv], keys[nv] = id, key
			nv++
		}
	}
	if invalid > 0 {
		m.logSession(ctx, slog.LevelInfo, "sess: ignored session cookie with an invalid signature or format", "",
			slog.String("event", "invalid_cookie"), slog.Int("count", invalid))
	}
	var found loaded
	for i := range nv {
		l, ok, err := m.loadID(ctx, ids[i], keys[i], s.now)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if found.id != "" {
			// Two different live sessions offered at once: cookie tossing
			// or a confused client. Adopt neither.
			m.logSession(ctx, slog.LevelWarn, "sess: request carried two different valid session cookies; using neither", "",
				slog.String("event", "ambiguous_cookie"))
			return s, nil
		}
		found = l
	}
	if found.id == "" {
		return s, nil
	}
	s.id, s.stored, s.isNew = found.id, true, false
	s.version, s.expires = found.rec.Version, found.rec.Expires
	s.entries, s.absolute = found.entries, found.hdr.absolute
	s.resign = found.key > 0
	return s, nil
}

// loadID fetches and checks one verified ID. It reports false for a session
// that does not exist (any more), and an error only for store failures.
func (m *Manager) loadID(ctx context.Context, id string, key int, now time.Time) (loaded, bool, error) {
	sctx, cancel := m.storeCtx(ctx)
	var rec Record
	var err error
	if m.shared != nil {
		rec, err = m.shared.getShared(sctx, id, m.realNow(now))
	} else {
		rec, err = m.store.Get(sctx, id)
	}
	cancel()
	if errors.Is(err, ErrNotFound) {
		m.logSession(ctx, slog.LevelDebug, "sess: signed session ID not in store; starting a new session", id, slog.String("event", "unknown_session"))
		return loaded{}, false, nil
	}
	if err != nil {
		return loaded{}, false, storeErr("get", err)
	}
	if !now.Before(rec.Expires) {
		m.dropRecord(ctx, id, "expired")
		return loaded{}, false, nil
	}
	hdr, entries, err := parseHeader(rec.Data, m.cfg.MaxDataSize)
	if err != nil {
		m.logSession(ctx, slog.LevelWarn, "sess: corrupt session record deleted", id,
			slog.String("event", "corrupt_record"), slog.Any("error", err))
		m.dropRecord(ctx, id, "")
		return loaded{}, false, nil
	}
	if now.UnixMilli() >= hdr.absolute {
		m.dropRecord(ctx, id, "absolute deadline passed")
		return loaded{}, false, nil
	}
	return loaded{id: id, key: key, rec: rec, hdr: hdr, entries: entries}, true, nil
}

func (m *Manager) dropRecord(ctx context.Context, id, why string) {
	if why != "" {
		m.logSession(ctx, slog.LevelDebug, "sess: session ended: "+why, id, slog.String("event", "expired"))
	}
	sctx, cancel := m.storeCtx(ctx)
	defer cancel()
	if err := m.store.Delete(sctx, id); err != nil {
		m.logSession(ctx, slog.LevelWarn, "sess: deleting dead session record failed", id, slog.Any("error", err))
	}
}

// commit persists the session's changes and adds its response headers
// through the Carrier. A Lifecycle calls it when the response is about to
// start (before the first byte; status is the response status) and once
// more after the handler returns; calls after the first persist changes
// made late if that is still safe (the session already had its cookie) and
// otherwise report ErrResponseStarted in the log and the return value.
//
// If commit returns an error other than ErrResponseStarted, nothing was
// stored and no header was added: the adapter answers with ErrorResponse if
// the response has not started. A response with a 5xx status saves nothing
// unless Config.SaveOnServerError is set. A commit that finds its session
// destroyed by a concurrent request is dropped and logged, and returns nil.
// commit on a nil Session does nothing.
func (m *Manager) commit(ctx context.Context, s *Session, status int) error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.started
	s.started = true
	pending := s.dirty || len(s.oldIDs) > 0
	if status >= 500 && !m.cfg.SaveOnServerError {
		if pending {
			m.logSession(ctx, slog.LevelDebug, "sess: not saving session changes of a failed request", s.id, slog.Int("status", status))
		}
		s.discardLocked()
		s.err = nil
		return nil
	}
	if s.err != nil {
		err := s.err
		s.err = nil
		s.discardLocked()
		return err
	}
	if !first {
		if !pending {
			return nil
		}
		// Persisting is safe only if the client already holds the cookie
		// for this session: no new ID, no renewal, no destroy.
		if len(s.oldIDs) > 0 || !s.stored {
			m.logSession(ctx, slog.LevelError, "sess: session changed after the response started; change not saved (commit session changes before writing the body)", s.id,
				slog.String("event", "late_change"))
			s.discardLocked()
			return ErrResponseStarted
		}
	}
	now := m.now()
	created := false
	if s.dirty {
		ok, err := m.write(ctx, s, now)
		if err != nil {
			return err
		}
		if !ok { // deleted concurrently or past its absolute deadline
			s.discardLocked()
			return nil
		}
		created = s.version == 1
	} else if s.stored && m.touchMin > 0 && len(s.oldIDs) == 0 {
		m.touch(ctx, s, now)
	}
	if len(s.oldIDs) > 0 {
		for _, old := range s.oldIDs {
			sctx, cancel := m.storeCtx(ctx)
			err := m.store.Delete(sctx, old)
			cancel()
			if err != nil {
				if created {
					// Roll back the new record so no orphan outlives a
					// failed logout or renewal.
					m.dropRecord(ctx, s.id, "")
				}
				s.discardLocked()
				return storeErr("delete", err)
			}
		}
		s.oldIDs = nil
	}
	if !first {
		return nil
	}
	switch {
	case s.stored && (created || s.resign):
		s.resign = false
		m.emit(s, m.cookies.line(m.signer, s.id, now, time.UnixMilli(s.absolute)))
	case s.destroyed && !s.stored:
		m.emit(s, m.cookies.deleted)
	}
	s.destroyed = false
	return nil
}

func (m *Manager) emit(s *Session, line string) {
	s.c.AddResponseHeader("Set-Cookie", line)
	s.c.AddResponseHeader("Vary", "Cookie")
	s.c.AddResponseHeader("Cache-Control", `no-cache="Set-Cookie"`)
}

// expiry returns when a record written or touched now expires.
func (m *Manager) expiry(now time.Time, absolute int64) time.Time {
	abs := time.UnixMilli(absolute)
	if m.cfg.IdleTimeout > 0 {
		if idle := now.Add(m.cfg.IdleTimeout); idle.Before(abs) {
			return idle
		}
	}
	return abs
}

// build encodes the session: header, the stored entries the request did
// not change (copied verbatim, never decoded), then the changed keys.
func (m *Manager) build(s *Session, entries []byte, absolute int64) ([]byte, error) {
	b := make([]byte, 0, 16+len(entries)+16*len(s.changes))
	b = append(b, recordFormat)
	b = binary.AppendUvarint(b, uint64(absolute))
	if !s.cleared {
		rest := entries
		for len(rest) > 0 {
			l, n := binary.Uvarint(rest)
			if n <= 0 || l > uint64(len(rest)-n) {
				return nil, errCorrupt
			}
			key := rest[n : n+int(l)]
			_, _, after, err := readValue(rest[n+int(l):])
			if err != nil {
				return nil, err
			}
			if s.findChange(string(key)) < 0 {
				b = append(b, rest[:len(rest)-len(after)]...)
			}
			rest = after
		}
	}
	for _, c := range s.changes {
		if c.del {
			continue
		}
		b = appendString(b, c.key)
		var err error
		if b, err = appendValue(b, c.val, m.cfg.Codec, 0); err != nil {
			return nil, err
		}
	}
	if len(b) > m.cfg.MaxDataSize {
		return nil, fmt.Errorf("%w: %d bytes, cap %d", ErrTooLarge, len(b), m.cfg.MaxDataSize)
	}
	return b, nil
}

// write persists a dirty session with compare-and-swap. On a version
// conflict it reloads the record and re-applies only this request's
// changes. It returns false if the session turned out to be gone.
func (m *Manager) write(ctx context.Context, s *Session, now time.Time) (bool, error) {
	if s.absolute == 0 {
		s.absolute = now.Add(m.cfg.AbsoluteTimeout).UnixMilli()
	}
	if now.UnixMilli() >= s.absolute {
		return false, nil
	}
	entries := s.entries
	for attempt := 0; ; attempt++ {
		data, err := m.build(s, entries, s.absolute)
		if err != nil {
			s.discardLocked()
			return false, err
		}
		exp := m.expiry(now, s.absolute)
		if !s.stored {
			// A new record: a new session or a renewed ID.
			if s.id == "" {
				if s.id, err = m.newID(); err != nil {
					s.discardLocked()
					return false, err
				}
			}
			sctx, cancel := m.storeCtx(ctx)
			err = m.cas(sctx, s.id, 0, Record{Data: data, Version: 1, Expires: exp}, now)
			cancel()
			if errors.Is(err, ErrConflict) && attempt < maxCreateRetries {
				m.logSession(ctx, slog.LevelWarn, "sess: new session ID collided with a live one; drawing another", "", slog.String("event", "id_collision"))
				s.id = ""
				if s.renewed {
					if s.id, err = m.newID(); err != nil {
						s.discardLocked()
						return false, err
					}
				}
				continue
			}
			if err != nil {
				if s.renewed || len(s.oldIDs) == 0 {
					s.id = ""
				}
				s.discardLocked()
				return false, storeErr("create", err)
			}
			s.stored, s.version, s.isNew = true, 1, s.isNew && !s.renewed
		} else {
			sctx, cancel := m.storeCtx(ctx)
			err = m.cas(sctx, s.id, s.version, Record{Data: data, Version: s.version + 1, Expires: exp}, now)
			cancel()
			switch {
			case err == nil:
				s.version++
			case errors.Is(err, ErrNotFound):
				m.logSession(ctx, slog.LevelInfo, "sess: session was destroyed by a concurrent request; changes dropped", s.id,
					slog.String("event", "session_deleted"))
				s.stored = false
				return false, nil
			case errors.Is(err, ErrConflict) && attempt < maxCASRetries:
				l, ok, lerr := m.loadID(ctx, s.id, 0, now)
				if lerr != nil {
					s.discardLocked()
					return false, lerr
				}
				if !ok {
					s.stored = false
					return false, nil
				}
				s.version, entries = l.rec.Version, l.entries
				if attempt >= 2 {
					// Many writers on one session: spread the retries out
					// so they stop colliding.
					time.Sleep(time.Duration(rand.Int64N(int64(attempt) * int64(200*time.Microsecond))))
				}
				continue
			case errors.Is(err, ErrConflict):
				s.discardLocked()
				return false, storeErr("commit", fmt.Errorf("gave up after %d conflicting writers: %w", attempt, err))
			default:
				s.discardLocked()
				return false, storeErr("commit", err)
			}
		}
		s.entries = data[1+uvarintLen(uint64(s.absolute)):]
		s.expires = exp
		s.cleared, s.changes, s.dirty = false, nil, false
		return true, nil
	}
}

// touch extends the idle deadline of an unmodified session without
// rewriting its data. It skips the store call unless the deadline would
// move by at least touchMin (1% of IdleTimeout, at least a second), so most
// reading requests cost no write at all. A failed touch is logged, not
// fatal: the session may end a little early, but nothing is lost.
func (m *Manager) touch(ctx context.Context, s *Session, now time.Time) {
	exp := m.expiry(now, s.absolute)
	if exp.Sub(s.expires) < m.touchMin {
		return
	}
	sctx, cancel := m.storeCtx(ctx)
	err := m.store.Touch(sctx, s.id, exp)
	cancel()
	switch {
	case err == nil:
		s.expires = exp
	case errors.Is(err, ErrNotFound):
	default:
		m.logSession(ctx, slog.LevelWarn, "sess: extending the idle deadline failed", s.id, slog.Any("error", err))
	}
}

func uvarintLen(x uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], x)
}
