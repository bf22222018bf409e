package demotest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// CookieName is the session cookie's name in every example.
const CookieName = "sid"

// client is a test HTTP client with an optional cookie jar that never
// follows redirects.
type client struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newClient(t *testing.T, base string, withJar bool) *client {
	c := &http.Client{
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	if withJar {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		c.Jar = jar
	}
	return &client{t: t, base: base, c: c}
}

// response is a fully read response.
type response struct {
	*http.Response
	body []byte
}

// do sends a request with optional extra headers and reads the response.
// Any transport error and any 5xx status fail the test.
func (c *client) do(method, path string, header http.Header) response {
	c.t.Helper()
	r, err := c.try(method, path, header)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// try is do for requests the server may refuse by dropping the
// connection: it returns transport errors instead of failing the test
// (5xx statuses still fail it).
func (c *client) try(method, path string, header http.Header) (response, error) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: reading body: %w", method, path, err)
	}
	if resp.StatusCode >= 500 {
		c.t.Errorf("%s %s: status %d, want < 500 (body %q)", method, path, resp.StatusCode, body)
	}
	return response{resp, body}, nil
}

// jarCookie returns the session cookie's value in the client's jar, or "".
func (c *client) jarCookie() string {
	c.t.Helper()
	u, err := url.Parse(c.base)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == CookieName {
			return ck.Value
		}
	}
	return ""
}

// sessionCookie returns the response's Set-Cookie for the session cookie,
// or nil. It fails the test if there are several.
func sessionCookie(t *testing.T, r response) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, line := range r.Header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err != nil {
			t.Errorf("unparsable Set-Cookie %q: %v", line, err)
			continue
		}
		if ck.Name != CookieName {
			continue
		}
		if found != nil {
			t.Errorf("two Set-Cookie lines for %q: %q", CookieName, r.Header.Values("Set-Cookie"))
		}
		found = ck
	}
	return found
}

// wantJSON checks that r is a 200 JSON answer equal to want.
func wantJSON(t *testing.T, r response, want string) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	wantJSONBody(t, r, want)
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Errorf("%s %s: status %d, want %d (body %q)", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
}

func wantJSONBody(t *testing.T, r response, want string) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q, want application/json", r.Request.Method, r.Request.URL.Path, ct)
	}
	var got, exp any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Errorf("%s %s: body %q is not JSON: %v", r.Request.Method, r.Request.URL.Path, r.body, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		panic(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("%s %s: body %s, want %s", r.Request.Method, r.Request.URL.Path, bytes.TrimSpace(r.body), want)
	}
}

// wantNoSessionCookie checks that r sets no session cookie.
func wantNoSessionCookie(t *testing.T, r response) {
	t.Helper()
	if ck := sessionCookie(t, r); ck != nil {
		t.Errorf("%s %s: unexpected Set-Cookie %q", r.Request.Method, r.Request.URL.String(), ck.String())
	}
}

// cookieHeader is a request header carrying the session cookie value v.
func cookieHeader(v string) http.Header {
	return http.Header{"Cookie": {CookieName + "=" + v}}
}

