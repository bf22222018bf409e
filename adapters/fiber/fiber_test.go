package sessfiber_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/encryptcookie"
	sessfiber "github.com/gosess/sess/adapters/fiber"
	sess "github.com/gosess/sess/core"
	"github.com/valyala/fasthttp"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

// flakyStore is a MemoryStore whose operations can be made to fail.
type flakyStore struct {
	*sess.MemoryStore
	failGet, failCAS, failDelete atomic.Bool
	gets                         atomic.Int64
}

// sharedStore stands in for a store shared between processes: it hides the
// memory store's ProcessLocal capability.
type sharedStore struct{ sess.Store }

var errDown = errors.New("backend down: secret-host:6379")

func newFlakyStore(t *testing.T) *flakyStore {
	t.Helper()
	ms := sess.NewMemoryStore(sess.MemoryConfig{})
	t.Cleanup(func() { ms.Close() })
	return &flakyStore{MemoryStore: ms}
}

func (f *flakyStore) Get(ctx context.Context, id string) (sess.Record, error) {
	f.gets.Add(1)
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
	if f.failCAS.Load() {
		return errDown
	}
	return f.MemoryStore.Create(ctx, id, rec)
}

func (f *flakyStore) Update(ctx context.Context, id string, p sess.Patch) error {
	if f.failCAS.Load() {
		return errDown
	}
	return f.MemoryStore.Update(ctx, id, p)
}

func (f *flakyStore) Delete(ctx context.Context, id string) error {
	if f.failDelete.Load() {
		return errDown
	}
	return f.MemoryStore.Delete(ctx, id)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newManager(t *testing.T, cfg sess.Config) *sess.Manager {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = testSecret
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// newApp returns an app with the middleware for m in front of every route.
func newApp(m *sess.Manager, cfg ...fiber.Config) *fiber.App {
	app := fiber.New(cfg...)
	app.Use(sessfiber.Middleware(m))
	return app
}

func do(t *testing.T, app *fiber.App, method, target string, cookies ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for _, c := range cookies {
		r.Header.Add("Cookie", c)
	}
	return roundTrip(t, app, r)
}

func roundTrip(t *testing.T, app *fiber.App, r *http.Request) *http.Response {
	t.Helper()
	resp, err := app.Test(r, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sessionCookie returns "name=value" of the response's session cookie, or
// "" if it has none.
func sessionCookie(t *testing.T, m *sess.Manager, resp *http.Response) string {
	t.Helper()
	var found string
	for _, line := range resp.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", line, err)
		}
		if c.Name == m.CookieName() {
			if found != "" {
				t.Fatalf("two session cookies in %q", resp.Header.Values("Set-Cookie"))
			}
			found = c.Name + "=" + c.Value
		}
	}
	return found
}

// idOf returns the session ID in a "name=<id>.<mac>" cookie.
func idOf(cookie string) string {
	v := cookie[strings.IndexByte(cookie, '=')+1:]
	return v[:strings.LastIndexByte(v, '.')]
}

// login stores user=name in a new session and returns its cookie.
func login(t *testing.T, app *fiber.App, m *sess.Manager, name string) string {
	t.Helper()
	resp := do(t, app, "POST", "/login?user="+name)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: status %d, want 200", resp.StatusCode)
	}
	c := sessionCookie(t, m, resp)
	if c == "" {
		t.Fatal("login: no session cookie")
	}
	return c
}

// addRoutes installs /login (stores the user), /whoami (reads it) and
// /noop (does not touch the session).
func addRoutes(app *fiber.App) {
	app.Post("/login", func(c *fiber.Ctx) error {
		sessfiber.From(c).Set("user", strings.Clone(c.Query("user")))
		return c.SendString("ok")
	})
	app.Get("/whoami", func(c *fiber.Ctx) error {
		s := sessfiber.From(c)
		if s == nil {
			return c.SendString("no session")
		}
		u, _ := sess.Get[string](s, "user")
		return c.SendString("user=" + u)
	})
	app.Get("/noop", func(c *fiber.Ctx) error { return c.SendString("noop") })
}

func TestRoundTrip(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m)
	addRoutes(app)

	resp := do(t, app, "GET", "/whoami")
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("untouched session: Set-Cookie = %q, want none", got)
	}
	c := login(t, app, m, "alice")
	resp = do(t, app, "POST", "/login?user=alice")
	if got := resp.Header.Get("Vary"); got != "Cookie" {
		t.Errorf("Vary = %q, want Cookie", got)
	}
	if got := resp.Header.Get("Cache-Control"); got != `no-cache="Set-Cookie"` {
		t.Errorf("Cache-Control = %q, want no-cache=\"Set-Cookie\"", got)
	}
	resp = do(t, app, "GET", "/whoami", c)
	if got := body(t, resp); got != "user=alice" {
		t.Errorf("body = %q, want user=alice", got)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("read-only request: Set-Cookie = %q, want none", got)
	}
}

