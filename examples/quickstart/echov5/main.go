// Command echov5 is the README quick start for echo v5: a session counter
// at /session_test.
//
//	SESSION_SECRET=$(openssl rand -base64 32) go run ./examples/quickstart/echov5
//	curl -c jar -b jar http://127.0.0.1:8080/session_test   # {"test_counter":1}, then 2, 3...
package main

import (
	"context"
	"log"
	"net/http"
	"os"

	sessechov5 "github.com/gosess/sess/adapters/echov5"
	sess "github.com/gosess/sess/core"
	"github.com/labstack/echo/v5"
)

func main() {
	m, err := sess.New(sess.Config{
		Secret:        []byte(os.Getenv("SESSION_SECRET")), // at least 32 random bytes
		DisableSecure: true,                                // plain-HTTP demo only: delete behind HTTPS
	})
	if err != nil {
		log.Fatal(err)
	}
	sc := echo.StartConfig{Address: "127.0.0.1:8080"}
	log.Fatal(sc.Start(context.Background(), server(m)))
}

func server(m *sess.Manager) *echo.Echo {
	e := echo.New()
	e.Use(sessechov5.Middleware(m))
	e.GET("/session_test", func(c *echo.Context) error {
		s := sessechov5.From(c)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		return c.JSON(http.StatusOK, map[string]int{"test_counter": n + 1})
	})
	return e
}
