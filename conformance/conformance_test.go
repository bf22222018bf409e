package conformance_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// load is the first half of the reference middleware, for the broken
// ones: it answers a load error and reports whether to go on.
func load(m *sess.Manager, w http.ResponseWriter, r *http.Request, c sess.Carrier) (*sess.Session, bool) {
	s, err := m.Load(r.Context(), c)
	if err != nil {
		m.ServeError(r.Context(), w, err)
		return nil, false
	}
	return s, true
}

// hiddenKey carries the session of the no-context adapter, which hands it
// to its accessor but not to sess.FromContext.
type hiddenKey struct{}

func fromHidden(r *http.Request) *sess.Session {
	s, _ := r.Context().Value(hiddenKey{}).(*sess.Session)
	return s
}

func TestRun(t *testing.T) { conformance.Run(t, mount) }

// TestRoundTripHandler runs the suite through the bridge that non-net/http
// frameworks use, with a recorder standing in for the framework.
func TestRoundTripHandler(t *testing.T) {
	conformance.Run(t, func(t *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		inner := mount(t, m, h)
		return conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) {
			rec := httptest.NewRecorder()
			inner.ServeHTTP(rec, r)
			return rec.Result(), nil
		})
	})
}

func TestRunWithStore(t *testing.T) {
	conformance.RunWithStore(t, mount, func(t *testing.T) sess.Store {
		s := sess.NewMemoryStore(sess.MemoryConfig{})
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// brokenEnv selects the broken mount TestBrokenAdapter runs in a
// subprocess.
const brokenEnv = "CONFORMANCE_BROKEN_ADAPTER"

// brokenMounts are adapters with one classic defect each.
var brokenMounts = map[string]conformance.Mount{
	// commit-after-handler commits only after the handler returned, when a
	// handler that wrote its body has already sent the headers.
	"commit-after-handler": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, ok := load(m, w, r, sess.HeaderCarrier{Request: r.Header, Response: w.Header()})
				if !ok {
					return
				}
				next.ServeHTTP(w, r.WithContext(sess.NewContext(r.Context(), s)))
				_ = m.Commit(r.Context(), s, http.StatusOK)
			})
		}
	}, from),
	// fold-set-cookie joins every Set-Cookie into one comma-separated line.
	"fold-set-cookie": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, ok := load(m, w, r, foldingCarrier{sess.HeaderCarrier{Request: r.Header, Response: w.Header()}})
				if !ok {
					return
				}
				rw := m.NewResponseWriter(r.Context(), w, s)
				next.ServeHTTP(rw, r.WithContext(sess.NewContext(r.Context(), s)))
				rw.Finish(http.StatusOK)
			})
		}
	}, from),
	// ignore-load-error runs the handler without a session when the store
	// fails.
	"ignore-load-error": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, _ := m.LoadHeaders(r.Context(), r.Header, w.Header())
				if s == nil {
					next.ServeHTTP(w, r)
					return
				}
				rw := m.NewResponseWriter(r.Context(), w, s)
				next.ServeHTTP(rw, r.WithContext(sess.NewContext(r.Context(), s)))
				rw.Finish(http.StatusOK)
			})
		}
	}, from),
	// no-context hands the session to its accessor but not through
	// sess.NewContext.
	"no-context": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s, ok := load(m, w, r, sess.HeaderCarrier{Request: r.Header, Response: w.Header()})
				if !ok {
					return
				}
				rw := m.NewResponseWriter(r.Context(), w, s)
				next.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), hiddenKey{}, s)))
				rw.Finish(http.StatusOK)
			})
		}
	}, fromHidden),
}

// foldingCarrier folds repeated response headers into one line, as
// fiber's c.Append does.
type foldingCarrier struct{ sess.HeaderCarrier }

func (c foldingCarrier) AddResponseHeader(name, value string) {
	if old := c.Response.Get(name); old != "" {
		c.Response.Set(name, old+", "+value)
		return
	}
	c.Response.Set(name, value)
}

// TestBrokenAdapter runs one broken mount when the parent test asks for it.
func TestBrokenAdapter(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("run by TestSuiteCatchesBrokenAdapters in a subprocess")
	}
	mount, ok := brokenMounts[name]
	if !ok {
		t.Fatalf("unknown broken adapter %q", name)
	}
	conformance.Run(t, mount)
}

// TestSuiteCatchesBrokenAdapters checks that each broken mount fails the
// suite, in the case and with the invariant that describe its defect.
func TestSuiteCatchesBrokenAdapters(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("already in a subprocess")
	}
	tests := []struct {
		adapter, cases, invariant string
	}{
		{"commit-after-handler", "CommitBeforeBodyWrite", "the session cookie must be set before the body is written"},
		{"fold-set-cookie", "AppCookiesSurvive", "each Set-Cookie must be its own header line"},
		{"ignore-load-error", "StoreGetFails", "the handler must not run when the session cannot be loaded"},
		{"no-context", "ContextAndAccessorAgree", "sess.FromContext"},
	}
	for _, tt := range tests {
		t.Run(tt.adapter, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenAdapter$/^"+tt.cases+"$", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+tt.adapter)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed adapter %q, want a failure in %s:\n%s", tt.adapter, tt.cases, out)
			}
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatalf("running the subprocess: %v", err)
			}
			for _, want := range []string{"--- FAIL: TestBrokenAdapter/" + tt.cases, tt.invariant} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output for adapter %q lacks %q:\n%s", tt.adapter, want, out)
				}
			}
		})
	}
}

func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
