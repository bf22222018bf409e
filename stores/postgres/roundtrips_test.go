package pgstore

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// tracer records every statement the pool's connections send (a pgx
// QueryTracer: Exec, Query and QueryRow each trace once), every prepare
// (pgx's statement cache prepares a statement on its first use on a
// connection, one extra round trip) and every liveness ping on acquire,
// which bypasses the tracer (see countPings).
type tracer struct {
	mu   sync.Mutex
	name func(sql string) string
	ops  []string
}

func (tr *tracer) add(op string) {
	tr.mu.Lock()
	tr.ops = append(tr.ops, op)
	tr.mu.Unlock()
}

// TraceQueryStart implements pgx.QueryTracer.
func (tr *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	n := "sql"
	if tr.name != nil {
		n = tr.name(data.SQL)
	}
	tr.add(n)
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (tr *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TracePrepareStart implements pgx.PrepareTracer.
func (tr *tracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	n := "sql"
	if tr.name != nil {
		n = tr.name(data.SQL)
	}
	tr.add("prepare " + n)
	return ctx
}

// TracePrepareEnd implements pgx.PrepareTracer.
func (tr *tracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// take returns the round trips recorded since the last call and resets.
func (tr *tracer) take() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	ops := tr.ops
	tr.ops = nil
	return ops
}

// takeStore is take without pgxpool's liveness pings, which depend on
// how long a connection sat idle (a slow test machine), not on the store;
// it returns their number separately.
func (tr *tracer) takeStore() (ops []string, pings int) {
	for _, op := range tr.take() {
		if op == "ping" {
			pings++
			continue
		}
		ops = append(ops, op)
	}
	return ops, pings
}

// tracedPool returns a pool whose every round trip is recorded by the
// returned tracer: statements, prepares, and the pings pgxpool sends
// before handing out a connection idle for more than a second.
func tracedPool(t testing.TB, tweak func(*pgxpool.Config)) (*pgxpool.Pool, *tracer) {
	tr := &tracer{}
	pool := newPool(t, "", func(cfg *pgxpool.Config) {
		cfg.ConnConfig.Tracer = tr
		cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool {
			ping := p.IdleDuration > time.Second // pgxpool's default rule
			if ping {
				tr.add("ping")
			}
			return ping
		}
		if tweak != nil {
			tweak(cfg)
		}
	})
	return pool, tr
}

// opNames names the store's statements for the tracer.
func opNames(st *Store) func(string) string {
	names := map[string]string{
		st.getSQL: "get", st.createSQL: "create", st.updateSQL: "update",
		st.touchSQL: "touch", st.touchDeleteSQL: "touch-delete", st.deleteSQL: "delete",
		st.sweepSQL: "sweep", st.migrateSQL: "migrate",
		st.listSQL: "list", st.getHandleSQL: "get-handle", st.deleteHandleSQL: "delete-handle",
		st.deletePrincipalSQL: "delete-principal",
	}
	return func(sql string) string {
		if n, ok := names[sql]; ok {
			return n
		}
		return "other: " + strings.Fields(sql)[0]
	}
}

// TestRoundTrips counts the round trips to PostgreSQL each kind of request
// costs, over real HTTP through the net/http adapter, with a tracer on a
// real pool.
func TestRoundTrips(t *testing.T) {
	requirePostgres(t)
	pool, tr := tracedPool(t, func(c *pgxpool.Config) { c.MaxConns = 1 }) // one connection: prepares happen once
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	tr.name = opNames(st)
	// A clock the test moves forward, to show when reads touch the record.
	var mu sync.Mutex
	now := time.Now()
	m, err := sess.New(sess.Config{
		Secret: testSecret,
		Store:  st,
		Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app(m, nil))
	defer srv.Close()

	// Prepare every statement on the pool's connection first, as a warm
	// server has; the first use of each on a connection costs one more
	// round trip, shown below on a fresh connection.
	warm := sessionCookie(t, get(t, srv, "/set?k=a&v=1", ""))
	get(t, srv, "/set?k=b&v=1", warm)
	_ = st.Touch(context.Background(), "warm-up", time.Now().Add(time.Hour))
	get(t, srv, "/destroy", warm)
	if ops := tr.take(); !slices.Contains(ops, "prepare get") {
		t.Logf("warm-up round trips: %v", ops)
	}

	cases := []struct {
		name    string
		advance time.Duration // clock move before the request
		path    string
		cookie  bool
		want    []string
	}{
		{"request without cookie, nothing stored", 0, "/none", false, nil},
		{"new session write", 0, "/set?k=a&v=1", false, []string{"create"}},
		{"read-only hit", 0, "/get?k=a", true, []string{"get"}},
		{"hit that does not use the session", 0, "/none", true, []string{"get"}},
		{"modifying hit", 0, "/set?k=b&v=2", true, []string{"get", "update"}},
		{"read-only hit right after a write", time.Minute, "/get?k=b", true, []string{"get"}},
		// The idle deadline moves by >= 1% of IdleTimeout: Touch.
		{"read-only hit 15 minutes later", 15 * time.Minute, "/get?k=b", true, []string{"get", "touch"}},
		{"read-only hit after that touch", time.Minute, "/get?k=b", true, []string{"get"}},
		{"destroy", 0, "/destroy", true, []string{"get", "delete"}},
	}
	var cookie string
	for _, tc := range cases {
		mu.Lock()
		now = now.Add(tc.advance)
		mu.Unlock()
		send := ""
		if tc.cookie {
			send = cookie
		}
		r := get(t, srv, tc.path, send)
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.name, r.status)
		}
		if cookie == "" && len(r.cookies) > 0 {
			cookie = sessionCookie(t, r)
		}
		got, pings := tr.takeStore()
		t.Logf("%-40s %d round trip(s): %v (and %d pool ping(s))", tc.name, len(got), got, pings)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: round trips %v, want %v", tc.name, got, tc.want)
		}
	}

	// On a fresh connection each statement's first use adds a prepare
	// (traced after the statement it precedes).
	pool.Reset()
	r := get(t, srv, "/set?k=a&v=1", "")
	fresh := sessionCookie(t, r)
	get(t, srv, "/set?k=b&v=2", fresh)
	got, _ := tr.takeStore()
	t.Logf("new session then a modifying hit on a fresh connection: %v", got)
	if want := []string{"create", "prepare create", "get", "prepare get", "update", "prepare update"}; !slices.Equal(got, want) {
		t.Errorf("round trips on a fresh connection %v, want %v", got, want)
	}
}

