package conformance

import (
	"net/http"

	sess "github.com/gosess/sess/core"
)

// edgeCases cover the sharp edges of issue 12: the inert session of a
// skipped request and the Partitioned cookie attribute.
var edgeCases = []testCase{
	{
		name: "SkipHeaderInertSession",
		why:  "a skip header is client-controlled: a handler that uses the session of a skipped request (Set, Renew, Destroy) must not crash or need a nil check, and nothing may be stored or sent as a cookie",
		config: func(e *env, c *sess.Config) {
			c.SkipHeaders = []sess.SkipHeader{{Name: "X-Skip-Session", Value: "1"}}
		},
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			e.store.reset()
			skip := http.Header{"X-Skip-Session": {"1"}}
			withCookie := http.Header{"X-Skip-Session": {"1"}, "Cookie": {e.m.CookieName() + "=" + v}}
			for _, tc := range []struct {
				h    http.Header
				op   []string
				body string
			}{
				{skip, []string{"op", "set", "k", "a", "v", "2"}, none},
				{withCookie, []string{"op", "set", "k", "a", "v", "2"}, none},
				{withCookie, []string{"op", "get", "k", "a"}, none},
				{withCookie, []string{"op", "renew", "k", "b", "v", "3"}, "renewed"},
				{withCookie, []string{"op", "destroy"}, "destroyed"},
				{skip, []string{"op", "destroyset", "k", "c", "v", "4"}, "ok"},
				{withCookie, []string{"op", "counter"}, `{"test_counter": 1}`},
				{withCookie, []string{"op", "state"}, "new=true len=0"},
			} {
				r := e.raw("/", query(tc.op...), tc.h)
				e.wantBody(r, tc.body, "a skipped request's session must read empty and ignore changes, answering 200")
				e.noCookie(r, "a skipped request must not set or expire a cookie")
			}
			if n := e.store.calls(); n.total() != 0 {
				e.fail("a skipped request must not touch the store, whatever its handler does with the session", "%v", n)
			}
			r := e.raw("/", query("op", "get", "k", "a"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}})
			e.wantBody(r, "1", "changes made during skipped requests must not reach the stored session")
		},
	},
	{
		name: "PartitionedCookie",
		why:  "Config.Partitioned (CHIPS) must put the Partitioned attribute on the session cookie and on the expiring cookie at logout, byte-identically on every adapter, or an embedded application's browsers drop or mix up its cookie",
		config: func(e *env, c *sess.Config) {
			c.Partitioned = true
			c.SameSite = http.SameSiteNoneMode
		},
		run: func(e *env) {
			c := e.newClient()
			r := c.must("op", "set", "k", "a", "v", "1")
			v := e.issued(r, "a new session's first write sets its cookie")
			name := e.m.CookieName()
			want := name + "=" + v + "; Path=/; HttpOnly; Secure; SameSite=None; Partitioned"
			if lines := e.sessionLines(r); len(lines) != 1 || lines[0] != want {
				e.fail("the session cookie must carry Partitioned, byte-identically", "Set-Cookie %q, want %q", lines, want)
			}
			r = c.must("op", "destroy")
			want = name + "=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Secure; SameSite=None; Partitioned"
			if lines := e.sessionLines(r); len(lines) != 1 || lines[0] != want {
				e.fail("the expiring cookie at logout must carry Partitioned too, or the browser keeps the partitioned cookie", "Set-Cookie %q, want %q", lines, want)
			}
		},
	},
}