// TestAccessors checks that From, c.Locals under ObjectName and
// sess.FromContext(c.UserContext()) return the same session, also with a
// custom ObjectName.
func TestAccessors(t *testing.T) {
	for _, name := range []string{"", "sess_obj"} {
		m := newManager(t, sess.Config{ObjectName: name})
		app := newApp(m)
		var fails atomic.Int64
		app.Get("/", func(c *fiber.Ctx) error {
			s := sessfiber.From(c)
			fromCtx, _ := sess.FromContext(c.UserContext())
			bag, _ := c.Locals(m.ObjectName()).(*sess.Session)
			if s == nil || s != fromCtx || s != bag {
				fails.Add(1)
			}
			// fiber closes io.Closer values in Locals at the end of the
			// request: the session must not be one.
			if _, ok := c.Locals(m.ObjectName()).(io.Closer); ok {
				fails.Add(1)
			}
			return c.SendStatus(http.StatusNoContent)
		})
		do(t, app, "GET", "/")
		if n := fails.Load(); n != 0 {
			t.Errorf("ObjectName %q: accessors disagree", name)
		}
	}
	// Without the middleware, From returns nil.
	app := fiber.New()
	var isNil atomic.Bool
	app.Get("/", func(c *fiber.Ctx) error {
		isNil.Store(sessfiber.From(c) == nil)
		return nil
	})
	do(t, app, "GET", "/")
	if !isNil.Load() {
		t.Error("From without middleware: got a session, want nil")
	}
}

// TestStringsOutliveRequest is security.md #71: strings the session hands
// out must not alias fasthttp's reused request buffers.
func TestStringsOutliveRequest(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m)
	addRoutes(app)
	type stash struct {
		s      *sess.Session
		id     string
		user   string
		wantID string
	}
	var (
		mu      sync.Mutex
		stashed []stash
	)
	app.Get("/stash", func(c *fiber.Ctx) error {
		s := sessfiber.From(c)
		u, _ := sess.Get[string](s, "user")
		mu.Lock()
		stashed = append(stashed, stash{s: s, id: s.ID(), user: u, wantID: strings.Clone(c.Query("want"))})
		mu.Unlock()
		return c.SendString("ok")
	})

	const users = 20
	cookies := make([]string, users)
	for i := range cookies {
		cookies[i] = login(t, app, m, fmt.Sprintf("user%03d", i))
		do(t, app, "GET", "/stash?want="+idOf(cookies[i]), cookies[i])
	}
	// Many later requests with other cookies of the same length, in
	// parallel, reuse the buffers the stashed strings came from.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 500 {
				c := cookies[(i+w)%users]
				r := httptest.NewRequest("GET", "/whoami", nil)
				r.Header.Set("Cookie", "pad=zzzzzzzz; "+c)
				resp, err := app.Test(r, -1)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	for i, st := range stashed {
		if st.id != st.wantID {
			t.Errorf("stashed ID %d changed: %q, want %q", i, st.id, st.wantID)
		}
		if want := fmt.Sprintf("user%03d", i); st.user != want {
			t.Errorf("stashed user %d = %q, want %q", i, st.user, want)
		}
	}
}

