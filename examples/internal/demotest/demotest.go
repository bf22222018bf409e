// Package demotest tests the example servers over real HTTP and in a real
// browser. Every example runs the same scenarios, so the six adapters
// are held to the same behaviour:
//
//	func TestHTTP(t *testing.T) {
//		demotest.HTTP(t, demotest.Start(t, serve, demo.Options{}))
//	}
package demotest

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// TestSecret is the cookie signing secret of the test servers.
const TestSecret = "demotest-secret-0123456789abcdef0123456789"

// Start runs serve with a session manager built from o (the secret is
// TestSecret) on a fresh loopback listener, and returns the server's base
// URL, such as "http://127.0.0.1:40123". The server stops, and must stop
// cleanly, when the test ends.
func Start(t testing.TB, serve demo.ServeFunc, o demo.Options) string {
	t.Helper()
	base, _ := start(t, serve, o)
	return base
}

// start is Start, also returning the server's session manager.
func start(t testing.TB, serve demo.ServeFunc, o demo.Options) (string, *sess.Manager) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	getenv := func(k string) string {
		if k == demo.SecretEnv {
			return TestSecret
		}
		return ""
	}
	if o.Redis != "" && o.RedisPrefix == "" {
		o.RedisPrefix = redisPrefix(t, o.Redis)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, closeManager, err := demo.NewManager(ctx, o, getenv, logger)
	if err != nil {
		cancel()
		t.Fatalf("demo.NewManager: %v", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatalf("listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, m) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v after the context ended, want nil", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not return within 30s after the context ended")
		}
		if err := closeManager(); err != nil {
			t.Errorf("closing the session manager: %v", err)
		}
	})
	base := "http://" + ln.Addr().String()
	waitUp(t, base)
	return base, m
}

// waitUp waits until the server answers, for frameworks whose serve
// function starts listening asynchronously.
func waitUp(t testing.TB, base string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	var err error
	for range 100 {
		var resp *http.Response
		resp, err = c.Get(base + "/whoami")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server at %s never answered: %v", base, err)
}

// RedisAddr returns the address of a Redis server for tests: env
// SESS_REDIS_ADDR, default 127.0.0.1:6379. If none answers, the test is
// skipped, or fails when env SESS_REQUIRE_REDIS is 1.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("SESS_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if err := pingRedis(addr); err != nil {
		msg := "redis not reachable at " + addr + " (set SESS_REDIS_ADDR or start one: redis-server --daemonize yes --port 6379 --save '' --appendonly no): " + err.Error()
		if os.Getenv("SESS_REQUIRE_REDIS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return addr
}

// pingRedis sends an inline PING and expects +PONG, without a client
// library.
func pingRedis(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(buf[:n]), "+PONG") {
		return errors.New("unexpected answer to PING: " + strings.TrimSpace(string(buf[:n])))
	}
	return nil
}

// redisPrefix returns a key prefix unique to this test and deletes the
// keys under it when the test ends, so that test runs leave nothing behind
// in a shared Redis.
func redisPrefix(t testing.TB, addr string) string {
	t.Helper()
	prefix := "sess-examples-test:" + rand.Text() + ":"
	t.Cleanup(func() {
		client := redis.NewClient(&redis.Options{Addr: addr})
		defer client.Close()
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			if err := client.Del(ctx, iter.Val()).Err(); err != nil {
				t.Errorf("deleting test key: %v", err)
				return
			}
		}
		if err := iter.Err(); err != nil {
			t.Errorf("scanning test keys: %v", err)
		}
	})
	return prefix
}

// All runs every check on one example: its routes over HTTP with the
// memory store, with Redis and with PostgreSQL, the page in a browser (saving a screenshot
// under screenshot), the main function's flags and shutdown, and -secure.
// name is the example's folder; serve is the function its main runs.
// The HTTP scenarios run on Redis and PostgreSQL too; when such a store
// keeps no principal index (sess.ErrNoPrincipalIndex), the run checks
// instead that the sessions routes answer 501 and everything else works.
func All(t *testing.T, name string, serve demo.ServeFunc, screenshot string) {
	t.Run("HTTP", func(t *testing.T) { HTTP(t, Start(t, serve, demo.Options{})) })
	t.Run("HTTPRedis", func(t *testing.T) { httpOn(t, serve, demo.Options{Redis: RedisAddr(t)}) })
	t.Run("HTTPPostgres", func(t *testing.T) {
		dsn := PostgresDSN(t)
		httpOn(t, serve, demo.Options{Postgres: dsn, PostgresTable: postgresTable(t, dsn)})
	})
	t.Run("Browser", func(t *testing.T) { Browser(t, serve, screenshot) })
	t.Run("Run", func(t *testing.T) { Run(t, name, serve) })
	t.Run("SecureFlag", func(t *testing.T) { Secure(t, serve) })
}

// indexesPrincipals reports whether m's store keeps a principal index (see
// sess.PrincipalIndex), which GET /sessions and the revoke routes need.
func indexesPrincipals(t testing.TB, m *sess.Manager) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := m.Sessions(ctx, "demotest-probe")
	if errors.Is(err, sess.ErrNoPrincipalIndex) {
		t.Logf("the session store keeps no principal index: %v", err)
		return false
	}
	if err != nil {
		t.Fatalf("probing the store's principal index: %v", err)
	}
	return true
}

// httpOn runs the HTTP scenarios on a server with the store o names: all
// of them if the store keeps a principal index, else those that need none
// and a check that the sessions routes say so (501).
func httpOn(t *testing.T, serve demo.ServeFunc, o demo.Options) {
	base, m := start(t, serve, o)
	if indexesPrincipals(t, m) {
		HTTP(t, base)
		return
	}
	httpBasics(t, base)
	t.Run("SessionsWithoutIndex", func(t *testing.T) { sessionsWithoutIndex(t, base) })
}

// PostgresDSN returns the connection string of a PostgreSQL database for
// tests: env SESS_POSTGRES_DSN, default the local server's database
// "test". If none answers, the test is skipped, or fails when env
// SESS_REQUIRE_POSTGRES is 1.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SESS_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		msg := "needs PostgreSQL: none answers at SESS_POSTGRES_DSN or 127.0.0.1:5432 (start one: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): " + err.Error()
		if os.Getenv("SESS_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	_ = conn.Close(ctx)
	return dsn
}

// postgresTable returns a session table name unique to this test and
// drops the table (which the demo creates) when the test ends, after the
// server has stopped.
func postgresTable(t testing.TB, dsn string) string {
	t.Helper()
	table := "sess_demotest_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("dropping the test table: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table); err != nil {
			t.Errorf("dropping the test table: %v", err)
		}
	})
	return table
}
