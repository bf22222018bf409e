package redisstore

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
	"github.com/redis/go-redis/v9"
)

// pauseStoreTimeout is the Manager's StoreTimeout in the pause tests, and
// pauseSlack what a request may take beyond it to answer.
const (
	pauseStoreTimeout = 500 * time.Millisecond
	pauseSlack        = 200 * time.Millisecond
)

// clientKinds are the client options the pause tests run with: go-redis's
// defaults (which ignore context deadlines, so the store guards each call)
// and the recommended ContextTimeoutEnabled (called directly).
var clientKinds = []struct {
	name   string
	opts   func(addr string) *redis.Options
	direct bool
}{
	{"default-options", func(addr string) *redis.Options { return &redis.Options{Addr: addr} }, false},
	{"context-timeout-enabled", func(addr string) *redis.Options {
		return &redis.Options{Addr: addr, ContextTimeoutEnabled: true}
	}, true},
}

// pauseServer is app behind the net/http adapter, served over real HTTP,
// that records how long the server took to answer each request (from
// the request reaching the handler chain to the response being written).
type pauseServer struct {
	*httptest.Server
	mu     sync.Mutex
	seq    int
	served map[string]time.Duration
}

// newPauseServer serves app over a Manager with StoreTimeout
// pauseStoreTimeout on st.
func newPauseServer(t *testing.T, st sess.Store) *pauseServer {
	t.Helper()
	m, err := sess.New(sess.Config{Secret: testSecret, Store: st, StoreTimeout: pauseStoreTimeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	ps := &pauseServer{served: map[string]time.Duration{}}
	h := app(m, nil, nil)
	ps.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		took := time.Since(start)
		ps.mu.Lock()
		ps.served[r.Header.Get("X-Request-Id")] = took
		ps.mu.Unlock()
	}))
	t.Cleanup(ps.Close)
	ps.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 512
	return ps
}

// timedGet is get that also returns how long the request took at the
// client and at the server, and reports a transport error instead of
// failing the test (it runs in goroutines).
func timedGet(ps *pauseServer, path, cookie string) (resp response, client, server time.Duration, err error) {
	req, err := http.NewRequest(http.MethodGet, ps.URL+path, nil)
	if err != nil {
		return response{}, 0, 0, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	ps.mu.Lock()
	ps.seq++
	id := fmt.Sprint(ps.seq)
	ps.mu.Unlock()
	req.Header.Set("X-Request-Id", id)
	start := time.Now()
	r, err := ps.Client().Do(req)
	if err != nil {
		return response{}, time.Since(start), 0, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	client = time.Since(start)
	ps.mu.Lock()
	server = ps.served[id]
	ps.mu.Unlock()
	if err != nil {
		return response{}, client, server, err
	}
	return response{status: r.StatusCode, body: string(b), cookies: r.Header.Values("Set-Cookie")}, client, server, nil
}

// warmUp opens n connections to srv, kept idle by its client, so that
// requests timed later do not include dialling.
func warmUp(t *testing.T, srv *pauseServer, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, _, err := timedGet(srv, "/none", ""); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// TestPausedRedis pauses a real redis-server owned by the test (SIGSTOP):
// every request that needs the store answers 503 within StoreTimeout +
// 200 ms, one at a time and with hundreds in flight, with go-redis's
// default options as with ContextTimeoutEnabled; after SIGCONT the same
// cookie works again, without restarting anything.
func TestPausedRedis(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := startOwnedRedis(t)
			c := redis.NewClient(kind.opts(r.Addr))
			t.Cleanup(func() { _ = c.Close() })
			st := New(c, Config{})
			if st.direct != kind.direct {
				t.Fatalf("store calls the client directly: %v, want %v", st.direct, kind.direct)
			}
			srv := newPauseServer(t, st)
			cookie := sessionCookie(t, get(t, srv.Server, "/set?k=user&v=alice", ""))
			if r := get(t, srv.Server, "/get?k=user", cookie); r.body != "alice" {
				t.Fatalf("read back %q, want alice", r.body)
			}
			limit := pauseStoreTimeout + pauseSlack
			const inFlight = 200
			warmUp(t, srv, inFlight)

			for round := range 2 { // a second pause after a recovery
				r.Pause(t)
				paused := time.Now()
				// One request at a time: a read, a write, a new session.
				for _, req := range []struct{ path, cookie string }{
					{"/get?k=user", cookie},
					{"/set?k=x&v=1", cookie},
					{"/set?k=x&v=1", ""},
				} {
					resp, took, _, err := timedGet(srv, req.path, req.cookie)
					t.Logf("round %d: paused %s (cookie %v): %d in %v", round, req.path, req.cookie != "", resp.status, took.Round(time.Millisecond))
					if err != nil || resp.status != http.StatusServiceUnavailable || len(resp.cookies) != 0 || took > limit {
						t.Errorf("paused %s: status %d, Set-Cookie %q, err %v, in %v; want 503, no cookie, within %v", req.path, resp.status, resp.cookies, err, took, limit)
					}
				}
				// Many in flight at once. A burst whose only fault is being
				// slow is run again, up to three times in all: on a machine
				// starved of CPU (other processes, -race) 200 answers may queue
				// for the processor, while a store that ignores the deadline
				// is slow every time.
				for attempt := 1; ; attempt++ {
					wrong, slow, served, client := pausedBurst(srv, cookie, inFlight, limit)
					t.Logf("round %d, burst %d: %d requests in flight on the paused server: slowest answer %v at the server, %v at the client; abandoned calls %d", round, attempt, inFlight, served.Round(time.Millisecond), client.Round(time.Millisecond), st.abandoned.Load())
					if len(wrong) > 0 {
						t.Errorf("%d of %d requests in flight did not answer 503; first: %s", len(wrong), inFlight, wrong[0])
					}
					if len(slow) == 0 {
						break
					}
					if attempt == 3 {
						t.Errorf("%d of %d requests in flight answered after more than %v; first: %s", len(slow), inFlight, limit, slow[0])
						break
					}
				}
				r.Resume(t)
				t.Logf("round %d: paused for %v", round, time.Since(paused).Round(time.Millisecond))

				// The same cookie works again at once.
				resp, took, _, err := timedGet(srv, "/get?k=user", cookie)
				if err != nil || resp.status != http.StatusOK || resp.body != "alice" || len(resp.cookies) != 0 {
					t.Errorf("read after SIGCONT: status %d, body %q, Set-Cookie %q, err %v; want 200 \"alice\", no cookie", resp.status, resp.body, resp.cookies, err)
				}
				t.Logf("round %d: first read after SIGCONT: %d in %v", round, resp.status, took.Round(time.Millisecond))
				if r := get(t, srv.Server, fmt.Sprintf("/set?k=after%d&v=1", round), cookie); r.status != http.StatusOK {
					t.Errorf("write after SIGCONT: status %d, want 200", r.status)
				}
			}
			// Abandoned calls finish once Redis answers again.
			deadline := time.Now().Add(10 * time.Second)
			for st.abandoned.Load() != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := st.abandoned.Load(); n != 0 {
				t.Errorf("%d abandoned calls still pending 10s after SIGCONT", n)
			}
		})
	}
}

