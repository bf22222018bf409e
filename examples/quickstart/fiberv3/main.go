// Command fiberv3 is the README quick start for fiber v3: a session counter
// at /session_test.
//
//	SESSION_SECRET=$(openssl rand -base64 32) go run ./examples/quickstart/fiberv3
//	curl -c jar -b jar http://127.0.0.1:8080/session_test   # {"test_counter":1}, then 2, 3...
package main

import (
	"log"
	"os"

	"github.com/gofiber/fiber/v3"
	sessfiberv3 "github.com/gosess/sess/adapters/fiberv3"
	sess "github.com/gosess/sess/core"
)

func main() {
	m, err := sess.New(sess.Config{
		Secret:        []byte(os.Getenv("SESSION_SECRET")), // at least 32 random bytes
		DisableSecure: true,                                // plain-HTTP demo only: delete behind HTTPS
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(app(m).Listen("127.0.0.1:8080"))
}

func app(m *sess.Manager) *fiber.App {
	app := fiber.New()
	app.Use(sessfiberv3.Middleware(m))
	app.Get("/session_test", func(c fiber.Ctx) error {
		s := sessfiberv3.From(c)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		return c.JSON(fiber.Map{"test_counter": n + 1})
	})
	return app
}
