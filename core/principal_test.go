package sess_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// principalHandler serves ?op=login&p=..., ?op=who and ?op=list.
func principalHandler(m **sess.Manager) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		switch r.URL.Query().Get("op") {
		case "login":
			err := s.SetPrincipal(r.URL.Query().Get("p"))
			switch {
			case errors.Is(err, sess.ErrInvalidPrincipal):
				fmt.Fprint(w, "invalid")
			case errors.Is(err, sess.ErrNoPrincipalIndex):
				fmt.Fprint(w, "noindex")
			case err != nil:
				fmt.Fprint(w, err)
			default:
				fmt.Fprint(w, "ok")
			}
		case "who":
			fmt.Fprint(w, s.Principal())
		case "list":
			infos, err := (*m).Sessions(r.Context(), r.URL.Query().Get("p"))
			fmt.Fprint(w, len(infos), err)
		}
	}
}

func TestSetPrincipalOverHTTP(t *testing.T) {
	var m *sess.Manager
	mem := sess.NewMemoryStore(sess.MemoryConfig{})
	t.Cleanup(func() { mem.Close() })
	e := newEnv(t, sess.Config{Store: mem, Now: time.Now}, principalHandler(&m))
	m = e.m
	c := e.client()
	for _, bad := range []string{strings.Repeat("u", 257), "\xff\xfe"} {
		r := e.do(c, "GET", "/?op=login&p="+urlQuery(bad))
		if r.body != "invalid" || len(r.cookies) != 0 {
			t.Errorf("SetPrincipal(%q) = %q with cookies %q; want invalid and no session", bad[:2], r.body, r.cookies)
		}
	}
	if r := e.do(c, "GET", "/?op=login&p=alice"); r.body != "ok" || len(r.cookies) != 1 {
		t.Fatalf("SetPrincipal on a new session = %q, cookies %q; want ok and the new session's cookie", r.body, r.cookies)
	}
	if r := e.do(c, "GET", "/?op=who"); r.body != "alice" {
		t.Errorf("principal on the next request = %q, want alice", r.body)
	}
	if r := e.do(c, "GET", "/?op=list&p=alice"); r.body != "1 <nil>" {
		t.Errorf("Sessions(alice) = %q, want 1 session", r.body)
	}
	if r := e.do(c, "GET", "/?op=list&p="); !strings.Contains(r.body, "invalid principal") {
		t.Errorf("Sessions(\"\") = %q, want ErrInvalidPrincipal", r.body)
	}
	if r := e.do(c, "GET", "/?op=login&p="); r.body != "ok" {
		t.Errorf("unbinding = %q", r.body)
	}
	if r := e.do(c, "GET", "/?op=list&p=alice"); r.body != "0 <nil>" {
		t.Errorf("Sessions(alice) after unbinding = %q, want none", r.body)
	}
	if r := e.do(c, "GET", "/?op=who"); r.body != "" {
		t.Errorf("principal after unbinding = %q, want none", r.body)
	}
}

func TestSetPrincipalWithoutIndex(t *testing.T) {
	var m *sess.Manager
	e := newEnv(t, sess.Config{}, principalHandler(&m)) // the spy store hides the memory store's index
	m = e.m
	r := e.do(e.client(), "GET", "/?op=login&p=alice")
	if r.body != "noindex" || len(r.cookies) != 0 {
		t.Errorf("SetPrincipal with a store lacking PrincipalIndex = %q, cookies %q; want ErrNoPrincipalIndex and no session", r.body, r.cookies)
	}
}

func urlQuery(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "%%%02X", s[i])
	}
	return b.String()
}
