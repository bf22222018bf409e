package demotest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
)

// Run starts the example as its main function does, through demo.Run with
// the command line "-addr 127.0.0.1:0" and SESSION_SECRET set, checks that
// it serves the counter, then stops it as an interrupt would and checks
// that it shuts down cleanly.
func Run(t *testing.T, name string, serve demo.ServeFunc) {
	getenv := func(k string) string {
		if k == demo.SecretEnv {
			return TestSecret
		}
		return ""
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	spy := func(ctx context.Context, ln net.Listener, m *sess.Manager) error {
		addrc <- ln.Addr()
		return serve(ctx, ln, m)
	}
	done := make(chan error, 1)
	go func() { done <- demo.Run(ctx, name, []string{"-addr", "127.0.0.1:0"}, getenv, logger, spy) }()
	var base string
	select {
	case addr := <-addrc:
		base = "http://" + addr.String()
	case err := <-done:
		t.Fatalf("demo.Run returned before serving: %v", err)
	}
	waitUp(t, base)
	c := newClient(t, base, true)
	for i, want := range []string{`{"test_counter": 1}`, `{"test_counter": 2}`} {
		r := c.do(http.MethodGet, "/session_test", nil)
		wantJSON(t, r, want)
		if i == 0 {
			if ck := sessionCookie(t, r); ck == nil {
				t.Error("no session cookie")
			} else {
				checkAttributes(t, ck)
			}
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo.Run after an interrupt: %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo.Run did not return within 30s of the interrupt")
	}
}

// Secure checks that with -secure the example's session cookie carries the
// Secure attribute (and stays HttpOnly).
func Secure(t *testing.T, serve demo.ServeFunc) {
	base := Start(t, serve, demo.Options{Secure: true})
	c := newClient(t, base, false)
	r := c.do(http.MethodGet, "/session_test", nil)
	wantJSON(t, r, `{"test_counter": 1}`)
	ck := sessionCookie(t, r)
	switch {
	case ck == nil:
		t.Fatal("no session cookie")
	case !ck.Secure || !ck.HttpOnly:
		t.Errorf("with -secure the session cookie is %q, want Secure and HttpOnly", ck.String())
	}
}
