package sess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

const (
	maxCreateRetries = 3
	// maxRenewRetries bounds how often a renewal re-reads the old record
	// because a concurrent request changed it meanwhile.
	maxRenewRetries = 8
)

// Manager runs the session lifecycle for one cookie name. It is immutable
// after New and safe for concurrent use. Adapters drive each request
// through a Lifecycle (Begin); handlers only use the Session.
type Manager struct {
	cfg      Config
	signer   *signer
	cookies  *cookieWriter
	store    Store
	owned    *MemoryStore   // the default store, closed by Close
	local    bool           // the store is NonBlocking: no per-call timeout context
	shared   SharedGetter   // the store's SharedGetter capability, if any
	index    PrincipalIndex // the store's PrincipalIndex capability, if any
	touchMin time.Duration
	// builtinIDs: GenerateID is RandomID, whose output needs no check.
	builtinIDs bool
	obs        Observer   // Config.Observer or its queue (startObserver); nil costs nothing
	seclog     logLimiter // rate limit of the security log lines
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
	m.startObserver()
	if m.store == nil {
		m.owned = NewMemoryStore(MemoryConfig{})
		m.store = m.owned
	}
	if nb, ok := m.store.(NonBlocking); ok && nb.NonBlocking() {
		m.local = true
	}
	m.shared, _ = m.store.(SharedGetter)
	m.index, _ = m.store.(PrincipalIndex)
	m.builtinIDs = cfg.GenerateID == nil
	if c.IdleTimeout > 0 {
		m.touchMin = max(c.IdleTimeout/100, time.Second)
	}
	return m, nil
}

// Close stops the Observer's queue, if the Manager has one (see Observer),
// and releases the default in-memory store, if the Manager created one. A
// Store passed in Config stays open; its owner closes it.
//
// Events already queued are delivered first: Close waits for them at most
// 5 seconds, then drops and counts the rest (ObserverDrops) and returns an
// error saying so. Events after Close are dropped and counted. Close may
// be called more than once; later calls return the first one's result.
func (m *Manager) Close() error {
	err := m.stopObserver()
	if m.owned != nil {
		return errors.Join(err, m.owned.Close())
	}
	return err
}

// CookieName returns the session cookie's name.
func (m *Manager) CookieName() string { return m.cfg.CookieName }

// ObjectName returns Config.ObjectName, the key under which adapters put
// the session among their framework's per-request values (gin's and echo's
// c.Set, fiber's c.Locals).
func (m *Manager) ObjectName() string { return m.cfg.ObjectName }

// Store returns the store the Manager uses.
func (m *Manager) Store() Store { return m.store }

// Logger returns the Manager's logger.
func (m *Manager) Logger() *slog.Logger { return m.cfg.Logger }

func (m *Manager) now() time.Time { return m.cfg.Now() }

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
	id  string
	key int
	rec Record
	hdr header
	// forwarded: the cookie's ID was renewed and the record is the new
	// ID's, reached through the grace window (see Config.RenewGrace).
	forwarded bool
}

