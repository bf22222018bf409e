package sess_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	sess "github.com/gosess/sess/core"
)

// The seed's counter example on net/http (sesshttp.Middleware(m) is m.Wrap).
func Example() {
	m, err := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!")})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	counter := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		fmt.Fprintf(w, `{"test_counter": %d}`, n+1)
	})
	handler := m.Wrap(counter) // what sesshttp.Middleware(m) returns

	var cookie string
	for range 3 {
		req := httptest.NewRequest("GET", "/session_test", nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if c := rec.Header().Get("Set-Cookie"); c != "" {
			cookie = strings.SplitN(c, ";", 2)[0]
		}
		fmt.Println(rec.Body.String())
	}
	// Output:
	// {"test_counter": 1}
	// {"test_counter": 2}
	// {"test_counter": 3}
}

func ExampleGet() {
	m, _ := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!")})
	defer m.Close()
	// A session outside a server: the lifecycle of a request nobody sends.
	s := m.BeginHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)).Session()

	type cart struct{ Items []string }
	s.Set("user", "ann")
	s.Set("cart", cart{Items: []string{"apple"}})

	user, ok := sess.Get[string](s, "user")
	fmt.Println(user, ok)
	_, ok = sess.Get[int](s, "user") // wrong type
	fmt.Println(ok)
	c, _ := sess.Get[cart](s, "cart")
	fmt.Println(c.Items)
	// Output:
	// ann true
	// false
	// [apple]
}

func ExampleNew() {
	_, err := sess.New(sess.Config{Secret: []byte("too short")})
	fmt.Println(err)
	// Output:
	// sess: invalid config: Secret is 9 bytes, need at least 32
}

// The handler-side API, as a handler would use it (here on a session loaded
// outside a server).
func ExampleSession() {
	m, _ := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!")})
	defer m.Close()
	// A session outside a server: the lifecycle of a request nobody sends.
	s := m.BeginHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)).Session()

	type Cart struct{ Items []string }
	s.Set("user", "ann")                        // any value
	s.Set("cart", Cart{Items: []string{"tea"}}) // your own types too
	s.Set("flash", "saved!")

	v, ok := s.Get("user")                 // (any, bool)
	name, _ := sess.Get[string](s, "user") // typed; false if missing or of another type
	cart, _ := sess.Get[Cart](s, "cart")   // your own types come back as themselves
	raw, _ := s.Get("cart")                // map[string]any: the codec's form, in every request
	flash, _ := s.Pop("flash")             // read and delete: flash messages
	fmt.Println(v, ok, name, cart.Items, raw, flash)
	fmt.Println(s.Keys(), s.Len(), s.IsNew())

	s.Delete("cart")
	s.Renew()   // at login: new ID, data kept, old ID dead at commit
	s.Destroy() // at logout: record deleted, cookie expired at commit
	fmt.Println(s.Len(), s.ID() == "")
	// Output:
	// ann true ann [tea] map[Items:[tea]] saved!
	// [cart user] 2 true
	// 0 true
}
