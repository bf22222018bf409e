package conformance

import (
	"context"
	"io"
	"net/http"
	"testing"

	sess "github.com/gosess/sess/core"
)

// HTTPMount returns the Mount for an adapter that is plain net/http
// middleware (the net/http adapter, or one for a router built on
// http.Handler): middleware(m) wraps the suite's handler, and from is the
// adapter's accessor. Handler errors become 500 responses, net/http's
// error path. Frameworks with their own context and writers write their own
// Mount instead.
func HTTPMount(middleware func(*sess.Manager) func(http.Handler) http.Handler, from func(*http.Request) *sess.Session) Mount {
	return func(_ *testing.T, m *sess.Manager, h Handler) http.Handler {
		return middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := h(httpExchange{w: w, r: r, from: from}); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}))
	}
}

// httpExchange is the suite's view of one net/http request.
type httpExchange struct {
	w    http.ResponseWriter
	r    *http.Request
	from func(*http.Request) *sess.Session
}

func (x httpExchange) Session() *sess.Session   { return x.from(x.r) }
func (x httpExchange) Context() context.Context { return x.r.Context() }
func (x httpExchange) Bag(string) any           { return nil } // net/http has no per-request bag
func (x httpExchange) NoBag()                   {}
func (x httpExchange) Query(name string) string { return x.r.URL.Query().Get(name) }

func (x httpExchange) AddHeader(name, value string) { x.w.Header().Add(name, value) }

func (x httpExchange) SetCookie(name, value string) {
	http.SetCookie(x.w, &http.Cookie{Name: name, Value: value, Path: "/"})
}

func (x httpExchange) String(status int, body string) error {
	x.w.WriteHeader(status)
	_, err := io.WriteString(x.w, body)
	return err
}

func (x httpExchange) Stream(status int, chunks ...string) error {
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
