// Command echov5 is the sess demo on echo v5: a session counter, login and
// logout, with the in-memory store (or Redis with -redis).
//
//	go run ./examples/echov5 [-addr 127.0.0.1:8080] [-secure] [-redis host:port]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts.
package main

import (
	"context"
	"net"
	"net/http"
	"time"

	sessechov5 "github.com/gosess/sess/adapters/echov5"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
)

func main() { demo.Main("echov5", serve) }

// serve runs the example on ln until ctx is done, then shuts it down
// gracefully.
func serve(ctx context.Context, ln net.Listener, m *sess.Manager) error {
	var shutdownErr error // set before Start returns
	sc := echo.StartConfig{
		Listener:        ln,
		HideBanner:      true,
		HidePort:        true,
		GracefulTimeout: demo.ShutdownTimeout,
		OnShutdownError: func(err error) { shutdownErr = err },
		BeforeServeFunc: func(s *http.Server) error {
			s.ReadHeaderTimeout = 10 * time.Second
			return nil
		},
	}
	if err := sc.Start(ctx, newServer(m)); err != nil {
		return err
	}
	return shutdownErr
}

// newServer returns the example's routes behind the session middleware.
func newServer(m *sess.Manager) *echo.Echo {
	e := echo.New()
	e.Use(middleware.Recover(), sessechov5.Middleware(m))
	e.GET("/", page)
	e.GET("/session_test", sessionTest)
	e.POST("/login", login)
	e.GET("/whoami", whoami)
	e.POST("/logout", logout)
	return e
}

// sessionTest counts the requests of this session.
func sessionTest(c *echo.Context) error {
	s := sessechov5.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	return c.JSON(http.StatusOK, map[string]int{"test_counter": n + 1})
}

// login stores the user under a new session ID.
func login(c *echo.Context) error {
	user := c.QueryParam("user")
	if err := demo.ValidUser(user); err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": err.Error()})
	}
	s := sessechov5.From(c)
	s.Renew() // new ID, same data: defeats session fixation
	s.Set("user", user)
	return c.JSON(http.StatusOK, map[string]string{"user": user})
}

// whoami reports the logged-in user, or null. It only reads the session,
// so a visitor without one does not get one.
func whoami(c *echo.Context) error {
	if user, ok := sess.Get[string](sessechov5.From(c), "user"); ok {
		return c.JSON(http.StatusOK, map[string]string{"user": user})
	}
	return c.JSON(http.StatusOK, map[string]any{"user": nil})
}

// logout ends the session: its record is deleted and the cookie expired.
func logout(c *echo.Context) error {
	sessechov5.From(c).Destroy()
	return c.JSON(http.StatusOK, map[string]bool{"ok": true})
}

// page shows the counter and the user, with buttons calling the routes.
func page(c *echo.Context) error {
	s := sessechov5.From(c)
	n, _ := sess.Get[int](s, "test_counter")
	user, _ := sess.Get[string](s, "user")
	for k, v := range demo.PageHeaders {
		c.Response().Header().Set(k, v)
	}
	return c.Blob(http.StatusOK, demo.PageContentType, demo.Page("echo v5", n, user))
}
