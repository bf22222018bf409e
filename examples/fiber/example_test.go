package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"

	sess "github.com/gosess/sess/core"
)

// Example walks through the demo's routes with a cookie jar, as the page's
// buttons do.
func Example() {
	m, err := sess.New(sess.Config{Secret: []byte("example-secret-0123456789abcdef-0123"), DisableSecure: true})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	app := newApp(m)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = app.Listener(ln) }()
	defer app.Shutdown()
	base := "http://" + ln.Addr().String()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	call := func(method, path string) {
		req, _ := http.NewRequest(method, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		fmt.Println(method, path, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	call("GET", "/session_test")
	call("POST", "/login?user=alice")
	call("GET", "/whoami")
	call("GET", "/session_test")
	call("POST", "/logout")
	call("GET", "/whoami")
	call("POST", "/login?user=")
	// Output:
	// GET /session_test 200 {"test_counter":1}
	// POST /login?user=alice 200 {"user":"alice"}
	// GET /whoami 200 {"user":"alice"}
	// GET /session_test 200 {"test_counter":2}
	// POST /logout 200 {"ok":true}
	// GET /whoami 200 {"user":null}
	// POST /login?user= 400 {"error":"user name is empty"}
}
