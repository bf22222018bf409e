package sess

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// EventKind says what happened to a session; see Event.
type EventKind uint8

// The kinds of Event. Their String values are stable and suitable as
// metric attribute values.
const (
	// EventCreated: a new session was stored for the first time.
	EventCreated EventKind = iota + 1
	// EventLoaded: a request's verified cookie named a live session.
	EventLoaded
	// EventRenewed: a session got a new ID (Session.Renew was committed).
	// Handle is the new ID's, OldHandle the replaced one's.
	EventRenewed
	// EventDestroyed: a session was destroyed (Session.Destroy was
	// committed).
	EventDestroyed
	// EventExpired: a request's verified cookie named a session that has
	// ended: past its idle or absolute deadline (the record is deleted),
	// or no longer in the store (which expired it itself, or it was
	// destroyed and its cookie is replayed).
	EventExpired
	// EventConflict: a commit could not be applied because of concurrent
	// changes (the request fails with ErrConflict), or it found its
	// session destroyed by a concurrent request and was dropped.
	EventConflict
	// EventCorruptRecord: a stored record could not be parsed; it was
	// deleted.
	EventCorruptRecord
	// EventInvalidCookie: a session cookie failed signature or format
	// checks (forged, truncated, signed with an unknown key). One event per
	// such cookie value.
	EventInvalidCookie
	// EventAmbiguousCookie: a request carried two different valid session
	// cookies; neither was used.
	EventAmbiguousCookie
	// EventStoreError: a store call failed (Err says how; StoreOp which
	// call).
	EventStoreError
	// EventStoreCall: one store call finished, successful or not, after
	// Latency (StoreOp says which call).
	EventStoreCall

	numEventKinds = iota + 1
)

var eventKindNames = [numEventKinds]string{
	"", "created", "loaded", "renewed", "destroyed", "expired", "conflict",
	"corrupt_record", "invalid_cookie", "ambiguous_cookie", "store_error", "store_call",
}

// String returns the kind's stable name, such as "created" or
// "invalid_cookie".
func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && k > 0 {
		return eventKindNames[k]
	}
	return "unknown"
}

// EventKinds lists every EventKind, for observers that pre-register one
// metric per kind.
func EventKinds() []EventKind {
	ks := make([]EventKind, 0, numEventKinds-1)
	for k := EventKind(1); k < numEventKinds; k++ {
		ks = append(ks, k)
	}
	return ks
}

// Store operations, the values of Event.StoreOp.
const (
	StoreOpGet    = "get"
	StoreOpCreate = "create"
	StoreOpUpdate = "update"
	StoreOpTouch  = "touch"
	StoreOpDelete = "delete"
)

// Event is one session lifecycle event or store call, as an Observer sees
// it. It never carries a raw session ID.
type Event struct {
	Kind EventKind
	// Handle identifies the session by a short keyed hash of its ID (the
	// same one the log lines carry as "session"); it is useless for
	// hijacking the session. Empty when there is no session yet (an
	// invalid cookie, a failed create).
	Handle string
	// OldHandle is the replaced ID's handle, for EventRenewed.
	OldHandle string
	// StoreOp is the store call (StoreOpGet, ...) of EventStoreCall and
	// EventStoreError.
	StoreOp string
	// Latency is the duration of the store call, for EventStoreCall.
	Latency time.Duration
	// Err is the store's error for EventStoreError, the commit's for
	// EventConflict, the parse error for EventCorruptRecord.
	Err error
}

// Observer receives session events (see Config.Observer), for metrics and
// audit trails.
//
// Observe is called synchronously on the request path, from the goroutine
// that serves the request, and from many of them at once: it must be safe
// for concurrent use and fast (update an atomic counter or a metric, or
// hand the event to a buffered channel without blocking). An Observer that
// does I/O or takes a contended lock stalls every request. Counters is an
// Observer that only counts. ctx is the request's context.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// Counters is an Observer that counts events per kind with atomic
// counters, lock-free and allocation-free; Count and Snapshot read them.
// The zero value is ready to use. Counters must not be copied after first
// use.
type Counters struct {
	n       [numEventKinds]atomic.Uint64
	latency atomic.Int64 // total store latency, in nanoseconds
}

