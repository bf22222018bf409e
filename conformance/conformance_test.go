package conformance_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// directExchange hands the handler a session that is not in the
// request's context.
type directExchange struct {
	exchange
	s *sess.Session
}

func (x directExchange) Session() *sess.Session { return x.s }

// serve runs h for one request and renders a handler error as a 500.
func serve(h conformance.Handler, x conformance.Exchange, w http.ResponseWriter) {
	if err := h(x); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
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
	// commitAfterHandler commits only after the handler returned, when a
	// handler that wrote its body has already sent the headers.
	"commit-after-handler": func(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s, err := m.Load(ctx, sess.HeaderCarrier{Request: r.Header, Response: w.Header()})
			if err != nil {
				sess.WriteError(w, m.ErrorResponse(ctx, err))
				return
			}
			serve(h, exchange{w, r.WithContext(sess.NewContext(ctx, s))}, w)
			_ = m.Commit(ctx, s, http.StatusOK)
		})
	},
	// foldSetCookie joins every Set-Cookie into one comma-separated line.
	"fold-set-cookie": func(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s, err := m.Load(ctx, foldingCarrier{sess.HeaderCarrier{Request: r.Header, Response: w.Header()}})
			if err != nil {
				sess.WriteError(w, m.ErrorResponse(ctx, err))
				return
			}
			rw := m.NewResponseWriter(ctx, w, s)
			serve(h, exchange{rw, r.WithContext(sess.NewContext(ctx, s))}, rw)
			rw.Finish(http.StatusOK)
		})
	},
	// ignoreLoadError runs the handler without a session when the store
	// fails.
	"ignore-load-error": func(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s, _ := m.Load(ctx, sess.HeaderCarrier{Request: r.Header, Response: w.Header()})
			if s == nil {
				serve(h, exchange{w, r}, w)
				return
			}
			rw := m.NewResponseWriter(ctx, w, s)
			serve(h, exchange{rw, r.WithContext(sess.NewContext(ctx, s))}, rw)
			rw.Finish(http.StatusOK)
		})
	},
	// noContext hands the session to the handler but not through the
	// request's context.
	"no-context": func(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s, err := m.Load(ctx, sess.HeaderCarrier{Request: r.Header, Response: w.Header()})
			if err != nil {
				sess.WriteError(w, m.ErrorResponse(ctx, err))
				return
			}
			rw := m.NewResponseWriter(ctx, w, s)
			serve(h, directExchange{exchange{rw, r}, s}, rw)
			rw.Finish(http.StatusOK)
		})
	},
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
