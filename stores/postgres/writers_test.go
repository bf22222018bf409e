package pgstore

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// writersStoreTimeout is the Managers' StoreTimeout in the writer tests.
// They prove that concurrent writers never conflict; on a loaded 2-core
// machine under -race, 1,000 requests in flight queue for the CPU and for
// pooled connections for longer than the default 2 s, and a 503 from a
// timeout would hide what the test is about.
const writersStoreTimeout = time.Minute

// instances serves app through n Managers, each with its own Store and its
// own pool, on one table: n instances of one application sharing one
// database.
func instances(t *testing.T, n int, table string) []*httptest.Server {
	t.Helper()
	srvs := make([]*httptest.Server, n)
	for i := range srvs {
		pool := newPool(t, "", func(c *pgxpool.Config) { c.MaxConns = 16 })
		st := newTestStore(t, pool, Config{Table: table})
		srvs[i] = httptest.NewServer(app(newManager(t, st, writersStoreTimeout), nil))
		t.Cleanup(srvs[i].Close)
	}
	return srvs
}

// writerClient is one HTTP client for all the writers, keeping enough idle
// connections that a burst does not exhaust the loopback ports.
func writerClient(t *testing.T) *http.Client {
	c := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 1000}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

type writerReq struct {
	path, cookie string
	srv          int
}

// burst sends every request at once, at most limit in flight, and returns
// a description of each that did not answer 200 without Set-Cookie.
func burst(c *http.Client, srvs []*httptest.Server, reqs []writerReq, limit int) []string {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		bad  []string
		sema = make(chan struct{}, limit)
	)
	for _, r := range reqs {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			resp, err := doGet(c, srvs[r.srv], r.path, r.cookie)
			var e string
			switch {
			case err != nil:
				e = fmt.Sprintf("%s: %v", r.path, err)
			case resp.status != http.StatusOK || len(resp.cookies) != 0:
				e = fmt.Sprintf("%s: status %d %q, Set-Cookie %q", r.path, resp.status, strings.TrimSpace(resp.body), resp.cookies)
			default:
				return
			}
			mu.Lock()
			bad = append(bad, e)
			mu.Unlock()
		})
	}
	wg.Wait()
	return bad
}

// TestWritersOneSession sends 1,000 concurrent requests, each setting its
// own key on one session, alternately through two instances: all must
// answer 200 and all 1,000 keys must be stored.
func TestWritersOneSession(t *testing.T) {
	requirePostgres(t)
	srvs := instances(t, 2, testTable(t, newPool(t, "", nil)))
	const writers = 1000
	c := writerClient(t)
	cookie := sessionCookie(t, get(t, srvs[0], "/set?k=user&v=alice", ""))
	want := []string{"user"}
	reqs := make([]writerReq, writers)
	for i := range reqs {
		key := fmt.Sprintf("k%04d", i)
		want = append(want, key)
		reqs[i] = writerReq{path: "/set?k=" + key + "&v=" + key, cookie: cookie, srv: i % len(srvs)}
	}
	start := time.Now()
	bad := burst(c, srvs, reqs, writers)
	t.Logf("%d concurrent writers on one session through %d instances: %d answered 200 in %v", writers, len(srvs), writers-len(bad), time.Since(start).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d of %d writers failed; first: %s", len(bad), writers, bad[0])
	}
	slices.Sort(want)
	for i, srv := range srvs {
		r := get(t, srv, "/keys", cookie)
		got := strings.Split(r.body, ",")
		if r.status != http.StatusOK || !slices.Equal(got, want) {
			missing := 0
			for _, k := range want {
				if !slices.Contains(got, k) {
					missing++
				}
			}
			t.Errorf("keys read through server %d: status %d, %d keys, %d of the %d written are missing", i, r.status, len(got), missing, len(want))
		}
	}
	// Every value arrived intact.
	for _, k := range []string{"k0000", "k0499", "k0999"} {
		if r := get(t, srvs[1], "/get?k="+k, cookie); r.body != k {
			t.Errorf("value of %s: %q, want %q", k, r.body, k)
		}
	}
}

// TestWritersManySessions has 1,000 sessions with 10 writers each, every
// writer setting its own key, through alternating instances, 1,000
// requests in flight at a time (the 10 writers of a session together).
func TestWritersManySessions(t *testing.T) {
	requirePostgres(t)
	srvs := instances(t, 2, testTable(t, newPool(t, "", nil)))
	const sessions, writers = 1000, 10
	c := writerClient(t)
	cookies := make([]string, sessions)
	var wg sync.WaitGroup
	sema := make(chan struct{}, 100)
	for i := range cookies {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			r, err := doGet(c, srvs[i%len(srvs)], "/set?k=user&v=u", "")
			if err != nil || len(r.cookies) != 1 {
				t.Errorf("creating session %d: %v, status %d", i, err, r.status)
				return
			}
			cookies[i], _, _ = strings.Cut(r.cookies[0], ";")
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var reqs []writerReq
	for s := range sessions {
		for w := range writers {
			key := fmt.Sprintf("w%d", w)
			reqs = append(reqs, writerReq{path: "/set?k=" + key + "&v=1", cookie: cookies[s], srv: (s + w) % len(srvs)})
		}
	}
	start := time.Now()
	bad := burst(c, srvs, reqs, 1000)
	t.Logf("%d sessions x %d writers through %d instances: %d of %d answered 200 in %v", sessions, writers, len(srvs), len(reqs)-len(bad), len(reqs), time.Since(start).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d of %d writers failed; first: %s", len(bad), len(reqs), bad[0])
	}
	const want = "user,w0,w1,w2,w3,w4,w5,w6,w7,w8,w9"
	var lost int
	var mu sync.Mutex
	for s, cookie := range cookies {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			r, err := doGet(c, srvs[s%len(srvs)], "/keys", cookie)
			if err != nil || r.body != want {
				mu.Lock()
				lost++
				if lost <= 3 {
					t.Errorf("session %d keys: %q, err %v; want %q", s, r.body, err, want)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if lost > 0 {
		t.Errorf("%d of %d sessions lost writes", lost, sessions)
	}
}

// TestTwoInstances: a cookie issued by one instance works on the other,
// both ways, and a destroy on one is seen by the other.
func TestTwoInstances(t *testing.T) {
	requirePostgres(t)
	srvs := instances(t, 2, testTable(t, newPool(t, "", nil)))
	a, b := srvs[0], srvs[1]
	cookie := sessionCookie(t, get(t, a, "/set?k=user&v=alice", ""))
	if r := get(t, b, "/get?k=user", cookie); r.status != http.StatusOK || r.body != "alice" || len(r.cookies) != 0 {
		t.Fatalf("server B with server A's cookie: status %d, body %q, Set-Cookie %q; want 200 \"alice\" and no new cookie", r.status, r.body, r.cookies)
	}
	if r := get(t, b, "/set?k=role&v=admin", cookie); r.status != http.StatusOK || len(r.cookies) != 0 {
		t.Fatalf("write through B: status %d, Set-Cookie %q", r.status, r.cookies)
	}
	if r := get(t, a, "/keys", cookie); r.body != "role,user" {
		t.Errorf("keys through A after B's write: %q, want \"role,user\"", r.body)
	}
	if r := get(t, a, "/destroy", cookie); r.status != http.StatusOK {
		t.Fatalf("destroy through A: status %d", r.status)
	}
	if r := get(t, b, "/get?k=user", cookie); r.body != "" {
		t.Errorf("B still reads %q from the session A destroyed", r.body)
	}
}
