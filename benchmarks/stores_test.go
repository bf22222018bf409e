package benchmarks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"os/exec"
	"testing"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	pgstore "github.com/gosess/sess/stores/postgres"
	redisstore "github.com/gosess/sess/stores/redis"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
)

// BenchmarkStores runs the New, Hit and Read scenarios of
// BenchmarkSessions through sess on net/http on each shared store, next to
// the default in-memory one:
//
//   - nethttp-sess-memory: the default store (the in-process floor).
//   - nethttp-sess-redis: redisstore on a redis-server the benchmark
//     starts on a free loopback port (ContextTimeoutEnabled client).
//   - nethttp-sess-postgres: pgstore on the PostgreSQL at
//     SESS_POSTGRES_DSN (default postgres://postgres@127.0.0.1:5432/test),
//     in a table of its own that is dropped afterwards.
//
// A store that is not available skips its rows (the Redis row needs
// redis-server in PATH, the PostgreSQL row a server that answers). Every
// number includes the loopback round trips: one per New (Create), two per
// Hit (Get, Update), one per Read (Get).
func BenchmarkStores(b *testing.B) {
	type backend struct {
		name  string
		store sess.Store // nil with skip: not available
		skip  string
	}
	backends := []backend{{name: "nethttp-sess-memory"}}
	if st, skip := openBenchRedisStore(b); skip != "" {
		backends = append(backends, backend{name: "nethttp-sess-redis", skip: skip})
	} else {
		backends = append(backends, backend{name: "nethttp-sess-redis", store: st})
	}
	if st, skip := openBenchPostgresStore(b); skip != "" {
		backends = append(backends, backend{name: "nethttp-sess-postgres", skip: skip})
	} else {
		backends = append(backends, backend{name: "nethttp-sess-postgres", store: st})
	}
	scenarios := []struct {
		name string
		run  func(*testing.B, peer)
	}{
		{"New", benchNew},
		{"Hit", benchHit},
		{"Read", benchRead},
	}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			for _, be := range backends {
				b.Run(be.name, func(b *testing.B) {
					if be.skip != "" {
						b.Skip(be.skip)
					}
					sc.run(b, peer{name: be.name, start: func() (*setup, error) { return startNetHTTPStore(be.store) }})
				})
			}
		})
	}
}

// startNetHTTPStore is startNetHTTPSess with the given store (nil: the
// default in-memory store).
func startNetHTTPStore(st sess.Store) (*setup, error) {
	cfg := sessConfig()
	cfg.Store = st
	m, err := sess.New(cfg)
	if err != nil {
		return nil, err
	}
	mux := httpMux(
		func(_ http.ResponseWriter, r *http.Request) (int, bool) { return sessHit(sesshttp.From(r)), true },
		func(_ http.ResponseWriter, r *http.Request) (int, bool) { return sessRead(sesshttp.From(r)), true },
		func(_ http.ResponseWriter, r *http.Request) (int, bool) { return sessRenew(sesshttp.From(r)), true },
	)
	return httpSetup(sesshttp.Middleware(m)(mux), func() { _ = m.Close() }), nil
}

// openBenchRedisStore starts a redis-server for the benchmark and returns
// a store on it, or why it cannot.
func openBenchRedisStore(b *testing.B) (sess.Store, string) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, "needs Redis: redis-server not in PATH (install Redis, e.g. apt-get install redis-server)"
	}
	addr := startBenchRedis(b)
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	b.Cleanup(func() { _ = c.Close() })
	return redisstore.New(c, redisstore.Config{}), ""
}

// openBenchPostgresStore returns a migrated store in a fresh table of the
// benchmark's PostgreSQL, dropped when the benchmark ends, or why it
// cannot.
func openBenchPostgresStore(b *testing.B) (sess.Store, string) {
	dsn := benchPostgresDSN()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	if err == nil {
		err = pool.Ping(ctx)
		if err != nil {
			pool.Close()
		}
	}
	if err != nil {
		return nil, fmt.Sprintf("needs PostgreSQL: none answers at SESS_POSTGRES_DSN or 127.0.0.1:5432 (%v); set SESS_POSTGRES_DSN or start one: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start", err)
	}
	b.Cleanup(pool.Close)
	tag := make([]byte, 6)
	_, _ = rand.Read(tag)
	table := "sess_bench_" + hex.EncodeToString(tag)
	st, err := pgstore.New(pool, pgstore.Config{Table: table, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = st.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
			b.Errorf("dropping %s: %v", table, err)
		}
	})
	if err := st.Migrate(ctx); err != nil {
		b.Fatalf("pgstore Migrate: %v", err)
	}
	return st, ""
}
