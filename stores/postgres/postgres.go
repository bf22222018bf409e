// Package pgstore keeps sess sessions in PostgreSQL, through pgx v5, so
// that several instances of an application share them.
//
// Pass the pgxpool.Pool you already have (or anything with its Exec and
// QueryRow methods, see DB) to New, create the table once with Migrate,
// and hand the store to sess.Config:
//
//	pool, err := pgxpool.New(ctx, "postgres://app@db/app")
//	...
//	st, err := pgstore.New(pool, pgstore.Config{})
//	...
//	defer st.Close() // stops the sweeper; the pool stays yours
//	if err := st.Migrate(ctx); err != nil { ... }
//	m, err := sess.New(sess.Config{Secret: secret, Store: st})
//
// Nothing touches the database at import or in New; Migrate is explicit
// and idempotent, and the SQL it runs is documented on Store.Migrate for
// teams that manage their schema with their own tool.
//
// # Layout
//
// One row per session in Config.Table (default "sess_sessions"):
//
//	id        bytea PRIMARY KEY  -- the 32 bytes of sess.HashID(id), never the ID
//	version   bigint NOT NULL    -- 1 on Create, +1 on every Update
//	expires   timestamptz NOT NULL
//	meta      bytea NOT NULL     -- the Manager's header, opaque
//	keys      bytea[] NOT NULL   -- the session's keys ...
//	vals      bytea[] NOT NULL   -- ... and their encoded values, aligned
//	principal text               -- the principal it is bound to, or NULL
//
// plus an index on expires for the sweep, and a partial index on
// (principal, expires) WHERE principal IS NOT NULL for the principal
// index: unbound sessions add nothing to it, and with expires in it a
// prepared statement's generic plan has no reason to combine it with the
// expiry index (which would read nearly all of that one). Keys and values
// are bytea, so every byte round-trips exactly, whatever the key or the
// codec. Tables made by an earlier version of this package, without the
// principal column, are upgraded by Migrate.
//
// # Principal index
//
// The Store implements sess.PrincipalIndex (which Manager.Sessions,
// Manager.Revoke, Manager.RevokeAll and Session.RevokeOthers use) with the
// principal column: Create with a Record.Principal sets it, an Update with
// a Patch.Principal sets or clears it in the same statement as the rest of
// the patch, so binding a session costs no extra round trip, and each index
// method is one statement on the partial index or, for a handle (which is
// sess.HashID of the ID, so the row key), on the primary key. The binding
// lives in the session's own row and goes with it: a deleted session leaves
// no index entry behind, and an expired one is never listed and goes with
// the sweep, so entries never pile up.
//
// # What the store guarantees
//
//   - Every method is one SQL statement, so one round trip (the first use
//     of a statement on a fresh connection adds a prepare).
//   - Update applies a whole sess.Patch inside that one statement: it locks
//     the session's row (SELECT ... FOR UPDATE in a CTE, which in READ
//     COMMITTED waits for a concurrent writer and then sees its result),
//     computes the new keys, values and size from the locked row, checks
//     IfVersion and MaxSize, and writes or deletes the row. Concurrent
//     patches of different keys therefore never conflict and all survive,
//     from any number of instances; of two patches setting the same key, the
//     one PostgreSQL applies last wins. The writes to one session queue on
//     its row lock, one commit at a time.
//   - An Update or Touch of a session that is gone (deleted, expired, swept)
//     fails with sess.ErrNotFound and stores nothing: a destroyed session is
//     never resurrected. A write whose expiry is not in the future deletes
//     the row.
//   - Get never returns a row whose expires has passed, swept or not. The
//     application's clock decides, as it does for the Manager.
//   - Expired rows are deleted by a background sweep every
//     Config.SweepInterval, in batches of Config.SweepBatch rows, each batch
//     one DELETE that skips rows locked by writers; an Update that finds its
//     row expired deletes it too.
//   - Every call returns when its context ends (the Manager's StoreTimeout):
//     pgx aborts the network I/O of a cancelled call and discards that
//     connection. A call that failed may still have been applied: the
//     statement may have committed on the server before the connection
//     broke. A call that returned nil was applied.
package pgstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Defaults for the zero values of Config.
const (
	// DefaultTable is the table used when Config.Table is empty.
	DefaultTable = "sess_sessions"
	// DefaultSweepInterval is the time between two sweeps of expired rows.
	DefaultSweepInterval = 5 * time.Minute
	// DefaultSweepBatch is the number of rows one sweep statement deletes
	// at most.
	DefaultSweepBatch = 1000
)

