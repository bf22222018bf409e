package sessecho_test

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	sessecho "github.com/gosess/sess/adapters/echo"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/core/sesstest"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// env is one echo app behind a TLS test server, with a cookie-keeping client.
type env struct {
	t     *testing.T
	e     *echo.Echo
	m     *sess.Manager
	mem   *sess.MemoryStore
	store *sesstest.FaultStore
	srv   *httptest.Server
	c     *http.Client
}

func newEnv(t *testing.T, cfg sess.Config) *env {
	t.Helper()
	mem := sess.NewMemoryStore(sess.MemoryConfig{})
	t.Cleanup(func() { mem.Close() })
	st := sesstest.NewFaultStore(mem)
	cfg.Secret = secret
	cfg.Store = st
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HideBanner = true
	e.Logger.SetOutput(io.Discard)
	srv := httptest.NewUnstartedServer(e)
	// Keep net/http's own noise (closed keep-alive connections, echo's
	// superfluous WriteHeader after a bare Flush) out of the test log.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	return &env{t: t, e: e, m: m, mem: mem, store: st, srv: srv, c: c}
}

// failWrites makes every store write fail.
func (v *env) failWrites() {
	for _, op := range []sesstest.Op{sesstest.Create, sesstest.Update, sesstest.Touch, sesstest.Delete} {
		v.store.Fail(op, sesstest.ErrDown)
	}
}

type result struct {
	status  int
	body    string
	header  http.Header
	cookies []string // raw Set-Cookie lines
}

// sessionCookies returns the Set-Cookie lines for the session cookie.
func (r result) sessionCookies() []string {
	var out []string
	for _, l := range r.cookies {
		if strings.HasPrefix(l, "sid=") {
			out = append(out, l)
		}
	}
	return out
}

func (v *env) do(method, path string, hdr ...string) result {
	v.t.Helper()
	req, err := http.NewRequest(method, v.srv.URL+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return result{status: resp.StatusCode, body: string(b), header: resp.Header, cookies: resp.Header.Values("Set-Cookie")}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func (v *env) get(path string, hdr ...string) result {
	v.t.Helper()
	return v.do(http.MethodGet, path, hdr...)
}

// counter is a handler that increments "n" and renders it with c.String.
func counter(c echo.Context) error {
	s := sessecho.From(c)
	n, _ := sess.Get[int](s, "n")
	s.Set("n", n+1)
	return c.String(http.StatusOK, fmt.Sprint(n+1))
}

func readN(c echo.Context) error {
	n, _ := sess.Get[int](sessecho.From(c), "n")
	return c.String(http.StatusOK, fmt.Sprint(n))
}

func wantOneSessionCookie(t *testing.T, r result) {
	t.Helper()
	if got := r.sessionCookies(); len(got) != 1 {
		t.Fatalf("session Set-Cookie lines = %q, want exactly one", got)
	}
	if got := r.header.Values("Vary"); !contains(got, "Cookie") {
		t.Errorf("Vary = %q, want it to contain Cookie", got)
	}
}

func wantNoSessionCookie(t *testing.T, r result) {
	t.Helper()
	if got := r.sessionCookies(); len(got) != 0 {
		t.Errorf("session Set-Cookie lines = %q, want none", got)
	}
}

func contains(vals []string, want string) bool {
	for _, v := range vals {
		if v == want {
			return true
		}
	}
	return false
}

func TestNoContentAndRedirect(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	v.e.Use(sessecho.Middleware(v.m))
	v.e.POST("/flash", func(c echo.Context) error {
		sessecho.From(c).Set("flash", "saved")
		return c.Redirect(http.StatusSeeOther, "/next")
	})
	v.e.DELETE("/n", func(c echo.Context) error {
		sessecho.From(c).Set("n", 7)
		return c.NoContent(http.StatusNoContent)
	})
	v.e.GET("/n", readN)
	r := v.do(http.MethodPost, "/flash")
	if r.status != http.StatusSeeOther {
		t.Fatalf("status = %d, want 303", r.status)
	}
	wantOneSessionCookie(t, r)
	r = v.do(http.MethodDelete, "/n")
	if r.status != http.StatusNoContent {
		t.Fatalf("status = %d, want 204", r.status)
	}
	if r := v.get("/n"); r.body != "7" {
		t.Errorf("stored n = %q, want 7", r.body)
	}
}

func TestReturnedHTTPError4xxKeepsSession(t *testing.T) {
	for _, code := range []int{http.StatusTeapot, http.StatusNotFound, http.StatusUnauthorized} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			v := newEnv(t, sess.Config{})
			v.e.Use(sessecho.Middleware(v.m))
			v.e.GET("/fail", func(c echo.Context) error {
				s := sessecho.From(c)
				n, _ := sess.Get[int](s, "n")
				s.Set("n", n+1)
				return echo.NewHTTPError(code, "nope")
			})
			v.e.GET("/n", readN)
			r := v.get("/fail")
			if r.status != code {
				t.Fatalf("status = %d, want %d", r.status, code)
			}
			if want := `{"message":"nope"}`; strings.TrimSpace(r.body) != want {
				t.Errorf("body = %q, want %q (echo's HTTPErrorHandler)", r.body, want)
			}
			wantOneSessionCookie(t, r)
			v.get("/fail")
			if r := v.get("/n"); r.body != "2" {
				t.Errorf("stored n = %q, want 2", r.body)
			}
		})
	}
}

