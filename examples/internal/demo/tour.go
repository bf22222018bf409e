package demo

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"

	sess "github.com/gosess/sess/core"
)

// ExampleManager returns the Manager the examples' Example functions use: a
// fixed secret, and Secure off because they serve plain HTTP.
func ExampleManager() *sess.Manager {
	m, err := sess.New(sess.Config{Secret: []byte("example-secret-0123456789abcdef-0123"), DisableSecure: true})
	if err != nil {
		panic(err)
	}
	return m
}

// Tour walks the demo's routes on the server at base with one cookie jar,
// as the page's buttons do, printing "METHOD PATH STATUS BODY" per request.
// (GET /sessions while logged in is left out: its times change per run.)
func Tour(base string) {
	c := newClient()
	for _, step := range []struct{ method, path string }{
		{"GET", "/session_test"},
		{"POST", "/login?user=alice&remember=1"},
		{"GET", "/whoami"},
		{"GET", "/session_test"},
		{"POST", "/sessions/revoke-others"},
		{"POST", "/logout"},
		{"GET", "/whoami"},
		{"GET", "/sessions"},
		{"POST", "/login?user="},
	} {
		status, body := call(c, step.method, base+step.path)
		fmt.Println(step.method, step.path, status, body)
	}
}

// Count asks the server at base for /session_test n times with one cookie
// jar and prints each body: the seed's counter example.
func Count(base string, n int) {
	c := newClient()
	for range n {
		_, body := call(c, "GET", base+"/session_test")
		fmt.Println(body)
	}
}

func newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func call(c *http.Client, method, url string) (int, string) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		panic(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}