// pausedBurst sends n requests 1 ms apart (as traffic arrives: from the
// last arrival on, all of them are in flight at once) on a paused server,
// and returns those that did not answer 503, those the server took longer
// than limit to answer, and the slowest answer at the server and at the
// client.
func pausedBurst(srv *pauseServer, cookie string, n int, limit time.Duration) (wrong, slow []string, worstServed, worst time.Duration) {
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for i := range n {
		time.Sleep(time.Millisecond)
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, ck := "/get?k=user", cookie
			switch i % 3 {
			case 1:
				path = fmt.Sprintf("/set?k=p%d&v=1", i)
			case 2:
				path, ck = fmt.Sprintf("/set?k=p%d&v=1", i), ""
			}
			resp, took, served, err := timedGet(srv, path, ck)
			mu.Lock()
			defer mu.Unlock()
			worst = max(worst, took)
			worstServed = max(worstServed, served)
			switch {
			case err != nil || resp.status != http.StatusServiceUnavailable || len(resp.cookies) != 0:
				wrong = append(wrong, fmt.Sprintf("%s: status %d, Set-Cookie %q, err %v", path, resp.status, resp.cookies, err))
			case served > limit:
				slow = append(slow, fmt.Sprintf("%s: served in %v", path, served))
			}
		}()
	}
	wg.Wait()
	return wrong, slow, worstServed, worst
}

