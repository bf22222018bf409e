package sess_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"

	sess "github.com/gosess/sess/core"
)

// A user signs in on two devices, sees both sessions, and logs out
// everywhere else from the first.
func ExampleSession_SetPrincipal() {
	m, err := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!")})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		s.Renew()
		if err := s.SetPrincipal(r.FormValue("user")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.Set("device", r.FormValue("device"))
	})
	mux.HandleFunc("GET /sessions", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		if s.Principal() == "" {
			http.Error(w, "signed out", http.StatusUnauthorized)
			return
		}
		infos, err := m.Sessions(r.Context(), s.Principal())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		var devices []string
		for _, info := range infos {
			d, _ := info.Get("device")
			if info.Handle == s.Handle() {
				d = fmt.Sprint(d, " (this one)")
			}
			devices = append(devices, fmt.Sprint(d))
		}
		slices.Sort(devices)
		fmt.Fprint(w, strings.Join(devices, ", "))
	})
	mux.HandleFunc("POST /logout-others", func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		n, err := s.RevokeOthers(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, "ended %d", n)
	})
	handler := m.Wrap(mux)

	// do sends one request with a device's cookie and keeps the new one.
	do := func(cookie *string, method, target string) string {
		req := httptest.NewRequest(method, target, nil)
		if *cookie != "" {
			req.Header.Set("Cookie", *cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if c := rec.Header().Get("Set-Cookie"); c != "" {
			*cookie = strings.SplitN(c, ";", 2)[0]
		}
		return rec.Body.String()
	}
	var laptop, phone string
	do(&laptop, "POST", "/login?user=ann&device=laptop")
	do(&phone, "POST", "/login?user=ann&device=phone")
	fmt.Println(do(&laptop, "GET", "/sessions"))
	fmt.Println(do(&laptop, "POST", "/logout-others"))
	fmt.Println(do(&laptop, "GET", "/sessions"))
	fmt.Print("phone: ", do(&phone, "GET", "/sessions"))
	// Output:
	// laptop (this one), phone
	// ended 1
	// laptop (this one)
	// phone: signed out
}
