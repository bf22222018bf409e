package suite_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// chiMount mounts the middleware the chi way, with r.Use in front of a
// catch-all route, with before and after as chi middleware on either side
// of it (nil: none).
func chiMount(before, after func(http.Handler) http.Handler) conformance.Mount {
	return conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			r := chi.NewRouter()
			if before != nil {
				r.Use(before)
			}
			r.Use(sesshttp.Middleware(m))
			if after != nil {
				r.Use(after)
			}
			r.Handle("/*", next)
			return r
		}
	}, sesshttp.From)
}

// TestChi runs the suite through a chi router, with the optional
// capabilities as chi middleware too: one that reads the cookies with
// r.Cookies before the session middleware, and a gzip writer after it.
func TestChi(t *testing.T) {
	conformance.Run(t, chiMount(nil, nil),
		conformance.CookiesReadFirst(chiMount(conformance.CookieReader, nil)),
		conformance.WriterSwapped(chiMount(nil, conformance.GzipWriter)))
}
