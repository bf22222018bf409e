// The conformance suite against the gin adapter, in a module of its own so
// that the adapter's module requires neither the suite nor test-only
// dependencies, and neither reaches its users' build lists.
package suite_test

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
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
var mount = newMount(nil, nil)

// newMount is mount with the given middleware in front of the session
// middleware (before) and between it and the handler (after).
func newMount(before, after []gin.HandlerFunc) conformance.Mount {
	return func(_ *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
		r := gin.New()
		r.Use(gin.RecoveryWithWriter(io.Discard))
		r.Use(before...)
		r.Use(sessgin.Middleware(m))
		r.Use(after...)
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

// gzipWriter is c.Writer swapped for a compressing one, as gzip
// middleware for gin does: the compressed bytes reach gin's writer when the
// gzip buffer fills, on Flush and when the handler is done.
type gzipWriter struct {
	gin.ResponseWriter
	gz *gzip.Writer
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if w.gz == nil {
		w.Header().Del("Content-Length")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		w.gz = gzip.NewWriter(w.ResponseWriter)
	}
	return w.gz.Write(b)
}

func (w *gzipWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

func (w *gzipWriter) Flush() {
	if w.gz != nil {
		_ = w.gz.Flush()
	}
	w.ResponseWriter.Flush()
}

// gzipMiddleware swaps c.Writer for a gzipWriter when the client accepts
// gzip.
func gzipMiddleware(c *gin.Context) {
	if !strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
		c.Next()
		return
	}
	gw := &gzipWriter{ResponseWriter: c.Writer}
	c.Writer = gw
	defer func() {
		if gw.gz != nil {
			_ = gw.gz.Close()
		}
		c.Writer = gw.ResponseWriter
	}()
	c.Next()
}

func TestConformance(t *testing.T) {
	conformance.Run(t, mount,
		conformance.CookiesReadFirst(newMount([]gin.HandlerFunc{readCookies}, nil)),
		conformance.WriterSwapped(newMount(nil, []gin.HandlerFunc{gzipMiddleware})))
}

func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
