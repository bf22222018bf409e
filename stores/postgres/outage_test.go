package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

// outageStoreTimeout is the Managers' StoreTimeout in the outage tests, and
// outageSlack what a request may take beyond it to answer.
const (
	outageStoreTimeout = 500 * time.Millisecond
	outageSlack        = 200 * time.Millisecond
)

// outageServer serves app over a Manager with StoreTimeout
// outageStoreTimeout on a migrated store of the owned server.
func outageServer(t *testing.T, pg *ownedPostgres) (*httptest.Server, *Store, *counter) {
	t.Helper()
	pool := newPool(t, pg.DSN(), func(c *pgxpool.Config) { c.MaxConns = 16 })
	st := newTestStore(t, pool, Config{})
	calls := &counter{}
	srv := httptest.NewServer(app(newManager(t, st, outageStoreTimeout), calls))
	t.Cleanup(srv.Close)
	srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 256
	return srv, st, calls
}

// timed sends one request and returns its answer and how long it took.
func timed(srv *httptest.Server, path, cookie string) (response, time.Duration, error) {
	start := time.Now()
	r, err := doGet(srv.Client(), srv, path, cookie)
	return r, time.Since(start), err
}

// checkDown sends a read, a write and a new-session write one at a time,
// then n requests at once, and checks each answers 503 without a cookie
// within outageStoreTimeout + outageSlack. A burst whose only fault is
// being slow is retried (up to three bursts): on a CPU-starved -race run
// answers may queue for the processor, while a store that ignores the
// deadline is slow every time.
func checkDown(t *testing.T, what string, srv *httptest.Server, cookie string, n int) {
	t.Helper()
	limit := outageStoreTimeout + outageSlack
	for _, req := range []struct{ path, cookie string }{
		{"/get?k=user", cookie},
		{"/set?k=x&v=1", cookie},
		{"/set?k=x&v=1", ""},
	} {
		r, took, err := timed(srv, req.path, req.cookie)
		t.Logf("%s: %s (cookie %v): %d in %v", what, req.path, req.cookie != "", r.status, took.Round(time.Millisecond))
		if err != nil || r.status != http.StatusServiceUnavailable || len(r.cookies) != 0 || took > limit {
			t.Errorf("%s: %s: status %d, Set-Cookie %q, err %v, in %v; want 503, no cookie, within %v", what, req.path, r.status, r.cookies, err, took, limit)
		}
	}
	for attempt := 1; ; attempt++ {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			wrong   []string
			slow    int
			slowest time.Duration
		)
		for i := range n {
			wg.Go(func() {
				path := "/get?k=user"
				if i%2 == 1 {
					path = fmt.Sprintf("/set?k=b%d&v=1", i)
				}
				r, took, err := timed(srv, path, cookie)
				mu.Lock()
				defer mu.Unlock()
				slowest = max(slowest, took)
				if err != nil || r.status != http.StatusServiceUnavailable || len(r.cookies) != 0 {
					wrong = append(wrong, fmt.Sprintf("%s: status %d, err %v", path, r.status, err))
				}
				if took > limit {
					slow++
				}
			})
		}
		wg.Wait()
		t.Logf("%s: %d requests in flight, burst %d: slowest answer %v", what, n, attempt, slowest.Round(time.Millisecond))
		if len(wrong) > 0 {
			t.Errorf("%s: %d of %d requests in flight did not answer 503; first: %s", what, len(wrong), n, wrong[0])
		}
		if slow == 0 {
			return
		}
		if attempt == 3 {
			t.Errorf("%s: %d of %d requests in flight answered after more than %v", what, slow, n, limit)
			return
		}
	}
}

