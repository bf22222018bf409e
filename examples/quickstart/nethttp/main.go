// Command nethttp is the README quick start for net/http: a session
// counter at /session_test.
//
//	SESSION_SECRET=$(openssl rand -base64 32) go run ./examples/quickstart/nethttp
//	curl -c jar -b jar http://127.0.0.1:8080/session_test   # {"test_counter":1}, then 2, 3...
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
)

func main() {
	m, err := sess.New(sess.Config{
		Secret:        []byte(os.Getenv("SESSION_SECRET")), // at least 32 random bytes
		DisableSecure: true,                                // plain-HTTP demo only: delete behind HTTPS
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: routes(m), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func routes(m *sess.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /session_test", func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int{"test_counter": n + 1})
	})
	return sesshttp.Middleware(m)(mux)
}