// load reads the session for a request. When a skip header is present it
// returns an inert session (see Session.skipped) without reading the cookie. A missing, malformed, forged or
// expired cookie gives a new, empty session, never an error: the store is
// consulted only for cookies whose MAC verifies, and an ID the store does
// not hold is never adopted. The only error is a store failure (wrapping
// ErrStoreUnavailable), on which the adapter must answer with
// ErrorResponse and not run the handler.
//
// With c == nil the carrier is a headerCarrier over req and resp, stored
// inside the Session.
func (m *Manager) load(ctx context.Context, c Carrier, req, resp http.Header) (*Session, error) {
	s := &Session{m: m, c: c, isNew: true, now: m.now().UnixNano()}
	if c == nil {
		s.hc = headerCarrier{req: req, resp: resp, spare: &s.hdrBuf}
		c = &s.hc
		s.c = c
	}
	if len(m.cfg.SkipHeaders) > 0 && m.skip(c) {
		s.skipped = true
		return s, nil
	}
	var cands [maxCandidates]string
	n := 0
	if !m.cfg.DisableCookie {
		n = cookieCandidates(c.RequestHeader("Cookie"), m.cfg.CookieName, &cands)
	}
	if m.cfg.TokenHeader != "" {
		n = m.tokenCandidates(c, n, &cands)
	}
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
		if m.obs != nil {
			for range invalid {
				m.observe(ctx, EventInvalidCookie, "", nil)
			}
		}
		m.logSecurity(ctx, slog.LevelInfo, "sess: ignored session cookie with an invalid signature or format", "",
			slog.String("event", "invalid_cookie"), slog.Int("count", invalid))
	}
	var found loaded
	for i := range nv {
		l, ok, err := m.loadID(ctx, ids[i], keys[i], time.Unix(0, s.now), m.cfg.RenewGrace > 0)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if found.id != "" {
			// Two different live sessions offered at once: cookie tossing
			// or a confused client. Adopt neither.
			if m.obs != nil {
				m.observe(ctx, EventAmbiguousCookie, "", nil)
			}
			m.logSecurity(ctx, slog.LevelWarn, "sess: request carried two different valid session cookies; using neither", "",
				slog.String("event", "ambiguous_cookie"))
			return s, nil
		}
		found = l
	}
	if found.id == "" {
		return s, nil
	}
	if m.obs != nil {
		m.observe(ctx, EventLoaded, found.id, nil)
	}
	s.id, s.stored, s.isNew = found.id, true, false
	s.version, s.expires = found.rec.Version, found.rec.Expires.UnixNano()
	s.entries, s.absolute, s.lt = found.rec.Entries, found.hdr.absolute, found.hdr.lt
	s.principal, s.created = found.hdr.principal, found.hdr.created
	s.forwarded = found.forwarded
	s.resign = found.key > 0
	return s, nil
}

