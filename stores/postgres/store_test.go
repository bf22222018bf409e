package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestNew(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), dsn()) // no I/O until used
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	st, err := New(pool, Config{})
	if err != nil {
		t.Fatalf("New with the zero Config: %v", err)
	}
	defer st.Close()
	if st.Table() != DefaultTable || st.batch != DefaultSweepBatch {
		t.Errorf("defaults: table %q, batch %d", st.Table(), st.batch)
	}
	if !strings.Contains(st.MigrateSQL(), `CREATE TABLE IF NOT EXISTS "sess_sessions"`) ||
		!strings.Contains(st.MigrateSQL(), `CREATE INDEX IF NOT EXISTS "sess_sessions_expires_idx" ON "sess_sessions" (expires)`) ||
		!strings.Contains(st.MigrateSQL(), `ALTER TABLE "sess_sessions" ADD COLUMN IF NOT EXISTS principal text`) ||
		!strings.Contains(st.MigrateSQL(), `CREATE INDEX IF NOT EXISTS "sess_sessions_princ_idx" ON "sess_sessions" (principal, expires) WHERE principal IS NOT NULL`) {
		t.Errorf("MigrateSQL:\n%s", st.MigrateSQL())
	}
	for _, ok := range []string{"sessions", "_s", "app.sessions", "s1", strings.Repeat("a", 51)} {
		st, err := New(pool, Config{Table: ok, SweepInterval: -1})
		if err != nil {
			t.Errorf("New(Table %q): %v, want nil", ok, err)
			continue
		}
		st.Close()
	}
	for _, bad := range []string{"Sessions", "1s", "a-b", "a b", `a"b`, "a;DROP TABLE x", "a.b.c", ".a", "a.", strings.Repeat("a", 52), "sessões"} {
		if _, err := New(pool, Config{Table: bad}); !errors.Is(err, ErrInvalidTable) {
			t.Errorf("New(Table %q): %v, want ErrInvalidTable", bad, err)
		}
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Errorf("New(nil DB): nil error")
	}
	if got := quote("app.sessions"); got != `"app"."sessions"` {
		t.Errorf("quote = %s", got)
	}
}

// TestMigrate runs Migrate twice and from several stores at once: it is
// idempotent, and the table and index exist afterwards.
func TestMigrate(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	table := testTable(t, pool)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			st, err := New(pool, Config{Table: table, SweepInterval: -1})
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			errs[i] = st.Migrate(ctx)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: %v", i, err)
		}
	}
	st := newTestStore(t, pool, Config{Table: table}) // migrates once more
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, table, indexName(table)).Scan(&n); err != nil || n != 1 {
		t.Errorf("expiry index: count %d, err %v; want 1", n, err)
	}
	// A schema-qualified table.
	schema := "sess_schema_" + randomHex(4)
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	qs := newTestStore(t, pool, Config{Table: schema + ".sessions"})
	exp := time.Now().Add(time.Hour)
	if err := qs.Create(ctx, "id", sess.Record{Meta: []byte("m"), Expires: exp}); err != nil {
		t.Fatalf("Create in %s.sessions: %v", schema, err)
	}
	if _, err := st.Get(ctx, "id"); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("the record landed in the other table: %v", err)
	}
	if _, err := qs.Get(ctx, "id"); err != nil {
		t.Errorf("Get from %s.sessions: %v", schema, err)
	}
}

func TestContextHonoured(t *testing.T) {
	requirePostgres(t)
	st := newTestStore(t, newPool(t, "", nil), Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	exp := time.Now().Add(time.Hour)
	checks := map[string]error{
		"Get":     func() error { _, err := st.Get(ctx, "id"); return err }(),
		"Create":  st.Create(ctx, "id", sess.Record{Expires: exp}),
		"Update":  st.Update(ctx, "id", sess.Patch{Expires: exp}),
		"Touch":   st.Touch(ctx, "id", exp),
		"Delete":  st.Delete(ctx, "id"),
		"Migrate": st.Migrate(ctx),
		"Sweep":   func() error { _, err := st.Sweep(ctx); return err }(),

		"ListPrincipal":   func() error { _, err := st.ListPrincipal(ctx, "alice"); return err }(),
		"GetHandle":       func() error { _, err := st.GetHandle(ctx, sess.HashID("id")); return err }(),
		"DeleteHandle":    st.DeleteHandle(ctx, sess.HashID("id"), ""),
		"DeletePrincipal": func() error { _, err := st.DeletePrincipal(ctx, "alice", nil); return err }(),
	}
	for op, err := range checks {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", op, err)
		}
	}
}

