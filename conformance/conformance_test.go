package conformance_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// headers is a Carrier over net/http header maps, for the broken
// adapters that need their own.
type headers struct{ req, resp http.Header }

func (h headers) RequestHeader(name string) []string   { return h.req[name] }
func (h headers) AddResponseHeader(name, value string) { h.resp.Add(name, value) }

// answer writes the lifecycle's error response, as the reference adapter
// does.
func answer(w http.ResponseWriter, x *sess.Lifecycle) {
	r := x.ErrorResponse()
	r.Headers(w.Header().Set)
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, r.Body)
}

// hiddenKey carries the session of the no-context adapter, which hands it
// to its accessor but not to sess.FromContext.
type hiddenKey struct{}

func fromHidden(r *http.Request) *sess.Session {
	s, _ := r.Context().Value(hiddenKey{}).(*sess.Session)
	return s
}

func TestRun(t *testing.T) { conformance.Run(t, mount, referenceOptions...) }

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
				x := m.BeginHTTP(w, r)
				if x.Err() != nil {
					return
				}
				next.ServeHTTP(w, r.WithContext(x.Context()))
				x.End(http.StatusOK)
			})
		}
	}, from),
	// fold-set-cookie joins every Set-Cookie into one comma-separated line.
	"fold-set-cookie": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x := m.Begin(r.Context(), foldingCarrier{headers{r.Header, w.Header()}})
				if x.Err() != nil {
					answer(w, x)
					return
				}
				next.ServeHTTP(x.Writer(w), r.WithContext(x.Context()))
				x.End(http.StatusOK)
			})
		}
	}, from),
	// ignore-load-error runs the handler without a session when the store
	// fails.
	"ignore-load-error": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x := m.Begin(r.Context(), headers{r.Header, w.Header()})
				if x.Session() == nil {
					next.ServeHTTP(w, r)
					return
				}
				next.ServeHTTP(x.Writer(w), r.WithContext(x.Context()))
				x.End(http.StatusOK)
			})
		}
	}, from),
	// skip-end never calls End: changes made after the response started
	// are neither saved nor reported.
	"skip-end": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x := m.BeginHTTP(w, r)
				if x.Err() != nil {
					return
				}
				next.ServeHTTP(x.Writer(w), r.WithContext(x.Context()))
				x.Start(http.StatusOK)
			})
		}
	}, from),
	// no-context hands the session to its accessor but not through
	// sess.FromContext.
	"no-context": conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x := m.BeginHTTP(w, r)
				if x.Err() != nil {
					return
				}
				next.ServeHTTP(x.Writer(w), r.WithContext(context.WithValue(r.Context(), hiddenKey{}, x.Session())))
				x.End(http.StatusOK)
			})
		}
	}, fromHidden),
}

// brokenOptions are the mount variants a broken adapter runs with.
var brokenOptions = map[string][]conformance.Option{}

// foldingCarrier folds repeated response headers into one line, as
// fiber's c.Append does.
type foldingCarrier struct{ headers }

func (c foldingCarrier) AddResponseHeader(name, value string) {
	if old := c.resp.Get(name); old != "" {
		c.resp.Set(name, old+", "+value)
		return
	}
	c.resp.Set(name, value)
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
	conformance.Run(t, mount, brokenOptions[name]...)
}

// TestSuiteCatchesBrokenAdapters checks that each broken mount fails the
// suite, in the case and with the invariant that describe its defect.
func TestSuiteCatchesBrokenAdapters(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("already in a subprocess")
	}
	tests := []struct {
		adapter, cases, invariant string
		pass                      bool // the case must pass: the adapter declares what it lacks
	}{
		{"commit-after-handler", "CommitBeforeBodyWrite", "the session cookie must be set before the body is written", false},
		{"fold-set-cookie", "AppCookiesSurvive", "each Set-Cookie must be its own header line", false},
		{"ignore-load-error", "StoreGetFails", "the handler must not run when the session cannot be loaded", false},
		{"no-context", "ContextAndAccessorAgree", "sess.FromContext", false},
		{"skip-end", "LateChangeSaveFailsIsLogged", "must be logged at level ERROR", false},
		{"reserialised-cookies", "HostileCookiesAfterFrameworkParse", "must load the same session whether or not a middleware read the cookies first", false},
		{"set-not-add", "AppHeadersSurvive", "the application's Vary: Accept-Encoding must survive", false},
		{"commit-on-write-only", "StatusOnlyResponses", "a bodiless 204 response must carry the session cookie", false},
		{"error-keeps-headers", "FailedCommitAnswersOnlyTheErrorResponse", "must not carry the handler's cookies", false},
		{"swapped-commit-after-handler", "CommitBeforeBodyThroughSwappedWriter", "the session cookie must be set before the body is written, through a swapped writer too", false},
		{"weak-ids", "IssuedIDsFullEntropy", "every issued session ID must carry the default generator's 256 bits", false},
		{"no-context-declared", "ContextAndAccessorAgree", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.adapter, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenAdapter$/^"+tt.cases+"$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), brokenEnv+"="+tt.adapter)
			out, err := cmd.CombinedOutput()
			if tt.pass {
				if err != nil || !strings.Contains(string(out), "--- PASS: TestBrokenAdapter/"+tt.cases) {
					t.Fatalf("the suite failed adapter %q in %s, want a pass: %v\n%s", tt.adapter, tt.cases, err, out)
				}
				return
			}
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
