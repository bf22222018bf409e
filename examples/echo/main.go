// Command echo is the sess demo on echo: a session counter, login and
// logout, with the in-memory store (or Redis with -redis).
//
//	go run ./examples/echo [-addr 127.0.0.1:8080] [-secure] [-redis host:port]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts.
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
	return e
}

// sessionTest counts the requests of this session.
func sessionTest(c echo.Context) error {
	s := sessecho.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	return c.JSON(http.StatusOK, map[string]int{"test_counter": n + 1})
}

// login stores the user under a new session ID.
func login(c echo.Context) error {
	user := c.QueryParam("user")
	if err := demo.ValidUser(user); err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	s := sessecho.From(c)
	s.Renew() // new ID, same data: defeats session fixation
	s.Set("user", user)
	return c.JSON(http.StatusOK, map[string]string{"user": user})
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
