// Package sesstest holds test doubles for code that uses sess: a store
// that fails on demand, a fake clock and a log capture. The core's tests,
// the conformance suite and the adapters' tests share them.
package sesstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	sess "github.com/gosess/sess/core"
)

// Op names a Store method.
type Op int

// The Store methods a FaultStore can fail.
const (
	Get Op = iota
	Create
	Update
	Touch
	Delete
	numOps
)

var opNames = [numOps]string{"Get", "Create", "Update", "Touch", "Delete"}

// String returns the method's name.
func (op Op) String() string {
	if op < 0 || op >= numOps {
		return fmt.Sprintf("Op(%d)", int(op))
	}
	return opNames[op]
}

// ErrHang, given to FaultStore.Fail, makes the method block until its
// context is done, as a store that stopped answering does.
var ErrHang = errors.New("sesstest: hang until the context is done")

// ErrDown is a store failure for Fail. Its text names a backend address,
// so tests can check that it never reaches a client.
var ErrDown = errors.New("sesstest: injected store failure (backend 10.9.8.7:6379 said NOAUTH)")

// FaultStore wraps a Store, counts its calls and fails the methods it is
// told to. It is safe for concurrent use.
type FaultStore struct {
	sess.Store

	mu     sync.Mutex
	faults [numOps]error
	calls  [numOps]int
}

// NewFaultStore returns a FaultStore over inner, failing nothing.
func NewFaultStore(inner sess.Store) *FaultStore { return &FaultStore{Store: inner} }

// Fail makes every later call of op fail with err (ErrHang: block until the
// context is done, then fail). A nil err heals op.
func (s *FaultStore) Fail(op Op, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = err
}

// FailWrites makes every later Create and Update fail with err, as Fail
// does for each: the writes of new and of existing sessions.
func (s *FaultStore) FailWrites(err error) {
	s.Fail(Create, err)
	s.Fail(Update, err)
}

// Heal removes every injected failure.
func (s *FaultStore) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = [numOps]error{}
}

// Calls returns how many times op was called, failed calls included.
func (s *FaultStore) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

func (s *FaultStore) enter(ctx context.Context, op Op) error {
	s.mu.Lock()
	s.calls[op]++
	err := s.faults[op]
	s.mu.Unlock()
	if errors.Is(err, ErrHang) {
		<-ctx.Done()
		return fmt.Errorf("sesstest: store call abandoned: %w", ctx.Err())
	}
	return err
}

// Get implements sess.Store.
func (s *FaultStore) Get(ctx context.Context, id string) (sess.Record, error) {
	if err := s.enter(ctx, Get); err != nil {
		return sess.Record{}, err
	}
	return s.Store.Get(ctx, id)
}

// GetShared implements sess.SharedGetter, so that a Manager reads through
// the same fault as Get: with the inner store's GetShared if it has one,
// else with its Get.
func (s *FaultStore) GetShared(ctx context.Context, id string) (sess.Record, error) {
	if err := s.enter(ctx, Get); err != nil {
		return sess.Record{}, err
	}
	if g, ok := s.Store.(sess.SharedGetter); ok {
		return g.GetShared(ctx, id)
	}
	return s.Store.Get(ctx, id)
}

// Create implements sess.Store.
func (s *FaultStore) Create(ctx context.Context, id string, rec sess.Record) error {
	if err := s.enter(ctx, Create); err != nil {
		return err
	}
	return s.Store.Create(ctx, id, rec)
}

// Update implements sess.Store.
func (s *FaultStore) Update(ctx context.Context, id string, p sess.Patch) error {
	if err := s.enter(ctx, Update); err != nil {
		return err
	}
	return s.Store.Update(ctx, id, p)
}

// Touch implements sess.Store.
func (s *FaultStore) Touch(ctx context.Context, id string, expires time.Time) error {
	if err := s.enter(ctx, Touch); err != nil {
		return err
	}
	return s.Store.Touch(ctx, id, expires)
}

// Delete implements sess.Store.
func (s *FaultStore) Delete(ctx context.Context, id string) error {
	if err := s.enter(ctx, Delete); err != nil {
		return err
	}
	return s.Store.Delete(ctx, id)
}

// Clock is a fake clock for Config.Now and MemoryConfig.Now: it only moves
// when told to. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// maxLogs caps what Logs keeps, so that a runaway test cannot exhaust
// memory.
const maxLogs = 256 << 10

// Logs captures log output, such as a Manager's (Config.Logger: Logger()).
// It is safe for concurrent use.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer. Past 256 KiB it drops what it is given.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() < maxLogs {
		l.buf.Write(p)
	}
	return len(p), nil
}

// String returns everything captured so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	if l.buf.Len() >= maxLogs {
		s += "\n[log truncated]"
	}
	return s
}

// Logger returns a logger writing every level, debug included, in slog's
// text format (level=ERROR msg=...) to l.
func (l *Logs) Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
