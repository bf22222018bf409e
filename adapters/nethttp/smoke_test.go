package sesshttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
)

func TestSmoke(t *testing.T) {
	m, err := sess.New(sess.Config{Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/session_test", func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		fmt.Fprintf(w, `{"test_counter": %d}`, n+1)
	})
	srv := httptest.NewTLSServer(sesshttp.Middleware(m)(mux))
	defer srv.Close()
	c := srv.Client()
	c.Jar, _ = cookiejar.New(nil)
	for i := 1; i <= 3; i++ {
		resp, err := c.Get(srv.URL + "/session_test")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("%s %q %v", b, resp.Header.Values("Set-Cookie"), resp.Header.Values("Vary"))
	}
}
