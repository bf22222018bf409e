package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// RunStore checks that a sess.Store keeps the whole contract documented on
// sess.Store, one named subtest per property. newStore returns a fresh,
// empty store for each subtest; it registers any cleanup with t.Cleanup.
// A store author runs it from an ordinary test:
//
//	func TestStore(t *testing.T) {
//		conformance.RunStore(t, func(t *testing.T) sess.Store {
//			s := mystore.New(...)
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Besides the store's own methods it drives the store through two
// sess.Managers sharing it, as two application instances would. The Close
// cases run only for stores that implement io.Closer. Some cases wait for
// records to expire, so the suite takes a few seconds. Run it with -race.
func RunStore(t *testing.T, newStore func(t *testing.T) sess.Store) {
	t.Helper()
	for _, c := range storeCases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("why this matters: %s", c.why)
				}
			}()
			st := newStore(t)
			if st == nil {
				t.Fatal("newStore returned a nil store")
			}
			c.run(t, st)
		})
	}
}

type storeCase struct {
	name string
	why  string
	run  func(t *testing.T, st sess.Store)
}

var storeCases = []storeCase{
	{"MissingIsErrNotFound", "the Manager tells an unknown session (start a new one) from a store failure (answer 503) only by errors.Is(err, sess.ErrNotFound)", storeMissingIsNotFound},
	{"CreateIfAbsent", "CompareAndSwap with old == 0 is how a new session claims its ID; a second create of a live ID must fail with ErrConflict so two sessions never share one record", storeCreateIfAbsent},
	{"VersionIsOldPlusOne", "every successful write stores version old+1; the Manager's next compare-and-swap relies on that value", storeVersionIsOldPlusOne},
	{"WrongVersionIsConflict", "a write based on a stale version must fail with ErrConflict so the Manager reloads and merges instead of overwriting a concurrent writer's changes", storeWrongVersionIsConflict},
	{"SwapOnMissingIsNotFound", "CompareAndSwap with old > 0 on a record that does not exist must fail with ErrNotFound and create nothing", storeSwapOnMissing},
	{"DeletedNeverResurrected", "after a logout deletes a session, a late write carrying its old version must fail with ErrNotFound; storing it would bring a logged-out session back", storeDeletedNeverResurrected},
	{"DeleteMissingIsNil", "deleting an already deleted or never stored record is not an error: logout must not fail because the session had already expired", storeDeleteMissing},
	{"TTLHonoured", "a record must disappear at its Expires and Get must never return a record whose Expires has passed; the session's idle and absolute timeouts depend on it", storeTTLHonoured},
	{"PastExpiresDeletes", "a write whose Expires is not in the future (a slow request, clock skew) must delete the record rather than store it, possibly without any expiry", storePastExpiresDeletes},
	{"TouchExtends", "Touch moves a live record's expiry without rewriting its data or version, so reading requests keep a session alive", storeTouchExtends},
	{"TouchMissingIsNotFound", "Touch must not create a record, and reports ErrNotFound when there is none", storeTouchMissing},
	{"BuffersNotAliased", "the store must copy Data in and out: the Manager reuses its buffers, and a caller changing a returned slice must not change the stored session", storeBuffersNotAliased},
	{"ConcurrentSwapOneWinner", "of many writers racing with the same version exactly one may win, or updates are lost", storeConcurrentSwapOneWinner},
	{"ConcurrentCounterNoLostUpdates", "read-modify-write loops with compare-and-swap must lose no increment under contention", storeConcurrentCounter},
	{"ManagersConcurrentDisjointKeys", "requests served by different instances that change different keys of one session must all keep their changes", storeManagersDisjointKeys},
	{"ManagersDestroyNotResurrected", "a request that commits a change while another destroys the session must not bring the destroyed session back", storeManagersDestroy},
	{"HostileIDs", "a store must survive any ID without panicking and keep distinct IDs apart; IDs are bytes, not paths or patterns", storeHostileIDs},
	{"CloseIdempotent", "Close may be called twice, and calls after Close must fail with sess.ErrClosed rather than touch released resources", storeCloseIdempotent},
	{"CloseConcurrentWithUse", "closing a store while requests still use it must not race or panic", storeCloseConcurrent},
}

