// The conformance suite against the nethttp adapter, in a module of its own so
// that the adapter's module requires neither the suite nor test-only
// dependencies, and neither reaches its users' build lists.
package suite_test

import (
	"net/http"
	"testing"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// The net/http adapter is plain net/http middleware, so the suite's own
// net/http mount serves it; gin, echo and fiber write a Mount of their own.
var mount = conformance.HTTPMount(sesshttp.Middleware, sesshttp.From)

// variants are the mounts of the suite's optional capabilities: the cookies
// read with r.Cookies before the session middleware, and a gzip writer
// around the handler.
var variants = []conformance.Option{
	conformance.CookiesReadFirst(conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler { return conformance.CookieReader(sesshttp.Middleware(m)(next)) }
	}, sesshttp.From)),
	conformance.WriterSwapped(conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler { return sesshttp.Middleware(m)(conformance.GzipWriter(next)) }
	}, sesshttp.From)),
}

func TestConformance(t *testing.T) { conformance.Run(t, mount, variants...) }

func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
