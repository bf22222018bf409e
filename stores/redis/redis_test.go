package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
	"github.com/redis/go-redis/v9"
)

var testSecret = []byte("redis store tests secret, at least 32 bytes")

func TestConformanceStore(t *testing.T) {
	requireRedis(t)
	c := newClient(t, nil)
	conformance.RunStore(t, func(t *testing.T) sess.Store { return newTestStore(t, c) })
}

func TestConformanceAdapter(t *testing.T) {
	requireRedis(t)
	c := newClient(t, nil)
	conformance.RunWithStore(t, mountHTTP, func(t *testing.T) sess.Store { return newTestStore(t, c) })
}

// newManager returns a Manager on st that logs nothing.
func newManager(t testing.TB, st sess.Store) *sess.Manager {
	t.Helper()
	m, err := sess.New(sess.Config{Secret: testSecret, Store: st, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("sess.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// app serves a few routes over the session, behind the net/http adapter:
// /set?k=&v= sets a string, /get?k= returns it, /keys lists the keys,
// /bind?p= binds the session to a principal (SetPrincipal), /destroy ends
// the session, /none leaves the session alone. calls counts handler runs.
func app(m *sess.Manager, calls *int64, mu *sync.Mutex) http.Handler {
	mux := http.NewServeMux()
	count := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if calls != nil {
				mu.Lock()
				*calls++
				mu.Unlock()
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
		_, _ = io.WriteString(w, strings.Join(sesshttp.From(r).Keys(), ","))
	}))
	mux.HandleFunc("/destroy", count(func(w http.ResponseWriter, r *http.Request) {
		sesshttp.From(r).Destroy()
		_, _ = io.WriteString(w, "bye")
	}))
	mux.HandleFunc("/bind", count(func(w http.ResponseWriter, r *http.Request) {
		if err := sesshttp.From(r).SetPrincipal(r.URL.Query().Get("p")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	mux.HandleFunc("/none", count(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "none")
	}))
	return sesshttp.Middleware(m)(mux)
}

type response struct {
	status  int
	body    string
	cookies []string
}

// get sends a GET with the given Cookie header (if any).
func get(t testing.TB, srv *httptest.Server, path, cookie string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return response{status: resp.StatusCode, body: string(b), cookies: resp.Header.Values("Set-Cookie")}
}

// sessionCookie returns the "sid=<value>" pair of the one Set-Cookie line.
func sessionCookie(t testing.TB, r response) string {
	t.Helper()
	if len(r.cookies) != 1 {
		t.Fatalf("Set-Cookie = %q, want one session cookie", r.cookies)
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

// TestRoundTrips counts the Redis commands each kind of request costs,
// with a hook on a real client, through the net/http adapter.
func TestRoundTrips(t *testing.T) {
	requireRedis(t)
	c := newClient(t, nil)
	hook := &countingHook{}
	c.AddHook(hook)
	st := newTestStore(t, c)
	// A clock the test moves forward, to show when reads touch the record.
	var mu sync.Mutex
	now := time.Now()
	m, err := sess.New(sess.Config{
		Secret: testSecret,
		Store:  st,
		Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app(m, nil, nil))
	defer srv.Close()

	// Load the scripts first: on a Redis that has not cached them yet the
	// first run costs an extra EVALSHA (NOSCRIPT) before the EVAL.
	ctx := context.Background()
	for _, s := range scripts {
		if err := s.Load(ctx, c).Err(); err != nil {
			t.Fatalf("loading script: %v", err)
		}
	}
	hook.take()

	cases := []struct {
		name    string
		advance time.Duration // clock move before the request
		path    string
		cookie  bool
		want    []string
	}{
		{"request without cookie, nothing stored", 0, "/none", false, nil},
		{"new session write", 0, "/set?k=a&v=1", false, []string{"evalsha"}},
		{"read-only hit", 0, "/get?k=a", true, []string{"hgetall"}},
		{"hit that does not use the session", 0, "/none", true, []string{"hgetall"}},
		{"modifying hit", 0, "/set?k=b&v=2", true, []string{"hgetall", "evalsha"}},
		{"read-only hit right after a write", time.Minute, "/get?k=b", true, []string{"hgetall"}},
		// The idle deadline moves by >= 1% of IdleTimeout: Touch.
		{"read-only hit 15 minutes later", 15 * time.Minute, "/get?k=b", true, []string{"hgetall", "evalsha"}},
		{"read-only hit after that touch", time.Minute, "/get?k=b", true, []string{"hgetall"}},
		{"destroy", 0, "/destroy", true, []string{"hgetall", "evalsha"}},
		// A session bound to a principal: a new session's index script goes
		// in the same pipeline as its create script, scored by the
		// session's absolute deadline, so later writes and touches cost
		// what they cost unbound; binding a stored session and destroying
		// a bound one cost one round trip more.
		{"new session bound at once", 0, "/bind?p=alice", false, []string{"pipeline[evalsha evalsha]"}},
		{"read-only hit, bound", 0, "/get?k=a", true, []string{"hgetall"}},
		{"modifying hit, bound", 0, "/set?k=a&v=1", true, []string{"hgetall", "evalsha"}},
		{"read-only hit 15 minutes later, bound", 15 * time.Minute, "/get?k=a", true, []string{"hgetall", "evalsha"}},
		{"unbinding", 0, "/bind?p=", true, []string{"hgetall", "evalsha"}},
		{"modifying hit, unbound again", 0, "/set?k=a&v=2", true, []string{"hgetall", "evalsha"}},
		{"binding a stored session", 0, "/bind?p=bob", true, []string{"hgetall", "evalsha", "evalsha"}},
		{"destroy, bound", 0, "/destroy", true, []string{"hgetall", "evalsha", "zrem"}},
	}
	var cookie string
	for _, tc := range cases {
		if !tc.cookie {
			cookie = ""
		}
		mu.Lock()
		now = now.Add(tc.advance)
		mu.Unlock()
		send := ""
		if tc.cookie {
			send = cookie
		}
		r := get(t, srv, tc.path, send)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.name, r.status)
		}
		if cookie == "" && len(r.cookies) > 0 {
			cookie = sessionCookie(t, r)
		}
		got := hook.take()
		t.Logf("%-40s %d round trip(s): %v", tc.name, len(got), got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Redis commands %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOutage cuts the connection to Redis: requests that need the store
// get 503 without a cookie and without running the handler, and everything
// works again once Redis is reachable, without restarting anything.
func TestOutage(t *testing.T) {
	requireRedis(t)
	p := newProxy(t, redisAddr())
	c := newClient(t, &redis.Options{Addr: p.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	st := New(c, Config{Prefix: testPrefix(t, newClient(t, nil))})
	var calls int64
	var mu sync.Mutex
	handlerCalls := func() int64 {
		mu.Lock()
		defer mu.Unlock()
		n := calls
		calls = 0
		return n
	}
	srv := httptest.NewServer(app(newManager(t, st), &calls, &mu))
	defer srv.Close()

	cookie := sessionCookie(t, get(t, srv, "/set?k=user&v=alice", ""))
	handlerCalls()

	p.cut()
	r := get(t, srv, "/get?k=user", cookie)
	if r.status != http.StatusServiceUnavailable || len(r.cookies) != 0 {
		t.Errorf("read during outage: status %d, Set-Cookie %q; want 503 and no cookie", r.status, r.cookies)
	}
	if n := handlerCalls(); n != 0 {
		t.Errorf("read during outage ran the handler %d times, want 0 (load failed)", n)
	}
	r = get(t, srv, "/set?k=user&v=mallory", "")
	if r.status != http.StatusServiceUnavailable || len(r.cookies) != 0 {
		t.Errorf("new session during outage: status %d, Set-Cookie %q; want 503 and no cookie", r.status, r.cookies)
	}
	ctx := context.Background()
	if _, err := st.Get(ctx, idOf(cookie)); err == nil || errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Get during outage: %v, want a store error that is not ErrNotFound", err)
	}
	if err := st.Create(ctx, "x", sess.Record{Entries: sess.AppendEntry(nil, "k", []byte("x")), Expires: time.Now().Add(time.Hour)}); err == nil || errors.Is(err, sess.ErrConflict) {
		t.Errorf("Create during outage: %v, want a store error", err)
	}
	if err := st.Update(ctx, idOf(cookie), sess.Patch{Set: []sess.Entry{{Key: "k", Value: []byte("x")}}, Expires: time.Now().Add(time.Hour)}); err == nil || errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Update during outage: %v, want a store error", err)
	}

	p.restore()
	r = get(t, srv, "/get?k=user", cookie)
	if r.status != http.StatusOK || r.body != "alice" {
		t.Errorf("read after the outage: status %d, body %q; want 200 \"alice\" (session kept)", r.status, r.body)
	}
	r = get(t, srv, "/set?k=user&v=bob", "")
	if r.status != http.StatusOK || len(r.cookies) != 1 {
		t.Errorf("new session after the outage: status %d, Set-Cookie %q; want 200 and a cookie", r.status, r.cookies)
	}
}

// TestRedisRestart runs its own redis-server, stops it and starts it again
// on the same port: requests fail with 503 while it is down and work again
// after, although the restarted server lost its data and its script cache
// (go-redis falls back from EVALSHA to EVAL).
func TestRedisRestart(t *testing.T) {
	bin, _ := redisBinaries(t)
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	stop := startRedis(t, bin, port)
	c := newClient(t, &redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	st := New(c, Config{})
	srv := httptest.NewServer(app(newManager(t, st), nil, nil))
	defer srv.Close()

	cookie := sessionCookie(t, get(t, srv, "/set?k=a&v=1", ""))
	if r := get(t, srv, "/get?k=a", cookie); r.body != "1" {
		t.Fatalf("read back: %q, want \"1\"", r.body)
	}
	stop()
	if r := get(t, srv, "/get?k=a", cookie); r.status != http.StatusServiceUnavailable || len(r.cookies) != 0 {
		t.Errorf("read while Redis is down: status %d, Set-Cookie %q; want 503 and no cookie", r.status, r.cookies)
	}
	startRedis(t, bin, port)
	// The restarted server is empty: the old cookie starts a new session,
	// and writes work again although no script is cached.
	r := get(t, srv, "/set?k=b&v=2", cookie)
	if r.status != http.StatusOK || len(r.cookies) != 1 {
		t.Fatalf("write after restart: status %d, Set-Cookie %q; want 200 and a new cookie", r.status, r.cookies)
	}
	fresh := sessionCookie(t, r)
	if fresh == cookie {
		t.Errorf("the lost session's ID was adopted again")
	}
	if r := get(t, srv, "/keys", fresh); r.body != "b" {
		t.Errorf("keys after restart: %q, want \"b\"", r.body)
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startRedis starts a throwaway redis-server on port and waits until it
// answers. The returned func stops it (also called when t ends).
func startRedis(t testing.TB, bin string, port int) (stop func()) {
	t.Helper()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		})
	}
	t.Cleanup(stop)
	c := redis.NewClient(&redis.Options{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), MaxRetries: -1})
	defer c.Close()
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return stop
		}
		if i == 200 {
			stop()
			t.Fatalf("redis-server on port %d did not answer: %v", port, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestKeysAndValues checks what lands in Redis for sessions made through a
// Manager: keys are prefix + HashID(id), no key or value holds a raw ID,
// every key expires no later than the idle timeout, and e matches the
// key's own expiry.
func TestKeysAndValues(t *testing.T) {
	requireRedis(t)
	c := newClient(t, nil)
	st := newTestStore(t, c)
	srv := httptest.NewServer(app(newManager(t, st), nil, nil))
	defer srv.Close()
	var ids []string
	for i := range 5 {
		cookie := sessionCookie(t, get(t, srv, fmt.Sprintf("/set?k=n&v=%d", i), ""))
		ids = append(ids, idOf(cookie))
		get(t, srv, "/set?k=m&v=x", cookie)
	}
	ctx := context.Background()
	keys, err := scanKeys(ctx, c, st.prefix)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, id := range ids {
		want = append(want, st.prefix+sess.HashID(id))
	}
	slices.Sort(keys)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("keys %q, want %q", keys, want)
	}
	for _, k := range keys {
		h, err := c.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		// Two writes (create, then update), two entries, four header fields.
		if len(h) != 6 || h["v"] != "2" || h["_n"] == "" || h["_m"] == "" || h["m"] == "" || h["s"] == "" {
			t.Errorf("hash %q = %q, want fields v=2, m, s, x, _n, _m", k, h)
		}
		size := 0
		for f, v := range h {
			if k, ok := strings.CutPrefix(f, "_"); ok {
				size += sess.EntrySize(len(k), len(v))
			}
		}
		if h["s"] != strconv.Itoa(size) {
			t.Errorf("hash %q: running size s=%s, want %d", k, h["s"], size)
		}
		for _, id := range ids {
			for f, v := range h {
				if strings.Contains(v, id) || strings.Contains(k, id) {
					t.Errorf("raw session ID found in key %q field %q", k, f)
				}
			}
		}
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > sess.DefaultIdleTimeout {
			t.Errorf("key %q PTTL %v, want in (0, %v]", k, ttl, sess.DefaultIdleTimeout)
		}
		at, err := c.PExpireTime(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if e, _ := strconv.ParseInt(h["x"], 10, 64); at != time.Duration(e)*time.Millisecond {
			t.Errorf("key %q: PEXPIRETIME %v, field x %s ms; want equal", k, at, h["x"])
		}
	}
}

// TestStaleRecord simulates clock skew: the record's own expiry has passed
// although Redis still holds the key. It must count as gone everywhere.
func TestStaleRecord(t *testing.T) {
	requireRedis(t)
	c := newClient(t, nil)
	st := newTestStore(t, c)
	ctx := context.Background()
	id := "stale-session-id-0123456789"
	past := time.Now().Add(-time.Minute).UnixMilli()
	if err := c.HSet(ctx, st.key(id), "v", "3", "m", "meta", "s", "0", "x", past, "_a", "1").Err(); err != nil {
		t.Fatal(err)
	}
	c.PExpire(ctx, st.key(id), time.Hour)
	if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Get of a record past its x: %v, want ErrNotFound", err)
	}
	if err := st.Touch(ctx, id, time.Now().Add(time.Hour)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch of a record past its x: %v, want ErrNotFound", err)
	}
	exp := time.Now().Add(time.Hour)
	if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: "late", Value: []byte("1")}}, Expires: exp}); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Update of a record past its x: %v, want ErrNotFound", err)
	}
	if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: sess.AppendEntry(nil, "new", []byte("1")), Expires: exp}); err != nil {
		t.Errorf("Create over a record past its x: %v, want nil", err)
	}
	rec, err := st.Get(ctx, id)
	if err != nil || rec.Version != 1 || string(rec.Entries) != string(sess.AppendEntry(nil, "new", []byte("1"))) {
		t.Errorf("Get = (%q, version %d), %v; want only the new entry, version 1", rec.Entries, rec.Version, err)
	}
}

// TestForeignRecords covers keys under the prefix the store did not write.
func TestForeignRecords(t *testing.T) {
	requireRedis(t)
	c := newClient(t, nil)
	st := newTestStore(t, c)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)

	malformed := map[string][]any{
		"bad-version": {"v", "x", "m", "", "s", "0", "x", exp.UnixMilli()},
		"zero":        {"v", "0", "m", "", "s", "0", "x", exp.UnixMilli()},
		"no-expiry":   {"v", "1", "m", "", "s", "0"},
		"bad-expiry":  {"v", "1", "m", "", "s", "0", "x", "soon"},
		"no-meta":     {"v", "1", "s", "0", "x", exp.UnixMilli()},
		"entry-only":  {"_a", "1"},
	}
	for id, fields := range malformed {
		c.HSet(ctx, st.key(id), fields...)
		c.PExpire(ctx, st.key(id), time.Hour)
		if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("%s: Get of a malformed record: %v, want ErrNotFound", id, err)
		}
	}

	// A key of another type: an error, never a panic or a record.
	c.Set(ctx, st.key("string"), "value", time.Hour)
	if _, err := st.Get(ctx, "string"); err == nil || errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Get of a string key: %v, want a WRONGTYPE error", err)
	}
	if err := st.Create(ctx, "string", sess.Record{Entries: sess.AppendEntry(nil, "k", []byte("x")), Expires: exp}); err == nil {
		t.Errorf("Create over a string key: nil, want an error")
	}
	if err := st.Update(ctx, "string", sess.Patch{Set: []sess.Entry{{Key: "k", Value: []byte("x")}}, Expires: exp}); err == nil || errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Update of a string key: %v, want a WRONGTYPE error", err)
	}
	if v, _ := c.Get(ctx, st.key("string")).Result(); v != "value" {
		t.Errorf("a foreign key was overwritten: %q", v)
	}
	// Malformed entries handed to Create: an error, nothing stored.
	if err := st.Create(ctx, "bad-entries", sess.Record{Entries: []byte{0xff}, Expires: exp}); err == nil {
		t.Errorf("Create with malformed entries: nil, want an error")
	}
	if n, _ := c.Exists(ctx, st.key("bad-entries")).Result(); n != 0 {
		t.Errorf("Create with malformed entries stored a key")
	}
}

