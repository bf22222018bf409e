package sesshttp_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
)

func newManager(t *testing.T, cfg sess.Config) *sess.Manager {
	t.Helper()
	cfg.Secret = []byte("nethttp-test-secret-0123456789-abcdefgh")
	m, err := sess.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// A handler that hijacks the connection (a WebSocket upgrade, say) through
// http.ResponseController gets the session committed first, so the cookie
// is in the handshake the handler writes itself.
func TestHijackThroughResponseController(t *testing.T) {
	m := newManager(t, sess.Config{})
	srv := httptest.NewServer(sesshttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sesshttp.From(r).Set("upgraded", true)
		h := w.Header().Get("Set-Cookie") // still empty: nothing committed yet
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack through the session writer: %v", err)
			return
		}
		defer conn.Close()
		cookie := w.Header().Get("Set-Cookie")
		if h != "" || cookie == "" {
			t.Errorf("Set-Cookie before hijack %q, after %q; want the commit to happen at hijack", h, cookie)
		}
		buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nSet-Cookie: " + cookie + "\r\n\r\n")
		buf.Flush()
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols || len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Errorf("status %d, cookies %q", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}
}

// Server-sent events: the cookie leaves with the first flush while the
// handler keeps streaming.
func TestStreamingCarriesCookieAtFirstFlush(t *testing.T) {
	m := newManager(t, sess.Config{})
	release := make(chan struct{})
	srv := httptest.NewServer(sesshttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sesshttp.From(r).Set("stream", 1)
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		<-release
		io.WriteString(w, "data: two\n\n")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if len(resp.Header.Values("Set-Cookie")) != 1 {
		t.Errorf("headers of a still-streaming response carry cookies %q, want one", resp.Header.Values("Set-Cookie"))
	}
	line, _ := bufio.NewReader(resp.Body).ReadString('\n')
	if line != "data: one\n" {
		t.Errorf("first event %q", line)
	}
	close(release)
}

func TestFromWithoutMiddleware(t *testing.T) {
	if sesshttp.From(httptest.NewRequest("GET", "/", nil)) != nil {
		t.Error("From without the middleware returned a session")
	}
}
