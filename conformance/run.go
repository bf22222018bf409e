package conformance

import (
	"crypto/rand"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/core/sesstest"
)

// Run runs every adapter case against mount. Each case gets a fresh
// in-memory store, a fresh Manager and a fresh mount.
//
// Options add mount variants for optional capabilities (CookiesReadFirst,
// WriterSwapped); the cases that need a variant the caller did not give
// are skipped with a message saying what they would check.
func Run(t *testing.T, mount Mount, opts ...Option) {
	t.Helper()
	RunWithStore(t, mount, func(t *testing.T) sess.Store {
		s := sess.NewMemoryStore(sess.MemoryConfig{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}, opts...)
}

// RunWithStore runs every adapter case against mount with a store made by
// newStore, called once per case; the caller closes it (with t.Cleanup).
// Cases inspect the store only through its Store methods, so any store
// that honours the Store contract passes with a correct adapter.
func RunWithStore(t *testing.T, mount Mount, newStore func(t *testing.T) sess.Store, opts ...Option) {
	t.Helper()
	if mount == nil || newStore == nil {
		t.Fatal("conformance: RunWithStore needs a Mount and a store constructor")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for _, tc := range allCases() {
		t.Run(tc.name, func(t *testing.T) { runCase(t, tc, mount, newStore, &o) })
	}
}

// testCase is one named property of an adapter.
type testCase struct {
	name string
	// why explains, on failure, why the property matters.
	why string
	// config adjusts the case's Config before the Manager is built.
	config func(e *env, c *sess.Config)
	run    func(e *env)
}

func allCases() []testCase {
	var all []testCase
	for _, group := range [][]testCase{
		lifecycleCases,
		requestCases,
		commitCases,
		emissionCases,
		hostileCases,
		accessCases,
		concurrencyCases,
		manyWriterCases,
		failureCases,
		lateCases,
		timeCases,
		gapCases,
		headerCases,
		edgeCases,
		manageCases,
		principalCases,
	} {
		all = append(all, group...)
	}
	return all
}

// env is one case's world: store, clock, Manager and server.
type env struct {
	t     *testing.T
	tc    testCase
	mount Mount
	opts  *options
	m     *sess.Manager
	cfg   sess.Config // as given to sess.New, before defaults
	store *faultyStore
	// indexed is store with the inner store's PrincipalIndex, if it has one.
	indexed *indexedFaultyStore
	clock   *sesstest.Clock
	logs    *sesstest.Logs
	srv     *httptest.Server
	calls   atomic.Int64 // handler invocations

	mu    sync.Mutex
	gates map[string]*gate
	stash map[string][]string // values the handler kept after requests ended

	secret2 []byte // a second key for key-rotation cases

	burstHC *http.Client // see burstClient

	barrier     int           // handlers that reached the barrier
	barrierDone chan struct{} // closed when barrierSize handlers arrived
	barrierSize int
}

const (
	// requestTimeout bounds every request the suite sends.
	requestTimeout = 15 * time.Second
	// gateTimeout bounds how long a handler or case waits at a gate.
	gateTimeout = 10 * time.Second
)

func runCase(t *testing.T, tc testCase, mount Mount, newStore func(*testing.T) sess.Store, o *options) {
	e := &env{
		t:     t,
		tc:    tc,
		mount: mount,
		opts:  o,
		clock: sesstest.NewClock(time.Now()),
		logs:  &sesstest.Logs{},
		gates: map[string]*gate{},
		stash: map[string][]string{},
	}
	inner := newStore(t)
	if inner == nil {
		t.Fatal("setup: newStore returned nil")
	}
	e.store = newFaultyStore(inner, e.clock)
	cfg := sess.Config{
		Secret: randomSecret(),
		Store:  e.caseStore(inner),
		Now:    e.clock.Now,
		Logger: e.logger(),
	}
	if tc.config != nil {
		tc.config(e, &cfg)
	}
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatalf("setup: sess.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	e.m, e.cfg = m, cfg
	e.srv = e.serve(mount, m)
	defer func() {
		e.releaseGates()
		e.srv.Close() // waits for every handler to return
		e.checkStoreInvariants()
		if t.Failed() {
			if l := e.logs.String(); l != "" {
				t.Logf("Manager and server log of this case:\n%s", l)
			}
		}
	}()
	tc.run(e)
}

// serve mounts the suite's handler for m and starts a TLS server for it.
func (e *env) serve(mount Mount, m *sess.Manager) *httptest.Server {
	e.t.Helper()
	h := mount(e.t, m, e.handle)
	if h == nil {
		e.t.Fatal("setup: Mount returned a nil http.Handler")
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(e.logs, "http.Server: ", 0)
	srv.StartTLS()
	e.t.Cleanup(srv.Close)
	return srv
}

// sideServer builds a second Manager with cfg (secret, store and logger
// default to fresh ones) behind the same mount, for cases that need
// cookies the case's own Manager would never issue.
func (e *env) sideServer(cfg sess.Config) *httptest.Server {
	e.t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = randomSecret()
	}
	if cfg.Logger == nil {
		cfg.Logger = e.logger()
	}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	m, err := sess.New(cfg)
	if err != nil {
		e.t.Fatalf("setup: sess.New for a second Manager: %v", err)
	}
	e.t.Cleanup(func() { _ = m.Close() })
	return e.serve(e.mount, m)
}

func (e *env) logger() *slog.Logger {
	return e.logs.Logger()
}

// fail reports a broken invariant: what it is, what happened and why it
// matters.
func (e *env) fail(invariant, format string, args ...any) {
	e.t.Helper()
	e.t.Errorf("%s\n\tgot: %s\n\twhy it matters: %s", invariant, fmt.Sprintf(format, args...), e.tc.why)
}

// fatal is fail followed by ending the case, for failures that make the
// rest of the case meaningless.
func (e *env) fatal(invariant, format string, args ...any) {
	e.t.Helper()
	e.t.Fatalf("%s\n\tgot: %s\n\twhy it matters: %s", invariant, fmt.Sprintf(format, args...), e.tc.why)
}

// gate lets a case hold a handler at a chosen point: the handler closes
// entered and waits for release.
type gate struct {
	entered  chan struct{}
	release  chan struct{}
	enterOne sync.Once
	freeOne  sync.Once
}

func (e *env) gate(name string) *gate {
	e.mu.Lock()
	defer e.mu.Unlock()
	g, ok := e.gates[name]
	if !ok {
		g = &gate{entered: make(chan struct{}), release: make(chan struct{})}
		e.gates[name] = g
	}
	return g
}

// pause is called by the handler: it signals the gate and waits to be let
// through. An empty name does nothing.
func (e *env) pause(name string) {
	if name == "" {
		return
	}
	g := e.gate(name)
	g.enterOne.Do(func() { close(g.entered) })
	select {
	case <-g.release:
	case <-time.After(gateTimeout):
		e.t.Errorf("suite: handler waited more than %v at gate %q", gateTimeout, name)
	}
}

// arrive marks the gate as reached without waiting; an empty name does
// nothing.
func (e *env) arrive(name string) {
	if name == "" {
		return
	}
	g := e.gate(name)
	g.enterOne.Do(func() { close(g.entered) })
}

// await blocks the handler until n handlers called it (or gateTimeout
// passed), so that they all loaded the same session version before any of
// them commits. n <= 0 does nothing.
func (e *env) await(n int) {
	if n <= 0 {
		return
	}
	e.mu.Lock()
	if e.barrierDone == nil {
		e.barrierDone, e.barrierSize = make(chan struct{}), n
	}
	e.barrier++
	if e.barrier == e.barrierSize {
		close(e.barrierDone)
	}
	done := e.barrierDone
	e.mu.Unlock()
	select {
	case <-done:
	case <-time.After(gateTimeout):
		e.mu.Lock()
		got := e.barrier
		e.mu.Unlock()
		e.t.Errorf("suite: only %d of %d concurrent requests reached their handler within %v", got, n, gateTimeout)
	}
}

// awaitGate waits until a handler reached the gate.
func (e *env) awaitGate(name string) {
	e.t.Helper()
	select {
	case <-e.gate(name).entered:
	case <-time.After(gateTimeout):
		e.fatal("the handler must run for this request", "no handler reached gate %q within %v", name, gateTimeout)
	}
}

// open lets a handler waiting at the gate go on.
func (e *env) open(name string) {
	g := e.gate(name)
	g.freeOne.Do(func() { close(g.release) })
}

func (e *env) releaseGates() {
	e.mu.Lock()
	names := make([]string, 0, len(e.gates))
	for n := range e.gates {
		names = append(names, n)
	}
	e.mu.Unlock()
	for _, n := range names {
		e.open(n)
	}
}

func (e *env) stashed(key string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.stash[key]...)
}

func (e *env) keep(key, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stash[key] = append(e.stash[key], value)
}

func randomSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// has reports whether the comma-separated header values contain token.
func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, part := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}
