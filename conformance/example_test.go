package conformance_test

import (
	"net/http"

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
			s, err := m.LoadHeaders(ctx, r.Header, w.Header())
			if err != nil {
				m.ServeError(ctx, w, err)
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

// from is the adapter's accessor.
func from(r *http.Request) *sess.Session {
	s, _ := sess.FromContext(r.Context())
	return s
}

// mount serves the suite's handler behind the adapter's middleware. A
// framework with its own context and writers implements Exchange over them
// instead; see the package documentation.
var mount = conformance.HTTPMount(middleware, from)

// An adapter's test file holds a Mount and an Exchange for its framework
// and one test function:
//
//	func TestConformance(t *testing.T) { conformance.Run(t, mount) }
func ExampleRun() {
	var _ conformance.Mount = mount
}