// storeTimeout bounds every store call the suite makes.
const storeTimeout = 10 * time.Second

func storeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	t.Cleanup(cancel)
	return ctx
}

func storeNewID(t *testing.T) string {
	t.Helper()
	id, err := sess.RandomID()
	if err != nil {
		t.Fatalf("RandomID: %v", err)
	}
	return id
}

// storeSameMilli reports whether two instants agree to the millisecond,
// the precision every store must keep.
func storeSameMilli(a, b time.Time) bool {
	d := a.Sub(b)
	return d > -time.Millisecond && d < time.Millisecond
}

func storeMustCreate(t *testing.T, st sess.Store, id string, data string, exp time.Time) {
	t.Helper()
	if err := st.CompareAndSwap(storeCtx(t), id, 0, sess.Record{Data: []byte(data), Version: 1, Expires: exp}); err != nil {
		t.Fatalf("CompareAndSwap(old=0) of a new ID: %v, want nil", err)
	}
}

func storeMustGet(t *testing.T, st sess.Store, id string) sess.Record {
	t.Helper()
	rec, err := st.Get(storeCtx(t), id)
	if err != nil {
		t.Fatalf("Get of a live record: %v, want nil", err)
	}
	return rec
}

func storeWantNotFound(t *testing.T, st sess.Store, id, when string) {
	t.Helper()
	rec, err := st.Get(storeCtx(t), id)
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("%s: Get = (version %d, %q), %v; want an error wrapping sess.ErrNotFound", when, rec.Version, rec.Data, err)
	}
}

func storeCheck(t *testing.T, rec sess.Record, data string, version uint64) {
	t.Helper()
	if string(rec.Data) != data || rec.Version != version {
		t.Errorf("Get = (version %d, %q), want (version %d, %q)", rec.Version, rec.Data, version, data)
	}
}

func storeMissingIsNotFound(t *testing.T, st sess.Store) {
	_, err := st.Get(storeCtx(t), storeNewID(t))
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Get of a never stored ID: %v, want an error wrapping sess.ErrNotFound", err)
	}
}

func storeCreateIfAbsent(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "first", exp)
	rec := storeMustGet(t, st, id)
	storeCheck(t, rec, "first", 1)
	if !storeSameMilli(rec.Expires, exp) {
		t.Errorf("Get returned Expires %v, want %v (to the millisecond)", rec.Expires, exp)
	}
	err := st.CompareAndSwap(storeCtx(t), id, 0, sess.Record{Data: []byte("second"), Version: 1, Expires: exp})
	if !errors.Is(err, sess.ErrConflict) {
		t.Errorf("second CompareAndSwap(old=0) of a live ID: %v, want an error wrapping sess.ErrConflict", err)
	}
	storeCheck(t, storeMustGet(t, st, id), "first", 1)
}

func storeVersionIsOldPlusOne(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "v1", exp)
	for old := uint64(1); old <= 5; old++ {
		data := fmt.Sprintf("v%d", old+1)
		if err := st.CompareAndSwap(storeCtx(t), id, old, sess.Record{Data: []byte(data), Version: old + 1, Expires: exp}); err != nil {
			t.Fatalf("CompareAndSwap(old=%d) with the current version: %v, want nil", old, err)
		}
		storeCheck(t, storeMustGet(t, st, id), data, old+1)
	}
}

func storeWrongVersionIsConflict(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "v1", exp)
	if err := st.CompareAndSwap(storeCtx(t), id, 1, sess.Record{Data: []byte("v2"), Version: 2, Expires: exp}); err != nil {
		t.Fatalf("CompareAndSwap(old=1): %v, want nil", err)
	}
	for _, old := range []uint64{1, 3, 1 << 40} {
		err := st.CompareAndSwap(storeCtx(t), id, old, sess.Record{Data: []byte("stale"), Version: old + 1, Expires: exp})
		if !errors.Is(err, sess.ErrConflict) {
			t.Errorf("CompareAndSwap(old=%d) on a record at version 2: %v, want an error wrapping sess.ErrConflict", old, err)
		}
	}
	storeCheck(t, storeMustGet(t, st, id), "v2", 2)
}

