package benchmarks

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	redisstore "github.com/gosess/sess/stores/redis"
	"github.com/redis/go-redis/v9"
)

// BenchmarkWriters measures concurrent writers on sessions, over real
// HTTP through the net/http adapter, as a page firing parallel requests
// does: each request sets its own key. One iteration is one burst:
//
//   - OneSession: 1,000 requests in flight at once on one session.
//   - ManySessions: 1,000 sessions with 10 writers each, 1,000 requests in
//     flight at a time (the 10 writers of a session together).
//
// on the memory store (one instance), and on Redis and on a Redis Cluster
// of three primaries with two application instances (each its own Manager
// and client) taking the requests in turn. The Redis servers are started
// by the benchmark on loopback ports (it skips without redis-server). It
// reports the latency of the writers, p50-ms and p99-ms (per request,
// from sending it to reading the whole answer), and fails if a writer does
// not get a 200 or a key is missing afterwards. ns/op is a whole burst.
func BenchmarkWriters(b *testing.B) {
	backends := []struct {
		name  string
		start func(b *testing.B) []*httptest.Server
	}{
		{"memory", func(b *testing.B) []*httptest.Server {
			return writerServers(b, 1, func() sess.Store { return nil })
		}},
		{"redis-2-instances", func(b *testing.B) []*httptest.Server {
			addr := startBenchRedis(b)
			return writerServers(b, 2, func() sess.Store {
				c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, PoolSize: 64})
				b.Cleanup(func() { _ = c.Close() })
				return redisstore.New(c, redisstore.Config{})
			})
		}},
		{"redis-cluster-2-instances", func(b *testing.B) []*httptest.Server {
			addrs := startBenchCluster(b, 3)
			return writerServers(b, 2, func() sess.Store {
				c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, ContextTimeoutEnabled: true, PoolSize: 64})
				b.Cleanup(func() { _ = c.Close() })
				return redisstore.New(c, redisstore.Config{})
			})
		}},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			srvs := be.start(b)
			hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: 2000, MaxIdleConnsPerHost: 1000}}
			b.Cleanup(hc.CloseIdleConnections)
			// Open the connections a burst uses before timing anything:
			// 1,000 loopback connects at once overflow the listener's
			// backlog and some wait for a SYN retransmission (1 s), which
			// would dominate p99.
			for _, srv := range srvs {
				parallel(1000, 1000, func(int) { _, _, _, _, _ = send(hc, srv, "/keys", "") })
			}
			b.Run("OneSession", func(b *testing.B) { benchBurst(b, hc, srvs, 1, 1000) })
			b.Run("ManySessions", func(b *testing.B) { benchBurst(b, hc, srvs, 1000, 10) })
		})
	}
}

// writerServers starts n instances of the writers' app, each with a
// Manager on the store newStore returns (nil: the default memory store).
func writerServers(b *testing.B, n int, newStore func() sess.Store) []*httptest.Server {
	srvs := make([]*httptest.Server, n)
	for i := range srvs {
		m, err := sess.New(sess.Config{Secret: secret, Store: newStore(), DisableSecure: true, Logger: slog.New(slog.DiscardHandler)})
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
	return srvs
}

// benchBurst runs one burst of sessions x writers per iteration and
// reports the writers' p50 and p99 latency over all iterations.
func benchBurst(b *testing.B, hc *http.Client, srvs []*httptest.Server, sessions, writers int) {
	var lat []time.Duration
	failed := 0
	for b.Loop() {
		b.StopTimer()
		cookies := make([]string, sessions)
		parallel(sessions, 100, func(i int) {
			status, _, setCookie, _, err := send(hc, srvs[i%len(srvs)], "/set?k=user", "")
			if err != nil || status != http.StatusOK || setCookie == "" {
				b.Errorf("creating session %d: status %d, err %v", i, status, err)
				return
			}
			cookies[i], _, _ = strings.Cut(setCookie, ";")
		})
		if b.Failed() {
			return
		}
		b.StartTimer()
		var mu sync.Mutex
		parallel(sessions*writers, 1000, func(i int) {
			s, w := i/writers, i%writers
			status, _, _, took, err := send(hc, srvs[i%len(srvs)], fmt.Sprintf("/set?k=w%04d", w), cookies[s])
			mu.Lock()
			defer mu.Unlock()
			lat = append(lat, took)
			if err != nil || status != http.StatusOK {
				failed++
			}
		})
		b.StopTimer()
		want := []string{"user"}
		for w := range writers {
			want = append(want, fmt.Sprintf("w%04d", w))
		}
		wantKeys := strings.Join(want, ",")
		lost := 0
		parallel(sessions, 100, func(s int) {
			status, body, _, _, err := send(hc, srvs[s%len(srvs)], "/keys", cookies[s])
			if err != nil || status != http.StatusOK || body != wantKeys {
				mu.Lock()
				lost++
				mu.Unlock()
			}
		})
		if lost > 0 {
			b.Errorf("%d of %d sessions miss keys after the burst", lost, sessions)
		}
		b.StartTimer()
	}
	if failed > 0 {
		b.Errorf("%d of %d writers did not get a 200", failed, len(lat))
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// parallel calls f(0..n-1) with at most limit calls running at once.
func parallel(n, limit int, f func(i int)) {
	var wg sync.WaitGroup
	sema := make(chan struct{}, limit)
	for i := range n {
		sema <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sema }()
			f(i)
		}()
	}
	wg.Wait()
}

// send sends GET path with cookie and reads the answer.
func send(hc *http.Client, srv *httptest.Server, path, cookie string) (status int, body, setCookie string, took time.Duration, err error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+path, nil)
	if err != nil {
		return 0, "", "", 0, err
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", "", time.Since(start), err
	}
	defer resp.Body.Close()
	bb, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(bb), resp.Header.Get("Set-Cookie"), time.Since(start), err
}
