package sessgin_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	sessgin "github.com/gosess/sess/adapters/gin"
	sess "github.com/gosess/sess/core"
)

// BenchmarkMiddleware measures the middleware, without the network, around
// a handler that reads one value of an existing session (the common case)
// and one that creates a session; baseline is the same read route without
// the middleware.
func BenchmarkMiddleware(b *testing.B) {
	m, err := sess.New(sess.Config{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	r := gin.New()
	r.Use(sessgin.Middleware(m))
	r.GET("/new", func(c *gin.Context) {
		sessgin.From(c).Set("user", "alice")
		c.String(http.StatusOK, "ok")
	})
	r.GET("/read", func(c *gin.Context) {
		v, _ := sess.Get[string](sessgin.From(c), "user")
		c.String(http.StatusOK, "%s", v)
	})
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/new", nil))
	c, err := http.ParseSetCookie(w.Header().Get("Set-Cookie"))
	if err != nil {
		b.Fatal(err)
	}
	read := httptest.NewRequest(http.MethodGet, "/read", nil)
	read.Header.Set("Cookie", c.Name+"="+c.Value)
	b.Run("read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rw := httptest.NewRecorder()
			r.ServeHTTP(rw, read)
			if rw.Body.String() != "alice" {
				b.Fatal(rw.Body.String())
			}
		}
	})
	b.Run("create", func(b *testing.B) {
		b.ReportAllocs()
		req := httptest.NewRequest(http.MethodGet, "/new", nil)
		for b.Loop() {
			r.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	bare := gin.New()
	bare.GET("/read", func(c *gin.Context) { c.String(http.StatusOK, "alice") })
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			bare.ServeHTTP(httptest.NewRecorder(), read)
		}
	})
}
