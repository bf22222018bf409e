package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	sess "github.com/gosess/sess/core"
)

// errInjected is the failure the faulty store injects. Its text must never
// reach a client.
var errInjected = errors.New("conformance: injected store failure (backend 10.9.8.7:6379 said NOAUTH)")

// leakMarkers are fragments of errInjected that an error response must not
// contain.
var leakMarkers = []string{"10.9.8.7", "NOAUTH", "injected"}

// hang makes a faulty operation block until its context is done.
var errHang = errors.New("hang")

// storeOp names a Store method for fault injection.
type storeOp int

const (
	opGet   storeOp = iota // Get and GetShared
	opWrite                // Create and Update
	opTouch
	opDelete
	numOps
)

var opNames = [numOps]string{"Get", "Create/Update", "Touch", "Delete"}

// callCounts counts store calls per method.
type callCounts [numOps]int

func (c callCounts) total() int { return c[opGet] + c[opWrite] + c[opTouch] + c[opDelete] }

func (c callCounts) String() string {
	return fmt.Sprintf("Get=%d Create/Update=%d Touch=%d Delete=%d", c[opGet], c[opWrite], c[opTouch], c[opDelete])
}

// fault is one injected failure: for every call of the method, or only for
// calls about one ID.
type fault struct {
	err error
	id  string // "" = every ID
}

// faultyStore wraps the case's store: it counts and records calls, checks
// what the Manager hands the store and injects failures. It offers
// GetShared (forwarded to the wrapped store's, if it has one) so that the
// Manager reads through the same path as on the bare store, but not
// NonBlocking: it can hang, so the Manager must bound its calls.
type faultyStore struct {
	sess.Store
	clock *manualClock

	mu         sync.Mutex
	counts     callCounts
	getIDs     []string
	created    []string        // IDs created by a successful Create
	noDeadline int             // calls whose context had no deadline
	seen       map[string]bool // every ID the store was asked about, never reset
	violations []string
	faults     [numOps]*fault
}

func newFaultyStore(inner sess.Store, clock *manualClock) *faultyStore {
	return &faultyStore{Store: inner, clock: clock, seen: map[string]bool{}}
}

// fail makes op fail with err (errHang: block until the context is done)
// for every ID, or only for id if it is not empty. A nil err heals op.
func (s *faultyStore) fail(op storeOp, err error, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.faults[op] = nil
		return
	}
	s.faults[op] = &fault{err: err, id: id}
}

// heal removes every injected failure.
func (s *faultyStore) heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = [numOps]*fault{}
}

// reset clears the call counts and records.
func (s *faultyStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = callCounts{}
	s.getIDs = nil
	s.created = nil
	s.noDeadline = 0
}

func (s *faultyStore) calls() callCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

func (s *faultyStore) gotIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.getIDs...)
}

func (s *faultyStore) createdIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.created...)
}

func (s *faultyStore) deadlineless() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.noDeadline
}

