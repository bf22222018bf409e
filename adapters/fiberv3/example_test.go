package sessfiberv3_test

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"

	"github.com/gofiber/fiber/v3"

	sessfiberv3 "github.com/gosess/sess/adapters/fiberv3"
	sess "github.com/gosess/sess/core"
)

func Example() {
	m, err := sess.New(sess.Config{Secret: []byte("use-32-or-more-random-bytes-here")})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	app := fiber.New()
	app.Use(sessfiberv3.Middleware(m))
	app.Get("/visit", func(c fiber.Ctx) error {
		s := sessfiberv3.From(c)
		n, _ := sess.Get[int](s, "visits")
		s.Set("visits", n+1)
		return c.SendString(fmt.Sprintf("visit %d", n+1))
	})

	resp, err := app.Test(httptest.NewRequest("GET", "/visit", nil))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	fmt.Println("Set-Cookie present:", resp.Header.Get("Set-Cookie") != "")
	// Output:
	// 200 visit 1
	// Set-Cookie present: true
}
