// Command fiberv3 is the sess demo on fiber v3: a session counter, login (with
// "remember me") and logout, and the user's list of sessions with "log out"
// per session and "log out everywhere else"; sessions are kept in memory
// (or in Redis with -redis, in PostgreSQL with -postgres).
//
//	go run ./examples/fiberv3 [-addr 127.0.0.1:8080] [-secure] [-redis host:port | -postgres DSN]
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
	app.Get("/sessions", sessions(m))
	app.Post("/sessions/revoke", revoke(m))
	app.Post("/sessions/revoke-others", revokeOthers)
	return app
}

// sessionTest counts the requests of this session.
func sessionTest(c fiber.Ctx) error {
	s := sessfiberv3.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	return c.JSON(fiber.Map{"test_counter": n + 1})
}

// login logs the session in under a new session ID (demo.Login, which
// copies what the session keeps: fiber's strings point into a buffer
// reused by the next request), with a persistent cookie if remember=1.
func login(c fiber.Ctx) error {
	return reply(c)(demo.Login(sessfiberv3.From(c), c.Query("user"), c.Query("remember"), c.Get(fiber.HeaderUserAgent)))
}

// sessions lists the user's sessions (demo.ListSessions).
func sessions(m *sess.Manager) fiber.Handler {
	return func(c fiber.Ctx) error {
		return reply(c)(demo.ListSessions(c.Context(), m, sessfiberv3.From(c)))
	}
}

// revoke ends one of the user's sessions by handle (demo.RevokeSession).
func revoke(m *sess.Manager) fiber.Handler {
	return func(c fiber.Ctx) error {
		return reply(c)(demo.RevokeSession(c.Context(), m, sessfiberv3.From(c), c.Query("handle")))
	}
}

// revokeOthers ends the user's other sessions (demo.RevokeOthers).
func revokeOthers(c fiber.Ctx) error {
	return reply(c)(demo.RevokeOthers(c.Context(), sessfiberv3.From(c)))
}

// reply returns a function answering a status and a body as JSON.
func reply(c fiber.Ctx) func(status int, body any) error {
	return func(status int, body any) error { return c.Status(status).JSON(body) }
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
