package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	"github.com/gosess/sess/conformance"
	"github.com/redis/go-redis/v9"
)

// redisAddr is the Redis the tests use: SESS_REDIS_ADDR or the default.
func redisAddr() string {
	if a := os.Getenv("SESS_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

var (
	pingOnce sync.Once
	pingErr  error
)

// requireRedis skips the test when no Redis answers, or fails it when
// SESS_REQUIRE_REDIS=1 (CI), so that a missing Redis never passes silently
// there.
func requireRedis(t testing.TB) {
	t.Helper()
	pingOnce.Do(func() {
		c := redis.NewClient(&redis.Options{Addr: redisAddr(), DialTimeout: time.Second, MaxRetries: -1})
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		pingErr = c.Ping(ctx).Err()
	})
	if pingErr == nil {
		return
	}
	msg := fmt.Sprintf(needsRedisMsg+": no Redis at %s (set SESS_REDIS_ADDR or start one: redis-server --daemonize yes --port 6379 --save '' --appendonly no)", redisAddr())
	if os.Getenv("SESS_REQUIRE_REDIS") == "1" {
		t.Fatalf("%s: %v; SESS_REQUIRE_REDIS=1 forbids skipping", msg, pingErr)
	}
	t.Skip(msg)
}

// newClient returns a client for addr (default: redisAddr), closed when t
// ends.
func newClient(t testing.TB, opts *redis.Options) *redis.Client {
	t.Helper()
	if opts == nil {
		opts = &redis.Options{}
	}
	if opts.Addr == "" {
		opts.Addr = redisAddr()
	}
	c := redis.NewClient(opts)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// testPrefix returns a key prefix no other test uses. When t ends it checks
// that every key left under the prefix is a hashed session key with an
// expiry, then deletes them.
func testPrefix(t testing.TB, c redis.UniversalClient) string {
	t.Helper()
	prefix := "sesstest:" + randomHex(8) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := scanKeys(ctx, c, prefix)
		if err != nil {
			t.Errorf("cleanup: scanning %s*: %v", prefix, err)
			return
		}
		checkKeys(ctx, t, c, prefix, keys)
		// One DEL per key, pipelined: a cluster refuses a DEL of keys in
		// different slots.
		if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Del(ctx, k)
			}
			return nil
		}); err != nil {
			t.Errorf("cleanup: deleting %d keys: %v", len(keys), err)
		}
	})
	return prefix
}

// scanKeys returns the keys under prefix, from every primary of a
// cluster.
func scanKeys(ctx context.Context, c redis.UniversalClient, prefix string) ([]string, error) {
	scan := func(ctx context.Context, c redis.UniversalClient) ([]string, error) {
		var keys []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return keys, iter.Err()
	}
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		return scan(ctx, c)
	}
	var (
		mu   sync.Mutex
		keys []string
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		k, err := scan(ctx, c)
		mu.Lock()
		keys = append(keys, k...)
		mu.Unlock()
		return err
	})
	return keys, err
}

var hashedKey = regexp.MustCompile(`^[0-9a-f]{64}$`)

// checkKeys asserts the store's invariants on keys under prefix: each is
// prefix + a SHA-256 hex (a session) or prefix + "p:" + a SHA-256 hex (a
// principal's index), and each has an expiry.
func checkKeys(ctx context.Context, t testing.TB, c redis.UniversalClient, prefix string, keys []string) {
	t.Helper()
	for _, k := range keys {
		rest := strings.TrimPrefix(k, prefix)
		if !hashedKey.MatchString(strings.TrimPrefix(rest, "p:")) {
			t.Errorf("key %q is neither prefix + HashID(id) nor prefix + \"p:\" + a hash", k)
		}
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Errorf("PTTL %q: %v", k, err)
			continue
		}
		// -1 means no expiry; -2 means the key expired meanwhile.
		if ttl == -1 {
			t.Errorf("key %q has no expiry", k)
		}
	}
}

// newTestStore returns a Store on c under a fresh prefix.
func newTestStore(t testing.TB, c redis.UniversalClient) *Store {
	t.Helper()
	return New(c, Config{Prefix: testPrefix(t, c)})
}

// mountHTTP is the net/http mount for the adapter conformance suite.
var mountHTTP = conformance.HTTPMount(sesshttp.Middleware, sesshttp.From)

// proxy is a TCP proxy in front of Redis that a test can cut and restore,
// to simulate an outage.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

// cut drops every connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// countingHook records the name of every command a client sends; a
// pipeline counts as one round trip.
type countingHook struct {
	mu   sync.Mutex
	cmds []string
}

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.add(cmd.Name())
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, len(cmds))
		for i, c := range cmds {
			names[i] = c.Name()
		}
		h.add("pipeline[" + strings.Join(names, " ") + "]")
		return next(ctx, cmds)
	}
}

func (h *countingHook) add(name string) {
	h.mu.Lock()
	h.cmds = append(h.cmds, name)
	h.mu.Unlock()
}

// take returns the commands recorded since the last call and resets.
func (h *countingHook) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.cmds
	h.cmds = nil
	return c
}