// ErrInvalidTable is returned, wrapped, by New for a Config.Table that is
// not a plain lower-case SQL identifier, optionally schema-qualified.
var ErrInvalidTable = errors.New("pgstore: invalid table name")

// DB is what the Store needs from a database handle. *pgxpool.Pool
// implements it (the usual choice: the Store is used from many goroutines
// at once), and so do wrappers of it. A single *pgx.Conn does too, but it
// is not safe for concurrent use.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Config configures a Store. The zero value means the documented defaults.
type Config struct {
	// Table is the table holding the sessions: a lower-case identifier
	// (letters, digits, underscores, not starting with a digit), optionally
	// qualified by a schema ("auth.sessions"). Use distinct tables for
	// applications that share a database. Default: DefaultTable.
	Table string

	// SweepInterval is the time between two sweeps that delete expired
	// rows. Expired rows are never returned whether swept or not; the sweep
	// only reclaims their space. A negative value disables the background
	// sweep (call Sweep yourself, for example from a cron job). Default:
	// DefaultSweepInterval.
	SweepInterval time.Duration

	// SweepBatch bounds the rows one sweep statement deletes; a sweep runs
	// statements until one deletes fewer. Default: DefaultSweepBatch.
	SweepBatch int

	// Logger receives the background sweep's failures (level Warn). It
	// never sees a session ID. Default: slog.Default().
	Logger *slog.Logger
}

// Store is a sess.Store on PostgreSQL. It is safe for concurrent use.
// Create it with New and stop its sweeper with Close.
type Store struct {
	db     DB
	table  string // validated, unquoted
	batch  int
	logger *slog.Logger

	getSQL, createSQL, updateSQL, touchSQL, touchDeleteSQL, deleteSQL, sweepSQL, migrateSQL string

	// The sess.PrincipalIndex statements.
	listSQL, getHandleSQL, deleteHandleSQL, deletePrincipalSQL string

	closed    atomic.Bool
	closeOnce sync.Once
	stop      context.CancelFunc // ends the sweeper's context
	swept     sync.WaitGroup
}

var (
	_ sess.Store          = (*Store)(nil)
	_ sess.PrincipalIndex = (*Store)(nil)
)

// tableName matches what Config.Table accepts: [schema.]name, each part a
// lower-case identifier. 51 characters leave room for the "_expires_idx"
// and "_princ_idx" suffixes within PostgreSQL's 63-byte limit on names.
var tableName = regexp.MustCompile(`^(?:[a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,50}$`)

