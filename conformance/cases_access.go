package conformance

import (
	"net/http"

	sess "github.com/gosess/sess/core"
)

var accessCases = []testCase{
	{
		name: "ContextAndAccessorAgree",
		why:  "handlers and libraries reach the session through the adapter's accessor, the framework's bag and sess.FromContext; all must give the same session or changes made through one are lost through another",
		run: func(e *env) {
			c := e.newClient()
			e.wantBody(c.do("op", "same"), "ok", "every accessor must return the same session")
			e.wantBody(c.do("op", "same"), "ok", "every accessor must return the same session for a loaded session")
			e.wantBody(c.do("op", "get", "k", "same"), "yes", "a change made through any accessor must be saved")
		},
	},
	{
		name: "CustomObjectName",
		why:  "Config.ObjectName names the key of the session in the framework's per-request bag; adapters must use it rather than a fixed key",
		config: func(e *env, c *sess.Config) {
			c.ObjectName = "conformance_session"
		},
		run: func(e *env) {
			c := e.newClient()
			e.wantBody(c.do("op", "same"), "ok", "the bag must hold the session under the configured ObjectName")
			e.wantBody(c.do("op", "get", "k", "same"), "yes", "a change made through any accessor must be saved")
		},
	},
	{
		name: "SkipHeaderExact",
		why:  "a request with a configured skip header and value must run without any session handling: an inert session, no store call, no cookie (health checks, internal calls)",
		config: func(e *env, c *sess.Config) {
			c.SkipHeaders = []sess.SkipHeader{{Name: "X-Skip-Session", Value: "1"}}
		},
		run: func(e *env) {
			v := e.issued(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			e.store.reset()
			r := e.raw("/", query("op", "skip"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}, "X-Skip-Session": {"1"}})
			e.wantSkipped(r)
			r = e.raw("/", query("op", "set", "k", "b", "v", "2"), http.Header{"X-Skip-Session": {"1"}})
			e.wantBody(r, none, "a skipped request's session must read empty")
			e.noCookie(r, "a skipped request must not set a cookie")
			r = e.raw("/", query("op", "get", "k", "a"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}, "X-Skip-Session": {"2"}})
			e.wantBody(r, "1", "a skip header with another value must not skip")
		},
	},
	{
		name: "SkipHeaderAnyValue",
		why:  `a skip header configured with value "*" or "" must skip whatever its value`,
		config: func(e *env, c *sess.Config) {
			c.SkipHeaders = []sess.SkipHeader{{Name: "X-Internal", Value: "*"}, {Name: "X-Probe"}}
		},
		run: func(e *env) {
			e.store.reset()
			for _, h := range []http.Header{{"X-Internal": {"anything"}}, {"X-Probe": {"yes"}}, {"x-probe": {"lower-case name"}}} {
				e.wantSkipped(e.raw("/", query("op", "skip"), h))
			}
			e.issued(e.raw("/", query("op", "set", "k", "a", "v", "1"), nil), "a request without a skip header must have a working session")
		},
	},
	{
		name: "SkipHeadersSeveral",
		why:  "every configured skip header must work, not only the first",
		config: func(e *env, c *sess.Config) {
			c.SkipHeaders = []sess.SkipHeader{{Name: "X-A", Value: "a"}, {Name: "X-B", Value: "b"}, {Name: "X-C", Value: "*"}}
		},
		run: func(e *env) {
			e.store.reset()
			for _, h := range []http.Header{{"X-A": {"a"}}, {"X-B": {"b"}}, {"X-C": {"c"}}} {
				e.wantSkipped(e.raw("/", query("op", "skip"), h))
			}
			r := e.raw("/", query("op", "set", "k", "a", "v", "1"), http.Header{"X-A": {"b"}, "X-B": {"a"}})
			e.issued(r, "skip headers with other values must not skip")
		},
	},
}

// wantSkipped checks a response to op=skip sent with a skip header.
func (e *env) wantSkipped(r *result) {
	e.t.Helper()
	e.wantBody(r, "session=true context=true", "a skipped request must run the handler with an inert session, in the accessor and in the context, never nil")
	e.noCookie(r, "a skipped request must not set a cookie")
	if n := e.store.calls(); n.total() != 0 {
		e.fail("a skipped request must not touch the store", "%v", n)
	}
}
