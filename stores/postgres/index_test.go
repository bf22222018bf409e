package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// oldSchemaSQL is the table and index Migrate created before the principal
// index, verbatim.
const oldSchemaSQL = `CREATE TABLE %[1]s (
	id      bytea PRIMARY KEY,
	version bigint NOT NULL,
	expires timestamptz NOT NULL,
	meta    bytea NOT NULL,
	keys    bytea[] NOT NULL,
	vals    bytea[] NOT NULL
);
CREATE INDEX %[2]s ON %[1]s (expires);`

// TestMigrateUpgrade: a table of the previous schema, with a session in
// it, is upgraded by Migrate: the session still loads, can be bound and is
// then listed. Before the upgrade, writes fail with an error naming
// Migrate (a store error, never ErrConflict or ErrNotFound).
func TestMigrateUpgrade(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	table := testTable(t, pool)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, fmt.Sprintf(oldSchemaSQL, quote(table), quote(indexName(table)))); err != nil {
		t.Fatal(err)
	}
	entries := sess.AppendEntry(sess.AppendEntry(nil, "user", []byte("alice")), "", []byte{0, 1})
	keys, vals, err := splitEntries(entries)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Microsecond)
	if _, err := pool.Exec(ctx, "INSERT INTO "+quote(table)+" (id, version, expires, meta, keys, vals) VALUES ($1, 3, $2, 'm', $3, $4)",
		key("old"), exp, keys, vals); err != nil {
		t.Fatal(err)
	}
	st, err := New(pool, Config{Table: table, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	if err := st.Create(ctx, "new", sess.Record{Meta: []byte("m"), Expires: exp}); err == nil || errors.Is(err, sess.ErrConflict) || !strings.Contains(err.Error(), "run Store.Migrate") {
		t.Errorf("Create on the old schema: %v, want a store error naming Migrate", err)
	}
	if err := st.Update(ctx, "old", sess.Patch{Set: []sess.Entry{{Key: "k", Value: []byte("v")}}, Expires: exp}); err == nil || errors.Is(err, sess.ErrNotFound) || !strings.Contains(err.Error(), "run Store.Migrate") {
		t.Errorf("Update on the old schema: %v, want a store error naming Migrate", err)
	}

	for i := range 2 { // the second run finds everything in place
		if err := st.Migrate(ctx); err != nil {
			t.Fatalf("Migrate %d of an old table: %v", i+1, err)
		}
	}
	rec, err := st.Get(ctx, "old")
	if err != nil || rec.Version != 3 || string(rec.Meta) != "m" || !rec.Expires.Equal(exp) {
		t.Fatalf("Get after the upgrade = (%q, v%d, %v), %v; want the old row unchanged", rec.Meta, rec.Version, rec.Expires, err)
	}
	if es, err := sess.ParseEntries(rec.Entries); err != nil || len(es) != 2 {
		t.Errorf("entries after the upgrade: %v, %v", es, err)
	}
	x := sess.PrincipalIndex(st)
	if recs, err := x.ListPrincipal(ctx, "alice"); err != nil || len(recs) != 0 {
		t.Errorf("ListPrincipal before binding = %d, %v; want none (old rows are unbound)", len(recs), err)
	}
	alice := "alice"
	if err := st.Update(ctx, "old", sess.Patch{Principal: &alice, Expires: exp}); err != nil {
		t.Fatalf("binding the old row: %v", err)
	}
	recs, err := x.ListPrincipal(ctx, "alice")
	if err != nil || len(recs) != 1 || recs[0].Handle != sess.HashID("old") || recs[0].Version != 4 {
		t.Errorf("ListPrincipal after binding the old row = %+v, %v; want it at version 4", recs, err)
	}
	if err := st.Create(ctx, "new", sess.Record{Meta: []byte("m"), Expires: exp, Principal: "alice"}); err != nil {
		t.Errorf("Create after the upgrade: %v", err)
	}
	var def string
	if err := pool.QueryRow(ctx, `SELECT indexdef FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, table, principalIndexName(table)).Scan(&def); err != nil {
		t.Fatalf("principal index after the upgrade: %v", err)
	}
	if !strings.Contains(def, "(principal, expires) WHERE (principal IS NOT NULL)") {
		t.Errorf("principal index: %s; want a partial index on (principal, expires)", def)
	}
}

// TestMigrateUpToDateTakesNoTableLock: on a table that is up to date,
// Migrate does not wait for an open transaction that reads the table (an
// ALTER TABLE would: it locks out readers even when it has nothing to do,
// and every session read would queue behind it).
func TestMigrateUpToDateTakesNoTableLock(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT count(*) FROM "+quote(st.table)); err != nil {
		t.Fatal(err)
	}
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := st.Migrate(mctx); err != nil {
		t.Errorf("Migrate while a transaction reads the table: %v, want nil without waiting for it", err)
	}
}

// principalColumn returns the principal column of id's row, and whether
// it is set (not NULL).
func principalColumn(t *testing.T, st *Store, id string) (string, bool) {
	t.Helper()
	var p *string
	err := st.db.QueryRow(context.Background(), "SELECT principal FROM "+quote(st.table)+" WHERE id = $1", key(id)).Scan(&p)
	if err != nil {
		t.Fatalf("reading the principal of a row: %v", err)
	}
	if p == nil {
		return "", false
	}
	return *p, true
}

// TestIndexRows checks the principal column behind the index: NULL for
// unbound sessions (never an empty string, so the partial index holds only
// bound ones), set and cleared by Create and Update, replaced with the
// rest of an expired row by Create.
func TestIndexRows(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	want := func(id, principal string) {
		t.Helper()
		p, ok := principalColumn(t, st, id)
		if principal == "" && ok {
			t.Errorf("principal of %s = %q, want NULL", id, p)
		}
		if principal != "" && (!ok || p != principal) {
			t.Errorf("principal of %s = %q (set %v), want %q", id, p, ok, principal)
		}
	}
	if err := st.Create(ctx, "a", sess.Record{Meta: []byte("m"), Expires: exp}); err != nil {
		t.Fatal(err)
	}
	want("a", "")
	if err := st.Create(ctx, "b", sess.Record{Meta: []byte("m"), Expires: exp, Principal: "bob"}); err != nil {
		t.Fatal(err)
	}
	want("b", "bob")
	alice, none := "alice", ""
	if err := st.Update(ctx, "a", sess.Patch{Principal: &alice, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	want("a", "alice")
	if err := st.Update(ctx, "a", sess.Patch{Set: []sess.Entry{{Key: "k", Value: []byte("v")}}, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	want("a", "alice")
	if err := st.Update(ctx, "a", sess.Patch{Principal: &none, Expires: exp}); err != nil {
		t.Fatal(err)
	}
	want("a", "")
	// A patch refused for its size changes no binding either.
	if err := st.Update(ctx, "a", sess.Patch{Principal: &alice, Set: []sess.Entry{{Key: "big", Value: make([]byte, 100)}}, Expires: exp, MaxSize: 10}); !errors.Is(err, sess.ErrTooLarge) {
		t.Fatalf("oversized Update: %v, want ErrTooLarge", err)
	}
	want("a", "")

	// Create over an expired bound row replaces the binding with the rest.
	if _, err := pool.Exec(ctx, "UPDATE "+quote(st.table)+" SET expires = now() - interval '1 second' WHERE id = $1", key("b")); err != nil {
		t.Fatal(err)
	}
	if err := st.Create(ctx, "b", sess.Record{Meta: []byte("m"), Expires: exp}); err != nil {
		t.Fatalf("Create over an expired bound row: %v", err)
	}
	want("b", "")
	if recs, err := st.ListPrincipal(ctx, "bob"); err != nil || len(recs) != 0 {
		t.Errorf("ListPrincipal of the replaced row's principal = %d, %v; want none", len(recs), err)
	}
	if _, err := st.GetHandle(ctx, sess.HashID("b")); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("GetHandle of a row replaced unbound: %v, want ErrNotFound", err)
	}
}

// TestIndexListing: ListPrincipal returns every live bound record exactly
// as Get does, whatever their number of keys (the result is one row of
// aggregated arrays that the store splits again), including empty keys and
// values; rows the store did not write are left out, not an error.
func TestIndexListing(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	ids := map[string]string{} // handle -> id
	for i := range 12 {
		var entries []byte
		for k := range i % 5 {
			entries = sess.AppendEntry(entries, strings.Repeat("k", k), bytes.Repeat([]byte{byte(i)}, k*i))
		}
		id := fmt.Sprintf("list-%d", i)
		if err := st.Create(ctx, id, sess.Record{Meta: []byte(id), Entries: entries, Expires: exp.Add(time.Duration(i) * time.Second), Principal: "alice"}); err != nil {
			t.Fatal(err)
		}
		ids[sess.HashID(id)] = id
	}
	if err := st.Create(ctx, "other", sess.Record{Meta: []byte("m"), Expires: exp, Principal: "alicia"}); err != nil {
		t.Fatal(err)
	}
	ins := "INSERT INTO " + quote(st.table) + " (id, version, expires, meta, keys, vals, principal) VALUES ($1, $2, now() + interval '1 hour', '', $3, $4, 'alice')"
	if _, err := pool.Exec(ctx, ins, key("v0"), 0, [][]byte{}, [][]byte{}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, ins, key("skew"), 1, [][]byte{[]byte("a"), []byte("b")}, [][]byte{[]byte("1")}); err != nil {
		t.Fatal(err)
	}
	recs, err := st.ListPrincipal(ctx, "alice")
	if err != nil {
		t.Fatalf("ListPrincipal: %v", err)
	}
	if len(recs) != len(ids) {
		t.Errorf("ListPrincipal returned %d records, want %d", len(recs), len(ids))
	}
	seen := map[string]bool{}
	for _, r := range recs {
		id, ok := ids[r.Handle]
		if !ok || seen[r.Handle] {
			t.Errorf("listed handle %s: known %v, seen before %v", r.Handle, ok, seen[r.Handle])
			continue
		}
		seen[r.Handle] = true
		got, err := st.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Principal != "alice" || !bytes.Equal(r.Meta, got.Meta) || !bytes.Equal(r.Entries, got.Entries) || r.Version != got.Version || !r.Expires.Equal(got.Expires) {
			t.Errorf("%s listed as (%q, %q, %q, v%d, %v), Get: (%q, %q, v%d, %v)", id, r.Principal, r.Meta, r.Entries, r.Version, r.Expires, got.Meta, got.Entries, got.Version, got.Expires)
		}
	}
	if recs, err := st.ListPrincipal(ctx, "nobody"); err != nil || len(recs) != 0 {
		t.Errorf("ListPrincipal of an unknown principal = %v, %v; want none", recs, err)
	}
}

// TestIndexHandlesAndExpiry: handles are compared as the strings
// sess.HashID returns (another spelling of the same bytes names nothing),
// and DeletePrincipal leaves expired rows to the sweep without counting
// them.
func TestIndexHandlesAndExpiry(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	for _, id := range []string{"a", "b", "c", "dead"} {
		if err := st.Create(ctx, id, sess.Record{Meta: []byte("m"), Expires: exp, Principal: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	upper := strings.ToUpper(sess.HashID("a"))
	for _, h := range []string{upper, sess.HashID("a")[:63], sess.HashID("a") + "0", "", "zz"} {
		if _, err := st.GetHandle(ctx, h); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("GetHandle(%q): %v, want ErrNotFound", h, err)
		}
		if err := st.DeleteHandle(ctx, h, ""); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("DeleteHandle(%q): %v, want ErrNotFound", h, err)
		}
	}
	if _, err := st.Get(ctx, "a"); err != nil {
		t.Fatalf("a session deleted through a malformed handle: %v", err)
	}
	if _, err := pool.Exec(ctx, "UPDATE "+quote(st.table)+" SET expires = now() - interval '1 second' WHERE id = $1", key("dead")); err != nil {
		t.Fatal(err)
	}
	n, err := st.DeletePrincipal(ctx, "alice", []string{upper, sess.HashID("b"), "not a handle"})
	if err != nil || n != 2 {
		t.Errorf("DeletePrincipal keeping b (and a in upper case, which names nothing) = %d, %v; want 2", n, err)
	}
	if _, err := st.Get(ctx, "b"); err != nil {
		t.Errorf("the kept session: %v", err)
	}
	if _, err := st.Get(ctx, "a"); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("a session kept by an upper-case handle: %v, want it deleted", err)
	}
	if n, err := st.Sweep(ctx); err != nil || n != 1 {
		t.Errorf("Sweep after DeletePrincipal = %d, %v; want the 1 expired row it left", n, err)
	}
}

// TestIndexPlans checks that the index statements find rows through the
// principal index or the primary key, never by reading the table or the
// expiry index, also in the generic plan pgx's prepared statements may get.
func TestIndexPlans(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	st := newTestStore(t, pool, Config{SweepInterval: -1})
	ctx := context.Background()
	// 20,000 sessions, one in ten bound, all live: a scan of the expiry
	// index would read all of them.
	if _, err := pool.Exec(ctx, "INSERT INTO "+quote(st.table)+` (id, version, expires, meta, keys, vals, principal)
		SELECT sha256(i::text::bytea), 1, now() + interval '1 hour', '', '{}', '{}', CASE WHEN i % 10 = 0 THEN 'u' || (i % 100) END
		FROM generate_series(1, 20000) i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "ANALYZE "+quote(st.table)); err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	pidx, pkey := principalIndexName(st.table), st.table+"_pkey"
	for _, tc := range []struct {
		name, sql, types, args, index string
	}{
		{"list", st.listSQL, "text, timestamptz", "'u10', now()", pidx},
		{"get-handle", st.getHandleSQL, "bytea, timestamptz", "sha256('10'::bytea), now()", pkey},
		{"delete-handle", st.deleteHandleSQL, "bytea, text, timestamptz", "sha256('10'::bytea), 'u10', now()", pkey},
		{"delete-principal", st.deletePrincipalSQL, "text, bytea[], timestamptz", "'u10', '{}', now()", pidx},
	} {
		for _, mode := range []string{"force_generic_plan", "force_custom_plan"} {
			if _, err := conn.Exec(ctx, "SET plan_cache_mode = "+mode); err != nil {
				t.Fatal(err)
			}
			stmt := "plan_" + strings.ReplaceAll(tc.name, "-", "_")
			if _, err := conn.Exec(ctx, "PREPARE "+stmt+" ("+tc.types+") AS "+tc.sql); err != nil {
				t.Fatalf("%s: PREPARE: %v", tc.name, err)
			}
			var plan []string
			rows, err := conn.Query(ctx, "EXPLAIN EXECUTE "+stmt+"("+tc.args+")")
			if err != nil {
				t.Fatalf("%s: EXPLAIN: %v", tc.name, err)
			}
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "DEALLOCATE "+stmt); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, tc.index) || strings.Contains(text, "Seq Scan") || strings.Contains(text, indexName(st.table)) {
				t.Errorf("%s (%s): plan does not go through %s alone:\n%s", tc.name, mode, tc.index, text)
			}
		}
	}
	if _, err := conn.Exec(ctx, "RESET plan_cache_mode"); err != nil {
		t.Fatal(err)
	}
}

