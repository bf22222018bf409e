package sess

import (
	"errors"
	"fmt"
	"time"
)

// ErrInvalidLifetime reports a Lifetime that Session.SetLifetime refused:
// a negative duration, or one beyond the Manager's configured maximum.
var ErrInvalidLifetime = errors.New("sess: invalid session lifetime")

// Lifetime is one session's own lifetime, chosen by a handler (typically
// at login, for a "remember me" checkbox) with Session.SetLifetime. It can
// only shorten what the Manager's Config allows, never extend it. The
// choice is stored with the session: it holds for every later request and
// survives Renew.
type Lifetime struct {
	// Persistent makes the cookie persistent (Max-Age and Expires); false
	// makes it a browser-session cookie, whatever Config.MaxAge says.
	Persistent bool
	// MaxAge is the persistent cookie's lifetime, counted from when the
	// cookie is issued and capped by the absolute deadline, as with
	// Config.MaxAge. Zero means Config.MaxAge, or, if that is zero too,
	// until the absolute deadline. At most Config.MaxAge if that is set,
	// else at most MaxCookieAge. Ignored unless Persistent.
	MaxAge time.Duration
	// Idle is the session's idle timeout. Zero means Config.IdleTimeout.
	// At most Config.IdleTimeout, unless the Manager has no idle timeout.
	Idle time.Duration
	// Absolute moves the absolute deadline to at most Absolute from now;
	// it never moves it later. Zero leaves the deadline as it is.
	Absolute time.Duration
}

// Cookie persistence modes stored in Meta.
const (
	modeDefault    byte = iota // Config.MaxAge decides
	modePersistent             // Max-Age cookie
	modeBrowser                // browser-session cookie
	modeLast       = modeBrowser
)

// lifetime is the per-session part of the record header.
type lifetime struct {
	idle   time.Duration // whole milliseconds; 0 = Config.IdleTimeout
	maxAge uint32        // seconds (at most MaxCookieAge); 0 = the default for mode
	mode   byte
}

func (l lifetime) custom() bool { return l != lifetime{} }

// Status is what a request did to its session so far, as Session.Status
// reports it.
type Status uint8

const (
	// StatusUnmodified is a session loaded from the store and not changed.
	StatusUnmodified Status = iota
	// StatusNew is a session that was not loaded from the store (no valid
	// cookie for a live session) and has not been changed.
	StatusNew
	// StatusModified is a session the request changed: Set, Delete, Pop, Clear
	// of keys it held, Renew or SetLifetime.
	StatusModified
	// StatusDestroyed is a session the request destroyed, and did not start a
	// new one afterwards.
	StatusDestroyed
)

// String returns the status's name.
func (st Status) String() string {
	switch st {
	case StatusUnmodified:
		return "unmodified"
	case StatusNew:
		return "new"
	case StatusModified:
		return "modified"
	case StatusDestroyed:
		return "destroyed"
	}
	return fmt.Sprintf("Status(%d)", uint8(st))
}

// Status reports whether the session is new, modified, destroyed or
// unmodified by this request (scs's Status). A change stays StatusModified after
// the commit that saved it.
func (s *Session) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.status != StatusUnmodified:
		return s.status
	case s.isNew:
		return StatusNew
	}
	return StatusUnmodified
}

// Deadlines are a session's deadlines, as Session.Deadlines reports them.
type Deadlines struct {
	// Idle is when the session ends unless another request uses it. It
	// is never after Absolute.
	Idle time.Time
	// Absolute is when the session ends however active it is.
	Absolute time.Time
	// Cookie is when a cookie issued by this request for the session
	// expires: the earlier of MaxAge from now and Absolute. It is zero for
	// a browser-session cookie.
	Cookie time.Time
}

// Deadlines returns the session's deadlines as of this request (scs's
// Deadline), with the session's own Lifetime applied. For a new session
// they are the deadlines it gets when first stored.
func (s *Session) Deadlines() Deadlines {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, now := s.m, time.Unix(0, s.now)
	abs := s.absolute
	if abs == 0 {
		abs = now.Add(m.cfg.AbsoluteTimeout).UnixMilli()
	}
	d := Deadlines{Absolute: time.UnixMilli(abs)}
	d.Idle = m.expiryFor(s.lt, now, abs)
	if age := m.cookieAge(s.lt); age > 0 {
		d.Cookie = now.Add(age)
		if d.Absolute.Before(d.Cookie) {
			d.Cookie = d.Absolute
		}
	}
	return d
}

// Lifetime returns the session's effective lifetime: the Manager's
// configuration with the session's own choice (SetLifetime) applied.
// Absolute is the time left until the absolute deadline.
func (s *Session) Lifetime() Lifetime {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, now := s.m, time.Unix(0, s.now)
	abs := s.absolute
	if abs == 0 {
		abs = now.Add(m.cfg.AbsoluteTimeout).UnixMilli()
	}
	age := m.cookieAge(s.lt)
	return Lifetime{
		Persistent: age > 0,
		MaxAge:     age,
		Idle:       m.idleFor(s.lt),
		Absolute:   time.UnixMilli(abs).Sub(now),
	}
}

