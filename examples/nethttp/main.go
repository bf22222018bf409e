// Command nethttp is the sess demo on net/http: a session counter, login (with
// "remember me") and logout, and the user's list of sessions with "log out"
// per session and "log out everywhere else"; sessions are kept in memory
// (or in Redis with -redis, in PostgreSQL with -postgres).
//
//	go run ./examples/nethttp [-addr 127.0.0.1:8080] [-secure] [-redis host:port | -postgres DSN]
//
// Then open http://127.0.0.1:8080/. Set SESSION_SECRET (at least 32 bytes)
// to keep sessions valid across restarts. The routes:
//
//	GET  /                              the page
//	GET  /session_test                  count this session's requests
//	POST /login?user=U[&remember=1]     log in (remember=1: persistent cookie)
//	GET  /whoami                        the logged-in user, or null
//	POST /logout                        end this session
//	GET  /sessions                      the user's sessions; this one's deadlines
//	POST /sessions/revoke?handle=H      end one of the user's sessions
//	POST /sessions/revoke-others        end all the user's other sessions
//
// Login and the last three routes are thin bindings of the demo package's
// Login, ListSessions, RevokeSession and RevokeOthers.
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
	mux.HandleFunc("GET /sessions", sessions(m))
	mux.HandleFunc("POST /sessions/revoke", revoke(m))
	mux.HandleFunc("POST /sessions/revoke-others", revokeOthers)
	return sesshttp.Middleware(m)(mux)
}

// sessionTest counts the requests of this session.
func sessionTest(w http.ResponseWriter, r *http.Request) {
	s := sesshttp.From(r)
	n, _ := sess.Get[int](s, "test_counter") // 0 when unset
	s.Set("test_counter", n+1)
	writeJSON(w, http.StatusOK, map[string]int{"test_counter": n + 1})
}

// login logs the session in under a new session ID (demo.Login), with a
// persistent cookie if remember=1.
func login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status, body := demo.Login(sesshttp.From(r), q.Get("user"), q.Get("remember"), r.UserAgent())
	writeJSON(w, status, body)
}

// sessions lists the user's sessions (demo.ListSessions).
func sessions(m *sess.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, body := demo.ListSessions(r.Context(), m, sesshttp.From(r))
		writeJSON(w, status, body)
	}
}

// revoke ends one of the user's sessions by handle (demo.RevokeSession).
func revoke(m *sess.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, body := demo.RevokeSession(r.Context(), m, sesshttp.From(r), r.URL.Query().Get("handle"))
		writeJSON(w, status, body)
	}
}

// revokeOthers ends the user's other sessions (demo.RevokeOthers).
func revokeOthers(w http.ResponseWriter, r *http.Request) {
	status, body := demo.RevokeOthers(r.Context(), sesshttp.From(r))
	writeJSON(w, status, body)
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
