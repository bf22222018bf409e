package demo_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
	pgstore "github.com/gosess/sess/stores/postgres"
	"github.com/jackc/pgx/v5"
)

// TestNewManagerPostgres: -postgres DSN keeps sessions in PostgreSQL, in
// a table the demo creates. It uses SESS_POSTGRES_DSN (default: the local
// server) and skips without one, unless SESS_REQUIRE_POSTGRES=1.
func TestNewManagerPostgres(t *testing.T) {
	dsn := os.Getenv("SESS_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		msg := "needs PostgreSQL: none answers at SESS_POSTGRES_DSN or 127.0.0.1:5432 (start one: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)"
		if os.Getenv("SESS_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("%s: %v; SESS_REQUIRE_POSTGRES=1 forbids skipping", msg, err)
		}
		t.Skip(msg)
	}
	defer conn.Close(context.Background())
	tag := make([]byte, 6)
	_, _ = rand.Read(tag)
	table := "sess_demo_" + hex.EncodeToString(tag)
	defer func() { _, _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) }()

	o := demo.Options{Postgres: dsn, PostgresTable: table}
	m, closeFn, err := demo.NewManager(ctx, o, env(map[string]string{demo.SecretEnv: secret}), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	st, ok := m.Store().(*pgstore.Store)
	if !ok {
		t.Fatalf("store is %T, want *pgstore.Store", m.Store())
	}
	if err := st.Create(ctx, "id", sess.Record{Meta: []byte("m"), Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatalf("Create in the demo's table: %v", err)
	}
	if _, err := st.Get(ctx, "id"); err != nil {
		t.Errorf("Get from the demo's table: %v", err)
	}
	if err := closeFn(); err != nil {
		t.Errorf("close: %v", err)
	}
}
