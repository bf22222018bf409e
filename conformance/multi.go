package conformance

import (
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// TwoHandler is the handler of RunTwoManagers. The adapter's mount calls
// it with the request's query, the sessions its FromManager accessor
// returns for the outer and the inner Manager, and the session its From
// returns, and writes the answer as a 200 text/plain response with the
// framework's own writer.
type TwoHandler func(query func(name string) string, outer, inner, from *sess.Session) string

// TwoMount builds an app that serves every method and path with the
// adapter's middleware for outer and then for inner (two Managers with
// different cookie names in one chain) in front of h.
type TwoMount func(t *testing.T, outer, inner *sess.Manager, h TwoHandler) http.Handler

// RunTwoManagers checks that two Managers in one chain keep two separate
// sessions over real HTTP: each handler reaches the session it asks for,
// writes to both land in their own session and cookie, renewing or
// destroying one leaves the other alone, and From still returns the
// innermost Manager's session.
func RunTwoManagers(t *testing.T, mount TwoMount) {
	t.Helper()
	newManager := func(name string) *sess.Manager {
		cfg := sess.Config{Secret: randomSecret(), CookieName: name}
		if name == "prefs" { // a long-lived, persistent preferences session
			cfg.MaxAge, cfg.IdleTimeout, cfg.AbsoluteTimeout = 30*24*time.Hour, 30*24*time.Hour, 90*24*time.Hour
		}
		m, err := sess.New(cfg)
		if err != nil {
			t.Fatalf("setup: sess.New: %v", err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	prefs, login := newManager("prefs"), newManager("sid")
	h := func(q func(string) string, outer, inner, from *sess.Session) string {
		if outer == nil || inner == nil {
			return fmt.Sprintf("missing session: outer=%t inner=%t", outer != nil, inner != nil)
		}
		switch q("op") {
		case "write":
			outer.Set("theme", q("theme"))
			inner.Set("user", q("user"))
		case "renew":
			inner.Renew()
		case "logout":
			inner.Destroy()
		}
		get := func(s *sess.Session, k string) string {
			v, ok := sess.Get[string](s, k)
			if !ok {
				return "-"
			}
			return v
		}
		return fmt.Sprintf("prefs=%s/%s sid=%s/%s innermost=%t", get(outer, "theme"), get(outer, "user"),
			get(inner, "theme"), get(inner, "user"), from == inner)
	}
	srv := httptest.NewTLSServer(mount(t, prefs, login, h))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	hc := srv.Client()
	hc.Jar = jar
	do := func(query string) (string, map[string]*http.Cookie) {
		t.Helper()
		resp, err := hc.Get(srv.URL + "/?" + query)
		if err != nil {
			t.Fatalf("GET ?%s: %v", query, err)
		}
		defer resp.Body.Close()
		var body strings.Builder
		buf := make([]byte, 512)
		for {
			n, err := resp.Body.Read(buf)
			body.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET ?%s: status %d, body %q", query, resp.StatusCode, body.String())
		}
		set := map[string]*http.Cookie{}
		for _, c := range resp.Cookies() {
			if set[c.Name] != nil {
				t.Errorf("GET ?%s: two Set-Cookie lines for %q", query, c.Name)
			}
			set[c.Name] = c
		}
		return body.String(), set
	}
	want := func(query, wantBody string, wantSet ...string) map[string]*http.Cookie {
		t.Helper()
		body, set := do(query)
		if body != wantBody {
			t.Errorf("GET ?%s: body %q, want %q (each Manager's session must keep its own data)", query, body, wantBody)
		}
		var names []string
		for n := range set {
			names = append(names, n)
		}
		if len(names) != len(wantSet) {
			t.Errorf("GET ?%s: Set-Cookie for %q, want for %q", query, names, wantSet)
		}
		for _, n := range wantSet {
			if set[n] == nil {
				t.Errorf("GET ?%s: no Set-Cookie for %q (Set-Cookie for %q)", query, n, names)
			}
		}
		return set
	}
	set := want("op=write&theme=dark&user=alice", "prefs=dark/- sid=-/alice innermost=true", "prefs", "sid")
	if c := set["prefs"]; c != nil && c.MaxAge != 30*24*3600 {
		t.Errorf("the prefs cookie has Max-Age %d, want its Manager's %d", c.MaxAge, 30*24*3600)
	}
	if c := set["sid"]; c != nil && c.MaxAge != 0 {
		t.Errorf("the sid cookie has Max-Age %d, want a browser-session cookie", c.MaxAge)
	}
	want("op=read", "prefs=dark/- sid=-/alice innermost=true")
	want("op=renew", "prefs=dark/- sid=-/alice innermost=true", "sid")
	want("op=read", "prefs=dark/- sid=-/alice innermost=true")
	set = want("op=logout", "prefs=dark/- sid=-/- innermost=true", "sid")
	if c := set["sid"]; c != nil && c.MaxAge >= 0 {
		t.Errorf("logging out must expire the sid cookie, got %q", c.Raw)
	}
	want("op=read", "prefs=dark/- sid=-/- innermost=true")
	want("op=write&theme=light&user=bob", "prefs=light/- sid=-/bob innermost=true", "sid")
}