// TestPausedRedisWrites measures what a client can conclude from the
// status of a write that met a pause: writers keep setting distinct keys
// on one session while Redis is paused for a while and resumed. Every key
// whose request answered 2xx must be stored; a key whose request answered
// 503 may or may not be, and the test reports how many were.
func TestPausedRedisWrites(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := startOwnedRedis(t)
			c := redis.NewClient(kind.opts(r.Addr))
			t.Cleanup(func() { _ = c.Close() })
			srv := newPauseServer(t, New(c, Config{}))
			cookie := sessionCookie(t, get(t, srv.Server, "/set?k=user&v=alice", ""))

			const writers = 64
			var (
				mu       sync.Mutex
				ok, fail []string
				other    []string
				seq      int
			)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						mu.Lock()
						seq++
						key := fmt.Sprintf("w%06d", seq)
						mu.Unlock()
						resp, _, _, err := timedGet(srv, "/set?k="+key+"&v=1", cookie)
						mu.Lock()
						switch {
						case err == nil && resp.status == http.StatusOK:
							ok = append(ok, key)
						case err == nil && resp.status == http.StatusServiceUnavailable:
							fail = append(fail, key)
						default:
							other = append(other, fmt.Sprintf("%s: status %d, err %v", key, resp.status, err))
						}
						mu.Unlock()
					}
				}()
			}
			for range 3 {
				time.Sleep(300 * time.Millisecond)
				r.Pause(t)
				time.Sleep(2 * pauseStoreTimeout)
				r.Resume(t)
			}
			time.Sleep(300 * time.Millisecond)
			close(stop)
			wg.Wait()
			if len(other) > 0 {
				t.Fatalf("%d writes answered neither 200 nor 503; first: %s", len(other), other[0])
			}

			// Read what was stored, straight from the store.
			var stored map[string]bool
			deadline := time.Now().Add(10 * time.Second)
			for {
				resp := get(t, srv.Server, "/keys", cookie)
				if resp.status == http.StatusOK {
					stored = map[string]bool{}
					for _, k := range strings.Split(resp.body, ",") {
						stored[k] = true
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("reading keys after the pauses: status %d", resp.status)
				}
				time.Sleep(50 * time.Millisecond)
			}
			var lost, appliedAnyway []string
			for _, k := range ok {
				if !stored[k] {
					lost = append(lost, k)
				}
			}
			for _, k := range fail {
				if stored[k] {
					appliedAnyway = append(appliedAnyway, k)
				}
			}
			slices.Sort(appliedAnyway)
			t.Logf("%d writes answered 200, %d answered 503; of the 503s, %d were stored anyway: %v", len(ok), len(fail), len(appliedAnyway), appliedAnyway)
			if len(lost) > 0 {
				t.Errorf("%d writes answered 200 but are not stored: %v", len(lost), lost)
			}
			if len(fail) == 0 {
				t.Errorf("no write answered 503: the pauses did not hit any request")
			}
		})
	}
}

// TestGuardedCall covers the guard on clients that ignore contexts: a call
// returns at its deadline, abandoned calls are counted until they finish,
// and beyond Config.MaxAbandoned calls fail at once with ErrOverloaded.
func TestGuardedCall(t *testing.T) {
	r := startOwnedRedis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = c.Close() })
	st := New(c, Config{MaxAbandoned: 3, Prefix: "guard:"})
	if st.direct {
		t.Fatal("a client without ContextTimeoutEnabled is called directly")
	}
	r.Pause(t)
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		_, err := st.Get(ctx, "id")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 300*time.Millisecond {
			t.Errorf("Get %d on a paused server: %v after %v, want DeadlineExceeded after 100ms", i, err, time.Since(start))
		}
	}
	if n := st.abandoned.Load(); n != 3 {
		t.Errorf("abandoned = %d, want 3", n)
	}
	start := time.Now()
	err := st.Delete(context.Background(), "id")
	if !errors.Is(err, ErrOverloaded) || time.Since(start) > 50*time.Millisecond {
		t.Errorf("Delete with 3 abandoned calls pending: %v after %v, want ErrOverloaded at once", err, time.Since(start))
	}
	r.Resume(t)
	deadline := time.Now().Add(10 * time.Second)
	for st.abandoned.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := st.abandoned.Load(); n != 0 {
		t.Fatalf("abandoned = %d after SIGCONT, want 0", n)
	}
	if err := st.Delete(context.Background(), "id"); err != nil {
		t.Errorf("Delete after SIGCONT: %v", err)
	}
}

// TestHonoursContext checks which clients the store calls directly.
func TestHonoursContext(t *testing.T) {
	cases := []struct {
		name   string
		client redis.UniversalClient
		want   bool
	}{
		{"Client default", redis.NewClient(&redis.Options{}), false},
		{"Client ContextTimeoutEnabled", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true}), true},
		{"Client ContextTimeoutEnabled ReadTimeout -1", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true, ReadTimeout: -1}), true},
		{"Client ContextTimeoutEnabled ReadTimeout -2", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true, ReadTimeout: -2}), false},
		{"Client ContextTimeoutEnabled WriteTimeout -2", redis.NewClient(&redis.Options{ContextTimeoutEnabled: true, WriteTimeout: -2}), false},
		{"FailoverClient ContextTimeoutEnabled", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), true},
		{"FailoverClient default", redis.NewFailoverClient(&redis.FailoverOptions{MasterName: "m", SentinelAddrs: []string{"127.0.0.1:1"}}), false},
		{"ClusterClient ContextTimeoutEnabled", redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
		{"Ring ContextTimeoutEnabled", redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}, ContextTimeoutEnabled: true}), false},
	}
	for _, tc := range cases {
		if got := New(tc.client, Config{}).direct; got != tc.want {
			t.Errorf("%s: called directly = %v, want %v", tc.name, got, tc.want)
		}
		_ = tc.client.Close()
	}
}

