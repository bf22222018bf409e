package sesstest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/core/sesstest"
)

// A store outage, seen through a Manager driven by the fake clock and
// logging into a capture.
func Example() {
	clock := sesstest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	logs := &sesstest.Logs{}
	store := sesstest.NewFaultStore(sess.NewMemoryStore(sess.MemoryConfig{Now: clock.Now}))
	m, _ := sess.New(sess.Config{
		Secret: []byte("example-secret-at-least-32-bytes-long!"),
		Store:  store, Now: clock.Now, Logger: logs.Logger(),
	})
	defer m.Close()

	store.FailWrites(sesstest.ErrDown)
	h := m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		s.Set("k", "v")
		fmt.Fprint(w, "saved")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Println(rec.Code, store.Calls(sesstest.Create), strings.Contains(logs.String(), "level=ERROR"))
	// Output: 503 1 true
}