// New returns a Store keeping sessions in cfg.Table through db. It does no
// I/O: create the table with Migrate (or the SQL documented there) before
// serving requests. Unless cfg.SweepInterval is negative, New starts a
// goroutine that deletes expired rows every cfg.SweepInterval; Close stops
// it. The Store never closes db.
func New(db DB, cfg Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("pgstore: New called with a nil DB")
	}
	if cfg.Table == "" {
		cfg.Table = DefaultTable
	}
	if !tableName.MatchString(cfg.Table) {
		return nil, fmt.Errorf("%w %q: want a lower-case identifier, optionally schema-qualified", ErrInvalidTable, cfg.Table)
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.SweepBatch <= 0 {
		cfg.SweepBatch = DefaultSweepBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Store{db: db, table: cfg.Table, batch: cfg.SweepBatch, logger: cfg.Logger}
	s.buildSQL()
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	if cfg.SweepInterval > 0 {
		s.swept.Add(1)
		go s.sweeper(ctx, cfg.SweepInterval)
	}
	return s, nil
}

// Table returns the table the store uses, as configured (unquoted).
func (s *Store) Table() string { return s.table }

// entrySizeSQL is the SQL expression of the size of the entry with key
// column k and value column v in sess's entry encoding (sess.EntrySize):
// each length as a uvarint, then the bytes.
func entrySizeSQL(k, v string) string {
	kl, vl := "octet_length("+k+")", "octet_length("+v+")"
	return "(" + uvl(kl) + " + " + kl + " + " + uvl(vl) + " + " + vl + ")"
}

// uvl returns the SQL of the length of n as a uvarint. bytea values are
// below 1 GiB, so at most 5 bytes.
func uvl(n string) string {
	return "CASE WHEN " + n + " < 128 THEN 1 WHEN " + n + " < 16384 THEN 2 WHEN " + n +
		" < 2097152 THEN 3 WHEN " + n + " < 268435456 THEN 4 ELSE 5 END"
}

// Update status codes, computed by the update statement.
const (
	statusOK       = 0
	statusConflict = 1
	statusExpired  = 2 // the row had expired: deleted, reported as not found
	statusTooLarge = 3
	statusDeleted  = 4 // the patch's expiry had passed: row deleted
)

func (s *Store) buildSQL() {
	t := quote(s.table)
	entrySize := entrySizeSQL("e.k", "e.v")

	s.getSQL = `SELECT version, expires, meta, keys, vals FROM ` + t + ` WHERE id = $1 AND expires > $2`

	// $1 id, $2 expires, $3 meta, $4 keys, $5 vals, $6 now, $7 principal
	// (NULL: unbound). A live row wins (no row affected: ErrConflict); a
	// stale one is replaced, its binding too.
	s.createSQL = `INSERT INTO ` + t + ` AS t (id, version, expires, meta, keys, vals, principal) VALUES ($1, 1, $2, $3, $4, $5, $7)
ON CONFLICT (id) DO UPDATE SET version = 1, expires = excluded.expires, meta = excluded.meta, keys = excluded.keys, vals = excluded.vals, principal = excluded.principal
WHERE t.expires <= $6`

	// $1 id, $2 now, $3 if-version (0: any), $4 new expires, $5 clear,
	// $6 has meta, $7 meta, $8 max size (0: none), $9 keys to remove (the
	// patch's deletes and sets), $10 keys to set, $11 their values, $12
	// has principal, $13 principal (NULL: unbind).
	//
	// cur locks the row; in READ COMMITTED a row lock that waited for a
	// concurrent writer returns the row as that writer left it, so nxt and
	// verdict are computed from the latest committed state, and upd (whose
	// own scan starts from the statement's snapshot) follows the update
	// chain to that same locked row version (so t.principal is that
	// version's binding).
	s.updateSQL = `WITH cur AS (
	SELECT version, expires, meta, keys, vals FROM ` + t + ` WHERE id = $1 FOR UPDATE
), nxt AS (
	SELECT c.version, c.expires, CASE WHEN $6::bool THEN $7::bytea ELSE c.meta END AS meta, n.keys, n.vals, n.size
	FROM cur c CROSS JOIN LATERAL (
		SELECT coalesce(array_agg(e.k), '{}') AS keys, coalesce(array_agg(e.v), '{}') AS vals, coalesce(sum(` + entrySize + `), 0) AS size
		FROM (
			SELECT o.k, o.v FROM unnest(c.keys, c.vals) AS o(k, v) WHERE NOT $5::bool AND o.k <> ALL ($9::bytea[])
			UNION ALL
			SELECT p.k, p.v FROM unnest($10::bytea[], $11::bytea[]) AS p(k, v)
		) e
	) n
), verdict AS (
	SELECT nxt.*, CASE
		WHEN nxt.expires <= $2::timestamptz THEN 2
		WHEN $3::int8 <> 0 AND nxt.version <> $3::int8 THEN 1
		WHEN $4::timestamptz <= $2::timestamptz THEN 4
		WHEN $8::int8 > 0 AND nxt.size + octet_length(nxt.meta) > $8::int8 THEN 3
		ELSE 0 END AS status
	FROM nxt
), upd AS (
	UPDATE ` + t + ` AS t SET version = v.version + 1, expires = $4, meta = v.meta, keys = v.keys, vals = v.vals,
		principal = CASE WHEN $12::bool THEN $13::text ELSE t.principal END
	FROM verdict v WHERE t.id = $1 AND v.status = 0
), del AS (
	DELETE FROM ` + t + ` AS t USING verdict v WHERE t.id = $1 AND v.status IN (2, 4)
)
SELECT status FROM verdict`

	// $1 id, $2 now, $3 new expires.
	s.touchSQL = `UPDATE ` + t + ` SET expires = $3 WHERE id = $1 AND expires > $2`
	s.touchDeleteSQL = `DELETE FROM ` + t + ` WHERE id = $1`
	s.deleteSQL = `DELETE FROM ` + t + ` WHERE id = $1`

	// $1 now, $2 batch. ctid = ANY(ARRAY(...)) is a TID scan (ctid IN
	// (SELECT ...) may become a join over the whole table). SKIP LOCKED
	// leaves rows that a writer holds (and other instances' sweeps) alone;
	// the outer expires check sees the row as it is when deleted.
	s.sweepSQL = `DELETE FROM ` + t + ` WHERE ctid = ANY (ARRAY(
	SELECT ctid FROM ` + t + ` WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
)) AND expires <= $1`

	// The principal index. A malformed row (see Get) is never listed.
	//
	// $1 principal, $2 now. One row whatever the number of sessions (DB
	// has no Query): the rows' columns aggregated in key order, and their
	// keys and values flattened in the same order, with each row's count.
	s.listSQL = `WITH r AS (
	SELECT id, version, expires, meta, keys, vals FROM ` + t + `
	WHERE principal = $1 AND expires > $2 AND version >= 1 AND cardinality(keys) = cardinality(vals)
)
SELECT a.ids, a.versions, a.expires, a.metas, a.counts, b.keys, b.vals FROM (
	SELECT coalesce(array_agg(id ORDER BY id), '{}') AS ids, coalesce(array_agg(version ORDER BY id), '{}') AS versions,
		coalesce(array_agg(expires ORDER BY id), '{}') AS expires, coalesce(array_agg(meta ORDER BY id), '{}') AS metas,
		coalesce(array_agg(cardinality(keys) ORDER BY id), '{}') AS counts
	FROM r
) a CROSS JOIN (
	SELECT coalesce(array_agg(e.k ORDER BY r.id, e.n), '{}') AS keys, coalesce(array_agg(e.v ORDER BY r.id, e.n), '{}') AS vals
	FROM r CROSS JOIN LATERAL unnest(r.keys, r.vals) WITH ORDINALITY AS e(k, v, n)
) b`
	// $1 id, $2 now.
	s.getHandleSQL = `SELECT version, expires, meta, keys, vals, principal FROM ` + t + ` WHERE id = $1 AND principal IS NOT NULL AND expires > $2`
	// $1 id, $2 principal ('': any), $3 now.
	s.deleteHandleSQL = `DELETE FROM ` + t + ` WHERE id = $1 AND principal IS NOT NULL AND ($2::text = '' OR principal = $2::text) AND expires > $3`
	// $1 principal, $2 ids to keep, $3 now. Expired rows are left to the
	// sweep, uncounted.
	s.deletePrincipalSQL = `DELETE FROM ` + t + ` WHERE principal = $1 AND id <> ALL ($2::bytea[]) AND expires > $3`

	h := fnv.New64a()
	h.Write([]byte("gosess/sess pgstore migrate " + s.table))
	lock := int64(h.Sum64())
	// Run with the simple protocol (no arguments) as one implicit
	// transaction; the advisory lock serialises instances migrating at
	// once (two concurrent CREATE TABLE IF NOT EXISTS may otherwise fail).
	// The DO block upgrades a table of the first schema (no principal);
	// it runs the ALTER only when the column is missing, because ALTER
	// TABLE takes an ACCESS EXCLUSIVE lock (blocking every session read)
	// even when IF NOT EXISTS makes it a no-op. The table name is
	// validated, so it needs no escaping inside the string literal.
	s.migrateSQL = fmt.Sprintf(`SELECT pg_advisory_xact_lock(%[1]d);
CREATE TABLE IF NOT EXISTS %[2]s (
	id        bytea PRIMARY KEY,
	version   bigint NOT NULL,
	expires   timestamptz NOT NULL,
	meta      bytea NOT NULL,
	keys      bytea[] NOT NULL,
	vals      bytea[] NOT NULL,
	principal text
);
DO $$BEGIN
	IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = '%[2]s'::regclass AND attname = 'principal' AND NOT attisdropped) THEN
		ALTER TABLE %[2]s ADD COLUMN IF NOT EXISTS principal text;
	END IF;
END$$;
CREATE INDEX IF NOT EXISTS %[3]s ON %[2]s (expires);
CREATE INDEX IF NOT EXISTS %[4]s ON %[2]s (principal, expires) WHERE principal IS NOT NULL;`,
		lock, t, quote(indexName(s.table)), quote(principalIndexName(s.table)))
}

// quote returns the table as a quoted, possibly schema-qualified SQL
// identifier. The name is validated, so quoting only guards against
// reserved words.
func quote(table string) string {
	return pgx.Identifier(strings.Split(table, ".")).Sanitize()
}

// indexName is the name of the expiry index (in the table's schema).
func indexName(table string) string {
	return baseName(table) + "_expires_idx"
}

// principalIndexName is the name of the principal index (in the table's
// schema).
func principalIndexName(table string) string {
	return baseName(table) + "_princ_idx"
}

// baseName is the table's name without its schema.
func baseName(table string) string {
	_, name, ok := strings.Cut(table, ".")
	if !ok {
		name = table
	}
	return name
}

// MigrateSQL returns the statements Migrate runs, for teams that apply
// schema changes with their own tool.
func (s *Store) MigrateSQL() string { return s.migrateSQL }

// Migrate creates the table and its indexes if they do not exist, and
// upgrades a table of an earlier version of this package (adding the
// principal column and its index), in one round trip and one transaction.
// It is idempotent and safe to run from several instances at once (they
// serialise on an advisory lock). It runs the statements MigrateSQL
// returns (after taking the advisory lock):
//
//	CREATE TABLE IF NOT EXISTS "sess_sessions" (
//		id        bytea PRIMARY KEY,
//		version   bigint NOT NULL,
//		expires   timestamptz NOT NULL,
//		meta      bytea NOT NULL,
//		keys      bytea[] NOT NULL,
//		vals      bytea[] NOT NULL,
//		principal text
//	);
//	DO $$BEGIN
//		IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = '"sess_sessions"'::regclass AND attname = 'principal' AND NOT attisdropped) THEN
//			ALTER TABLE "sess_sessions" ADD COLUMN IF NOT EXISTS principal text;
//		END IF;
//	END$$;
//	CREATE INDEX IF NOT EXISTS "sess_sessions_expires_idx" ON "sess_sessions" (expires);
//	CREATE INDEX IF NOT EXISTS "sess_sessions_princ_idx" ON "sess_sessions" (principal, expires) WHERE principal IS NOT NULL;
//
// The DO block runs the ALTER only on a table that lacks the column:
// ALTER TABLE locks the whole table (reads included) even when it has
// nothing to do. Adding the nullable column is instant; building the new
// index on an upgraded table reads the whole table and blocks writes
// meanwhile (not reads), so for a large table create it beforehand with
// CREATE INDEX CONCURRENTLY under the same name, and Migrate skips it.
// Until Migrate has upgraded an old table, Create and Update fail with an
// error naming Migrate.
//
// The database user needs the CREATE privilege on the schema (and to own
// the table, for the upgrade) for Migrate, and SELECT, INSERT, UPDATE and
// DELETE on the table to serve.
func (s *Store) Migrate(ctx context.Context) error {
	if s.closed.Load() {
		return sess.ErrClosed
	}
	if _, err := s.db.Exec(ctx, s.migrateSQL); err != nil {
		return fmt.Errorf("pgstore: migrate %s: %w", s.table, err)
	}
	return nil
}

// Close stops the background sweep and waits for a sweep in progress to
// end. It does not close the DB. Calls after Close fail with
// sess.ErrClosed; calls already running finish normally. Close is
// idempotent and always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.stop()
		s.swept.Wait()
	})
	return nil
}

