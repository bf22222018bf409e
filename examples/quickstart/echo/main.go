// Command echo is the README quick start for echo: a session counter at
// /session_test.
//
//	SESSION_SECRET=$(openssl rand -base64 32) go run ./examples/quickstart/echo
//	curl -c jar -b jar http://127.0.0.1:8080/session_test   # {"test_counter":1}, then 2, 3...
package main

import (
	"log"
	"net/http"
	"os"

	sessecho "github.com/gosess/sess/adapters/echo"
	sess "github.com/gosess/sess/core"
	"github.com/labstack/echo/v4"
)

func main() {
	m, err := sess.New(sess.Config{
		Secret:        []byte(os.Getenv("SESSION_SECRET")), // at least 32 random bytes
		DisableSecure: true,                                // plain-HTTP demo only: delete behind HTTPS
	})
	if err != nil {
		log.Fatal(err)
	}
	e := server(m)
	e.Logger.Fatal(e.Start("127.0.0.1:8080"))
}

func server(m *sess.Manager) *echo.Echo {
	e := echo.New()
	e.Use(sessecho.Middleware(m))
	e.GET("/session_test", func(c echo.Context) error {
		s := sessecho.From(c)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		return c.JSON(http.StatusOK, map[string]int{"test_counter": n + 1})
	})
	return e
}
