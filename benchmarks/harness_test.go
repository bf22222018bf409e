package benchmarks

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	sess "github.com/gosess/sess/core"
)

// Settings shared by every setup. Each peer is configured to the same
// cookie: name "sid", Path "/", HttpOnly, SameSite=Lax, a 24h lifetime, no
// Secure flag (the harness speaks plain HTTP) and no logger.
const (
	cookieName  = "sid"
	counterKey  = "test_counter"
	lifetime    = 24 * time.Hour
	contentType = "application/json"
)

// secret is the signing key for every library that signs (sess, gorilla's
// securecookie). It is a fixed test value, not a real secret.
var secret = []byte("benchmarks-only-secret-0123456789abcdef")

// The routes every setup serves. New is a request to pathHit without a
// cookie.
const (
	pathHit   = "/hit"   // read the counter, increment, write it back
	pathRead  = "/read"  // read the counter only
	pathRenew = "/renew" // renew the session ID, keep the data, read the counter
)

// body is the response body every handler writes, bare or not: the same
// hand-built JSON for every framework.
func body(n int) []byte {
	b := make([]byte, 0, 32)
	b = append(b, `{"counter":`...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '}')
}

// bareCounter is what bare handlers report: they have no session.
const bareCounter = 1

// peer is one library on one framework. name is "<framework>-<library>";
// cmd/table relies on the framework prefix and on "-bare" to find the
// floor each row is compared with.
type peer struct {
	name  string
	bare  bool
	start func() (*setup, error)
}

// setup is one running instance of a peer with a fresh, empty store.
type setup struct {
	// newClient returns a client for one route. Each goroutine needs its
	// own client.
	newClient func(path string) client
	// close stops the setup's background goroutines and drops its store.
	close func()
	// handler is the whole app for net/http-based frameworks, and fiber
	// the app for fiber; tests serve them over real HTTP.
	handler http.Handler
	fiber   *fiber.App
}

// client sends requests in process, re-using one prepared request, the way
// performance.md describes: net/http-based frameworks get a fresh
// httptest.ResponseRecorder and a shallow copy of the prepared request per
// request; fiber gets its app.Handler() called on one reused
// fasthttp.RequestCtx.
type client interface {
	// setCookie sets the Cookie header of the following requests to pair
	// ("sid=<value>"); "" sends no cookie.
	setCookie(pair string)
	// do sends one request.
	do()
	// follow makes the following requests carry the session cookie the
	// last response set, if it set one, as a browser would. It does not
	// allocate.
	follow()
	// last returns the status, the body and the session cookie pair of the
	// last response ("" if it set none). For tests; it may allocate.
	last() (status int, body, pair string)
}

// peers lists every setup in table order: per framework the bare handler
// first, then sess, then the existing libraries.
var peers = []peer{
	{name: "nethttp-bare", bare: true, start: startNetHTTPBare},
	{name: "nethttp-sess", start: startNetHTTPSess},
	{name: "nethttp-scs", start: startSCS},
	{name: "nethttp-gorilla-memstore", start: startGorilla},
	{name: "gin-bare", bare: true, start: startGinBare},
	{name: "gin-sess", start: startGinSess},
	{name: "gin-contrib-sessions", start: startGinContrib},
	{name: "echo-bare", bare: true, start: startEchoBare},
	{name: "echo-sess", start: startEchoSess},
	{name: "echo-contrib-session", start: startEchoContrib},
	{name: "fiber-bare", bare: true, start: startFiberBare},
	{name: "fiber-sess", start: startFiberSess},
	{name: "fiber-session", start: startFiberSession},
}

// sessConfig is the sess configuration every sess setup uses.
func sessConfig() sess.Config {
	return sess.Config{
		Secret:        secret,
		CookieName:    cookieName,
		DisableSecure: true,
		SameSite:      http.SameSiteLaxMode,
		MaxAge:        lifetime,
		IdleTimeout:   lifetime,
		Logger:        slog.New(slog.DiscardHandler),
	}
}

// newManager returns a Manager with sessConfig and the default in-memory
// store.
func newManager() (*sess.Manager, error) {
	return sess.New(sessConfig())
}

// The handler bodies for sess, shared by the four adapters.

func sessHit(s *sess.Session) int {
	n, _ := sess.Get[int](s, counterKey)
	n++
	s.Set(counterKey, n)
	return n
}

func sessRead(s *sess.Session) int {
	n, _ := sess.Get[int](s, counterKey)
	return n
}

func sessRenew(s *sess.Session) int {
	s.Renew()
	return sessRead(s)
}

// sessionPair returns "sid=<value>" from the last Set-Cookie line that sets
// a non-empty session cookie, or "". It returns a substring: no allocation.
func sessionPair(lines []string) string {
	pair := ""
	for _, l := range lines {
		if p := pairOf(l); p != "" {
			pair = p
		}
	}
	return pair
}

func pairOf(line string) string {
	p, _, _ := strings.Cut(line, ";")
	p = strings.TrimSpace(p)
	if !strings.HasPrefix(p, cookieName+"=") || len(p) == len(cookieName)+1 {
		return ""
	}
	return p
}

// httpClient drives an http.Handler in process.
type httpClient struct {
	h    http.Handler
	base http.Request
	pair [1]string
	rec  *httptest.ResponseRecorder
}

func newHTTPClient(h http.Handler, path string) *httpClient {
	r := httptest.NewRequest(http.MethodGet, "http://example.com"+path, nil)
	return &httpClient{h: h, base: *r}
}

func (c *httpClient) setCookie(pair string) { c.pair[0] = pair }

func (c *httpClient) do() {
	if c.pair[0] == "" {
		delete(c.base.Header, "Cookie")
	} else {
		c.base.Header["Cookie"] = c.pair[:]
	}
	// A shallow copy per request: gorilla/sessions writes its registry
	// into *r, and every peer gets the same copy.
	r := new(http.Request)
	*r = c.base
	c.rec = httptest.NewRecorder()
	c.h.ServeHTTP(c.rec, r)
}

// follow reads the recorder's live header map, which does not allocate;
// last reads the snapshot taken when the response started, so tests catch
// a cookie added after the first byte (too late for a real client).
func (c *httpClient) follow() {
	if p := sessionPair(c.rec.Header()["Set-Cookie"]); p != "" {
		c.pair[0] = p
	}
}

func (c *httpClient) last() (int, string, string) {
	res := c.rec.Result()
	return res.StatusCode, c.rec.Body.String(), sessionPair(res.Header["Set-Cookie"])
}

// writeHTTP writes the response every net/http handler writes.
func writeHTTP(w http.ResponseWriter, n int) {
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(body(n))
}

// httpSetup wraps a net/http handler serving the three routes.
func httpSetup(h http.Handler, closeFn func()) *setup {
	return &setup{
		newClient: func(path string) client { return newHTTPClient(h, path) },
		close:     closeFn,
		handler:   h,
	}
}
