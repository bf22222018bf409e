// Command echo is the sess demo on echo: a session counter, login (with
// "remember me") and logout, and the user's list of sessions with "log out"
// per session and "log out everywhere else"; sessions are kept in memory
// (or in Redis with -redis, in PostgreSQL with -postgres).
//
//	go run ./examples/echo [-addr 127.0.0.1:8080] [-secure] [-redis host:port | -postgres DSN]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts. The routes:
//
//	GET  /                              the page
//	GET  /session_test                  count this session's requests
//	POST /login?user=U[&remember=1]     log in (remember=1: persistent cookie)
//	GET  /whoami                        the logged-in user, or null
//	POST /logout                        end this session
//	GET  /sessions                      the user's sessions; this one's deadlines
//	POST /sessions/revoke?handle=H      end one of the user's sessions
//	POST /sessions/revoke-others        end all the user's other sessions
//
// Login and the last three routes are thin bindings of the demo package's
// Login, ListSessions, RevokeSession and RevokeOthers.
package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	sessecho "github.com/gosess/sess/adapters/echo"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

func main() { demo.Main("echo", serve) }

// serve runs the example on ln until ctx is done.
func serve(ctx context.Context, ln net.Listener, m *sess.Manager) error {
	e := newServer(m)
	e.Listener = ln
	e.Server.ReadHeaderTimeout = 10 * time.Second
	errc := make(chan error, 1)
	go func() { errc <- e.Start("") }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), demo.ShutdownTimeout)
	defer cancel()
	if err := e.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServer returns the example's routes behind the session middleware.
func newServer(m *sess.Manager) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover(), sessecho.Middleware(m))
	e.GET("/", page)
	e.GET("/session_test", sessionTest)
	e.POST("/login", login)
	e.GET("/whoami", whoami)
	e.POST("/logout", logout)
	e.GET("/sessions", sessions(m))
	e.POST("/sessions/revoke", revoke(m))
	e.POST("/sessions/revoke-others", revokeOthers)
	return e
}

// sessionTest counts the requests of this session.
func sessionTest(c echo.Context) error {
	s := sessecho.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	return c.JSON(http.StatusOK, map[string]int{"test_counter": n + 1})
}

// login logs the session in under a new session ID (demo.Login), with a
// persistent cookie if remember=1.
func login(c echo.Context) error {
	return c.JSON(demo.Login(sessecho.From(c), c.QueryParam("user"), c.QueryParam("remember"), c.Request().UserAgent()))
}

// sessions lists the user's sessions (demo.ListSessions).
func sessions(m *sess.Manager) echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(demo.ListSessions(c.Request().Context(), m, sessecho.From(c)))
	}
}

// revoke ends one of the user's sessions by handle (demo.RevokeSession).
func revoke(m *sess.Manager) echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(demo.RevokeSession(c.Request().Context(), m, sessecho.From(c), c.QueryParam("handle")))
	}
}

// revokeOthers ends the user's other sessions (demo.RevokeOthers).
func revokeOthers(c echo.Context) error {
	return c.JSON(demo.RevokeOthers(c.Request().Context(), sessecho.From(c)))
}

// whoami reports the logged-in user, or null. It only reads the session,
// so a visitor without one does not get one.
func whoami(c echo.Context) error {
	if user, ok := sess.Get[string](sessecho.From(c), "user"); ok {
		return c.JSON(http.StatusOK, map[string]string{"user": user})
	}
	return c.JSON(http.StatusOK, map[string]any{"user": nil})
}

// logout ends the session: its record is deleted and the cookie expired.
func logout(c echo.Context) error {
	sessecho.From(c).Destroy()
	return c.JSON(http.StatusOK, map[string]bool{"ok": true})
}

// page shows the counter and the user, with buttons calling the routes.
func page(c echo.Context) error {
	s := sessecho.From(c)
	n, _ := sess.Get[int](s, "test_counter")
	user, _ := sess.Get[string](s, "user")
	for k, v := range demo.PageHeaders {
		c.Response().Header().Set(k, v)
	}
	return c.Blob(http.StatusOK, demo.PageContentType, demo.Page("echo", n, user))
}
