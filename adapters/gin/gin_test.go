package sessgin_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	sessgin "github.com/gosess/sess/adapters/gin"
	sess "github.com/gosess/sess/core"
)

var secret = []byte("gin-adapter-test-secret-0123456789abcdef")

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// flakyStore is a memory store whose operations can be made to fail.
type flakyStore struct {
	*sess.MemoryStore
	failGet, failCAS atomic.Bool
}

var errDown = errors.New("store down")

func (s *flakyStore) Get(ctx context.Context, id string) (sess.Record, error) {
	if s.failGet.Load() {
		return sess.Record{}, errDown
	}
	return s.MemoryStore.Get(ctx, id)
}

// GetShared hides the memory store's copy-free read, which would bypass
// the failing Get.
func (s *flakyStore) GetShared(ctx context.Context, id string) (sess.Record, error) {
	return s.Get(ctx, id)
}

func (s *flakyStore) Create(ctx context.Context, id string, rec sess.Record) error {
	if s.failCAS.Load() {
		return errDown
	}
	return s.MemoryStore.Create(ctx, id, rec)
}

func (s *flakyStore) Update(ctx context.Context, id string, p sess.Patch) error {
	if s.failCAS.Load() {
		return errDown
	}
	return s.MemoryStore.Update(ctx, id, p)
}

// fixture is a gin app behind sessgin.Middleware, served over TLS.
type fixture struct {
	t      *testing.T
	m      *sess.Manager
	store  *flakyStore
	engine *gin.Engine
	srv    *httptest.Server
	client *http.Client
}

// newFixture builds a Manager over a fresh flaky store (cfg.Store is
// ignored) and a gin engine, and lets register install the middleware and
// routes before the server starts.
func newFixture(t *testing.T, cfg sess.Config, register func(r *gin.Engine, m *sess.Manager)) *fixture {
	t.Helper()
	mem := sess.NewMemoryStore(sess.MemoryConfig{})
	t.Cleanup(func() { _ = mem.Close() })
	f := &fixture{t: t, store: &flakyStore{MemoryStore: mem}}
	cfg.Secret = secret
	cfg.Store = f.store
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.m = m
	f.engine = gin.New()
	register(f.engine, m)
	f.srv = httptest.NewTLSServer(f.engine)
	t.Cleanup(f.srv.Close)
	f.client = f.srv.Client()
	f.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return f
}

// result is one response, fully read.
type result struct {
	status int
	header http.Header
	body   string
}

// do sends a request with the given raw Cookie header lines.
func (f *fixture) do(method, path string, cookies ...string) result {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, c := range cookies {
		req.Header.Add("Cookie", c)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// raw sends a request over its own TLS connection with Cookie header
// lines written byte for byte, including bytes net/http's client refuses.
func (f *fixture) raw(method, path string, cookies ...string) result {
	f.t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(f.srv.Certificate())
	conn, err := tls.Dial("tcp", f.srv.Listener.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "example.com"})
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n", method, path)
	for _, c := range cookies {
		fmt.Fprintf(&b, "Cookie: %s\r\n", c)
	}
	b.WriteString("\r\n")
	if _, err := io.WriteString(conn, b.String()); err != nil {
		f.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// sessionCookie returns the session cookie's value in r, or "" if r sets
// none. It fails the test if r sets it more than once.
func (f *fixture) sessionCookie(r result) string {
	f.t.Helper()
	var vals []string
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			f.t.Fatalf("unparsable Set-Cookie %q: %v", line, err)
		}
		if c.Name == f.m.CookieName() {
			vals = append(vals, c.Value)
		}
	}
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	f.t.Fatalf("session cookie set %d times: %q", len(vals), r.header.Values("Set-Cookie"))
	return ""
}

// mustCookie returns the session cookie as a Cookie header value and checks
// the headers that go with it.
func (f *fixture) mustCookie(r result) string {
	f.t.Helper()
	v := f.sessionCookie(r)
	if v == "" {
		f.t.Fatalf("status %d: no session cookie; Set-Cookie = %q", r.status, r.header.Values("Set-Cookie"))
	}
	if !hasValue(r.header, "Vary", "Cookie") {
		f.t.Errorf("Vary = %q, want it to include Cookie", r.header.Values("Vary"))
	}
	if !hasValue(r.header, "Cache-Control", `no-cache="Set-Cookie"`) {
		f.t.Errorf("Cache-Control = %q, want it to include no-cache=\"Set-Cookie\"", r.header.Values("Cache-Control"))
	}
	return f.m.CookieName() + "=" + v
}

func (f *fixture) noCookie(r result) {
	f.t.Helper()
	if v := f.sessionCookie(r); v != "" {
		f.t.Errorf("status %d: unexpected session cookie; Set-Cookie = %q", r.status, r.header.Values("Set-Cookie"))
	}
}

func hasValue(h http.Header, name, want string) bool {
	for _, v := range h.Values(name) {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == want {
				return true
			}
		}
	}
	return false
}

