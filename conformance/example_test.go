package conformance_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// middleware is a minimal net/http adapter: it loads the session before
// the handler, commits it before the first response byte and finishes
// after the handler.
func middleware(m *sess.Manager) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			s, err := m.Load(ctx, sess.HeaderCarrier{Request: r.Header, Response: w.Header()})
			if err != nil {
				sess.WriteError(w, m.ErrorResponse(ctx, err))
				return
			}
			if s == nil { // a skip header
				next.ServeHTTP(w, r)
				return
			}
			rw := m.NewResponseWriter(ctx, w, s)
			next.ServeHTTP(rw, r.WithContext(sess.NewContext(ctx, s)))
			rw.Finish(http.StatusOK)
		})
	}
}

// exchange is the suite's view of one net/http request.
type exchange struct {
	w http.ResponseWriter
	r *http.Request
}

func (x exchange) Session() *sess.Session {
	s, _ := sess.FromContext(x.r.Context())
	return s
}
func (x exchange) Context() context.Context { return x.r.Context() }
func (x exchange) Bag(string) any           { return nil } // net/http has no per-request bag
func (x exchange) NoBag()                   {}             // so the suite does not expect one
func (x exchange) Query(name string) string { return x.r.URL.Query().Get(name) }
func (x exchange) SetCookie(name, value string) {
	http.SetCookie(x.w, &http.Cookie{Name: name, Value: value, Path: "/"})
}

func (x exchange) String(status int, body string) error {
	x.w.WriteHeader(status)
	_, err := io.WriteString(x.w, body)
	return err
}

func (x exchange) Stream(status int, chunks ...string) error {
	x.w.WriteHeader(status)
	rc := http.NewResponseController(x.w)
	for _, c := range chunks {
		if _, err := io.WriteString(x.w, c); err != nil {
			return err
		}
		if err := rc.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// mount serves the suite's handler behind the adapter's middleware; a
// handler error becomes a 500, net/http's error path.
func mount(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
	return middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(exchange{w, r}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
}

// An adapter's test file holds a Mount and an Exchange for its framework
// and one test function:
//
//	func TestConformance(t *testing.T) { conformance.Run(t, mount) }
func ExampleRun() {
	var _ conformance.Mount = mount
}
