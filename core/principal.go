package sess

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"
)

// SetPrincipal binds the session to a principal: the application's ID for
// the signed-in user, as at a login. The binding is stored with the
// session, survives later requests and Renew, and lets the Manager list and
// end the user's sessions (Manager.Sessions, Manager.RevokeAll,
// Session.RevokeOthers). An empty principal unbinds the session; Destroy
// unbinds it too. Call Renew as well at a login, so that a session ID known
// before the login cannot be used after it.
//
// SetPrincipal returns an error wrapping ErrNoPrincipalIndex, and changes
// nothing, if the Manager's store does not implement PrincipalIndex, and
// one wrapping ErrInvalidPrincipal for a principal longer than 256 bytes or
// not valid UTF-8. Like Set, it creates a new session if there is none.
func (s *Session) SetPrincipal(principal string) error {
	m := s.m
	if m.index == nil {
		return m.noIndex()
	}
	if err := validPrincipal(principal, true); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignored("SetPrincipal") || principal == string(s.principal) {
		return nil
	}
	s.principal = []byte(principal)
	s.created = 0
	if principal != "" {
		s.created = m.now().UnixMilli()
	}
	s.bindDirty, s.metaDirty, s.dirty, s.status = true, true, true, StatusModified
	return nil
}

// Principal returns the principal the session is bound to (see
// SetPrincipal), or "" if it is not bound.
func (s *Session) Principal() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.principal)
}

// Handle returns the session's handle: a stable, non-secret name for it
// (HashID of its ID) that Manager.Sessions reports and Manager.Revoke
// accepts. It is "" while the session has no stored record (a new session
// before its first commit, a renewed one before the commit that stores the
// new ID). Unlike the ID, a handle can be shown to users and logged: it
// cannot be turned into a cookie.
func (s *Session) Handle() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stored {
		return ""
	}
	return HashID(s.id)
}

// RevokeOthers ends, at once and on every instance sharing the store, every
// other session bound to this session's principal ("log out everywhere
// else"), and returns how many it ended. It keeps this session. It does
// nothing for a session that is not bound or not stored yet, and returns
// ErrNoPrincipalIndex if the store keeps no principal index.
func (s *Session) RevokeOthers(ctx context.Context) (int, error) {
	if s.m.index == nil {
		return 0, s.m.noIndex()
	}
	s.mu.Lock()
	p, stored, id := string(s.principal), s.stored && !s.skipped, s.id
	s.mu.Unlock()
	if p == "" || !stored {
		return 0, nil
	}
	return s.m.RevokeAll(ctx, p, HashID(id))
}

// SessionInfo describes one live session outside a request, as
// Manager.Sessions, Manager.SessionByHandle and Manager.SessionByID report
// it. It holds no session ID.
type SessionInfo struct {
	// Handle names the session for Manager.Revoke and
	// Manager.RevokeHandle; Session.Handle returns the same.
	Handle string
	// Principal is the principal the session is bound to, or "".
	Principal string
	// SignedIn is when the session was bound to Principal; zero if it is
	// not bound.
	SignedIn time.Time
	// LastSeen is about when a request last used the session: to within 1%
	// of the idle timeout (reading requests extend the idle deadline only
	// when it moves by that much). Zero without an idle timeout.
	LastSeen time.Time
	// Idle is when the session ends unless a request uses it.
	Idle time.Time
	// Absolute is when the session ends however active it is.
	Absolute time.Time
	// Persistent reports whether the session's cookie is persistent
	// (Max-Age), as for a "remember me" login.
	Persistent bool

	entries []byte
	codec   Codec
}

// Get returns the value the session stores under key, decoded as
// Session.Get would (for example a user agent the application saved at
// login, to show in a list of the user's sessions).
func (i *SessionInfo) Get(key string) (any, bool) {
	tag, p, ok := findEntry(i.entries, key)
	if !ok {
		return nil, false
	}
	v, err := decodeValue(tag, p, i.codec)
	if err != nil {
		return nil, false
	}
	return v, true
}