// getRoute registers GET /get, which answers the value under "k" or "-",
// and "new" or "old".
func getRoute(r *gin.Engine) {
	r.GET("/get", func(c *gin.Context) {
		s := sessgin.From(c)
		v, ok := sess.Get[string](s, "k")
		if !ok {
			v = "-"
		}
		age := "old"
		if s.IsNew() {
			age = "new"
		}
		c.String(http.StatusOK, "%s %s", v, age)
	})
}

// TestWritersAfterSetCarryCookie checks that every way a gin handler can
// start its response commits the session first (security.md #70).
func TestWritersAfterSetCarryCookie(t *testing.T) {
	cases := []struct {
		name   string
		method string
		write  func(c *gin.Context)
		status int
	}{
		{"JSON", "GET", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"ok": true}) }, 200},
		{"String", "GET", func(c *gin.Context) { c.String(http.StatusCreated, "made") }, 201},
		{"Data", "GET", func(c *gin.Context) { c.Data(http.StatusOK, "text/plain", []byte("x")) }, 200},
		{"WriterWrite", "GET", func(c *gin.Context) { _, _ = c.Writer.Write([]byte("x")) }, 200},
		{"WriterWriteString", "GET", func(c *gin.Context) { _, _ = c.Writer.WriteString("x") }, 200},
		{"WriteHeaderNow", "GET", func(c *gin.Context) { c.Status(http.StatusAccepted); c.Writer.WriteHeaderNow() }, 202},
		{"NoContentRender", "GET", func(c *gin.Context) { c.JSON(http.StatusNoContent, nil) }, 204},
		{"AbortWithStatus", "GET", func(c *gin.Context) { c.AbortWithStatus(http.StatusUnauthorized) }, 401},
		{"AbortWithStatusJSON", "GET", func(c *gin.Context) { c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"e": 1}) }, 403},
		{"RedirectGET", "GET", func(c *gin.Context) { c.Redirect(http.StatusFound, "/elsewhere") }, 302},
		{"RedirectPOST", "POST", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/elsewhere") }, 303},
		{"StatusOnly", "GET", func(c *gin.Context) { c.Status(http.StatusNoContent) }, 204},
		{"Nothing", "GET", func(*gin.Context) {}, 200},
		{"Head", "HEAD", func(c *gin.Context) { c.String(http.StatusOK, "body dropped for HEAD") }, 200},
		{"Stream", "GET", func(c *gin.Context) {
			n := 0
			c.Stream(func(w io.Writer) bool { n++; fmt.Fprintf(w, "chunk %d\n", n); return n < 3 })
		}, 200},
		{"SSEvent", "GET", func(c *gin.Context) { c.SSEvent("msg", "hello") }, 200},
		{"Flush", "GET", func(c *gin.Context) { c.Writer.Flush() }, 200},
		{"ResponseController", "GET", func(c *gin.Context) {
			rc := http.NewResponseController(c.Writer)
			if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
				c.String(http.StatusTeapot, "deadline: %v", err)
				return
			}
			if err := rc.Flush(); err != nil {
				c.String(http.StatusTeapot, "flush: %v", err)
			}
		}, 200},
		{"ErrorOnly", "GET", func(c *gin.Context) { _ = c.Error(errors.New("attached, not written")) }, 200},
		{"AbortWithError4xx", "GET", func(c *gin.Context) { _ = c.AbortWithError(http.StatusBadRequest, errors.New("bad")) }, 400},
		{"DataFromReader", "GET", func(c *gin.Context) {
			c.DataFromReader(http.StatusOK, 3, "text/plain", strings.NewReader("abc"), nil)
		}, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
				r.Use(sessgin.Middleware(m))
				r.Handle(tc.method, "/set", func(c *gin.Context) {
					sessgin.From(c).Set("k", tc.name)
					tc.write(c)
				})
				getRoute(r)
			})
			res := f.do(tc.method, "/set")
			if res.status != tc.status {
				t.Fatalf("status = %d, want %d; body %q", res.status, tc.status, res.body)
			}
			cookie := f.mustCookie(res)
			if got := f.do("GET", "/get", cookie); got.body != tc.name+" old" {
				t.Errorf("next request read %q, want %q", got.body, tc.name+" old")
			}
		})
	}
}

