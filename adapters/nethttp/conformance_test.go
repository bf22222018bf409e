package sesshttp_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// exchange is the conformance suite's view of one net/http request.
type exchange struct {
	w http.ResponseWriter
	r *http.Request
}

func (x exchange) Session() *sess.Session   { return sesshttp.From(x.r) }
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

// mount serves h behind the net/http middleware.
func mount(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
	return sesshttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(exchange{w, r}); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
}

func TestConformance(t *testing.T) { conformance.Run(t, mount) }
