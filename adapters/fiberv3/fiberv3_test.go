package sessfiberv3_test

// The conformance suite covers the session lifecycle; these tests cover
// what is particular to fiber v3 over fasthttp: raw header shapes only a
// real connection produces, prefork child processes, and fiber's own
// encryptcookie and csrf middleware.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/csrf"
	"github.com/gofiber/fiber/v3/middleware/encryptcookie"

	sessfiberv3 "github.com/gosess/sess/adapters/fiberv3"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/core/sesstest"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

func newManager(t *testing.T, cfg sess.Config) *sess.Manager {
	t.Helper()
	cfg.Secret = secret
	cfg.DisableSecure = true // plain-HTTP test servers
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// addRoutes adds POST /login?user=name, which stores the user under a new
// ID, and GET /whoami, which answers "user=<name>".
func addRoutes(app *fiber.App) {
	app.Post("/login", func(c fiber.Ctx) error {
		s := sessfiberv3.From(c)
		s.Renew()
		s.Set("user", strings.Clone(c.Query("user")))
		return c.SendString("ok")
	})
	app.Get("/whoami", func(c fiber.Ctx) error {
		u, _ := sess.Get[string](sessfiberv3.From(c), "user")
		return c.SendString("user=" + u)
	})
}

// serve runs app on a loopback port until the test ends and returns its
// address.
func serve(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true})
	}()
	t.Cleanup(func() {
		_ = app.Shutdown()
		<-done
	})
	return ln.Addr().String()
}

// client returns an HTTP client with a cookie jar.
func client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

type reply struct {
	status int
	body   string
	header http.Header
}

func send(t *testing.T, hc *http.Client, method, url string, hdr ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return reply{resp.StatusCode, string(b), resp.Header}
}

// sessionLine returns the response's session Set-Cookie line, failing the
// test unless there is exactly one.
func sessionLine(t *testing.T, r reply) string {
	t.Helper()
	var lines []string
	for _, l := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(l, "sid=") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("session Set-Cookie lines = %q, want one", lines)
	}
	return lines[0]
}

// TestRawHeaderShapes sends header blocks app.Test cannot produce over a
// real connection, to an app whose first middleware reads the cookies
// through fiber (after which fasthttp re-serialises the Cookie header): the
// session comes from the raw header lines, read as net/http reads them.
func TestRawHeaderShapes(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := fiber.New()
	app.Use(func(c fiber.Ctx) error {
		_ = c.Cookies(m.CookieName()) // makes fasthttp parse the cookies
		return c.Next()
	}, sessfiberv3.Middleware(m))
	addRoutes(app)
	addr := serve(t, app)
	login := send(t, client(), http.MethodPost, "http://"+addr+"/login?user=alice")
	c, _, _ := strings.Cut(sessionLine(t, login), ";")

	tests := []struct {
		name, header, want string
		mayRefuse          bool // the parser may reject the request
	}{
		{"lower case", "cookie: " + c + "\r\n", "user=alice", false},
		{"odd case", "cOOKiE:" + c + "  \r\n", "user=alice", false},
		{"two lines", "Cookie: a=1\r\nCookie: " + c + "\r\n", "user=alice", false},
		{"folded", "Cookie: a=1;\r\n " + c + "\r\n", "user=alice", false},
		{"folded tab", "Cookie: a=1;\r\n\t" + c + "\r\n", "user=alice", false},
		{"folded into value", "Cookie: a=1\r\n " + c + "\r\n", "user=", true},
		{"nameless", "Cookie: =" + c + "\r\n", "user=", true},
		{"bare LF", "Cookie: " + c + "\n", "user=alice", true},
		{"other header folded", "X-Other: a\r\n Cookie: " + c + "\r\n", "user=", true},
		{"name with space", "Cookie : " + c + "\r\n", "user=", true},
		{"kelvin sign", "Coo\u212aie: " + c + "\r\n", "user=", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := rawRequest(t, addr, "GET /whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"+tt.header+"\r\n")
			switch {
			case status >= 500:
				t.Fatalf("status %d", status)
			case status == http.StatusOK && got != tt.want:
				t.Errorf("body = %q, want %q", got, tt.want)
			case status != http.StatusOK && !tt.mayRefuse:
				t.Errorf("status = %d, want 200", status)
			}
		})
	}
}

