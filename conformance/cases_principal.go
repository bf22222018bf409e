package conformance

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	sess "github.com/gosess/sess/core"
)

// indexedFaultyStore is the case's faulty store for a wrapped store that
// implements sess.PrincipalIndex: it forwards the index, counting calls.
type indexedFaultyStore struct {
	*faultyStore
	index sess.PrincipalIndex
	calls atomic.Int64
}

// ListPrincipal implements sess.PrincipalIndex.
func (s *indexedFaultyStore) ListPrincipal(ctx context.Context, principal string) ([]sess.IndexedRecord, error) {
	s.calls.Add(1)
	return s.index.ListPrincipal(ctx, principal)
}

// GetHandle implements sess.PrincipalIndex.
func (s *indexedFaultyStore) GetHandle(ctx context.Context, handle string) (sess.IndexedRecord, error) {
	s.calls.Add(1)
	return s.index.GetHandle(ctx, handle)
}

// DeleteHandle implements sess.PrincipalIndex.
func (s *indexedFaultyStore) DeleteHandle(ctx context.Context, handle, principal string) error {
	s.calls.Add(1)
	return s.index.DeleteHandle(ctx, handle, principal)
}

// DeletePrincipal implements sess.PrincipalIndex.
func (s *indexedFaultyStore) DeletePrincipal(ctx context.Context, principal string, keep []string) (int, error) {
	s.calls.Add(1)
	return s.index.DeletePrincipal(ctx, principal, keep)
}

// caseStore returns the store a case's Manager gets: the faulty store,
// with the wrapped store's PrincipalIndex if it has one.
func (e *env) caseStore(inner sess.Store) sess.Store {
	if x, ok := inner.(sess.PrincipalIndex); ok {
		e.indexed = &indexedFaultyStore{faultyStore: e.store, index: x}
		return e.indexed
	}
	return e.store
}

// principalOp runs the handler operations of the principal cases:
//
//   - login: Renew, then SetPrincipal(p) and a Set of ua=v; answers "ok",
//     "noindex" or "invalid";
//   - whoami: answers Session.Principal and Handle;
//   - sessions: answers the handles of the principal's sessions, the
//     current one marked with a leading "*", and each one's ua value;
//   - revoke: Manager.Revoke of handle h for the session's principal;
//     answers "ok", "notfound" or "invalid";
//   - revokeothers: Session.RevokeOthers; answers the count.
func (e *env) principalOp(x Exchange, s *sess.Session, op string, q func(string) string) (bool, error) {
	ctx := x.Context()
	switch op {
	case "login":
		if q("renew") != "" {
			s.Renew()
		}
		err := s.SetPrincipal(q("p"))
		switch {
		case errors.Is(err, sess.ErrNoPrincipalIndex):
			return true, x.String(http.StatusOK, "noindex")
		case errors.Is(err, sess.ErrInvalidPrincipal):
			return true, x.String(http.StatusOK, "invalid")
		case err != nil:
			return true, x.String(http.StatusOK, "error: "+err.Error())
		}
		if v := q("v"); v != "" {
			s.Set("ua", v)
		}
		return true, x.String(http.StatusOK, "ok")
	case "whoami":
		return true, x.String(http.StatusOK, s.Principal()+" "+s.Handle())
	case "sessions":
		infos, err := e.m.Sessions(ctx, s.Principal())
		if err != nil {
			return true, x.String(http.StatusOK, "error: "+err.Error())
		}
		cur := s.Handle()
		var out []string
		for _, info := range infos {
			ua, _ := info.Get("ua")
			mark := ""
			if info.Handle == cur {
				mark = "*"
			}
			out = append(out, fmt.Sprintf("%s%s=%v", mark, info.Handle, ua))
		}
		return true, x.String(http.StatusOK, strings.Join(out, ","))
	case "revoke":
		err := e.m.Revoke(ctx, s.Principal(), q("h"))
		switch {
		case err == nil:
			return true, x.String(http.StatusOK, "ok")
		case errors.Is(err, sess.ErrNotFound):
			return true, x.String(http.StatusOK, "notfound")
		case errors.Is(err, sess.ErrInvalidHandle), errors.Is(err, sess.ErrInvalidPrincipal):
			return true, x.String(http.StatusOK, "invalid")
		}
		return true, x.String(http.StatusOK, "error: "+err.Error())
	case "revokeothers":
		n, err := s.RevokeOthers(ctx)
		if err != nil {
			return true, x.String(http.StatusOK, "error: "+err.Error())
		}
		return true, x.String(http.StatusOK, strconv.Itoa(n))
	}
	return false, nil
}

