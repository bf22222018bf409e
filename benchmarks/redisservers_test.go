package benchmarks

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The Redis servers BenchmarkWriters runs on: processes of its own on free
// loopback ports, killed when the benchmark ends. Without redis-server
// (and redis-cli, for a cluster) the benchmark skips.

func redisBins(b *testing.B) (server, cli string) {
	server, err := exec.LookPath("redis-server")
	if err == nil {
		cli, err = exec.LookPath("redis-cli")
	}
	if err != nil {
		b.Skip("needs Redis: redis-server and redis-cli not in PATH (install Redis, e.g. apt-get install redis-server, then go test -bench Writers)")
	}
	return server, cli
}

// benchPorts returns n free loopback ports p with p+10000 (the cluster
// bus port) free too.
func benchPorts(b *testing.B, n int) []int {
	var ports []int
	var hold []net.Listener
	defer func() {
		for _, l := range hold {
			_ = l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
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

// launchBenchRedis starts redis-server on port and waits for PING.
func launchBenchRedis(b *testing.B, bin string, port int, extra ...string) string {
	dir := b.TempDir()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}, extra...)
	cmd := exec.Command(bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		b.Fatalf("starting redis-server: %v", err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	defer c.Close()
	for range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return addr
		}
		time.Sleep(25 * time.Millisecond)
	}
	b.Fatalf("redis-server on port %d did not answer:\n%s", port, out.String())
	return ""
}

// startBenchRedis starts a standalone redis-server and returns its address.
func startBenchRedis(b *testing.B) string {
	bin, _ := redisBins(b)
	return launchBenchRedis(b, bin, benchPorts(b, 1)[0])
}

// startBenchCluster starts a Redis Cluster of n primaries and returns
// their addresses once every node reports cluster_state:ok.
func startBenchCluster(b *testing.B, n int) []string {
	bin, cli := redisBins(b)
	dir := b.TempDir()
	var addrs []string
	for _, p := range benchPorts(b, n) {
		addrs = append(addrs, launchBenchRedis(b, bin, p, "--cluster-enabled", "yes",
			"--cluster-config-file", fmt.Sprintf("%s/nodes-%d.conf", dir, p)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		b.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a, ContextTimeoutEnabled: true})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(n)) {
				break
			}
			if ctx.Err() != nil {
				b.Fatalf("cluster node %s not ready: %v\n%s", a, err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = c.Close()
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true})
	defer cc.Close()
	for cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }) != nil {
		if ctx.Err() != nil {
			b.Fatal("cluster not reachable through a cluster client")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return addrs
}
