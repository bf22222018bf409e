package conformance_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// readFirstMount is the reference adapter with the net/http cookie reader
// in front, the CookiesReadFirst variant of mount.
var readFirstMount = conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return conformance.CookieReader(m.Wrap(next)) }
}, from)

// gzipMount is the reference adapter with a gzip middleware around the
// handler, the WriterSwapped variant of mount.
var gzipMount = conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return m.Wrap(conformance.GzipWriter(next)) }
}, from)

// referenceOptions are the variants of the reference adapter.
var referenceOptions = []conformance.Option{
	conformance.CookiesReadFirst(readFirstMount),
	conformance.WriterSwapped(gzipMount),
}

// reserialisingParser models a framework that parses cookies the way
// fasthttp does and rewrites its view of the Cookie header from the parsed
// pairs: one line, pairs joined by "; ", a pair without a name written as
// its bare value (so "=sid=<value>" becomes "sid=<value>"), quotes around
// values dropped.
func reserialisingParser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var parts []string
		for _, line := range r.Header["Cookie"] {
			for _, p := range strings.Split(line, ";") {
				p = strings.TrimSpace(p)
				if p == "" {
					continue
				}
				k, v, ok := strings.Cut(p, "=")
				k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)
				switch {
				case !ok:
					parts = append(parts, p)
				case k == "":
					parts = append(parts, v)
				default:
					parts = append(parts, k+"="+v)
				}
			}
		}
		if len(parts) > 0 {
			r.Header["Cookie"] = []string{strings.Join(parts, "; ")}
		}
		next.ServeHTTP(w, r)
	})
}

// settingCarrier replaces response headers of the same name instead of
// adding a line (Header.Set where Add belongs).
type settingCarrier struct{ headers }

func (c settingCarrier) AddResponseHeader(name, value string) { c.resp.Set(name, value) }

// naiveWriter is a hand-made commit hook: it starts the lifecycle on Write
// and Flush, and on WriteHeader only if onWriteHeader; after a failed
// commit it answers the error response, clearing the handler's headers
// first unless keepHeaders.
type naiveWriter struct {
	http.ResponseWriter
	x             *sess.Lifecycle
	onWriteHeader bool
	keepHeaders   bool
	started       bool
	failed        bool
}

func (w *naiveWriter) begin(status int) bool {
	if !w.started {
		w.started = true
		if !w.x.Start(status) {
			w.failed = true
			if !w.keepHeaders {
				clear(w.ResponseWriter.Header())
			}
			answer(w.ResponseWriter, w.x)
		}
	}
	return !w.failed
}

func (w *naiveWriter) WriteHeader(code int) {
	if (w.onWriteHeader && !w.begin(code)) || w.failed {
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *naiveWriter) Write(b []byte) (int, error) {
	if !w.begin(http.StatusOK) {
		return 0, sess.ErrCommitFailed
	}
	return w.ResponseWriter.Write(b)
}

func (w *naiveWriter) Flush() {
	if w.begin(http.StatusOK) {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *naiveWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// naiveMount is the net/http adapter over naiveWriter.
func naiveMount(onWriteHeader, keepHeaders bool) conformance.Mount {
	return conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x := m.Begin(r.Context(), headers{r.Header, w.Header()})
				if x.Err() != nil {
					answer(w, x)
					return
				}
				nw := &naiveWriter{ResponseWriter: w, x: x, onWriteHeader: onWriteHeader, keepHeaders: keepHeaders}
				next.ServeHTTP(nw, r.WithContext(x.Context()))
				if !nw.started {
					nw.begin(http.StatusOK)
				}
				x.End(http.StatusOK)
			})
		}
	}, from)
}

// weakIDMount ignores the suite's Manager for one of its own whose
// generator returns 16 decimal digits (53 bits), as a core that truncated
// or badly encoded IDs would.
func weakIDMount(t *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
	store := sess.NewMemoryStore(sess.MemoryConfig{})
	t.Cleanup(func() { _ = store.Close() })
	var n atomic.Int64
	weak, err := sess.New(sess.Config{
		Secret:     []byte("conformance weak-id mutant secret"),
		Store:      store,
		GenerateID: func() (string, error) { return fmt.Sprintf("%016d", n.Add(1)), nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = weak.Close() })
	return mount(t, weak, h)
}

// contextless declares NoContext over an Exchange of the no-context
// adapter.
type contextless struct{ conformance.Exchange }

func (contextless) NoBag()     {}
func (contextless) NoContext() {}

func init() {
	brokenMounts["reserialised-cookies"] = mount
	brokenOptions["reserialised-cookies"] = []conformance.Option{conformance.CookiesReadFirst(conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler { return reserialisingParser(m.Wrap(next)) }
	}, from))}
	brokenMounts["set-not-add"] = conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x := m.Begin(r.Context(), settingCarrier{headers{r.Header, w.Header()}})
				if x.Err() != nil {
					answer(w, x)
					return
				}
				next.ServeHTTP(x.Writer(w), r.WithContext(x.Context()))
				x.End(http.StatusOK)
			})
		}
	}, from)
	brokenMounts["commit-on-write-only"] = naiveMount(false, false)
	brokenMounts["error-keeps-headers"] = naiveMount(true, true)
	brokenMounts["weak-ids"] = weakIDMount
	brokenMounts["swapped-commit-after-handler"] = mount
	brokenOptions["swapped-commit-after-handler"] = []conformance.Option{conformance.WriterSwapped(conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			next = conformance.GzipWriter(next)
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				x := m.BeginHTTP(w, r)
				if x.Err() != nil {
					return
				}
				next.ServeHTTP(w, r.WithContext(x.Context()))
				x.End(http.StatusOK)
			})
		}
	}, from))}
	brokenMounts["no-context-declared"] = func(t *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		return brokenMounts["no-context"](t, m, func(x conformance.Exchange) error { return h(contextless{x}) })
	}
}
