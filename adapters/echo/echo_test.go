package sessecho_test

import (
	"compress/gzip"
	"context"
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
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	sessecho "github.com/gosess/sess/adapters/echo"
	sess "github.com/gosess/sess/core"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// flakyStore is a MemoryStore whose reads and writes can be made to fail.
type flakyStore struct {
	*sess.MemoryStore
	failGet   atomic.Bool
	failWrite atomic.Bool
}

var errDown = errors.New("store down")

func (f *flakyStore) Get(ctx context.Context, id string) (sess.Record, error) {
	if f.failGet.Load() {
		return sess.Record{}, errDown
	}
	return f.MemoryStore.Get(ctx, id)
}

// GetShared hides the memory store's copy-free read, which would bypass
// the failing Get.
func (f *flakyStore) GetShared(ctx context.Context, id string) (sess.Record, error) {
	return f.Get(ctx, id)
}

func (f *flakyStore) Create(ctx context.Context, id string, rec sess.Record) error {
	if f.failWrite.Load() {
		return errDown
	}
	return f.MemoryStore.Create(ctx, id, rec)
}

func (f *flakyStore) Update(ctx context.Context, id string, p sess.Patch) error {
	if f.failWrite.Load() {
		return errDown
	}
	return f.MemoryStore.Update(ctx, id, p)
}

func (f *flakyStore) Touch(ctx context.Context, id string, expires time.Time) error {
	if f.failWrite.Load() {
		return errDown
	}
	return f.MemoryStore.Touch(ctx, id, expires)
}

func (f *flakyStore) Delete(ctx context.Context, id string) error {
	if f.failWrite.Load() {
		return errDown
	}
	return f.MemoryStore.Delete(ctx, id)
}

// env is one echo app behind a TLS test server, with a cookie-keeping client.
type env struct {
	t     *testing.T
	e     *echo.Echo
	m     *sess.Manager
	store *flakyStore
	srv   *httptest.Server
	c     *http.Client
}

func newEnv(t *testing.T, cfg sess.Config) *env {
	t.Helper()
	st := &flakyStore{MemoryStore: sess.NewMemoryStore(sess.MemoryConfig{})}
	t.Cleanup(func() { st.Close() })
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
	return &env{t: t, e: e, m: m, store: st, srv: srv, c: c}
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

func TestJSONAfterSetCarriesCookie(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.POST("/login", func(c echo.Context) error {
		sessecho.From(c).Set("user", "alice")
		return c.JSON(http.StatusCreated, map[string]string{"ok": "yes"})
	})
	v.e.GET("/me", func(c echo.Context) error {
		u, _ := sess.Get[string](sessecho.From(c), "user")
		return c.JSON(http.StatusOK, map[string]string{"user": u})
	})

	r := v.do(http.MethodPost, "/login")
	if r.status != http.StatusCreated {
		t.Fatalf("status = %d, want 201", r.status)
	}
	wantOneSessionCookie(t, r)
	if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	r = v.get("/me")
	if want := `{"user":"alice"}`; strings.TrimSpace(r.body) != want {
		t.Errorf("body = %q, want %q", r.body, want)
	}
	wantNoSessionCookie(t, r)
}

func TestCounterAcrossRequests(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/inc", counter)
	for i := 1; i <= 3; i++ {
		r := v.get("/inc")
		if r.body != fmt.Sprint(i) {
			t.Fatalf("request %d: body = %q, want %d", i, r.body, i)
		}
		if i == 1 {
			wantOneSessionCookie(t, r)
		} else {
			wantNoSessionCookie(t, r) // the ID does not change
		}
	}
	if n := v.store.Len(); n != 1 {
		t.Errorf("store holds %d sessions, want 1", n)
	}
}

func TestUntouchedSessionSetsNoCookie(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/", readN)
	r := v.get("/")
	if r.status != http.StatusOK || r.body != "0" {
		t.Fatalf("got %d %q, want 200 \"0\"", r.status, r.body)
	}
	wantNoSessionCookie(t, r)
	if n := v.store.Len(); n != 0 {
		t.Errorf("store holds %d sessions, want 0", n)
	}
}

func TestHandlerWritesNothing(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/silent", func(c echo.Context) error {
		sessecho.From(c).Set("n", 41)
		return nil
	})
	v.e.GET("/n", readN)
	r := v.get("/silent")
	if r.status != http.StatusOK || r.body != "" {
		t.Fatalf("got %d %q, want 200 and an empty body", r.status, r.body)
	}
	wantOneSessionCookie(t, r)
	if r := v.get("/n"); r.body != "41" {
		t.Errorf("stored n = %q, want 41", r.body)
	}
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
			if n := v.store.Len(); n != 0 {
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

func TestPanicRecoveredSavesNothing(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/inc", counter)
	v.e.GET("/n", readN)
	v.e.GET("/panic", func(c echo.Context) error {
		sessecho.From(c).Set("n", 100)
		panic("handler bug")
	}, middlewareRecover())
	v.get("/inc")
	r := v.get("/panic")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", r.status)
	}
	wantNoSessionCookie(t, r)
	if r := v.get("/n"); r.body != "1" {
		t.Errorf("n = %q after a recovered panic, want 1", r.body)
	}
}

// middlewareRecover turns a panic into a returned error, as echo's
// middleware.Recover does, without logging a stack trace.
func middlewareRecover() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if p := recover(); p != nil {
					err = fmt.Errorf("recovered: %v", p)
				}
			}()
			return next(c)
		}
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