// TestIndexAcrossInstances: over real HTTP, a user signs in on two devices
// through one instance; another instance sharing the table lists both
// sessions and revokes one, then the rest except a kept one: the revoked
// cookies are dead on the first instance at once (a request with them
// starts no session and reads nothing), the kept one still works.
func TestIndexAcrossInstances(t *testing.T) {
	requirePostgres(t)
	table := testTable(t, newPool(t, "", nil))
	st1 := newTestStore(t, newPool(t, "", nil), Config{Table: table})
	st2 := newTestStore(t, newPool(t, "", nil), Config{Table: table})
	m1, m2 := newManager(t, st1, 0), newManager(t, st2, 0)
	srv := httptest.NewServer(app(m1, nil))
	defer srv.Close()
	ctx := context.Background()
	var cookies []string
	for i := range 3 {
		c := sessionCookie(t, get(t, srv, fmt.Sprintf("/set?k=device&v=d%d", i), ""))
		c = sessionCookie(t, get(t, srv, "/login?u=alice&renew=1", c))
		cookies = append(cookies, c)
	}
	infos, err := m2.Sessions(ctx, "alice")
	if err != nil || len(infos) != 3 {
		t.Fatalf("Sessions on the other instance = %d, %v; want 3", len(infos), err)
	}
	var handles []string
	for _, info := range infos {
		handles = append(handles, info.Handle)
		if d, _ := info.Get("device"); d == nil || info.Principal != "alice" {
			t.Errorf("listed session %+v lacks its data", info)
		}
	}
	slices.Sort(handles)
	var want []string
	for _, c := range cookies {
		want = append(want, sess.HashID(idOf(c)))
	}
	slices.Sort(want)
	if !slices.Equal(handles, want) {
		t.Errorf("listed handles %v, want the renewed sessions' %v", handles, want)
	}
	if err := m2.Revoke(ctx, "mallory", sess.HashID(idOf(cookies[0]))); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("Revoke of alice's session as mallory: %v, want ErrNotFound", err)
	}
	if err := m2.Revoke(ctx, "alice", sess.HashID(idOf(cookies[0]))); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if n, err := m2.RevokeAll(ctx, "alice", sess.HashID(idOf(cookies[2]))); err != nil || n != 1 {
		t.Fatalf("RevokeAll keeping one = %d, %v; want 1", n, err)
	}
	for i, c := range cookies {
		r := get(t, srv, "/get?k=device", c)
		if i < 2 && (r.body != "" || len(r.cookies) != 0) {
			t.Errorf("revoked session %d on the first instance: body %q, Set-Cookie %q; want nothing", i, r.body, r.cookies)
		}
		if i == 2 && r.body != "d2" {
			t.Errorf("kept session on the first instance: body %q, want d2", r.body)
		}
	}
}

