// Package sesshttp binds sess sessions to net/http. It works with any router
// built on http.Handler: http.ServeMux, chi, gorilla/mux and others.
//
//	m, err := sess.New(sess.Config{Secret: secret})
//	...
//	http.ListenAndServe(addr, sesshttp.Middleware(m)(mux))
//
// Handlers reach the session with From(r), or framework-neutrally with
// sess.FromContext(r.Context()). The session is committed just before the
// response's first byte, so handlers may change it until they write.
package sesshttp

import (
	"net/http"

	sess "github.com/gosess/sess/core"
)

// Middleware returns middleware that loads the session before the next
// handler runs and commits it before the response starts. A store failure
// while loading answers with the Manager's error response (503 by default)
// without running the handler.
func Middleware(m *sess.Manager) func(http.Handler) http.Handler {
	return m.Wrap
}

// From returns the request's session (with several Managers in one
// chain, the innermost one's: see FromManager), or nil if the
// middleware did not run for this request (it is not installed).
// A request with a skip header gets an inert session, never nil.
func From(r *http.Request) *sess.Session {
	s, _ := sess.FromContext(r.Context())
	return s
}

// FromManager returns the session of Manager m, or nil if m's middleware
// did not run for this request. With several Managers in one chain (each
// with its own cookie name) each handler asks for the one it means; From
// returns the innermost one's.
func FromManager(r *http.Request, m *sess.Manager) *sess.Session {
	s, _ := sess.FromContextFor(r.Context(), m)
	return s
}
