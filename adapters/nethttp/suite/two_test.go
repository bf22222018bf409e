package suite_test

import (
	"io"
	"net/http"
	"testing"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

func TestTwoManagers(t *testing.T) {
	conformance.RunTwoManagers(t, func(_ *testing.T, outer, inner *sess.Manager, h conformance.TwoHandler) http.Handler {
		app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body := h(r.URL.Query().Get, sesshttp.FromManager(r, outer), sesshttp.FromManager(r, inner), sesshttp.From(r))
			_, _ = io.WriteString(w, body)
		})
		return sesshttp.Middleware(outer)(sesshttp.Middleware(inner)(app))
	})
}
