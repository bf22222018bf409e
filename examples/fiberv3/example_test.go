package main

import (
	"net"

	"github.com/gofiber/fiber/v3"

	"github.com/gosess/sess/examples/internal/demo"
)

// Example walks through the demo's routes with a cookie jar, as the page's
// buttons do.
func Example() {
	m := demo.ExampleManager()
	defer m.Close()
	app := newApp(m)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	defer app.Shutdown()
	demo.Tour("http://" + ln.Addr().String())
	// Output:
	// GET /session_test 200 {"test_counter":1}
	// POST /login?user=alice&remember=1 200 {"user":"alice"}
	// GET /whoami 200 {"user":"alice"}
	// GET /session_test 200 {"test_counter":2}
	// POST /sessions/revoke-others 200 {"revoked":0}
	// POST /logout 200 {"ok":true}
	// GET /whoami 200 {"user":null}
	// GET /sessions 401 {"error":"not logged in"}
	// POST /login?user= 400 {"error":"user name is empty"}
}
