package benchmarks

import (
	"net/http"

	gcsessions "github.com/gin-contrib/sessions"
	gcmemstore "github.com/gin-contrib/sessions/memstore"
	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	sessgin "github.com/gosess/sess/adapters/gin"
)

func init() { gin.SetMode(gin.ReleaseMode) }

// ginEngine returns a gin engine (no logger, no recovery) with mw
// installed, serving the three routes with the given counter functions.
func ginEngine(mw gin.HandlerFunc, hit, read, renew func(c *gin.Context) (int, bool)) *gin.Engine {
	r := gin.New()
	if mw != nil {
		r.Use(mw)
	}
	route := func(f func(c *gin.Context) (int, bool)) gin.HandlerFunc {
		return func(c *gin.Context) {
			if n, ok := f(c); ok {
				c.Data(http.StatusOK, contentType, body(n))
			}
		}
	}
	r.GET(pathHit, route(hit))
	r.GET(pathRead, route(read))
	r.GET(pathRenew, route(renew))
	return r
}

func startGinBare() (*setup, error) {
	bare := func(*gin.Context) (int, bool) { return bareCounter, true }
	return httpSetup(ginEngine(nil, bare, bare, bare), func() {}), nil
}

func startGinSess() (*setup, error) {
	m, err := newManager()
	if err != nil {
		return nil, err
	}
	r := ginEngine(sessgin.Middleware(m),
		func(c *gin.Context) (int, bool) { return sessHit(sessgin.From(c)), true },
		func(c *gin.Context) (int, bool) { return sessRead(sessgin.From(c)), true },
		func(c *gin.Context) (int, bool) { return sessRenew(sessgin.From(c)), true },
	)
	return httpSetup(r, func() { _ = m.Close() }), nil
}

// startGinContrib configures gin-contrib/sessions with its memstore (which
// wraps quasoft/memstore).
func startGinContrib() (*setup, error) {
	st := gcmemstore.NewStore(secret)
	o := gorillaOptions()
	st.Options(gcsessions.Options{Path: o.Path, MaxAge: o.MaxAge, HttpOnly: o.HttpOnly, SameSite: o.SameSite})
	fail := func(c *gin.Context, err error) (int, bool) {
		c.String(http.StatusInternalServerError, err.Error())
		return 0, false
	}
	r := ginEngine(gcsessions.Sessions(cookieName, st),
		func(c *gin.Context) (int, bool) {
			s := gcsessions.Default(c)
			n, _ := s.Get(counterKey).(int)
			n++
			s.Set(counterKey, n)
			if err := s.Save(); err != nil {
				return fail(c, err)
			}
			return n, true
		},
		func(c *gin.Context) (int, bool) {
			n, _ := gcsessions.Default(c).Get(counterKey).(int)
			return n, true
		},
		func(c *gin.Context) (int, bool) {
			// gin-contrib/sessions has no way to renew an ID; its session
			// hands out the gorilla session underneath, which can.
			gs := gcsessions.Default(c).(interface{ Session() *sessions.Session }).Session()
			n, err := gorillaRenew(c.Writer, c.Request, gs)
			if err != nil {
				return fail(c, err)
			}
			return n, true
		},
	)
	return httpSetup(r, func() {}), nil
}
