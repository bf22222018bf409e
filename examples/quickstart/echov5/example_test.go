package main

import (
	"net/http/httptest"

	"github.com/gosess/sess/examples/internal/demo"
)

func Example() {
	m := demo.ExampleManager()
	defer m.Close()
	srv := httptest.NewServer(server(m))
	defer srv.Close()
	demo.Count(srv.URL, 3)
	// Output:
	// {"test_counter":1}
	// {"test_counter":2}
	// {"test_counter":3}
}