func (s *faultyStore) violation(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// enter records a call and returns the fault to inject, if any.
func (s *faultyStore) enter(ctx context.Context, op storeOp, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[op]++
	s.seen[id] = true
	if op == opGet {
		s.getIDs = append(s.getIDs, id)
	}
	if _, ok := ctx.Deadline(); !ok {
		s.noDeadline++
	}
	if !plausibleID(id) {
		s.violation("store %s received ID %q, which the Manager can never have issued", opNames[op], truncate(id, 80))
	}
	f := s.faults[op]
	if f == nil || f.id != "" && f.id != id {
		return nil
	}
	return f.err
}

func injected(ctx context.Context, err error) error {
	if errors.Is(err, errHang) {
		<-ctx.Done()
		return fmt.Errorf("conformance: store call abandoned: %w", ctx.Err())
	}
	return err
}

// Get implements sess.Store.
func (s *faultyStore) Get(ctx context.Context, id string) (sess.Record, error) {
	if err := s.enter(ctx, opGet, id); err != nil {
		return sess.Record{}, injected(ctx, err)
	}
	return s.Store.Get(ctx, id)
}

// GetShared implements sess.SharedGetter.
func (s *faultyStore) GetShared(ctx context.Context, id string) (sess.Record, error) {
	if err := s.enter(ctx, opGet, id); err != nil {
		return sess.Record{}, injected(ctx, err)
	}
	if sg, ok := s.Store.(sess.SharedGetter); ok {
		return sg.GetShared(ctx, id)
	}
	return s.Store.Get(ctx, id)
}

// Create implements sess.Store.
func (s *faultyStore) Create(ctx context.Context, id string, rec sess.Record) error {
	if err := s.enter(ctx, opWrite, id); err != nil {
		return injected(ctx, err)
	}
	if now := s.clock.Now(); !rec.Expires.After(now) {
		s.mu.Lock()
		s.violation("Create of a record that expires at %v, not after the Manager's now %v", rec.Expires, now)
		s.mu.Unlock()
	}
	err := s.Store.Create(ctx, id, rec)
	if err == nil {
		s.mu.Lock()
		s.created = append(s.created, id)
		s.mu.Unlock()
	}
	return err
}

// Update implements sess.Store.
func (s *faultyStore) Update(ctx context.Context, id string, p sess.Patch) error {
	if err := s.enter(ctx, opWrite, id); err != nil {
		return injected(ctx, err)
	}
	// A zero Expires with IfVersion is a conditional delete (a renewal
	// retiring its old ID); any other patch must keep the record alive.
	conditionalDelete := p.IfVersion != 0 && p.Expires.IsZero() && !p.Clear && len(p.Set) == 0 && len(p.Delete) == 0
	if now := s.clock.Now(); !conditionalDelete && !p.Expires.After(now) {
		s.mu.Lock()
		s.violation("Update with a patch that expires at %v, not after the Manager's now %v", p.Expires, now)
		s.mu.Unlock()
	}
	if !conditionalDelete && p.MaxSize <= 0 {
		s.mu.Lock()
		s.violation("Update with a patch without MaxSize: concurrent commits could push the session past Config.MaxDataSize")
		s.mu.Unlock()
	}
	return s.Store.Update(ctx, id, p)
}

// Touch implements sess.Store.
func (s *faultyStore) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.enter(ctx, opTouch, id); err != nil {
		return injected(ctx, err)
	}
	return s.Store.Touch(ctx, id, expires)
}

// Delete implements sess.Store.
func (s *faultyStore) Delete(ctx context.Context, id string) error {
	if err := s.enter(ctx, opDelete, id); err != nil {
		return injected(ctx, err)
	}
	return s.Store.Delete(ctx, id)
}

// lookup reads a record straight from the wrapped store, uncounted.
func (s *faultyStore) lookup(id string) (sess.Record, bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, err := s.Store.Get(ctx, id)
	if errors.Is(err, sess.ErrNotFound) {
		return sess.Record{}, false, nil
	}
	if err != nil {
		return sess.Record{}, false, err
	}
	return rec, true, nil
}

// plausibleID reports whether id has the shape of an ID the Manager issues:
// 16 to 128 characters of the base64url alphabet.
func plausibleID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("...(%d bytes)", len(s))
}

// checkStoreInvariants reports what the store saw that no correct Manager
// and adapter may ever send it.
func (e *env) checkStoreInvariants() {
	e.t.Helper()
	e.store.mu.Lock()
	v := append([]string(nil), e.store.violations...)
	logs := e.logs.String()
	for id := range e.store.seen {
		if plausibleID(id) && strings.Contains(logs, id) {
			v = append(v, fmt.Sprintf("the log contains the session ID %s", short(id)))
		}
	}
	e.store.mu.Unlock()
	for _, msg := range v {
		e.t.Errorf("the store must only receive well-formed IDs and live records, and logs must never hold session IDs\n\tgot: %s\n\twhy it matters: hostile input must never reach the store, a record stored already expired lives without a deadline in some stores, and a session ID in a log is a credential anyone reading the log can use", msg)
	}
}