func TestStreamingFlush(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/stream", func(c echo.Context) error {
		s := sessecho.From(c)
		s.Set("n", 1)
		res := c.Response()
		res.Header().Set(echo.HeaderContentType, echo.MIMETextPlainCharsetUTF8)
		res.WriteHeader(http.StatusOK)
		for i := range 3 {
			if _, err := fmt.Fprintf(res, "chunk%d;", i); err != nil {
				return err
			}
			res.Flush()
		}
		return nil
	})
	v.e.GET("/flushfirst", func(c echo.Context) error {
		sessecho.From(c).Set("n", 2)
		c.Response().Flush() // commits before anything is written
		_, err := io.WriteString(c.Response(), "after flush")
		return err
	})
	v.e.GET("/n", readN)

	r := v.get("/stream")
	if r.status != http.StatusOK || r.body != "chunk0;chunk1;chunk2;" {
		t.Fatalf("got %d %q, want 200 and three chunks", r.status, r.body)
	}
	wantOneSessionCookie(t, r)
	if r := v.get("/n"); r.body != "1" {
		t.Errorf("n = %q, want 1", r.body)
	}

	r = v.get("/flushfirst")
	if r.status != http.StatusOK || r.body != "after flush" {
		t.Fatalf("got %d %q, want 200 \"after flush\"", r.status, r.body)
	}
	if r := v.get("/n"); r.body != "2" {
		t.Errorf("n = %q, want 2", r.body)
	}
}

func TestStreamingLateChangeNeedingCookieIsDropped(t *testing.T) {
	v := newEnv(t, sess.Config{Logger: discardLogger()})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/stream", func(c echo.Context) error {
		res := c.Response()
		res.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(res, "x")
		res.Flush()
		// Too late for a new session: its cookie cannot be sent any more.
		sessecho.From(c).Set("n", 1)
		return nil
	})
	r := v.get("/stream")
	if r.status != http.StatusOK || r.body != "x" {
		t.Fatalf("got %d %q, want 200 \"x\"", r.status, r.body)
	}
	wantNoSessionCookie(t, r)
	if n := v.store.Len(); n != 0 {
		t.Errorf("store holds %d sessions, want 0 (no orphan record without a cookie)", n)
	}
}

func TestLoadFailure(t *testing.T) {
	v := newEnv(t, sess.Config{Logger: discardLogger()})
	var ran atomic.Bool
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/inc", func(c echo.Context) error {
		ran.Store(true)
		return counter(c)
	})
	v.get("/inc")
	ran.Store(false)
	v.store.failGet.Store(true)
	r := v.get("/inc")
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", r.status)
	}
	if ran.Load() {
		t.Error("handler ran although the session could not be loaded")
	}
	if r.body != "Service Unavailable\n" {
		t.Errorf("body = %q, want the default error body", r.body)
	}
	if got := r.header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/plain; charset=utf-8", got)
	}
	wantNoSessionCookie(t, r)
}

