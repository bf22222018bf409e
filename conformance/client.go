package conformance

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"
)

// result is one response as the suite saw it.
type result struct {
	status int
	body   string
	header http.Header
	err    error
	// gzipped reports that the body came gzip-encoded and the client
	// decompressed it.
	gzipped bool
}

// setCookies returns the raw Set-Cookie lines.
func (r *result) setCookies() []string {
	if r.header == nil {
		return nil
	}
	return r.header.Values("Set-Cookie")
}

func (r *result) String() string {
	if r.err != nil {
		return "request failed: " + r.err.Error()
	}
	return fmt.Sprintf("%d %q Set-Cookie=%q", r.status, truncate(r.body, 200), r.setCookies())
}

// client is a browser-like client with its own cookie jar.
type client struct {
	e   *env
	srv *httptest.Server
	hc  *http.Client
}

func (e *env) newClient() *client { return e.clientFor(e.srv) }

func (e *env) clientFor(srv *httptest.Server) *client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatalf("setup: cookiejar: %v", err)
	}
	hc := *srv.Client()
	hc.Jar = jar
	hc.Timeout = requestTimeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{e: e, srv: srv, hc: &hc}
}

// query builds a query string from name, value pairs.
func query(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v.Encode()
}

// do sends GET /?<pairs>.
func (c *client) do(pairs ...string) *result {
	return c.doCtx(context.Background(), pairs...)
}

func (c *client) doCtx(ctx context.Context, pairs ...string) *result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.srv.URL+"/?"+query(pairs...), nil)
	if err != nil {
		return &result{err: err}
	}
	return send(c.hc, req)
}

// must sends a request that has to succeed with 200 for the case to go on.
func (c *client) must(pairs ...string) *result {
	c.e.t.Helper()
	r := c.do(pairs...)
	if r.err != nil || r.status != http.StatusOK {
		c.e.fatal("a plain session request must succeed with 200", "%s for %s", r, query(pairs...))
	}
	return r
}

// cookie returns the value of the session cookie in the jar.
func (c *client) cookie() string {
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range c.hc.Jar.Cookies(u) {
		if ck.Name == c.e.m.CookieName() {
			return ck.Value
		}
	}
	return ""
}

func send(hc *http.Client, req *http.Request) *result {
	resp, err := hc.Do(req)
	if err != nil {
		return &result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return &result{status: resp.StatusCode, body: string(b), header: resp.Header, err: err, gzipped: resp.Uncompressed}
}

// raw sends GET <path>?<query> with exactly the given header lines (each
// value of a name is its own line) and no cookie jar.
func (e *env) raw(path, rawQuery string, h http.Header) *result {
	return e.rawTo(e.srv, path, rawQuery, h)
}

func (e *env) rawTo(srv *httptest.Server, path, rawQuery string, h http.Header) *result {
	return e.request(srv, http.MethodGet, path, rawQuery, h, "")
}

// request sends a request with the given method, header lines and body,
// without a cookie jar.
func (e *env) request(srv *httptest.Server, method, path, rawQuery string, h http.Header, body string) *result {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path+"?"+rawQuery, rd)
	if err != nil {
		return &result{err: err}
	}
	for k, vs := range h {
		req.Header[k] = append([]string(nil), vs...)
	}
	hc := *srv.Client()
	hc.Timeout = requestTimeout
	return send(&hc, req)
}

// withCookie sends a request carrying one Cookie line.
func (e *env) withCookie(cookieLine string, pairs ...string) *result {
	return e.raw("/", query(pairs...), http.Header{"Cookie": {cookieLine}})
}

// session sends a request carrying the session cookie value v.
func (e *env) session(v string, pairs ...string) *result {
	return e.withCookie(e.m.CookieName()+"="+v, pairs...)
}

