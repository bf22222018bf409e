// Command fiber is the sess demo on fiber: a session counter, login (with
// "remember me") and logout, and the user's list of sessions with "log out"
// per session and "log out everywhere else"; sessions are kept in memory
// (or in Redis with -redis, in PostgreSQL with -postgres).
//
//	go run ./examples/fiber [-addr 127.0.0.1:8080] [-secure] [-redis host:port | -postgres DSN]
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
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
	sessfiber "github.com/gosess/sess/adapters/fiber"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
)

func main() { demo.Main("fiber", serve) }

// serve runs the example on ln until ctx is done.
func serve(ctx context.Context, ln net.Listener, m *sess.Manager) error {
	app := newApp(m)
	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
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
	app := fiber.New(fiber.Config{
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
	})
	app.Use(recover.New(), sessfiber.Middleware(m))
	app.Get("/", page)
	app.Get("/session_test", sessionTest)
	app.Post("/login", login)
	app.Get("/whoami", whoami)
	app.Post("/logout", logout)
	app.Get("/sessions", sessions(m))
	app.Post("/sessions/revoke", revoke(m))
	app.Post("/sessions/revoke-others", revokeOthers)
	return app
}

// sessionTest counts the requests of this session.
func sessionTest(c *fiber.Ctx) error {
	s := sessfiber.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	return c.JSON(fiber.Map{"test_counter": n + 1})
}

// login logs the session in under a new session ID (demo.Login, which
// copies what the session keeps: fiber's strings point into a buffer
// reused by the next request), with a persistent cookie if remember=1.
func login(c *fiber.Ctx) error {
	return reply(c)(demo.Login(sessfiber.From(c), c.Query("user"), c.Query("remember"), c.Get(fiber.HeaderUserAgent)))
}

// sessions lists the user's sessions (demo.ListSessions).
func sessions(m *sess.Manager) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return reply(c)(demo.ListSessions(c.UserContext(), m, sessfiber.From(c)))
	}
}

// revoke ends one of the user's sessions by handle (demo.RevokeSession).
func revoke(m *sess.Manager) fiber.Handler {
	return func(c *fiber.Ctx) error {
		return reply(c)(demo.RevokeSession(c.UserContext(), m, sessfiber.From(c), c.Query("handle")))
	}
}

// revokeOthers ends the user's other sessions (demo.RevokeOthers).
func revokeOthers(c *fiber.Ctx) error {
	return reply(c)(demo.RevokeOthers(c.UserContext(), sessfiber.From(c)))
}

// reply returns a function answering a status and a body as JSON.
func reply(c *fiber.Ctx) func(status int, body any) error {
	return func(status int, body any) error { return c.Status(status).JSON(body) }
}

// whoami reports the logged-in user, or null. It only reads the session,
// so a visitor without one does not get one.
func whoami(c *fiber.Ctx) error {
	if user, ok := sess.Get[string](sessfiber.From(c), "user"); ok {
		return c.JSON(fiber.Map{"user": user})
	}
	return c.JSON(fiber.Map{"user": nil})
}

// logout ends the session: its record is deleted and the cookie expired.
func logout(c *fiber.Ctx) error {
	sessfiber.From(c).Destroy()
	return c.JSON(fiber.Map{"ok": true})
}

// page shows the counter and the user, with buttons calling the routes.
func page(c *fiber.Ctx) error {
	s := sessfiber.From(c)
	n, _ := sess.Get[int](s, "test_counter")
	user, _ := sess.Get[string](s, "user")
	for k, v := range demo.PageHeaders {
		c.Set(k, v)
	}
	c.Set(fiber.HeaderContentType, demo.PageContentType)
	return c.Send(demo.Page("fiber", n, user))
}