// key returns the row key of a session: the SHA-256 of sess.HashID, never
// the ID itself.
func key(id string) []byte {
	b, err := hex.DecodeString(sess.HashID(id))
	if err != nil {
		panic("pgstore: sess.HashID returned non-hex: " + err.Error())
	}
	return b
}

// Get implements sess.Store with one SELECT. A missing or expired record
// gives sess.ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (sess.Record, error) {
	if s.closed.Load() {
		return sess.Record{}, sess.ErrClosed
	}
	var (
		version    int64
		expires    time.Time
		meta       []byte
		keys, vals [][]byte
	)
	err := s.db.QueryRow(ctx, s.getSQL, key(id), time.Now()).Scan(&version, &expires, &meta, &keys, &vals)
	if errors.Is(err, pgx.ErrNoRows) {
		return sess.Record{}, sess.ErrNotFound
	}
	if err != nil {
		return sess.Record{}, s.wrap("get", err)
	}
	return record("get", version, expires, meta, keys, vals)
}

// record builds the sess.Record of a row's columns, rebuilding Entries
// with sess.AppendEntry. A row the store did not write (version below 1,
// keys and values not aligned) gives a wrapped sess.ErrNotFound.
func record(op string, version int64, expires time.Time, meta []byte, keys, vals [][]byte) (sess.Record, error) {
	if version < 1 || len(keys) != len(vals) {
		return sess.Record{}, fmt.Errorf("pgstore: %s: malformed row (version %d, %d keys, %d values): %w", op, version, len(keys), len(vals), sess.ErrNotFound)
	}
	size := 0
	for i, k := range keys {
		size += sess.EntrySize(len(k), len(vals[i]))
	}
	entries := make([]byte, 0, size)
	for i, k := range keys {
		entries = sess.AppendEntry(entries, string(k), vals[i])
	}
	if meta == nil {
		meta = []byte{}
	}
	// pgx scans bytea into fresh slices: the record aliases nothing.
	return sess.Record{Meta: meta, Entries: entries, Version: uint64(version), Expires: expires}, nil
}

