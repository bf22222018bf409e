package main

import (
	"fmt"
	"io"
	"net/http/httptest"

	"github.com/gosess/sess/examples/internal/demo"
)

func Example() {
	m := demo.ExampleManager()
	defer m.Close()
	app := app(m)

	var cookie string // what a browser would keep
	for range 3 {
		req := httptest.NewRequest("GET", "/session_test", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := app.Test(req)
		if err != nil {
			panic(err)
		}
		for _, c := range resp.Cookies() {
			cookie = c.Name + "=" + c.Value
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// {"test_counter":1}
	// {"test_counter":2}
	// {"test_counter":3}
}
