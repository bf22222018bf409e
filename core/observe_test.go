package sess_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/core/sesstest"
)

// recorder is an Observer that keeps every event, and counts them too.
type recorder struct {
	sess.Counters
	mu     sync.Mutex
	events []sess.Event
}

// Inline reports true (rather than by promotion from Counters, on
// purpose): the tests take the events right after each response, so they
// must be delivered on the request path. A mutex and an append are fast.
func (r *recorder) Inline() bool { return true }

func (r *recorder) Observe(ctx context.Context, e sess.Event) {
	r.Counters.Observe(ctx, e)
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

// take returns the lifecycle events (not store calls) since the last take.
func (r *recorder) take() []sess.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sess.Event
	for _, e := range r.events {
		if e.Kind != sess.EventStoreCall {
			out = append(out, e)
		}
	}
	r.events = nil
	return out
}

func kinds(es []sess.Event) string {
	var b []string
	for _, e := range es {
		b = append(b, e.Kind.String())
	}
	return strings.Join(b, ",")
}

func TestObserverSeesTheLifecycle(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, sess.Config{Observer: rec, IdleTimeout: time.Hour}, ops)
	expect := func(step, want string) []sess.Event {
		t.Helper()
		got := rec.take()
		if kinds(got) != want {
			t.Fatalf("%s: events %q, want %q", step, kinds(got), want)
		}
		return got
	}

	v1 := e.do(nil, "GET", "/?op=set&k=a&v=1").sessionValue(t, "sid")
	created := expect("create", "created")[0]
	if len(created.Handle) != 12 || strings.Contains(v1, created.Handle) {
		t.Errorf("created handle %q: want a 12-character hash that is no part of the cookie", created.Handle)
	}
	e.do(nil, "GET", "/?op=get&k=a", "Cookie", "sid="+v1)
	if l := expect("load", "loaded")[0]; l.Handle != created.Handle {
		t.Errorf("loaded handle %q, want the created one %q", l.Handle, created.Handle)
	}
	v2 := e.do(nil, "POST", "/?op=renew&user=ann", "Cookie", "sid="+v1).sessionValue(t, "sid")
	ev := expect("renew", "loaded,renewed")[1]
	if ev.OldHandle != created.Handle || ev.Handle == created.Handle || len(ev.Handle) != 12 {
		t.Errorf("renewed: %q -> %q, want %q -> a new handle", ev.OldHandle, ev.Handle, created.Handle)
	}
	renewed := ev.Handle
	e.do(nil, "POST", "/?op=destroy", "Cookie", "sid="+v2)
	if d := expect("destroy", "loaded,destroyed")[1]; d.Handle != renewed {
		t.Errorf("destroyed handle %q, want %q", d.Handle, renewed)
	}

	// Expiry.
	v3 := e.do(nil, "GET", "/?op=set&k=a&v=1").sessionValue(t, "sid")
	expect("create", "created")
	e.clock.Advance(2 * time.Hour)
	e.do(nil, "GET", "/?op=get&k=a", "Cookie", "sid="+v3)
	expect("expire", "expired")

	// Forged, ambiguous, corrupt.
	e.do(nil, "GET", "/", "Cookie", "sid=forged.AAAA; sid=x")
	expect("forged", "invalid_cookie,invalid_cookie")
	va := e.do(nil, "GET", "/?op=set&k=a&v=1").sessionValue(t, "sid")
	vb := e.do(nil, "GET", "/?op=set&k=a&v=1").sessionValue(t, "sid")
	rec.take()
	e.do(nil, "GET", "/", "Cookie", "sid="+va+"; sid="+vb)
	expect("ambiguous", "ambiguous_cookie")
	if err := e.mem.Update(context.Background(), idOf(va), sess.Patch{Meta: []byte{0xff}, Expires: e.clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.do(nil, "GET", "/", "Cookie", "sid="+va)
	if c := expect("corrupt", "corrupt_record")[0]; c.Err == nil {
		t.Error("corrupt_record event without the parse error")
	}

	// A store failure.
	e.spy.failGet.Store(true)
	if r := e.do(nil, "GET", "/", "Cookie", "sid="+vb); r.status != 503 {
		t.Fatalf("store failure: status %d", r.status)
	}
	e.spy.failGet.Store(false)
	se := expect("store error", "store_error")[0]
	if se.StoreOp != sess.StoreOpGet || !errors.Is(se.Err, errBoom) {
		t.Errorf("store error event: op %q err %v", se.StoreOp, se.Err)
	}

	// Store calls carry their operation and latency.
	if n := rec.Count(sess.EventStoreCall); n == 0 || rec.StoreLatency() <= 0 {
		t.Errorf("store calls %d, total latency %v: want both positive", n, rec.StoreLatency())
	}
	if rec.Count(sess.EventCreated) != 4 || rec.Count(sess.EventInvalidCookie) != 2 {
		t.Errorf("counts %v", rec.Snapshot())
	}
}

func TestObserverConflictOnConcurrentDestroy(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, sess.Config{Observer: rec}, ops)
	v := e.do(nil, "GET", "/?op=set&k=a&v=1").sessionValue(t, "sid")
	// Commit a change while the session is destroyed under it: the change
	// is dropped and reported as a conflict.
	release := make(chan struct{})
	e.spy.writeDelay = release
	writes := e.spy.writes.Load()
	slow := make(chan result, 1)
	go func() { slow <- e.do(nil, "GET", "/?op=set&k=b&v=2", "Cookie", "sid="+v) }()
	for e.spy.writes.Load() == writes { // the update is waiting on release
		time.Sleep(time.Millisecond)
	}
	e.do(nil, "POST", "/?op=destroy", "Cookie", "sid="+v)
	close(release)
	<-slow
	if n := rec.Count(sess.EventConflict); n != 1 {
		t.Errorf("conflict events = %d, want 1 (events %v)", n, rec.Snapshot())
	}
}

