package sess_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

var secret = []byte("test-secret-0123456789-abcdefghijklmnop")

// clock is a fake clock shared by the Manager and the memory store.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// spyStore counts calls and can inject failures and delays.
type spyStore struct {
	sess.Store
	gets, writes, touches, deletes atomic.Int64
	failGet, failWrite, failDelete atomic.Bool
	hang                           atomic.Bool
	writeDelay                     chan struct{} // if non-nil, Create and Update wait on it
}

var errBoom = errors.New("backend exploded: secret detail 10.0.0.7")

func (s *spyStore) wait(ctx context.Context) error {
	if s.hang.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (s *spyStore) Get(ctx context.Context, id string) (sess.Record, error) {
	s.gets.Add(1)
	if err := s.wait(ctx); err != nil {
		return sess.Record{}, err
	}
	if s.failGet.Load() {
		return sess.Record{}, errBoom
	}
	return s.Store.Get(ctx, id)
}

func (s *spyStore) write(ctx context.Context) error {
	s.writes.Add(1)
	if s.writeDelay != nil {
		<-s.writeDelay
	}
	if err := s.wait(ctx); err != nil {
		return err
	}
	if s.failWrite.Load() {
		return errBoom
	}
	return nil
}

func (s *spyStore) Create(ctx context.Context, id string, rec sess.Record) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	return s.Store.Create(ctx, id, rec)
}

func (s *spyStore) Update(ctx context.Context, id string, p sess.Patch) error {
	if err := s.write(ctx); err != nil {
		return err
	}
	return s.Store.Update(ctx, id, p)
}

func (s *spyStore) Touch(ctx context.Context, id string, exp time.Time) error {
	s.touches.Add(1)
	return s.Store.Touch(ctx, id, exp)
}

func (s *spyStore) Delete(ctx context.Context, id string) error {
	s.deletes.Add(1)
	if s.failDelete.Load() {
		return errBoom
	}
	return s.Store.Delete(ctx, id)
}

// env is one Manager on a spy over a memory store, served over net/http
// by Manager.Wrap (the binding sesshttp exposes).
type env struct {
	t     *testing.T
	m     *sess.Manager
	mem   *sess.MemoryStore
	spy   *spyStore
	clock *clock
	logs  *syncBuffer
	srv   *httptest.Server
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func newEnv(t *testing.T, cfg sess.Config, h http.HandlerFunc) *env {
	t.Helper()
	e := &env{t: t, clock: newClock(), logs: &syncBuffer{}}
	e.mem = sess.NewMemoryStore(sess.MemoryConfig{Now: e.clock.Now})
	t.Cleanup(func() { e.mem.Close() })
	e.spy = &spyStore{Store: e.mem}
	if cfg.Secret == nil {
		cfg.Secret = secret
	}
	if cfg.Store == nil {
		cfg.Store = e.spy
	}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.m = m
	e.srv = httptest.NewTLSServer(m.Wrap(h))
	t.Cleanup(e.srv.Close)
	return e
}

// client returns an HTTP client with its own cookie jar.
func (e *env) client() *http.Client {
	c := *e.srv.Client() // a copy: the server's client is shared
	jar, _ := cookiejar.New(nil)
	c.Jar = jar
	return &c
}

type result struct {
	status  int
	body    string
	cookies []string // raw Set-Cookie lines
	header  http.Header
}

func (e *env) do(c *http.Client, method, path string, hdr ...string) result {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	if c == nil {
		c = e.srv.Client()
	}
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(b), cookies: resp.Header.Values("Set-Cookie"), header: resp.Header}
}

// sessionCookie returns the value of the single session Set-Cookie line.
func (r result) sessionValue(t *testing.T, name string) string {
	t.Helper()
	var vals []string
	for _, line := range r.cookies {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("unparseable Set-Cookie %q: %v", line, err)
		}
		if c.Name == name {
			vals = append(vals, c.Value)
		}
	}
	if len(vals) != 1 {
		t.Fatalf("session Set-Cookie lines = %q, want exactly one for %q", r.cookies, name)
	}
	return vals[0]
}

func idOf(cookieValue string) string {
	i := strings.LastIndexByte(cookieValue, '.')
	if i < 0 {
		return cookieValue
	}
	return cookieValue[:i]
}