// SetLifetime sets this session's own lifetime (see Lifetime), as at a
// login with or without "remember me". It returns an error wrapping
// ErrInvalidLifetime, and changes nothing, for a negative duration or one
// beyond the Manager's maximum. The choice is stored with the session
// (a new session is created for it, like for a Set) and the cookie is
// re-sent only if its persistence or Max-Age changed. Destroy forgets it.
func (s *Session) SetLifetime(l Lifetime) error {
	m := s.m
	if l.MaxAge < 0 || l.Idle < 0 || l.Absolute < 0 {
		return fmt.Errorf("%w: negative duration", ErrInvalidLifetime)
	}
	maxAge := m.cfg.MaxAge
	if maxAge == 0 {
		maxAge = MaxCookieAge
	}
	if l.Persistent && l.MaxAge > maxAge {
		return fmt.Errorf("%w: MaxAge %v exceeds %v", ErrInvalidLifetime, l.MaxAge, maxAge)
	}
	if l.Persistent && l.MaxAge > 0 && l.MaxAge < time.Second {
		return fmt.Errorf("%w: MaxAge %v is below one second", ErrInvalidLifetime, l.MaxAge)
	}
	if m.cfg.IdleTimeout > 0 && l.Idle > m.cfg.IdleTimeout {
		return fmt.Errorf("%w: Idle %v exceeds IdleTimeout %v", ErrInvalidLifetime, l.Idle, m.cfg.IdleTimeout)
	}
	if l.Idle > 0 && l.Idle < time.Second {
		return fmt.Errorf("%w: Idle %v is below one second", ErrInvalidLifetime, l.Idle)
	}
	if l.Absolute > m.cfg.AbsoluteTimeout {
		return fmt.Errorf("%w: Absolute %v exceeds AbsoluteTimeout %v", ErrInvalidLifetime, l.Absolute, m.cfg.AbsoluteTimeout)
	}
	if l.Absolute > 0 && l.Absolute < time.Second {
		return fmt.Errorf("%w: Absolute %v is below one second", ErrInvalidLifetime, l.Absolute)
	}
	nl := lifetime{mode: modeBrowser, idle: l.Idle.Truncate(time.Millisecond)}
	if l.Persistent {
		nl.mode, nl.maxAge = modePersistent, uint32(l.MaxAge/time.Second)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ignored("SetLifetime") {
		return nil
	}
	now := m.now()
	abs := s.absolute
	if abs == 0 {
		abs = now.Add(m.cfg.AbsoluteTimeout).UnixMilli()
	}
	if l.Absolute > 0 {
		abs = min(abs, now.Add(l.Absolute).UnixMilli())
	}
	if nl == s.lt && abs == s.absolute {
		return nil
	}
	if m.cookieAge(nl) != m.cookieAge(s.lt) {
		s.cookieDirty = true
	}
	if abs != s.absolute && m.cookieAge(nl) > 0 {
		s.cookieDirty = true // the cookie's expiry may be capped by the deadline
	}
	s.lt, s.absolute = nl, abs
	s.metaDirty, s.dirty, s.status = true, true, StatusModified
	return nil
}

// idleFor returns the idle timeout for a session with lifetime l; <= 0
// means none.
func (m *Manager) idleFor(l lifetime) time.Duration {
	if l.idle > 0 {
		return l.idle
	}
	return m.cfg.IdleTimeout
}

// touchMinFor is the least move of the idle deadline worth a Touch.
func (m *Manager) touchMinFor(l lifetime) time.Duration {
	if l.idle > 0 {
		return max(l.idle/100, time.Second)
	}
	return m.touchMin
}

// cookieAge returns the Max-Age of a cookie for lifetime l, or 0 for a
// browser-session cookie. maxCookieAge stands for "until the absolute
// deadline": the cookie line caps every age by it.
func (m *Manager) cookieAge(l lifetime) time.Duration {
	switch l.mode {
	case modePersistent:
		if l.maxAge > 0 {
			return time.Duration(l.maxAge) * time.Second
		}
		if m.cfg.MaxAge > 0 {
			return m.cfg.MaxAge
		}
		return MaxCookieAge
	case modeBrowser:
		return 0
	}
	return m.cfg.MaxAge
}

// expiryFor returns when a record of a session with lifetime l, written
// or touched now, expires.
func (m *Manager) expiryFor(l lifetime, now time.Time, absolute int64) time.Time {
	abs := time.UnixMilli(absolute)
	if idle := m.idleFor(l); idle > 0 {
		if t := now.Add(idle); t.Before(abs) {
			return t
		}
	}
	return abs
}

// metaFor returns the Meta of s, appended to b.
func metaFor(b []byte, s *Session) []byte {
	return appendMeta(b, s.absolute, s.lt, s.created, s.principal)
}
