package sess_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/core/sesstest"
)

// bound is the liveness bound of these tests: what must finish while an
// Observer is blocked finishes within it, or the Observer stalled it.
const bound = 10 * time.Second

// markKey marks the request context, to check that queued events keep the
// request's values.
type markKey struct{}

func mark(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), markKey{}, "request")))
	})
}

// gate is an Observer that is not an InlineObserver: every Observe waits
// until the test opens the gate, then records the event and checks its
// context.
type gate struct {
	open      chan struct{}
	openOnce  sync.Once
	entered   chan struct{} // closed when the first Observe starts waiting
	enterOnce sync.Once

	mu     sync.Mutex
	events []sess.Event
	badCtx []string // what was wrong with the contexts of deliveries
}

func newGate() *gate { return &gate{open: make(chan struct{}), entered: make(chan struct{})} }

func (g *gate) release() { g.openOnce.Do(func() { close(g.open) }) }

func (g *gate) Observe(ctx context.Context, e sess.Event) {
	g.enterOnce.Do(func() { close(g.entered) })
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	_, deadline := ctx.Deadline()
	switch {
	case ctx.Done() != nil || ctx.Err() != nil || deadline:
		g.badCtx = append(g.badCtx, fmt.Sprintf("%s: cancellable context (err %v, deadline %v)", e.Kind, ctx.Err(), deadline))
	case ctx.Value(markKey{}) != "request":
		g.badCtx = append(g.badCtx, fmt.Sprintf("%s: context without the request's values", e.Kind))
	}
	g.events = append(g.events, e)
}

func (g *gate) delivered() []sess.Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sess.Event(nil), g.events...)
}

func (g *gate) contextProblems() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.badCtx...)
}

// waitEntered waits until the gate holds its first event.
func (g *gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(bound):
		t.Fatal("the Observer never received an event")
	}
}

// inlineLog is an InlineObserver that keeps every event, store calls
// included: the reference sequence the queued deliveries must match.
type inlineLog struct {
	mu     sync.Mutex
	events []sess.Event
}

func (l *inlineLog) Inline() bool { return true }

