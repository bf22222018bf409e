// Package sessechov5 binds sess sessions to echo v5
// (github.com/labstack/echo/v5). Package sessecho serves echo v4.
//
//	m, err := sess.New(sess.Config{Secret: secret})
//	...
//	e := echo.New()
//	e.Use(sessechov5.Middleware(m))
//	e.GET("/", func(c *echo.Context) error {
//		s := sessechov5.From(c)
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
// writes, WriteHeader or Flush on c.Response(), echo's automatic HEAD
// responses, or the HTTPErrorHandler rendering an error the handler
// returned. Middleware that puts its own writer in front with
// c.SetResponse (middleware.Gzip, BodyDump) does not change that: the
// middleware hooks the writer underneath echo's *echo.Response, which every
// such writer reaches. So handlers may change the session until they write,
// and an error response carries the session cookie like any other, except
// that a 5xx response saves nothing (see sess.Config.SaveOnServerError). A
// handler that returns nil without writing gets its session committed as a
// 200 when it returns.
//
// If the session cannot be committed (the store is down), the client gets
// the Manager's error response (503 by default) instead of the handler's,
// without a session cookie, the handler's later writes fail with
// sess.ErrCommitFailed, and echo's Response reports the status actually
// sent (for the RequestLogger middleware).
package sessechov5

import (
	"net/http"

	"github.com/labstack/echo/v5"

	sess "github.com/gosess/sess/core"
)

// Middleware returns echo middleware that loads the session before the
// next handler runs and commits it before the response starts. A store
// failure while loading answers with the Manager's error response (503 by
// default) without running the handler. A request carrying one of
// sess.Config.SkipHeaders runs without a session.
//
// A custom HTTPErrorHandler must write through c.Response() (as echo's
// renderers do) for error responses to carry the session cookie; if it
// writes nothing, the session changes of that request are dropped.
func Middleware(m *sess.Manager) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c *echo.Context) error {
			req, w := c.Request(), c.Response()
			x := m.BeginHTTP(w, req)
			if x.Err() != nil { // the error response is written
				return nil
			}
			c.Set(m.ObjectName(), x.Session())
			c.SetRequest(req.WithContext(x.Context()))
			// Hook the writer under echo's Response: every writer a
			// middleware puts in front with SetResponse, and the one the
			// HTTPErrorHandler finds after they have put theirs back,
			// writes through it. A writer that hides the Response (no
			// Unwrap) is wrapped itself instead.
			res, uerr := echo.UnwrapResponse(w)
			if uerr == nil {
				res.ResponseWriter = x.Writer(res.ResponseWriter)
				// Start from echo's own hook, so that when the commit
				// fails echo records the error response's status rather
				// than the one it was about to send.
				res.Before(func() {
					if st := res.Status; (st >= 200 || st == http.StatusSwitchingProtocols) && !x.Start(st) {
						res.Status = x.Status()
					}
				})
			} else {
				c.SetResponse(x.Writer(w))
			}
			err := next(c)
			if err != nil && x.Status() == 0 {
				// Nothing written yet: the HTTPErrorHandler renders err
				// after the chain returns, and its first byte commits the
				// session with the error's status.
				return err
			}
			if !x.End(http.StatusOK) && res != nil {
				// The commit failed and the error response went out under
				// echo's Response: tell echo, so that it writes nothing
				// more and reports the status actually sent.
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
func From(c *echo.Context) *sess.Session {
	s, _ := sess.FromContext(c.Request().Context())
	return s
}

// FromManager returns the session of Manager m, or nil if m's middleware
// did not run for this request. With several Managers in one chain (each
// with its own cookie name) each handler asks for the one it means; From
// returns the innermost one's.
func FromManager(c *echo.Context, m *sess.Manager) *sess.Session {
	s, _ := sess.FromContextFor(c.Request().Context(), m)
	return s
}