// checkIndexDown calls each sess.PrincipalIndex method with a context of
// outageStoreTimeout while the server is down, and checks that each fails
// with a store error (not ErrNotFound: a dead store must not pass for an
// empty index) within outageStoreTimeout + outageSlack. A call that is only
// slow is retried twice, as in checkDown.
func checkIndexDown(t *testing.T, what string, st *Store, handle string) {
	t.Helper()
	limit := outageStoreTimeout + outageSlack
	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"ListPrincipal", func(ctx context.Context) error { _, err := st.ListPrincipal(ctx, "alice"); return err }},
		{"GetHandle", func(ctx context.Context) error { _, err := st.GetHandle(ctx, handle); return err }},
		{"DeleteHandle", func(ctx context.Context) error { return st.DeleteHandle(ctx, handle, "") }},
		{"DeletePrincipal", func(ctx context.Context) error { _, err := st.DeletePrincipal(ctx, "alice", nil); return err }},
	}
	for _, c := range calls {
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), outageStoreTimeout)
			start := time.Now()
			err := c.call(ctx)
			took := time.Since(start)
			cancel()
			t.Logf("%s: %s: %v in %v", what, c.name, err, took.Round(time.Millisecond))
			if err == nil || errors.Is(err, sess.ErrNotFound) {
				t.Errorf("%s: %s: %v, want a store error that is not ErrNotFound", what, c.name, err)
			}
			if took <= limit {
				break
			}
			if attempt == 3 {
				t.Errorf("%s: %s answered after %v, more than %v", what, c.name, took, limit)
				break
			}
		}
	}
}

// checkUp checks that the session of cookie reads "alice" again and takes
// a write, without a new cookie.
func checkUp(t *testing.T, what string, srv *httptest.Server, cookie string) {
	t.Helper()
	// The first request after a restart may meet a pooled connection the
	// server closed; pgx discards it, and the next request gets a new one.
	var r response
	var took time.Duration
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		r, took, err = timed(srv, "/get?k=user", cookie)
		if err == nil && r.status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s: first successful read: %d in %v", what, r.status, took.Round(time.Millisecond))
	if r.status != http.StatusOK || r.body != "alice" || len(r.cookies) != 0 {
		t.Errorf("%s: read: status %d, body %q, Set-Cookie %q; want 200 \"alice\" and no new cookie (the same cookie works)", what, r.status, r.body, r.cookies)
	}
	if r := get(t, srv, "/set?k=after&v=1", cookie); r.status != http.StatusOK || len(r.cookies) != 0 {
		t.Errorf("%s: write: status %d, Set-Cookie %q; want 200 and no cookie", what, r.status, r.cookies)
	}
}

// TestOutageStopStart stops the test's own PostgreSQL: every request that
// needs the store answers 503 within StoreTimeout + 200 ms, without a
// cookie and without running the handler; store calls fail with errors
// that are not ErrNotFound. Started again on the same port, the same
// cookie works at once, without restarting the application (the pool
// reconnects).
func TestOutageStopStart(t *testing.T) {
	pg := startOwnedPostgres(t)
	srv, st, calls := outageServer(t, pg)
	cookie := sessionCookie(t, get(t, srv, "/set?k=user&v=alice", ""))
	calls.take()

	for round := range 2 {
		pg.Stop(t)
		what := fmt.Sprintf("round %d, server stopped", round)
		if r := get(t, srv, "/get?k=user", cookie); r.status != http.StatusServiceUnavailable {
			t.Errorf("%s: read: status %d, want 503", what, r.status)
		}
		if n := calls.take(); n != 0 {
			t.Errorf("%s: a read ran the handler %d times, want 0 (the load failed)", what, n)
		}
		checkDown(t, what, srv, cookie, 100)
		ctx, cancel := context.WithTimeout(context.Background(), outageStoreTimeout)
		exp := time.Now().Add(time.Hour)
		id := idOf(cookie)
		if _, err := st.Get(ctx, id); err == nil || errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Get while stopped: %v, want a store error that is not ErrNotFound", err)
		}
		if err := st.Create(ctx, "new", sess.Record{Entries: sess.AppendEntry(nil, "k", []byte("x")), Expires: exp}); err == nil || errors.Is(err, sess.ErrConflict) {
			t.Errorf("Create while stopped: %v, want a store error", err)
		}
		if err := st.Update(ctx, id, sess.Patch{Set: []sess.Entry{{Key: "k", Value: []byte("x")}}, Expires: exp}); err == nil || errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Update while stopped: %v, want a store error that is not ErrNotFound", err)
		}
		if err := st.Touch(ctx, id, exp); err == nil || errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Touch while stopped: %v, want a store error that is not ErrNotFound", err)
		}
		if err := st.Delete(ctx, id); err == nil {
			t.Errorf("Delete while stopped: nil, want a store error")
		}
		cancel()
		checkIndexDown(t, what, st, sess.HashID(id))

		pg.Start(t)
		checkUp(t, fmt.Sprintf("round %d, server started again", round), srv, cookie)
		calls.take()
	}
}