func TestLoadFailureCustomErrorHandler(t *testing.T) {
	v := newEnv(t, sess.Config{
		Logger: discardLogger(),
		ErrorHandler: func(_ context.Context, err error) sess.ErrorResponse {
			return sess.ErrorResponse{Status: http.StatusTeapot, ContentType: "application/json", Body: `{"error":"sessions"}`}
		},
	})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/inc", counter)
	v.get("/inc")
	v.store.failGet.Store(true)
	r := v.get("/inc")
	if r.status != http.StatusTeapot || r.body != `{"error":"sessions"}` || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %q %q, want the configured error response", r.status, r.header.Get("Content-Type"), r.body)
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
			v.store.failWrite.Store(true)
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
			v.store.failWrite.Store(false)
			if r := v.get("/n"); r.body != "0" {
				t.Errorf("n = %q after a failed commit, want 0", r.body)
			}
			if n := v.store.Len(); n != 0 {
				t.Errorf("store holds %d sessions, want 0", n)
			}
		})
	}
}

func TestSkipHeader(t *testing.T) {
	v := newEnv(t, sess.Config{SkipHeaders: []sess.SkipHeader{{Name: "X-Internal", Value: "*"}}})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/probe", func(c echo.Context) error {
		_, inCtx := sess.FromContext(c.Request().Context())
		return c.String(http.StatusOK, fmt.Sprint(sessecho.From(c) == nil, c.Get("session") == nil, !inCtx))
	})
	v.e.GET("/inc", counter)
	v.get("/inc")
	v.store.failGet.Store(true) // a skipped request never touches the store
	r := v.get("/probe", "X-Internal", "1")
	if r.status != http.StatusOK || r.body != "true true true" {
		t.Fatalf("got %d %q, want 200 \"true true true\" (no session anywhere)", r.status, r.body)
	}
	wantNoSessionCookie(t, r)
}

func TestAccessors(t *testing.T) {
	v := newEnv(t, sess.Config{ObjectName: "sess"})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/", func(c echo.Context) error {
		s := sessecho.From(c)
		fromCtx, _ := sess.FromContext(c.Request().Context())
		bag, _ := c.Get("sess").(*sess.Session)
		if s == nil || s != fromCtx || s != bag || c.Get("session") != nil {
			return c.String(http.StatusInternalServerError, "mismatch")
		}
		return c.String(http.StatusOK, "same")
	})
	if r := v.get("/"); r.body != "same" {
		t.Errorf("body = %q, want same: From, FromContext and c.Get(ObjectName) must agree", r.body)
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

func TestAppCookiesSurvive(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/", func(c echo.Context) error {
		c.SetCookie(&http.Cookie{Name: "theme", Value: "dark", Path: "/"})
		sessecho.From(c).Set("n", 1)
		c.SetCookie(&http.Cookie{Name: "lang", Value: "en", Path: "/"})
		return c.String(http.StatusOK, "ok")
	})
	r := v.get("/")
	if len(r.cookies) != 3 {
		t.Fatalf("Set-Cookie lines = %q, want three separate lines", r.cookies)
	}
	wantOneSessionCookie(t, r)
	for _, name := range []string{"theme=dark", "lang=en"} {
		found := false
		for _, l := range r.cookies {
			found = found || strings.HasPrefix(l, name+";")
		}
		if !found {
			t.Errorf("Set-Cookie lines = %q, want one for %s", r.cookies, name)
		}
	}
}

