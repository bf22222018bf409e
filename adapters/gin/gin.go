// Package sessgin binds sess sessions to the gin web framework.
//
//	m, err := sess.New(sess.Config{Secret: secret})
//	...
//	r := gin.New()
//	r.Use(sessgin.Middleware(m))
//	r.GET("/", func(c *gin.Context) {
//		s := sessgin.From(c)
//		n, _ := sess.Get[int](s, "visits")
//		s.Set("visits", n+1)
//		c.String(http.StatusOK, "visit %d", n+1)
//	})
//
// Handlers reach the session with From(c), through gin's per-request bag
// as c.Get("session") (the key is Config.ObjectName), or framework-neutrally
// with sess.FromContext(c.Request.Context()).
//
// The session is committed just before the response's first byte: when the
// handler first writes a body, flushes, hijacks the connection or forces the
// header out (c.JSON, c.String, c.Stream, c.AbortWithStatus, ...), or, for a
// handler that writes nothing, right after the handler chain returns. Until
// then handlers may change the session freely. c.Status alone only records
// the status in gin, so it does not commit: the status the response
// actually starts with is the one the commit sees.
//
// Errors attached with c.Error do not write a response by themselves; the
// session is committed with whatever status gin ends up sending. A 5xx
// response saves nothing unless Config.SaveOnServerError is set.
package sessgin

import (
	"bufio"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
	sess "github.com/gosess/sess/core"
)

// Middleware returns gin middleware that loads the session before the next
// handlers run and commits it before the response starts. A store failure
// while loading answers with the Manager's error response (503 by default)
// and aborts the chain without running the handlers; the error is also
// attached to the context with c.Error for gin's logger. Install it with
// Engine.Use or RouterGroup.Use, before any handler that uses the session.
func Middleware(m *sess.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		orig := c.Writer
		x := m.BeginHTTP(orig, c.Request)
		if x.Err() != nil { // the error response is written
			_ = c.Error(x.Err())
			c.Abort()
			return
		}
		c.Set(m.ObjectName(), x.Session())
		c.Request = c.Request.WithContext(x.Context())
		c.Writer = &writer{ResponseWriter: orig, x: x}
		c.Next()
		// Not deferred: if a handler panics, gin.Recovery answers through
		// the wrapper, so the commit still sees the 500.
		c.Writer = orig
		// gin's engine sends the header of a handler that wrote nothing
		// through its own writer, bypassing c.Writer: commit now.
		x.End(orig.Status())
	}
}

// From returns the request's session (with several Managers in one
// chain, the innermost one's: see FromManager), or nil if the
// middleware did not run for this request (it is not installed).
// A request with a skip header gets an inert session, never nil.
func From(c *gin.Context) *sess.Session {
	if c == nil || c.Request == nil {
		return nil
	}
	s, _ := sess.FromContext(c.Request.Context())
	return s
}

// writer replaces c.Writer while the handlers run. Every method through
// which gin starts the response commits the session first, with the status
// gin has recorded; when the commit fails, the core has already written the
// error response through gin's writer and the handler's output is dropped.
// WriteHeader is not hooked: in gin it only records the status, which may
// still change.
type writer struct {
	gin.ResponseWriter
	x *sess.Lifecycle
}

func (w *writer) start() bool { return w.x.Start(w.ResponseWriter.Status()) }

func (w *writer) Write(b []byte) (int, error) {
	if !w.start() {
		return 0, sess.ErrCommitFailed
	}
	return w.ResponseWriter.Write(b)
}

func (w *writer) WriteString(s string) (int, error) {
	if !w.start() {
		return 0, sess.ErrCommitFailed
	}
	return w.ResponseWriter.WriteString(s)
}

func (w *writer) WriteHeaderNow() {
	if w.start() {
		w.ResponseWriter.WriteHeaderNow()
	}
}

func (w *writer) Flush() {
	if w.start() {
		w.ResponseWriter.Flush()
	}
}

// Hijack commits the session as for a protocol switch: a hijacked
// connection carries no header the session could add later.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !w.x.Start(http.StatusSwitchingProtocols) {
		return nil, nil, sess.ErrCommitFailed
	}
	return w.ResponseWriter.Hijack()
}

// Unwrap returns gin's writer, for http.ResponseController (deadlines,
// EnableFullDuplex); Flush and Hijack are found on writer itself.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// FromManager returns the session of Manager m, or nil if m's middleware
// did not run for this request. With several Managers in one chain (each
// with its own cookie name) each handler asks for the one it means; From
// returns the innermost one's.
func FromManager(c *gin.Context, m *sess.Manager) *sess.Session {
	if c == nil || c.Request == nil {
		return nil
	}
	s, _ := sess.FromContextFor(c.Request.Context(), m)
	return s
}