// Sessions lists the live sessions bound to principal, the most recently
// used first, without scanning the store: a user's "your sessions" page,
// or an administrator's view. It returns an error wrapping
// ErrNoPrincipalIndex if the store keeps no principal index,
// ErrInvalidPrincipal for a principal SetPrincipal would refuse (or an
// empty one), and ErrStoreUnavailable if the store fails.
func (m *Manager) Sessions(ctx context.Context, principal string) ([]SessionInfo, error) {
	if err := m.checkPrincipal(principal); err != nil {
		return nil, err
	}
	sctx, cancel := m.storeCtx(ctx)
	recs, err := m.index.ListPrincipal(sctx, principal)
	cancel()
	if err != nil {
		return nil, storeErr("list sessions", err)
	}
	now := m.now()
	out := make([]SessionInfo, 0, len(recs))
	for _, r := range recs {
		if info, ok := m.info(r.Handle, r.Record, now); ok && info.Principal == principal {
			out = append(out, info)
		}
	}
	slices.SortFunc(out, func(a, b SessionInfo) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return cmp.Compare(a.Handle, b.Handle)
	})
	return out, nil
}

// Revoke ends the session with the given handle at once, on every instance
// sharing the store, if it is bound to principal; a user ending one of
// their own sessions passes their principal, so a handle of another user's
// session ends nothing. It returns an error wrapping ErrNotFound if no live
// session of principal has that handle, ErrInvalidHandle for a malformed
// handle (checked before any store access), and the errors of Sessions.
func (m *Manager) Revoke(ctx context.Context, principal, handle string) error {
	if err := m.checkPrincipal(principal); err != nil {
		return err
	}
	return m.revokeHandle(ctx, handle, principal)
}

// RevokeAll ends every session bound to principal except those whose
// handles are in keep, at once and on every instance sharing the store: a
// password change, "log out everywhere", an administrator locking an
// account. It returns how many sessions it ended, and the errors of
// Sessions.
func (m *Manager) RevokeAll(ctx context.Context, principal string, keep ...string) (int, error) {
	if err := m.checkPrincipal(principal); err != nil {
		return 0, err
	}
	sctx, cancel := m.storeCtx(ctx)
	n, err := m.index.DeletePrincipal(sctx, principal, keep)
	cancel()
	if err != nil {
		return n, storeErr("revoke sessions", err)
	}
	if n > 0 {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sess: sessions revoked", slog.String("event", "revoked"), slog.Int("count", n))
	}
	return n, nil
}

// SessionByHandle returns the live session with the given handle, if it is
// bound to a principal (the index knows only those), for administration
// outside any request. It returns an error wrapping ErrNotFound if there is
// none, ErrInvalidHandle for a malformed handle (checked before any store
// access), ErrNoPrincipalIndex and ErrStoreUnavailable as Sessions does.
func (m *Manager) SessionByHandle(ctx context.Context, handle string) (SessionInfo, error) {
	if m.index == nil {
		return SessionInfo{}, m.noIndex()
	}
	if !validHandle(handle) {
		return SessionInfo{}, errBadHandle
	}
	sctx, cancel := m.storeCtx(ctx)
	r, err := m.index.GetHandle(sctx, handle)
	cancel()
	if errors.Is(err, ErrNotFound) {
		return SessionInfo{}, err
	}
	if err != nil {
		return SessionInfo{}, storeErr("get session by handle", err)
	}
	info, ok := m.info(handle, r.Record, m.now())
	if !ok {
		return SessionInfo{}, ErrNotFound
	}
	return info, nil
}

// RevokeHandle ends the session with the given handle, bound to any
// principal, at once: an administrator's action. Its errors are those of
// SessionByHandle.
func (m *Manager) RevokeHandle(ctx context.Context, handle string) error {
	if m.index == nil {
		return m.noIndex()
	}
	return m.revokeHandle(ctx, handle, "")
}