func storeSwapOnMissing(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	err := st.CompareAndSwap(storeCtx(t), id, 1, sess.Record{Data: []byte("x"), Version: 2, Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("CompareAndSwap(old=1) of a never stored ID: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after a failed CompareAndSwap on a missing record")
}

func storeDeletedNeverResurrected(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "v1", exp)
	if err := st.Delete(storeCtx(t), id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	storeWantNotFound(t, st, id, "after Delete")
	err := st.CompareAndSwap(storeCtx(t), id, 1, sess.Record{Data: []byte("late"), Version: 2, Expires: exp})
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("CompareAndSwap(old=1) after Delete: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after a late CompareAndSwap on a deleted record")
}

func storeDeleteMissing(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	if err := st.Delete(storeCtx(t), id); err != nil {
		t.Errorf("Delete of a never stored ID: %v, want nil", err)
	}
	storeMustCreate(t, st, id, "x", time.Now().Add(time.Hour))
	for i := range 2 {
		if err := st.Delete(storeCtx(t), id); err != nil {
			t.Errorf("Delete #%d: %v, want nil", i+1, err)
		}
	}
}

func storeTTLHonoured(t *testing.T, st sess.Store) {
	const ttl = 300 * time.Millisecond
	id := storeNewID(t)
	exp := time.Now().Add(ttl)
	storeMustCreate(t, st, id, "short-lived", exp)
	// Poll until well past the expiry. Every record Get returns must have
	// been live when the call started; a record missing while the clock is
	// still before its expiry was dropped too early.
	for {
		start := time.Now()
		rec, err := st.Get(storeCtx(t), id)
		end := time.Now()
		switch {
		case err == nil:
			if !start.Before(rec.Expires) {
				t.Fatalf("Get returned a record whose Expires (%v) had passed before the call started (%v)", rec.Expires, start)
			}
		case errors.Is(err, sess.ErrNotFound):
			if end.Before(exp.Add(-time.Millisecond)) {
				t.Fatalf("record gone at %v, before its Expires %v", end, exp)
			}
		default:
			t.Fatalf("Get: %v", err)
		}
		if start.After(exp.Add(ttl)) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	storeWantNotFound(t, st, id, fmt.Sprintf("%v after Expires", ttl))
	err := st.CompareAndSwap(storeCtx(t), id, 1, sess.Record{Data: []byte("late"), Version: 2, Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("CompareAndSwap(old=1) on an expired record: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after CompareAndSwap on an expired record")
	// An expired record does not block a new one under the same ID.
	storeMustCreate(t, st, id, "again", time.Now().Add(time.Hour))
	storeCheck(t, storeMustGet(t, st, id), "again", 1)
}

func storePastExpiresDeletes(t *testing.T, st sess.Store) {
	past := time.Now().Add(-time.Second)
	for _, exp := range []time.Time{past, {}} {
		id := storeNewID(t)
		if err := st.CompareAndSwap(storeCtx(t), id, 0, sess.Record{Data: []byte("dead"), Version: 1, Expires: exp}); err != nil {
			t.Errorf("CompareAndSwap(old=0) with Expires %v: %v, want nil (nothing stored)", exp, err)
		}
		storeWantNotFound(t, st, id, fmt.Sprintf("after creating with Expires %v", exp))
	}

	id := storeNewID(t)
	storeMustCreate(t, st, id, "v1", time.Now().Add(time.Hour))
	if err := st.CompareAndSwap(storeCtx(t), id, 1, sess.Record{Data: []byte("v2"), Version: 2, Expires: past}); err != nil {
		t.Errorf("CompareAndSwap(old=1) with Expires in the past: %v, want nil (record deleted)", err)
	}
	storeWantNotFound(t, st, id, "after CompareAndSwap with Expires in the past")
	err := st.CompareAndSwap(storeCtx(t), id, 2, sess.Record{Data: []byte("v3"), Version: 3, Expires: time.Now().Add(time.Hour)})
	if !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("CompareAndSwap(old=2) after the record was deleted by a past Expires: %v, want an error wrapping sess.ErrNotFound", err)
	}
}

func storeTouchExtends(t *testing.T, st sess.Store) {
	// A short TTL keeps the test fast; on a machine so slow that the record
	// expires before Touch runs, try again with a longer one.
	var id string
	var exp, later time.Time
	ttl := 300 * time.Millisecond
	for attempt := 0; ; attempt++ {
		id = storeNewID(t)
		exp = time.Now().Add(ttl)
		storeMustCreate(t, st, id, "data", exp)
		later = time.Now().Add(time.Hour)
		err := st.Touch(storeCtx(t), id, later)
		if err == nil {
			break
		}
		if !errors.Is(err, sess.ErrNotFound) || time.Now().Before(exp) || attempt == 4 {
			t.Fatalf("Touch of a live record: %v, want nil", err)
		}
		ttl *= 2
	}
	time.Sleep(time.Until(exp.Add(ttl)))
	rec, err := st.Get(storeCtx(t), id)
	if err != nil {
		t.Fatalf("Get after the original Expires of a touched record: %v, want the record", err)
	}
	storeCheck(t, rec, "data", 1)
	if !storeSameMilli(rec.Expires, later) {
		t.Errorf("Get after Touch: Expires %v, want %v (to the millisecond)", rec.Expires, later)
	}
	// Touch into the past ends the record.
	if err := st.Touch(storeCtx(t), id, time.Now().Add(-time.Second)); err != nil && !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch with an expiry in the past: %v, want nil or ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after Touch with an expiry in the past")
}

func storeTouchMissing(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	if err := st.Touch(storeCtx(t), id, time.Now().Add(time.Hour)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch of a never stored ID: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after Touch of a missing record")
	storeMustCreate(t, st, id, "x", time.Now().Add(time.Hour))
	if err := st.Delete(storeCtx(t), id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := st.Touch(storeCtx(t), id, time.Now().Add(time.Hour)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch after Delete: %v, want an error wrapping sess.ErrNotFound", err)
	}
	storeWantNotFound(t, st, id, "after Touch of a deleted record")
}

func storeBuffersNotAliased(t *testing.T, st sess.Store) {
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	buf := []byte("original")
	if err := st.CompareAndSwap(storeCtx(t), id, 0, sess.Record{Data: buf, Version: 1, Expires: exp}); err != nil {
		t.Fatalf("CompareAndSwap: %v", err)
	}
	copy(buf, "CHANGED!")
	got := storeMustGet(t, st, id)
	storeCheck(t, got, "original", 1)
	if len(got.Data) > 0 {
		got.Data[0] = 'X'
	}
	storeCheck(t, storeMustGet(t, st, id), "original", 1)

	buf = append(buf[:0], "second"...)
	if err := st.CompareAndSwap(storeCtx(t), id, 1, sess.Record{Data: buf, Version: 2, Expires: exp}); err != nil {
		t.Fatalf("CompareAndSwap(old=1): %v", err)
	}
	copy(buf, "XXXXXX")
	a, b := storeMustGet(t, st, id), storeMustGet(t, st, id)
	storeCheck(t, a, "second", 2)
	if len(a.Data) > 0 && len(b.Data) > 0 {
		a.Data[0] = 'Y'
		if b.Data[0] == 'Y' {
			t.Errorf("two Gets returned slices sharing memory")
		}
	}
}

func storeConcurrentSwapOneWinner(t *testing.T, st sess.Store) {
	const writers, rounds = 16, 10
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "start", exp)
	ctx := storeCtx(t)
	for old := uint64(1); old <= rounds; old++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[w] = st.CompareAndSwap(ctx, id, old, sess.Record{Data: []byte(fmt.Sprintf("r%d-w%d", old, w)), Version: old + 1, Expires: exp})
			}()
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both won CompareAndSwap(old=%d)", old, winner, w, old)
			case err == nil:
				winner = w
			case !errors.Is(err, sess.ErrConflict):
				t.Fatalf("round %d: losing writer got %v, want an error wrapping sess.ErrConflict", old, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won CompareAndSwap(old=%d)", old, old)
		}
		storeCheck(t, storeMustGet(t, st, id), fmt.Sprintf("r%d-w%d", old, winner), old+1)
	}
}

func storeConcurrentCounter(t *testing.T, st sess.Store) {
	const workers, increments = 8, 25
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	storeMustCreate(t, st, id, "0", exp)
	ctx := storeCtx(t)
	var wg sync.WaitGroup
	errc := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < increments; {
				rec, err := st.Get(ctx, id)
				if err != nil {
					errc <- fmt.Errorf("Get: %w", err)
					return
				}
				var n int
				if _, err := fmt.Sscan(string(rec.Data), &n); err != nil {
					errc <- fmt.Errorf("record data %q is not a counter: %w", rec.Data, err)
					return
				}
				err = st.CompareAndSwap(ctx, id, rec.Version, sess.Record{Data: fmt.Appendf(nil, "%d", n+1), Version: rec.Version + 1, Expires: exp})
				switch {
				case err == nil:
					done++
				case errors.Is(err, sess.ErrConflict):
				default:
					errc <- fmt.Errorf("CompareAndSwap(old=%d): %w", rec.Version, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	const total = workers * increments
	storeCheck(t, storeMustGet(t, st, id), fmt.Sprint(total), total+1)
}

// storeCarrier is a sess.Carrier for driving a Manager without HTTP.
type storeCarrier struct {
	cookie string // request Cookie header, or ""
	mu     sync.Mutex
	out    map[string][]string
}

func (c *storeCarrier) RequestHeader(name string) []string {
	if name == "Cookie" && c.cookie != "" {
		return []string{c.cookie}
	}
	return nil
}

func (c *storeCarrier) AddResponseHeader(name, value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out == nil {
		c.out = make(map[string][]string)
	}
	c.out[name] = append(c.out[name], value)
}

func (c *storeCarrier) setCookies() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out["Set-Cookie"]
}

// storeSecret is the signing key shared by the suite's Managers, like
// instances of one application.
var storeSecret = []byte("conformance store suite secret, 32+ bytes long")

func storeManager(t *testing.T, st sess.Store) *sess.Manager {
	t.Helper()
	m, err := sess.New(sess.Config{
		Secret: storeSecret,
		Store:  st,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("sess.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// storeStartSession creates a session holding "init" through m and returns
// the request Cookie header that carries it and its ID.
func storeStartSession(t *testing.T, m *sess.Manager) (cookie, id string) {
	t.Helper()
	ctx := storeCtx(t)
	c := &storeCarrier{}
	x := m.Begin(ctx, c)
	s, err := x.Session(), x.Err()
	if err != nil || s == nil {
		t.Fatalf("Load without a cookie = %v, %v; want a new session", s, err)
	}
	s.Set("init", true)
	if !x.Start(200) {
		t.Fatalf("Commit of a new session: %v", x.Err())
	}
	lines := c.setCookies()
	if len(lines) != 1 {
		t.Fatalf("Commit of a new session set cookies %q, want one", lines)
	}
	nameValue, _, _ := strings.Cut(lines[0], ";")
	value, ok := strings.CutPrefix(nameValue, m.CookieName()+"=")
	dot := strings.LastIndexByte(value, '.')
	if !ok || dot <= 0 {
		t.Fatalf("Set-Cookie %q does not carry a signed session ID", lines[0])
	}
	return nameValue, value[:dot]
}

// errStoreSessionGone reports a cookie whose session the Manager did not
// find.
var errStoreSessionGone = errors.New("conformance: the Manager did not find the session")

// storeRequest loads the session for cookie through m, applies change and
// commits it as a 200 response.
func storeRequest(ctx context.Context, m *sess.Manager, cookie string, change func(s *sess.Session)) (*sess.Session, error) {
	c := &storeCarrier{cookie: cookie}
	x := m.Begin(ctx, c)
	s, err := x.Session(), x.Err()
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	if s.IsNew() {
		return s, errStoreSessionGone
	}
	change(s)
	if !x.Start(200) {
		return s, fmt.Errorf("committing: %w", x.Err())
	}
	return s, nil
}

func storeManagersDisjointKeys(t *testing.T, st sess.Store) {
	// At most eight writers per session: the Manager retries a conflicting
	// commit a bounded number of times, and with n writers that each write
	// once a commit can lose at most n-1 times.
	const sessions, writers = 4, 8
	ms := []*sess.Manager{storeManager(t, st), storeManager(t, st)}
	ctx := storeCtx(t)
	cookies := make([]string, sessions)
	for i := range cookies {
		cookies[i], _ = storeStartSession(t, ms[i%2])
	}
	var wg sync.WaitGroup
	errc := make(chan error, sessions*writers)
	for i, cookie := range cookies {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key := fmt.Sprintf("key-%d", w)
				_, err := storeRequest(ctx, ms[(i+w)%2], cookie, func(s *sess.Session) { s.Set(key, i*100+w) })
				if err != nil {
					errc <- fmt.Errorf("session %d, writer %d: %w", i, w, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	for i, cookie := range cookies {
		s, err := storeRequest(ctx, ms[i%2], cookie, func(*sess.Session) {})
		if err != nil {
			t.Fatalf("session %d: reading back: %v", i, err)
		}
		for w := range writers {
			key := fmt.Sprintf("key-%d", w)
			if v, ok := sess.Get[int](s, key); !ok || v != i*100+w {
				t.Errorf("session %d: %s = %v, %v after concurrent commits; want %d (a commit was lost)", i, key, v, ok, i*100+w)
			}
		}
		if v, ok := sess.Get[bool](s, "init"); !ok || !v {
			t.Errorf("session %d: init = %v, %v; want true (the first write was lost)", i, v, ok)
		}
	}
}

func storeManagersDestroy(t *testing.T, st sess.Store) {
	ma, mb := storeManager(t, st), storeManager(t, st)
	ctx := storeCtx(t)

	// Deterministic order first: B loads, A destroys and commits, then B
	// commits its change.
	cookie, id := storeStartSession(t, ma)
	cb := &storeCarrier{cookie: cookie}
	xb := mb.Begin(ctx, cb)
	sb, err := xb.Session(), xb.Err()
	if err != nil || sb.IsNew() {
		t.Fatalf("Load on B: IsNew=%v, %v; want the session", sb != nil && sb.IsNew(), err)
	}
	if _, err := storeRequest(ctx, ma, cookie, (*sess.Session).Destroy); err != nil {
		t.Fatalf("destroying request: %v", err)
	}
	sb.Set("late", "change")
	if !xb.Start(200) {
		t.Errorf("Commit of a change to a session destroyed meanwhile: %v, want nil (change dropped)", xb.Err())
	}
	if got := cb.setCookies(); len(got) != 0 {
		t.Errorf("Commit of a change to a destroyed session set cookies %q, want none", got)
	}
	if rec, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("after destroy, then a late commit: store Get = (version %d), %v; want ErrNotFound (session resurrected)", rec.Version, err)
	}

	// Then race them, many times.
	for round := range 20 {
		cookie, id := storeStartSession(t, ma)
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, 2)
		for i, m := range []*sess.Manager{ma, mb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, errs[i] = storeRequest(ctx, m, cookie, func(s *sess.Session) {
					if i == 0 {
						s.Destroy()
					} else {
						s.Set("racing", round)
					}
				})
			}()
		}
		close(start)
		wg.Wait()
		if errs[0] != nil {
			t.Fatalf("round %d: destroying request: %v", round, errs[0])
		}
		// The writer may find the session already gone at Load; that is
		// fine. Any other failure is not.
		if err := errs[1]; err != nil && !errors.Is(err, errStoreSessionGone) {
			t.Fatalf("round %d: writing request: %v", round, err)
		}
		if rec, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
			t.Fatalf("round %d: store Get after a destroy raced a write = (version %d), %v; want ErrNotFound (session resurrected)", round, rec.Version, err)
		}
		c := &storeCarrier{cookie: cookie}
		if x := mb.Begin(ctx, c); x.Err() != nil || !x.Session().IsNew() {
			t.Fatalf("round %d: Load with the destroyed session's cookie: IsNew=%v, %v; want a new session", round, x.Session() != nil && x.Session().IsNew(), x.Err())
		}
	}
}

func storeHostileIDs(t *testing.T, st sess.Store) {
	ids := []string{
		"",
		strings.Repeat("A", 10<<10),
		"\x00",
		"a\x00b",
		"a",
		"a\x00",
		"../../etc/passwd",
		"*",
		"sess:*",
		"\r\nDEL *\r\n",
		"\xff\xfe\xfd",
		"' OR '1'='1",
	}
	exp := time.Now().Add(time.Hour)
	created := make(map[string]bool)
	for i, id := range ids {
		storeNoPanic(t, i, func() error {
			ctx := storeCtx(t)
			if _, err := st.Get(ctx, id); err == nil {
				return errors.New("Get of a never stored ID returned a record")
			}
			if err := st.CompareAndSwap(ctx, id, 0, sess.Record{Data: fmt.Appendf(nil, "data-%d", i), Version: 1, Expires: exp}); err != nil {
				return nil // a store may refuse odd IDs, as long as it does not panic
			}
			created[id] = true
			return nil
		})
	}
	for i, id := range ids {
		if !created[id] {
			continue
		}
		storeNoPanic(t, i, func() error {
			ctx := storeCtx(t)
			rec, err := st.Get(ctx, id)
			if err != nil {
				return fmt.Errorf("Get after a successful create: %w", err)
			}
			if want := fmt.Sprintf("data-%d", i); string(rec.Data) != want {
				return fmt.Errorf("Get = %q, want %q (records of different IDs mixed up)", rec.Data, want)
			}
			if err := st.Touch(ctx, id, exp.Add(time.Minute)); err != nil {
				return fmt.Errorf("Touch: %w", err)
			}
			if err := st.CompareAndSwap(ctx, id, 1, sess.Record{Data: []byte("v2"), Version: 2, Expires: exp}); err != nil {
				return fmt.Errorf("CompareAndSwap(old=1): %w", err)
			}
			if err := st.Delete(ctx, id); err != nil {
				return fmt.Errorf("Delete: %w", err)
			}
			if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
				return fmt.Errorf("Get after Delete: %v, want ErrNotFound", err)
			}
			return nil
		})
	}
}

func storeNoPanic(t *testing.T, i int, f func() error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("hostile ID #%d: store panicked: %v", i, p)
		}
	}()
	if err := f(); err != nil {
		t.Errorf("hostile ID #%d: %v", i, err)
	}
}

func storeCloser(t *testing.T, st sess.Store) io.Closer {
	t.Helper()
	c, ok := st.(io.Closer)
	if !ok {
		t.Skipf("%T does not implement io.Closer", st)
	}
	return c
}

func storeWantClosed(t *testing.T, st sess.Store, when string) {
	t.Helper()
	ctx := storeCtx(t)
	id := storeNewID(t)
	exp := time.Now().Add(time.Hour)
	if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Get = %v, want an error wrapping sess.ErrClosed", when, err)
	}
	if err := st.CompareAndSwap(ctx, id, 0, sess.Record{Data: []byte("x"), Version: 1, Expires: exp}); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: CompareAndSwap = %v, want an error wrapping sess.ErrClosed", when, err)
	}
	if err := st.Touch(ctx, id, exp); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Touch = %v, want an error wrapping sess.ErrClosed", when, err)
	}
	if err := st.Delete(ctx, id); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("%s: Delete = %v, want an error wrapping sess.ErrClosed", when, err)
	}
}

func storeCloseIdempotent(t *testing.T, st sess.Store) {
	c := storeCloser(t, st)
	storeMustCreate(t, st, storeNewID(t), "x", time.Now().Add(time.Hour))
	if err := c.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v, want nil", err)
	}
	storeWantClosed(t, st, "after Close")
}

