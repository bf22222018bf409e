package conformance

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
)

// instancesStoreTimeout is the Managers' StoreTimeout in RunInstances. The
// cases prove that concurrent writers never conflict; on a loaded 2-core
// machine under -race, 1,000 requests in flight queue for the CPU and for
// pooled connections for longer than the default 2 s, and a 503 from a
// timeout would hide what the cases are about. (Timeouts have cases of
// their own in Run.)
const instancesStoreTimeout = time.Minute

// RunInstances checks, over real HTTP, that several application instances
// sharing one store backend behave as one application: a cookie issued by
// one instance works on the others and a logout on one is seen by all; 1,000
// concurrent requests setting distinct keys on ONE session, spread over the
// instances, all answer 200 and all 1,000 keys are stored; and 1,000
// sessions with 10 such writers each lose nothing either.
//
// newInstances returns n stores over one fresh, empty backend namespace
// (one Redis prefix, one SQL table), each as a separate instance would
// have it: its own client or pool. It registers any cleanup with
// t.Cleanup. Each instance is a sess.Manager behind an httptest server,
// through the core's net/http binding. A store author runs it next to
// RunStore:
//
//	func TestInstances(t *testing.T) {
//		conformance.RunInstances(t, func(t *testing.T, n int) []sess.Store {
//			ns := freshNamespace(t)
//			var stores []sess.Store
//			for range n {
//				stores = append(stores, mystore.New(newClient(t), ns))
//			}
//			return stores
//		})
//	}
//
// The cases send thousands of requests; run them with -race like the rest.
func RunInstances(t *testing.T, newInstances func(t *testing.T, n int) []sess.Store) {
	t.Helper()
	const n = 2
	for _, c := range []struct {
		name, why string
		run       func(t *testing.T, srvs []*httptest.Server)
	}{
		{"CookieAcrossInstances", "behind a load balancer every request may reach another instance; a session must be one session everywhere, and a logout on one instance must end it on all", instancesCookieAcross},
		{"ThousandWritersOneSession", "a page firing parallel requests, served by different instances, must keep every write: a commit sends only its own keys and the store applies them atomically", instancesOneSession},
		{"ThousandSessionsTenWriters", "writers of many sessions at once, spread over the instances, must neither conflict nor lose a key", instancesManySessions},
	} {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("why this matters: %s", c.why)
				}
			}()
			stores := newInstances(t, n)
			if len(stores) != n {
				t.Fatalf("newInstances returned %d stores, want %d", len(stores), n)
			}
			srvs := make([]*httptest.Server, n)
			for i, st := range stores {
				m, err := sess.New(sess.Config{Secret: []byte("conformance-instances-secret-0123456789-abcdef"), Store: st, StoreTimeout: instancesStoreTimeout, DisableSecure: true, Logger: slog.New(slog.DiscardHandler)})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = m.Close() })
				srvs[i] = httptest.NewServer(m.Wrap(instanceApp()))
				t.Cleanup(srvs[i].Close)
			}
			c.run(t, srvs)
		})
	}
}

// instanceApp is the application every instance serves: /set?k=&v=,
// /get?k=, /keys (sorted, comma-separated) and /destroy.
func instanceApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := sess.FromContext(r.Context())
		if !ok {
			http.Error(w, "no session", http.StatusInternalServerError)
			return
		}
		q := r.URL.Query()
		switch r.URL.Path {
		case "/set":
			s.Set(q.Get("k"), q.Get("v"))
		case "/get":
			v, _ := sess.Get[string](s, q.Get("k"))
			_, _ = io.WriteString(w, v)
		case "/keys":
			_, _ = io.WriteString(w, strings.Join(s.Keys(), ","))
		case "/destroy":
			s.Destroy()
		default:
			http.NotFound(w, r)
		}
	})
}

// instanceResp is what one request answered.
type instanceResp struct {
	status  int
	body    string
	cookies []string
	err     error
}

func instanceGet(c *http.Client, srv *httptest.Server, path, cookie string) instanceResp {
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		return instanceResp{err: err}
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		return instanceResp{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return instanceResp{status: resp.StatusCode, body: string(b), cookies: resp.Header.Values("Set-Cookie"), err: err}
}

// instanceClient is one HTTP client for all the writers, keeping enough
// idle connections that a burst does not exhaust the loopback ports.
func instanceClient(t *testing.T) *http.Client {
	c := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 1000}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// newInstanceSession creates a session through srv and returns its cookie.
func newInstanceSession(t *testing.T, c *http.Client, srv *httptest.Server) string {
	t.Helper()
	r := instanceGet(c, srv, "/set?k=user&v=alice", "")
	if r.err != nil || r.status != http.StatusOK || len(r.cookies) != 1 {
		t.Fatalf("creating a session: status %d, Set-Cookie %q, %v", r.status, r.cookies, r.err)
	}
	cookie, _, _ := strings.Cut(r.cookies[0], ";")
	return cookie
}

type instanceReq struct {
	path, cookie string
	srv          int
}

// instanceBurst sends every request at once, at most limit in flight, and
// returns a description of each that did not answer 200 without
// Set-Cookie.
func instanceBurst(c *http.Client, srvs []*httptest.Server, reqs []instanceReq, limit int) []string {
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
			resp := instanceGet(c, srvs[r.srv], r.path, r.cookie)
			if resp.err == nil && resp.status == http.StatusOK && len(resp.cookies) == 0 {
				return
			}
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%s: status %d %q, Set-Cookie %q, %v", r.path, resp.status, strings.TrimSpace(resp.body), resp.cookies, resp.err))
			mu.Unlock()
		})
	}
	wg.Wait()
	return bad
}

