package conformance

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	sess "github.com/gosess/sess/core"
)

var concurrencyCases = []testCase{
	{
		name: "DistinctClientsInterleaved",
		why:  "concurrent clients must each see only their own session; frameworks that reuse request buffers (fasthttp) corrupt IDs that are not copied",
		run: func(e *env) {
			const clients, rounds = 8, 5
			cs := make([]*client, clients)
			for i := range cs {
				cs[i] = e.newClient()
			}
			var wg sync.WaitGroup
			for i, c := range cs {
				wg.Go(func() {
					for n := 1; n <= rounds; n++ {
						r := c.do("op", "counter", "c", strconv.Itoa(i))
						if want := fmt.Sprintf(`{"test_counter": %d}`, n); r.err != nil || r.status != http.StatusOK || r.body != want {
							e.fail("each client must see only its own counter", "client %d request %d: %s, want body %q", i, n, r, want)
							return
						}
					}
				})
			}
			wg.Wait()
			seen := map[string]int{}
			for i, c := range cs {
				id := idOf(c.cookie())
				if id == "" {
					e.fail("each client must get a session cookie", "client %d has none", i)
					continue
				}
				if j, dup := seen[id]; dup {
					e.fail("each client must get its own session ID", "clients %d and %d share ID %s", j, i, short(id))
				}
				seen[id] = i
				for _, got := range e.stashed("id/" + strconv.Itoa(i)) {
					if got != "" && got != id {
						e.fail("a session ID kept after its request must not change", "client %d: kept %q, cookie ID %q", i, got, id)
					}
				}
			}
		},
	},
	{
		name: "ConcurrentDisjointKeys",
		why:  "parallel requests of one session that change different keys must all succeed and keep their changes: disjoint writes never conflict",
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "base", "v", "0"), "a new session's first write sets its cookie")
			const n = 20
			results := make([]*result, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					results[i] = e.session(v, "op", "set", "k", fmt.Sprintf("p%02d", i), "v", strconv.Itoa(i))
				})
			}
			wg.Wait()
			r := e.session(v, "op", "keys")
			keys := map[string]bool{}
			for _, k := range strings.Split(r.body, ",") {
				keys[k] = true
			}
			for i, r := range results {
				k := fmt.Sprintf("p%02d", i)
				if r.err != nil || r.status != http.StatusOK {
					e.fail("a concurrent write of a distinct key must succeed", "request %d: %s", i, r)
				} else if !keys[k] {
					e.fail("a concurrent write that answered 200 must be saved", "key %s missing from %q", k, r.body)
				}
				e.noCookie(r, "writes to a stored session set no cookie")
			}
			if !keys["base"] {
				e.fail("concurrent writes must not drop keys they did not touch", "keys %q", r.body)
			}
		},
	},
	{
		name: "ConflictingWritersMerge",
		why:  "requests that all loaded the same version of a session and then change different keys conflict at commit; each must merge its own keys into the latest version instead of overwriting the others",
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "base", "v", "0"), "a new session's first write sets its cookie")
			const n = 6
			results := make([]*result, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					results[i] = e.session(v, "op", "set", "k", fmt.Sprintf("m%d", i), "v", strconv.Itoa(i), "barrier", strconv.Itoa(n))
				})
			}
			wg.Wait()
			for i, r := range results {
				e.wantBody(r, none, fmt.Sprintf("conflicting writer %d must succeed", i))
			}
			e.wantBody(e.session(v, "op", "keys"), "base,m0,m1,m2,m3,m4,m5", "every conflicting writer's key must be saved")
		},
	},
	{
		name: "GoroutinesInHandler",
		why:  "a handler may use its session from many goroutines at once; every change must be saved (run with -race)",
		run: func(e *env) {
			c := e.newClient()
			e.wantBody(c.do("op", "parallel"), "101", "100 goroutines setting their own key must leave 101 keys")
			e.wantBody(c.do("op", "state"), "new=false len=101", "every goroutine's change must be saved")
			e.wantBody(c.do("op", "get", "k", "error"), none, "each goroutine must read back its own value")
		},
	},
	{
		name: "SlowReaderKeepsWrite",
		why:  "a slow request that only read the session must not write back its stale copy over a change another request made meanwhile",
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "k", "v", "old"), "a new session's first write sets its cookie")
			done := make(chan *result, 1)
			go func() { done <- e.session(v, "op", "get", "k", "k", "wait", "A") }()
			e.awaitGate("A")
			e.wantBody(e.session(v, "op", "set", "k", "k", "v", "new"), "old", "a concurrent writer sees the stored value")
			e.open("A")
			e.wantBody(<-done, "old", "the slow reader read before the change")
			e.wantBody(e.session(v, "op", "get", "k", "k"), "new", "the slow reader must not undo the concurrent write")
		},
	},
	{
		name: "WriteAfterConcurrentLogout",
		why:  "a slow request that commits after a logout of the same session must not resurrect it: the logged-out cookie would work again",
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "user", "v", "alice"), "a new session's first write sets its cookie")
			done := make(chan *result, 1)
			go func() { done <- e.session(v, "op", "set", "k", "x", "v", "1", "wait", "A") }()
			e.awaitGate("A")
			r := e.session(v, "op", "destroy")
			e.wantBody(r, "destroyed", "logout must succeed")
			e.open("A")
			r = <-done
			e.wantStatus(r, http.StatusOK, "the slow request keeps its own status")
			if cs := e.sessionCookies(r); len(cs) > 0 && cs[0].MaxAge >= 0 && cs[0].Value != "" {
				e.fail("a request that lost a race with logout must not send a live session cookie", "Set-Cookie %q", e.sessionLines(r))
			}
			e.wantNoRecord(idOf(v), "a logged-out session must not be resurrected by a slow request")
			e.wantBody(e.session(v, "op", "get", "k", "user"), none, "the logged-out cookie must stay dead")
		},
	},
	{
		name: "WriteAfterConcurrentRenew",
		why:  "a slow request that commits after a renewal of the same session must not recreate the old ID, which the renewal killed",
		run: func(e *env) {
			c := e.newClient()
			old := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			done := make(chan *result, 1)
			go func() { done <- e.session(old, "op", "set", "k", "b", "v", "2", "wait", "A") }()
			e.awaitGate("A")
			nv := e.issued(c.must("op", "renew"), "a renewal sends the new cookie")
			e.open("A")
			r := <-done
			e.wantStatus(r, http.StatusOK, "the slow request keeps its own status")
			for _, ck := range e.sessionCookies(r) {
				if idOf(ck.Value) == idOf(old) {
					e.fail("a slow request must not send the renewed-away ID", "Set-Cookie %q", ck.Raw)
				}
			}
			e.wantNoRecord(idOf(old), "a renewed-away ID must not be recreated by a slow request")
			e.wantBody(e.session(nv, "op", "get", "k", "a"), "1", "the renewed session keeps its data")
		},
	},
	{
		name: "RenewCarriesConcurrentWrite",
		why:  "a change another request commits to a session while a renewal (a login) of it is in flight must survive in the renewed session: the renewal replaces the old record only at the version it loaded, else re-reads it and carries the change over",
		run: func(e *env) {
			c := e.newClient()
			old := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			done := make(chan *result, 1)
			go func() { done <- c.do("op", "renew", "k", "user", "v", "alice", "wait", "A") }()
			e.awaitGate("A")
			e.wantBody(e.session(old, "op", "set", "k", "cart", "v", "book"), none, "a write to the old ID while the renewal is in flight succeeds")
			e.open("A")
			r := <-done
			nv := e.issued(r, "a renewal sends the new cookie")
			e.wantBody(e.session(nv, "op", "get", "k", "cart"), "book", "the renewed session must keep the change committed meanwhile")
			e.wantBody(e.session(nv, "op", "get", "k", "user"), "alice", "the renewed session keeps the renewing request's own change")
			e.wantBody(e.session(nv, "op", "get", "k", "a"), "1", "the renewed session keeps its data")
			e.wantNoRecord(idOf(old), "the renewed-away ID must be gone")
		},
	},
	{
		name: "IDCollisionRedraws",
		why:  "a new session must never take over a live session whose ID the generator happened to repeat",
		config: func(e *env, c *sess.Config) {
			fixed, err := sess.RandomID()
			if err != nil {
				e.t.Fatalf("setup: %v", err)
			}
			var mu sync.Mutex
			calls := 0
			c.GenerateID = func() (string, error) {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls <= 2 {
					return fixed, nil
				}
				return sess.RandomID()
			}
		},
		run: func(e *env) {
			a := e.newClient()
			first := e.issued(a.must("op", "set", "k", "owner", "v", "a"), "a new session's first write sets its cookie")
			b := e.newClient()
			second := e.issued(b.must("op", "set", "k", "owner", "v", "b"), "a new session's first write sets its cookie")
			if idOf(first) == idOf(second) {
				e.fatal("a repeated ID must be redrawn", "both clients got ID %s", short(idOf(first)))
			}
			e.wantBody(a.do("op", "get", "k", "owner"), "a", "the first session must keep its data")
			e.wantBody(b.do("op", "get", "k", "owner"), "b", "the second session holds its own data")
		},
	},
	{
		name: "ClientDisconnectStillCommits",
		why:  "a client that disconnects while its request runs must not abort the commit halfway: store calls use a context detached from the request's cancellation",
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan *result, 1)
			go func() {
				req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.srv.URL+"/?"+query("op", "set", "k", "late", "v", "yes", "wait", "A", "awaitcancel", "1", "signal", "A-done"), nil)
				if err != nil {
					done <- &result{err: err}
					return
				}
				req.Header.Set("Cookie", e.m.CookieName()+"="+v)
				hc := *e.srv.Client()
				done <- send(&hc, req)
			}()
			e.awaitGate("A")
			cancel()
			<-done
			e.open("A")
			e.awaitGate("A-done")
			e.wantBody(e.session(v, "op", "get", "k", "late"), "yes", "a change must be saved even if the client went away")
		},
	},
}