// TestAppCookiesNotFolded checks that the session's Set-Cookie stays a
// line of its own next to the application's cookies set with c.Cookie.
func TestAppCookiesNotFolded(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m)
	app.Get("/", func(c *fiber.Ctx) error {
		c.Cookie(&fiber.Cookie{Name: "a", Value: "1", Path: "/"})
		sessfiber.From(c).Set("k", "v")
		c.Cookie(&fiber.Cookie{Name: "b", Value: "2", Path: "/"})
		return c.SendString("ok")
	})
	resp := do(t, app, "GET", "/")
	lines := resp.Header.Values("Set-Cookie")
	if len(lines) != 3 {
		t.Fatalf("Set-Cookie = %q, want 3 lines", lines)
	}
	names := map[string]bool{}
	for _, l := range lines {
		c, err := http.ParseSetCookie(l)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", l, err)
		}
		if strings.Contains(c.Value, ",") || strings.Contains(c.Raw, ", ") {
			t.Errorf("folded Set-Cookie line %q", l)
		}
		names[c.Name] = true
	}
	if !names["a"] || !names["b"] || !names[m.CookieName()] {
		t.Errorf("Set-Cookie names = %v, want a, b and %s", names, m.CookieName())
	}
}

func TestStreamCarriesCookie(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m)
	addRoutes(app)
	app.Get("/stream", func(c *fiber.Ctx) error {
		sessfiber.From(c).Set("user", "streamer")
		c.Status(http.StatusAccepted)
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			for i := range 3 {
				fmt.Fprintf(w, "chunk%d;", i)
				if err := w.Flush(); err != nil {
					return
				}
			}
		})
		return nil
	})
	resp := do(t, app, "GET", "/stream")
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("status = %d, want 202", resp.StatusCode)
	}
	if got := body(t, resp); got != "chunk0;chunk1;chunk2;" {
		t.Errorf("body = %q", got)
	}
	c := sessionCookie(t, m, resp)
	if c == "" {
		t.Fatal("streamed response carries no session cookie")
	}
	if got := body(t, do(t, app, "GET", "/whoami", c)); got != "user=streamer" {
		t.Errorf("after stream: %q, want user=streamer", got)
	}
}

func TestReturnedErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantSaved  bool
	}{
		{"fiber 400", fiber.NewError(http.StatusBadRequest, "bad input"), 400, true},
		{"fiber 404", fiber.ErrNotFound, 404, true},
		{"wrapped fiber 409", fmt.Errorf("handler: %w", fiber.NewError(http.StatusConflict, "conflict")), 409, true},
		{"fiber 503", fiber.NewError(http.StatusServiceUnavailable, "later"), 503, false},
		{"plain error", errors.New("boom"), 500, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, sess.Config{})
			app := newApp(m)
			addRoutes(app)
			app.Get("/fail", func(c *fiber.Ctx) error {
				sessfiber.From(c).Set("user", "mallory")
				return tt.err
			})
			resp := do(t, app, "GET", "/fail")
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			// The app's error handler rendered the error.
			if got, want := body(t, resp), tt.err.Error(); got != want {
				t.Errorf("body = %q, want %q", got, want)
			}
			c := sessionCookie(t, m, resp)
			if saved := c != ""; saved != tt.wantSaved {
				t.Fatalf("session cookie present = %v, want %v", saved, tt.wantSaved)
			}
			if tt.wantSaved {
				if got := body(t, do(t, app, "GET", "/whoami", c)); got != "user=mallory" {
					t.Errorf("after error: %q, want user=mallory", got)
				}
			} else if n := m.Store().(*sess.MemoryStore).Len(); n != 0 {
				t.Errorf("store holds %d records after a 5xx, want 0", n)
			}
		})
	}
}