func TestHEADErrorKeepsSession(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.HEAD("/h", func(c echo.Context) error {
		sessecho.From(c).Set("n", 3)
		return echo.ErrForbidden
	})
	v.e.GET("/n", readN)
	r := v.do(http.MethodHead, "/h")
	if r.status != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", r.status)
	}
	wantOneSessionCookie(t, r)
	if r := v.get("/n"); r.body != "3" {
		t.Errorf("stored n = %q, want 3", r.body)
	}
}

func TestReturned5xxSavesNothing(t *testing.T) {
	errs := map[string]error{
		"HTTPError500": echo.NewHTTPError(http.StatusInternalServerError),
		"HTTPError503": echo.ErrServiceUnavailable,
		"plain":        errors.New("boom"),
	}
	for name, herr := range errs {
		t.Run(name, func(t *testing.T) {
			v := newEnv(t, sess.Config{})
			v.e.Use(sessecho.Middleware(v.m))
			v.e.GET("/inc", counter)
			v.e.GET("/n", readN)
			v.e.GET("/fail", func(c echo.Context) error {
				s := sessecho.From(c)
				s.Set("n", 100)
				s.Set("other", true)
				return herr
			})

			// A new session: nothing stored, no cookie.
			r := v.get("/fail")
			if r.status < 500 {
				t.Fatalf("status = %d, want 5xx", r.status)
			}
			wantNoSessionCookie(t, r)
			if n := v.mem.Len(); n != 0 {
				t.Fatalf("store holds %d sessions after a 5xx, want 0", n)
			}

			// An existing session: left as it was.
			v.get("/inc")
			r = v.get("/fail")
			wantNoSessionCookie(t, r)
			if r := v.get("/n"); r.body != "1" {
				t.Errorf("n = %q after a 5xx, want 1 (unchanged)", r.body)
			}
		})
	}
}

func TestCustomHTTPErrorHandler(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.HTTPErrorHandler = func(err error, c echo.Context) {
		code := http.StatusInternalServerError
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
		}
		_ = c.String(code, "custom: "+http.StatusText(code))
	}
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/fail", func(c echo.Context) error {
		sessecho.From(c).Set("n", 5)
		return echo.ErrBadRequest
	})
	v.e.GET("/n", readN)
	r := v.get("/fail")
	if r.status != http.StatusBadRequest || r.body != "custom: Bad Request" {
		t.Fatalf("got %d %q, want 400 \"custom: Bad Request\"", r.status, r.body)
	}
	wantOneSessionCookie(t, r)
	if r := v.get("/n"); r.body != "5" {
		t.Errorf("stored n = %q, want 5", r.body)
	}
}

func TestErrorAfterWriteKeepsResponse(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/inc", counter)
	v.e.GET("/n", readN)
	v.e.GET("/late", func(c echo.Context) error {
		s := sessecho.From(c)
		if err := c.String(http.StatusOK, "written"); err != nil {
			return err
		}
		// The cookie is out already: the late change is still persisted.
		s.Set("n", 9)
		return errors.New("after the response")
	})
	v.get("/inc")
	r := v.get("/late")
	if r.status != http.StatusOK || r.body != "written" {
		t.Fatalf("got %d %q, want 200 \"written\"", r.status, r.body)
	}
	if r := v.get("/n"); r.body != "9" {
		t.Errorf("n = %q, want 9 (late change on an existing session is kept)", r.body)
	}
}