// burstClient returns the case's HTTP client for bursts, made on first use
// to keep up to conns connections open, so that bursts reuse them instead
// of paying a TLS handshake per request.
func (e *env) burstClient(conns int) *http.Client {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.burstHC != nil {
		return e.burstHC
	}
	tr, ok := e.srv.Client().Transport.(*http.Transport)
	if !ok {
		e.t.Fatalf("setup: unexpected transport %T", e.srv.Client().Transport)
	}
	tr = tr.Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = conns, conns, conns
	e.t.Cleanup(tr.CloseIdleConnections)
	e.burstHC = &http.Client{Transport: tr, Timeout: requestTimeout}
	return e.burstHC
}

// burst sends n requests, at most inFlight at a time, request i carrying
// the session cookie cookies[i%len(cookies)] and the query pairs(i). It
// returns the results and each request's latency.
func (e *env) burst(n, inFlight int, cookies []string, pairs func(i int) []string) ([]*result, []time.Duration) {
	hc := e.burstClient(inFlight)
	results := make([]*result, n)
	took := make([]time.Duration, n)
	sem := make(chan struct{}, inFlight)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/?"+query(pairs(i)...), nil)
			if err != nil {
				results[i] = &result{err: err}
				return
			}
			req.Header.Set("Cookie", e.m.CookieName()+"="+cookies[i%len(cookies)])
			start := time.Now()
			results[i] = send(hc, req)
			took[i] = time.Since(start)
		})
	}
	wg.Wait()
	return results, took
}

