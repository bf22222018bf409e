// Command gin is the sess demo on gin: a session counter, login (with
// "remember me") and logout, and the user's list of sessions with "log out"
// per session and "log out everywhere else"; sessions are kept in memory
// (or in Redis with -redis, in PostgreSQL with -postgres).
//
//	go run ./examples/gin [-addr 127.0.0.1:8080] [-secure] [-redis host:port | -postgres DSN]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts. The routes:
//
//	GET  /                              the page
//	GET  /session_test                  count this session's requests
//	POST /login?user=U[&remember=1]     log in (remember=1: persistent cookie)
//	GET  /whoami                        the logged-in user, or null
//	POST /logout                        end this session
//	GET  /sessions                      the user's sessions; this one's deadlines
//	POST /sessions/revoke?handle=H      end one of the user's sessions
//	POST /sessions/revoke-others        end all the user's other sessions
//
// Login and the last three routes are thin bindings of the demo package's
// Login, ListSessions, RevokeSession and RevokeOthers.
package main

import (
	"context"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"
	sessgin "github.com/gosess/sess/adapters/gin"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
)

func main() { demo.Main("gin", serve) }

// serve runs the example on ln until ctx is done. gin's engine is an
// http.Handler; an http.Server around it (rather than r.Run) allows a
// graceful shutdown.
func serve(ctx context.Context, ln net.Listener, m *sess.Manager) error {
	return demo.ServeHTTP(ctx, ln, newRouter(m))
}

// newRouter returns the example's routes behind the session middleware.
func newRouter(m *sess.Manager) *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(gin.Recovery(), sessgin.Middleware(m))
	r.GET("/", page)
	r.GET("/session_test", sessionTest)
	r.POST("/login", login)
	r.GET("/whoami", whoami)
	r.POST("/logout", logout)
	r.GET("/sessions", sessions(m))
	r.POST("/sessions/revoke", revoke(m))
	r.POST("/sessions/revoke-others", revokeOthers)
	return r
}

// sessionTest counts the requests of this session.
func sessionTest(c *gin.Context) {
	s := sessgin.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	c.JSON(http.StatusOK, gin.H{"test_counter": n + 1})
}

// login logs the session in under a new session ID (demo.Login), with a
// persistent cookie if remember=1.
func login(c *gin.Context) {
	c.JSON(demo.Login(sessgin.From(c), c.Query("user"), c.Query("remember"), c.Request.UserAgent()))
}

// sessions lists the user's sessions (demo.ListSessions).
func sessions(m *sess.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(demo.ListSessions(c.Request.Context(), m, sessgin.From(c)))
	}
}

// revoke ends one of the user's sessions by handle (demo.RevokeSession).
func revoke(m *sess.Manager) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.JSON(demo.RevokeSession(c.Request.Context(), m, sessgin.From(c), c.Query("handle")))
	}
}

// revokeOthers ends the user's other sessions (demo.RevokeOthers).
func revokeOthers(c *gin.Context) {
	c.JSON(demo.RevokeOthers(c.Request.Context(), sessgin.From(c)))
}

// whoami reports the logged-in user, or null. It only reads the session,
// so a visitor without one does not get one.
func whoami(c *gin.Context) {
	if user, ok := sess.Get[string](sessgin.From(c), "user"); ok {
		c.JSON(http.StatusOK, gin.H{"user": user})
		return
	}
	c.JSON(http.StatusOK, gin.H{"user": nil})
}

// logout ends the session: its record is deleted and the cookie expired.
func logout(c *gin.Context) {
	sessgin.From(c).Destroy()
	c.JSON(http.StatusOK, gin.H{"ok": true})
}

// page shows the counter and the user, with buttons calling the routes.
func page(c *gin.Context) {
	s := sessgin.From(c)
	n, _ := sess.Get[int](s, "test_counter")
	user, _ := sess.Get[string](s, "user")
	for k, v := range demo.PageHeaders {
		c.Header(k, v)
	}
	c.Data(http.StatusOK, demo.PageContentType, demo.Page("gin", n, user))
}