// TestOversizedCookieHeader is security.md #13 on fiber: fasthttp answers
// 431 before the middleware runs; never a 500.
func TestOversizedCookieHeader(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m, fiber.Config{DisableStartupMessage: true})
	addRoutes(app)
	url := serve(t, app)

	cookie := login(t, app, m, "alice")
	for _, size := range []int{3000, 5000, 64 << 10} {
		req, _ := http.NewRequest("GET", url+"/whoami", nil)
		req.Header.Set("Cookie", "pad="+strings.Repeat("p", size)+"; "+cookie)
		resp, err := http.DefaultClient.Do(req)
		if err != nil && size > 4096 {
			// fasthttp answered 431 and closed the connection while the
			// client was still sending: the client may see a reset instead.
			t.Logf("size %d: %v", size, err)
			continue
		}
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		got := body(t, resp)
		resp.Body.Close()
		switch {
		case size < 4000:
			if resp.StatusCode != http.StatusOK || got != "user=alice" {
				t.Errorf("size %d: %d %q, want 200 user=alice", size, resp.StatusCode, got)
			}
		case resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge:
			t.Errorf("size %d: status %d, want 431", size, resp.StatusCode)
		}
	}
}

// serve runs app on a loopback listener and returns its base URL.
func serve(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = app.Listener(ln)
	}()
	t.Cleanup(func() {
		_ = app.Shutdown()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// TestPreforkMemoryStoreRefused is security.md #72.
func TestPreforkMemoryStoreRefused(t *testing.T) {
	logs := &syncBuffer{}
	m := newManager(t, sess.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	mw := sessfiber.Middleware(m)
	app := fiber.New(fiber.Config{Prefork: true})
	app.Use(mw)
	var ran atomic.Int64
	app.Get("/", func(c *fiber.Ctx) error {
		ran.Add(1)
		return c.SendString("ok")
	})
	for range 3 {
		resp := do(t, app, "GET", "/")
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("status = %d, want 500", resp.StatusCode)
		}
		if got := body(t, resp); got != "Internal Server Error\n" {
			t.Errorf("body = %q, want the generic error body", got)
		}
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("Set-Cookie = %q, want none", got)
		}
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("handler ran %d times, want 0", n)
	}
	out := logs.String()
	if n := strings.Count(out, "Prefork is enabled"); n != 1 {
		t.Errorf("logged the Prefork misconfiguration %d times, want exactly once:\n%s", n, out)
	}
	if !strings.Contains(out, "Prefork") {
		t.Errorf("log does not mention Prefork:\n%s", out)
	}

	// A custom ErrorHandler sees the sentinel.
	m2 := newManager(t, sess.Config{ErrorHandler: func(_ context.Context, err error) sess.ErrorResponse {
		if errors.Is(err, sessfiber.ErrPreforkMemoryStore) {
			return sess.ErrorResponse{Status: 500, ContentType: "text/plain", Body: "misconfigured"}
		}
		return sess.DefaultErrorHandler(context.Background(), err)
	}})
	if got := body(t, do(t, newApp(m2, fiber.Config{Prefork: true}), "GET", "/")); got != "misconfigured" {
		t.Errorf("custom ErrorHandler body = %q, want misconfigured", got)
	}

	// A shared (non-memory) store is fine with Prefork, and the same
	// middleware still serves an app without Prefork.
	m3 := newManager(t, sess.Config{Store: sharedStore{newFlakyStore(t)}})
	app3 := newApp(m3, fiber.Config{Prefork: true})
	addRoutes(app3)
	login(t, app3, m3, "bob")
	app4 := fiber.New()
	app4.Use(mw)
	addRoutes(app4)
	c := login(t, app4, m, "carol")
	if got := body(t, do(t, app4, "GET", "/whoami", c)); got != "user=carol" {
		t.Errorf("non-prefork app: %q, want user=carol", got)
	}
	if resp := do(t, app, "GET", "/"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("prefork app after the other: status %d, want 500", resp.StatusCode)
	}
}

func TestStoreFailureOnLoad(t *testing.T) {
	store := newFlakyStore(t)
	m := newManager(t, sess.Config{Store: store})
	app := newApp(m)
	addRoutes(app)
	var ran atomic.Int64
	app.Get("/count", func(c *fiber.Ctx) error {
		ran.Add(1)
		return c.SendString("ran")
	})
	c := login(t, app, m, "alice")

	store.failGet.Store(true)
	resp := do(t, app, "GET", "/count", c)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", resp.StatusCode)
	}
	if got := body(t, resp); strings.Contains(got, "secret-host") || got != "Service Unavailable\n" {
		t.Errorf("body = %q, want the generic 503 body", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie = %q, want none", got)
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("handler ran %d times, want 0", n)
	}

	store.failGet.Store(false)
	if got := body(t, do(t, app, "GET", "/whoami", c)); got != "user=alice" {
		t.Errorf("after recovery: %q, want user=alice", got)
	}
}

func TestStoreFailureOnCommit(t *testing.T) {
	logs := &syncBuffer{}
	store := newFlakyStore(t)
	m := newManager(t, sess.Config{Store: store, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	app := newApp(m, fiber.Config{ServerHeader: "test-server"})
	app.Get("/string", func(c *fiber.Ctx) error {
		sessfiber.From(c).Set("k", "v")
		c.Cookie(&fiber.Cookie{Name: "app", Value: "1"})
		c.Set("X-Handler", "yes")
		return c.Status(http.StatusCreated).SendString("handler body")
	})
	app.Get("/stream", func(c *fiber.Ctx) error {
		sessfiber.From(c).Set("k", "v")
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			for range 100 {
				if _, err := w.WriteString("handler body"); err != nil {
					return
				}
				if err := w.Flush(); err != nil {
					return
				}
			}
		})
		return nil
	})
	app.Get("/error", func(c *fiber.Ctx) error {
		sessfiber.From(c).Set("k", "v")
		return fiber.NewError(http.StatusTeapot, "handler error")
	})

	store.failCAS.Store(true)
	for _, path := range []string{"/string", "/stream", "/error"} {
		resp := do(t, app, "GET", path)
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status = %d, want 503", path, resp.StatusCode)
		}
		if got := body(t, resp); got != "Service Unavailable\n" {
			t.Errorf("%s: body = %q, want the generic 503 body", path, got)
		}
		if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
			t.Errorf("%s: Set-Cookie = %q, want none", path, got)
		}
		if got := resp.Header.Get("X-Handler"); got != "" {
			t.Errorf("%s: handler header survived: %q", path, got)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", path, got)
		}
		if got := resp.Header.Get("Server"); got != "test-server" {
			t.Errorf("%s: Server = %q, want test-server", path, got)
		}
	}
	if n := strings.Count(logs.String(), "session handling failed"); n != 3 {
		t.Errorf("logged %d commit failures, want 3:\n%s", n, logs.String())
	}
	if n := store.Len(); n != 0 {
		t.Errorf("store holds %d records, want 0", n)
	}
}