// percentile returns the p-th percentile (0 < p <= 100) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// keySet returns the keys a "keys" response lists.
func keySet(body string) map[string]bool {
	keys := map[string]bool{}
	for _, k := range strings.Split(body, ",") {
		if k != "" {
			keys[k] = true
		}
	}
	return keys
}

// manyWritersStoreTimeout is the StoreTimeout of the many-writer cases.
// They prove that concurrent writers are never refused; with a networked
// store under -race on a loaded 2-core machine, hundreds of requests in
// flight queue for the CPU and for pooled connections for longer than the
// default 2 s, and a 503 from a timeout would hide what they are about.
// Timeouts have cases of their own (HangingStoreBoundedByStoreTimeout).
const manyWritersStoreTimeout = time.Minute

var manyWriterCases = []testCase{
	{
		name:   "ThousandWritersOneSession",
		why:    "a page firing many parallel requests on one session, each changing its own key, must get every one answered 2xx and every change kept: the store applies each commit's changes atomically, so disjoint writes never conflict",
		config: func(_ *env, c *sess.Config) { c.StoreTimeout = manyWritersStoreTimeout },
		run: func(e *env) {
			const writers, inFlight = 1000, 200
			v := e.issued(e.newClient().must("op", "set", "k", "base", "v", "0"), "a new session's first write sets its cookie")
			// Open the connections first, so the latencies measure the
			// session work rather than a burst of TLS handshakes.
			e.burst(inFlight, inFlight, []string{v}, func(int) []string { return []string{"op", "get", "k", "base"} })
			results, took := e.burst(writers, inFlight, []string{v}, func(i int) []string {
				return []string{"op", "set", "k", fmt.Sprintf("w%04d", i), "v", strconv.Itoa(i)}
			})
			failed := 0
			for i, r := range results {
				if r.err != nil || r.status < 200 || r.status > 299 {
					failed++
					if failed <= 5 {
						e.fail("every concurrent writer must be answered 2xx", "writer %d: %s", i, r)
					}
					continue
				}
				e.noCookie(r, "writes to a stored session set no cookie")
			}
			keys := keySet(e.session(v, "op", "keys").body)
			kept := 0
			for i := range writers {
				if keys[fmt.Sprintf("w%04d", i)] {
					kept++
				}
			}
			e.t.Logf("%d concurrent writers on one session (%d in flight): %d answered 2xx, %d of %d keys kept; latency p50 %v, p99 %v",
				writers, inFlight, writers-failed, kept, writers, percentile(took, 50), percentile(took, 99))
			if kept != writers || !keys["base"] {
				e.fail("every concurrent writer's key must be kept, and the key none of them touched too", "%d of %d kept, base kept: %t", kept, writers, keys["base"])
			}
		},
	},
	{
		name:   "ThousandSessionsTenWriters",
		why:    "many sessions with several parallel writers each must keep every write; no writer may be refused",
		config: func(_ *env, c *sess.Config) { c.StoreTimeout = manyWritersStoreTimeout },
		run: func(e *env) {
			sessions, writers, inFlight := 1000, 10, 200
			if raceEnabled {
				// The race detector makes each request several times
				// slower; a fifth of the sessions keeps the case to a few
				// seconds on two cores with the same writers per session.
				sessions = 200
			}
			cookies := make([]string, sessions)
			created, _ := e.burst(sessions, inFlight, []string{"x"}, func(i int) []string {
				return []string{"op", "set", "k", "base", "v", strconv.Itoa(i)}
			})
			for i, r := range created {
				cookies[i] = e.issued(r, "a new session's first write sets its cookie")
			}
			if e.t.Failed() {
				return
			}
			n := sessions * writers
			results, took := e.burst(n, inFlight, cookies, func(i int) []string {
				return []string{"op", "set", "k", fmt.Sprintf("w%d", i/sessions), "v", strconv.Itoa(i)}
			})
			failed := 0
			for i, r := range results {
				if r.err != nil || r.status < 200 || r.status > 299 {
					failed++
					if failed <= 5 {
						e.fail("every concurrent writer must be answered 2xx", "request %d: %s", i, r)
					}
				}
			}
			reads, _ := e.burst(sessions, inFlight, cookies, func(int) []string { return []string{"op", "keys"} })
			lost := 0
			for i, r := range reads {
				keys := keySet(r.body)
				for w := range writers {
					if !keys[fmt.Sprintf("w%d", w)] {
						lost++
					}
				}
				if !keys["base"] {
					lost++
					if lost <= 5 {
						e.fail("keys no writer touched must be kept", "session %d: keys %q", i, r.body)
					}
				}
			}
			e.t.Logf("%d sessions x %d writers (%d in flight): %d of %d answered 2xx, %d keys lost; latency p50 %v, p99 %v",
				sessions, writers, inFlight, n-failed, n, lost, percentile(took, 50), percentile(took, 99))
			if lost > 0 {
				e.fail("every concurrent writer's key must be kept", "%d of %d keys lost", lost, n)
			}
		},
	},
	{
		name: "ConcurrentWritersAtSizeCap",
		why:  "concurrent writers that each fit under MaxDataSize but together exceed it must not push the session over the cap (it would be discarded as corrupt on its next load): the writes that fit succeed, the others get the error response, and the session keeps working",
		config: func(e *env, c *sess.Config) {
			c.MaxDataSize = 2048
		},
		run: func(e *env) {
			const writers = 40
			v := e.issued(e.newClient().must("op", "set", "k", "base", "v", "0"), "a new session's first write sets its cookie")
			results, _ := e.burst(writers, writers, []string{v}, func(i int) []string {
				return []string{"op", "big", "k", fmt.Sprintf("w%02d", i), "n", "100"}
			})
			tooLarge := e.m.ErrorResponse(context.Background(), sess.ErrTooLarge)
			ok := map[string]bool{}
			for i, r := range results {
				switch {
				case r.err == nil && r.status == http.StatusOK:
					ok[fmt.Sprintf("w%02d", i)] = true
				case r.err == nil && r.status == tooLarge.Status:
				default:
					e.fail("a writer must succeed or get the error response for data over the cap", "writer %d: %s", i, r)
				}
			}
			keys := keySet(e.session(v, "op", "keys").body)
			if !keys["base"] {
				e.fail("concurrent writers at the size cap must not end the session", "keys after the burst: %v", keys)
			}
			for k := range ok {
				if !keys[k] {
					e.fail("a writer answered 200 must be kept", "key %s missing", k)
				}
			}
			if len(ok) == 0 || len(ok) == writers {
				e.fail("some writers fit under the cap and some do not", "%d of %d succeeded", len(ok), writers)
			}
			e.wantBody(e.session(v, "op", "get", "k", "base"), "0", "the session keeps loading after the burst")
		},
	},
	{
		name: "HangingStoreBoundedByStoreTimeout",
		why:  "a store that stops answering (a paused Redis) must cost a request at most StoreTimeout: the client gets the error response promptly, and the same cookie works again once the store answers",
		config: func(e *env, c *sess.Config) {
			c.StoreTimeout = hangTimeout
		},
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			bound := hangTimeout + hangSlack
			for _, step := range []struct {
				label string
				op    storeOp
				send  func() *result
			}{
				{"a load (Get) that hangs", opGet, func() *result { return e.session(v, "op", "get", "k", "a") }},
				{"a commit (Update) that hangs", opWrite, func() *result { return e.session(v, "op", "set", "k", "a", "v", "2") }},
				{"a new session's Create that hangs", opWrite, func() *result { return e.newClient().do("op", "set", "k", "a", "v", "3") }},
			} {
				e.store.fail(step.op, errHang, "")
				// The best of three attempts: a loaded machine may delay
				// one response, a store call that ignores its deadline
				// delays all of them.
				best := time.Duration(math.MaxInt64)
				for range 3 {
					start := time.Now()
					r := step.send()
					took := time.Since(start)
					e.wantErrorResponse(r, errStoreDown)
					best = min(best, took)
					if best <= bound {
						break
					}
				}
				if best > bound {
					e.fail("a hanging store must be answered with the error response within StoreTimeout + 200ms", "%s: fastest of 3 answers took %v, bound %v", step.label, best, bound)
				}
				e.store.heal()
			}
			e.wantBody(e.session(v, "op", "get", "k", "a"), "1", "the same cookie must work again once the store answers, with its data as it was")
			e.wantBody(e.session(v, "op", "set", "k", "a", "v", "4"), "1", "writes work again once the store answers")
			e.wantBody(e.session(v, "op", "get", "k", "a"), "4", "a write after the store came back must be kept")
		},
	},
}

const (
	// hangTimeout is the StoreTimeout of the hanging-store case.
	hangTimeout = 300 * time.Millisecond
	// hangSlack is how much longer than StoreTimeout a request may take.
	hangSlack = 200 * time.Millisecond
)
