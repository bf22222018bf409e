package conformance_test

import (
	"net/http"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// middleware is the reference net/http adapter: the core's own binding,
// which the sesshttp adapter also exposes.
func middleware(m *sess.Manager) func(http.Handler) http.Handler { return m.Wrap }

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