// Observe counts e.
func (c *Counters) Observe(_ context.Context, e Event) {
	if int(e.Kind) >= len(c.n) {
		return
	}
	c.n[e.Kind].Add(1)
	if e.Kind == EventStoreCall {
		c.latency.Add(int64(e.Latency))
	}
}

// Count returns how many events of kind k were observed.
func (c *Counters) Count(k EventKind) uint64 {
	if int(k) >= len(c.n) {
		return 0
	}
	return c.n[k].Load()
}

// StoreLatency returns the total latency of every store call observed;
// divided by Count(EventStoreCall) it is the mean.
func (c *Counters) StoreLatency() time.Duration { return time.Duration(c.latency.Load()) }

// Snapshot returns the count of every kind observed at least once, keyed by
// the kind's name.
func (c *Counters) Snapshot() map[string]uint64 {
	out := make(map[string]uint64)
	for k := EventKind(1); k < numEventKinds; k++ {
		if v := c.n[k].Load(); v > 0 {
			out[k.String()] = v
		}
	}
	return out
}

// observe sends an event about the session id (may be empty) to the
// Observer. Callers check m.obs != nil first, so an unset Observer costs
// one comparison.
func (m *Manager) observe(ctx context.Context, kind EventKind, id string, err error) {
	e := Event{Kind: kind, Err: err}
	if id != "" {
		e.Handle = m.signer.hashID(id)
	}
	m.obs.Observe(ctx, e)
}

// storeStart returns the start time of a store call, or the zero time when
// no Observer is set (no clock read).
func (m *Manager) storeStart() time.Time {
	if m.obs == nil {
		return time.Time{}
	}
	return time.Now()
}

// storeDone reports a finished store call: its latency and, for a store
// failure (not ErrNotFound, ErrConflict or ErrTooLarge), EventStoreError.
func (m *Manager) storeDone(ctx context.Context, op string, start time.Time, err error) {
	if m.obs == nil {
		return
	}
	m.obs.Observe(ctx, Event{Kind: EventStoreCall, StoreOp: op, Latency: time.Since(start), Err: err})
	if err != nil && !isContractErr(err) {
		m.obs.Observe(ctx, Event{Kind: EventStoreError, StoreOp: op, Err: err})
	}
}

// Security log rate limit: at most securityLogBurst lines of
// invalid_cookie, ambiguous_cookie and corrupt_record per
// securityLogInterval; the lines dropped are counted and reported in one
// summary line when the next interval starts. Observer events are never
// limited.
const (
	securityLogBurst    = 10
	securityLogInterval = time.Minute
)

// logLimiter rate-limits security log lines so that a flood of forged
// cookies costs bounded log volume.
type logLimiter struct {
	mu         sync.Mutex
	start      time.Time // current interval's start
	n          int       // lines logged in the current interval
	suppressed int       // lines dropped in the current interval
}

// allow reports whether a security log line may be written now, and how
// many lines were suppressed in the interval that just ended (to be
// reported first).
func (l *logLimiter) allow(now time.Time) (ok bool, suppressed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= securityLogInterval || now.Before(l.start) {
		suppressed = l.suppressed
		l.start, l.n, l.suppressed = now, 0, 0
	}
	if l.n >= securityLogBurst {
		l.suppressed++
		return false, suppressed
	}
	l.n++
	return true, suppressed
}

// logSecurity logs a security event through the rate limiter.
func (m *Manager) logSecurity(ctx context.Context, level slog.Level, msg, id string, attrs ...slog.Attr) {
	if !m.cfg.Logger.Enabled(ctx, level) {
		return
	}
	ok, suppressed := m.seclog.allow(m.now())
	if suppressed > 0 {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "sess: security log lines suppressed by the rate limit",
			slog.String("event", "log_suppressed"), slog.Int("count", suppressed),
			slog.Duration("interval", securityLogInterval))
	}
	if ok {
		m.logSession(ctx, level, msg, id, attrs...)
	}
}

// isContractErr reports whether err is one of the store contract's answers
// (ErrNotFound, ErrConflict, ErrTooLarge) rather than a store failure.
func isContractErr(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrTooLarge)
}
