package sess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
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
// By default the Manager does not call Observe on the request path: it
// queues each event and one goroutine of the Manager's calls Observe, one
// event at a time, in the order the events were queued, so a slow Observer
// (one that does I/O or takes a contended lock) cannot stall requests.
// When the queue (Config.ObserverQueue) is full the event is dropped and
// counted (Manager.ObserverDrops); Manager.Close delivers what is queued
// and stops the goroutine (a Manager never closed keeps it until the
// Manager is garbage collected). ctx is then detached from the request: it
// carries the request context's values (a trace span, for instance) but
// has no deadline and is never cancelled. A panic in Observe is recovered
// and logged, and the next event is delivered.
//
// An Observer that also implements InlineObserver and reports true is
// instead called synchronously, from the goroutines serving the requests,
// many at once, with the request's context: it never misses an event.
// Counters and the otel module's Observer are such observers.
type Observer interface {
	Observe(ctx context.Context, e Event)
}

// InlineObserver is an optional Observer capability for observers whose
// Observe always returns promptly without blocking: it updates atomic
// counters or metric instruments, or hands the event to a buffered channel
// without waiting, and it is safe for concurrent use. The Manager calls such
// an Observer synchronously on the request path instead of queueing its
// events (see Observer), so it sees every event, exactly, with the
// request's context. An Observer that may block (one that writes to a
// file or a network, or waits on a lock held across I/O) must not report
// true, nor promote the method by embedding a type that does, such as
// Counters.
type InlineObserver interface {
	Inline() bool
}

// Counters is an Observer that counts events per kind with atomic
// counters, lock-free and allocation-free; Count and Snapshot read them.
// The zero value is ready to use. Counters must not be copied after first
// use.
type Counters struct {
	n       [numEventKinds]atomic.Uint64
	latency atomic.Int64 // total store latency, in nanoseconds
}

// Inline reports true: Counters only adds to atomic counters, so the
// Manager calls it on the request path and its counts are exact (see
// InlineObserver).
func (c *Counters) Inline() bool { return true }

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
// limited by it. The lines about dropped Observer events have a limiter of
// their own with the same limits.
const (
	securityLogBurst    = 10
	securityLogInterval = time.Minute
)

// logLimiter rate-limits log lines so that a flood of forged cookies (or
// of dropped Observer events) costs bounded log volume.
type logLimiter struct {
	mu         sync.Mutex
	start      time.Time // current interval's start
	n          int       // lines logged in the current interval
	suppressed int       // lines dropped in the current interval
}

// allow reports whether a rate-limited log line may be written now, and how
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

// allowLog is allow for a caller about to write one line to logger: it
// first writes the summary (message summary) of the lines suppressed in the
// interval that just ended, if any.
func (l *logLimiter) allowLog(ctx context.Context, logger *slog.Logger, now time.Time, summary string) bool {
	ok, suppressed := l.allow(now)
	if suppressed > 0 {
		logger.LogAttrs(ctx, slog.LevelWarn, summary,
			slog.String("event", "log_suppressed"), slog.Int("count", suppressed),
			slog.Duration("interval", securityLogInterval))
	}
	return ok
}

// logSecurity logs a security event through the rate limiter.
func (m *Manager) logSecurity(ctx context.Context, level slog.Level, msg, id string, attrs ...slog.Attr) {
	if !m.cfg.Logger.Enabled(ctx, level) {
		return
	}
	if m.seclog.allowLog(ctx, m.cfg.Logger, m.now(), "sess: security log lines suppressed by the rate limit") {
		m.logSession(ctx, level, msg, id, attrs...)
	}
}

// observerDrainTimeout bounds how long Manager.Close waits for the queued
// Observer events to be delivered (a variable so that tests can shorten it).
var observerDrainTimeout = 5 * time.Second

// maxObserverQueue bounds Config.ObserverQueue (one slot is about 100
// bytes, allocated by New).
const maxObserverQueue = 1 << 20

// queuedEvent is one event waiting in a dispatcher's queue, with the
// context it is delivered with.
type queuedEvent struct {
	ctx context.Context
	e   Event
}

// dispatcher is the Observer the Manager calls when Config.Observer is not
// an InlineObserver: Observe queues the event without blocking and one
// goroutine (run) delivers the queue to the configured Observer, in order.
// It holds no reference to its Manager, so that a Manager dropped without
// Close can be collected and its cleanup stops the goroutine.
type dispatcher struct {
	obs     Observer // the configured Observer
	ch      chan queuedEvent
	done    chan struct{} // closed when run returns
	logger  *slog.Logger
	now     func() time.Time
	drain   time.Duration // how long close waits for the queue to drain
	drops   atomic.Uint64 // events not delivered
	abandon atomic.Bool   // close timed out: run counts the rest as dropped
	droplog logLimiter    // rate limit of the drop and panic log lines

	// mu is read-held by every Observe while it sends on ch, and held by
	// shut to close ch: no send can race with the close, and every event
	// is either queued before the close or counted as dropped.
	mu     sync.RWMutex
	closed bool

	closeOnce sync.Once
	closeErr  error
}

