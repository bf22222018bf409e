package sess_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"

	sess "github.com/gosess/sess/core"
)

// Counters counts session events exactly, for a metrics or health
// endpoint; here one new session and one forged cookie.
func ExampleCounters() {
	var counts sess.Counters
	m, err := sess.New(sess.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Observer: &counts})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	srv := httptest.NewServer(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		s.Set("visits", 1)
	})))
	defer srv.Close()

	resp, _ := http.Get(srv.URL)
	resp.Body.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Cookie", "sid=forged.value")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()

	fmt.Println(counts.Count(sess.EventCreated), counts.Count(sess.EventInvalidCookie))
	// Output: 2 1
}

// auditLog is an Observer that writes lifecycle events to w, which may be
// slow (a file, a network): it is not an InlineObserver, so the Manager
// queues its events and calls it from a goroutine of its own, never from
// the request path.
type auditLog struct{ w io.Writer }

func (a auditLog) Observe(_ context.Context, e sess.Event) {
	if e.Kind != sess.EventStoreCall {
		fmt.Fprintln(a.w, "audit:", e.Kind)
	}
}

// A slow Observer gets its events through the Manager's queue, in order;
// Close delivers what is still queued. ObserverDrops counts the events a
// full queue dropped.
func ExampleObserver() {
	m, err := sess.New(sess.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Observer: auditLog{os.Stdout}})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		s.Set("visits", 1)
	})))
	resp, _ := http.Get(srv.URL)
	resp.Body.Close()
	srv.Close()

	if err := m.Close(); err != nil { // delivers the queued events
		panic(err)
	}
	fmt.Println("dropped:", m.ObserverDrops())
	// Output:
	// audit: created
	// dropped: 0
}
