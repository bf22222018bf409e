package demotest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
	"github.com/gosess/sess/examples/internal/demo"
)

// OutageSlack is how long past the demo's StoreTimeout (sess's default) a
// request may take to answer while Redis hangs.
const OutageSlack = 200 * time.Millisecond

// RedisOutage serves the example with a redis-server of its own, pauses
// that server (SIGSTOP: connections stay open and nothing answers, the
// worst kind of outage for a client), and checks that a request with a
// session, a request creating one, and many requests in flight at once
// all answer 503 within sess.DefaultStoreTimeout + OutageSlack. After
// SIGCONT the same cookie works again without restarting anything. It
// needs redis-server; without it the test skips (or fails when
// SESS_REQUIRE_REDIS=1).
func RedisOutage(t *testing.T, serve demo.ServeFunc) {
	rs := startRedisServer(t)
	base := Start(t, serve, demo.Options{Redis: rs.addr})
	t.Cleanup(rs.resume) // before the key cleanup registered by Start

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	t.Cleanup(hc.CloseIdleConnections)
	send := func(path, cookie string) (status int, body, setCookie string, took time.Duration, err error) {
		req, err := http.NewRequest(http.MethodGet, base+path, nil)
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
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("Set-Cookie"), time.Since(start), err
	}

	status, body, setCookie, _, err := send("/session_test", "")
	if err != nil || status != http.StatusOK || !strings.Contains(strings.ReplaceAll(body, " ", ""), `"test_counter":1`) {
		t.Fatalf("first request: status %d, body %q, err %v", status, body, err)
	}
	cookie, _, _ := strings.Cut(setCookie, ";")
	if !strings.HasPrefix(cookie, CookieName+"=") {
		t.Fatalf("first request set no session cookie: %q", setCookie)
	}
	const inFlight = 100
	// Open the connections the burst will use, so that dialling is not
	// timed.
	var wg sync.WaitGroup
	for range inFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _, _, _ = send("/whoami", "")
		}()
	}
	wg.Wait()

	limit := sess.DefaultStoreTimeout + OutageSlack
	const pausedTries = 3
	rs.pause(t)
	for _, req := range []struct{ path, cookie string }{
		{"/session_test", cookie},
		{"/whoami", cookie},
		{"/session_test", ""},
	} {
		// The fastest of up to three answers counts: a starved CPU can
		// delay one answer past the bound, while a store that ignored its
		// deadline would be late every time (go-redis's defaults: 5-6 s).
		var (
			status    int
			setCookie string
			took      time.Duration
			err       error
		)
		for range pausedTries {
			status, _, setCookie, took, err = send(req.path, req.cookie)
			if err != nil || status != http.StatusServiceUnavailable || setCookie != "" || took <= limit {
				break
			}
		}
		t.Logf("Redis paused: %s (cookie %v): %d in %v", req.path, req.cookie != "", status, took.Round(time.Millisecond))
		if err != nil || status != http.StatusServiceUnavailable || setCookie != "" || took > limit {
			t.Errorf("Redis paused: %s: status %d, Set-Cookie %q, err %v, after %v; want 503, no cookie, within %v", req.path, status, setCookie, err, took, limit)
		}
	}
	var (
		mu       sync.Mutex
		bad      []string
		worst    time.Duration
		onlyLate bool // every bad answer was a 503, only too late
	)
	// Requests arrive 2 ms apart, as traffic does: all of them are in
	// flight at once from the last arrival on. A burst whose bad answers
	// were all late 503s is sent again, up to three times in all, for the
	// reason given above.
	for try := range pausedTries {
		if try > 0 {
			if len(bad) == 0 || !onlyLate {
				break
			}
			t.Logf("Redis paused: burst %d: %d of %d late (slowest %v); sending it again", try, len(bad), inFlight, worst.Round(time.Millisecond))
		}
		bad, worst, onlyLate = nil, 0, true
		for i := range inFlight {
			time.Sleep(2 * time.Millisecond)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ck := cookie
				if i%2 == 1 {
					ck = ""
				}
				status, _, _, took, err := send("/session_test", ck)
				mu.Lock()
				defer mu.Unlock()
				worst = max(worst, took)
				if err != nil || status != http.StatusServiceUnavailable || took > limit {
					bad = append(bad, fmt.Sprintf("status %d, err %v, after %v", status, err, took))
					onlyLate = onlyLate && err == nil && status == http.StatusServiceUnavailable
				}
			}()
		}
		wg.Wait()
	}
	t.Logf("Redis paused: %d requests in flight, slowest answer %v", inFlight, worst.Round(time.Millisecond))
	if len(bad) > 0 {
		t.Errorf("Redis paused: %d of %d requests in flight not a 503 within %v; first: %s", len(bad), inFlight, limit, bad[0])
	}

	rs.resume()
	status, body, setCookie, took, err := send("/session_test", cookie)
	t.Logf("Redis resumed: /session_test: %d %s in %v", status, strings.TrimSpace(body), took.Round(time.Millisecond))
	if err != nil || status != http.StatusOK || !strings.Contains(strings.ReplaceAll(body, " ", ""), `"test_counter":2`) {
		t.Errorf("after SIGCONT: status %d, body %q, err %v; want 200 and the same session's counter at 2", status, body, err)
	}
	if setCookie != "" && !strings.HasPrefix(setCookie, cookie) {
		t.Errorf("after SIGCONT the session changed: Set-Cookie %q", setCookie)
	}
}

// redisServer is a redis-server process owned by one test.
type redisServer struct {
	addr string
	cmd  *exec.Cmd
	once sync.Once
}

// startRedisServer starts redis-server on a free loopback port and waits
// until it answers; it is killed when t ends.
func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		msg := "needs Redis: redis-server not in PATH (install Redis, e.g. apt-get install redis-server, then go test ./...)"
		if os.Getenv("SESS_REQUIRE_REDIS") == "1" {
			t.Fatal(msg + "; SESS_REQUIRE_REDIS=1 forbids skipping")
		}
		t.Skip(msg)
	}
	var lastErr error
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting redis-server: %v", err)
		}
		rs := &redisServer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd}
		t.Cleanup(rs.kill)
		for range 200 {
			if lastErr = pingRedis(rs.addr); lastErr == nil {
				return rs
			}
			time.Sleep(25 * time.Millisecond)
		}
		rs.kill()
		lastErr = fmt.Errorf("%w; output:\n%s", lastErr, out.String())
	}
	t.Fatalf("redis-server never answered: %v", lastErr)
	return nil
}

func (rs *redisServer) pause(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(rs.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("SIGSTOP: %v", err)
	}
}

// resume sends SIGCONT; it is harmless on a running server.
func (rs *redisServer) resume() { _ = syscall.Kill(rs.cmd.Process.Pid, syscall.SIGCONT) }

func (rs *redisServer) kill() {
	rs.once.Do(func() {
		_ = rs.cmd.Process.Kill()
		_ = rs.cmd.Wait()
	})
}