func TestDestroyAndRenew(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/inc", counter)
	v.e.GET("/n", readN)
	v.e.POST("/renew", func(c echo.Context) error {
		sessecho.From(c).Renew()
		return c.NoContent(http.StatusNoContent)
	})
	v.e.POST("/logout", func(c echo.Context) error {
		sessecho.From(c).Destroy()
		return c.Redirect(http.StatusFound, "/n")
	})
	first := v.get("/inc").sessionCookies()
	r := v.do(http.MethodPost, "/renew")
	wantOneSessionCookie(t, r)
	if r.sessionCookies()[0] == first[0] {
		t.Error("Renew kept the session cookie")
	}
	if r := v.get("/n"); r.body != "1" {
		t.Errorf("n = %q after Renew, want 1", r.body)
	}
	if n := v.store.Len(); n != 1 {
		t.Errorf("store holds %d sessions after Renew, want 1", n)
	}
	v.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r = v.do(http.MethodPost, "/logout")
	if got := r.sessionCookies(); len(got) != 1 || !strings.Contains(got[0], "Max-Age=0") {
		t.Errorf("logout Set-Cookie = %q, want one expiring the session cookie", got)
	}
	if n := v.store.Len(); n != 0 {
		t.Errorf("store holds %d sessions after Destroy, want 0", n)
	}
}

func TestHostileCookies(t *testing.T) {
	v := newEnv(t, sess.Config{Logger: discardLogger()})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/n", readN)
	v.e.GET("/inc", counter)
	good := v.get("/inc").sessionCookies()[0]
	good = good[:strings.IndexByte(good, ';')]
	v.c.Jar = nil // send the raw headers below only
	hostile := []string{
		"sid=",
		"sid=garbage",
		"sid=" + strings.Repeat("A", 43) + ".AAAA",
		"sid=" + strings.Repeat("A", 43) + "." + strings.Repeat("A", 43),
		good + "x",
		good[:len(good)-1],
		"sid=\"" + strings.TrimPrefix(good, "sid=") + "\"x",
		"sid=%00%ff; sid=~~",
		"sid=" + strings.Repeat("x", 8000),
		strings.Repeat("sid=a.b; ", 500),
		";;;;;=;=;sid",
		"sid=../../etc/passwd",
		"sid=\u00e9\u00e9.\u00e9",
		good + "; sid=forged.sig", // a valid one next to junk is still found
	}
	for i, h := range hostile {
		r := v.get("/n", "Cookie", h)
		if r.status != http.StatusOK {
			t.Errorf("cookie #%d: status = %d, want 200", i, r.status)
			continue
		}
		want := "0"
		if i == len(hostile)-1 {
			want = "1"
		}
		if r.body != want {
			t.Errorf("cookie #%d: n = %q, want %s", i, r.body, want)
		}
		wantNoSessionCookie(t, r)
	}
	if n := v.store.Len(); n != 1 {
		t.Errorf("store holds %d sessions, want 1 (hostile cookies create nothing)", n)
	}
}

func TestConcurrentRequestsOneSession(t *testing.T) {
	v := newEnv(t, sess.Config{})
	v.e.Use(sessecho.Middleware(v.m))
	v.e.GET("/set", func(c echo.Context) error {
		sessecho.From(c).Set(c.QueryParam("k"), true)
		return c.String(http.StatusOK, "ok")
	})
	v.e.GET("/keys", func(c echo.Context) error {
		return c.String(http.StatusOK, fmt.Sprint(sessecho.From(c).Len()))
	})
	v.get("/set?k=init")
	// Each request loses at most n-1 compare-and-swap races, fewer than
	// the core's retry limit, so every change must land.
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/set?k=k%d", v.srv.URL, i), nil)
			resp, err := v.c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("k%d: status = %d, want 200", i, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if r := v.get("/keys"); r.body != fmt.Sprint(n+1) {
		t.Errorf("session has %s keys, want %d (every concurrent change kept)", r.body, n+1)
	}
}

func TestContextPooling(t *testing.T) {
	// echo reuses its Context and Response between requests: a request
	// without the middleware must never see the previous request's session.
	v := newEnv(t, sess.Config{})
	v.e.GET("/inc", counter, sessecho.Middleware(v.m))
	v.e.GET("/bare", func(c echo.Context) error {
		_, isRW := c.Response().Writer.(*sess.ResponseWriter)
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
			if n := v.store.Len(); n != 0 {
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
	v.store.failWrite.Store(true)
	r := v.get("/")
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", r.status)
	}
	if got := status.Load(); got != http.StatusServiceUnavailable {
		t.Errorf("outer middleware sees c.Response().Status = %d, want 503 (the status sent)", got)
	}
}