// TestIndexLongTableName: with the longest table name New accepts, both
// index names fit PostgreSQL's limit untruncated, so Migrate finds them
// again; after Close the index methods fail with sess.ErrClosed.
func TestIndexLongTableName(t *testing.T) {
	requirePostgres(t)
	pool := newPool(t, "", nil)
	ctx := context.Background()
	table := "sess_long_" + randomHex(6)
	table += strings.Repeat("x", 51-len(table))
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+quote(table)) })
	st := newTestStore(t, pool, Config{Table: table, SweepInterval: -1})
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	for _, idx := range []string{indexName(table), principalIndexName(table)} {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexname = $2`, table, idx).Scan(&n); err != nil || n != 1 {
			t.Errorf("index %s (%d bytes): count %d, %v; want 1", idx, len(idx), n, err)
		}
	}
	if err := st.Create(ctx, "a", sess.Record{Meta: []byte("m"), Expires: time.Now().Add(time.Hour), Principal: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	checks := map[string]error{
		"ListPrincipal":   func() error { _, err := st.ListPrincipal(ctx, "alice"); return err }(),
		"GetHandle":       func() error { _, err := st.GetHandle(ctx, sess.HashID("a")); return err }(),
		"DeleteHandle":    st.DeleteHandle(ctx, sess.HashID("a"), ""),
		"DeletePrincipal": func() error { _, err := st.DeletePrincipal(ctx, "alice", nil); return err }(),
	}
	for op, err := range checks {
		if !errors.Is(err, sess.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", op, err)
		}
	}
}
