// The conformance suite against the fiber v3 adapter, in a module of its own
// so that the adapter's module requires neither the suite nor test-only
// dependencies, and neither reaches its users' build lists.
package suite_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/gofiber/fiber/v3/middleware/recover"

	sessfiberv3 "github.com/gosess/sess/adapters/fiberv3"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// exchange is the conformance suite's view of one fiber request.
type exchange struct{ c fiber.Ctx }

func (x exchange) Session() *sess.Session   { return sessfiberv3.From(x.c) }
func (x exchange) Context() context.Context { return x.c.Context() }
func (x exchange) Bag(key string) any       { return x.c.Locals(key) }

// Query copies the value: fiber's strings alias buffers reused after the
// handler returns.
func (x exchange) Query(name string) string { return strings.Clone(x.c.Query(name)) }

// AddHeader appends the value with fiber's c.Append, which folds it into
// the existing line with a comma.
func (x exchange) AddHeader(name, value string) { x.c.Append(name, value) }

func (x exchange) SetCookie(name, value string) {
	x.c.Cookie(&fiber.Cookie{Name: name, Value: value, Path: "/"})
}

func (x exchange) String(status int, body string) error {
	return x.c.Status(status).SendString(body)
}

func (x exchange) Stream(status int, chunks ...string) error {
	return x.c.Status(status).SendStreamWriter(func(w *bufio.Writer) {
		for _, c := range chunks {
			if _, err := w.WriteString(c); err != nil {
				return
			}
			if err := w.Flush(); err != nil {
				return
			}
		}
	})
}

// mount serves h for every method and path behind fiber's recover and the
// session middleware; errors h returns go to fiber's ErrorHandler. fiber
// does not serve net/http, so the app is bridged with app.Test.
//
// The read buffer is raised to net/http's 1 MiB header limit so the suite's
// oversized Cookie headers reach the middleware: with the 4 KiB default
// fasthttp refuses them with 431 before any middleware runs.
var mount = newMount()

// newMount is mount with the given middleware in front of the session
// middleware.
func newMount(before ...any) conformance.Mount {
	return func(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		app := fiber.New(fiber.Config{ReadBufferSize: 1 << 20})
		app.Use(recover.New())
		for _, mw := range before {
			app.Use(mw)
		}
		app.Use(sessfiberv3.Middleware(m))
		app.All("/*", func(c fiber.Ctx) error { return h(exchange{c}) })
		return conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) {
			return app.Test(r, fiber.TestConfig{Timeout: 0})
		})
	}
}

// readCookies reads the request's cookies through fiber's API, as
// authentication middleware does; fasthttp parses every cookie then and
// rewrites its own view of the Cookie header.
func readCookies(c fiber.Ctx) error {
	_ = c.Cookies("sid")
	return c.Next()
}

// fiber buffers the whole response, so it has no writer-swapping
// middleware; the cookie-reading variant is its optional capability.
func TestConformance(t *testing.T) {
	conformance.Run(t, mount, conformance.CookiesReadFirst(newMount(readCookies)))
}

func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
