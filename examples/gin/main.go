// Command gin is the sess demo on gin: a session counter, login and logout,
// with the in-memory store (or Redis with -redis).
//
//	go run ./examples/gin [-addr 127.0.0.1:8080] [-secure] [-redis host:port]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts.
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
	return r
}

// sessionTest counts the requests of this session.
func sessionTest(c *gin.Context) {
	s := sessgin.From(c)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	c.JSON(http.StatusOK, gin.H{"test_counter": n + 1})
}

// login stores the user under a new session ID.
func login(c *gin.Context) {
	user := c.Query("user")
	if err := demo.ValidUser(user); err != nil {
		c.JSON(http.StatusBadRequest, gin.H{"error": err.Error()})
		return
	}
	s := sessgin.From(c)
	s.Renew() // new ID, same data: defeats session fixation
	s.Set("user", user)
	c.JSON(http.StatusOK, gin.H{"user": user})
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