// Create implements sess.Store with one INSERT ... ON CONFLICT, which
// replaces an expired row and leaves a live one alone (sess.ErrConflict).
// A record whose Expires is not in the future is not stored, without a
// round trip. A non-empty rec.Principal binds the new record to it (see
// sess.PrincipalIndex), in the same statement; replacing an expired row
// replaces its binding too.
func (s *Store) Create(ctx context.Context, id string, rec sess.Record) error {
	if s.closed.Load() {
		return sess.ErrClosed
	}
	now := time.Now()
	if !rec.Expires.After(now) {
		return nil
	}
	keys, vals, err := splitEntries(rec.Entries)
	if err != nil {
		return fmt.Errorf("pgstore: create: %w", err)
	}
	tag, err := s.db.Exec(ctx, s.createSQL, key(id), rec.Expires, nonNil(rec.Meta), keys, vals, now, principalArg(rec.Principal))
	if err != nil {
		return s.wrap("create", err)
	}
	if tag.RowsAffected() == 0 {
		return sess.ErrConflict
	}
	return nil
}

// splitEntries decodes entries into aligned keys and values (a repeated
// key: the later one counts), with no nil slice (pgx would send NULL).
func splitEntries(entries []byte) (keys, vals [][]byte, err error) {
	keys, vals = [][]byte{}, [][]byte{}
	seen := map[string]int{}
	for rest := entries; len(rest) > 0; {
		k, v, r, err := sess.NextEntry(rest)
		if err != nil {
			return nil, nil, err
		}
		if i, dup := seen[string(k)]; dup {
			vals[i] = nonNil(v)
		} else {
			seen[string(k)] = len(keys)
			keys = append(keys, nonNil(k))
			vals = append(vals, nonNil(v))
		}
		rest = r
	}
	return keys, vals, nil
}

