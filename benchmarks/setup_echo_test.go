package benchmarks

import (
	"net/http"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo-contrib/session"
	"github.com/labstack/echo/v4"

	sessecho "github.com/gosess/sess/adapters/echo"
)

// echoServer returns an echo instance (no logger middleware) with mw
// installed, serving the three routes with the given counter functions.
func echoServer(mw echo.MiddlewareFunc, hit, read, renew func(c echo.Context) (int, error)) *echo.Echo {
	e := echo.New()
	if mw != nil {
		e.Use(mw)
	}
	route := func(f func(c echo.Context) (int, error)) echo.HandlerFunc {
		return func(c echo.Context) error {
			n, err := f(c)
			if err != nil {
				return err
			}
			return c.Blob(http.StatusOK, contentType, body(n))
		}
	}
	e.GET(pathHit, route(hit))
	e.GET(pathRead, route(read))
	e.GET(pathRenew, route(renew))
	return e
}

func startEchoBare() (*setup, error) {
	bare := func(echo.Context) (int, error) { return bareCounter, nil }
	return httpSetup(echoServer(nil, bare, bare, bare), func() {}), nil
}

func startEchoSess() (*setup, error) {
	m, err := newManager()
	if err != nil {
		return nil, err
	}
	e := echoServer(sessecho.Middleware(m),
		func(c echo.Context) (int, error) { return sessHit(sessecho.From(c)), nil },
		func(c echo.Context) (int, error) { return sessRead(sessecho.From(c)), nil },
		func(c echo.Context) (int, error) { return sessRenew(sessecho.From(c)), nil },
	)
	return httpSetup(e, func() { _ = m.Close() }), nil
}

// startEchoContrib configures echo-contrib/session with the same
// gorilla server-side store (quasoft/memstore).
func startEchoContrib() (*setup, error) {
	st := newQuasoftStore()
	// An error from Get means a bad cookie; the session it returns is then
	// a new one, as in the other peers.
	get := func(c echo.Context) *sessions.Session {
		s, _ := session.Get(cookieName, c)
		return s
	}
	e := echoServer(session.Middleware(st),
		func(c echo.Context) (int, error) { return gorillaHit(c.Response(), c.Request(), get(c)) },
		func(c echo.Context) (int, error) { return gorillaRead(get(c)), nil },
		func(c echo.Context) (int, error) { return gorillaRenew(c.Response(), c.Request(), get(c)) },
	)
	return httpSetup(e, func() {}), nil
}