// TestCountersExactUnderConcurrency drives hundreds of requests in flight
// through Counters and checks the counts are exact.
func TestCountersExactUnderConcurrency(t *testing.T) {
	var c sess.Counters
	e := newEnv(t, sess.Config{Observer: &c, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, ops)
	v := e.do(nil, "GET", "/?op=set&k=a&v=1").sessionValue(t, "sid")
	const workers, per = 200, 2
	tr := e.srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = workers
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				if i%2 == 0 {
					e.do(client, "GET", "/?op=set&k=k"+fmt.Sprint(w)+"&v=1", "Cookie", "sid="+v)
				} else {
					e.do(client, "GET", "/", "Cookie", "sid=forged."+fmt.Sprint(w, i))
				}
			}
		})
	}
	wg.Wait()
	if got := c.Count(sess.EventLoaded); got != workers*per/2 {
		t.Errorf("loaded = %d, want %d", got, workers*per/2)
	}
	if got := c.Count(sess.EventInvalidCookie); got != workers*per/2 {
		t.Errorf("invalid_cookie = %d, want %d", got, workers*per/2)
	}
	if got := c.Count(sess.EventCreated); got != 1 {
		t.Errorf("created = %d, want 1", got)
	}
}

func TestEventKindNames(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range sess.EventKinds() {
		n := k.String()
		if n == "unknown" || n == "" || seen[n] {
			t.Errorf("kind %d has name %q", k, n)
		}
		seen[n] = true
	}
	if len(seen) != 11 {
		t.Errorf("%d kinds, want 11", len(seen))
	}
	if sess.EventKind(200).String() != "unknown" {
		t.Error("out-of-range kind has a name")
	}
	var c sess.Counters
	c.Observe(context.Background(), sess.Event{Kind: 200}) // no panic
	if c.Count(200) != 0 {
		t.Error("out-of-range kind counted")
	}
}

// TestForgedCookieFloodBoundedLogs sends 100,000 forged cookies over real
// HTTP (pipelined on keep-alive connections): the log stays a handful of
// lines, the counter is exact, and the suppressed lines are summed up once
// the next interval starts.
func TestForgedCookieFloodBoundedLogs(t *testing.T) {
	const total, conns = 100_000, 16
	logs := &sesstest.Logs{}
	clock := newClock()
	var c sess.Counters
	m, err := sess.New(sess.Config{Secret: secret, Observer: &c, Now: clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		if !s.IsNew() {
			t.Error("a forged cookie gave a stored session")
		}
		io.WriteString(w, "ok")
	})))
	defer srv.Close()

	// Liveness only: the flood must be answered, however slowly.
	flood(t, srv, total, conns, 5*time.Minute)
	if got := c.Count(sess.EventInvalidCookie); got != total {
		t.Errorf("invalid_cookie events = %d, want exactly %d", got, total)
	}
	lines := countLines(logs.String())
	t.Logf("%d forged cookies: %d log lines, %d bytes", total, lines, len(logs.String()))
	if lines > 10 {
		t.Errorf("%d forged cookies wrote %d log lines, want at most 10:\n%s", total, lines, logs.String())
	}

	// The next interval starts with a summary of what was suppressed.
	clock.Advance(time.Minute)
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Cookie", "sid=one.more")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := fmt.Sprintf("event=log_suppressed count=%d", total-10)
	if !strings.Contains(logs.String(), want) {
		t.Errorf("no summary %q in the log:\n%s", want, logs.String())
	}
	if got := c.Count(sess.EventInvalidCookie); got != total+1 {
		t.Errorf("invalid_cookie events = %d, want %d", got, total+1)
	}
}

