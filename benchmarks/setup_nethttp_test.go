package benchmarks

import (
	"maps"
	"net/http"

	"github.com/alexedwards/scs/v2"
	scsmem "github.com/alexedwards/scs/v2/memstore"
	"github.com/gorilla/sessions"
	"github.com/quasoft/memstore"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
)

// httpMux returns a ServeMux serving the three routes, each computing its
// counter with the given function.
func httpMux(hit, read, renew func(w http.ResponseWriter, r *http.Request) (int, bool)) *http.ServeMux {
	mux := http.NewServeMux()
	route := func(f func(w http.ResponseWriter, r *http.Request) (int, bool)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if n, ok := f(w, r); ok {
				writeHTTP(w, n)
			}
		}
	}
	mux.HandleFunc(pathHit, route(hit))
	mux.HandleFunc(pathRead, route(read))
	mux.HandleFunc(pathRenew, route(renew))
	return mux
}

func startNetHTTPBare() (*setup, error) {
	bare := func(http.ResponseWriter, *http.Request) (int, bool) { return bareCounter, true }
	return httpSetup(httpMux(bare, bare, bare), func() {}), nil
}

func startNetHTTPSess() (*setup, error) {
	m, err := newManager()
	if err != nil {
		return nil, err
	}
	mux := httpMux(
		func(_ http.ResponseWriter, r *http.Request) (int, bool) { return sessHit(sesshttp.From(r)), true },
		func(_ http.ResponseWriter, r *http.Request) (int, bool) { return sessRead(sesshttp.From(r)), true },
		func(_ http.ResponseWriter, r *http.Request) (int, bool) { return sessRenew(sesshttp.From(r)), true },
	)
	return httpSetup(sesshttp.Middleware(m)(mux), func() { _ = m.Close() }), nil
}

// startSCS configures scs v2 with its in-memory store.
//
// The store runs without its background cleanup goroutine (which would
// first run after a minute): scs's StopCleanup races with the goroutine's
// start (memstore.go writes stopCleanup inside the goroutine), so a store
// with the goroutine cannot be stopped cleanly under the race detector.
// scs.New still starts one for its default store, which stays idle.
func startSCS() (*setup, error) {
	sm := scs.New()
	sm.Store = scsmem.NewWithCleanupInterval(0)
	sm.Lifetime = lifetime
	sm.Cookie.Name = cookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = false
	sm.Cookie.Persist = true
	mux := httpMux(
		func(_ http.ResponseWriter, r *http.Request) (int, bool) {
			n := sm.GetInt(r.Context(), counterKey) + 1
			sm.Put(r.Context(), counterKey, n)
			return n, true
		},
		func(_ http.ResponseWriter, r *http.Request) (int, bool) {
			return sm.GetInt(r.Context(), counterKey), true
		},
		func(w http.ResponseWriter, r *http.Request) (int, bool) {
			if err := sm.RenewToken(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return 0, false
			}
			return sm.GetInt(r.Context(), counterKey), true
		},
	)
	return httpSetup(sm.LoadAndSave(mux), func() {}), nil
}

// newQuasoftStore returns the gorilla server-side memory store with the
// shared cookie settings. gorilla/sessions, gin-contrib/sessions' memstore
// and echo-contrib/session all keep their data in it.
func newQuasoftStore() *memstore.MemStore {
	st := memstore.NewMemStore(secret)
	st.Options = gorillaOptions()
	st.MaxAge(st.Options.MaxAge)
	return st
}

func gorillaOptions() *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   int(lifetime.Seconds()),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// The handler bodies for a gorilla session, shared by gorilla on net/http,
// gin-contrib/sessions and echo-contrib/session.

func gorillaHit(w http.ResponseWriter, r *http.Request, s *sessions.Session) (int, error) {
	n, _ := s.Values[counterKey].(int)
	n++
	s.Values[counterKey] = n
	return n, s.Save(r, w)
}

func gorillaRead(s *sessions.Session) int {
	n, _ := s.Values[counterKey].(int)
	return n
}

// gorillaRenew gives a session a new ID and keeps its data. gorilla has no
// such call: a careful user deletes the old record (MaxAge -1, which also
// clears the values and sends an expired cookie), then saves the values
// under a new ID (an empty ID makes the store draw one).
func gorillaRenew(w http.ResponseWriter, r *http.Request, s *sessions.Session) (int, error) {
	vals := maps.Clone(s.Values)
	maxAge := s.Options.MaxAge
	s.Options.MaxAge = -1
	if err := s.Save(r, w); err != nil {
		return 0, err
	}
	s.Options.MaxAge = maxAge
	s.ID = ""
	s.Values = vals
	if err := s.Save(r, w); err != nil {
		return 0, err
	}
	return gorillaRead(s), nil
}

// startGorilla configures gorilla/sessions with quasoft/memstore, its
// server-side memory store (performance.md explains the choice).
func startGorilla() (*setup, error) {
	st := newQuasoftStore()
	// An error from Get means a bad cookie; the session it returns is
	// then a new one, as in the other peers.
	get := func(r *http.Request) *sessions.Session {
		s, _ := st.Get(r, cookieName)
		return s
	}
	fail := func(w http.ResponseWriter, err error) (int, bool) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return 0, false
	}
	mux := httpMux(
		func(w http.ResponseWriter, r *http.Request) (int, bool) {
			s := get(r)
			n, err := gorillaHit(w, r, s)
			if err != nil {
				return fail(w, err)
			}
			return n, true
		},
		func(w http.ResponseWriter, r *http.Request) (int, bool) {
			s := get(r)
			return gorillaRead(s), true
		},
		func(w http.ResponseWriter, r *http.Request) (int, bool) {
			s := get(r)
			n, err := gorillaRenew(w, r, s)
			if err != nil {
				return fail(w, err)
			}
			return n, true
		},
	)
	return httpSetup(mux, func() {}), nil
}
