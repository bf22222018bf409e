// Package sessfiberv3 binds sess sessions to fiber v3
// (github.com/gofiber/fiber/v3). Package sessfiber serves fiber v2.
//
//	m, err := sess.New(sess.Config{Secret: secret, Store: store})
//	...
//	app := fiber.New()
//	app.Use(sessfiberv3.Middleware(m))
//	app.Get("/", func(c fiber.Ctx) error {
//		s := sessfiberv3.From(c)
//		n, _ := sess.Get[int](s, "visits")
//		s.Set("visits", n+1)
//		return c.SendString("hello")
//	})
//
// Handlers reach the session with From(c), through c.Locals under the
// Manager's ObjectName ("session" by default), or framework-neutrally with
// sess.FromContext(c.Context()). A fiber v3 Ctx is itself a
// context.Context, but its Value method reads Locals, so
// sess.FromContext(c) finds nothing: pass c.Context().
//
// fiber buffers the whole response until the handler chain returns, body
// streams set with SendStreamWriter included, so the middleware commits the
// session after the rest of the chain has run, before the first byte is
// sent. Handlers may change the session until they return. A
// SendStreamWriter callback runs on its own goroutine, alongside and after
// the commit: session changes made inside it are not saved. c.End writes
// the response to the connection at once, before the session is committed:
// the response carries no session cookie, so do not use it on routes that
// change the session. If the commit fails, the handler's response (status,
// headers, cookies and body or body stream) is replaced by the Manager's
// error response.
//
// A handler that returns an error is committed with the status fiber's
// default error handler gives that error: the Code of a *fiber.Error,
// otherwise 500, for which nothing is saved unless Config.SaveOnServerError
// is set. The error itself is returned unchanged to the app's error handler.
//
// The session cookie is read from the Cookie header lines exactly as the
// client sent them (the raw request header block), never from fasthttp's
// parsed and re-serialised cookies, so every adapter hands the core the
// same bytes and middleware that reads or rewrites the request's cookies
// first does not change which session is loaded. fasthttp answers 431 to
// requests whose header block exceeds fiber's Config.ReadBufferSize (4096
// bytes by default); raise it if your users carry many cookies. For such
// unparsable requests fiber v3 runs the app's Use middleware, this one
// included, before its error handler answers: no handler runs, so the
// session is committed unchanged (at most its idle-timeout refresh).
//
// With fiber's encryptcookie middleware, list the session cookie's name in
// its Except option. The session cookie is already signed (and the session
// data never leaves the server); encryptcookie would encrypt the
// Set-Cookie value the session middleware wrote whenever encryptcookie
// runs before it in the chain, and the next request, read raw, would then
// present a cookie that does not verify: a fresh session on every request.
//
// fiber's csrf middleware keeps its tokens in its own cookie ("csrf_") and
// its own Storage (in memory by default), or in fiber's session middleware
// with its Session option, never in a sess session. Use a shared Storage
// when running more than one process, and rotate the token when the session
// changes privilege: call csrf.HandlerFromContext(c).DeleteToken(c) next to
// s.Renew() on login and s.Destroy() on logout. Order does not matter for
// the session cookie: csrf's reading and writing of its own cookie leaves
// the raw Cookie header and the session's Set-Cookie line alone, and a
// request csrf rejects (403 by default) is committed with that status.
//
// The in-memory store (the Manager's default) lives in one process. With
// fiber's prefork (ListenConfig.EnablePrefork) every child process would
// keep its own sessions, so a Middleware whose Manager uses a process-local
// store (sess.ProcessLocal, such as the in-memory store) refuses to serve
// in a prefork child process (fiber.IsChild): it logs
// ErrPreforkMemoryStore once at level Error and answers every request with
// the Manager's error response for it (500 by default). Use a shared store,
// such as the Redis store, with prefork.
package sessfiberv3

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"

	"github.com/gofiber/fiber/v3"

	sess "github.com/gosess/sess/core"
)

