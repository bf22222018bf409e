package benchmarks

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// startPeer starts p for a test and stops it when the test ends.
func startPeer(t *testing.T, p peer) *setup {
	t.Helper()
	s, err := p.start()
	if err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	t.Cleanup(s.close)
	return s
}

// wantBody is the body a handler writes for counter n.
func wantBody(n int) string { return string(body(n)) }

// check sends one request with c and checks status and body. It returns
// the session cookie pair the response set, if any.
func check(t *testing.T, c client, step string, wantN int) string {
	t.Helper()
	c.do()
	status, got, pair := c.last()
	if status != http.StatusOK || got != wantBody(wantN) {
		t.Fatalf("%s: got %d %q, want 200 %q", step, status, got, wantBody(wantN))
	}
	return pair
}

// counter returns what the session behind pair reads as, through /read.
func counter(t *testing.T, s *setup, pair string) int {
	t.Helper()
	c := s.newClient(pathRead)
	c.setCookie(pair)
	c.do()
	status, got, _ := c.last()
	var n int
	if _, err := fmt.Sscanf(got, `{"counter":%d}`, &n); status != http.StatusOK || err != nil {
		t.Fatalf("read: got %d %q", status, got)
	}
	return n
}

// TestPeers checks, through the very clients the benchmarks use, that
// every setup creates, increments, reads and renews its session, so that
// no benchmark measures a broken setup. Bare handlers must answer the same
// body and set no cookie.
func TestPeers(t *testing.T) {
	for _, p := range peers {
		t.Run(p.name, func(t *testing.T) {
			s := startPeer(t, p)
			hit := s.newClient(pathHit)
			if p.bare {
				for i := range 3 {
					if pair := check(t, hit, fmt.Sprintf("bare hit %d", i), bareCounter); pair != "" {
						t.Fatalf("bare handler set a session cookie %q", pair)
					}
				}
				check(t, s.newClient(pathRead), "bare read", bareCounter)
				check(t, s.newClient(pathRenew), "bare renew", bareCounter)
				return
			}

			// New: no cookie, the handler writes.
			pair := check(t, hit, "new", 1)
			if pair == "" {
				t.Fatal("new: no session cookie")
			}
			// Hit, as the benchmark sends it: the same cookie each time.
			hit.setCookie(pair)
			check(t, hit, "hit 2", 2)
			check(t, hit, "hit 3", 3)
			// Read: reads only.
			read := s.newClient(pathRead)
			read.setCookie(pair)
			check(t, read, "read", 3)
			check(t, read, "read again", 3)

			// Renew, as the benchmark chains it: each response's cookie
			// goes into the next request; the data stays.
			renew := s.newClient(pathRenew)
			renew.setCookie(pair)
			old := pair
			for i := range 3 {
				next := check(t, renew, fmt.Sprintf("renew %d", i), 3)
				if next == "" || next == old {
					t.Fatalf("renew %d: session cookie %q, want a new one", i, next)
				}
				renew.follow()
				old = next
			}
			if n := counter(t, s, old); n != 3 {
				t.Fatalf("renewed session reads %d, want 3", n)
			}
			if n := counter(t, s, pair); n != 0 {
				t.Fatalf("the ID before renewal still reads %d, want a new session", n)
			}
			hit.setCookie(old)
			check(t, hit, "hit after renew", 4)
		})
	}
}

// TestPeersOverHTTP runs the same checks over real HTTP with a cookie jar:
// an httptest server for net/http, gin and echo, app.Test for fiber.
func TestPeersOverHTTP(t *testing.T) {
	for _, p := range peers {
		if p.bare {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			s := startPeer(t, p)
			jar, err := cookiejar.New(nil)
			if err != nil {
				t.Fatal(err)
			}
			var get func(path string) (*http.Response, error)
			base := "http://example.com"
			if s.handler != nil {
				srv := httptest.NewServer(s.handler)
				t.Cleanup(srv.Close)
				base = srv.URL
				c := &http.Client{Jar: jar}
				get = func(path string) (*http.Response, error) { return c.Get(base + path) }
			} else {
				u, _ := url.Parse(base)
				get = func(path string) (*http.Response, error) {
					req := httptest.NewRequest(http.MethodGet, base+path, nil)
					for _, c := range jar.Cookies(u) {
						req.AddCookie(c)
					}
					resp, err := s.fiber.Test(req, -1)
					if err == nil {
						jar.SetCookies(u, resp.Cookies())
					}
					return resp, err
				}
			}
			u, _ := url.Parse(base)
			sid := func() string {
				for _, c := range jar.Cookies(u) {
					if c.Name == cookieName {
						return c.Value
					}
				}
				return ""
			}
			step := func(path string, want int) {
				t.Helper()
				resp, err := get(path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || string(b) != wantBody(want) {
					t.Fatalf("GET %s: got %d %q, want 200 %q", path, resp.StatusCode, b, wantBody(want))
				}
				for _, line := range resp.Header["Set-Cookie"] {
					if strings.HasPrefix(line, cookieName+"=") && !strings.Contains(line, "HttpOnly") {
						t.Fatalf("GET %s: session cookie without HttpOnly: %q", path, line)
					}
				}
			}
			step(pathHit, 1)
			step(pathHit, 2)
			step(pathHit, 3)
			step(pathRead, 3)
			before := sid()
			step(pathRenew, 3)
			if after := sid(); after == "" || after == before {
				t.Fatalf("renew: cookie %q, want a new value", after)
			}
			step(pathRead, 3)
			step(pathHit, 4)
		})
	}
}