// rawBytes writes request text as is over a fresh TLS connection, for
// requests Go's client refuses to send.
func (e *env) rawBytes(request string) *result {
	tr, ok := e.srv.Client().Transport.(*http.Transport)
	if !ok {
		return &result{err: fmt.Errorf("unexpected transport %T", e.srv.Client().Transport)}
	}
	cfg := tr.TLSClientConfig.Clone()
	conn, err := tls.Dial("tcp", e.srv.Listener.Addr().String(), cfg)
	if err != nil {
		return &result{err: err}
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := io.WriteString(conn, request); err != nil {
		return &result{err: err}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return &result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return &result{status: resp.StatusCode, body: string(b), header: resp.Header, err: err}
}

// rawCookieRequest is the text of a GET request with one hand-made Cookie
// line.
func rawCookieRequest(rawQuery, cookieLine string) string {
	return "GET /?" + rawQuery + " HTTP/1.1\r\nHost: conformance.test\r\nCookie: " + cookieLine + "\r\nConnection: close\r\n\r\n"
}

// sessionCookies parses the Set-Cookie lines that name the session cookie.
// Lines that do not parse are reported.
func (e *env) sessionCookies(r *result) []*http.Cookie {
	e.t.Helper()
	var out []*http.Cookie
	for _, line := range r.setCookies() {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			if strings.Contains(line, e.m.CookieName()+"=") {
				e.fail("every Set-Cookie line must be one well-formed cookie", "unparsable line %q: %v", line, err)
			}
			continue
		}
		if c.Name == e.m.CookieName() {
			if c.MaxAge >= 0 {
				e.checkIssuedID(c.Value)
			}
			out = append(out, c)
		}
	}
	return out
}

// sessionLines returns the raw Set-Cookie lines of the session cookie.
func (e *env) sessionLines(r *result) []string {
	var out []string
	for _, line := range r.setCookies() {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == e.m.CookieName() {
			out = append(out, line)
		}
	}
	return out
}

// oneCookie returns the response's only session cookie, failing the case
// (with invariant) if there is not exactly one.
func (e *env) oneCookie(r *result, invariant string) *http.Cookie {
	e.t.Helper()
	cs := e.sessionCookies(r)
	if len(cs) != 1 {
		e.fatal(invariant, "%d session Set-Cookie lines %q (response %s), want exactly one", len(cs), e.sessionLines(r), r)
	}
	return cs[0]
}

// issued returns the live session cookie value the response set, failing
// the case if it did not set exactly one.
func (e *env) issued(r *result, invariant string) string {
	e.t.Helper()
	c := e.oneCookie(r, invariant)
	if c.Value == "" || c.MaxAge < 0 {
		e.fatal(invariant, "the session Set-Cookie %q expires the cookie, want a live session cookie", c.Raw)
	}
	return c.Value
}

// noCookie fails the case if the response sets the session cookie.
func (e *env) noCookie(r *result, invariant string) {
	e.t.Helper()
	if lines := e.sessionLines(r); len(lines) > 0 {
		e.fail(invariant, "Set-Cookie %q, want no session cookie", lines)
	}
}

// idOf returns the session ID inside a cookie value: everything before the
// last '.'.
func idOf(value string) string {
	if i := strings.LastIndexByte(value, '.'); i >= 0 {
		return value[:i]
	}
	return value
}

// wantStatus fails the case unless the response has the given status.
func (e *env) wantStatus(r *result, want int, invariant string) bool {
	e.t.Helper()
	if r.err != nil || r.status != want {
		e.fail(invariant, "%s, want status %d", r, want)
		return false
	}
	return true
}

// wantBody fails the case unless the response is a 200 with body want.
func (e *env) wantBody(r *result, want, invariant string) bool {
	e.t.Helper()
	if r.err != nil || r.status != http.StatusOK || r.body != want {
		e.fail(invariant, "%s, want 200 with body %q", r, want)
		return false
	}
	return true
}

// wantRecord fails unless the store holds a live record for id.
func (e *env) wantRecord(id, invariant string) {
	e.t.Helper()
	_, ok, err := e.store.lookup(id)
	if err != nil {
		e.t.Fatalf("setup: store Get: %v", err)
	}
	if !ok {
		e.fail(invariant, "the store holds no record for the session ID %s", short(id))
	}
}

// wantNoRecord fails if the store holds a record for id.
func (e *env) wantNoRecord(id, invariant string) {
	e.t.Helper()
	_, ok, err := e.store.lookup(id)
	if err != nil {
		e.t.Fatalf("setup: store Get: %v", err)
	}
	if ok {
		e.fail(invariant, "the store still holds a record for session ID %s", short(id))
	}
}

// wantNothingCreated fails if any session record was created since the
// last store reset and still exists.
func (e *env) wantNothingCreated(invariant string) {
	e.t.Helper()
	for _, id := range e.store.createdIDs() {
		if _, ok, _ := e.store.lookup(id); ok {
			e.fail(invariant, "the store holds a record created by this request (ID %s)", short(id))
		}
	}
}

// short abbreviates an ID for messages.
func short(id string) string {
	if len(id) > 10 {
		return id[:10] + "…"
	}
	return id
}
