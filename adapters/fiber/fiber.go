// Package sessfiber binds sess sessions to fiber v2 (github.com/gofiber/fiber/v2).
//
//	m, err := sess.New(sess.Config{Secret: secret, Store: store})
//	...
//	app := fiber.New()
//	app.Use(sessfiber.Middleware(m))
//	app.Get("/", func(c *fiber.Ctx) error {
//		s := sessfiber.From(c)
//		n, _ := sess.Get[int](s, "visits")
//		s.Set("visits", n+1)
//		return c.SendString("hello")
//	})
//
// Handlers reach the session with From(c), through c.Locals under the
// Manager's ObjectName ("session" by default), or framework-neutrally with
// sess.FromContext(c.UserContext()).
//
// fiber buffers the whole response until the handler chain returns, body
// streams set with SetBodyStreamWriter included, so the middleware commits
// the session after the rest of the chain has run, before the first byte is
// sent. Handlers may change the session until they return. A
// SetBodyStreamWriter callback runs on its own goroutine, alongside and
// after the commit: session changes made inside it are not saved. If the
// commit fails, the handler's response (status, headers, cookies and body
// or body stream) is replaced by the Manager's error response.
//
// A handler that returns an error is committed with the status fiber's
// default error handler gives that error: the Code of a *fiber.Error,
// otherwise 500, for which nothing is saved unless Config.SaveOnServerError
// is set. The error itself is returned unchanged to the app's error handler.
//
// The session cookie is read from the Cookie header lines exactly as the
// client sent them (the raw request header block), never from fasthttp's
// parsed and re-serialised cookies, so every adapter hands the core the
// same bytes. Rewriting the request's cookies in an earlier middleware
// therefore does not change which session is loaded: with fiber's
// encryptcookie middleware, list the session cookie (already signed) in its
// Except option. fasthttp answers 431 to requests whose header block exceeds
// fiber's Config.ReadBufferSize (4096 bytes by default) before any
// middleware runs; raise it if your users carry many cookies.
//
// The in-memory store (the Manager's default) lives in one process. With
// fiber's Prefork every child process would keep its own sessions, so a
// Middleware whose Manager uses a process-local store (sess.ProcessLocal, such as the in-memory store) refuses to serve an app
// with Prefork enabled: it logs ErrPreforkMemoryStore once at level Error and
// answers every request with the Manager's error response for it (500 by
// default). Use a shared store, such as the Redis store, with Prefork.
package sessfiber

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/gofiber/fiber/v2"
	sess "github.com/gosess/sess/core"
)

// ErrPreforkMemoryStore is the error the middleware reports, and hands to
// Config.ErrorHandler, when an app with Prefork enabled uses a Manager backed
// by the process-local in-memory store.
var ErrPreforkMemoryStore = errors.New("sessfiber: the in-memory session store is not shared across fiber prefork processes; use a shared store")

// Middleware returns fiber middleware that loads the session before the
// rest of the handler chain runs and commits it after the chain returns,
// before fiber sends the response. A store failure while loading answers
// with the Manager's error response (503 by default) without running the
// rest of the chain. Under fiber's Prefork with the in-memory store it
// refuses every request, as the package documentation explains.
func Middleware(m *sess.Manager) fiber.Handler {
	var key any = m.ObjectName() // boxed once, not per request
	pl, ok := m.Store().(sess.ProcessLocal)
	local := ok && pl.ProcessLocal()
	var (
		checked atomic.Pointer[fiber.App] // last app found not to prefork
		logOnce sync.Once
	)
	return func(c *fiber.Ctx) error {
		if local && checked.Load() != c.App() {
			if c.App().Config().Prefork {
				ctx := c.UserContext()
				logOnce.Do(func() {
					m.Logger().LogAttrs(ctx, slog.LevelError, "sessfiber: refusing requests: fiber Prefork is enabled but the session store is the process-local in-memory store",
						slog.Any("error", ErrPreforkMemoryStore))
				})
				writeError(c, m.ErrorResponse(ctx, ErrPreforkMemoryStore))
				return nil
			}
			checked.Store(c.App())
		}

		rc := c.Context()
		hc := &sess.RawCarrier{Request: &rc.Request.Header, Response: &rc.Response.Header}
		// The Session keeps its Carrier; cut the link to the pooled
		// RequestCtx once the request is over.
		defer hc.Release()
		x := m.Begin(c.UserContext(), hc)
		if x.Err() != nil {
			writeError(c, x.ErrorResponse())
			return nil
		}
		c.Locals(key, x.Session())
		c.SetUserContext(x.Context())
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
func From(c *fiber.Ctx) *sess.Session {
	s, _ := sess.FromContext(c.UserContext())
	return s
}

// status returns the status the response will be sent with: the handler's,
// or for a returned error the one fiber's DefaultErrorHandler gives it.
func status(c *fiber.Ctx, err error) int {
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
func writeError(c *fiber.Ctx, r sess.ErrorResponse) {
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
func FromManager(c *fiber.Ctx, m *sess.Manager) *sess.Session {
	s, _ := sess.FromContextFor(c.UserContext(), m)
	return s
}