// ErrPreforkMemoryStore is the error the middleware reports, and hands to
// Config.ErrorHandler, when it runs in a fiber prefork child process with a
// Manager backed by a process-local store such as the in-memory store.
var ErrPreforkMemoryStore = errors.New("sessfiberv3: the in-memory session store is not shared across fiber prefork processes; use a shared store")

// Middleware returns fiber middleware that loads the session before the
// rest of the handler chain runs and commits it after the chain returns,
// before fiber sends the response. A store failure while loading answers
// with the Manager's error response (503 by default) without running the
// rest of the chain. In a prefork child process with a process-local store
// it refuses every request, as the package documentation explains.
func Middleware(m *sess.Manager) fiber.Handler {
	var key any = m.ObjectName() // boxed once, not per request
	pl, ok := m.Store().(sess.ProcessLocal)
	refuse := ok && pl.ProcessLocal() && fiber.IsChild()
	var logOnce sync.Once
	return func(c fiber.Ctx) error {
		ctx := c.Context()
		if refuse {
			logOnce.Do(func() {
				m.Logger().LogAttrs(ctx, slog.LevelError, "sessfiberv3: refusing requests: this is a fiber prefork child process but the session store is process-local",
					slog.Any("error", ErrPreforkMemoryStore))
			})
			writeError(c, m.ErrorResponse(ctx, ErrPreforkMemoryStore))
			return nil
		}

		rc := c.RequestCtx()
		hc := &sess.RawCarrier{Request: &rc.Request.Header, Response: &rc.Response.Header}
		// The Session keeps its Carrier; cut the link to the pooled
		// RequestCtx once the request is over.
		defer hc.Release()
		x := m.Begin(ctx, hc)
		if x.Err() != nil {
			writeError(c, x.ErrorResponse())
			return nil
		}
		c.Locals(key, x.Session())
		c.SetContext(x.Context())
		herr := c.Next()
		if !x.End(status(c, herr)) {
			writeError(c, x.ErrorResponse())
			return nil
		}
		return herr
	}
}

// From returns the request's session (with several Managers in one
// chain, the innermost one's: see FromManager), or nil if the
// middleware did not run for this request (it is not installed).
// A request with a skip header gets an inert session, never nil.
func From(c fiber.Ctx) *sess.Session {
	s, _ := sess.FromContext(c.Context())
	return s
}

// status returns the status the response will be sent with: the handler's,
// or for a returned error the one fiber's DefaultErrorHandler gives it.
func status(c fiber.Ctx, err error) int {
	if err == nil {
		return c.Response().StatusCode()
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return fiber.StatusInternalServerError
}

// writeError replaces whatever the handler put in the response (status,
// headers, cookies, body or body stream) with r. The Server header and the
// connection's keep-alive state, which are not the handler's, survive.
func writeError(c fiber.Ctx, r sess.ErrorResponse) {
	resp := c.Response()
	server := bytes.Clone(resp.Header.Server())
	closeConn := resp.Header.ConnectionClose()
	resp.Reset()
	// Reset also clears server-wide settings fasthttp applies per request.
	cfg := c.App().Config()
	resp.Header.SetNoDefaultContentType(cfg.DisableDefaultContentType)
	if cfg.DisableHeaderNormalizing {
		resp.Header.DisableNormalizing()
	}
	if len(server) > 0 {
		resp.Header.SetServerBytes(server)
	}
	if closeConn {
		resp.Header.SetConnectionClose()
	}
	resp.SetStatusCode(r.Status)
	r.Headers(resp.Header.Set)
	resp.SetBodyString(r.Body)
}

// FromManager returns the session of Manager m, or nil if m's middleware
// did not run for this request. With several Managers in one chain (each
// with its own cookie name) each handler asks for the one it means; From
// returns the innermost one's.
func FromManager(c fiber.Ctx, m *sess.Manager) *sess.Session {
	s, _ := sess.FromContextFor(c.Context(), m)
	return s
}