// TestStatusDoesNotCommit checks that c.Status, which only records the
// status in gin, leaves the session open: later changes are saved, and the
// status the response really starts with decides whether to save.
func TestStatusDoesNotCommit(t *testing.T) {
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/created", func(c *gin.Context) {
			c.Status(http.StatusCreated)
			sessgin.From(c).Set("k", "after status")
			c.String(http.StatusCreated, "ok")
		})
		r.GET("/fails", func(c *gin.Context) {
			c.Status(http.StatusOK)
			sessgin.From(c).Set("k", "lost")
			c.JSON(http.StatusInternalServerError, gin.H{"error": "boom"})
		})
		getRoute(r)
	})
	res := f.do("GET", "/created")
	if res.status != http.StatusCreated {
		t.Fatalf("status = %d, want 201", res.status)
	}
	if got := f.do("GET", "/get", f.mustCookie(res)).body; got != "after status old" {
		t.Errorf("read %q, want %q", got, "after status old")
	}

	res = f.do("GET", "/fails")
	if res.status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", res.status)
	}
	f.noCookie(res)
	if n := f.store.Len(); n != 1 {
		t.Errorf("store holds %d sessions, want 1 (the 500 must save nothing)", n)
	}
}

// TestChangeAfterResponseStarted checks the late commit after the handler:
// an existing session keeps a change made after the body was written, a new
// session (which would need a cookie) stores nothing.
func TestChangeAfterResponseStarted(t *testing.T) {
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/late", func(c *gin.Context) {
			c.String(http.StatusOK, "written")
			sessgin.From(c).Set("k", "late")
		})
		r.GET("/start", func(c *gin.Context) {
			sessgin.From(c).Set("k", "early")
			c.String(http.StatusOK, "started")
		})
		getRoute(r)
	})
	res := f.do("GET", "/late")
	f.noCookie(res)
	if n := f.store.Len(); n != 0 {
		t.Fatalf("store holds %d sessions after a late change to a new session, want 0", n)
	}

	cookie := f.mustCookie(f.do("GET", "/start"))
	res = f.do("GET", "/late", cookie)
	f.noCookie(res)
	if got := f.do("GET", "/get", cookie).body; got != "late old" {
		t.Errorf("read %q, want the late change %q", got, "late old")
	}
}

// TestStreamSendsCookieWithFirstFlush checks that a streamed response
// carries the cookie in its header, sent at the first flush while the
// handler is still running.
func TestStreamSendsCookieWithFirstFlush(t *testing.T) {
	release := make(chan struct{})
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/stream", func(c *gin.Context) {
			sessgin.From(c).Set("k", "streamed")
			step := 0
			c.Stream(func(w io.Writer) bool {
				step++
				if step == 2 {
					<-release
				}
				fmt.Fprintf(w, "chunk %d\n", step)
				return step < 3
			})
		})
		getRoute(r)
	})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	t.Cleanup(open) // runs before the server's Close, even on failure
	resp, err := f.client.Get(f.srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	first, err := br.ReadString('\n')
	if err != nil || first != "chunk 1\n" {
		t.Fatalf("first chunk = %q, %v", first, err)
	}
	// The handler is blocked: the header in hand was sent by the flush.
	cookie := f.mustCookie(result{status: resp.StatusCode, header: resp.Header})
	open()
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "chunk 2\nchunk 3\n" {
		t.Fatalf("rest = %q, %v", rest, err)
	}
	if got := f.do("GET", "/get", cookie).body; got != "streamed old" {
		t.Errorf("read %q, want %q", got, "streamed old")
	}
}