// nonNil returns b, or an empty slice for nil: pgx sends a nil []byte as
// NULL. The statement has been sent when Exec or QueryRow returns, so
// aliasing the caller's slices is safe.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// principalArg is the principal column's value for p: NULL (unbound) for
// the empty principal.
func principalArg(p string) any {
	if p == "" {
		return nil
	}
	return p
}

// Update implements sess.Store with one statement that applies the whole
// patch on the server (see the package documentation), p.Principal's
// binding included: a failed patch changes no binding either.
func (s *Store) Update(ctx context.Context, id string, p sess.Patch) error {
	if s.closed.Load() {
		return sess.ErrClosed
	}
	now := time.Now()
	exp := p.Expires
	if exp.IsZero() || !exp.After(now) {
		exp = now // the statement deletes: expires <= now
	}
	// The keys to remove are the deletes and the sets (a set replaces);
	// the sets are deduplicated, the later one counting.
	remove := make([][]byte, 0, len(p.Delete)+len(p.Set))
	for _, k := range p.Delete {
		remove = append(remove, []byte(k))
	}
	setK := make([][]byte, 0, len(p.Set))
	setV := make([][]byte, 0, len(p.Set))
	var seen map[string]int
	for _, e := range p.Set {
		if seen == nil && len(p.Set) > 1 {
			seen = make(map[string]int, len(p.Set))
		}
		if i, dup := seen[e.Key]; dup {
			setV[i] = nonNil(e.Value)
			continue
		}
		if seen != nil {
			seen[e.Key] = len(setK)
		}
		k := []byte(e.Key)
		remove = append(remove, k)
		setK = append(setK, k)
		setV = append(setV, nonNil(e.Value))
	}
	var principal any
	if p.Principal != nil {
		principal = principalArg(*p.Principal)
	}
	var status int
	err := s.db.QueryRow(ctx, s.updateSQL, key(id), now, int64(p.IfVersion), exp, p.Clear,
		p.Meta != nil, nonNil(p.Meta), int64(max(p.MaxSize, 0)), remove, setK, setV,
		p.Principal != nil, principal).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) {
		return sess.ErrNotFound
	}
	if err != nil {
		return s.wrap("update", err)
	}
	switch status {
	case statusOK, statusDeleted:
		return nil
	case statusConflict:
		return sess.ErrConflict
	case statusExpired:
		return sess.ErrNotFound
	case statusTooLarge:
		return sess.ErrTooLarge
	}
	return fmt.Errorf("pgstore: update: unexpected status %d", status)
}

