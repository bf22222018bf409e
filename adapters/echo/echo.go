// Package sessecho binds sess sessions to echo v4.
//
//	m, err := sess.New(sess.Config{Secret: secret})
//	...
//	e := echo.New()
//	e.Use(sessecho.Middleware(m))
//	e.GET("/", func(c echo.Context) error {
//		s := sessecho.From(c)
//		n, _ := sess.Get[int](s, "visits")
//		s.Set("visits", n+1)
//		return c.String(http.StatusOK, "hello")
//	})
//
// Handlers reach the session with From(c), with c.Get(m.ObjectName()) (the
// key is "session" by default), or framework-neutrally with
// sess.FromContext(c.Request().Context()). The middleware may also be
// installed on a group or a single route.
//
// The session is committed just before the response's first byte, whichever
// way the response is written: c.String, c.JSON and the other renderers,
// c.Response().Write, WriteHeader or Flush, or echo's HTTPErrorHandler
// rendering an error the handler returned. So handlers may change the
// session until they write, and an error response carries the session
// cookie like any other, except that a 5xx response saves nothing (see
// sess.Config.SaveOnServerError). A handler that returns nil without
// writing gets its session committed as a 200 when it returns.
//
// If the session cannot be committed (the store is down), the client gets
// the Manager's error response (503 by default) instead of the handler's,
// without a session cookie, and the handler's later writes fail with
// sess.ErrCommitFailed.
package sessecho

import (
	"net/http"

	"github.com/labstack/echo/v4"

	sess "github.com/gosess/sess/core"
)

// Middleware returns echo middleware that loads the session before the
// next handler runs and commits it before the response starts. A store
// failure while loading answers with the Manager's error response (503 by
// default) without running the handler. A request carrying one of
// sess.Config.SkipHeaders runs without a session.
//
// The middleware wraps c.Response().Writer. A custom HTTPErrorHandler must
// write through c.Response() (as echo's renderers do) for error responses
// to carry the session cookie; if it writes nothing, the session changes of
// that request are dropped.
func Middleware(m *sess.Manager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req, res := c.Request(), c.Response()
			x := m.BeginHTTP(res, req)
			if x.Err() != nil { // the error response is written
				return nil
			}
			c.Set(m.ObjectName(), x.Session())
			c.SetRequest(req.WithContext(x.Context()))
			res.Writer = x.Writer(res.Writer)
			err := next(c)
			if err != nil && x.Status() == 0 {
				// Nothing written yet: echo's HTTPErrorHandler renders err
				// after this returns, through rw, which commits the session
				// with the error's status before the first byte. A
				// middleware around this one may have put its own writer
				// back by then (middleware.Gzip does when nothing was
				// written); if so, wrap that one instead (x.Writer leaves a
				// writer that still wraps ours alone).
				res.Before(func() { res.Writer = x.Writer(res.Writer) })
				return err
			}
			if !x.End(http.StatusOK) {
				// The commit failed and the error response went out under
				// echo's Response: tell echo and the middleware around this
				// one, so that they write nothing more and log the status
				// actually sent.
				res.Committed = true
				res.Status = x.Status()
			}
			return err
		}
	}
}

// From returns the request's session (with several Managers in one
// chain, the innermost one's: see FromManager), or nil if the
// middleware did not run for this request (it is not installed on the route).
// A request with a skip header gets an inert session, never nil.
func From(c echo.Context) *sess.Session {
	s, _ := sess.FromContext(c.Request().Context())
	return s
}

// FromManager returns the session of Manager m, or nil if m's middleware
// did not run for this request. With several Managers in one chain (each
// with its own cookie name) each handler asks for the one it means; From
// returns the innermost one's.
func FromManager(c echo.Context, m *sess.Manager) *sess.Session {
	s, _ := sess.FromContextFor(c.Request().Context(), m)
	return s
}
