package conformance

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sess "github.com/gosess/sess/core"
)

// fuzzValid stands for the valid session cookie value in FuzzCookieHeader's
// corpus; each input has it replaced by the cookie the adapter just issued.
const fuzzValid = "{valid}"

// FuzzCookieHeader fuzzes an adapter's HTTP entry point with arbitrary
// Cookie headers, for a native fuzz target in the adapter's tests:
//
//	func FuzzCookieHeader(f *testing.F) { conformance.FuzzCookieHeader(f, mount) }
//
// For every input it mounts the adapter with a fresh store, creates a
// session, then sends the input as the Cookie header (with "{valid}"
// replaced by that session's cookie value). The adapter must never answer
// 5xx or panic, and must load the session only if the header carries its
// exact cookie value.
func FuzzCookieHeader(f *testing.F, mount Mount) {
	for _, seed := range []string{
		"sid=" + fuzzValid,
		"sid=junk; sid=" + fuzzValid,
		"sid=" + fuzzValid + "; sid=junk",
		`sid="` + fuzzValid + `"`,
		"sid=" + fuzzValid + "x",
		"sid=x" + fuzzValid,
		"Sid=" + fuzzValid,
		"sid=" + strings.Repeat("A", 5000),
		"sid=;sid;=;;; sid = " + fuzzValid + " ;",
		strings.Repeat("a=b; ", 300) + "sid=" + fuzzValid,
		"sid=%2F" + fuzzValid,
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		e := &env{t: t, gates: map[string]*gate{}, stash: map[string][]string{}}
		store := sess.NewMemoryStore(sess.MemoryConfig{})
		defer store.Close()
		m, err := sess.New(sess.Config{
			Secret: []byte("conformance-fuzz-secret-0123456789-abcdef"),
			Store:  store,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		e.m = m
		h := mount(t, m, e.handle)
		created := serveOnce(h, "/?op=set&k=a&v=1", "")
		var valid string
		for _, line := range created.Header.Values("Set-Cookie") {
			if c, err := http.ParseSetCookie(line); err == nil && c.Name == m.CookieName() {
				valid = c.Value
			}
		}
		if valid == "" {
			t.Fatalf("a write to a new session set no session cookie: %q", created.Header.Values("Set-Cookie"))
		}
		header = strings.ReplaceAll(header, fuzzValid, valid)
		for i := 0; i < len(header); i++ {
			if c := header[i]; c < 0x20 && c != '\t' || c == 0x7f {
				return // not a header value an HTTP parser lets through
			}
		}
		r := serveOnce(h, "/?op=get&k=a", header)
		body, _ := io.ReadAll(r.Body)
		if r.StatusCode >= 500 {
			t.Fatalf("Cookie %q: status %d %q; hostile cookies must never cause a 5xx", header, r.StatusCode, body)
		}
		if string(body) == "1" && !strings.Contains(header, valid) {
			t.Fatalf("Cookie %q loaded the session without carrying its cookie value", header)
		}
	})
}

// serveOnce sends one GET to h, with cookie as the Cookie header if set.
func serveOnce(h http.Handler, target, cookie string) *http.Response {
	req := httptest.NewRequest(http.MethodGet, "https://example.com"+target, nil)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}
