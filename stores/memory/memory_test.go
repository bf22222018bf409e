package memory_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/stores/memory"
)

type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func id(i int) string { return fmt.Sprintf("session-id-%032d", i) }

func TestMaxSessionsPolicy(t *testing.T) {
	clk := newClock()
	s := memory.New(memory.Config{MaxSessions: 2, Now: clk.Now})
	defer s.Close()
	ctx := context.Background()
	rec := func() sess.Record {
		return sess.Record{Meta: []byte("m"), Entries: sess.AppendEntry(nil, "k", []byte("x")), Expires: clk.Now().Add(time.Minute)}
	}
	for i := range 2 {
		if err := s.Create(ctx, id(i), rec()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, id(2), rec()); !errors.Is(err, sess.ErrStoreFull) {
		t.Fatalf("third session in a store capped at 2: %v, want ErrStoreFull", err)
	}
	// Existing sessions keep working.
	p := sess.Patch{Set: []sess.Entry{{Key: "k2", Value: []byte("y")}}, Expires: clk.Now().Add(time.Minute)}
	if err := s.Update(ctx, id(0), p); err != nil {
		t.Errorf("update in a full store: %v", err)
	}
	// Deleting or expiring frees room.
	if err := s.Delete(ctx, id(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, id(2), rec()); err != nil {
		t.Errorf("create after a delete: %v", err)
	}
	clk.Advance(2 * time.Minute)
	s.Sweep()
	if s.Len() != 0 {
		t.Errorf("Len after sweep = %d", s.Len())
	}
	if err := s.Create(ctx, id(3), rec()); err != nil {
		t.Errorf("create after expiry: %v", err)
	}
}

func TestFullStoreGives503(t *testing.T) {
	store := memory.New(memory.Config{MaxSessions: 1})
	defer store.Close()
	m, err := sess.New(sess.Config{Secret: []byte("memory-test-secret-0123456789-abcdefg"), Store: store})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	commit := func() error {
		s, _ := m.Load(ctx, sess.HeaderCarrier{Request: map[string][]string{}, Response: map[string][]string{}})
		s.Set("k", 1)
		return m.Commit(ctx, s, 200)
	}
	if err := commit(); err != nil {
		t.Fatal(err)
	}
	err = commit()
	if !errors.Is(err, sess.ErrStoreFull) || m.ErrorResponse(ctx, err).Status != 503 {
		t.Errorf("new session in a full store: %v, want ErrStoreFull answered with 503", err)
	}
}

func TestSweepIsIncrementalAndComplete(t *testing.T) {
	clk := newClock()
	s := memory.New(memory.Config{Now: clk.Now})
	defer s.Close()
	ctx := context.Background()
	const n = 20000
	for i := range n {
		exp := clk.Now().Add(time.Minute)
		if i%2 == 0 {
			exp = clk.Now().Add(time.Hour)
		}
		if err := s.Create(ctx, id(i), sess.Record{Entries: []byte{byte(i)}, Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Minute)
	// Readers and writers run concurrently with the sweep.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ; i += 4 {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = s.Get(ctx, id(i%n))
			}
		}()
	}
	s.Sweep()
	close(stop)
	wg.Wait()
	if got := s.Len(); got != n/2 {
		t.Errorf("Len after sweep = %d, want %d", got, n/2)
	}
	if _, err := s.Get(ctx, id(0)); err != nil {
		t.Errorf("live record swept: %v", err)
	}
	if _, err := s.Get(ctx, id(1)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("expired record returned: %v", err)
	}
}

func TestCopiesInAndOut(t *testing.T) {
	s := memory.New(memory.Config{})
	defer s.Close()
	ctx := context.Background()
	meta, data := []byte("meta"), []byte("original")
	if err := s.Create(ctx, id(1), sess.Record{Meta: meta, Entries: data, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	data[0], meta[0] = 'X', 'X'
	r, _ := s.Get(ctx, id(1))
	r.Entries[1], r.Meta[1] = 'Y', 'Y'
	// Appending to a returned Meta must not overwrite the entries.
	_ = append(r.Meta, 'Z')
	r2, _ := s.Get(ctx, id(1))
	if string(r2.Entries) != "original" || string(r2.Meta) != "meta" {
		t.Errorf("stored data aliased a caller buffer: %q %q", r2.Meta, r2.Entries)
	}
	shared, _ := s.GetShared(ctx, id(1))
	_ = append(shared.Meta, 'Z')
	_ = append(shared.Entries, 'Z')
	if err := s.Update(ctx, id(1), sess.Patch{Clear: true, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if string(shared.Entries) != "original" || string(shared.Meta) != "meta" {
		t.Errorf("a shared record changed after appends and a later write: %q %q", shared.Meta, shared.Entries)
	}
}

func TestCloseIsIdempotentAndSafe(t *testing.T) {
	s := memory.New(memory.Config{SweepInterval: time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				_ = s.Create(ctx, id(g*1000+i), sess.Record{Entries: []byte("x"), Expires: time.Now().Add(time.Hour)})
				_, _ = s.Get(ctx, id(g*1000+i))
				if i == 100 && g%2 == 0 {
					_ = s.Close()
				}
			}
		}()
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Get(ctx, id(1)); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("Get after Close: %v, want ErrClosed", err)
	}
	if err := s.Create(ctx, id(1), sess.Record{Entries: []byte("x"), Expires: time.Now().Add(time.Hour)}); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("Create after Close: %v, want ErrClosed", err)
	}
	if err := s.Update(ctx, id(1), sess.Patch{Expires: time.Now().Add(time.Hour)}); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
}

func TestBackgroundSweeper(t *testing.T) {
	clk := newClock()
	s := memory.New(memory.Config{Now: clk.Now, SweepInterval: 5 * time.Millisecond})
	defer s.Close()
	_ = s.Create(context.Background(), id(1), sess.Record{Entries: []byte("x"), Expires: clk.Now().Add(time.Second)})
	clk.Advance(time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for s.Len() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s.Len() != 0 {
		t.Error("the background sweeper never removed an expired record")
	}
}
