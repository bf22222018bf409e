package benchmarks

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// Sizes of the scale scenarios.
const (
	parallelSessions = 10_000    // ParallelHit spreads its requests over this many sessions
	memSessions      = 100_000   // Mem100k
	bigSessions      = 1_000_000 // Mem1M and Sweep1M
	sweepLive        = 10_000    // live sessions read while Sweep1M sweeps
)

// BenchmarkSessions runs every scenario for every peer in one process:
// BenchmarkSessions/<Scenario>/<framework>-<library>. README.md explains
// each scenario; run.sh turns the output into results.md.
func BenchmarkSessions(b *testing.B) {
	scenarios := []struct {
		name string
		run  func(*testing.B, peer)
	}{
		{"New", benchNew},
		{"Hit", benchHit},
		{"Read", benchRead},
		{"ParallelHit", benchParallelHit},
		{"Renew", benchRenew},
	}
	for _, sc := range scenarios {
		b.Run(sc.name, func(b *testing.B) {
			for _, p := range peers {
				b.Run(p.name, func(b *testing.B) { sc.run(b, p) })
			}
		})
	}
	b.Run("Mem100k", func(b *testing.B) {
		for _, p := range peers {
			if !p.bare {
				b.Run(p.name, func(b *testing.B) { benchMem(b, p, memSessions) })
			}
		}
	})
	b.Run("Mem1M", func(b *testing.B) {
		for _, p := range peers {
			if p.name == "nethttp-sess" {
				b.Run(p.name, func(b *testing.B) { benchMem(b, p, bigSessions) })
			}
		}
	})
	b.Run("Sweep1M/sess-memstore", benchSweep)
}

// benchStart starts p for one benchmark run and stops it afterwards.
func benchStart(b *testing.B, p peer) *setup {
	b.Helper()
	s, err := p.start()
	if err != nil {
		b.Fatalf("start %s: %v", p.name, err)
	}
	b.Cleanup(s.close)
	b.ReportAllocs()
	return s
}

// expect fails the benchmark unless c's last response was a 200 with the
// given body, so that no number comes from a broken setup. want < 0 skips
// the body check.
func expect(b *testing.B, c client, want int) {
	b.Helper()
	status, got, _ := c.last()
	if status != http.StatusOK || want >= 0 && got != wantBody(want) {
		b.Fatalf("last response: %d %q, want 200 %q", status, got, wantBody(want))
	}
}

// sessionFor returns the cookie pair of one fresh session holding counter
// 1, or a made-up pair of the same shape for a bare handler.
func sessionFor(b *testing.B, s *setup, p peer) string {
	if p.bare {
		return fakePair(0)
	}
	return createSessions(b, s, 1)[0]
}

// fakePair is a cookie a bare handler gets: as long as a sess cookie.
func fakePair(i int) string { return fmt.Sprintf("%s=%087d", cookieName, i) }

// benchNew: a request without a cookie whose handler writes, so a session
// is created and stored and its cookie set.
func benchNew(b *testing.B, p peer) {
	s := benchStart(b, p)
	c := s.newClient(pathHit)
	c.setCookie("")
	for b.Loop() {
		c.do()
	}
	expect(b, c, 1)
}

// benchHit: a valid cookie; the handler reads the int counter, increments
// it and writes it back.
func benchHit(b *testing.B, p peer) {
	s := benchStart(b, p)
	pair := sessionFor(b, s, p)
	c := s.newClient(pathHit)
	for b.Loop() {
		c.setCookie(pair)
		c.do()
	}
	expect(b, c, -1)
}

// benchRead: a valid cookie; the handler only reads the counter.
func benchRead(b *testing.B, p peer) {
	s := benchStart(b, p)
	pair := sessionFor(b, s, p)
	c := s.newClient(pathRead)
	for b.Loop() {
		c.setCookie(pair)
		c.do()
	}
	expect(b, c, 1)
}

// benchRenew: a login. The handler renews the session ID and keeps the
// data; each request carries the cookie the previous response set, as a
// browser would.
func benchRenew(b *testing.B, p peer) {
	s := benchStart(b, p)
	c := s.newClient(pathRenew)
	c.setCookie(sessionFor(b, s, p))
	for b.Loop() {
		c.do()
		c.follow()
	}
	expect(b, c, 1) // the data survived every renewal
}

// benchParallelHit: Hit from GOMAXPROCS goroutines at once, spread over
// parallelSessions sessions created beforehand.
func benchParallelHit(b *testing.B, p peer) {
	s := benchStart(b, p)
	pairs := make([]string, parallelSessions)
	if p.bare {
		for i := range pairs {
			pairs[i] = fakePair(i)
		}
	} else {
		pairs = createSessions(b, s, parallelSessions)
	}
	var worker atomic.Int64
	var failed atomic.Bool
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := s.newClient(pathHit)
		// Goroutines start far apart, so they rarely hit one session at
		// the same time.
		i := int(worker.Add(1)*7919) % len(pairs)
		sent := false
		for pb.Next() {
			c.setCookie(pairs[i])
			c.do()
			if i++; i == len(pairs) {
				i = 0
			}
			sent = true
		}
		if sent {
			if status, _, _ := c.last(); status != http.StatusOK {
				failed.Store(true)
			}
		}
	})
	if failed.Load() {
		b.Fatal("a request failed")
	}
}

