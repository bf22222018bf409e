// Package sessfasthttp is a throwaway sess adapter for raw fasthttp, built
// from the README's "Writing an adapter" alone; .ci/contrib-fasthttp.sh
// tests it in a module outside the repository.
package sessfasthttp

import (
	sess "github.com/gosess/sess/core"
	"github.com/valyala/fasthttp"
)

// Middleware returns next behind the session lifecycle. fasthttp buffers
// the response until the handler returns, so the session is committed then.
func Middleware(m *sess.Manager) func(fasthttp.RequestHandler) fasthttp.RequestHandler {
	return func(next fasthttp.RequestHandler) fasthttp.RequestHandler {
		return func(ctx *fasthttp.RequestCtx) {
			c := &carrier{ctx: ctx}
			defer func() { c.ctx = nil }() // the Session keeps its Carrier; fasthttp reuses ctx
			x := m.Begin(ctx, c)           // *RequestCtx is the request's context.Context
			switch {
			case x.Skipped():
				next(ctx)
				return
			case x.Err() != nil:
				writeError(ctx, x.ErrorResponse())
				return
			}
			ctx.SetUserValue(m.ObjectName(), x.Session())
			ctx.SetUserValue(sess.ContextKey(), x.Session()) // sess.FromContext(ctx)
			next(ctx)
			if !x.End(ctx.Response.StatusCode()) {
				writeError(ctx, x.ErrorResponse())
			}
		}
	}
}

// From returns the request's session, or nil without one.
func From(ctx *fasthttp.RequestCtx) *sess.Session {
	s, _ := sess.FromContext(ctx)
	return s
}

// writeError replaces the whole response with r.
func writeError(ctx *fasthttp.RequestCtx, r sess.ErrorResponse) {
	ctx.Response.Reset()
	ctx.SetStatusCode(r.Status)
	r.Headers(ctx.Response.Header.Set)
	ctx.SetBodyString(r.Body)
}

// carrier is the sess.Carrier over one fasthttp request.
type carrier struct{ ctx *fasthttp.RequestCtx }

// RequestHeader returns copies of every line of the named header as the
// client sent it, read from the raw header block: once any code has parsed
// the cookies (ctx.Request.Header.Cookie), fasthttp's PeekAll("Cookie")
// returns a re-serialised header in which a nameless cookie "=sid=<value>"
// reads "sid=<value>".
func (c *carrier) RequestHeader(name string) []string {
	if c.ctx == nil {
		return nil
	}
	if raw := c.ctx.Request.Header.RawHeaders(); len(raw) > 0 {
		return sess.RawHeaderValues(raw, name)
	}
	var out []string // a request built in memory has no raw block
	for _, v := range c.ctx.Request.Header.PeekAll(name) {
		out = append(out, string(v))
	}
	return out
}

// AddResponseHeader adds one line; fasthttp keeps each Set-Cookie its own.
func (c *carrier) AddResponseHeader(name, value string) {
	if c.ctx != nil {
		c.ctx.Response.Header.Add(name, value)
	}
}