// TestParallelClients runs the ParallelHit harness under the race detector:
// goroutines with their own clients hit disjoint sessions of one setup, and
// every increment must land.
func TestParallelClients(t *testing.T) {
	const goroutines, perG, hits = 4, 5, 20
	for _, p := range peers {
		if p.bare {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			s := startPeer(t, p)
			pairs := createSessions(t, s, goroutines*perG)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					c := s.newClient(pathHit)
					for i := range hits {
						c.setCookie(pairs[g*perG+i%perG])
						c.do()
					}
				})
			}
			wg.Wait()
			for i, pair := range pairs {
				if n := counter(t, s, pair); n != 1+hits/perG {
					t.Fatalf("session %d reads %d, want %d", i, n, 1+hits/perG)
				}
			}
		})
	}
}

// TestSessHostileCookies sends forged, tampered, oversized and garbage
// cookies to the four sess setups through the benchmark clients: each must
// answer 200 with a brand-new session, never adopt the offered ID, never
// panic and never answer 500.
func TestSessHostileCookies(t *testing.T) {
	for _, p := range peers {
		if !strings.HasSuffix(p.name, "-sess") {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			s := startPeer(t, p)
			valid := createSessions(t, s, 1)[0]
			value := strings.TrimPrefix(valid, cookieName+"=")
			id, mac, _ := strings.Cut(value, ".")
			flip := func(str string) string {
				b := []byte(str)
				if b[0] == 'A' {
					b[0] = 'B'
				} else {
					b[0] = 'A'
				}
				return string(b)
			}
			hostile := map[string]string{
				"no mac":        cookieName + "=" + id,
				"tampered id":   cookieName + "=" + flip(id) + "." + mac,
				"tampered mac":  cookieName + "=" + id + "." + flip(mac),
				"forged":        cookieName + "=" + strings.Repeat("A", 43) + "." + strings.Repeat("B", 43),
				"empty":         cookieName + "=",
				"oversized":     cookieName + "=" + strings.Repeat("x", 8<<10),
				"garbage bytes": cookieName + "=\x00\xff\"';,%%",
				"two values":    cookieName + "=" + value + "; " + cookieName + "=" + id + "." + flip(mac),
				"quoted":        cookieName + `="` + id + "." + flip(mac) + `"`,
			}
			for name, cookie := range hostile {
				c := s.newClient(pathHit)
				c.setCookie(cookie)
				c.do()
				status, got, pair := c.last()
				want := 1
				if name == "two values" {
					want = 2 // the valid one is adopted, the forged one ignored
				}
				if status != http.StatusOK || got != wantBody(want) {
					t.Errorf("%s: got %d %q, want 200 %q", name, status, got, wantBody(want))
				}
				if want == 1 && (pair == "" || strings.Contains(pair, id)) {
					t.Errorf("%s: session cookie %q, want a fresh session", name, pair)
				}
			}
		})
	}
}

// createSessions creates n sessions through the setup's hit route and
// returns their cookie pairs.
func createSessions(tb testing.TB, s *setup, n int) []string {
	tb.Helper()
	c := s.newClient(pathHit)
	pairs := make([]string, n)
	for i := range pairs {
		c.setCookie("")
		c.do()
		status, _, pair := c.last()
		if status != http.StatusOK || pair == "" {
			tb.Fatalf("creating session %d: status %d, cookie %q", i, status, pair)
		}
		pairs[i] = pair
	}
	return pairs
}