// newDispatcher returns a started dispatcher for c.Observer.
func newDispatcher(c *Config) *dispatcher {
	d := &dispatcher{
		obs:    c.Observer,
		ch:     make(chan queuedEvent, c.ObserverQueue),
		done:   make(chan struct{}),
		logger: c.Logger,
		now:    c.Now,
		drain:  observerDrainTimeout,
	}
	go d.run()
	return d
}

// startObserver sets up m.obs for Config.Observer: the Observer itself if
// it is an InlineObserver reporting true (or nil), else a dispatcher
// queueing for it. New calls it once.
func (m *Manager) startObserver() {
	if m.cfg.Observer == nil {
		return
	}
	if in, ok := m.cfg.Observer.(InlineObserver); ok && in.Inline() {
		m.obs = m.cfg.Observer
		return
	}
	d := newDispatcher(&m.cfg)
	m.obs = d
	// A Manager dropped without Close must not leave its goroutine behind.
	runtime.AddCleanup(m, (*dispatcher).shut, d)
}

// stopObserver stops m's dispatcher, if it has one (see Manager.Close).
func (m *Manager) stopObserver() error {
	if d, ok := m.obs.(*dispatcher); ok {
		return d.close()
	}
	return nil
}

// ObserverDrops returns how many events the Manager did not deliver to its
// Observer: dropped because the queue (Config.ObserverQueue) was full,
// because they happened after Close, or because they were still queued
// when Close stopped waiting. It is always 0 for an InlineObserver, which
// is called synchronously and never misses an event, and without an
// Observer.
func (m *Manager) ObserverDrops() uint64 {
	if d, ok := m.obs.(*dispatcher); ok {
		return d.drops.Load()
	}
	return 0
}

// Observe queues e for delivery without blocking; a full queue, or a
// closed dispatcher, drops it.
func (d *dispatcher) Observe(ctx context.Context, e Event) {
	d.mu.RLock()
	closed := d.closed
	if !closed {
		select {
		case d.ch <- queuedEvent{context.WithoutCancel(ctx), e}:
			d.mu.RUnlock()
			return
		default:
		}
	}
	d.mu.RUnlock()
	n := d.drops.Add(1)
	if !d.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	if d.droplog.allowLog(ctx, d.logger, d.now(), "sess: Observer log lines suppressed by the rate limit") {
		msg, reason := "sess: Observer queue full; event dropped", "queue_full"
		if closed {
			msg, reason = "sess: Manager closed; Observer event dropped", "closed"
		}
		d.logger.LogAttrs(ctx, slog.LevelWarn, msg,
			slog.String("event", "observer_drop"), slog.String("reason", reason),
			slog.String("kind", e.Kind.String()), slog.Uint64("dropped", n),
			slog.Int("queue", cap(d.ch)))
	}
}

// run delivers the queue until shut closes it.
func (d *dispatcher) run() {
	defer close(d.done)
	for q := range d.ch {
		if d.abandon.Load() {
			d.drops.Add(1)
			continue
		}
		d.deliver(q)
	}
}

// deliver calls the Observer. A panic is logged and the dispatcher goes on
// with the next event: on the request path it would have cost one request
// (net/http recovers it), here it would kill the process.
func (d *dispatcher) deliver(q queuedEvent) {
	defer func() {
		if p := recover(); p != nil && d.logger.Enabled(q.ctx, slog.LevelError) &&
			d.droplog.allowLog(q.ctx, d.logger, d.now(), "sess: Observer log lines suppressed by the rate limit") {
			d.logger.LogAttrs(q.ctx, slog.LevelError, "sess: Observer panicked",
				slog.String("event", "observer_panic"), slog.String("kind", q.e.Kind.String()),
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		}
	}()
	d.obs.Observe(q.ctx, q.e)
}

// shut closes the queue: later events are dropped, run delivers what is
// queued and returns. It does not wait and may be called more than once.
func (d *dispatcher) shut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.closed {
		d.closed = true
		close(d.ch)
	}
}

// close shuts the queue and waits up to d.drain for run to deliver it.
// When the wait runs out, the events still queued are dropped and counted
// (an Observe call in progress is not interrupted: run returns after it).
// Later calls return the first one's result.
func (d *dispatcher) close() error {
	d.closeOnce.Do(func() {
		d.shut()
		t := time.NewTimer(d.drain)
		defer t.Stop()
		select {
		case <-d.done:
			return
		case <-t.C:
		}
		d.abandon.Store(true)
		var n uint64
		for range d.ch { // run is stuck in Observe: count the rest for it
			n++
		}
		d.drops.Add(n)
		d.closeErr = fmt.Errorf("sess: Observer still busy after %v; %d queued events dropped", d.drain, n)
	})
	return d.closeErr
}

// isContractErr reports whether err is one of the store contract's answers
// (ErrNotFound, ErrConflict, ErrTooLarge) rather than a store failure.
func isContractErr(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, ErrTooLarge)
}
