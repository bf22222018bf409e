package sess_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	sess "github.com/gosess/sess/core"
)

// Counters counts session events exactly, for a metrics or health
// endpoint; here one new session and one forged cookie.
func ExampleCounters() {
	var counts sess.Counters
	m, err := sess.New(sess.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Observer: &counts})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	srv := httptest.NewServer(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		s.Set("visits", 1)
	})))
	defer srv.Close()

	resp, _ := http.Get(srv.URL)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Cookie", "sid=forged.value")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()

	fmt.Println(counts.Count(sess.EventCreated), counts.Count(sess.EventInvalidCookie))
	// Output: 2 1
}
