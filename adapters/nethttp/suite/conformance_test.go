// The conformance suite against the nethttp adapter, in a module of its own so
// that the adapter's module requires neither the suite nor test-only
// dependencies, and neither reaches its users' build lists.
package suite_test

import (
	"testing"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
)

// The net/http adapter is plain net/http middleware, so the suite's own
// net/http mount serves it; gin, echo and fiber write a Mount of their own.
var mount = conformance.HTTPMount(sesshttp.Middleware, sesshttp.From)

func TestConformance(t *testing.T) { conformance.Run(t, mount) }

func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
