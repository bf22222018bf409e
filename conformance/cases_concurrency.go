package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

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
		why:  "parallel requests of one session that change different keys must all keep their changes (no lost update), or fail visibly",
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
			want := e.m.ErrorResponse(context.Background(), errStoreDown)
			for i, r := range results {
				k := fmt.Sprintf("p%02d", i)
				switch {
				case r.err == nil && r.status == http.StatusOK:
					if !keys[k] {
						e.fail("a concurrent write that answered 200 must be saved", "key %s missing from %q", k, r.body)
					}
				case r.err == nil && r.status == want.Status:
					e.t.Logf("request %d gave up on conflicts: %s", i, r)
				default:
					e.fail("a concurrent write must succeed or fail with the error response", "request %d: %s", i, r)
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
