package sessfiber_test

import (
	"bufio"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	sessfiber "github.com/gosess/sess/adapters/fiber"
	sess "github.com/gosess/sess/core"
	"github.com/valyala/fasthttp"
)

// BenchmarkMiddleware measures the middleware on fiber's fasthttp handler
// with requests parsed from the wire format (so the raw header path runs):
// a request without a cookie, and a read of an existing session.
func BenchmarkMiddleware(b *testing.B) {
	m, err := sess.New(sess.Config{Secret: testSecret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	app := fiber.New()
	app.Use(sessfiber.Middleware(m))
	app.Get("/login", func(c *fiber.Ctx) error {
		sessfiber.From(c).Set("user", "alice")
		return c.SendString("ok")
	})
	app.Get("/read", func(c *fiber.Ctx) error {
		u, _ := sess.Get[string](sessfiber.From(c), "user")
		return c.SendString(u)
	})
	h := app.Handler()

	run := func(raw string) *fasthttp.RequestCtx {
		var fctx fasthttp.RequestCtx
		if err := fctx.Request.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			b.Fatal(err)
		}
		h(&fctx)
		return &fctx
	}
	login := run("GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
	cookie := string(login.Response.Header.Peek("Set-Cookie"))
	cookie = cookie[:strings.IndexByte(cookie, ';')]

	for _, bc := range []struct{ name, raw string }{
		{"NoCookie", "GET /read HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n"},
		{"ReadSession", "GET /read HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\nAccept: */*\r\nCookie: _ga=GA1.2.3.4; " + cookie + "\r\n\r\n"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var fctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				fctx.Request.Reset()
				fctx.Response.Reset()
				if err := fctx.Request.Read(bufio.NewReader(strings.NewReader(bc.raw))); err != nil {
					b.Fatal(err)
				}
				h(&fctx)
			}
		})
	}
}
