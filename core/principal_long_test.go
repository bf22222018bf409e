package sess_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	sess "github.com/gosess/sess/core"
)

// A new session bound to a principal too long for the session's inline
// encoding buffer is stored (it once panicked in the first commit), and
// keeps its principal and values.
func TestLongPrincipalOnNewSession(t *testing.T) {
	for _, n := range []int{1, 24, 32, 40, 256} {
		p := strings.Repeat("p", n)
		clock := newClock()
		store := sess.NewMemoryStore(sess.MemoryConfig{Now: clock.Now})
		t.Cleanup(func() { store.Close() })
		e := newEnv(t, sess.Config{Store: store, Now: clock.Now}, func(w http.ResponseWriter, r *http.Request) {
			s, _ := sess.FromContext(r.Context())
			if r.URL.Path == "/login" {
				if err := s.SetPrincipal(p); err != nil {
					t.Errorf("SetPrincipal(%d bytes): %v", n, err)
				}
				s.Set("k", "v")
			}
			v, _ := sess.Get[string](s, "k")
			_, _ = w.Write([]byte(s.Principal() + "|" + v))
		})
		c := e.client()
		if r := e.do(c, "POST", "/login"); r.status != http.StatusOK {
			t.Fatalf("principal of %d bytes: login status %d", n, r.status)
		}
		if r := e.do(c, "GET", "/"); r.body != p+"|v" {
			t.Errorf("principal of %d bytes: next request sees %q", n, r.body)
		}
		infos, err := e.m.Sessions(context.Background(), p)
		if err != nil || len(infos) != 1 {
			t.Errorf("principal of %d bytes: Sessions = %d, %v; want 1 session", n, len(infos), err)
		}
	}
}