func TestContextHonoured(t *testing.T) {
	requireRedis(t)
	for _, opts := range []*redis.Options{{}, {ContextTimeoutEnabled: true}} {
		st := newTestStore(t, newClient(t, opts))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		exp := time.Now().Add(time.Hour)
		checks := map[string]error{
			"Get":             func() error { _, err := st.Get(ctx, "id"); return err }(),
			"Create":          st.Create(ctx, "id", sess.Record{Expires: exp}),
			"Update":          st.Update(ctx, "id", sess.Patch{Expires: exp}),
			"Touch":           st.Touch(ctx, "id", exp),
			"Delete":          st.Delete(ctx, "id"),
			"Create bound":    st.Create(ctx, "id", sess.Record{Expires: exp, Principal: "alice"}),
			"ListPrincipal":   func() error { _, err := st.ListPrincipal(ctx, "alice"); return err }(),
			"GetHandle":       func() error { _, err := st.GetHandle(ctx, sess.HashID("id")); return err }(),
			"DeleteHandle":    st.DeleteHandle(ctx, sess.HashID("id"), ""),
			"DeletePrincipal": func() error { _, err := st.DeletePrincipal(ctx, "alice", nil); return err }(),
		}
		for op, err := range checks {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s (direct %v) with a cancelled context: %v, want context.Canceled", op, st.direct, err)
			}
		}
	}
}

func TestNew(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: redisAddr()})
	defer c.Close()
	if s := New(c, Config{}); s.prefix != DefaultPrefix {
		t.Errorf("default prefix %q, want %q", s.prefix, DefaultPrefix)
	}
	if got, want := New(c, Config{}).key("id"), DefaultPrefix+sess.HashID("id"); got != want {
		t.Errorf("key = %q, want %q", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("New(nil, ...) did not panic")
		}
	}()
	New(nil, Config{})
}

// TestConformanceStoreCluster runs the store suite on a Redis Cluster of
// three primaries started by the test, through a cluster client.
func TestConformanceStoreCluster(t *testing.T) {
	cl := startCluster(t, 3)
	c := cl.Client(t)
	conformance.RunStore(t, func(t *testing.T) sess.Store { return newTestStore(t, c) })
}

// TestConformanceAdapterCluster runs the adapter suite through net/http
// on the same kind of cluster.
func TestConformanceAdapterCluster(t *testing.T) {
	cl := startCluster(t, 3)
	c := cl.Client(t)
	conformance.RunWithStore(t, mountHTTP, func(t *testing.T) sess.Store { return newTestStore(t, c) })
}