// TestRows checks what lands in the table for sessions made through a
// Manager: rows keyed by the bytes of sess.HashID(id), no raw ID in any
// column, version 2 after a create and an update, aligned keys and values,
// expires no later than the idle timeout.
func TestRows(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{})
	srv := httptest.NewServer(app(newManager(t, st, 0), nil))
	defer srv.Close()
	ids := map[string]bool{}
	for i := range 5 {
		cookie := sessionCookie(t, get(t, srv, fmt.Sprintf("/set?k=n&v=%d", i), ""))
		ids[idOf(cookie)] = true
		get(t, srv, "/set?k=m&v=x", cookie)
	}
	want := map[string]bool{}
	for id := range ids {
		want[string(key(id))] = true
	}
	rows, err := pool.Query(context.Background(), "SELECT id, version, expires, meta, keys, vals FROM "+quote(st.table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var (
			id, meta   []byte
			version    int64
			expires    time.Time
			keys, vals [][]byte
		)
		if err := rows.Scan(&id, &version, &expires, &meta, &keys, &vals); err != nil {
			t.Fatal(err)
		}
		if !want[string(id)] {
			t.Errorf("row id %x is not the hash of a session ID", id)
		}
		if version != 2 || len(keys) != 2 || len(vals) != 2 {
			t.Errorf("row %x: version %d, %d keys, %d values; want 2, 2, 2", id, version, len(keys), len(vals))
		}
		if d := time.Until(expires); d <= 0 || d > sess.DefaultIdleTimeout {
			t.Errorf("row %x expires in %v, want in (0, %v]", id, d, sess.DefaultIdleTimeout)
		}
		for raw := range ids {
			all := bytes.Join(append(append([][]byte{id, meta}, keys...), vals...), nil)
			if bytes.Contains(all, []byte(raw)) {
				t.Errorf("raw session ID found in row %x", id)
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(ids) {
		t.Errorf("%d rows, want %d", n, len(ids))
	}
}

// TestBinaryKeysAndValues: keys and values are bytes, kept exactly,
// whatever they hold (NUL, invalid UTF-8, the empty key, every byte).
func TestBinaryKeysAndValues(t *testing.T) {
	requirePostgres(t)
	st := newTestStore(t, newPool(t, "", nil), Config{})
	ctx := context.Background()
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	keys := []string{"", "\x00", "a\x00b", "\xff\xfe", "'; DROP TABLE x; --", "ключ", `{"a":1}`, "\\x00"}
	var entries []byte
	for i, k := range keys {
		entries = sess.AppendEntry(entries, k, append([]byte{byte(i)}, all...))
	}
	exp := time.Now().Add(time.Hour)
	if err := st.Create(ctx, "bin", sess.Record{Meta: all, Entries: entries, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want map[string][]byte) {
		t.Helper()
		rec, err := st.Get(ctx, "bin")
		if err != nil {
			t.Fatalf("%s: Get: %v", when, err)
		}
		if !bytes.Equal(rec.Meta, all) {
			t.Errorf("%s: meta changed", when)
		}
		es, err := sess.ParseEntries(rec.Entries)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(want) {
			t.Errorf("%s: %d entries, want %d", when, len(es), len(want))
		}
		for _, e := range es {
			if w, ok := want[e.Key]; !ok || !bytes.Equal(e.Value, w) {
				t.Errorf("%s: key %q = %q, want %q (present %v)", when, e.Key, e.Value, w, ok)
			}
		}
	}
	want := map[string][]byte{}
	for i, k := range keys {
		want[k] = append([]byte{byte(i)}, all...)
	}
	check("after Create", want)
	if err := st.Update(ctx, "bin", sess.Patch{Delete: []string{"\x00", "\xff\xfe"}, Set: []sess.Entry{{Key: "a\x00b", Value: []byte{0}}, {Key: "\xc3\x28", Value: nil}}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	delete(want, "\x00")
	delete(want, "\xff\xfe")
	want["a\x00b"] = []byte{0}
	want["\xc3\x28"] = []byte{}
	check("after Update", want)
}

// TestMaxSizeAcrossVarintBoundaries checks that the size the update
// statement computes is sess.EntrySize exactly, for lengths around the
// uvarint boundaries: a cap at the size passes, one byte less refuses.
func TestMaxSizeAcrossVarintBoundaries(t *testing.T) {
	requirePostgres(t)
	st := newTestStore(t, newPool(t, "", nil), Config{})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, n := range []int{0, 1, 127, 128, 129, 16383, 16384, 16385, 2097151, 2097152} {
		id := fmt.Sprintf("size-%d", n)
		meta := []byte("meta")
		base := sess.AppendEntry(nil, "a", []byte("1"))
		if err := st.Create(ctx, id, sess.Record{Meta: meta, Entries: base, Expires: exp}); err != nil {
			t.Fatal(err)
		}
		k := strings.Repeat("k", min(n, 300)) // keys cross the first boundary too
		size := len(meta) + len(base) + sess.EntrySize(len(k), n)
		p := sess.Patch{Set: []sess.Entry{{Key: k, Value: make([]byte, n)}}, Expires: exp, MaxSize: size - 1}
		if err := st.Update(ctx, id, p); !errors.Is(err, sess.ErrTooLarge) {
			t.Errorf("value of %d bytes, key of %d, MaxSize one below the size: %v, want ErrTooLarge", n, len(k), err)
		}
		p.MaxSize = size
		if err := st.Update(ctx, id, p); err != nil {
			t.Errorf("value of %d bytes, key of %d, MaxSize at the size: %v, want nil", n, len(k), err)
		}
		rec, err := st.Get(ctx, id)
		if err != nil || len(rec.Meta)+len(rec.Entries) != size {
			t.Errorf("value of %d bytes: stored size %d, err %v; want %d", n, len(rec.Meta)+len(rec.Entries), err, size)
		}
	}
}

// TestExpiredRows covers rows past their expiry that no sweep removed yet:
// never returned, never updated or touched, replaced by Create, deleted by
// the Update that finds them.
func TestExpiredRows(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, id := range []string{"a", "b"} {
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Entries: sess.AppendEntry(nil, "k", []byte("old")), Expires: exp}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "UPDATE "+quote(st.table)+" SET expires = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+quote(st.table)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := st.Get(ctx, "a"); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Get of an expired row: %v, want ErrNotFound", err)
	}
	if err := st.Touch(ctx, "a", exp); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Touch of an expired row: %v, want ErrNotFound", err)
	}
	if err := st.Update(ctx, "a", sess.Patch{Set: []sess.Entry{{Key: "late", Value: []byte("1")}}, Expires: exp}); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Update of an expired row: %v, want ErrNotFound", err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d rows after an Update met an expired row, want 1 (it deletes the row)", n)
	}
	if err := st.Create(ctx, "b", sess.Record{Meta: []byte("m2"), Entries: sess.AppendEntry(nil, "new", []byte("1")), Expires: exp}); err != nil {
		t.Errorf("Create over an expired row: %v, want nil", err)
	}
	rec, err := st.Get(ctx, "b")
	if err != nil || rec.Version != 1 || string(rec.Meta) != "m2" || !bytes.Equal(rec.Entries, sess.AppendEntry(nil, "new", []byte("1"))) {
		t.Errorf("Get after Create over an expired row = (%q, %q, version %d), %v; want only the new record", rec.Meta, rec.Entries, rec.Version, err)
	}
}

// TestForeignRows: rows the store did not write (version 0, keys and
// values of different lengths) count as no session, never as a record.
func TestForeignRows(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	ins := "INSERT INTO " + quote(st.table) + " (id, version, expires, meta, keys, vals) VALUES ($1, $2, now() + interval '1 hour', '', $3, $4)"
	if _, err := pool.Exec(ctx, ins, key("v0"), 0, [][]byte{}, [][]byte{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, ins, key("skew"), 1, [][]byte{[]byte("a"), []byte("b")}, [][]byte{[]byte("1")}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"v0", "skew"} {
		if _, err := st.Get(ctx, id); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("Get of a malformed row %q: %v, want ErrNotFound", id, err)
		}
	}
}

// TestSweep: Sweep deletes every expired row in batches and no live one;
// the background sweeper does the same on its own; Close stops it.
func TestSweep(t *testing.T) {
	requirePostgres(t)
	pool, tr := tracedPool(t, nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1, SweepBatch: 7})
	tr.name = opNames(st)
	ctx := context.Background()
	live := time.Now().Add(time.Hour)
	for i := range 30 {
		if err := st.Create(ctx, fmt.Sprintf("s%d", i), sess.Record{Meta: []byte("m"), Expires: live}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+quote(st.table)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// expire moves the given sessions' expiry into the past, as time would.
	expire := func(ids ...string) {
		t.Helper()
		keys := make([][]byte, len(ids))
		for i, id := range ids {
			keys[i] = key(id)
		}
		tag, err := pool.Exec(ctx, "UPDATE "+quote(st.table)+" SET expires = now() - interval '1 second' WHERE id = ANY($1)", keys)
		if err != nil || tag.RowsAffected() != int64(len(ids)) {
			t.Fatalf("expiring %d rows: %v, %d rows", len(ids), err, tag.RowsAffected())
		}
	}
	if n, err := st.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("Sweep before anything expired: %d, %v; want 0", n, err)
	}
	var dead []string
	for i := range 30 {
		if i%3 != 0 {
			dead = append(dead, fmt.Sprintf("s%d", i))
		}
	}
	expire(dead...) // 20 rows
	tr.take()
	n, err := st.Sweep(ctx)
	if err != nil || n != 20 {
		t.Errorf("Sweep: deleted %d, %v; want 20", n, err)
	}
	if ops, _ := tr.takeStore(); len(ops) != 3 { // 7 + 7 + 6
		t.Errorf("Sweep of 20 rows in batches of 7 ran %v, want 3 statements", ops)
	}
	if c := count(); c != 10 {
		t.Errorf("%d rows after the sweep, want the 10 live ones", c)
	}

	// The background sweeper, every 50 ms.
	bg := newTestStore(t, pool, Config{Table: st.table, SweepInterval: 50 * time.Millisecond})
	for i := range 5 {
		if err := st.Create(ctx, fmt.Sprintf("bg%d", i), sess.Record{Meta: []byte("m"), Expires: live}); err != nil {
			t.Fatal(err)
		}
	}
	expire("bg0", "bg1", "bg2", "bg3", "bg4")
	deadline := time.Now().Add(10 * time.Second)
	for count() != 10 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if c := count(); c != 10 {
		t.Errorf("%d rows 10 s after 5 rows expired, want the background sweep to leave 10", c)
	}
	if err := bg.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := bg.Sweep(ctx); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("Sweep after Close: %v, want ErrClosed", err)
	}
	if err := bg.Migrate(ctx); !errors.Is(err, sess.ErrClosed) {
		t.Errorf("Migrate after Close: %v, want ErrClosed", err)
	}
}

// TestSweepSkipsLockedRows: a row a writer holds is left for a later
// sweep instead of blocking the sweep.
func TestSweepSkipsLockedRows(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	for _, id := range []string{"locked", "free"} {
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Expires: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, "UPDATE "+quote(st.table)+" SET expires = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM "+quote(st.table)+" WHERE id = $1 FOR UPDATE", key("locked")); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	n, err := st.Sweep(sctx)
	if err != nil || n != 1 {
		t.Errorf("Sweep with one expired row locked: deleted %d, %v; want 1 (the free one), without waiting", n, err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Sweep(ctx); err != nil || n != 1 {
		t.Errorf("Sweep after the lock ended: deleted %d, %v; want 1", n, err)
	}
}

// TestNoTable: before Migrate, calls fail with a store error that says
// what to do, never ErrNotFound (the Manager must answer 503, not start a
// new session).
func TestNoTable(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st, err := New(pool, Config{Table: "sess_missing_" + randomHex(6), SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = st.Get(context.Background(), "id")
	if err == nil || errors.Is(err, sess.ErrNotFound) || !strings.Contains(err.Error(), "run Store.Migrate") {
		t.Errorf("Get before Migrate: %v, want a store error naming Migrate", err)
	}
}