// TestOutagePaused pauses the test's own PostgreSQL (SIGSTOP to all its
// processes: connections stay open, nothing answers, as with a hung host
// or a network that drops packets): requests still answer 503 within
// StoreTimeout + 200 ms, because pgx ends each call at its context's
// deadline. After SIGCONT the same cookie works again.
func TestOutagePaused(t *testing.T) {
	pg := startOwnedPostgres(t)
	srv, st, _ := outageServer(t, pg)
	cookie := sessionCookie(t, get(t, srv, "/set?k=user&v=alice", ""))
	// Fill the pool, so that paused requests meet open connections.
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() { _, _ = doGet(srv.Client(), srv, "/get?k=user", cookie) })
	}
	wg.Wait()
	for round := range 2 {
		pg.Pause(t)
		checkDown(t, fmt.Sprintf("round %d, server paused", round), srv, cookie, 100)
		checkIndexDown(t, fmt.Sprintf("round %d, server paused", round), st, sess.HashID(idOf(cookie)))
		pg.Resume(t)
		checkUp(t, fmt.Sprintf("round %d, server resumed", round), srv, cookie)
	}
}

// TestOutagePausedWrites pauses the server while writers setting distinct
// keys of one session are in flight, three times: every write answered
// 200 must be stored afterwards; a write answered 503 may or may not have
// been (a statement that reached the server commits when it resumes), and
// the test reports how many were.
func TestOutagePausedWrites(t *testing.T) {
	pg := startOwnedPostgres(t)
	srv, _, _ := outageServer(t, pg)
	cookie := sessionCookie(t, get(t, srv, "/set?k=user&v=alice", ""))
	const writers = 200
	for round := range 3 {
		status := make([]int, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				r, err := doGet(srv.Client(), srv, fmt.Sprintf("/set?k=r%dw%03d&v=1", round, i), cookie)
				if err == nil {
					status[i] = r.status
				}
			})
		}
		time.Sleep(5 * time.Millisecond)
		pg.Pause(t)
		time.Sleep(time.Second)
		pg.Resume(t)
		wg.Wait()
		checkUp(t, fmt.Sprintf("round %d, resumed", round), srv, cookie)
		r := get(t, srv, "/keys", cookie)
		stored := map[string]bool{}
		for _, k := range strings.Split(r.body, ",") {
			stored[k] = true
		}
		var ok, unavailable, unavailableStored, lost int
		for i, s := range status {
			k := fmt.Sprintf("r%dw%03d", round, i)
			switch s {
			case http.StatusOK:
				ok++
				if !stored[k] {
					lost++
				}
			case http.StatusServiceUnavailable:
				unavailable++
				if stored[k] {
					unavailableStored++
				}
			default:
				t.Errorf("round %d: writer %d: status %d, want 200 or 503", round, i, s)
			}
		}
		t.Logf("round %d: %d answered 200, %d answered 503, of which %d were stored anyway", round, ok, unavailable, unavailableStored)
		if lost > 0 {
			t.Errorf("round %d: %d writes answered 200 are missing", round, lost)
		}
	}
}