// TestServerErrorSavesNothing checks 5xx endings: aborts, errors, a status
// set without a body (committed after the chain with gin's recorded
// status) and a panic recovered by gin.Recovery. With SaveOnServerError the panic's
// changes are saved, which shows the recovery answer goes through the
// commit hook.
func TestServerErrorSavesNothing(t *testing.T) {
	routes := func(r *gin.Engine, m *sess.Manager) {
		r.Use(gin.RecoveryWithWriter(io.Discard), sessgin.Middleware(m))
		r.GET("/abort", func(c *gin.Context) {
			sessgin.From(c).Set("k", "abort")
			c.AbortWithStatus(http.StatusInternalServerError)
		})
		r.GET("/error", func(c *gin.Context) {
			sessgin.From(c).Set("k", "error")
			_ = c.AbortWithError(http.StatusBadGateway, errors.New("upstream"))
		})
		r.GET("/status", func(c *gin.Context) {
			sessgin.From(c).Set("k", "status")
			c.Status(http.StatusServiceUnavailable) // and write nothing
		})
		r.GET("/panic", func(c *gin.Context) {
			sessgin.From(c).Set("k", "panic")
			panic("handler bug")
		})
		getRoute(r)
	}
	f := newFixture(t, sess.Config{}, routes)
	for _, p := range []string{"/abort", "/error", "/status", "/panic"} {
		res := f.do("GET", p)
		if res.status < 500 {
			t.Errorf("%s: status = %d, want 5xx", p, res.status)
		}
		f.noCookie(res)
	}
	if n := f.store.Len(); n != 0 {
		t.Errorf("store holds %d sessions after 5xx responses, want 0", n)
	}

	f = newFixture(t, sess.Config{SaveOnServerError: true}, routes)
	res := f.do("GET", "/panic")
	if res.status != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", res.status)
	}
	if got := f.do("GET", "/get", f.mustCookie(res)).body; got != "panic old" {
		t.Errorf("read %q, want %q", got, "panic old")
	}
}

// TestHostileCookies sends malformed, forged and re-encoded session
// cookies: each must give a new, empty session, never an error. The
// percent-encoded copy of a valid cookie is the one gin's own c.Cookie
// would decode back into the valid value.
func TestHostileCookies(t *testing.T) {
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/set", func(c *gin.Context) {
			sessgin.From(c).Set("k", "secret")
			c.String(http.StatusOK, "ok")
		})
		r.GET("/ginview", func(c *gin.Context) {
			v, _ := c.Cookie(m.CookieName())
			c.String(http.StatusOK, "%s", v)
		})
		getRoute(r)
	})
	valid := f.mustCookie(f.do("GET", "/set"))
	if got := f.do("GET", "/get", valid).body; got != "secret old" {
		t.Fatalf("valid cookie read %q, want %q", got, "secret old")
	}
	value := strings.TrimPrefix(valid, "sid=")
	var enc strings.Builder
	for i := 0; i < len(value); i++ {
		fmt.Fprintf(&enc, "%%%02X", value[i])
	}
	encoded := "sid=" + enc.String()
	if got := f.do("GET", "/ginview", encoded).body; got != value {
		t.Fatalf("gin's c.Cookie decoded %q, want the valid value (test premise)", got)
	}

	id, mac, _ := strings.Cut(value, ".")
	flip := []byte(mac)
	flip[0] ^= 1
	cases := map[string][]string{
		"percent-encoded":   {encoded},
		"quoted":            {`sid="` + value + `"`},
		"valid twice":       {valid, valid},
		"tampered mac":      {"sid=" + id + "." + string(flip)},
		"id only":           {"sid=" + id},
		"empty":             {"sid="},
		"bare name":         {"sid"},
		"garbage":           {"sid=../../etc/passwd"},
		"nul":               {"sid=" + id + "\x00." + mac},
		"control":           {"sid=\x01\x02\x7f"},
		"high bytes":        {"sid=\xff\xfe" + value},
		"backslash":         {`sid=a\b`},
		"huge":              {"sid=" + strings.Repeat("A", 6000)},
		"many cookies":      {strings.Repeat("sid=x; ", 500)},
		"only semicolons":   {";;;;;"},
		"uppercase name":    {"SID=" + value},
		"valid plus forged": {valid + "; sid=" + id + "." + string(flip) + "x"},
	}
	for name, cookies := range cases {
		t.Run(name, func(t *testing.T) {
			res := f.raw("GET", "/get", cookies...)
			if name == "nul" || name == "control" {
				// net/http refuses these header bytes before gin runs.
				if res.status != http.StatusBadRequest {
					t.Errorf("status = %d, want net/http's 400", res.status)
				}
				return
			}
			if res.status != http.StatusOK {
				t.Fatalf("status = %d, want 200; body %q", res.status, res.body)
			}
			want := "- new"
			switch name {
			case "valid plus forged", "quoted", "valid twice":
				// The forged one is ignored, the valid one kept; RFC 6265
				// allows a quoted value.
				want = "secret old"
			}
			if res.body != want {
				t.Errorf("read %q, want %q", res.body, want)
			}
			f.noCookie(res)
		})
	}
}