// TestLogoutDeleteFailure is security.md #56: a failed logout is not
// reported as success.
func TestLogoutDeleteFailure(t *testing.T) {
	store := newFlakyStore(t)
	m := newManager(t, sess.Config{Store: store})
	app := newApp(m)
	addRoutes(app)
	app.Post("/logout", func(c *fiber.Ctx) error {
		sessfiber.From(c).Destroy()
		return c.SendString("bye")
	})
	c := login(t, app, m, "alice")
	store.failDelete.Store(true)
	resp := do(t, app, "POST", "/logout", c)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", resp.StatusCode)
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie = %q, want none", got)
	}
	store.failDelete.Store(false)
	resp = do(t, app, "POST", "/logout", c)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("retry: status = %d, want 200", resp.StatusCode)
	}
	if got := body(t, do(t, app, "GET", "/whoami", c)); got != "user=" {
		t.Errorf("after logout: %q, want user=", got)
	}
}

func TestSkipHeader(t *testing.T) {
	store := newFlakyStore(t)
	m := newManager(t, sess.Config{Store: store, SkipHeaders: []sess.SkipHeader{{Name: "X-Health-Check"}}})
	app := newApp(m)
	addRoutes(app)
	var bag atomic.Value
	app.Get("/probe", func(c *fiber.Ctx) error {
		bag.Store(c.Locals(m.ObjectName()) == nil && sessfiber.From(c) == nil)
		return c.SendString("ok")
	})
	c := login(t, app, m, "alice")
	before := store.gets.Load()

	r := httptest.NewRequest("GET", "/probe", nil)
	r.Header.Set("x-health-check", "1")
	r.Header.Set("Cookie", c)
	resp := roundTrip(t, app, r)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if ok, _ := bag.Load().(bool); !ok {
		t.Error("skipped request: handler saw a session")
	}
	if got := resp.Header.Values("Set-Cookie"); len(got) != 0 {
		t.Errorf("Set-Cookie = %q, want none", got)
	}
	if n := store.gets.Load() - before; n != 0 {
		t.Errorf("store read %d times, want 0", n)
	}
	// Store failures do not affect skipped requests.
	store.failGet.Store(true)
	r = httptest.NewRequest("GET", "/whoami", nil)
	r.Header.Set("X-Health-Check", "yes")
	r.Header.Set("Cookie", c)
	if got := body(t, roundTrip(t, app, r)); got != "no session" {
		t.Errorf("skipped request body = %q, want no session", got)
	}
}

