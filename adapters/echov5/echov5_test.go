package sessechov5_test

// The conformance suite covers the session lifecycle; these tests cover
// what is particular to echo v5: writers swapped with c.SetResponse (Gzip),
// the HTTPErrorHandler, and echo's own view of the status sent.

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	sessechov5 "github.com/gosess/sess/adapters/echov5"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/core/sesstest"
)

// app is an echo app behind a TLS test server and a cookie-keeping client.
type app struct {
	t     *testing.T
	e     *echo.Echo
	store *sesstest.FaultStore
	srv   *httptest.Server
	hc    *http.Client
}

func newApp(t *testing.T, mw ...echo.MiddlewareFunc) *app {
	t.Helper()
	mem := sess.NewMemoryStore(sess.MemoryConfig{})
	t.Cleanup(func() { mem.Close() })
	st := sesstest.NewFaultStore(mem)
	m, err := sess.New(sess.Config{
		Secret: []byte("0123456789abcdef0123456789abcdef"),
		Store:  st,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	e.Use(mw...)
	e.Use(sessechov5.Middleware(m))
	// /inc?fail=<status> counts, then answers the count, or returns an
	// *echo.HTTPError with that status; /none counts and writes nothing.
	e.GET("/inc", func(c *echo.Context) error {
		s := sessechov5.From(c)
		n, _ := sess.Get[int](s, "n")
		s.Set("n", n+1)
		if st := c.QueryParam("fail"); st != "" {
			var code int
			fmt.Sscan(st, &code)
			return echo.NewHTTPError(code, "failed on purpose")
		}
		return c.String(http.StatusOK, fmt.Sprint(n+1))
	})
	e.GET("/none", func(c *echo.Context) error {
		s := sessechov5.From(c)
		n, _ := sess.Get[int](s, "n")
		s.Set("n", n+1)
		return nil
	})
	e.GET("/n", func(c *echo.Context) error {
		n, _ := sess.Get[int](sessechov5.From(c), "n")
		return c.String(http.StatusOK, fmt.Sprint(n))
	})
	srv := httptest.NewTLSServer(e)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Jar, _ = cookiejar.New(nil)
	return &app{t: t, e: e, store: st, srv: srv, hc: hc}
}

type reply struct {
	status  int
	body    string
	header  http.Header
	cookies []string
}

// get sends GET path with the extra header pairs; a gzip-encoded body is
// decoded.
func (a *app) get(path string, hdr ...string) reply {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if r, err = gzip.NewReader(resp.Body); err != nil {
			a.t.Fatalf("GET %s: %v", path, err)
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		a.t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return reply{resp.StatusCode, string(b), resp.Header, resp.Header.Values("Set-Cookie")}
}

func (a *app) want(r reply, status int, body string, cookie bool) {
	a.t.Helper()
	if r.status != status || (body != "" && r.body != body) {
		a.t.Errorf("got %d %q, want %d %q", r.status, r.body, status, body)
	}
	if got := len(r.cookies) == 1 && strings.HasPrefix(r.cookies[0], "sid="); got != cookie {
		a.t.Errorf("Set-Cookie = %q, want a session cookie: %t", r.cookies, cookie)
	}
}

// TestGzip puts middleware.Gzip, which swaps the writer with
// c.SetResponse and puts the old one back when nothing was written, in
// front of the session middleware: the session is committed with every
// kind of response, compressed or not.
func TestGzip(t *testing.T) {
	a := newApp(t, middleware.Gzip())
	gz := []string{"Accept-Encoding", "gzip"}

	r := a.get("/inc", gz...)
	a.want(r, http.StatusOK, "1", true)
	if r.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("Content-Encoding = %q, want gzip", r.header.Get("Content-Encoding"))
	}
	a.want(a.get("/inc", gz...), http.StatusOK, "2", false)
	// An error rendered by the HTTPErrorHandler after Gzip put its writer
	// back: committed with the error's status, so the change is saved.
	a.want(a.get("/inc?fail=409", gz...), http.StatusConflict, "", false)
	// Nothing written: committed as a 200 when the handler returns.
	a.want(a.get("/none", gz...), http.StatusOK, "", false)
	a.want(a.get("/n", gz...), http.StatusOK, "4", false)

	// A fresh client: the cookie comes with the error response.
	a.hc.Jar, _ = cookiejar.New(nil)
	a.want(a.get("/inc?fail=418", gz...), http.StatusTeapot, "", true)
	a.want(a.get("/n", gz...), http.StatusOK, "1", false)
	// A 5xx saves nothing.
	a.want(a.get("/inc?fail=503", gz...), http.StatusServiceUnavailable, "", false)
	a.want(a.get("/n", gz...), http.StatusOK, "1", false)
}

// TestHTTPErrorHandler checks that a custom HTTPErrorHandler writing
// through c.Response() commits with the status it sends, and that one
// writing nothing drops the request's changes.
func TestHTTPErrorHandler(t *testing.T) {
	a := newApp(t)
	a.e.HTTPErrorHandler = func(c *echo.Context, err error) {
		var sc echo.HTTPStatusCoder
		if errors.As(err, &sc) && sc.StatusCode() == http.StatusGone {
			return // writes nothing
		}
		_ = c.JSON(http.StatusAccepted, map[string]string{"error": err.Error()})
	}
	a.want(a.get("/inc?fail=409"), http.StatusAccepted, "", true)
	a.want(a.get("/n"), http.StatusOK, "1", false)
	a.want(a.get("/inc?fail=410"), http.StatusOK, "", false) // net/http's implicit 200
	a.want(a.get("/n"), http.StatusOK, "1", false)
}

// TestCommitFailureStatus checks that when the commit fails, echo's
// Response reports the error response's status, so that RequestLogger logs
// what the client got.
func TestCommitFailureStatus(t *testing.T) {
	var logged atomic.Int64
	a := newApp(t, middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:   true,
		HandleError: true,
		LogValuesFunc: func(_ *echo.Context, v middleware.RequestLoggerValues) error {
			logged.Store(int64(v.Status))
			return nil
		},
	}))
	a.want(a.get("/inc"), http.StatusOK, "1", true)
	a.store.FailWrites(sesstest.ErrDown)
	for _, path := range []string{"/inc", "/none", "/inc?fail=409"} {
		a.want(a.get(path), http.StatusServiceUnavailable, "Service Unavailable\n", false)
		if got := logged.Load(); got != http.StatusServiceUnavailable {
			t.Errorf("%s: RequestLogger saw status %d, want 503", path, got)
		}
	}
	a.store.Heal()
	a.want(a.get("/n"), http.StatusOK, "1", false)
}

// opaqueWriter hides the writer it wraps: it has no Unwrap method.
type opaqueWriter struct{ http.ResponseWriter }

// TestWriterWithoutUnwrap puts a writer that hides echo's Response in
// front: the middleware wraps that writer instead.
func TestWriterWithoutUnwrap(t *testing.T) {
	a := newApp(t, func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			c.SetResponse(opaqueWriter{c.Response()})
			return next(c)
		}
	})
	a.want(a.get("/inc"), http.StatusOK, "1", true)
	a.want(a.get("/inc?fail=409"), http.StatusConflict, "", false)
	a.want(a.get("/none"), http.StatusOK, "", false)
	a.want(a.get("/n"), http.StatusOK, "3", false)
}