// Touch implements sess.Store with one UPDATE of the expiry of a live row;
// its data and version stay. An expiry that is not in the future deletes
// the row instead.
func (s *Store) Touch(ctx context.Context, id string, expires time.Time) error {
	if s.closed.Load() {
		return sess.ErrClosed
	}
	now := time.Now()
	if !expires.After(now) {
		if _, err := s.db.Exec(ctx, s.touchDeleteSQL, key(id)); err != nil {
			return s.wrap("touch", err)
		}
		return nil
	}
	tag, err := s.db.Exec(ctx, s.touchSQL, key(id), now, expires)
	if err != nil {
		return s.wrap("touch", err)
	}
	if tag.RowsAffected() == 0 {
		return sess.ErrNotFound
	}
	return nil
}

// Delete implements sess.Store with one DELETE. Deleting a missing record
// is not an error.
func (s *Store) Delete(ctx context.Context, id string) error {
	if s.closed.Load() {
		return sess.ErrClosed
	}
	if _, err := s.db.Exec(ctx, s.deleteSQL, key(id)); err != nil {
		return s.wrap("delete", err)
	}
	return nil
}

// handleKey returns the row key a handle names: a handle is sess.HashID of
// the session ID, 64 lowercase hexadecimal digits, and the key is its
// bytes. It reports false for anything else, which names no record (an
// upper-case spelling included: handles are compared as strings).
func handleKey(h string) ([]byte, bool) {
	if len(h) != 64 {
		return nil, false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return nil, false
		}
	}
	b, err := hex.DecodeString(h)
	return b, err == nil
}

// ListPrincipal implements sess.PrincipalIndex with one SELECT on the
// principal index, which aggregates the live rows bound to principal into
// one result row (DB has no multi-row Query); the store's clock decides
// what is live, as for Get. Rows the store did not write are left out.
func (s *Store) ListPrincipal(ctx context.Context, principal string) ([]sess.IndexedRecord, error) {
	if s.closed.Load() {
		return nil, sess.ErrClosed
	}
	if principal == "" {
		return nil, nil
	}
	var (
		ids, metas, keys, vals [][]byte
		versions               []int64
		expires                []time.Time
		counts                 []int32
	)
	err := s.db.QueryRow(ctx, s.listSQL, principal, time.Now()).Scan(&ids, &versions, &expires, &metas, &counts, &keys, &vals)
	if err != nil {
		return nil, s.wrap("list principal", err)
	}
	n := len(ids)
	if len(versions) != n || len(expires) != n || len(metas) != n || len(counts) != n || len(keys) != len(vals) {
		return nil, fmt.Errorf("pgstore: list principal: inconsistent result (%d ids, %d versions, %d expiries, %d metas, %d counts, %d keys, %d values)",
			n, len(versions), len(expires), len(metas), len(counts), len(keys), len(vals))
	}
	out := make([]sess.IndexedRecord, 0, n)
	at := 0
	for i, id := range ids {
		c := int(counts[i])
		if c < 0 || at+c > len(keys) {
			return nil, fmt.Errorf("pgstore: list principal: inconsistent result (row %d of %d has %d keys, %d keys left)", i+1, n, c, len(keys)-at)
		}
		rec, err := record("list principal", versions[i], expires[i], metas[i], keys[at:at+c], vals[at:at+c])
		if err != nil {
			return nil, err
		}
		at += c
		rec.Principal = principal
		out = append(out, sess.IndexedRecord{Handle: hex.EncodeToString(id), Record: rec})
	}
	if at != len(keys) {
		return nil, fmt.Errorf("pgstore: list principal: inconsistent result (%d keys for rows of %d in all)", len(keys), at)
	}
	return out, nil
}

