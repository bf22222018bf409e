package main

import (
	"bufio"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	sess "github.com/gosess/sess/core"
)

var secret = []byte("test-secret-0123456789-abcdefghijklmnop")

// scrape fetches /metrics over HTTP and returns the sess_events_total
// values by event kind and the sess_store_duration_seconds_count values by
// store operation.
func scrape(t *testing.T, url string) (events, calls map[string]float64) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: status %d", resp.StatusCode)
	}
	label := regexp.MustCompile(`(sess_event|sess_store_op)="([^"]*)"`)
	events, calls = map[string]float64{}, map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		var into map[string]float64
		switch {
		case strings.HasPrefix(line, "sess_events_total{"):
			into = events
		case strings.HasPrefix(line, "sess_store_duration_seconds_count{"):
			into = calls
		default:
			continue
		}
		m := label.FindStringSubmatch(line)
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if m == nil || err != nil {
			t.Fatalf("unparseable metric line %q", line)
		}
		into[m[2]] += v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return events, calls
}

func TestMetricsScrapedOverHTTP(t *testing.T) {
	a, err := newApp(sess.Config{Secret: secret, DisableSecure: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(a.Handler)
	defer srv.Close()

	// 40 visitors in parallel: count to 3, log in, log out; and 5 forged
	// cookies each.
	const visitors = 40
	var wg sync.WaitGroup
	for range visitors {
		wg.Go(func() {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			do := func(method, path string) {
				req, _ := http.NewRequest(method, srv.URL+path, nil)
				resp, err := c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("%s %s: status %d", method, path, resp.StatusCode)
				}
			}
			for range 3 {
				do("GET", "/session_test")
			}
			do("POST", "/login?user=ann")
			do("POST", "/logout")
			for range 5 {
				req, _ := http.NewRequest("GET", srv.URL+"/session_test", nil)
				req.Header.Set("Cookie", "sid=forged.signature")
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
			}
		})
	}
	wg.Wait()

	events, calls := scrape(t, srv.URL)
	want := map[string]float64{
		// 1 per visitor, plus one for each forged-cookie request (its
		// counter write creates a fresh session).
		"created":        visitors * (1 + 5),
		"loaded":         visitors * 4, // requests 2 and 3, login, logout
		"renewed":        visitors,
		"destroyed":      visitors,
		"invalid_cookie": visitors * 5,
	}
	for k, n := range want {
		if events[k] != n {
			t.Errorf("sess_events_total{sess_event=%q} = %v, want %v", k, events[k], n)
		}
	}
	if len(events) != len(want) {
		t.Errorf("events %v, want only %v", events, want)
	}
	if calls["get"] != visitors*4 || calls["create"] != visitors*(2+5) {
		t.Errorf("store calls %v, want %d gets and %d creates", calls, visitors*4, visitors*7)
	}
}
