package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// defaultDSN is the PostgreSQL the tests use unless SESS_POSTGRES_DSN says
// otherwise: the local server, trust authentication.
const defaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// needsPostgresMsg starts every skip message, so a CI log can be searched
// for tests that did not run.
const needsPostgresMsg = "needs PostgreSQL"

var testSecret = []byte("postgres store tests secret, at least 32 bytes")

// dsn is the database the tests use: SESS_POSTGRES_DSN or defaultDSN.
func dsn() string {
	if d := os.Getenv("SESS_POSTGRES_DSN"); d != "" {
		return d
	}
	return defaultDSN
}

var (
	pingOnce sync.Once
	pingErr  error
)

// requirePostgres skips the test when no PostgreSQL answers at dsn(), or
// fails it when SESS_REQUIRE_POSTGRES=1 (CI), so that a missing server
// never passes silently there.
func requirePostgres(t testing.TB) {
	t.Helper()
	pingOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn())
		if err != nil {
			pingErr = err
			return
		}
		defer c.Close(context.Background())
		pingErr = c.Ping(ctx)
	})
	if pingErr == nil {
		return
	}
	msg := fmt.Sprintf("%s: no PostgreSQL at %s (set SESS_POSTGRES_DSN, or start one: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)", needsPostgresMsg, redact(dsn()))
	if os.Getenv("SESS_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("%s: %v; SESS_REQUIRE_POSTGRES=1 forbids skipping", msg, pingErr)
	}
	t.Skip(msg)
}

// redact drops a password from a DSN for messages.
func redact(d string) string {
	cfg, err := pgx.ParseConfig(d)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("host=%s port=%d user=%s database=%s", cfg.Host, cfg.Port, cfg.User, cfg.Database)
}

// newPool returns a pool on d (default dsn()), closed when t ends. tweak,
// if not nil, adjusts the configuration first.
func newPool(t testing.TB, d string, tweak func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	if d == "" {
		d = dsn()
	}
	cfg, err := pgxpool.ParseConfig(d)
	if err != nil {
		t.Fatalf("parsing DSN: %v", err)
	}
	if tweak != nil {
		tweak(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("pgxpool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// testTable returns a table name no other test uses, and drops the table
// when t ends (after the stores using it are closed: cleanups run last in,
// first out).
func testTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	table := "sess_test_" + randomHex(6)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+quote(table)); err != nil {
			t.Errorf("cleanup: dropping %s: %v", table, err)
		}
	})
	return table
}

// newTestStore returns a migrated Store on pool in a fresh table, closed
// when t ends. cfg.Table is overwritten unless set.
func newTestStore(t testing.TB, pool *pgxpool.Pool, cfg Config) *Store {
	t.Helper()
	if cfg.Table == "" {
		cfg.Table = testTable(t, pool)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := New(pool, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st
}

// mountHTTP is the net/http mount for the adapter conformance suite.
var mountHTTP = conformance.HTTPMount(sesshttp.Middleware, sesshttp.From)

// newManager returns a Manager on st that logs nothing, with the given
// StoreTimeout (0: the default).
func newManager(t testing.TB, st sess.Store, timeout time.Duration) *sess.Manager {
	t.Helper()
	m, err := sess.New(sess.Config{Secret: testSecret, Store: st, StoreTimeout: timeout, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("sess.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// app serves a few routes over the session, behind the net/http adapter:
// /set?k=&v= sets a string, /get?k= returns it, /keys lists the keys
// (sorted), /destroy ends the session, /none leaves the session alone,
// /login?u= binds the session to principal u (SetPrincipal; u empty
// unbinds it), and with renew=1 renews its ID too, as a real login does.
// calls, if not nil, counts handler runs.
func app(m *sess.Manager, calls *counter) http.Handler {
	mux := http.NewServeMux()
	count := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if calls != nil {
				calls.add()
			}
			h(w, r)
		}
	}
	mux.HandleFunc("/set", count(func(w http.ResponseWriter, r *http.Request) {
		sesshttp.From(r).Set(r.URL.Query().Get("k"), r.URL.Query().Get("v"))
		_, _ = io.WriteString(w, "ok")
	}))
	mux.HandleFunc("/get", count(func(w http.ResponseWriter, r *http.Request) {
		v, _ := sess.Get[string](sesshttp.From(r), r.URL.Query().Get("k"))
		_, _ = io.WriteString(w, v)
	}))
	mux.HandleFunc("/keys", count(func(w http.ResponseWriter, r *http.Request) {
		keys := sesshttp.From(r).Keys()
		slices.Sort(keys)
		_, _ = io.WriteString(w, strings.Join(keys, ","))
	}))
	mux.HandleFunc("/destroy", count(func(w http.ResponseWriter, r *http.Request) {
		sesshttp.From(r).Destroy()
		_, _ = io.WriteString(w, "bye")
	}))
	mux.HandleFunc("/login", count(func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		if err := s.SetPrincipal(r.URL.Query().Get("u")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if r.URL.Query().Get("renew") == "1" {
			s.Renew()
		}
		_, _ = io.WriteString(w, "ok")
	}))
	mux.HandleFunc("/none", count(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "none")
	}))
	return sesshttp.Middleware(m)(mux)
}

// counter is a goroutine-safe count that take resets.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
}

func (c *counter) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = 0
	return n
}

type response struct {
	status  int
	body    string
	cookies []string
}

// doGet sends GET path with the given Cookie header (if any) through c.
func doGet(c *http.Client, srv *httptest.Server, path, cookie string) (response, error) {
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		return response{}, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, body: string(b), cookies: resp.Header.Values("Set-Cookie")}, nil
}

// get is doGet through the server's own client, failing t on a transport
// error.
func get(t testing.TB, srv *httptest.Server, path, cookie string) response {
	t.Helper()
	r, err := doGet(srv.Client(), srv, path, cookie)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return r
}

// sessionCookie returns the "sid=<value>" pair of the one Set-Cookie line.
func sessionCookie(t testing.TB, r response) string {
	t.Helper()
	if len(r.cookies) != 1 {
		t.Fatalf("Set-Cookie = %q (status %d), want one session cookie", r.cookies, r.status)
	}
	pair, _, _ := strings.Cut(r.cookies[0], ";")
	if !strings.HasPrefix(pair, sess.DefaultCookieName+"=") {
		t.Fatalf("Set-Cookie %q is not the session cookie", r.cookies[0])
	}
	return pair
}

// idOf returns the session ID inside a "sid=<id>.<mac>" cookie pair.
func idOf(cookie string) string {
	v := strings.TrimPrefix(cookie, sess.DefaultCookieName+"=")
	return v[:strings.LastIndexByte(v, '.')]
}