func TestCommitFailure(t *testing.T) {
	handlers := map[string]echo.HandlerFunc{
		"String": counter,
		"JSON": func(c echo.Context) error {
			sessecho.From(c).Set("n", 1)
			return c.JSON(http.StatusOK, map[string]int{"n": 1})
		},
		"NoWrite": func(c echo.Context) error {
			sessecho.From(c).Set("n", 1)
			return nil
		},
		"HTTPError418": func(c echo.Context) error {
			sessecho.From(c).Set("n", 1)
			return echo.NewHTTPError(http.StatusTeapot)
		},
		"Flush": func(c echo.Context) error {
			sessecho.From(c).Set("n", 1)
			c.Response().Flush()
			_, err := io.WriteString(c.Response(), "streamed")
			return err
		},
	}
	for name, h := range handlers {
		t.Run(name, func(t *testing.T) {
			v := newEnv(t, sess.Config{Logger: discardLogger()})
			var outerCommitted atomic.Bool
			v.e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
				return func(c echo.Context) error {
					err := next(c)
					outerCommitted.Store(c.Response().Committed)
					return err
				}
			})
			v.e.Use(sessecho.Middleware(v.m))
			v.e.GET("/", h)
			v.e.GET("/n", readN)
			v.failWrites()
			r := v.get("/")
			if r.status != http.StatusServiceUnavailable || r.body != "Service Unavailable\n" {
				t.Fatalf("got %d %q, want the 503 error response instead of the handler's", r.status, r.body)
			}
			wantNoSessionCookie(t, r)
			if got := r.header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if name != "HTTPError418" && !outerCommitted.Load() {
				t.Error("outer middleware sees an uncommitted response after the error response was written")
			}
			v.store.Heal()
			if r := v.get("/n"); r.body != "0" {
				t.Errorf("n = %q after a failed commit, want 0", r.body)
			}
			if n := v.mem.Len(); n != 0 {
				t.Errorf("store holds %d sessions, want 0", n)
			}
		})
	}
}

func TestFromWithoutMiddleware(t *testing.T) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	c := e.NewContext(req, httptest.NewRecorder())
	if s := sessecho.From(c); s != nil {
		t.Errorf("From = %v, want nil without the middleware", s)
	}
}

func TestGroupMiddleware(t *testing.T) {
	v := newEnv(t, sess.Config{})
	g := v.e.Group("/app", sessecho.Middleware(v.m))
	g.GET("/inc", counter)
	g.GET("/fail", func(c echo.Context) error {
		sessecho.From(c).Set("n", 50)
		return echo.ErrNotFound
	})
	v.e.GET("/public", func(c echo.Context) error {
		return c.String(http.StatusOK, fmt.Sprint(sessecho.From(c) == nil))
	})
	r := v.get("/app/inc")
	if r.body != "1" {
		t.Fatalf("body = %q, want 1", r.body)
	}
	wantOneSessionCookie(t, r)
	if r := v.get("/app/inc"); r.body != "2" {
		t.Errorf("body = %q, want 2", r.body)
	}
	if r := v.get("/public"); r.body != "true" {
		t.Errorf("outside the group: From == nil is %q, want true", r.body)
	}
	r = v.get("/app/fail")
	if r.status != http.StatusNotFound {
		t.Errorf("status = %d, want 404", r.status)
	}
	if r := v.get("/app/inc"); r.body != "51" {
		t.Errorf("body = %q, want 51 (a 404 keeps the change)", r.body)
	}
}

func TestRouteNotFoundUnderUse(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	r := v.get("/nowhere")
	if r.status != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", r.status)
	}
	wantNoSessionCookie(t, r)
}

func TestContextPooling(t *testing.T) {
	// echo reuses its Context and Response between requests: a request
	// without the middleware must never see the previous request's session.
	v := newEnv(t, sess.Config{})
	v.e.GET("/inc", counter, sessecho.Middleware(v.m))
	v.e.GET("/bare", func(c echo.Context) error {
		_, isRW := c.Response().Writer.(interface{ Unwrap() http.ResponseWriter }) // the session writer
		return c.String(http.StatusOK, fmt.Sprint(sessecho.From(c) == nil, c.Get("session") == nil, !isRW))
	})
	for range 5 {
		v.get("/inc")
		if r := v.get("/bare"); r.body != "true true true" {
			t.Fatalf("bare route sees %q, want \"true true true\"", r.body)
		}
	}
}