func instancesCookieAcross(t *testing.T, srvs []*httptest.Server) {
	c := instanceClient(t)
	a, b := srvs[0], srvs[1]
	cookie := newInstanceSession(t, c, a)
	if r := instanceGet(c, b, "/get?k=user", cookie); r.status != http.StatusOK || r.body != "alice" || len(r.cookies) != 0 {
		t.Fatalf("instance B with A's cookie: status %d, body %q, Set-Cookie %q, %v; want 200 \"alice\" and no new cookie", r.status, r.body, r.cookies, r.err)
	}
	if r := instanceGet(c, b, "/set?k=role&v=admin", cookie); r.status != http.StatusOK || len(r.cookies) != 0 {
		t.Fatalf("write through B: status %d, Set-Cookie %q, %v", r.status, r.cookies, r.err)
	}
	if r := instanceGet(c, a, "/keys", cookie); r.body != "role,user" {
		t.Errorf("keys through A after B's write: %q, want \"role,user\"", r.body)
	}
	if r := instanceGet(c, a, "/destroy", cookie); r.status != http.StatusOK {
		t.Fatalf("destroy through A: status %d, %v", r.status, r.err)
	}
	if r := instanceGet(c, b, "/get?k=user", cookie); r.body != "" {
		t.Errorf("B still reads %q from the session A destroyed", r.body)
	}
}

func instancesOneSession(t *testing.T, srvs []*httptest.Server) {
	const writers = 1000
	c := instanceClient(t)
	cookie := newInstanceSession(t, c, srvs[0])
	want := []string{"user"}
	reqs := make([]instanceReq, writers)
	for i := range reqs {
		key := fmt.Sprintf("k%04d", i)
		want = append(want, key)
		reqs[i] = instanceReq{path: "/set?k=" + key + "&v=" + key, cookie: cookie, srv: i % len(srvs)}
	}
	start := time.Now()
	bad := instanceBurst(c, srvs, reqs, writers)
	t.Logf("%d concurrent writers on one session through %d instances: %d answered 200 in %v", writers, len(srvs), writers-len(bad), time.Since(start).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d of %d writers failed; first: %s", len(bad), writers, bad[0])
	}
	slices.Sort(want)
	for i, srv := range srvs {
		r := instanceGet(c, srv, "/keys", cookie)
		got := strings.Split(r.body, ",")
		if r.status != http.StatusOK || !slices.Equal(got, want) {
			missing := 0
			for _, k := range want {
				if !slices.Contains(got, k) {
					missing++
				}
			}
			t.Errorf("keys read through instance %d: status %d, %d keys, %d of the %d written are missing", i, r.status, len(got), missing, len(want))
		}
	}
	for _, k := range []string{"k0000", "k0499", "k0999"} {
		if r := instanceGet(c, srvs[1], "/get?k="+k, cookie); r.body != k {
			t.Errorf("value of %s: %q, want %q", k, r.body, k)
		}
	}
}

func instancesManySessions(t *testing.T, srvs []*httptest.Server) {
	const sessions, writers = 1000, 10
	c := instanceClient(t)
	cookies := make([]string, sessions)
	var wg sync.WaitGroup
	sema := make(chan struct{}, 100)
	var mu sync.Mutex
	var failed []string
	for i := range cookies {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			r := instanceGet(c, srvs[i%len(srvs)], "/set?k=user&v=u", "")
			if r.err != nil || r.status != http.StatusOK || len(r.cookies) != 1 {
				mu.Lock()
				failed = append(failed, fmt.Sprintf("session %d: status %d, %v", i, r.status, r.err))
				mu.Unlock()
				return
			}
			cookies[i], _, _ = strings.Cut(r.cookies[0], ";")
		})
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Fatalf("creating %d sessions: %d failed; first: %s", sessions, len(failed), failed[0])
	}
	var reqs []instanceReq
	for s := range sessions {
		for w := range writers {
			reqs = append(reqs, instanceReq{path: fmt.Sprintf("/set?k=w%d&v=1", w), cookie: cookies[s], srv: (s + w) % len(srvs)})
		}
	}
	start := time.Now()
	bad := instanceBurst(c, srvs, reqs, 1000)
	t.Logf("%d sessions x %d writers through %d instances: %d of %d answered 200 in %v", sessions, writers, len(srvs), len(reqs)-len(bad), len(reqs), time.Since(start).Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("%d of %d writers failed; first: %s", len(bad), len(reqs), bad[0])
	}
	const want = "user,w0,w1,w2,w3,w4,w5,w6,w7,w8,w9"
	lost := 0
	for s, cookie := range cookies {
		sema <- struct{}{}
		wg.Go(func() {
			defer func() { <-sema }()
			r := instanceGet(c, srvs[s%len(srvs)], "/keys", cookie)
			if r.err != nil || r.body != want {
				mu.Lock()
				lost++
				if lost <= 3 {
					t.Errorf("session %d keys: %q, %v; want %q", s, r.body, r.err, want)
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
