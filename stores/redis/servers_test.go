package redisstore

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// This file starts Redis servers owned by one test: a standalone
// redis-server the test may pause (SIGSTOP) and resume, and a Redis Cluster
// of its own on free loopback ports. They need the redis-server and
// redis-cli binaries; without them the tests skip, or fail when
// SESS_REQUIRE_REDIS=1.

// needsRedisMsg is how every skip for a missing Redis starts, so that a
// summary can group them.
const needsRedisMsg = "needs Redis"

// skipOrFail skips t with a message starting with needsRedisMsg, or fails
// it when SESS_REQUIRE_REDIS=1 (CI) so that a missing Redis never passes
// silently there.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	msg := needsRedisMsg + ": " + reason
	if os.Getenv("SESS_REQUIRE_REDIS") == "1" {
		t.Fatalf("%s; SESS_REQUIRE_REDIS=1 forbids skipping", msg)
	}
	t.Skip(msg)
}

// redisBinaries returns the paths of redis-server and redis-cli.
func redisBinaries(t testing.TB) (server, cli string) {
	t.Helper()
	server, err := exec.LookPath("redis-server")
	if err != nil {
		skipOrFail(t, "redis-server not in PATH (install Redis, e.g. apt-get install redis-server, then go test ./...)")
	}
	cli, err = exec.LookPath("redis-cli")
	if err != nil {
		skipOrFail(t, "redis-cli not in PATH (install Redis, e.g. apt-get install redis-server, then go test ./...)")
	}
	return server, cli
}

// ownedRedis is a redis-server process started by a test.
type ownedRedis struct {
	Addr string
	Port int
	cmd  *exec.Cmd
	mu   sync.Mutex
	done bool
}

// Pause stops the process (SIGSTOP): its sockets stay open, the kernel
// keeps accepting connections and buffering commands, nothing answers.
func (r *ownedRedis) Pause(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(r.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP redis-server: %v", err)
	}
}

// Resume continues a paused process (SIGCONT).
func (r *ownedRedis) Resume(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(r.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		t.Fatalf("SIGCONT redis-server: %v", err)
	}
}

// Stop kills the process and waits for it. It is safe to call twice.
func (r *ownedRedis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	_ = r.cmd.Process.Kill() // SIGKILL works on a stopped process too
	_ = r.cmd.Wait()
}

// freePorts returns n loopback ports that were free a moment ago, each
// with port+10000 free as well (the cluster bus port).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var hold []net.Listener
	defer func() {
		for _, l := range hold {
			_ = l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			t.Fatalf("no free loopback ports")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hold = append(hold, l)
		p := l.Addr().(*net.TCPAddr).Port
		if p+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+10000)))
		if err != nil {
			continue
		}
		hold = append(hold, bus)
		ports = append(ports, p)
	}
	return ports
}

// startOwnedRedis starts a standalone redis-server on a free loopback port,
// owned by t: it is killed when t ends, paused or not.
func startOwnedRedis(t testing.TB) *ownedRedis {
	t.Helper()
	bin, _ := redisBinaries(t)
	var lastErr error
	for range 5 {
		port := freePorts(t, 1)[0]
		r, err := launchRedis(t, bin, port, t.TempDir())
		if err == nil {
			return r
		}
		lastErr = err
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

// launchRedis starts redis-server on port with extra arguments and waits
// until it answers PING. The process is killed when t ends.
func launchRedis(t testing.TB, bin string, port int, dir string, extra ...string) (*ownedRedis, error) {
	t.Helper()
	args := append([]string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--protected-mode", "no",
	}, extra...)
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	r := &ownedRedis{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Port: port, cmd: cmd}
	t.Cleanup(r.Stop)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialTimeout: time.Second, ContextTimeoutEnabled: true})
	defer c.Close()
	var err error
	for range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return r, nil
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	r.Stop()
	return nil, fmt.Errorf("redis-server on port %d did not answer: %v; output:\n%s", port, err, out.String())
}

// cluster is a Redis Cluster owned by a test.
type cluster struct {
	Addrs []string
	Nodes []*ownedRedis
}

// Client returns a cluster client with the recommended options, closed
// when t ends.
func (c *cluster) Client(t testing.TB) *redis.ClusterClient {
	t.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}

// startCluster starts a Redis Cluster of n primaries (no replicas) on free
// loopback ports, creates it with redis-cli --cluster create and waits
// until every node reports cluster_state:ok and knows all slots. The nodes
// are killed when t ends.
func startCluster(t testing.TB, n int) *cluster {
	t.Helper()
	bin, cli := redisBinaries(t)
	dir := t.TempDir()
	cl := &cluster{}
	for _, port := range freePorts(t, n) {
		r, err := launchRedis(t, bin, port, dir,
			"--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("%s/nodes-%d.conf", dir, port),
			"--cluster-node-timeout", "5000")
		if err != nil {
			t.Fatalf("starting cluster node: %v", err)
		}
		cl.Nodes = append(cl.Nodes, r)
		cl.Addrs = append(cl.Addrs, r.Addr)
	}
	args := append([]string{"--cluster", "create"}, cl.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range cl.Addrs {
		waitClusterOK(ctx, t, addr, n)
	}
	// A cluster client must see every slot served before the test starts.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs, ContextTimeoutEnabled: true})
	defer cc.Close()
	for {
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() })
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("cluster not reachable through a cluster client: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cl
}

// waitClusterOK polls CLUSTER INFO on addr until the node reports
// cluster_state:ok, all 16384 slots assigned and n known nodes.
func waitClusterOK(ctx context.Context, t testing.TB, addr string, n int) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	defer c.Close()
	want := []string{"cluster_state:ok", "cluster_slots_ok:16384", "cluster_known_nodes:" + strconv.Itoa(n)}
	var info string
	for {
		var err error
		info, err = c.ClusterInfo(ctx).Result()
		if err == nil && containsAll(info, want) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("cluster node %s never reported %v: %v\n%s", addr, want, err, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestClusterHelper checks the helper itself: the cluster serves keys in
// every slot range, from every node, through a cluster client.
func TestClusterHelper(t *testing.T) {
	cl := startCluster(t, 3)
	cc := cl.Client(t)
	ctx := context.Background()
	for i := range 100 {
		k := fmt.Sprintf("helper:%d", i)
		if err := cc.Set(ctx, k, i, time.Minute).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	var (
		mu    sync.Mutex
		total int64
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		n, err := c.DBSize(ctx).Result()
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("master %s holds no key: the cluster is not sharding", c.Options().Addr)
		}
		mu.Lock()
		total += n
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != 100 {
		t.Errorf("masters hold %d keys, want 100", total)
	}
}
