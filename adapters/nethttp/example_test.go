package sesshttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
)

// The seed's counter example on a plain ServeMux (chi and gorilla/mux take
// the same middleware).
func ExampleMiddleware() {
	m, err := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!")})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /session_test", func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		fmt.Fprintf(w, `{"test_counter": %d}`, n+1)
	})
	handler := sesshttp.Middleware(m)(mux)

	var cookie string
	for range 2 {
		req := httptest.NewRequest("GET", "/session_test", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		setCookie := rec.Header().Get("Set-Cookie")
		if setCookie != "" {
			cookie = strings.SplitN(setCookie, ";", 2)[0]
		}
		fmt.Println(rec.Code, rec.Body.String(), "Set-Cookie present:", setCookie != "")
	}
	// Output:
	// 200 {"test_counter": 1} Set-Cookie present: true
	// 200 {"test_counter": 2} Set-Cookie present: false
}

// Handlers that do not know about sesshttp reach the session through the
// request context.
func ExampleFrom() {
	m, _ := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!")})
	defer m.Close()
	h := sesshttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		viaContext, _ := sess.FromContext(r.Context())
		fmt.Println(sesshttp.From(r) == viaContext)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output: true
}