// TestPausedRedisIndex pauses a real redis-server (SIGSTOP) under sessions
// bound to a principal: listing, looking up and revoking them through the
// Manager (ListPrincipal, GetHandle, DeleteHandle, DeletePrincipal, several
// round trips each) fail with sess.ErrStoreUnavailable, and requests that
// write bound sessions answer 503, within StoreTimeout + 200 ms, with go-redis's default options as with ContextTimeoutEnabled;
// after SIGCONT they work again.
func TestPausedRedisIndex(t *testing.T) {
	for _, kind := range clientKinds {
		t.Run(kind.name, func(t *testing.T) {
			r := startOwnedRedis(t)
			c := redis.NewClient(kind.opts(r.Addr))
			t.Cleanup(func() { _ = c.Close() })
			st := New(c, Config{})
			m, err := sess.New(sess.Config{Secret: testSecret, Store: st, StoreTimeout: pauseStoreTimeout, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = m.Close() })
			srv := httptest.NewServer(app(m, nil, nil))
			t.Cleanup(srv.Close)
			var handles, cookies []string
			for range 3 {
				cookie := sessionCookie(t, get(t, srv, "/bind?p=alice", ""))
				cookies = append(cookies, cookie)
				handles = append(handles, sess.HashID(idOf(cookie)))
			}
			status := func(path, cookie string) func() error {
				return func() error {
					if r := get(t, srv, path, cookie); r.status != http.StatusServiceUnavailable {
						return fmt.Errorf("status %d", r.status)
					}
					return sess.ErrStoreUnavailable
				}
			}
			ctx := context.Background()
			if infos, err := m.Sessions(ctx, "alice"); err != nil || len(infos) != 3 {
				t.Fatalf("Sessions before the pause = %d, %v; want 3", len(infos), err)
			}
			limit := pauseStoreTimeout + pauseSlack
			calls := []struct {
				name string
				call func() error
			}{
				{"Sessions", func() error { _, err := m.Sessions(ctx, "alice"); return err }},
				{"SessionByHandle", func() error { _, err := m.SessionByHandle(ctx, handles[0]); return err }},
				{"Revoke", func() error { return m.Revoke(ctx, "alice", handles[0]) }},
				{"RevokeAll", func() error { _, err := m.RevokeAll(ctx, "alice", handles[1]); return err }},
				{"a new session bound at once (HTTP)", status("/bind?p=alice", "")},
				{"a write of a bound session (HTTP)", status("/set?k=a&v=1", cookies[2])},
				{"binding a stored session (HTTP)", status("/bind?p=bob", cookies[2])},
			}
			r.Pause(t)
			for _, c := range calls {
				start := time.Now()
				err := c.call()
				took := time.Since(start)
				t.Logf("paused %s: %v in %v", c.name, err, took.Round(time.Millisecond))
				if !errors.Is(err, sess.ErrStoreUnavailable) || took > limit {
					t.Errorf("%s on a paused server: %v after %v; want ErrStoreUnavailable within %v", c.name, err, took, limit)
				}
			}
			r.Resume(t)
			deadline := time.Now().Add(10 * time.Second)
			for st.abandoned.Load() != 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := st.abandoned.Load(); n != 0 {
				t.Errorf("%d abandoned calls still pending 10s after SIGCONT", n)
			}
			if _, err := m.Sessions(ctx, "alice"); err != nil {
				t.Fatalf("Sessions after SIGCONT: %v", err)
			}
			// A call that timed out may still be applied once Redis runs
			// it (a buffered bound Create among them): revoke until no
			// session is listed, and check that none is live unlisted.
			for {
				if _, err := m.RevokeAll(ctx, "alice"); err != nil {
					t.Fatalf("RevokeAll after SIGCONT: %v", err)
				}
				infos, err := m.Sessions(ctx, "alice")
				if err != nil {
					t.Fatalf("Sessions after SIGCONT: %v", err)
				}
				if len(infos) == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d sessions still listed after repeated RevokeAll", len(infos))
				}
				time.Sleep(50 * time.Millisecond)
			}
			for i, cookie := range cookies {
				if _, err := m.SessionByID(ctx, idOf(cookie)); !errors.Is(err, sess.ErrNotFound) {
					t.Errorf("bound session %d after RevokeAll: %v, want ErrNotFound", i, err)
				}
			}
		})
	}
}