// TestRawCookieHeader checks that the session is read from the Cookie lines
// as the client sent them, even after an earlier middleware made fasthttp
// parse the cookies (fasthttp then serves a re-serialisation that turns
// "=sid=<v>" into "sid=<v>").
func TestRawCookieHeader(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := fiber.New()
	app.Use(func(c *fiber.Ctx) error {
		_ = c.Cookies("other") // makes fasthttp collect the cookies
		return c.Next()
	})
	app.Use(sessfiber.Middleware(m))
	addRoutes(app)
	c := login(t, app, m, "alice")
	v := c[len(m.CookieName())+1:]

	tests := []struct {
		name    string
		cookies []string
		want    string
	}{
		{"plain", []string{c}, "user=alice"},
		{"second line", []string{"a=1", "b=2; " + c}, "user=alice"},
		{"quoted", []string{m.CookieName() + `="` + v + `"`}, "user=alice"},
		{"empty name", []string{"=" + c}, "user="},
		{"doubly quoted", []string{m.CookieName() + `=""` + v + `""`}, "user="},
		{"garbage then valid", []string{m.CookieName() + "=junk; " + c}, "user=alice"},
		{"percent-encoded", []string{m.CookieName() + "=" + strings.ReplaceAll(v, ".", "%2E")}, "user="},
		{"no equals", []string{m.CookieName()}, "user="},
		{"empty value", []string{m.CookieName() + "="}, "user="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, app, "GET", "/whoami", tt.cookies...)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status = %d, want 200", resp.StatusCode)
			}
			if got := body(t, resp); got != tt.want {
				t.Errorf("body = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRawHeaderShapes sends header blocks app.Test cannot produce, over a
// real connection: odd name case, folded lines, bare LF line endings.
func TestRawHeaderShapes(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m, fiber.Config{DisableStartupMessage: true})
	addRoutes(app)
	addr := strings.TrimPrefix(serve(t, app), "http://")
	c := login(t, app, m, "alice")

	tests := []struct {
		name, header, want string
	}{
		{"lower case", "cookie: " + c + "\r\n", "user=alice"},
		{"odd case", "cOOKiE:" + c + "  \r\n", "user=alice"},
		{"folded", "Cookie: a=1;\r\n " + c + "\r\n", "user=alice"},
		{"folded tab", "Cookie: a=1;\r\n\t" + c + "\r\n", "user=alice"},
		{"folded into value", "Cookie: a=1\r\n " + c + "\r\n", "user="},
		{"bare LF", "Cookie: " + c + "\n", "user=alice"},
		{"other header folded", "X-Other: a\r\n Cookie: " + c + "\r\n", "user="},
		{"name with space", "Cookie : " + c + "\r\n", "user="},
		{"kelvin sign", "Coo\u212aie: " + c + "\r\n", "user="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := rawRequest(t, addr, "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+tt.header+"\r\n")
			if status == http.StatusInternalServerError {
				t.Fatalf("status 500")
			}
			if status == http.StatusOK && got != tt.want {
				t.Errorf("body = %q, want %q", got, tt.want)
			}
			if status != http.StatusOK && tt.want == "user=alice" {
				t.Errorf("status = %d, want 200", status)
			}
		})
	}
}

// rawRequest writes req to addr and returns the response status and body.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, body(t, resp)
}

// TestHostileCookies is security.md #14-#22 and #74 through fiber: never a
// 500, never a panic, never a session for anything but the exact cookie.
func TestHostileCookies(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m)
	addRoutes(app)
	c := login(t, app, m, "alice")
	v := c[len(m.CookieName())+1:]
	n := m.CookieName()
	hostile := []string{
		n + "=" + strings.Repeat("A", 8<<10),
		n + "=" + v + "\x7f",
		n + "=" + v + "\\",
		n + "=\"" + v,
		n + "=" + strings.ToUpper(v),
		n + "=" + v[:len(v)-1],
		n + "=" + v + "=",
		n + "=../../etc/passwd",
		n + "=\x00" + v,
		strings.ToUpper(n) + "=" + v,
		strings.Repeat("a=;", 3001),
		n + "=test-session-id",
		";;;;====;;;",
		"\xff\xfe=\xff",
	}
	// The same value in the standard base64 alphabet, if it differs.
	if std := strings.NewReplacer("-", "+", "_", "/").Replace(v); std != v {
		hostile = append(hostile, n+"="+std)
	}
	for i, h := range hostile {
		r := httptest.NewRequest("GET", "/whoami", nil)
		r.Header.Set("Cookie", h)
		resp, err := app.Test(r, -1)
		if err != nil {
			continue // rejected by fasthttp before any middleware
		}
		t.Cleanup(func() { resp.Body.Close() })
		if resp.StatusCode >= 500 {
			t.Errorf("case %d: status %d", i, resp.StatusCode)
		}
		if got := body(t, resp); got == "user=alice" {
			t.Errorf("case %d %.40q: adopted the session", i, h)
		}
	}
}

