// Command nethttp is the sess demo on net/http: a session counter, login
// and logout, with the in-memory store (or Redis with -redis).
//
//	go run ./examples/nethttp [-addr 127.0.0.1:8080] [-secure] [-redis host:port]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts.
package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
)

func main() { demo.Main("nethttp", serve) }

// serve runs the example on ln until ctx is done.
func serve(ctx context.Context, ln net.Listener, m *sess.Manager) error {
	return demo.ServeHTTP(ctx, ln, newHandler(m))
}

// newHandler returns the example's routes behind the session middleware.
func newHandler(m *sess.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /session_test", sessionTest)
	mux.HandleFunc("POST /login", login)
	mux.HandleFunc("GET /whoami", whoami)
	mux.HandleFunc("POST /logout", logout)
	return sesshttp.Middleware(m)(mux)
}

// sessionTest counts the requests of this session.
func sessionTest(w http.ResponseWriter, r *http.Request) {
	s := sesshttp.From(r)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	writeJSON(w, http.StatusOK, map[string]int{"test_counter": n + 1})
}

// login stores the user under a new session ID.
func login(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	if err := demo.ValidUser(user); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	s := sesshttp.From(r)
	s.Renew() // new ID, same data: defeats session fixation
	s.Set("user", user)
	writeJSON(w, http.StatusOK, map[string]string{"user": user})
}

// whoami reports the logged-in user, or null. It only reads the session,
// so a visitor without one does not get one.
func whoami(w http.ResponseWriter, r *http.Request) {
	if user, ok := sess.Get[string](sesshttp.From(r), "user"); ok {
		writeJSON(w, http.StatusOK, map[string]string{"user": user})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": nil})
}

// logout ends the session: its record is deleted and the cookie expired.
func logout(w http.ResponseWriter, r *http.Request) {
	sesshttp.From(r).Destroy()
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

// page shows the counter and the user, with buttons calling the routes.
func page(w http.ResponseWriter, r *http.Request) {
	s := sesshttp.From(r)
	n, _ := sess.Get[int](s, "test_counter")
	user, _ := sess.Get[string](s, "user")
	for k, v := range demo.PageHeaders {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", demo.PageContentType)
	_, _ = w.Write(demo.Page("net/http", n, user))
}

// writeJSON answers v as JSON. The session is committed (and its cookie
// added) when the status is written, so handlers change it before.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