// HTTP runs the examples' HTTP scenarios against the server at base.
func HTTP(t *testing.T, base string) {
	t.Run("CounterIncrements", func(t *testing.T) {
		c := newClient(t, base, true)
		var first string
		for i := 1; i <= 3; i++ {
			r := c.do("GET", "/session_test", nil)
			wantJSON(t, r, fmt.Sprintf(`{"test_counter": %d}`, i))
			ck := sessionCookie(t, r)
			if i == 1 {
				if ck == nil {
					t.Fatal("first GET /session_test set no session cookie")
				}
				checkAttributes(t, ck)
				first = ck.Value
				if r.Header.Get("Vary") == "" || !strings.Contains(r.Header.Get("Vary"), "Cookie") {
					t.Errorf("response setting the cookie has Vary %q, want Cookie", r.Header.Values("Vary"))
				}
			} else if ck != nil && ck.Value != first {
				t.Errorf("request %d changed the session cookie", i)
			}
		}
		if got := c.jarCookie(); got != first {
			t.Errorf("cookie jar holds %q, want the issued cookie", got)
		}
		// Another client does not share the counter.
		wantJSON(t, newClient(t, base, true).do("GET", "/session_test", nil), `{"test_counter": 1}`)
	})

	t.Run("ReadOnlyRoutesCreateNoSession", func(t *testing.T) {
		c := newClient(t, base, true)
		r := c.do("GET", "/whoami", nil)
		wantJSON(t, r, `{"user": null}`)
		wantNoSessionCookie(t, r)
		r = c.do("GET", "/", nil)
		wantStatus(t, r, http.StatusOK)
		wantNoSessionCookie(t, r)
		r = c.do("POST", "/logout", nil)
		wantJSON(t, r, `{"ok": true}`)
		wantNoSessionCookie(t, r)
		if got := c.jarCookie(); got != "" {
			t.Errorf("jar holds a session cookie after read-only requests")
		}
	})

	t.Run("LoginRenewsIDAndKeepsData", func(t *testing.T) {
		c := newClient(t, base, true)
		wantJSON(t, c.do("GET", "/session_test", nil), `{"test_counter": 1}`)
		before := c.jarCookie()
		r := c.do("POST", "/login?user=alice", nil)
		wantJSON(t, r, `{"user": "alice"}`)
		ck := sessionCookie(t, r)
		if ck == nil {
			t.Fatal("POST /login set no session cookie")
		}
		checkAttributes(t, ck)
		if ck.Value == before {
			t.Fatal("POST /login kept the session cookie value; want a new session ID")
		}
		if sessionID(ck.Value) == sessionID(before) {
			t.Error("POST /login kept the session ID")
		}
		wantJSON(t, c.do("GET", "/whoami", nil), `{"user": "alice"}`)
		wantJSON(t, c.do("GET", "/session_test", nil), `{"test_counter": 2}`)
		// The pre-login cookie no longer works (session fixation).
		old := newClient(t, base, false)
		r = old.do("GET", "/whoami", cookieHeader(before))
		wantJSON(t, r, `{"user": null}`)
		wantNoSessionCookie(t, r)
		// Logging in without a session first works too.
		fresh := newClient(t, base, true)
		r = fresh.do("POST", "/login?user=bob", nil)
		wantJSON(t, r, `{"user": "bob"}`)
		if sessionCookie(t, r) == nil {
			t.Error("POST /login on a fresh client set no session cookie")
		}
		wantJSON(t, fresh.do("GET", "/whoami", nil), `{"user": "bob"}`)
	})

	t.Run("LogoutExpiresCookie", func(t *testing.T) {
		c := newClient(t, base, true)
		wantJSON(t, c.do("POST", "/login?user=carol", nil), `{"user": "carol"}`)
		wantJSON(t, c.do("GET", "/session_test", nil), `{"test_counter": 1}`)
		loggedIn := c.jarCookie()
		r := c.do("POST", "/logout", nil)
		wantJSON(t, r, `{"ok": true}`)
		ck := sessionCookie(t, r)
		switch {
		case ck == nil:
			t.Error("POST /logout did not expire the session cookie")
		case ck.MaxAge >= 0 && (ck.Expires.IsZero() || ck.Expires.After(time.Now())):
			t.Errorf("POST /logout sent %q, want an expired cookie", ck.String())
		case ck.Path != "/":
			t.Errorf("expiring cookie has Path %q, want /", ck.Path)
		}
		if got := c.jarCookie(); got != "" {
			t.Errorf("jar still holds a session cookie after logout")
		}
		wantJSON(t, c.do("GET", "/whoami", nil), `{"user": null}`)
		// The old cookie is dead on the server too, not only in the jar.
		old := newClient(t, base, false)
		r = old.do("GET", "/whoami", cookieHeader(loggedIn))
		wantJSON(t, r, `{"user": null}`)
		wantNoSessionCookie(t, r)
		// A new session starts from zero.
		wantJSON(t, c.do("GET", "/session_test", nil), `{"test_counter": 1}`)
	})

	t.Run("BadLoginName", func(t *testing.T) {
		for _, q := range []string{
			"",
			"?user=",
			"?user=" + strings.Repeat("a", 33),
			"?user=a%00b",
			"?user=a%0Ab",
			"?user=%1B%5B31m",
			"?user=%E2%80%8B",    // zero-width space
			"?user=%E2%80%AEabc", // right-to-left override
			"?user=%FF%FE",       // invalid UTF-8
			"?user=%20alice",
			"?user=alice%20",
			"?user=%C0%80", // overlong NUL
		} {
			c := newClient(t, base, true)
			r := c.do("POST", "/login"+q, nil)
			wantStatus(t, r, http.StatusBadRequest)
			wantNoSessionCookie(t, r)
			var body struct{ Error string }
			if err := json.Unmarshal(r.body, &body); err != nil || body.Error == "" {
				t.Errorf("POST /login%s: body %q, want a JSON error", q, r.body)
			}
		}
		// The limits themselves are fine.
		for _, name := range []string{"a", strings.Repeat("x", 32), "zoë", "O'Brien & Co", "<b>"} {
			r := newClient(t, base, true).do("POST", "/login?user="+url.QueryEscape(name), nil)
			b, _ := json.Marshal(map[string]string{"user": name})
			wantJSON(t, r, string(b))
		}
	})

	t.Run("Page", func(t *testing.T) {
		c := newClient(t, base, true)
		r := c.do("GET", "/", nil)
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET /: Content-Type %q", ct)
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET /: Content-Security-Policy %q", csp)
		}
		for _, id := range []string{"counter", "inc", "user", "name", "login", "logout"} {
			if !bytes.Contains(r.body, []byte(`id="`+id+`"`)) {
				t.Errorf("GET /: page lacks the element #%s", id)
			}
		}
		if !bytes.Contains(r.body, []byte(`<output id="counter">0</output>`)) {
			t.Errorf("GET /: fresh page does not show counter 0")
		}
		// The page shows the session's values, with the user name escaped.
		wantJSON(t, c.do("POST", "/login?user="+url.QueryEscape(`<i>x&"`), nil), `{"user": "<i>x&\""}`)
		c.do("GET", "/session_test", nil)
		c.do("GET", "/session_test", nil)
		r = c.do("GET", "/", nil)
		if !bytes.Contains(r.body, []byte(`<output id="counter">2</output>`)) {
			t.Errorf("GET /: page does not show counter 2")
		}
		if !bytes.Contains(r.body, []byte(`<output id="user">&lt;i&gt;x&amp;&#34;</output>`)) {
			t.Errorf("GET /: page does not show the escaped user name:\n%s", r.body)
		}
		wantNoSessionCookie(t, r)
	})

	t.Run("HostileInput", func(t *testing.T) {
		c := newClient(t, base, true)
		wantJSON(t, c.do("GET", "/session_test", nil), `{"test_counter": 1}`)
		valid := c.jarCookie()
		if len(valid) < 2 {
			t.Fatal("GET /session_test set no session cookie")
		}
		id := sessionID(valid)
		anon := newClient(t, base, false)
		for _, v := range []string{
			"garbage",
			"",
			id,               // no signature
			id + ".",         // empty signature
			id + ".AAAA",     // wrong signature
			valid + "x",      // tampered signature
			flipFirst(valid), // tampered ID
			strings.ToUpper(valid),
			url.QueryEscape(valid) + "%00",
			strings.Repeat("A", 1000),
			`"` + valid + `"x`,
			"%",
		} {
			r := anon.do("GET", "/session_test", cookieHeader(v))
			wantJSON(t, r, `{"test_counter": 1}`)
			if ck := sessionCookie(t, r); ck == nil || sessionID(ck.Value) == id {
				t.Errorf("cookie %.40q: want a fresh session, got Set-Cookie %v", v, ck)
			}
		}
		// The forged cookies did not touch the real session.
		wantJSON(t, c.do("GET", "/session_test", nil), `{"test_counter": 2}`)
		// Many cookies, odd separators, huge headers: never a 5xx. A
		// framework may refuse oversized headers with 431 and close the
		// connection before the client has sent them all; both are fine.
		for _, h := range []http.Header{
			{"Cookie": {strings.Repeat("a=b; ", 500) + CookieName + "=" + valid}},
			{"Cookie": {CookieName + "=" + valid, CookieName + "=" + valid}},
			{"Cookie": {";;;" + CookieName + "=;=;" + CookieName}},
			{"Cookie": {strings.Repeat("x", 60<<10)}},
			{"Cookie": {CookieName + "=" + strings.Repeat("y", 200<<10)}},
		} {
			for _, path := range []string{"/whoami", "/session_test"} {
				if _, err := anon.try("GET", path, h); err != nil {
					t.Logf("refused by closing the connection: %v", err)
				}
			}
		}
		// Unknown routes and wrong methods.
		for _, rq := range [][2]string{
			{"GET", "/login"}, {"GET", "/logout"}, {"DELETE", "/session_test"},
			{"PUT", "/whoami"}, {"GET", "/nope"}, {"GET", "/session_test/../login"},
			{"POST", "/login?user=%"}, {"POST", "/login?user=a&user=b"},
		} {
			r := anon.do(rq[0], rq[1], cookieHeader(valid))
			if r.StatusCode == http.StatusOK && rq[0] != "POST" {
				t.Errorf("%s %s: status 200, want an error", rq[0], rq[1])
			}
		}
	})
}

