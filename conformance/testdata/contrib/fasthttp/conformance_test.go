package sessfasthttp_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
	"github.com/valyala/fasthttp"

	"example.com/sessfasthttp"
)

type exchange struct{ ctx *fasthttp.RequestCtx }

func (x exchange) Session() *sess.Session   { return sessfasthttp.From(x.ctx) }
func (x exchange) Context() context.Context { return x.ctx }
func (x exchange) Bag(key string) any       { return x.ctx.UserValue(key) }
func (x exchange) Query(name string) string { return string(x.ctx.QueryArgs().Peek(name)) }

func (x exchange) AddHeader(name, value string) { x.ctx.Response.Header.Add(name, value) }

func (x exchange) SetCookie(name, value string) {
	var c fasthttp.Cookie
	c.SetKey(name)
	c.SetValue(value)
	c.SetPath("/")
	x.ctx.Response.Header.SetCookie(&c)
}

func (x exchange) String(status int, body string) error {
	x.ctx.SetStatusCode(status)
	x.ctx.SetBodyString(body)
	return nil
}

func (x exchange) Stream(status int, chunks ...string) error {
	x.ctx.SetStatusCode(status)
	x.ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		for _, c := range chunks {
			if _, err := w.WriteString(c); err != nil || w.Flush() != nil {
				return
			}
		}
	})
	return nil
}

// mount serves the suite through a fasthttp server on a loopback port.
func mount(t *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
	return serve(t, sessfasthttp.Middleware(m)(func(ctx *fasthttp.RequestCtx) {
		if err := h(exchange{ctx}); err != nil {
			ctx.Error(err.Error(), http.StatusInternalServerError)
		}
	}))
}

// readFirstMount is mount with the cookies read through fasthttp's API
// before the session middleware, as authentication middleware does.
func readFirstMount(t *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
	inner := sessfasthttp.Middleware(m)(func(ctx *fasthttp.RequestCtx) {
		if err := h(exchange{ctx}); err != nil {
			ctx.Error(err.Error(), http.StatusInternalServerError)
		}
	})
	return serve(t, func(ctx *fasthttp.RequestCtx) {
		_ = ctx.Request.Header.Cookie("sid")
		inner(ctx)
	})
}

// serve serves handler on a loopback port and bridges it.
func serve(t *testing.T, handler fasthttp.RequestHandler) http.Handler {
	srv := &fasthttp.Server{ReadBufferSize: 64 << 10, Handler: func(ctx *fasthttp.RequestCtx) {
		defer func() {
			if recover() != nil { // fasthttp has no recovery of its own
				ctx.Response.Reset()
				ctx.Error("panic", http.StatusInternalServerError)
			}
		}()
		handler(ctx)
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) {
		r.URL.Scheme, r.URL.Host = "http", ln.Addr().String()
		return http.DefaultTransport.RoundTrip(r)
	})
}

func TestConformance(t *testing.T) {
	conformance.Run(t, mount, conformance.CookiesReadFirst(readFirstMount))
}