// gunzip returns body decompressed if the response says it is gzipped.
func gunzip(t *testing.T, r result) string {
	t.Helper()
	if r.header.Get("Content-Encoding") != "gzip" {
		return r.body
	}
	zr, err := gzip.NewReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWithEchoGzip(t *testing.T) {
	for _, order := range []string{"GzipOutside", "GzipInside"} {
		t.Run(order, func(t *testing.T) {
			v := newEnv(t, sess.Config{})
			if order == "GzipOutside" {
				v.e.Use(middleware.Gzip(), sessecho.Middleware(v.m))
			} else {
				v.e.Use(sessecho.Middleware(v.m), middleware.Gzip())
			}
			v.e.GET("/inc", counter)
			v.e.GET("/n", readN)
			v.e.GET("/silent", func(c echo.Context) error {
				sessecho.From(c).Set("n", 10)
				return nil
			})
			v.e.GET("/fail", func(c echo.Context) error {
				s := sessecho.From(c)
				n, _ := sess.Get[int](s, "n")
				s.Set("n", n+1)
				return echo.ErrTeapot
			})
			v.e.GET("/logout", func(c echo.Context) error {
				sessecho.From(c).Destroy()
				return echo.ErrUnauthorized
			})
			gz := []string{"Accept-Encoding", "gzip"}

			r := v.get("/fail", gz...)
			if r.status != http.StatusTeapot {
				t.Fatalf("status = %d, want 418", r.status)
			}
			wantOneSessionCookie(t, r)
			if r := v.get("/n", gz...); gunzip(t, r) != "1" {
				t.Errorf("n = %q after a returned 418, want 1", gunzip(t, r))
			}
			r = v.get("/inc", gz...)
			if got := gunzip(t, r); got != "2" {
				t.Errorf("body = %q, want 2", got)
			}
			r = v.get("/silent", gz...)
			if r.status != http.StatusOK {
				t.Errorf("status = %d, want 200", r.status)
			}
			if r := v.get("/n", gz...); gunzip(t, r) != "10" {
				t.Errorf("n = %q, want 10", gunzip(t, r))
			}
			r = v.get("/logout", gz...)
			if got := r.sessionCookies(); len(got) != 1 || !strings.Contains(got[0], "Max-Age=0") {
				t.Errorf("logout returning 401: Set-Cookie = %q, want one expiring the session cookie", got)
			}
			if n := v.mem.Len(); n != 0 {
				t.Errorf("store holds %d sessions after Destroy, want 0", n)
			}
		})
	}
}

func TestWithEchoRecoverAndLogger(t *testing.T) {
	v := newEnv(t, sess.Config{})
	var mu sync.Mutex
	var logged []int
	v.e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus:   true,
		HandleError: true, // calls c.Error inside the chain
		LogValuesFunc: func(_ echo.Context, lv middleware.RequestLoggerValues) error {
			mu.Lock()
			logged = append(logged, lv.Status)
			mu.Unlock()
			return nil
		},
	}))
	v.e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisablePrintStack: true}))
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/inc", counter)
	v.e.GET("/n", readN)
	v.e.GET("/panic", func(c echo.Context) error {
		sessecho.From(c).Set("n", 100)
		panic("handler bug")
	})
	v.e.GET("/fail", func(c echo.Context) error {
		sessecho.From(c).Set("n", 7)
		return echo.ErrBadRequest
	})
	v.get("/inc")
	if r := v.get("/panic"); r.status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", r.status)
	}
	if r := v.get("/n"); r.body != "1" {
		t.Errorf("n = %q after a recovered panic, want 1", r.body)
	}
	if r := v.get("/fail"); r.status != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", r.status)
	}
	if r := v.get("/n"); r.body != "7" {
		t.Errorf("n = %q after a returned 400, want 7", r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{200, 500, 200, 400, 200}; fmt.Sprint(logged) != fmt.Sprint(want) {
		t.Errorf("logged statuses = %v, want %v", logged, want)
	}
}

// TestCommitFailureStatusSeenByOuterMiddleware: after a failed commit, outer
// middleware (access logs) must see the error response's status (503), not
// the status the handler asked for.
func TestCommitFailureStatusSeenByOuterMiddleware(t *testing.T) {
	v := newEnv(t, sess.Config{Logger: discardLogger()})
	var status atomic.Int64
	v.e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			status.Store(int64(c.Response().Status))
			return err
		}
	})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/", counter)
	v.failWrites()
	r := v.get("/")
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", r.status)
	}
	if got := status.Load(); got != http.StatusServiceUnavailable {
		t.Errorf("outer middleware sees c.Response().Status = %d, want 503 (the status sent)", got)
	}
}