// listed parses a "sessions" answer into handle -> ua, and the current
// handle.
func listed(body string) (map[string]string, string) {
	out := map[string]string{}
	cur := ""
	for _, item := range strings.Split(body, ",") {
		if item == "" {
			continue
		}
		h, ua, _ := strings.Cut(item, "=")
		if c, ok := strings.CutPrefix(h, "*"); ok {
			h, cur = c, c
		}
		out[h] = ua
	}
	return out, cur
}

// loginAs logs a new client in as principal (with a renewal, as a login
// does) and returns it and its handle.
func (e *env) loginAs(principal, ua string) (*client, string) {
	e.t.Helper()
	c := e.newClient()
	c.must("op", "set", "k", "pre", "v", "1")
	r := c.must("op", "login", "p", principal, "v", ua, "renew", "1")
	if r.body == "noindex" {
		e.t.Skipf("the case's store (%T) does not implement sess.PrincipalIndex", e.store.Store)
	}
	e.wantBody(r, "ok", "SetPrincipal must succeed with a store that keeps a principal index")
	who := c.must("op", "whoami").body
	p, h, _ := strings.Cut(who, " ")
	if p != principal || len(h) != 64 {
		e.fatal("a bound session must report its principal and handle on the next request", "whoami = %q", who)
	}
	return c, h
}