// SessionByID returns the live session with the given raw session ID (as
// a support tool may hold it; never the signed cookie value), for
// administration outside any request; it works with every store and for
// sessions not bound to a principal too. It returns an error wrapping
// ErrInvalidHandle for a string that is not of the form of a session ID
// (checked before any store access), ErrNotFound if no live session has
// the ID, and ErrStoreUnavailable if the store fails.
func (m *Manager) SessionByID(ctx context.Context, id string) (SessionInfo, error) {
	if !validID(id) {
		return SessionInfo{}, errBadID
	}
	rec, err := m.get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return SessionInfo{}, err
	}
	if err != nil {
		return SessionInfo{}, storeErr("get", err)
	}
	info, ok := m.info(HashID(id), rec, m.now())
	if !ok {
		return SessionInfo{}, ErrNotFound
	}
	if len(rec.Entries) > 0 {
		// A shared record must not be handed out: the caller may keep it.
		info.entries = append([]byte(nil), rec.Entries...)
	}
	return info, nil
}

// RevokeID ends the session with the given raw session ID at once. Ending
// a session that does not exist is not an error. Its other errors are
// those of SessionByID.
func (m *Manager) RevokeID(ctx context.Context, id string) error {
	if !validID(id) {
		return errBadID
	}
	if err := m.delete(ctx, id); err != nil {
		return storeErr("delete", err)
	}
	if m.obs != nil {
		m.observe(ctx, EventDestroyed, id, nil)
	}
	return nil
}

func (m *Manager) revokeHandle(ctx context.Context, handle, principal string) error {
	if !validHandle(handle) {
		return errBadHandle
	}
	sctx, cancel := m.storeCtx(ctx)
	err := m.index.DeleteHandle(sctx, handle, principal)
	cancel()
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return storeErr("revoke session", err)
	}
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "sess: sessions revoked", slog.String("event", "revoked"), slog.Int("count", 1))
	return nil
}

// info builds the SessionInfo of a record, reporting false for a record
// that is dead by the Manager's clock or unreadable.
func (m *Manager) info(handle string, rec Record, now time.Time) (SessionInfo, bool) {
	if !now.Before(rec.Expires) {
		return SessionInfo{}, false
	}
	h, err := parseRecord(rec.Meta, rec.Entries, m.cfg.MaxDataSize)
	if err != nil || now.UnixMilli() >= h.absolute {
		return SessionInfo{}, false
	}
	info := SessionInfo{
		Handle:     handle,
		Principal:  string(h.principal),
		Idle:       rec.Expires,
		Absolute:   time.UnixMilli(h.absolute),
		Persistent: m.cookieAge(h.lt) > 0,
		entries:    rec.Entries,
		codec:      m.cfg.Codec,
	}
	if len(h.principal) > 0 {
		info.SignedIn = time.UnixMilli(h.created)
	}
	if idle := m.idleFor(h.lt); idle > 0 {
		info.LastSeen = rec.Expires.Add(-idle)
		if !info.SignedIn.IsZero() && info.LastSeen.Before(info.SignedIn) {
			info.LastSeen = info.SignedIn
		}
	}
	return info, true
}

func (m *Manager) noIndex() error {
	return fmt.Errorf("%w: %T does not implement sess.PrincipalIndex (the memory, Redis and PostgreSQL stores do)", ErrNoPrincipalIndex, m.store)
}

// checkPrincipal validates a principal passed to a management method.
func (m *Manager) checkPrincipal(principal string) error {
	if m.index == nil {
		return m.noIndex()
	}
	return validPrincipal(principal, false)
}

// validPrincipal checks a principal's length and encoding; empty is valid
// only if allowEmpty (SetPrincipal's unbind).
func validPrincipal(p string, allowEmpty bool) error {
	switch {
	case p == "" && !allowEmpty:
		return fmt.Errorf("%w: empty", ErrInvalidPrincipal)
	case len(p) > maxPrincipal:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidPrincipal, len(p), maxPrincipal)
	case !utf8.ValidString(p):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidPrincipal)
	}
	return nil
}

// The errors of malformed input to the admin methods.
var (
	errBadHandle = fmt.Errorf("%w: a handle is 64 lowercase hexadecimal digits", ErrInvalidHandle)
	errBadID     = fmt.Errorf("%w: a session ID is 16 to 128 base64url characters", ErrInvalidHandle)
)

// validHandle reports whether h has the form of HashID's output.
func validHandle(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