// benchMem creates n sessions through p's own route into a fresh store and
// reports the live heap they hold (runtime.ReadMemStats after two GCs,
// before and after) and the time to create them.
func benchMem(b *testing.B, p peer, n int) {
	b.ReportAllocs()
	var live int64
	var ms runtime.MemStats
	for range b.N {
		b.StopTimer()
		s, err := p.start()
		if err != nil {
			b.Fatalf("start %s: %v", p.name, err)
		}
		c := s.newClient(pathHit)
		c.setCookie("")
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := int64(ms.HeapAlloc)
		b.StartTimer()
		for range n {
			c.do()
		}
		b.StopTimer()
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		live += int64(ms.HeapAlloc) - before
		expect(b, c, 1)
		s.close()
		b.StartTimer()
	}
	b.ReportMetric(float64(live)/float64(b.N*n), "B/session")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/session")
}

// spin sums the work of benchSweep's control goroutines, so that their
// loops are not optimized away.
var spin int

// benchSweep fills a MemoryStore with bigSessions records that then
// expire (through MemoryConfig.Now) and sweepLive that stay live, and
// times store Gets of the live ones from one goroutine while Sweep removes
// the expired ones on another. One op is a whole fill and sweep (so that
// b.N stays at 1 or 2); the sweep alone is reported as sweep-ns. The Get
// latency quantiles (each including two clock reads) are reported as
// metrics, and those of Gets for as long again after the sweep while
// another goroutine keeps the other CPU busy ("ctrl-"), so that the
// machine's own noise (OS preemption, CPU contention, GC) can be told from
// blocking by the sweep. "slow-gets/op" counts the Gets that took over a
// millisecond.
func benchSweep(b *testing.B) {
	ctx := context.Background()
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	// A one-key record as the Manager writes it is about this big.
	meta := []byte("\x02\x80\x80\x80\x80\x80\x80\x01")
	entries := sess.AppendEntry(nil, "test_counter", []byte("\x05\x01\x02"))
	var busy, idle []time.Duration
	ids := make([]string, sweepLive)
	get := func(st *sess.MemoryStore, i int) time.Duration {
		t0 := time.Now()
		_, err := st.Get(ctx, ids[i%len(ids)])
		d := time.Since(t0)
		if err != nil {
			b.Fatalf("Get of a live session: %v", err)
		}
		return d
	}
	var sweeping time.Duration
	for range b.N {
		st := sess.NewMemoryStore(sess.MemoryConfig{Now: now, SweepInterval: 24 * time.Hour})
		put := func(ttl time.Duration) string {
			id, err := sess.RandomID()
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Create(ctx, id, sess.Record{Meta: meta, Entries: entries, Expires: now().Add(ttl)}); err != nil {
				b.Fatal(err)
			}
			return id
		}
		for range bigSessions {
			put(time.Hour)
		}
		for i := range ids {
			ids[i] = put(48 * time.Hour)
		}
		clock.Add(int64(2 * time.Hour))
		// Start each phase with no GC cycle in progress: the fill leaves
		// one running, and its mark assists would land on the Gets.
		runtime.GC()
		var done atomic.Bool
		start := time.Now()
		go func() {
			st.Sweep()
			done.Store(true)
		}()
		for i := 0; !done.Load(); i++ {
			busy = append(busy, get(st, i))
		}
		took := time.Since(start)
		sweeping += took
		if l := st.Len(); l != sweepLive {
			b.Fatalf("after the sweep the store holds %d records, want %d", l, sweepLive)
		}
		// The control: the same Gets for as long again, while another
		// goroutine burns the other CPU without touching the store.
		runtime.GC()
		var stop atomic.Bool
		spun := make(chan int)
		go func() {
			x := 0
			for !stop.Load() {
				x++
			}
			spun <- x
		}()
		for i, t0 := 0, time.Now(); time.Since(t0) < took; i++ {
			idle = append(idle, get(st, i))
		}
		stop.Store(true)
		spin += <-spun
		_ = st.Close()
	}
	if len(busy) == 0 {
		b.Fatal("no Get completed during the sweep")
	}
	report := func(prefix string, lat []time.Duration) {
		slices.Sort(lat)
		slow := len(lat) - sort.Search(len(lat), func(i int) bool { return lat[i] > time.Millisecond })
		b.ReportMetric(float64(slow)/float64(b.N), prefix+"slow-gets/op")
		q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Nanoseconds()) }
		if prefix == "" {
			b.ReportMetric(q(0.50), "p50-ns")
			b.ReportMetric(q(0.99), "p99-ns")
		}
		b.ReportMetric(q(0.999), prefix+"p99.9-ns")
		b.ReportMetric(q(0.9999), prefix+"p99.99-ns")
		b.ReportMetric(q(1), prefix+"max-ns")
	}
	report("", busy)
	report("ctrl-", idle)
	b.ReportMetric(float64(len(busy))/float64(b.N), "gets/op")
	b.ReportMetric(float64(sweeping.Nanoseconds())/float64(b.N), "sweep-ns")
}
