package benchmarks

import (
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/valyala/fasthttp"

	sessfiber "github.com/gosess/sess/adapters/fiber"
)

// fiberClient drives a fiber app in process: app.Handler() called on one
// reused fasthttp.RequestCtx, never app.Test.
type fiberClient struct {
	h    fasthttp.RequestHandler
	ctx  *fasthttp.RequestCtx
	pair []byte
}

func newFiberClient(app *fiber.App, path string) *fiberClient {
	c := &fiberClient{h: app.Handler(), ctx: new(fasthttp.RequestCtx)}
	c.ctx.Request.Header.SetMethod(fasthttp.MethodGet)
	c.ctx.Request.Header.SetHost("example.com")
	c.ctx.Request.SetRequestURI(path)
	return c
}

func (c *fiberClient) setCookie(pair string) { c.pair = append(c.pair[:0], pair...) }

func (c *fiberClient) do() {
	ctx := c.ctx
	ctx.Response.Reset()
	ctx.ResetUserValues()
	ctx.Request.Header.DelAllCookies()
	if len(c.pair) > 0 {
		ctx.Request.Header.SetBytesV("Cookie", c.pair)
	}
	c.h(ctx)
}

// responsePair returns the session cookie pair of the last response, as
// bytes valid until the next request.
func (c *fiberClient) responsePair() []byte {
	var pair []byte
	for _, line := range c.ctx.Response.Header.Cookies() {
		if p := pairOfBytes(line); p != nil {
			pair = p
		}
	}
	return pair
}

func pairOfBytes(line []byte) []byte {
	end := len(line)
	for i, b := range line {
		if b == ';' {
			end = i
			break
		}
	}
	p := line[:end]
	if len(p) <= len(cookieName)+1 || string(p[:len(cookieName)+1]) != cookieName+"=" {
		return nil
	}
	return p
}

func (c *fiberClient) follow() {
	if p := c.responsePair(); p != nil {
		c.pair = append(c.pair[:0], p...)
	}
}

func (c *fiberClient) last() (int, string, string) {
	return c.ctx.Response.StatusCode(), string(c.ctx.Response.Body()), string(c.responsePair())
}

// fiberApp returns a fiber app with mw installed, serving the three routes
// with the given counter functions.
func fiberApp(mw fiber.Handler, hit, read, renew func(c *fiber.Ctx) (int, error)) *fiber.App {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	if mw != nil {
		app.Use(mw)
	}
	route := func(f func(c *fiber.Ctx) (int, error)) fiber.Handler {
		return func(c *fiber.Ctx) error {
			n, err := f(c)
			if err != nil {
				return err
			}
			c.Set(fiber.HeaderContentType, contentType)
			return c.Send(body(n))
		}
	}
	app.Get(pathHit, route(hit))
	app.Get(pathRead, route(read))
	app.Get(pathRenew, route(renew))
	return app
}

func fiberSetup(app *fiber.App, closeFn func()) *setup {
	return &setup{
		newClient: func(path string) client { return newFiberClient(app, path) },
		close:     closeFn,
		fiber:     app,
	}
}

func startFiberBare() (*setup, error) {
	bare := func(*fiber.Ctx) (int, error) { return bareCounter, nil }
	return fiberSetup(fiberApp(nil, bare, bare, bare), func() {}), nil
}

func startFiberSess() (*setup, error) {
	m, err := newManager()
	if err != nil {
		return nil, err
	}
	app := fiberApp(sessfiber.Middleware(m),
		func(c *fiber.Ctx) (int, error) { return sessHit(sessfiber.From(c)), nil },
		func(c *fiber.Ctx) (int, error) { return sessRead(sessfiber.From(c)), nil },
		func(c *fiber.Ctx) (int, error) { return sessRenew(sessfiber.From(c)), nil },
	)
	return fiberSetup(app, func() { _ = m.Close() }), nil
}

// startFiberSession configures fiber v2's session middleware with its
// default storage (fiber's in-memory storage).
func startFiberSession() (*setup, error) {
	st := session.New(session.Config{
		Expiration:     lifetime,
		KeyLookup:      "cookie:" + cookieName,
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: "Lax",
	})
	app := fiberApp(nil,
		func(c *fiber.Ctx) (int, error) {
			s, err := st.Get(c)
			if err != nil {
				return 0, err
			}
			n, _ := s.Get(counterKey).(int)
			n++
			s.Set(counterKey, n)
			return n, s.Save()
		},
		func(c *fiber.Ctx) (int, error) {
			s, err := st.Get(c)
			if err != nil {
				return 0, err
			}
			n, _ := s.Get(counterKey).(int)
			return n, nil
		},
		func(c *fiber.Ctx) (int, error) {
			s, err := st.Get(c)
			if err != nil {
				return 0, err
			}
			if err := s.Regenerate(); err != nil {
				return 0, err
			}
			n, _ := s.Get(counterKey).(int)
			return n, s.Save()
		},
	)
	return fiberSetup(app, func() { _ = st.Storage.Close() }), nil
}