func countLines(s string) int { return strings.Count(s, "\n") }

func TestTokenHeaderValidation(t *testing.T) {
	for _, name := range []string{"Cookie", "proxy-authorization", "Set-Cookie", "Bad Name", "X:Y", "Vary"} {
		if _, err := sess.New(sess.Config{Secret: secret, TokenHeader: name}); !errors.Is(err, sess.ErrInvalidConfig) {
			t.Errorf("TokenHeader %q: err %v, want ErrInvalidConfig", name, err)
		}
	}
	for _, cfg := range []sess.Config{
		{TokenHeader: "Authorization", TokenResponseHeader: "Authorization"},
		{TokenHeader: "Session-Token", TokenResponseHeader: "Set-Cookie"},
		{TokenResponseHeader: "Session-Token"},
		{DisableCookie: true},
	} {
		cfg.Secret = secret
		if _, err := sess.New(cfg); !errors.Is(err, sess.ErrInvalidConfig) {
			t.Errorf("TokenHeader %q, TokenResponseHeader %q, DisableCookie %t: err %v, want ErrInvalidConfig", cfg.TokenHeader, cfg.TokenResponseHeader, cfg.DisableCookie, err)
		}
	}
	// A lower-case name works: it is canonicalised.
	e := newEnv(t, sess.Config{TokenHeader: "x-session-token"}, ops)
	r := e.do(nil, "GET", "/?op=set&k=a&v=1")
	v := r.header.Get("X-Session-Token")
	if v == "" || v != r.sessionValue(t, "sid") {
		t.Fatalf("token %q, cookie %q", v, r.sessionValue(t, "sid"))
	}
	if got := e.do(nil, "GET", "/?op=get&k=a", "x-session-token", v).body; got != "1 true" {
		t.Errorf("by token: %q", got)
	}
}

// TestBearerTokenCookieless: an API server reads the session from
// Authorization: Bearer, sends it in Session-Token, and with DisableCookie
// neither reads nor sets a cookie.
func TestBearerTokenCookieless(t *testing.T) {
	e := newEnv(t, sess.Config{TokenHeader: "Authorization", DisableCookie: true}, ops)
	r := e.do(nil, "GET", "/?op=set&k=a&v=1")
	v := r.header.Get(sess.DefaultTokenResponseHeader)
	if v == "" || len(r.cookies) != 0 {
		t.Fatalf("a new session with DisableCookie: token %q, Set-Cookie %q; want a token and no cookie", v, r.cookies)
	}
	if cc := r.header.Values("Cache-Control"); !slices.Contains(cc, `no-cache="Session-Token"`) {
		t.Errorf("a response issuing a token must keep shared caches from storing it: Cache-Control %q", cc)
	}
	if vary := r.header.Values("Vary"); !slices.Contains(vary, "Authorization") {
		t.Errorf("a response depending on Authorization must vary on it: Vary %q", vary)
	}
	for _, auth := range []string{"Bearer " + v, "bearer  " + v, "BEARER\t" + v} {
		if got := e.do(nil, "GET", "/?op=get&k=a", "Authorization", auth).body; got != "1 true" {
			t.Errorf("Authorization %q: %q, want the session", auth[:7], got)
		}
	}
	for _, auth := range []string{v, "Basic " + v, "Bearer" + v, "Bearer " + v + "x"} {
		if got := e.do(nil, "GET", "/?op=get&k=a", "Authorization", auth).body; got == "1 true" {
			t.Errorf("Authorization %q reached the session", auth)
		}
	}
	if got := e.do(nil, "GET", "/?op=get&k=a", "Cookie", "sid="+v).body; got == "1 true" {
		t.Errorf("with DisableCookie a cookie reached the session")
	}
	r = e.do(nil, "GET", "/?op=destroy", "Authorization", "Bearer "+v)
	if got := r.header.Get(sess.DefaultTokenResponseHeader); got != sess.HeaderExpired || len(r.cookies) != 0 {
		t.Errorf("logout: token %q, Set-Cookie %q; want %q and no cookie", got, r.cookies, sess.HeaderExpired)
	}
}