// loadID fetches and checks one verified ID. It reports false for a session
// that does not exist (any more), and an error only for store failures.
// With follow, an ID renewed within the grace window loads the new ID's
// session.
func (m *Manager) loadID(ctx context.Context, id string, key int, now time.Time, follow bool) (loaded, bool, error) {
	rec, err := m.get(ctx, id)
	if errors.Is(err, ErrNotFound) && follow {
		to, ok, err := m.follow(ctx, id, now)
		if err != nil {
			return loaded{}, false, err
		}
		if ok {
			l, ok, err := m.loadID(ctx, to, key, now, false)
			l.forwarded = ok
			if ok {
				m.logSession(ctx, slog.LevelDebug, "sess: renewed session reached through its old ID (grace window)", to, slog.String("event", "forwarded"))
			}
			return l, ok, err
		}
	}
	if errors.Is(err, ErrNotFound) {
		if m.obs != nil {
			m.observe(ctx, EventExpired, id, nil)
		}
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
	hdr, err := parseRecord(rec.Meta, rec.Entries, m.cfg.MaxDataSize)
	if err != nil {
		if m.obs != nil {
			m.observe(ctx, EventCorruptRecord, id, err)
		}
		m.logSecurity(ctx, slog.LevelWarn, "sess: corrupt session record deleted", id,
			slog.String("event", "corrupt_record"), slog.Any("error", err))
		m.dropRecord(ctx, id, "")
		return loaded{}, false, nil
	}
	if now.UnixMilli() >= hdr.absolute {
		m.dropRecord(ctx, id, "absolute deadline passed")
		return loaded{}, false, nil
	}
	return loaded{id: id, key: key, rec: rec, hdr: hdr}, true, nil
}

// get reads a record, without a copy if the store offers SharedGetter.
func (m *Manager) get(ctx context.Context, id string) (rec Record, err error) {
	sctx, cancel := m.storeCtx(ctx)
	defer cancel()
	t := m.storeStart()
	if m.shared != nil {
		rec, err = m.shared.GetShared(sctx, id)
	} else {
		rec, err = m.store.Get(sctx, id)
	}
	m.storeDone(ctx, StoreOpGet, t, err)
	return rec, err
}

// delete deletes a record, reporting the call to the Observer.
func (m *Manager) delete(ctx context.Context, id string) error {
	sctx, cancel := m.storeCtx(ctx)
	t := m.storeStart()
	err := m.store.Delete(sctx, id)
	cancel()
	m.storeDone(ctx, StoreOpDelete, t, err)
	return err
}

// storeUpdate applies a Patch, reporting the call to the Observer.
func (m *Manager) storeUpdate(ctx context.Context, id string, p Patch) error {
	sctx, cancel := m.storeCtx(ctx)
	t := m.storeStart()
	err := m.store.Update(sctx, id, p)
	cancel()
	m.storeDone(ctx, StoreOpUpdate, t, err)
	return err
}

func (m *Manager) dropRecord(ctx context.Context, id, why string) {
	if why != "" {
		if m.obs != nil {
			m.observe(ctx, EventExpired, id, nil)
		}
		m.logSession(ctx, slog.LevelDebug, "sess: session ended: "+why, id, slog.String("event", "expired"))
	}
	if err := m.delete(ctx, id); err != nil {
		m.logSession(ctx, slog.LevelWarn, "sess: deleting dead session record failed", id, slog.Any("error", err))
	}
}

// commit persists the session's changes and adds its response headers
// through the Carrier. A Lifecycle calls it when the response is about to
// start (before the first byte; status is the response status) and once
// more after the handler returns; calls after the first persist changes
// made late if that is still safe (the session already had its cookie) and
// otherwise report errResponseStarted in the log and the return value.
//
// If commit returns an error other than errResponseStarted, nothing was
// stored and no header was added: the adapter answers with ErrorResponse if
// the response has not started. A response with a 5xx status saves nothing
// unless Config.SaveOnServerError is set. A commit that finds its session
// destroyed by a concurrent request is dropped and logged, and returns nil.
// commit on a nil or skipped Session does nothing.
func (m *Manager) commit(ctx context.Context, s *Session, status int) error {
	if s == nil || s.skipped {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first := !s.started
	s.started = true
	pending := s.dirty || s.oldID != ""
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
		if s.oldID != "" || !s.stored || s.cookieDirty {
			m.logSession(ctx, slog.LevelError, "sess: session changed after the response started; change not saved (commit session changes before writing the body)", s.id,
				slog.String("event", "late_change"))
			s.discardLocked()
			return errResponseStarted
		}
	}
	now := m.now()
	created := false
	if s.dirty {
		wasStored := s.stored
		ok, err := m.write(ctx, s, now)
		if err != nil {
			return err
		}
		if !ok { // deleted concurrently or past its absolute deadline
			s.discardLocked()
			return nil
		}
		created = !wasStored
	} else if s.stored && m.touchMinFor(s.lt) > 0 && s.oldID == "" {
		m.touch(ctx, s, now)
	}
	if old := s.oldID; old != "" {
		err := m.delete(ctx, old)
		if err == nil && m.obs != nil {
			m.observe(ctx, EventDestroyed, old, nil)
		}
		if err != nil {
			if created {
				// Roll back the new record so no orphan outlives a
				// failed logout or renewal.
				m.dropRecord(ctx, s.id, "")
			}
			s.discardLocked()
			return storeErr("delete", err)
		}
		s.oldID = ""
	}
	if !first {
		return nil
	}
	switch {
	case s.forwarded:
		// A grace-window request holds the old ID: it never gets a cookie
		// of its own, and its client gets the new one from the renewal.
	case s.stored && (created || s.resign || s.cookieDirty):
		s.resign, s.cookieDirty = false, false
		if !m.cfg.DisableCookie {
			m.emit(s, m.cookies.line(m.signer, s.id, now, time.UnixMilli(s.absolute), m.cookieAge(s.lt)))
		}
		if m.cfg.TokenHeader != "" {
			m.emitToken(s, m.signer.sign(s.id))
		}
	case s.destroyed && !s.stored:
		if !m.cfg.DisableCookie {
			m.emit(s, m.cookies.deleted)
		}
		if m.cfg.TokenHeader != "" {
			m.emitToken(s, HeaderExpired)
		}
	}
	s.destroyed = false
	return nil
}

func (m *Manager) emit(s *Session, line string) {
	s.c.AddResponseHeader("Set-Cookie", line)
	s.c.AddResponseHeader("Vary", "Cookie")
	s.c.AddResponseHeader("Cache-Control", `no-cache="Set-Cookie"`)
}

// appendEntries appends the session's full entries to b: base (the stored
// entries, unless the request cleared them) without the keys the request
// changed, copied verbatim and never decoded, then the changed keys.
func (m *Manager) appendEntries(b []byte, s *Session, base []byte) ([]byte, error) {
	if !s.cleared {
		for rest := base; len(rest) > 0; {
			k, _, r, err := NextEntry(rest)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errCorrupt, err)
			}
			if s.findChange(string(k)) < 0 {
				b = append(b, rest[:len(rest)-len(r)]...)
			}
			rest = r
		}
	}
	for _, c := range s.changes {
		if c.del {
			continue
		}
		var err error
		if b, err = appendEntryValue(b, c.key, c.val, m.cfg.Codec); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// patch builds the Patch of the changes not yet committed. Encoded values
// go to the session's inline buffer when they fit.
func (m *Manager) patch(s *Session, exp time.Time) (Patch, error) {
	p := Patch{Clear: s.cleared && !s.clearSent, Expires: exp, MaxSize: m.cfg.MaxDataSize}
	if s.metaDirty {
		p.Meta = metaFor(nil, s)
	}
	if s.bindDirty && m.index != nil {
		principal := string(s.principal) // a binding write: rare, at login
		p.Principal, p.Deadline = &principal, time.UnixMilli(s.absolute)
	}
	var vals []byte
	if !s.encHeld {
		vals = s.encBuf[:0]
	}
	sets := 0
	for i := range s.changes {
		c := &s.changes[i]
		if c.sent {
			continue
		}
		if c.del {
			p.Delete = append(p.Delete, c.key)
			continue
		}
		var err error
		if vals, err = appendValue(vals, c.val, m.cfg.Codec, 0); err != nil {
			return p, err
		}
		c.end = int32(len(vals))
		sets++
	}
	if sets <= len(s.setBuf) {
		p.Set = s.setBuf[:0]
	} else {
		p.Set = make([]Entry, 0, sets)
	}
	start := int32(0)
	for i := range s.changes {
		c := &s.changes[i]
		if c.sent || c.del {
			continue
		}
		p.Set = append(p.Set, Entry{Key: c.key, Value: vals[start:c.end:c.end]})
		start = c.end
	}
	return p, nil
}

// errGone reports, inside write, that the session was ended concurrently.
var errGone = errors.New("sess: session ended concurrently")

// write persists a dirty session: an Update with only this request's
// changes for a stored session, a Create for a new session or a renewed
// ID. It returns false if the session turned out to be gone (destroyed
// concurrently or past its absolute deadline); its changes are dropped.
func (m *Manager) write(ctx context.Context, s *Session, now time.Time) (bool, error) {
	if s.absolute == 0 {
		s.absolute = now.Add(m.cfg.AbsoluteTimeout).UnixMilli()
	}
	if now.UnixMilli() >= s.absolute {
		return false, nil
	}
	exp := m.expiryFor(s.lt, now, s.absolute)
	if s.stored {
		return m.update(ctx, s, exp)
	}
	return m.create(ctx, s, exp)
}

func (m *Manager) update(ctx context.Context, s *Session, exp time.Time) (bool, error) {
	p, err := m.patch(s, exp)
	if err != nil {
		s.discardLocked()
		return false, err
	}
	err = m.storeUpdate(ctx, s.id, p)
	switch {
	case err == nil:
		s.sentLocked()
		s.expires, s.metaDirty, s.bindDirty = exp.UnixNano(), false, false
		return true, nil
	case errors.Is(err, ErrNotFound):
		if m.cfg.RenewGrace > 0 && !s.forwarded {
			// Renewed by a concurrent request since this one loaded it:
			// within the grace window the change goes to the new ID.
			to, ok, ferr := m.follow(ctx, s.id, m.now())
			if ferr == nil && ok {
				s.id, s.forwarded = to, true
				return m.update(ctx, s, exp)
			}
		}
		m.logDeleted(ctx, s.id)
		s.stored = false
		return false, nil
	case errors.Is(err, ErrTooLarge):
		s.discardLocked()
		return false, fmt.Errorf("sess: commit: %w", err)
	default:
		s.discardLocked()
		return false, storeErr("update", err)
	}
}

// errDestroyedConcurrently is the Err of the EventConflict reported when a
// commit finds its session destroyed by a concurrent request.
var errDestroyedConcurrently = errors.New("sess: session destroyed by a concurrent request; changes dropped")

func (m *Manager) logDeleted(ctx context.Context, id string) {
	if m.obs != nil {
		m.observe(ctx, EventConflict, id, errDestroyedConcurrently)
	}
	m.logSession(ctx, slog.LevelInfo, "sess: session was destroyed by a concurrent request; changes dropped", id,
		slog.String("event", "session_deleted"))
}

func (m *Manager) tooLarge(size int) error {
	return fmt.Errorf("%w: %d bytes, cap %d", ErrTooLarge, size, m.cfg.MaxDataSize)
}

func (m *Manager) create(ctx context.Context, s *Session, exp time.Time) (bool, error) {
	// Meta and, if they fit, the entries share the session's inline buffer.
	// A long principal makes Meta outgrow it; the entries go elsewhere then.
	meta := metaFor(s.encBuf[:0], s)
	meta = meta[:len(meta):len(meta)]
	var rest []byte
	if len(meta) <= len(s.encBuf) {
		rest = s.encBuf[len(meta):len(meta)]
	}
	entries, err := m.appendEntries(rest, s, s.entries)
	if err == nil && len(meta)+len(entries) > m.cfg.MaxDataSize {
		err = m.tooLarge(len(meta) + len(entries))
	}
	if err == nil && s.id == "" {
		s.id, err = m.newID()
	}
	if err != nil {
		s.discardLocked()
		return false, err
	}
	rec := Record{Meta: meta, Entries: entries, Expires: exp}
	if len(s.principal) > 0 && m.index != nil {
		rec.Principal, rec.Deadline = string(s.principal), time.UnixMilli(s.absolute)
	}
	for attempt := 0; ; attempt++ {
		sctx, cancel := m.storeCtx(ctx)
		t := m.storeStart()
		err = m.store.Create(sctx, s.id, rec)
		cancel()
		m.storeDone(ctx, StoreOpCreate, t, err)
		if err == nil {
			break
		}
		if errors.Is(err, ErrConflict) {
			m.logSession(ctx, slog.LevelWarn, "sess: new session ID collided with a live one; drawing another", "", slog.String("event", "id_collision"))
			if attempt < maxCreateRetries {
				if s.id, err = m.newID(); err != nil {
					s.discardLocked()
					return false, err
				}
				continue
			}
			// Not a store outage, nor a conflict of writers: the ID
			// generator keeps repeating live IDs.
			err = fmt.Errorf("sess: GenerateID returned %d IDs in a row that live sessions already hold", attempt+1)
		} else {
			err = storeErr("create", err)
		}
		if s.renewed || s.oldID == "" {
			s.id = ""
		}
		s.discardLocked()
		return false, err
	}
	var from string // the renewed session's old ID
	if s.renewed {
		from = s.oldID
		if m.cfg.RenewGrace > 0 {
			m.forward(ctx, from, s.id)
		}
		if entries, err = m.retire(ctx, s, exp, entries); err != nil {
			if m.obs != nil && errors.Is(err, ErrConflict) {
				m.observe(ctx, EventConflict, from, err)
			}
			m.dropRecord(ctx, s.id, "")
			s.id, s.stored = "", false
			if errors.Is(err, errGone) {
				m.logDeleted(ctx, s.oldID)
				s.discardLocked()
				return false, nil
			}
			s.discardLocked()
			return false, err
		}
	}
	if m.obs != nil {
		if s.renewed {
			m.obs.Observe(ctx, Event{Kind: EventRenewed, Handle: m.signer.hashID(s.id), OldHandle: m.signer.hashID(from)})
		} else {
			m.observe(ctx, EventCreated, s.id, nil)
		}
	}
	s.stored, s.version, s.isNew = true, 1, s.isNew && !s.renewed
	s.entries, s.expires, s.encHeld, s.metaDirty, s.bindDirty = entries, exp.UnixNano(), true, false, false
	s.cleared, s.clearSent, s.changes, s.dirty = false, false, nil, false
	return true, nil
}

// retire deletes the record a renewal replaces, on the condition that it
// is still the version the request loaded. If a concurrent request changed
// it meanwhile, retire re-reads it, carries its keys that this request did
// not change over to the new record, and tries again, a bounded number of
// times: a renewal never loses a concurrent writer's change. It returns
// the new record's final entries, errGone if the old session ended
// meanwhile (the new record must not survive it), or ErrConflict if the old
// record kept changing.
func (m *Manager) retire(ctx context.Context, s *Session, exp time.Time, entries []byte) ([]byte, error) {
	old, ver := s.oldID, s.version
	for attempt := 0; ; attempt++ {
		err := m.storeUpdate(ctx, old, Patch{IfVersion: ver})
		switch {
		case err == nil:
			s.oldID = ""
			return entries, nil
		case errors.Is(err, ErrNotFound):
			return nil, errGone
		case !errors.Is(err, ErrConflict):
			return nil, storeErr("renew: delete", err)
		case attempt == maxRenewRetries:
			return nil, fmt.Errorf("sess: renew: the old session changed %d times while it was replaced: %w", attempt+1, ErrConflict)
		}
		rec, err := m.get(ctx, old)
		if errors.Is(err, ErrNotFound) {
			return nil, errGone
		}
		if err != nil {
			return nil, storeErr("renew: get", err)
		}
		if _, err := parseRecord(rec.Meta, rec.Entries, m.cfg.MaxDataSize); err != nil {
			return nil, fmt.Errorf("sess: renew: %w", err)
		}
		ver = rec.Version
		if entries, err = m.appendEntries(nil, s, rec.Entries); err != nil {
			return nil, err
		}
		if size := len(rec.Meta) + len(entries); size > m.cfg.MaxDataSize {
			return nil, m.tooLarge(size)
		}
		set, err := ParseEntries(entries)
		if err != nil {
			return nil, err
		}
		err = m.storeUpdate(ctx, s.id, Patch{Clear: true, Set: set, Expires: exp, MaxSize: m.cfg.MaxDataSize})
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return nil, fmt.Errorf("sess: renew: %w", err)
			}
			return nil, storeErr("renew: carry over", err)
		}
	}
}

// touch extends the idle deadline of an unmodified session without
// rewriting its data. It skips the store call unless the deadline would
// move by at least touchMin (1% of IdleTimeout, at least a second), so most
// reading requests cost no write at all. A failed touch is logged, not
// fatal: the session may end a little early, but nothing is lost.
func (m *Manager) touch(ctx context.Context, s *Session, now time.Time) {
	exp := m.expiryFor(s.lt, now, s.absolute)
	if time.Duration(exp.UnixNano()-s.expires) < m.touchMinFor(s.lt) {
		return
	}
	sctx, cancel := m.storeCtx(ctx)
	t := m.storeStart()
	err := m.store.Touch(sctx, s.id, exp)
	cancel()
	m.storeDone(ctx, StoreOpTouch, t, err)
	switch {
	case err == nil:
		s.expires = exp.UnixNano()
	case errors.Is(err, ErrNotFound):
	default:
		m.logSession(ctx, slog.LevelWarn, "sess: extending the idle deadline failed", s.id, slog.Any("error", err))
	}
}