var principalCases = []testCase{
	{
		name: "PrincipalListAndRevoke",
		why:  "a user must see their sessions (devices) and end one or all others at once; a handle of another user's session must end nothing",
		run: func(e *env) {
			a, ha := e.loginAs("alice", "laptop")
			b, hb := e.loginAs("alice", "phone")
			_, hc := e.loginAs("alice", "tablet")
			m, hm := e.loginAs("mallory", "attacker")
			got, cur := listed(a.must("op", "sessions").body)
			want := map[string]string{ha: "laptop", hb: "phone", hc: "tablet"}
			if !maps.Equal(got, want) || cur != ha {
				e.fatal("Sessions must list exactly the principal's live sessions, with their data, and the current one", "got %v (current %q), want %v (current %q)", got, cur, want, ha)
			}
			e.wantBody(m.must("op", "revoke", "h", ha), "notfound", "a user must not be able to end another user's session by its handle")
			e.wantBody(a.must("op", "whoami"), "alice "+ha, "a session another user tried to revoke must live on")
			e.wantBody(a.must("op", "revoke", "h", "../"+hb[3:]), "invalid", "a malformed handle must be refused before any store access")
			e.wantBody(a.must("op", "revoke", "h", hb), "ok", "a user must be able to end one of their sessions")
			r := b.must("op", "whoami")
			e.wantBody(r, " ", "a revoked session must be dead at once: its next request is a new, unbound session")
			e.wantBody(b.must("op", "get", "k", "ua"), none, "a revoked session's data must be gone")
			e.wantBody(a.must("op", "revokeothers"), "1", "RevokeOthers must end the one remaining other session")
			got, _ = listed(a.must("op", "sessions").body)
			if !maps.Equal(got, map[string]string{ha: "laptop"}) {
				e.fail("after ending every other session only the current one is listed", "got %v", got)
			}
			e.wantBody(m.must("op", "whoami"), "mallory "+hm, "another user's sessions must survive RevokeOthers")
		},
	},
	{
		name: "PrincipalSurvivesRenewAndUnlistsOnLogout",
		why:  "the binding must survive later requests and renewals (the list shows the new handle, never the retired one), and a logout must leave the list at once",
		run: func(e *env) {
			a, ha := e.loginAs("alice", "laptop")
			a.must("op", "set", "k", "x", "v", "1")
			a.must("op", "renew")
			who := a.must("op", "whoami").body
			p, h2, _ := strings.Cut(who, " ")
			if p != "alice" || h2 == ha || len(h2) != 64 {
				e.fatal("a renewed session keeps its principal under a new handle", "whoami after renew = %q (handle before: %s)", who, ha)
			}
			got, cur := listed(a.must("op", "sessions").body)
			if !maps.Equal(got, map[string]string{h2: "laptop"}) || cur != h2 {
				e.fail("after a renewal only the new handle is listed", "got %v current %q", got, cur)
			}
			a.must("op", "destroy")
			infos, err := e.m.Sessions(context.Background(), "alice")
			if err != nil || len(infos) != 0 {
				e.fail("a destroyed session must leave its principal's list at once", "%d listed, %v", len(infos), err)
			}
		},
	},
	{
		name: "PrincipalAdminValidatesFirst",
		why:  "an administrator's lookup or revocation by session ID or handle must refuse malformed input before any store access, and work for well-formed input outside any request",
		run: func(e *env) {
			a, ha := e.loginAs("alice", "laptop")
			ctx := context.Background()
			id := idOf(a.cookie())
			before, idxBefore := e.store.calls().total(), e.indexCalls()
			for _, bad := range []string{"", "short", "has space in it........", "../../etc/passwd......", strings.Repeat("a", 129), "\x00" + id[1:], id + "."} {
				if _, err := e.m.SessionByID(ctx, bad); !errors.Is(err, sess.ErrInvalidHandle) {
					e.fail("a malformed session ID must be refused with ErrInvalidHandle", "SessionByID(%q) = %v", truncate(bad, 30), err)
				}
				if err := e.m.RevokeID(ctx, bad); !errors.Is(err, sess.ErrInvalidHandle) {
					e.fail("a malformed session ID must be refused with ErrInvalidHandle", "RevokeID(%q) = %v", truncate(bad, 30), err)
				}
			}
			for _, bad := range []string{"", ha[:63], strings.ToUpper(ha), ha + "0", "g" + ha[1:], id} {
				if _, err := e.m.SessionByHandle(ctx, bad); !errors.Is(err, sess.ErrInvalidHandle) {
					e.fail("a malformed handle must be refused with ErrInvalidHandle", "SessionByHandle(%q) = %v", truncate(bad, 30), err)
				}
				if err := e.m.RevokeHandle(ctx, bad); !errors.Is(err, sess.ErrInvalidHandle) {
					e.fail("a malformed handle must be refused with ErrInvalidHandle", "RevokeHandle(%q) = %v", truncate(bad, 30), err)
				}
			}
			if after, idx := e.store.calls().total(), e.indexCalls(); after != before || idx != idxBefore {
				e.fail("malformed input must not reach the store", "%d store calls, %d index calls", after-before, idx-idxBefore)
			}
			info, err := e.m.SessionByID(ctx, id)
			if err != nil || info.Principal != "alice" || info.Handle != ha || info.SignedIn.IsZero() || !info.Idle.After(e.clock.Now()) {
				e.fail("SessionByID must find a live session", "%+v, %v", info, err)
			}
			if ua, _ := info.Get("ua"); ua != "laptop" {
				e.fail("SessionByID's info must read the session's data", "ua = %v", ua)
			}
			if info, err := e.m.SessionByHandle(ctx, ha); err != nil || info.Principal != "alice" {
				e.fail("SessionByHandle must find a bound session", "%+v, %v", info, err)
			}
			if err := e.m.RevokeHandle(ctx, ha); err != nil {
				e.fail("RevokeHandle of a live session must succeed", "%v", err)
			}
			e.wantBody(a.must("op", "whoami"), " ", "a session revoked by an administrator must be dead at once")
			if _, err := e.m.SessionByHandle(ctx, ha); !errors.Is(err, sess.ErrNotFound) {
				e.fail("a revoked session is not found by handle", "%v", err)
			}
			b, _ := e.loginAs("bob", "phone")
			if err := e.m.RevokeID(ctx, idOf(b.cookie())); err != nil {
				e.fail("RevokeID of a live session must succeed", "%v", err)
			}
			e.wantBody(b.must("op", "whoami"), " ", "a session revoked by ID must be dead at once")
		},
	},
	{
		name: "RenewGraceInFlightRequests",
		why:  "with Config.RenewGrace, requests a browser sent with the old cookie around a login (parallel XHRs) must reach the renewed session and keep their writes, never get a cookie of their own, never renew it again, and the old ID must die after the window",
		config: func(e *env, c *sess.Config) {
			c.RenewGrace = 5 * time.Second
		},
		run: func(e *env) {
			const inFlight = 100
			c := e.newClient()
			old := e.issued(c.must("op", "set", "k", "user", "v", "alice"), "a new session's first write sets its cookie")
			// Requests that loaded the session before the renewal commit
			// after it.
			base := e.calls.Load()
			early := make(chan *result, inFlight)
			for i := range inFlight {
				go func() { early <- e.session(old, "op", "set", "k", fmt.Sprintf("early%03d", i), "v", "1", "wait", "A") }()
			}
			for deadline := time.Now().Add(gateTimeout); e.calls.Load() < base+inFlight; {
				if time.Now().After(deadline) {
					e.fatal("the handler must run for every request", "only %d of %d in-flight requests reached the handler", e.calls.Load()-base, inFlight)
				}
				time.Sleep(time.Millisecond)
			}
			renewed := e.issued(c.must("op", "renew"), "a renewal sends the new cookie")
			e.open("A")
			for range inFlight {
				r := <-early
				e.wantStatus(r, http.StatusOK, "a request with the old ID within the grace window must succeed")
				e.noCookie(r, "a request with the old ID must never get a cookie of its own")
			}
			// Requests with the old ID that load after the renewal.
			late, _ := e.burst(inFlight, 20, []string{old}, func(i int) []string {
				return []string{"op", "set", "k", fmt.Sprintf("late%03d", i), "v", "1"}
			})
			for _, r := range late {
				e.wantStatus(r, http.StatusOK, "a request with the old ID within the grace window must succeed")
				e.noCookie(r, "a request with the old ID must never get a cookie of its own")
			}
			e.wantBody(e.session(old, "op", "get", "k", "user"), "alice", "within the grace window the old ID must reach the renewed session, not an empty one")
			keys := keySet(e.session(renewed, "op", "keys").body)
			missing := 0
			for i := range inFlight {
				for _, k := range []string{fmt.Sprintf("early%03d", i), fmt.Sprintf("late%03d", i)} {
					if !keys[k] {
						missing++
					}
				}
			}
			if missing > 0 {
				e.fail("every write sent with the old ID within the grace window must land in the renewed session", "%d of %d keys missing", missing, 2*inFlight)
			}
			r := e.session(old, "op", "lifetime", "persist", "1")
			e.wantBody(r, "ok", "SetLifetime within the Manager's maximums must succeed")
			e.noCookie(r, "a request with the old ID must never get a cookie of its own, not even when it changes the cookie's lifetime")
			r = e.session(old, "op", "renew")
			e.noCookie(r, "a request with the old ID must not renew the session again")
			e.wantBody(e.session(renewed, "op", "get", "k", "user"), "alice", "the renewed session must survive an attempt to renew it through its old ID")
			e.clock.Advance(6 * time.Second)
			e.wantBody(e.session(old, "op", "get", "k", "user"), none, "after the grace window the old ID must be dead")
			e.wantBody(e.session(renewed, "op", "get", "k", "user"), "alice", "the renewed session lives on after the grace window")
		},
	},
	{
		name: "RenewGraceDestroyEndsRenewedSession",
		why:  "a logout sent with the old cookie within the grace window (a tab racing the login) must end the session, not be lost",
		config: func(e *env, c *sess.Config) {
			c.RenewGrace = 5 * time.Second
		},
		run: func(e *env) {
			c := e.newClient()
			old := e.issued(c.must("op", "set", "k", "user", "v", "alice"), "a new session's first write sets its cookie")
			renewed := e.issued(c.must("op", "renew"), "a renewal sends the new cookie")
			r := e.session(old, "op", "destroy")
			e.wantStatus(r, http.StatusOK, "a logout with the old ID must succeed")
			e.wantBody(e.session(renewed, "op", "get", "k", "user"), none, "a logout through the old ID within the grace window must end the renewed session")
		},
	},
	{
		name: "RenewWithoutGraceEndsOldID",
		why:  "without Config.RenewGrace the old ID must end at the renewal (session fixation defence)",
		run: func(e *env) {
			c := e.newClient()
			old := e.issued(c.must("op", "set", "k", "user", "v", "alice"), "a new session's first write sets its cookie")
			e.issued(c.must("op", "renew"), "a renewal sends the new cookie")
			e.wantBody(e.session(old, "op", "get", "k", "user"), none, "the old ID must be dead right after a renewal")
		},
	},
}

func (e *env) indexCalls() int64 {
	if e.indexed == nil {
		return 0
	}
	return e.indexed.calls.Load()
}