// TestSessionOutlivesRequest: a session handle kept past its request must
// not reach the pooled fasthttp context that served it, which fasthttp
// reuses for later requests. It drives fiber's fasthttp handler directly to
// observe that context.
func TestSessionOutlivesRequest(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := fiber.New()
	app.Use(func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = c.SendStatus(http.StatusTeapot)
			}
		}()
		return c.Next()
	})
	app.Use(sessfiber.Middleware(m))
	var kept atomic.Pointer[sess.Session]
	app.Get("/panic", func(c *fiber.Ctx) error {
		s := sessfiber.From(c)
		s.Set("k", "v")
		kept.Store(s)
		panic("handler bug")
	})
	handler := app.Handler()

	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI("/panic")
	handler(&fctx)
	if got := fctx.Response.StatusCode(); got != http.StatusTeapot {
		t.Fatalf("status = %d, want 418", got)
	}
	if got := fctx.Response.Header.Peek("Set-Cookie"); len(got) != 0 {
		t.Errorf("panicking request: Set-Cookie = %q, want none", got)
	}

	// fasthttp reuses the context for the next request; the stale handle
	// then commits (its first commit, as the panic skipped it).
	fctx.Response.Reset()
	if err := m.Commit(context.Background(), kept.Load(), http.StatusOK); err != nil {
		t.Fatal(err)
	}
	if got := fctx.Response.Header.Peek("Set-Cookie"); len(got) != 0 {
		t.Errorf("stale session wrote into a reused context: Set-Cookie = %q", got)
	}
}