// TestStoreFailure checks that a store failure while loading answers 503
// without running the handler, and that a failed commit replaces the
// handler's response with the 503, never with a cookie.
func TestStoreFailure(t *testing.T) {
	var ran atomic.Int64
	var ginErrors atomic.Value
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(func(c *gin.Context) {
			c.Next()
			ginErrors.Store(c.Errors.String())
		}, sessgin.Middleware(m))
		r.GET("/set", func(c *gin.Context) {
			ran.Add(1)
			sessgin.From(c).Set("k", "v")
			c.Header("X-Handler", "yes")
			switch c.Query("how") {
			case "json":
				c.JSON(http.StatusOK, gin.H{"handler": "body"})
			case "stream":
				c.Stream(func(w io.Writer) bool { _, _ = io.WriteString(w, "handler body"); return false })
			case "abort":
				c.AbortWithStatus(http.StatusAccepted)
			case "status":
				c.Status(http.StatusAccepted)
			}
		})
		getRoute(r)
	})
	cookie := f.mustCookie(f.do("GET", "/set?how=json"))

	check := func(t *testing.T, res result) {
		t.Helper()
		if res.status != http.StatusServiceUnavailable {
			t.Errorf("status = %d, want 503", res.status)
		}
		if ct := res.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type = %q", ct)
		}
		if res.body != "Service Unavailable\n" {
			t.Errorf("body = %q, want the error response only", res.body)
		}
		if res.header.Get("X-Handler") != "" {
			t.Error("handler's header leaked into the error response")
		}
		if len(res.header.Values("Set-Cookie")) != 0 {
			t.Errorf("Set-Cookie = %q, want none", res.header.Values("Set-Cookie"))
		}
	}

	t.Run("load", func(t *testing.T) {
		f.store.failGet.Store(true)
		defer f.store.failGet.Store(false)
		before := ran.Load()
		check(t, f.do("GET", "/set?how=json", cookie))
		if ran.Load() != before {
			t.Error("handler ran after the load failed")
		}
		if e, _ := ginErrors.Load().(string); !strings.Contains(e, "store down") {
			t.Errorf("c.Errors = %q, want the store error attached", e)
		}
	})
	for _, how := range []string{"json", "stream", "abort", "status", "nothing"} {
		t.Run("commit/"+how, func(t *testing.T) {
			f.store.failCAS.Store(true)
			defer f.store.failCAS.Store(false)
			check(t, f.do("GET", "/set?how="+how))
		})
	}
	if n := f.store.Len(); n != 1 {
		t.Errorf("store holds %d sessions, want only the first one", n)
	}
}

// TestSkipHeader checks that a skip header runs the handler without a
// session: no bag entry, no context value, no cookie, no store access.
func TestSkipHeader(t *testing.T) {
	f := newFixture(t, sess.Config{SkipHeaders: []sess.SkipHeader{{Name: "X-Health-Check"}}}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/", func(c *gin.Context) {
			_, inBag := c.Get(m.ObjectName())
			_, inCtx := sess.FromContext(c.Request.Context())
			c.String(http.StatusOK, "%v %v %v", sessgin.From(c) == nil, inBag, inCtx)
		})
	})
	req, _ := http.NewRequest("GET", f.srv.URL+"/", nil)
	req.Header.Set("X-Health-Check", "1")
	req.Header.Set("Cookie", "sid=whatever")
	f.store.failGet.Store(true) // a skipped request never reaches the store
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "true false false" {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, b, "true false false")
	}
	if v := resp.Header.Values("Set-Cookie"); len(v) != 0 {
		t.Errorf("Set-Cookie = %q, want none", v)
	}
}

// TestSessionExposure checks the three ways to reach the session, with a
// custom ObjectName, and that the middleware restores c.Writer.
func TestSessionExposure(t *testing.T) {
	var restored atomic.Bool
	f := newFixture(t, sess.Config{ObjectName: "sess"}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(func(c *gin.Context) {
			w := c.Writer
			c.Next()
			restored.Store(c.Writer == w)
		}, sessgin.Middleware(m))
		r.GET("/", func(c *gin.Context) {
			s := sessgin.From(c)
			bag, _ := c.Get("sess")
			_, def := c.Get("session")
			fromCtx, _ := sess.FromContext(c.Request.Context())
			c.String(http.StatusOK, "%v %v %v %v", s != nil, bag == s, fromCtx == s, def)
		})
	})
	res := f.do("GET", "/")
	if res.body != "true true true false" {
		t.Errorf("got %q, want %q", res.body, "true true true false")
	}
	if !restored.Load() {
		t.Error("c.Writer was not restored after the chain")
	}
}

