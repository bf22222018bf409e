package suite_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// TestChi runs the suite through a chi router with the middleware mounted
// the chi way, with r.Use, in front of a catch-all route.
func TestChi(t *testing.T) {
	conformance.Run(t, conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			r := chi.NewRouter()
			r.Use(sesshttp.Middleware(m))
			r.Handle("/*", next)
			return r
		}
	}, sesshttp.From))
}
