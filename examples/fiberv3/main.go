// Command fiberv3 is the sess demo on fiber v3: a session counter, login
// and logout, with the in-memory store (or Redis with -redis).
//
//	go run ./examples/fiberv3 [-addr 127.0.0.1:8080] [-secure] [-redis host:port]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts.
package main

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"
	sessfiberv3 "github.com/gosess/sess/adapters/fiberv3"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
)

func main() { demo.Main("fiberv3", serve) }

// serve runs the example on ln until ctx is done.
func serve(ctx context.Context, ln net.Listener, m *sess.Manager) error {
	app := newApp(m)
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), demo.ShutdownTimeout)
	defer cancel()
	if err := app.ShutdownWithContext(sctx); err != nil {
		return err
	}
	return <-errc
}

// newApp returns the example's routes behind the session middleware.
func newApp(m *sess.Manager) *fiber.App {
	app := fiber.New(fiber.Config{ReadTimeout: 30 * time.Second})
	app.Use(recover.New(), sessfiberv3.Middleware(m))
	app.Get("/", page)
	app.Get("/session_test", sessionTest)
	app.Post("/login", login)
	app.Get("/whoami", whoami)
	app.Post("/logout", logout)
	return app
}

// sessionTest counts the requests of this session.
func sessionTest(c fiber.Ctx) error {
	s := sessfiberv3.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	return c.JSON(fiber.Map{"test_counter": n + 1})
}

// login stores the user under a new session ID.
func login(c fiber.Ctx) error {
	// fiber's strings point into a buffer reused by the next request:
	// copy what outlives the handler, such as a value kept in the session.
	user := strings.Clone(c.Query("user"))
	if err := demo.ValidUser(user); err != nil {
		return c.Status(fiber.StatusBadRequest).JSON(fiber.Map{"error": err.Error()})
	}
	s := sessfiberv3.From(c)
	s.Renew() // new ID, same data: defeats session fixation
	s.Set("user", user)
	return c.JSON(fiber.Map{"user": user})
}

// whoami reports the logged-in user, or null. It only reads the session,
// so a visitor without one does not get one.
func whoami(c fiber.Ctx) error {
	if user, ok := sess.Get[string](sessfiberv3.From(c), "user"); ok {
		return c.JSON(fiber.Map{"user": user})
	}
	return c.JSON(fiber.Map{"user": nil})
}

// logout ends the session: its record is deleted and the cookie expired.
func logout(c fiber.Ctx) error {
	sessfiberv3.From(c).Destroy()
	return c.JSON(fiber.Map{"ok": true})
}

// page shows the counter and the user, with buttons calling the routes.
func page(c fiber.Ctx) error {
	s := sessfiberv3.From(c)
	n, _ := sess.Get[int](s, "test_counter")
	user, _ := sess.Get[string](s, "user")
	for k, v := range demo.PageHeaders {
		c.Set(k, v)
	}
	c.Set(fiber.HeaderContentType, demo.PageContentType)
	return c.Send(demo.Page("fiber v3", n, user))
}