// TestRoundTripsBound counts the round trips of sessions bound to a
// principal, over real HTTP, and of the Manager's principal index calls:
// binding rides on the statement the commit sends anyway, and every index
// call is one statement.
func TestRoundTripsBound(t *testing.T) {
	requirePostgres(t)
	pool, tr := tracedPool(t, func(c *pgxpool.Config) { c.MaxConns = 1 })
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	tr.name = opNames(st)
	m := newManager(t, st, 0)
	srv := httptest.NewServer(app(m, nil))
	defer srv.Close()
	ctx := context.Background()

	// Warm up every statement on the one connection (see TestRoundTrips).
	warm := sessionCookie(t, get(t, srv, "/login?u=warm", ""))
	get(t, srv, "/set?k=a&v=1", warm)
	if _, err := m.Sessions(ctx, "warm"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SessionByHandle(ctx, sess.HashID(idOf(warm))); err != nil {
		t.Fatal(err)
	}
	if err := m.Revoke(ctx, "warm", sess.HashID(idOf(warm))); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeAll(ctx, "warm"); err != nil {
		t.Fatal(err)
	}
	tr.take()

	step := func(what string, want []string, do func()) {
		t.Helper()
		do()
		got, pings := tr.takeStore()
		t.Logf("%-44s %d round trip(s): %v (and %d pool ping(s))", what, len(got), got, pings)
		if !slices.Equal(got, want) {
			t.Errorf("%s: round trips %v, want %v", what, got, want)
		}
	}
	var bound, late string
	step("login on a new session", []string{"create"}, func() {
		bound = sessionCookie(t, get(t, srv, "/login?u=alice", ""))
	})
	step("read-only hit, bound", []string{"get"}, func() { get(t, srv, "/get?k=a", bound) })
	step("modifying hit, bound", []string{"get", "update"}, func() { get(t, srv, "/set?k=a&v=2", bound) })
	step("new session, unbound", []string{"create"}, func() {
		late = sessionCookie(t, get(t, srv, "/set?k=a&v=1", ""))
	})
	step("login on a stored session", []string{"get", "update"}, func() { get(t, srv, "/login?u=alice", late) })
	step("login with renewal on a stored session", []string{"get", "create", "update"}, func() {
		r := get(t, srv, "/login?u=alice&renew=1", late)
		late = sessionCookie(t, r)
	})
	step("Manager.Sessions", []string{"list"}, func() {
		if infos, err := m.Sessions(ctx, "alice"); err != nil || len(infos) != 2 {
			t.Errorf("Sessions = %d, %v; want 2", len(infos), err)
		}
	})
	step("Manager.SessionByHandle", []string{"get-handle"}, func() {
		if _, err := m.SessionByHandle(ctx, sess.HashID(idOf(late))); err != nil {
			t.Errorf("SessionByHandle: %v", err)
		}
	})
	step("Manager.Revoke", []string{"delete-handle"}, func() {
		if err := m.Revoke(ctx, "alice", sess.HashID(idOf(late))); err != nil {
			t.Errorf("Revoke: %v", err)
		}
	})
	step("Manager.RevokeAll", []string{"delete-principal"}, func() {
		if n, err := m.RevokeAll(ctx, "alice"); err != nil || n != 1 {
			t.Errorf("RevokeAll = %d, %v; want 1", n, err)
		}
	})
	step("hit with a revoked cookie", []string{"get"}, func() {
		if r := get(t, srv, "/get?k=a", bound); r.body != "" {
			t.Errorf("a revoked session still reads %q", r.body)
		}
	})
}