func storeCloseConcurrent(t *testing.T, st sess.Store) {
	c := storeCloser(t, st)
	ctx := storeCtx(t)
	exp := time.Now().Add(time.Hour)
	ids := make([]string, 8)
	for i := range ids {
		ids[i] = storeNewID(t)
		storeMustCreate(t, st, ids[i], "x", exp)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := uint64(1); ; v++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = st.Get(ctx, id)
				_ = st.CompareAndSwap(ctx, id, v, sess.Record{Data: []byte("y"), Version: v + 1, Expires: exp})
				_ = st.Touch(ctx, id, exp)
				_ = st.CompareAndSwap(ctx, fmt.Sprintf("close-%d-%d", g, v), 0, sess.Record{Data: []byte("z"), Version: 1, Expires: exp})
			}
		}()
	}
	var closers sync.WaitGroup
	closeErrs := make([]error, 2)
	for i := range closeErrs {
		closers.Add(1)
		go func() {
			defer closers.Done()
			closeErrs[i] = c.Close()
		}()
	}
	closers.Wait()
	close(stop)
	wg.Wait()
	for i, err := range closeErrs {
		if err != nil {
			t.Errorf("concurrent Close #%d: %v", i+1, err)
		}
	}
	storeWantClosed(t, st, "after concurrent Close")
}
