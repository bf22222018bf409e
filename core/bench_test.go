package sess_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sess "github.com/gosess/sess/core"
)

func benchHandler(b *testing.B, write bool) (http.Handler, string) {
	m, err := sess.New(sess.Config{Secret: secret, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { m.Close() })
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		n, _ := sess.Get[int](s, "test_counter")
		if write {
			s.Set("test_counter", n+1)
		}
		w.Write([]byte("ok"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	// Create the session with a write.
	wm := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		s.Set("test_counter", 1)
	}))
	rec = httptest.NewRecorder()
	wm.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	c := strings.SplitN(rec.Header().Get("Set-Cookie"), ";", 2)[0]
	return h, c
}

func BenchmarkCore(b *testing.B) {
	for _, sc := range []struct {
		name   string
		write  bool
		cookie bool
	}{{"New", true, false}, {"Hit", true, true}, {"Read", false, true}} {
		b.Run(sc.name, func(b *testing.B) {
			h, c := benchHandler(b, sc.write)
			req := httptest.NewRequest("GET", "/", nil)
			if sc.cookie {
				req.Header.Set("Cookie", c)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
			}
		})
	}
	b.Run("Bare", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
		req := httptest.NewRequest("GET", "/", nil)
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}

// BenchmarkWorkingSet is Hit over n sessions taken in turn: with many
// sessions the store's records and the table of verified cookie values
// are out of the CPU's caches, which a benchmark on one session never
// shows (compare benchmarks/ ParallelHit, which spreads over 10k).
func BenchmarkWorkingSet(b *testing.B) {
	for _, n := range []int{1, 1000, 10000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			// The handler writes, so each request without a cookie
			// creates a session.
			h, _ := benchHandler(b, true)
			reqs := make([]*http.Request, n)
			for i := range reqs {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
				c := strings.SplitN(rec.Header().Get("Set-Cookie"), ";", 2)[0]
				reqs[i] = httptest.NewRequest("GET", "/", nil)
				reqs[i].Header.Set("Cookie", c)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				h.ServeHTTP(httptest.NewRecorder(), reqs[i])
				if i++; i == n {
					i = 0
				}
			}
		})
	}
}
