package redisstore

import (
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

// writersStoreTimeout is the Managers' StoreTimeout in the writer tests.
// They prove that concurrent writers never conflict; on a loaded 2-core
// machine under -race, 1,000 requests in flight queue for the CPU and for
// pooled connections for longer than the default 2 s, and a 503 from a
// timeout would hide what the test is about.
const writersStoreTimeout = time.Minute

// instances serves app through n Managers, each with its own Store (and
// client, from newClient) under one prefix: n instances of one
// application sharing one Redis.
func instances(t *testing.T, n int, prefix string, newClient func() redis.UniversalClient) []*httptest.Server {
	t.Helper()
	srvs := make([]*httptest.Server, n)
	for i := range srvs {
		st := New(newClient(), Config{Prefix: prefix})
		m, err := sess.New(sess.Config{Secret: testSecret, Store: st, StoreTimeout: writersStoreTimeout, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		srvs[i] = httptest.NewServer(app(m, nil, nil))
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

// do sends GET path with cookie and returns a description of what went
// wrong, or "" for a 200 without Set-Cookie.
func do(c *http.Client, srv *httptest.Server, path, cookie string) string {
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Cookie", cookie)
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Sprintf("%s: %v", path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(resp.Header.Values("Set-Cookie")) != 0 {
		return fmt.Sprintf("%s: status %d %q, Set-Cookie %q", path, resp.StatusCode, strings.TrimSpace(string(body)), resp.Header.Values("Set-Cookie"))
	}
	return ""
}

// burst sends every request of paths (path, cookie, server index) at once,
// at most limit in flight, and returns the failures.
func burst(c *http.Client, srvs []*httptest.Server, reqs []writerReq, limit int) []string {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		bad  []string
		sema = make(chan struct{}, limit)
	)
	for _, r := range reqs {
		sema <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sema }()
			if e := do(c, srvs[r.srv], r.path, r.cookie); e != "" {
				mu.Lock()
				bad = append(bad, e)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return bad
}

type writerReq struct {
	path, cookie string
	srv          int
}

// checkKeys reads the session's keys through every server and compares
// them with want.
func checkSessionKeys(t *testing.T, c *http.Client, srvs []*httptest.Server, cookie string, want []string) {
	t.Helper()
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
}

// runOneSession sends 1,000 concurrent requests, each setting its own key
// on one session, alternately through each server: all must answer 200
// and all 1,000 keys must be stored.
func runOneSession(t *testing.T, srvs []*httptest.Server) {
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
	checkSessionKeys(t, c, srvs, cookie, want)
}

// runManySessions has 1,000 sessions with 10 writers each, every writer
// setting its own key, through alternating servers, 1,000 requests in
// flight at a time (the 10 writers of a session are in flight together).
func runManySessions(t *testing.T, srvs []*httptest.Server) {
	const sessions, writers = 1000, 10
	c := writerClient(t)
	cookies := make([]string, sessions)
	var wg sync.WaitGroup
	sema := make(chan struct{}, 100)
	for i := range cookies {
		wg.Add(1)
		sema <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sema }()
			r, _, err := getErr(c, srvs[i%len(srvs)], "/set?k=user&v=u")
			if err != nil || len(r.cookies) != 1 {
				t.Errorf("creating session %d: %v, status %d", i, err, r.status)
				return
			}
			cookies[i], _, _ = strings.Cut(r.cookies[0], ";")
		}()
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
	want := "user,w0,w1,w2,w3,w4,w5,w6,w7,w8,w9"
	lost := 0
	for s, cookie := range cookies {
		r, _, err := getErrCookie(c, srvs[s%len(srvs)], "/keys", cookie)
		if err != nil || r.body != want {
			lost++
			if lost <= 3 {
				t.Errorf("session %d keys: %q, err %v; want %q", s, r.body, err, want)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d sessions lost writes", lost, sessions)
	}
}

func getErr(c *http.Client, srv *httptest.Server, path string) (response, time.Duration, error) {
	return getErrCookie(c, srv, path, "")
}

func getErrCookie(c *http.Client, srv *httptest.Server, path, cookie string) (response, time.Duration, error) {
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		return response{}, 0, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return response{}, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(b), cookies: resp.Header.Values("Set-Cookie")}, time.Since(start), err
}

// TestWritersStandalone: two Manager instances, each with its own client,
// on one real Redis.
func TestWritersStandalone(t *testing.T) {
	requireRedis(t)
	mk := func(t *testing.T) []*httptest.Server {
		prefix := testPrefix(t, newClient(t, nil))
		return instances(t, 2, prefix, func() redis.UniversalClient {
			return newClient(t, &redis.Options{Addr: redisAddr(), ContextTimeoutEnabled: true})
		})
	}
	t.Run("OneSession", func(t *testing.T) { runOneSession(t, mk(t)) })
	t.Run("ManySessions", func(t *testing.T) { runManySessions(t, mk(t)) })
}

// TestWritersCluster: two Manager instances, each with its own cluster
// client, on a real Redis Cluster of three primaries started by the test.
func TestWritersCluster(t *testing.T) {
	cl := startCluster(t, 3)
	admin := cl.Client(t)
	mk := func(t *testing.T) []*httptest.Server {
		prefix := testPrefix(t, admin)
		return instances(t, 2, prefix, func() redis.UniversalClient { return cl.Client(t) })
	}
	t.Run("OneSession", func(t *testing.T) { runOneSession(t, mk(t)) })
	t.Run("ManySessions", func(t *testing.T) { runManySessions(t, mk(t)) })
}