// rawRequest writes req to addr, closes the sending side (a server still
// waiting for the end of the header block then sees EOF), and returns the
// response status and body, or status 0 if the server closed the
// connection without answering.
func rawRequest(t *testing.T, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A guard against a server that never answers, not a timing assertion.
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, ""
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// sharedStore is the in-memory store posing as a shared one.
type sharedStore struct{ *sess.MemoryStore }

func (sharedStore) ProcessLocal() bool { return false }

// preforkAddrEnv passes the address to the prefork child process.
const preforkAddrEnv = "SESSFIBERV3_TEST_PREFORK_ADDR"

// TestPreforkChild runs this test binary as a fiber prefork child (the
// environment fiber's prefork gives its children, and app.Listen with
// EnablePrefork), serving /local with the in-memory store and /shared with
// a shared one: the first is refused with the generic 500 and one log line,
// the second serves sessions.
func TestPreforkChild(t *testing.T) {
	if addr := os.Getenv(preforkAddrEnv); addr != "" {
		preforkChild(addr) // never returns
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var stderr sesstest.Logs
	cmd := exec.Command(os.Args[0], "-test.run=^TestPreforkChild$")
	cmd.Env = append(os.Environ(), "FIBER_PREFORK_CHILD=1", preforkAddrEnv+"="+addr)
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	hc := client()
	base := "http://" + addr
	for i := 0; ; i++ { // wait until the child listens
		resp, err := hc.Get(base + "/shared/whoami")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i == 300 {
			t.Fatalf("the prefork child does not answer: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 3 {
		r := send(t, hc, http.MethodPost, base+"/local/login?user=alice")
		if r.status != http.StatusInternalServerError || r.body != "Internal Server Error\n" || r.header.Get("Set-Cookie") != "" {
			t.Errorf("in-memory store in a prefork child: %d %q, Set-Cookie %q; want the generic 500 without a cookie", r.status, r.body, r.header.Get("Set-Cookie"))
		}
	}
	sessionLine(t, send(t, hc, http.MethodPost, base+"/shared/login?user=bob"))
	if r := send(t, hc, http.MethodGet, base+"/shared/whoami"); r.body != "user=bob" {
		t.Errorf("shared store in a prefork child: %q, want user=bob", r.body)
	}
	if n := strings.Count(stderr.String(), "sessfiberv3: refusing requests"); n != 1 {
		t.Errorf("the child logged the refusal %d times, want once:\n%s", n, stderr.String())
	}
}

// preforkChild serves the prefork test's app on addr and exits.
func preforkChild(addr string) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app := fiber.New()
	for _, g := range []struct {
		prefix string
		store  sess.Store
	}{
		{"/local", sess.NewMemoryStore(sess.MemoryConfig{})},
		{"/shared", sharedStore{sess.NewMemoryStore(sess.MemoryConfig{})}},
	} {
		m, err := sess.New(sess.Config{Secret: secret, Store: g.store, DisableSecure: true, Logger: logger})
		if err != nil {
			panic(err)
		}
		grp := app.Group(g.prefix, sessfiberv3.Middleware(m))
		grp.Post("/login", func(c fiber.Ctx) error {
			sessfiberv3.From(c).Set("user", strings.Clone(c.Query("user")))
			return c.SendString("ok")
		})
		grp.Get("/whoami", func(c fiber.Ctx) error {
			u, _ := sess.Get[string](sessfiberv3.From(c), "user")
			return c.SendString("user=" + u)
		})
	}
	err := app.Listen(addr, fiber.ListenConfig{EnablePrefork: true, DisableStartupMessage: true})
	fmt.Fprintln(os.Stderr, "prefork child:", err)
	os.Exit(1)
}

// TestEncryptCookie checks the package documentation's advice on fiber's
// encryptcookie middleware: with the session cookie in Except, sessions
// work and other cookies are still encrypted; without it, encryptcookie in
// front encrypts the session cookie and every request gets a fresh session.
func TestEncryptCookie(t *testing.T) {
	key := encryptcookie.GenerateKey(32)
	for _, tt := range []struct {
		name   string
		except []string
		want   string
	}{
		{"session cookie excepted", []string{"sid"}, "user=alice"},
		{"session cookie encrypted", nil, "user="},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := newManager(t, sess.Config{})
			app := fiber.New()
			app.Use(encryptcookie.New(encryptcookie.Config{Key: key, Except: tt.except}), sessfiberv3.Middleware(m))
			addRoutes(app)
			app.Get("/app-cookie", func(c fiber.Ctx) error {
				c.Cookie(&fiber.Cookie{Name: "pref", Value: "dark"})
				return c.SendString(c.Cookies("pref"))
			})
			base := "http://" + serve(t, app)
			hc := client()
			line := sessionLine(t, send(t, hc, http.MethodPost, base+"/login?user=alice"))
			if r := send(t, hc, http.MethodGet, base+"/whoami"); r.body != tt.want {
				t.Errorf("whoami = %q, want %q (Set-Cookie %q)", r.body, tt.want, line)
			}
			// encryptcookie still does its job for the application's cookies.
			r := send(t, hc, http.MethodGet, base+"/app-cookie")
			if set := r.header.Get("Set-Cookie"); !strings.HasPrefix(set, "pref=") || strings.HasPrefix(set, "pref=dark") {
				t.Errorf("application cookie sent as %q, want it encrypted", set)
			}
			if r := send(t, hc, http.MethodGet, base+"/app-cookie"); r.body != "dark" {
				t.Errorf("application cookie read back as %q, want dark", r.body)
			}
		})
	}
}

// TestCSRF runs fiber's csrf middleware behind the session middleware, as
// the package documentation describes: its cookie and the session's are
// separate Set-Cookie lines, a request it rejects is answered 403 with the
// session intact, and deleting its token at login rotates it.
func TestCSRF(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := fiber.New()
	app.Use(sessfiberv3.Middleware(m), csrf.New())
	app.Get("/form", func(c fiber.Ctx) error {
		s := sessfiberv3.From(c)
		n, _ := sess.Get[int](s, "views")
		s.Set("views", n+1)
		return c.SendString(csrf.TokenFromContext(c))
	})
	app.Post("/login", func(c fiber.Ctx) error {
		if err := csrf.HandlerFromContext(c).DeleteToken(c); err != nil {
			return err
		}
		s := sessfiberv3.From(c)
		s.Renew()
		s.Set("user", "alice")
		return c.SendString("ok")
	})
	app.Get("/whoami", func(c fiber.Ctx) error {
		s := sessfiberv3.From(c)
		u, _ := sess.Get[string](s, "user")
		n, _ := sess.Get[int](s, "views")
		return c.SendString(fmt.Sprintf("user=%s views=%d", u, n))
	})
	base := "http://" + serve(t, app)
	hc := client()

	form := send(t, hc, http.MethodGet, base+"/form")
	sessionLine(t, form)
	token := form.body
	var csrfLines int
	for _, l := range form.header.Values("Set-Cookie") {
		if strings.HasPrefix(l, "csrf_="+token+";") {
			csrfLines++
		}
	}
	if token == "" || csrfLines != 1 {
		t.Fatalf("GET /form: token %q, Set-Cookie %q; want the csrf cookie on its own line", token, form.header.Values("Set-Cookie"))
	}
	if r := send(t, hc, http.MethodPost, base+"/login"); r.status != http.StatusForbidden {
		t.Errorf("POST /login without the token: status %d, want 403", r.status)
	}
	if r := send(t, hc, http.MethodGet, base+"/whoami"); r.body != "user= views=1" {
		t.Errorf("after the rejected login: %q, want user= views=1", r.body)
	}
	login := send(t, hc, http.MethodPost, base+"/login", csrf.HeaderName, token)
	if login.status != http.StatusOK {
		t.Fatalf("POST /login with the token: status %d, want 200", login.status)
	}
	sessionLine(t, login)
	if r := send(t, hc, http.MethodGet, base+"/whoami"); r.body != "user=alice views=1" {
		t.Errorf("after login: %q, want user=alice views=1", r.body)
	}
	if r := send(t, hc, http.MethodPost, base+"/login", csrf.HeaderName, token); r.status != http.StatusForbidden {
		t.Errorf("POST /login with the token deleted at login: status %d, want 403", r.status)
	}
}

// TestOversizedHeader sends a Cookie header larger than fiber's default
// read buffer. fasthttp cannot parse the request, and fiber v3 then runs
// the app's Use middleware, the session middleware included, before its
// error handler: the client gets fiber's 431, and a session that was just
// saved sends no cookie.
func TestOversizedHeader(t *testing.T) {
	m := newManager(t, sess.Config{})
	app := fiber.New()
	var ran atomic.Bool
	app.Use(func(c fiber.Ctx) error {
		ran.Store(true)
		return c.Next()
	}, sessfiberv3.Middleware(m))
	addRoutes(app)
	base := "http://" + serve(t, app)
	hc := client()
	line := sessionLine(t, send(t, hc, http.MethodPost, base+"/login?user=alice"))
	c, _, _ := strings.Cut(line, ";")
	ran.Store(false)
	r := send(t, &http.Client{Timeout: 30 * time.Second}, http.MethodGet, base+"/whoami",
		"Cookie", c+"; pad="+strings.Repeat("x", 8<<10))
	if r.status != http.StatusRequestHeaderFieldsTooLarge || len(r.header.Values("Set-Cookie")) != 0 {
		t.Errorf("oversized Cookie header: %d, Set-Cookie %q; want 431 without a cookie", r.status, r.header.Values("Set-Cookie"))
	}
	if !ran.Load() {
		t.Error("fiber no longer runs Use middleware for unparsable requests: update the package documentation")
	}
}
