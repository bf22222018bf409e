package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"

	sess "github.com/gosess/sess/core"
)

func Example() {
	m, err := sess.New(sess.Config{Secret: []byte("example-secret-0123456789abcdef-0123"), DisableSecure: true})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	srv := httptest.NewServer(server(m))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	for range 3 {
		resp, err := client.Get(srv.URL + "/session_test")
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(strings.TrimSpace(string(body)))
	}
	// Output:
	// {"test_counter":1}
	// {"test_counter":2}
	// {"test_counter":3}
}
