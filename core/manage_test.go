package sess_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// A record written before per-session lifetimes (Meta format 2) still
// loads, and a session given its own lifetime is stored in format 3; a
// corrupt format-3 header is refused like any corrupt record.
func TestLifetimeMetaFormats(t *testing.T) {
	clock := newClock()
	store := sess.NewMemoryStore(sess.MemoryConfig{Now: clock.Now})
	defer store.Close()
	m, err := sess.New(sess.Config{Secret: secret, Store: store, Now: clock.Now, MaxAge: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	abs := clock.Now().Add(time.Hour)
	entries := sess.AppendEntry(nil, "k", []byte{1, 1, 'x'}) // tString "x"
	for name, meta := range map[string][]byte{
		"format2":    sess.MetaForTest(abs.UnixMilli(), 0, 0, 0),
		"format3":    sess.MetaForTest(abs.UnixMilli(), 1, 10*time.Minute, 30*time.Minute),
		"badmode":    sess.MetaForTest(abs.UnixMilli(), 9, 1, 1),
		"trailing":   append(sess.MetaForTest(abs.UnixMilli(), 1, time.Minute, time.Minute), 0),
		"truncated":  sess.MetaForTest(abs.UnixMilli(), 1, time.Minute, time.Minute)[:8],
		"hugemaxage": sess.MetaForTest(abs.UnixMilli(), 1, time.Minute, 1000*24*time.Hour),
	} {
		t.Run(name, func(t *testing.T) {
			id := ("abcdefghijklmnopqrstuv" + name + strings.Repeat("x", 43))[:43]
			if err := store.Create(ctx, id, sess.Record{Meta: meta, Entries: entries, Expires: abs}); err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("Cookie", "sid="+sess.SignForTest(m, id))
			x := m.BeginHTTP(httptest.NewRecorder(), req)
			s := x.Session()
			good := name == "format2" || name == "format3"
			if got := !s.IsNew(); got != good {
				t.Fatalf("loaded=%t, want %t", got, good)
			}
			if !good {
				if _, err := store.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
					t.Errorf("a corrupt record must be deleted, Get: %v", err)
				}
				return
			}
			l := s.Lifetime()
			want := sess.Lifetime{Persistent: true, MaxAge: time.Hour, Idle: sess.DefaultIdleTimeout, Absolute: time.Hour}
			if name == "format3" {
				want.MaxAge, want.Idle = 30*time.Minute, 10*time.Minute
			}
			if l != want {
				t.Errorf("Lifetime %+v, want %+v", l, want)
			}
		})
	}
}

func TestSetLifetimeLimits(t *testing.T) {
	m, err := sess.New(sess.Config{Secret: secret, IdleTimeout: time.Hour, AbsoluteTimeout: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := m.BeginHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)).Session()
	for _, l := range []sess.Lifetime{
		{Idle: -time.Second}, {Idle: time.Hour + time.Second}, {Idle: time.Millisecond},
		{Absolute: 3 * time.Hour}, {Absolute: -1}, {Persistent: true, MaxAge: sess.MaxCookieAge + time.Second},
		{Persistent: true, MaxAge: time.Millisecond},
	} {
		if err := s.SetLifetime(l); !errors.Is(err, sess.ErrInvalidLifetime) {
			t.Errorf("SetLifetime(%+v) = %v, want ErrInvalidLifetime", l, err)
		}
	}
	if st := s.Status(); st != sess.StatusNew {
		t.Errorf("refused SetLifetime calls left status %v, want new", st)
	}
	if err := s.SetLifetime(sess.Lifetime{Persistent: true, Idle: time.Minute, Absolute: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if got := s.Lifetime(); got.Idle != time.Minute || !got.Persistent || got.MaxAge != sess.MaxCookieAge || got.Absolute > time.Hour {
		t.Errorf("Lifetime %+v", got)
	}
	if st := s.Status(); st != sess.StatusModified {
		t.Errorf("status %v after SetLifetime, want modified", st)
	}
	if sess.Status(9).String() != "Status(9)" {
		t.Errorf("String of an unknown Status: %q", sess.Status(9).String())
	}
}

// FromContextFor tells the sessions of two Managers in one chain apart;
// FromContext returns the innermost.
func TestFromContextFor(t *testing.T) {
	a, _ := sess.New(sess.Config{Secret: secret, CookieName: "a"})
	b, _ := sess.New(sess.Config{Secret: secret, CookieName: "b"})
	defer a.Close()
	defer b.Close()
	var sa, sb, inner *sess.Session
	h := a.Wrap(b.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		sa, _ = sess.FromContextFor(r.Context(), a)
		sb, _ = sess.FromContextFor(r.Context(), b)
		inner, _ = sess.FromContext(r.Context())
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if sa == nil || sb == nil || sa == sb || inner != sb {
		t.Fatalf("sessions a=%p b=%p innermost=%p", sa, sb, inner)
	}
	if s, ok := sess.FromContextFor(context.Background(), a); ok || s != nil {
		t.Error("FromContextFor found a session in an empty context")
	}
	if _, ok := sess.FromContextFor(context.Background(), nil); ok {
		t.Error("FromContextFor(nil Manager) found a session")
	}
}

// At login, a "remember me" checkbox makes the session persistent and
// shortens its lifetime within the Manager's maximums.
func ExampleSession_SetLifetime() {
	m, _ := sess.New(sess.Config{Secret: []byte("example-secret-at-least-32-bytes-long!"), AbsoluteTimeout: 30 * 24 * time.Hour})
	defer m.Close()
	s := m.BeginHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil)).Session()

	rememberMe := true
	s.Set("user", "ann")
	s.Renew()
	if err := s.SetLifetime(sess.Lifetime{Persistent: rememberMe, MaxAge: 14 * 24 * time.Hour, Idle: 12 * time.Hour}); err != nil {
		fmt.Println(err)
	}
	l := s.Lifetime()
	fmt.Println(l.Persistent, l.MaxAge, l.Idle, s.Status())

	err := s.SetLifetime(sess.Lifetime{Idle: 48 * time.Hour}) // beyond Config.IdleTimeout (24h)
	fmt.Println(errors.Is(err, sess.ErrInvalidLifetime))
	// Output:
	// true 336h0m0s 12h0m0s modified
	// true
}