// checkAttributes checks the session cookie's attributes for the demo:
// HttpOnly, not Secure (plain HTTP), SameSite=Lax, Path=/, host-only, and a
// browser-session cookie (no Max-Age, no Expires).
func checkAttributes(t *testing.T, ck *http.Cookie) {
	t.Helper()
	if !ck.HttpOnly {
		t.Errorf("session cookie %q is not HttpOnly", ck.String())
	}
	if ck.Secure {
		t.Errorf("session cookie %q is Secure, but the demo serves plain HTTP without -secure", ck.String())
	}
	if ck.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie %q: SameSite %v, want Lax", ck.String(), ck.SameSite)
	}
	if ck.Path != "/" || ck.Domain != "" {
		t.Errorf("session cookie %q: Path %q Domain %q, want / and none", ck.String(), ck.Path, ck.Domain)
	}
	if ck.MaxAge != 0 || !ck.Expires.IsZero() {
		t.Errorf("session cookie %q is persistent; want a browser-session cookie (MaxAge 0)", ck.String())
	}
	if id := sessionID(ck.Value); len(id) != 43 {
		t.Errorf("session ID has %d characters, want 43", len(id))
	}
}

// sessionID returns the ID part of a session cookie value.
func sessionID(v string) string {
	id, _, _ := strings.Cut(v, ".")
	return id
}

// flipFirst changes the first character of v (to a different one: a random
// value may already start with any given letter).
func flipFirst(v string) string {
	if v[0] == 'x' {
		return "y" + v[1:]
	}
	return "x" + v[1:]
}