// TestInMemoryRequest covers requests that fasthttp did not read from a
// connection (no raw header block), as built by tests and benchmarks that
// call fiber's handler directly.
func TestInMemoryRequest(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m)
	addRoutes(app)
	c := login(t, app, m, "alice")
	handler := app.Handler()

	var fctx fasthttp.RequestCtx
	fctx.Request.SetRequestURI("/whoami")
	fctx.Request.Header.Add("Cookie", "a=1")
	fctx.Request.Header.Add("Cookie", c)
	handler(&fctx)
	if got := string(fctx.Response.Body()); got != "user=alice" {
		t.Errorf("body = %q, want user=alice", got)
	}
}

// TestConcurrentClients checks that parallel clients keep their own
// sessions (aliasing across pooled contexts would mix them).
func TestConcurrentClients(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := newApp(m)
	addRoutes(app)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("user%d", w)
			r := httptest.NewRequest("POST", "/login?user="+name, nil)
			resp, err := app.Test(r, -1)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			c := ""
			for _, l := range resp.Header.Values("Set-Cookie") {
				if ck, err := http.ParseSetCookie(l); err == nil && ck.Name == m.CookieName() {
					c = ck.Name + "=" + ck.Value
				}
			}
			for range 50 {
				r := httptest.NewRequest("GET", "/whoami", nil)
				r.Header.Set("Cookie", c)
				resp, err := app.Test(r, -1)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != "user="+name {
					t.Errorf("client %s got %q", name, b)
					return
				}
			}
		})
	}
	wg.Wait()
}

// FuzzCookieHeader is security.md #74: random Cookie headers through fiber
// never cause a 500 or a panic, and load a session only for its exact cookie.
func FuzzCookieHeader(f *testing.F) {
	m, err := sess.New(sess.Config{Secret: testSecret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	app := newApp(m)
	addRoutes(app)
	resp, err := app.Test(httptest.NewRequest("POST", "/login?user=alice", nil), -1)
	if err != nil {
		f.Fatal(err)
	}
	resp.Body.Close()
	var valid string
	for _, l := range resp.Header.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(l); err == nil {
			valid = ck.Value
		}
	}
	for _, s := range []string{"", "sid=" + valid, "sid=\"" + valid + "\"", "a=1; sid=x", "sid=" + valid + "; sid=" + valid, ";="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		r := httptest.NewRequest("GET", "/whoami", nil)
		r.Header.Set("Cookie", header)
		resp, err := app.Test(r, -1)
		if err != nil {
			return // rejected by fasthttp or net/http before the middleware
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("status %d for %q", resp.StatusCode, header)
		}
		b, _ := io.ReadAll(resp.Body)
		if string(b) == "user=alice" && !strings.Contains(header, valid) {
			t.Fatalf("session loaded from %q", header)
		}
	})
}

// TestEncryptCookie checks the documented way to combine the middleware
// with fiber's encryptcookie: the session cookie, already signed, is listed
// in Except. (Without it, encryptcookie encrypts the Set-Cookie value and
// the next request's raw Cookie header carries the ciphertext, which never
// verifies: every request starts a new session.)
func TestEncryptCookie(t *testing.T) {
	for _, except := range []bool{true, false} {
		m := newManager(t, sess.Config{})
		app := fiber.New()
		cfg := encryptcookie.Config{Key: encryptcookie.GenerateKey()}
		if except {
			cfg.Except = []string{m.CookieName()}
		}
		app.Use(encryptcookie.New(cfg), sessfiber.Middleware(m))
		addRoutes(app)
		c := login(t, app, m, "alice")
		resp := do(t, app, "GET", "/whoami", c)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("except=%v: status %d", except, resp.StatusCode)
		}
		want := "user="
		if except {
			want = "user=alice"
		}
		if got := body(t, resp); got != want {
			t.Errorf("except=%v: body = %q, want %q", except, got, want)
		}
	}
}
