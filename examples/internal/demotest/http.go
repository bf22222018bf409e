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
	"slices"
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

// HTTP runs the examples' HTTP scenarios against the server at base,
// whose session store must keep a principal index (as the memory store
// does): the counter, login and logout, hostile input, and the user's list
// of sessions (Sessions).
func HTTP(t *testing.T, base string) {
	httpBasics(t, base)
	t.Run("Sessions", func(t *testing.T) { Sessions(t, base) })
}

// httpBasics runs the scenarios that need no principal index.
func httpBasics(t *testing.T, base string) {
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
		r = c.do("GET", "/sessions", nil)
		wantStatus(t, r, http.StatusUnauthorized)
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
		for _, id := range []string{"counter", "inc", "user", "name", "login", "logout", "remember", "sessions", "session-count", "session-list", "revoke-others", "this-persistent", "this-idle", "this-absolute", "this-cookie"} {
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
			{"POST", "/sessions"}, {"GET", "/sessions/revoke"}, {"GET", "/sessions/revoke-others"},
			{"DELETE", "/sessions"},
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

// sessionsBody is the JSON answer of GET /sessions, as the tests read it.
type sessionsBody struct {
	User string `json:"user"`
	This struct {
		Handle     string     `json:"handle"`
		Persistent bool       `json:"persistent"`
		Idle       time.Time  `json:"idle"`
		Absolute   time.Time  `json:"absolute"`
		Cookie     *time.Time `json:"cookie"`
	} `json:"this"`
	Sessions []sessionItem `json:"sessions"`
}

type sessionItem struct {
	Handle     string     `json:"handle"`
	Current    bool       `json:"current"`
	UserAgent  string     `json:"user_agent"`
	SignedIn   time.Time  `json:"signed_in"`
	LastSeen   *time.Time `json:"last_seen"`
	Idle       time.Time  `json:"idle"`
	Absolute   time.Time  `json:"absolute"`
	Persistent bool       `json:"persistent"`
}

// device is a client with its own cookie jar and User-Agent: one of a
// user's browsers.
type device struct {
	*client
	ua string
}

func newDevice(t *testing.T, base, ua string) device {
	return device{newClient(t, base, true), ua}
}

// login logs the device in as user, with "remember me" if remember, and
// returns the response.
func (d device) login(user string, remember bool) response {
	d.t.Helper()
	path := "/login?user=" + url.QueryEscape(user)
	if remember {
		path += "&remember=1"
	}
	r := d.do("POST", path, http.Header{"User-Agent": {d.ua}})
	b, _ := json.Marshal(map[string]string{"user": user})
	wantJSON(d.t, r, string(b))
	return r
}

// sessions reads GET /sessions, which must answer 200, and checks what
// holds for every answer: the user, exactly one current session, whose
// handle is the request's own, and consistent deadlines.
func (d device) sessions(user string) sessionsBody {
	d.t.Helper()
	r := d.do("GET", "/sessions", nil)
	wantStatus(d.t, r, http.StatusOK)
	var body sessionsBody
	if err := json.Unmarshal(r.body, &body); err != nil {
		d.t.Fatalf("GET /sessions: body %q: %v", r.body, err)
	}
	if body.User != user {
		d.t.Errorf("GET /sessions: user %q, want %q", body.User, user)
	}
	if len(body.This.Handle) != 64 {
		d.t.Errorf("GET /sessions: this session's handle %q, want 64 hexadecimal digits", body.This.Handle)
	}
	if body.This.Idle.IsZero() || body.This.Absolute.Before(body.This.Idle) || !body.This.Idle.After(time.Now().Add(-time.Minute)) {
		d.t.Errorf("GET /sessions: this session's deadlines idle %v, absolute %v", body.This.Idle, body.This.Absolute)
	}
	if body.This.Persistent != (body.This.Cookie != nil) {
		d.t.Errorf("GET /sessions: this session is persistent %v with cookie expiry %v", body.This.Persistent, body.This.Cookie)
	}
	current := 0
	for _, s := range body.Sessions {
		if s.Current {
			current++
			if s.Handle != body.This.Handle {
				d.t.Errorf("GET /sessions: the current session has handle %q, this session %q", s.Handle, body.This.Handle)
			}
			if s.UserAgent != d.ua {
				d.t.Errorf("GET /sessions: the current session's user agent is %q, want %q", s.UserAgent, d.ua)
			}
			if s.Persistent != body.This.Persistent {
				d.t.Errorf("GET /sessions: the current session's persistence %v differs from this session's %v", s.Persistent, body.This.Persistent)
			}
		}
		if len(s.Handle) != 64 || s.SignedIn.IsZero() || s.Idle.IsZero() || s.Absolute.Before(s.Idle) || s.SignedIn.After(s.Idle) {
			d.t.Errorf("GET /sessions: session %+v is inconsistent", s)
		}
		if s.LastSeen == nil || s.LastSeen.Before(s.SignedIn) {
			d.t.Errorf("GET /sessions: session %s last seen %v, signed in %v", s.Handle, s.LastSeen, s.SignedIn)
		}
	}
	if current != 1 {
		d.t.Errorf("GET /sessions: %d sessions marked current, want 1: %s", current, r.body)
	}
	return body
}

// handles returns the handles of the listed sessions.
func (b sessionsBody) handles() []string {
	var hs []string
	for _, s := range b.Sessions {
		hs = append(hs, s.Handle)
	}
	return hs
}

// wantWhoami checks who GET /whoami reports for the device: user, or
// nobody for "".
func (d device) wantWhoami(user string) {
	d.t.Helper()
	want := `{"user": null}`
	if user != "" {
		b, _ := json.Marshal(map[string]string{"user": user})
		want = string(b)
	}
	wantJSON(d.t, d.do("GET", "/whoami", nil), want)
}

// Sessions runs the scenarios of the user's list of sessions against the
// server at base: two or three cookie jars are the user's devices. The
// server's store must keep a principal index.
func Sessions(t *testing.T, base string) {
	t.Run("TwoDevicesListEachOther", func(t *testing.T) {
		a, b := newDevice(t, base, "device-A/1.0"), newDevice(t, base, "device-B/2.0 (\"quoted\" <tag>)")
		a.login("dora", false)
		b.login("dora", true)
		la, lb := a.sessions("dora"), b.sessions("dora")
		if len(la.Sessions) != 2 || len(lb.Sessions) != 2 {
			t.Fatalf("device A lists %d sessions, device B %d; want 2 each", len(la.Sessions), len(lb.Sessions))
		}
		if la.This.Handle == lb.This.Handle {
			t.Fatal("both devices have the same session handle")
		}
		if !slices.Contains(la.handles(), lb.This.Handle) || !slices.Contains(lb.handles(), la.This.Handle) {
			t.Errorf("the devices' lists %v and %v do not hold each other's handles", la.handles(), lb.handles())
		}
		for _, s := range la.Sessions {
			if s.Handle == lb.This.Handle && (s.Current || s.UserAgent != b.ua || !s.Persistent) {
				t.Errorf("device A lists device B's session as %+v; want not current, user agent %q, persistent", s, b.ua)
			}
		}
		if la.This.Persistent || !lb.This.Persistent {
			t.Errorf("device A persistent %v, device B %v; want false, true (remember me)", la.This.Persistent, lb.This.Persistent)
		}
		// Another user does not see dora's sessions.
		e := newDevice(t, base, "device-E")
		e.login("edgar", false)
		if le := e.sessions("edgar"); len(le.Sessions) != 1 {
			t.Errorf("edgar lists %d sessions, want his 1", len(le.Sessions))
		}
	})

	t.Run("RevokeOtherDeviceByHandle", func(t *testing.T) {
		a, b := newDevice(t, base, "device-A"), newDevice(t, base, "device-B")
		a.login("fay", false)
		b.login("fay", false)
		hb := b.sessions("fay").This.Handle
		wantJSON(t, a.do("POST", "/sessions/revoke?handle="+hb, nil), `{"revoked": 1}`)
		// Device B is logged out at once, on its very next request.
		b.wantWhoami("")
		if r := b.do("GET", "/sessions", nil); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /sessions on the revoked device: status %d, want 401", r.StatusCode)
		}
		la := a.sessions("fay")
		if len(la.Sessions) != 1 || la.Sessions[0].Handle != la.This.Handle {
			t.Errorf("after revoking device B, device A lists %v, want only itself", la.handles())
		}
		a.wantWhoami("fay")
		// The handle is spent.
		r := a.do("POST", "/sessions/revoke?handle="+hb, nil)
		wantStatus(t, r, http.StatusNotFound)
		// "Log out" on the device's own row logs it out, as /logout does.
		r = a.do("POST", "/sessions/revoke?handle="+la.This.Handle, nil)
		wantJSON(t, r, `{"revoked": 1}`)
		if ck := sessionCookie(t, r); ck == nil || ck.MaxAge >= 0 && (ck.Expires.IsZero() || ck.Expires.After(time.Now())) {
			t.Errorf("revoking the own session sent Set-Cookie %v, want an expired cookie", ck)
		}
		a.wantWhoami("")
	})

	t.Run("RevokeOthers", func(t *testing.T) {
		a, b, c := newDevice(t, base, "device-A"), newDevice(t, base, "device-B"), newDevice(t, base, "device-C")
		a.login("gus", true)
		b.login("gus", false)
		c.login("gus", true)
		other := newDevice(t, base, "device-H")
		other.login("hana", false)
		if n := len(a.sessions("gus").Sessions); n != 3 {
			t.Fatalf("device A lists %d sessions, want 3", n)
		}
		wantJSON(t, a.do("POST", "/sessions/revoke-others", nil), `{"revoked": 2}`)
		b.wantWhoami("")
		c.wantWhoami("")
		a.wantWhoami("gus")
		la := a.sessions("gus")
		if len(la.Sessions) != 1 || !la.Sessions[0].Current {
			t.Errorf("after log out everywhere else, device A lists %v, want only itself", la.handles())
		}
		wantJSON(t, a.do("POST", "/sessions/revoke-others", nil), `{"revoked": 0}`)
		// Another user's session is untouched.
		other.wantWhoami("hana")
	})

	t.Run("RememberMe", func(t *testing.T) {
		d := newDevice(t, base, "device-R")
		r := d.login("ivy", true)
		ck := sessionCookie(t, r)
		if ck == nil {
			t.Fatal("POST /login?remember=1 set no session cookie")
		}
		if ck.MaxAge <= 0 || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" {
			t.Errorf("POST /login?remember=1 sent %q; want a persistent (Max-Age) HttpOnly, SameSite=Lax cookie", ck.String())
		}
		if !strings.Contains(strings.ToLower(r.Header.Get("Set-Cookie")), "max-age=") {
			t.Errorf("Set-Cookie %q has no Max-Age", r.Header.Get("Set-Cookie"))
		}
		l := d.sessions("ivy")
		if !l.This.Persistent || l.This.Cookie == nil || !l.Sessions[0].Persistent {
			t.Errorf("after remember me, GET /sessions says persistent %v, cookie %v, listed %v", l.This.Persistent, l.This.Cookie, l.Sessions[0].Persistent)
		}
		if l.This.Cookie != nil && l.This.Cookie.After(l.This.Absolute) {
			t.Errorf("the cookie expires at %v, after the absolute deadline %v", l.This.Cookie, l.This.Absolute)
		}
		// The choice holds for later requests: a re-sent cookie stays persistent.
		for range 2 {
			if ck := sessionCookie(t, d.do("GET", "/session_test", nil)); ck != nil && ck.MaxAge <= 0 {
				t.Errorf("a later request turned the cookie into %q", ck.String())
			}
		}
		// Logging in again without remember me gives a browser-session
		// cookie: no Max-Age, no Expires.
		r = d.login("ivy", false)
		ck = sessionCookie(t, r)
		if ck == nil {
			t.Fatal("POST /login without remember set no session cookie")
		}
		checkAttributes(t, ck)
		if h := strings.ToLower(r.Header.Get("Set-Cookie")); strings.Contains(h, "max-age") || strings.Contains(h, "expires") {
			t.Errorf("Set-Cookie %q is persistent", r.Header.Get("Set-Cookie"))
		}
		if l := d.sessions("ivy"); l.This.Persistent || l.This.Cookie != nil {
			t.Errorf("after a login without remember me, GET /sessions says persistent %v, cookie %v", l.This.Persistent, l.This.Cookie)
		}
		// remember takes "1" or "0" only.
		for _, q := range []string{"yes", "2", "%00"} {
			r := newClient(t, base, true).do("POST", "/login?user=ivy&remember="+q, nil)
			wantStatus(t, r, http.StatusBadRequest)
			wantNoSessionCookie(t, r)
		}
		r = newClient(t, base, true).do("POST", "/login?user=ivy&remember=0", nil)
		wantJSON(t, r, `{"user": "ivy"}`)
		if ck := sessionCookie(t, r); ck == nil {
			t.Error("POST /login?remember=0 set no session cookie")
		} else {
			checkAttributes(t, ck)
		}
	})

	t.Run("OnlyOwnSessions", func(t *testing.T) {
		victim, attacker := newDevice(t, base, "device-V"), newDevice(t, base, "device-M")
		victim.login("jack", false)
		attacker.login("mallory", false)
		hv := victim.sessions("jack").This.Handle
		r := attacker.do("POST", "/sessions/revoke?handle="+hv, nil)
		wantStatus(t, r, http.StatusNotFound)
		wantNoSessionCookie(t, r)
		victim.wantWhoami("jack")
		if n := len(victim.sessions("jack").Sessions); n != 1 {
			t.Errorf("the victim lists %d sessions after the attempt, want 1", n)
		}
		attacker.wantWhoami("mallory")
		// A well-formed handle of no session.
		wantStatus(t, attacker.do("POST", "/sessions/revoke?handle="+strings.Repeat("0", 64), nil), http.StatusNotFound)
		// Malformed handles.
		for _, h := range []string{"", "abc", strings.ToUpper(hv), hv + "0", hv[:63], hv[:63] + "g", "%00" + hv[2:], url.QueryEscape(hv[:62] + " x")} {
			r := attacker.do("POST", "/sessions/revoke?handle="+h, nil)
			wantStatus(t, r, http.StatusBadRequest)
			var body struct{ Error string }
			if err := json.Unmarshal(r.body, &body); err != nil || body.Error == "" {
				t.Errorf("POST /sessions/revoke?handle=%s: body %q, want a JSON error", h, r.body)
			}
		}
		wantStatus(t, attacker.do("POST", "/sessions/revoke", nil), http.StatusBadRequest)
		victim.wantWhoami("jack")
	})

	t.Run("UserAgentIsCut", func(t *testing.T) {
		// 199 bytes, then a two-byte character across the 200-byte cut; a
		// tab (a control character) on the way is dropped.
		ua := "tab\there" + strings.Repeat("u", 199-len("tab\there")) + "é" + strings.Repeat("v", 100)
		d := newDevice(t, base, ua)
		d.ua = "tabhere" + strings.Repeat("u", 199-len("tab\there"))
		d.login("kate", false)
		d.sessions("kate") // checks the current session's user agent
	})

	t.Run("NotLoggedIn", func(t *testing.T) {
		anon := newClient(t, base, true)
		// A session that is not logged in (it counts) is not a user's.
		wantJSON(t, anon.do("GET", "/session_test", nil), `{"test_counter": 1}`)
		for _, rq := range [][2]string{
			{"GET", "/sessions"},
			{"POST", "/sessions/revoke?handle=" + strings.Repeat("a", 64)},
			{"POST", "/sessions/revoke-others"},
		} {
			r := anon.do(rq[0], rq[1], nil)
			wantStatus(t, r, http.StatusUnauthorized)
			wantJSONBody(t, r, `{"error": "not logged in"}`)
			wantNoSessionCookie(t, r)
		}
		// Without any session, the routes create none.
		fresh := newClient(t, base, true)
		for _, path := range []string{"/sessions"} {
			r := fresh.do("GET", path, nil)
			wantStatus(t, r, http.StatusUnauthorized)
			wantNoSessionCookie(t, r)
		}
		r := fresh.do("POST", "/sessions/revoke-others", nil)
		wantStatus(t, r, http.StatusUnauthorized)
		wantNoSessionCookie(t, r)
	})
}

// sessionsWithoutIndex checks the demo on a store without a principal
// index: login still works, and the sessions routes answer 501 with a JSON
// error instead of failing.
func sessionsWithoutIndex(t *testing.T, base string) {
	d := newDevice(t, base, "device-N")
	d.login("kim", true)
	d.wantWhoami("kim")
	for _, rq := range [][2]string{
		{"GET", "/sessions"},
		{"POST", "/sessions/revoke?handle=" + strings.Repeat("a", 64)},
		{"POST", "/sessions/revoke-others"},
	} {
		req, err := http.NewRequest(rq[0], base+rq[1], nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := d.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Error string }
		if resp.StatusCode != http.StatusNotImplemented || json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error, "principal index") {
			t.Errorf("%s %s without a principal index: %d %q, want 501 and a JSON error", rq[0], rq[1], resp.StatusCode, body)
		}
	}
	d.wantWhoami("kim")
}
