// The conformance suite against the gin adapter, in a module of its own so
// that the adapter's module requires neither the suite nor test-only
// dependencies, and neither reaches its users' build lists.
package suite_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/gin-gonic/gin"
	sessgin "github.com/gosess/sess/adapters/gin"
	"github.com/gosess/sess/conformance"
	sess "github.com/gosess/sess/core"
)

// exchange is the conformance suite's view of one gin request.
type exchange struct{ c *gin.Context }

func (x exchange) Session() *sess.Session   { return sessgin.From(x.c) }
func (x exchange) Context() context.Context { return x.c.Request.Context() }
func (x exchange) Query(name string) string { return x.c.Query(name) }

func (x exchange) Bag(key string) any {
	v, _ := x.c.Get(key)
	return v
}

func (x exchange) AddHeader(name, value string) { x.c.Writer.Header().Add(name, value) }

func (x exchange) SetCookie(name, value string) {
	x.c.SetCookie(name, value, 0, "/", "", false, false)
}

func (x exchange) String(status int, body string) error {
	x.c.String(status, "%s", body)
	return nil
}

func (x exchange) Stream(status int, chunks ...string) error {
	x.c.Status(status)
	var err error
	i := 0
	gone := x.c.Stream(func(w io.Writer) bool {
		if i < len(chunks) {
			_, err = io.WriteString(w, chunks[i])
			i++
		}
		return err == nil && i < len(chunks)
	})
	if gone {
		return errors.New("client gone")
	}
	return err
}

// mount serves h for every method and path behind gin's recovery and the
// session middleware; errors h returns are aborted with 500.
var mount = newMount(nil)

// newMount is mount with the given middleware in front of the session
// middleware.
func newMount(before ...gin.HandlerFunc) conformance.Mount {
	return func(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		r := gin.New()
		r.Use(gin.RecoveryWithWriter(io.Discard))
		r.Use(before...)
		r.Use(sessgin.Middleware(m))
		r.Any("/*path", func(c *gin.Context) {
			if err := h(exchange{c}); err != nil {
				_ = c.AbortWithError(http.StatusInternalServerError, err)
			}
		})
		return r
	}
}

// readCookies reads the request's cookies through gin's API, as
// authentication middleware does.
func readCookies(c *gin.Context) {
	_, _ = c.Cookie("sid")
	_ = c.Request.Cookies()
}

// gin has no writer-swapping middleware of its own; the cookie-reading
// variant is its optional capability.
func TestConformance(t *testing.T) {
	conformance.Run(t, mount, conformance.CookiesReadFirst(newMount(readCookies)))
}

func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