func TestFromWithoutMiddleware(t *testing.T) {
	if sessgin.From(nil) != nil {
		t.Error("From(nil) != nil")
	}
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	if sessgin.From(c) != nil {
		t.Error("From on a context without request != nil")
	}
	c.Request = httptest.NewRequest("GET", "/", nil)
	if sessgin.From(c) != nil {
		t.Error("From without the middleware != nil")
	}
}

// TestNoRoute checks gin's own 404 path, which writes its default body
// after the middleware returned.
func TestNoRoute(t *testing.T) {
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		getRoute(r)
	})
	res := f.do("GET", "/missing")
	if res.status != http.StatusNotFound || res.body != "404 page not found" {
		t.Errorf("got %d %q, want gin's 404", res.status, res.body)
	}
	f.noCookie(res)

	f = newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.NoRoute(func(c *gin.Context) { sessgin.From(c).Set("k", "flash") })
		getRoute(r)
	})
	res = f.do("GET", "/missing")
	if res.status != http.StatusNotFound || res.body != "404 page not found" {
		t.Errorf("got %d %q, want gin's 404", res.status, res.body)
	}
	if got := f.do("GET", "/get", f.mustCookie(res)).body; got != "flash old" {
		t.Errorf("read %q, want %q", got, "flash old")
	}
}

// TestHijack checks that hijacking the connection commits the session
// first.
func TestHijack(t *testing.T) {
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/hijack", func(c *gin.Context) {
			sessgin.From(c).Set("k", "hijacked")
			conn, bw, err := c.Writer.Hijack()
			if err != nil {
				c.String(http.StatusTeapot, "%v", err)
				return
			}
			defer conn.Close()
			_, _ = bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
			_ = bw.Flush()
		})
	})
	res := f.do("GET", "/hijack")
	if res.status != http.StatusOK || res.body != "ok" {
		t.Fatalf("got %d %q", res.status, res.body)
	}
	if n := f.store.Len(); n != 1 {
		t.Errorf("store holds %d sessions, want 1", n)
	}
}

// TestConcurrentRequests runs requests of one session in parallel, each
// setting its own key: every key survives.
func TestConcurrentRequests(t *testing.T) {
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/set", func(c *gin.Context) {
			sessgin.From(c).Set(c.Query("k"), true)
			c.JSON(http.StatusOK, gin.H{"set": c.Query("k")})
		})
		r.GET("/keys", func(c *gin.Context) {
			c.String(http.StatusOK, "%s", strings.Join(sessgin.From(c).Keys(), ","))
		})
	})
	cookie := f.mustCookie(f.do("GET", "/set?k=k00"))
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 1; i <= n; i++ {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", fmt.Sprintf("%s/set?k=k%02d", f.srv.URL, i), nil)
			req.Header.Set("Cookie", cookie)
			resp, err := f.client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || len(resp.Header.Values("Set-Cookie")) != 0 {
				errs <- fmt.Errorf("k%02d: status %d, Set-Cookie %q", i, resp.StatusCode, resp.Header.Values("Set-Cookie"))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var want []string
	for i := 0; i <= n; i++ {
		want = append(want, fmt.Sprintf("k%02d", i))
	}
	if got := f.do("GET", "/keys", cookie).body; got != strings.Join(want, ",") {
		t.Errorf("keys = %q, want %q", got, strings.Join(want, ","))
	}
}

// TestHandleContext checks gin's internal re-dispatch: the middleware runs
// again for the rewritten request, and the session set there reaches the
// client.
func TestHandleContext(t *testing.T) {
	f := newFixture(t, sess.Config{}, func(r *gin.Engine, m *sess.Manager) {
		r.Use(sessgin.Middleware(m))
		r.GET("/a", func(c *gin.Context) {
			c.Request.URL.Path = "/b"
			r.HandleContext(c)
		})
		r.GET("/b", func(c *gin.Context) {
			sessgin.From(c).Set("k", "b")
			c.String(http.StatusOK, "b")
		})
		getRoute(r)
	})
	res := f.do("GET", "/a")
	if res.status != http.StatusOK || res.body != "b" {
		t.Fatalf("got %d %q", res.status, res.body)
	}
	if got := f.do("GET", "/get", f.mustCookie(res)).body; got != "b old" {
		t.Errorf("read %q, want %q", got, "b old")
	}
	if n := f.store.Len(); n != 1 {
		t.Errorf("store holds %d sessions, want 1", n)
	}
}