func (l *inlineLog) Observe(_ context.Context, e sess.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// asyncEnv is a Manager on a memory store, served over plain HTTP by
// Manager.Wrap (the binding sesshttp exposes), the request context marked.
type asyncEnv struct {
	m      *sess.Manager
	srv    *httptest.Server
	logs   *sesstest.Logs
	clock  *sesstest.Clock
	client *http.Client
}

// newAsyncEnv starts an env for cfg; g, if not nil, is released first when
// the test ends, so that nothing stays blocked on it.
func newAsyncEnv(t *testing.T, cfg sess.Config, g *gate) *asyncEnv {
	t.Helper()
	e := &asyncEnv{logs: &sesstest.Logs{}, clock: newClock()}
	mem := sess.NewMemoryStore(sess.MemoryConfig{Now: e.clock.Now})
	t.Cleanup(func() { mem.Close() })
	cfg.Secret, cfg.Store, cfg.Now, cfg.DisableSecure = secret, mem, e.clock.Now, true
	cfg.Logger = e.logs.Logger()
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.m = m
	e.srv = httptest.NewServer(mark(m.Wrap(http.HandlerFunc(ops))))
	t.Cleanup(e.srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 1000}
	t.Cleanup(tr.CloseIdleConnections)
	e.client = &http.Client{Transport: tr, Timeout: bound}
	t.Cleanup(func() { m.Close() })
	if g != nil {
		t.Cleanup(g.release)
	}
	return e
}

// get sends one request with the Cookie header cookie (if not empty) and
// returns the status and the session cookie set, as "sid=VALUE".
func (e *asyncEnv) get(path, cookie string) (int, string, error) {
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	for _, c := range resp.Cookies() {
		if c.Name == "sid" {
			return resp.StatusCode, "sid=" + c.Value, nil
		}
	}
	return resp.StatusCode, "", nil
}

// mustGet is get where anything but a 200 is a test error (Errorf, so that
// it may run in the goroutine of within).
func (e *asyncEnv) mustGet(t *testing.T, path, cookie string) string {
	t.Helper()
	st, c, err := e.get(path, cookie)
	if err != nil || st != http.StatusOK {
		t.Errorf("GET %s: status %d, err %v", path, st, err)
	}
	return c
}

// within runs f in another goroutine and fails the test if it does not
// return within bound, or if it reported errors. On a timeout it first
// releases g (if not nil) and waits for f once more, so that f does not
// outlive the test.
func within(t *testing.T, what string, g *gate, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(bound):
		if g != nil {
			g.release()
		}
		select {
		case <-done:
		case <-time.After(bound):
		}
		t.Fatalf("%s: not done after %v; the Observer stalls the request path", what, bound)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// eventsPerRequest counts, with an inline Counters, the events one request
// emits (store calls included).
func eventsPerRequest(t *testing.T, path, cookie string) uint64 {
	t.Helper()
	var c sess.Counters
	e := newAsyncEnv(t, sess.Config{Observer: &c}, nil)
	e.mustGet(t, path, cookie)
	var n uint64
	for _, v := range c.Snapshot() {
		n += v
	}
	if n == 0 {
		t.Fatalf("GET %s emitted no event", path)
	}
	return n
}

// flood sends n requests, each with its own forged session cookie,
// pipelined on conns connections, and fails the test unless every one is
// answered 200 within limit.
func flood(t *testing.T, srv *httptest.Server, n, conns int, limit time.Duration) {
	t.Helper()
	var wg sync.WaitGroup
	var bad atomic.Int64
	for ci := range conns {
		wg.Go(func() {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(limit))
			per := n / conns
			if ci == 0 {
				per += n % conns
			}
			go func() {
				bw := bufio.NewWriterSize(conn, 64<<10)
				for i := range per {
					fmt.Fprintf(bw, "GET / HTTP/1.1\r\nHost: x\r\nCookie: sid=forged%d-%d.c2lnbmF0dXJl\r\n\r\n", ci, i)
				}
				bw.Flush()
			}()
			br := bufio.NewReader(conn)
			for range per {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Errorf("flood: %v (the Observer stalls the request path?)", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("flood: %d responses were not 200", bad.Load())
	}
	if t.Failed() {
		t.FailNow()
	}
}

// TestSlowObserverDoesNotStallRequests blocks the Observer while 500
// concurrent requests create sessions: they all complete, the events that
// did not fit in the queue are dropped, counted and logged at a bounded
// rate, and once the Observer is released every event was either
// delivered or counted.
func TestSlowObserverDoesNotStallRequests(t *testing.T) {
	const requests, queue = 500, 64
	perReq := eventsPerRequest(t, "/?op=set&k=a&v=1", "")
	g := newGate()
	e := newAsyncEnv(t, sess.Config{Observer: g, ObserverQueue: queue}, g)

	var bad atomic.Int64
	within(t, fmt.Sprint(requests, " concurrent requests"), g, func() {
		var wg sync.WaitGroup
		for range requests {
			wg.Go(func() {
				if st, c, err := e.get("/?op=set&k=a&v=1", ""); err != nil || st != http.StatusOK || c == "" {
					bad.Add(1)
				}
			})
		}
		wg.Wait()
	})
	if bad.Load() != 0 {
		t.Fatalf("%d of %d requests failed or set no session", bad.Load(), requests)
	}
	emitted := requests * perReq
	drops := e.m.ObserverDrops()
	// The blocked Observe holds one event and the queue holds queue more:
	// every other event was dropped.
	if drops != emitted-queue-1 {
		t.Errorf("ObserverDrops = %d, want %d (%d events emitted, queue %d, one in Observe)", drops, emitted-queue-1, emitted, queue)
	}
	if n := strings.Count(e.logs.String(), "event=observer_drop"); n != 10 {
		t.Errorf("%d drop log lines, want 10 (rate-limited):\n%s", n, e.logs.String())
	}
	if !strings.Contains(e.logs.String(), "level=WARN msg=\"sess: Observer queue full; event dropped\" event=observer_drop reason=queue_full kind=") {
		t.Errorf("no queue-full WARN line in the log:\n%s", e.logs.String())
	}

	g.release()
	if err := e.m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := g.delivered()
	if uint64(len(got))+drops != emitted {
		t.Errorf("delivered %d + dropped %d = %d, want the %d emitted", len(got), drops, uint64(len(got))+drops, emitted)
	}
	if p := g.contextProblems(); len(p) > 0 {
		t.Errorf("queued events' contexts: %q", p[:min(len(p), 5)])
	}

	// The next minute starts with the summary of the suppressed lines; an
	// event after Close is dropped, counted and logged.
	e.clock.Advance(time.Minute)
	e.mustGet(t, "/?op=set&k=a&v=1", "")
	if d := e.m.ObserverDrops(); d != drops+perReq {
		t.Errorf("ObserverDrops after Close = %d, want %d", d, drops+perReq)
	}
	if n := len(g.delivered()); n != len(got) {
		t.Errorf("the Observer got %d events after Close", n-len(got))
	}
	logs := e.logs.String()
	if want := fmt.Sprintf("event=log_suppressed count=%d", drops-10); !strings.Contains(logs, want) {
		t.Errorf("no %q in the log:\n%s", want, logs)
	}
	if !strings.Contains(logs, "event=observer_drop reason=closed") {
		t.Errorf("no drop-after-Close line in the log:\n%s", logs)
	}
}

// describe renders events as kinds (with the store call's operation) and
// handles numbered by first appearance, comparable between two Managers.
func describe(es []sess.Event) string {
	num := map[string]int{}
	h := func(s string) string {
		if s == "" {
			return ""
		}
		if _, ok := num[s]; !ok {
			num[s] = len(num) + 1
		}
		return fmt.Sprint("#", num[s])
	}
	var b []string
	for _, e := range es {
		s := e.Kind.String()
		if e.StoreOp != "" {
			s += ":" + e.StoreOp
		}
		s += h(e.Handle)
		if e.OldHandle != "" {
			s += "<" + h(e.OldHandle)
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

// orderWorkload drives one session through its lifecycle, one request at a
// time.
func orderWorkload(t *testing.T, e *asyncEnv) {
	t.Helper()
	c := e.mustGet(t, "/?op=set&k=a&v=1", "")
	e.mustGet(t, "/?op=get&k=a", c)
	e.mustGet(t, "/?op=set&k=b&v=2", c)
	c2 := e.mustGet(t, "/?op=renew&user=ann", c)
	e.mustGet(t, "/?op=get&k=a", c2)
	e.mustGet(t, "/?op=destroy", c2)
	e.mustGet(t, "/?op=get&k=a", c2)
	e.mustGet(t, "/", "sid=forged.AAAA; sid=x")
}

// TestQueuedEventsKeepTheirOrder runs the same requests against an inline
// Observer and a blocked queued one: the requests finish while the
// Observer is blocked, and it then gets the same events in the same order.
func TestQueuedEventsKeepTheirOrder(t *testing.T) {
	ref := &inlineLog{}
	orderWorkload(t, newAsyncEnv(t, sess.Config{Observer: ref}, nil))
	want := describe(ref.events)
	if !strings.Contains(want, "renewed") || !strings.Contains(want, "store_call:create") {
		t.Fatalf("reference events %q: the workload lost its renewal", want)
	}

	g := newGate()
	e := newAsyncEnv(t, sess.Config{Observer: g}, g)
	within(t, "the workload", g, func() { orderWorkload(t, e) })
	g.waitEntered(t)
	g.release()
	if err := e.m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := describe(g.delivered()); got != want {
		t.Errorf("queued events:\n%s\nwant, as delivered inline:\n%s", got, want)
	}
	if d := e.m.ObserverDrops(); d != 0 {
		t.Errorf("ObserverDrops = %d, want 0", d)
	}
	if p := g.contextProblems(); len(p) > 0 {
		t.Errorf("queued events' contexts: %q", p)
	}
}

// TestCloseDeliversQueuedEvents queues events behind a blocked Observer:
// Close delivers all of them before it returns, and later events are
// dropped and counted.
func TestCloseDeliversQueuedEvents(t *testing.T) {
	const requests = 20
	perReq := eventsPerRequest(t, "/?op=set&k=a&v=1", "")
	g := newGate()
	e := newAsyncEnv(t, sess.Config{Observer: g}, g)
	within(t, "the requests", g, func() {
		for range requests {
			e.mustGet(t, "/?op=set&k=a&v=1", "")
		}
	})
	g.waitEntered(t)
	closed := make(chan error, 1)
	go func() { closed <- e.m.Close() }()
	g.release()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(bound):
		t.Fatal("Close did not return")
	}
	emitted := uint64(requests) * perReq
	if n := uint64(len(g.delivered())); n != emitted {
		t.Fatalf("Close returned after %d of the %d queued events were delivered", n, emitted)
	}
	if d := e.m.ObserverDrops(); d != 0 {
		t.Fatalf("ObserverDrops = %d before any event after Close, want 0", d)
	}

	e.mustGet(t, "/?op=set&k=a&v=1", "")
	if d := e.m.ObserverDrops(); d != perReq {
		t.Errorf("ObserverDrops = %d after one request after Close, want %d", d, perReq)
	}
	if n := uint64(len(g.delivered())); n != emitted {
		t.Errorf("the Observer got %d events after Close", n-emitted)
	}
	if !strings.Contains(e.logs.String(), "event=observer_drop reason=closed") {
		t.Errorf("no drop-after-Close line in the log:\n%s", e.logs.String())
	}
	if err := e.m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCloseBoundsItsWait: an Observer that stays blocked makes Close give
// up after its bound, dropping and counting what is still queued.
func TestCloseBoundsItsWait(t *testing.T) {
	restore := sess.SetObserverDrainTimeout(50 * time.Millisecond)
	defer restore()
	const requests = 5
	perReq := eventsPerRequest(t, "/?op=set&k=a&v=1", "")
	g := newGate()
	e := newAsyncEnv(t, sess.Config{Observer: g}, g)
	within(t, "the requests", g, func() {
		for range requests {
			e.mustGet(t, "/?op=set&k=a&v=1", "")
		}
	})
	g.waitEntered(t)
	emitted := uint64(requests) * perReq
	var err error
	within(t, "Close", nil, func() { err = e.m.Close() })
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%d queued events dropped", emitted-1)) {
		t.Errorf("Close: %v, want an error saying %d queued events were dropped", err, emitted-1)
	}
	if d := e.m.ObserverDrops(); d != emitted-1 {
		t.Errorf("ObserverDrops = %d, want %d (all but the event in Observe)", d, emitted-1)
	}
	if again := e.m.Close(); again == nil || err == nil || again.Error() != err.Error() {
		t.Errorf("second Close: %v, want the first one's %v", again, err)
	}

	// The event in Observe is delivered once the Observer returns.
	g.release()
	within(t, "the last delivery", nil, func() {
		for len(g.delivered()) == 0 {
			time.Sleep(time.Millisecond)
		}
	})
	if n, d := uint64(len(g.delivered())), e.m.ObserverDrops(); n != 1 || n+d != emitted {
		t.Errorf("delivered %d + dropped %d, want 1 + %d", n, d, emitted-1)
	}
}

// dispatchers counts the goroutines running a Manager's Observer queue.
func dispatchers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return bytes.Count(buf[:n], []byte("core.(*dispatcher).run("))
		}
		buf = make([]byte, 2*len(buf))
	}
}

// waitDispatchers waits, collecting garbage, until want queue goroutines run.
func waitDispatchers(t *testing.T, want int, why string) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for dispatchers() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d Observer queue goroutines, want %d", why, dispatchers(), want)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// slowCounters embeds Counters but reports that it may block: it must be
// queued, not called inline through the promoted method.
type slowCounters struct{ sess.Counters }

func (*slowCounters) Inline() bool { return false }

// TestInlineObserversStayExact: Counters (an InlineObserver) is called on
// the request path, even with a one-event queue configured: it counts a
// flood of forged cookies exactly, drops nothing and starts no goroutine.
// Only an Observer that is not inline gets one, until Close (or until
// its Manager is garbage).
func TestInlineObserversStayExact(t *testing.T) {
	const total = 20_000
	waitDispatchers(t, 0, "before the test")
	var c sess.Counters
	e := newAsyncEnv(t, sess.Config{Observer: &c, ObserverQueue: 1}, nil)
	none, err := sess.New(sess.Config{Secret: secret}) // no Observer
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	flood(t, e.srv, total, 8, bound)
	// Checked after the flood, so that a goroutine started by New has run.
	if n := dispatchers(); n != 0 {
		t.Fatalf("%d Observer queue goroutines with an inline Observer and none, want 0", n)
	}
	if got := c.Count(sess.EventInvalidCookie); got != total {
		t.Errorf("invalid_cookie = %d, want exactly %d", got, total)
	}
	if d := e.m.ObserverDrops(); d != 0 {
		t.Errorf("ObserverDrops = %d, want 0", d)
	}

	slow := &slowCounters{}
	s := newAsyncEnv(t, sess.Config{Observer: slow}, nil)
	waitDispatchers(t, 1, "with a non-inline Observer")
	s.mustGet(t, "/", "sid=forged.AAAA")
	if err := s.m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := slow.Count(sess.EventInvalidCookie); got != 1 {
		t.Errorf("queued Counters: invalid_cookie = %d after Close, want 1", got)
	}
	waitDispatchers(t, 0, "after Close")

	// A Manager dropped without Close stops its goroutine once collected.
	func() {
		m, err := sess.New(sess.Config{Secret: secret, Observer: &slowCounters{}})
		if err != nil {
			t.Fatal(err)
		}
		_ = m.CookieName()
	}()
	waitDispatchers(t, 0, "after the unclosed Manager became garbage")
}

// TestObserverQueueConfig checks ObserverQueue's validation and that the
// queue holds exactly that many events (DefaultObserverQueue for zero).
func TestObserverQueueConfig(t *testing.T) {
	for _, n := range []int{-1, 1<<20 + 1} {
		_, err := sess.New(sess.Config{Secret: secret, ObserverQueue: n})
		if !errors.Is(err, sess.ErrInvalidConfig) || !strings.Contains(err.Error(), "ObserverQueue") {
			t.Errorf("ObserverQueue %d: err %v, want ErrInvalidConfig naming ObserverQueue", n, err)
		}
	}
	m, err := sess.New(sess.Config{Secret: secret, ObserverQueue: 1 << 20}) // the largest
	if err != nil {
		t.Fatalf("ObserverQueue 1<<20: %v", err)
	}
	m.Close()
	if n := eventsPerRequest(t, "/", "sid=forged.AAAA"); n != 1 {
		t.Fatalf("a forged cookie emits %d events, want 1", n)
	}
	const total = 5000
	for _, tc := range []struct{ queue, want int }{{0, sess.DefaultObserverQueue}, {10, 10}} {
		t.Run(fmt.Sprint("queue=", tc.queue), func(t *testing.T) {
			g := newGate()
			e := newAsyncEnv(t, sess.Config{Observer: g, ObserverQueue: tc.queue}, g)
			e.mustGet(t, "/", "sid=forged.first")
			g.waitEntered(t) // the first event is in Observe, the queue is empty
			flood(t, e.srv, total, 4, bound)
			want := uint64(max(total-tc.want, 0))
			if d := e.m.ObserverDrops(); d != want {
				t.Errorf("ObserverDrops = %d, want %d", d, want)
			}
			g.release()
			if err := e.m.Close(); err != nil {
				t.Fatal(err)
			}
			if n := uint64(len(g.delivered())); n+want != total+1 {
				t.Errorf("delivered %d + dropped %d, want %d", n, want, total+1)
			}
		})
	}
}

// panicky is a queued Observer that panics on its first event.
type panicky struct {
	n    atomic.Int64
	seen atomic.Int64
}

func (p *panicky) Observe(context.Context, sess.Event) {
	if p.n.Add(1) == 1 {
		panic("observer bug")
	}
	p.seen.Add(1)
}

// TestQueuedObserverPanicIsContained: a panic in a queued Observer is
// logged and the queue goes on (on the request path net/http would have
// recovered it; in the queue's goroutine it would kill the process).
func TestQueuedObserverPanicIsContained(t *testing.T) {
	perReq := eventsPerRequest(t, "/?op=set&k=a&v=1", "")
	p := &panicky{}
	e := newAsyncEnv(t, sess.Config{Observer: p}, nil)
	e.mustGet(t, "/?op=set&k=a&v=1", "")
	e.mustGet(t, "/?op=set&k=a&v=1", "")
	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	if got := uint64(p.seen.Load()); got != 2*perReq-1 {
		t.Errorf("%d events after the panic, want %d", got, 2*perReq-1)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "level=ERROR msg=\"sess: Observer panicked\" event=observer_panic") ||
		!strings.Contains(logs, "panic=\"observer bug\"") {
		t.Errorf("no panic line in the log:\n%s", logs)
	}
}