// GetHandle implements sess.PrincipalIndex with one SELECT by row key: the
// handle is the key. A record that is not bound, is expired or is missing,
// and a string that is not a handle, give sess.ErrNotFound.
func (s *Store) GetHandle(ctx context.Context, handle string) (sess.IndexedRecord, error) {
	if s.closed.Load() {
		return sess.IndexedRecord{}, sess.ErrClosed
	}
	k, ok := handleKey(handle)
	if !ok {
		return sess.IndexedRecord{}, sess.ErrNotFound
	}
	var (
		version    int64
		expires    time.Time
		meta       []byte
		keys, vals [][]byte
		principal  string
	)
	err := s.db.QueryRow(ctx, s.getHandleSQL, k, time.Now()).Scan(&version, &expires, &meta, &keys, &vals, &principal)
	if errors.Is(err, pgx.ErrNoRows) {
		return sess.IndexedRecord{}, sess.ErrNotFound
	}
	if err != nil {
		return sess.IndexedRecord{}, s.wrap("get handle", err)
	}
	rec, err := record("get handle", version, expires, meta, keys, vals)
	if err != nil {
		return sess.IndexedRecord{}, err
	}
	rec.Principal = principal
	return sess.IndexedRecord{Handle: handle, Record: rec}, nil
}

// DeleteHandle implements sess.PrincipalIndex with one DELETE by row key,
// conditional on the binding (to principal, or to any principal if it is
// empty) and on the row being live: otherwise it changes nothing and
// returns sess.ErrNotFound (an expired row is left to the sweep).
func (s *Store) DeleteHandle(ctx context.Context, handle, principal string) error {
	if s.closed.Load() {
		return sess.ErrClosed
	}
	k, ok := handleKey(handle)
	if !ok {
		return sess.ErrNotFound
	}
	tag, err := s.db.Exec(ctx, s.deleteHandleSQL, k, principal, time.Now())
	if err != nil {
		return s.wrap("delete handle", err)
	}
	if tag.RowsAffected() == 0 {
		return sess.ErrNotFound
	}
	return nil
}

// DeletePrincipal implements sess.PrincipalIndex with one DELETE on the
// principal index of the live rows bound to principal whose handles are
// not in keep, and returns how many it deleted. Expired rows are neither
// deleted nor counted: the sweep removes them. A row written concurrently
// is either deleted or left live and bound (PostgreSQL rechecks the
// binding of a row it had to wait for).
func (s *Store) DeletePrincipal(ctx context.Context, principal string, keep []string) (int, error) {
	if s.closed.Load() {
		return 0, sess.ErrClosed
	}
	if principal == "" {
		return 0, nil
	}
	kept := make([][]byte, 0, len(keep)) // not nil: NULL would delete nothing
	for _, h := range keep {
		if k, ok := handleKey(h); ok {
			kept = append(kept, k)
		}
	}
	tag, err := s.db.Exec(ctx, s.deletePrincipalSQL, principal, kept, time.Now())
	if err != nil {
		return 0, s.wrap("delete principal", err)
	}
	return int(tag.RowsAffected()), nil
}

// wrap adds the operation to a database error, and a hint when the table
// does not exist (Migrate has not run) or lacks a column (Migrate has not
// upgraded it).
func (s *Store) wrap(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42P01": // undefined_table
			return fmt.Errorf("pgstore: %s: table %s does not exist (run Store.Migrate or apply MigrateSQL): %w", op, s.table, err)
		case "42703": // undefined_column
			return fmt.Errorf("pgstore: %s: table %s has an earlier schema (run Store.Migrate or apply MigrateSQL to upgrade it): %w", op, s.table, err)
		}
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

// Sweep deletes the rows that expired before now, in statements of at most
// Config.SweepBatch rows, until a statement deletes fewer, and returns how
// many it deleted. Rows locked by a writer are left for a later sweep. The
// background sweeper calls it; call it yourself when that is disabled.
func (s *Store) Sweep(ctx context.Context) (int64, error) {
	var total int64
	for {
		if s.closed.Load() {
			return total, sess.ErrClosed
		}
		tag, err := s.db.Exec(ctx, s.sweepSQL, time.Now(), s.batch)
		if err != nil {
			return total, s.wrap("sweep", err)
		}
		n := tag.RowsAffected()
		total += n
		if n < int64(s.batch) {
			return total, nil
		}
	}
}

// sweeper runs Sweep every interval until ctx ends. A sweep is bounded by
// the interval, so a hanging database never piles up sweeps.
func (s *Store) sweeper(ctx context.Context, interval time.Duration) {
	defer s.swept.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sctx, cancel := context.WithTimeout(ctx, interval)
		n, err := s.Sweep(sctx)
		cancel()
		if err != nil && ctx.Err() == nil && !errors.Is(err, sess.ErrClosed) {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "pgstore: sweep of expired sessions failed",
				slog.String("table", s.table), slog.Int64("deleted", n), slog.Any("error", err))
		}
	}
}
