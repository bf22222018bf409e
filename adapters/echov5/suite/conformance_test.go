// The conformance suite against the echo v5 adapter, in a module of its own
// so that the adapter's module requires neither the suite nor test-only
// dependencies, and neither reaches its users' build lists.
package suite_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	sessechov5 "github.com/gosess/sess/adapters/echov5"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// exchange is the conformance suite's view of one echo request.
type exchange struct{ c *echo.Context }

func (x exchange) Session() *sess.Session       { return sessechov5.From(x.c) }
func (x exchange) Context() context.Context     { return x.c.Request().Context() }
func (x exchange) Bag(key string) any           { return x.c.Get(key) }
func (x exchange) Query(name string) string     { return x.c.QueryParam(name) }
func (x exchange) String(s int, b string) error { return x.c.String(s, b) }

func (x exchange) AddHeader(name, value string) { x.c.Response().Header().Add(name, value) }

func (x exchange) SetCookie(name, value string) {
	x.c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/"})
}

func (x exchange) Stream(status int, chunks ...string) error {
	res := x.c.Response()
	res.WriteHeader(status)
	for _, c := range chunks {
		if _, err := io.WriteString(res, c); err != nil {
			return err
		}
		if err := http.NewResponseController(res).Flush(); err != nil {
			return err
		}
	}
	return nil
}

// mount serves h for every method and path behind the echo middleware;
// errors h returns go to echo's HTTPErrorHandler.
var mount = newMount(nil, nil)

// newMount is mount with the given middleware in front of the session
// middleware (before) and between it and the handler (after).
func newMount(before, after []echo.MiddlewareFunc) conformance.Mount {
	return func(t *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		e := echo.New()
		e.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
		e.Use(before...)
		e.Use(sessechov5.Middleware(m))
		e.Use(after...)
		e.Any("/*", func(c *echo.Context) error { return h(exchange{c}) })
		return e
	}
}

// readCookies reads the request's cookies through echo's API, as
// authentication middleware does.
func readCookies(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		_ = c.Cookies()
		_, _ = c.Cookie("sid")
		return next(c)
	}
}

// variants are the mounts of the suite's optional capabilities.
var variants = []conformance.Option{
	conformance.CookiesReadFirst(newMount([]echo.MiddlewareFunc{readCookies}, nil)),
	conformance.WriterSwapped(newMount(nil, []echo.MiddlewareFunc{middleware.Gzip()})),
}

func TestConformance(t *testing.T) { conformance.Run(t, mount, variants...) }

func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
