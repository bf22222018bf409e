package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	pgstore "github.com/gosess/sess/stores/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkWritersPostgres is BenchmarkWriters on PostgreSQL: two
// application instances, each its own Manager, pool and pgstore.Store on
// one table of the PostgreSQL at SESS_POSTGRES_DSN (default: the local
// server), taking the requests in turn. The writes to one session queue
// on its row lock one commit at a time, so a burst of 1,000 on one session
// takes seconds: the Managers' StoreTimeout is a minute here, or the
// default 2 s would turn the tail of the burst into 503s (measured: 721
// of 1,000 answered 200 with 2 s). It reports p50-ms and p99-ms per
// writer and fails if a writer does not get a 200 or a key is missing.
func BenchmarkWritersPostgres(b *testing.B) {
	dsn := benchPostgresDSN()
	tag := make([]byte, 6)
	_, _ = rand.Read(tag)
	table := "sess_bench_" + hex.EncodeToString(tag)
	srvs := make([]*httptest.Server, 2)
	for i := range srvs {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		cfg.MaxConns = 16
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err == nil {
			err = pool.Ping(ctx)
		}
		if err != nil {
			cancel()
			b.Skipf("needs PostgreSQL: none answers at SESS_POSTGRES_DSN or 127.0.0.1:5432 (%v)", err)
		}
		b.Cleanup(pool.Close)
		st, err := pgstore.New(pool, pgstore.Config{Table: table, Logger: slog.New(slog.DiscardHandler)})
		if err == nil {
			err = st.Migrate(ctx)
		}
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		if i == 0 {
			b.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, _ = pool.Exec(ctx, "DROP TABLE IF EXISTS "+table)
			})
		}
		m, err := sess.New(sess.Config{Secret: secret, Store: st, DisableSecure: true, StoreTimeout: time.Minute, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = m.Close() })
		mux := http.NewServeMux()
		mux.HandleFunc("/set", func(w http.ResponseWriter, r *http.Request) {
			sesshttp.From(r).Set(r.URL.Query().Get("k"), "v")
			_, _ = io.WriteString(w, "ok")
		})
		mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
			keys := sesshttp.From(r).Keys()
			slices.Sort(keys)
			_, _ = io.WriteString(w, strings.Join(keys, ","))
		})
		srvs[i] = httptest.NewServer(sesshttp.Middleware(m)(mux))
		b.Cleanup(srvs[i].Close)
	}
	hc := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 1000}}
	b.Cleanup(hc.CloseIdleConnections)
	for _, srv := range srvs {
		parallel(1000, 1000, func(int) { _, _, _, _, _ = send(hc, srv, "/keys", "") })
	}
	b.Run("postgres-2-instances", func(b *testing.B) {
		b.Run("OneSession", func(b *testing.B) { benchBurst(b, hc, srvs, 1, 1000) })
		b.Run("ManySessions", func(b *testing.B) { benchBurst(b, hc, srvs, 1000, 10) })
	})
}

// benchPostgresDSN is SESS_POSTGRES_DSN or the local test server.
func benchPostgresDSN() string {
	if d := os.Getenv("SESS_POSTGRES_DSN"); d != "" {
		return d
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}
