package conformance

import (
	"fmt"
	"net/http"
	"net/url"
	"time"

	sess "github.com/gosess/sess/core"
)

var lifecycleCases = []testCase{
	{
		name: "Counter",
		why:  "the seed example: a counter kept in the session counts 1, 2, 3 across one client's requests, with one stable session cookie",
		run: func(e *env) {
			c := e.newClient()
			var id string
			for i := 1; i <= 3; i++ {
				r := c.do("op", "counter")
				if !e.wantBody(r, fmt.Sprintf(`{"test_counter": %d}`, i), "a session counter must count up across requests") {
					return
				}
				cs := e.sessionCookies(r)
				switch {
				case i == 1:
					id = idOf(e.issued(r, "the first write of a new session must set exactly one session cookie"))
				case len(cs) > 1:
					e.fail("a response sets the session cookie at most once", "%q", e.sessionLines(r))
				case len(cs) == 1 && idOf(cs[0].Value) != id:
					e.fail("the session ID must stay stable across writes", "request %d set ID %s, first was %s", i, short(idOf(cs[0].Value)), short(id))
				}
			}
			e.wantRecord(id, "a written session must be in the store")
		},
	},
	{
		name: "UntouchedSessionSetsNoCookie",
		why:  "a request that never uses its session must cost no store call and plant no cookie (no session per anonymous visitor, no cookie for crawlers and caches)",
		run: func(e *env) {
			e.store.reset()
			r := e.newClient().do("op", "noop")
			e.wantBody(r, "noop", "the handler's response must pass through unchanged")
			e.noCookie(r, "a session never touched must not set a cookie")
			if n := e.store.calls(); n.total() != 0 {
				e.fail("a request without a session cookie that never touches the session must not call the store", "%v", n)
			}
		},
	},
	{
		name: "ReadOnlyNewVisitorStoresNothing",
		why:  "reading from a new visitor's empty session must not create a record or a cookie, or every anonymous hit fills the store",
		run: func(e *env) {
			e.store.reset()
			r := e.newClient().do("op", "get", "k", "cart")
			e.wantBody(r, none, "a new visitor's session is empty")
			e.noCookie(r, "a session only read must not set a cookie")
			if n := e.store.calls(); n[opWrite] != 0 {
				e.fail("a session only read must not be written", "%v", n)
			}
			e.wantNothingCreated("a session only read must not be stored")
		},
	},
	{
		name: "DataPersistsAcrossRequests",
		why:  "values set in one request must be there in the next, and Pop must remove what it returns",
		run: func(e *env) {
			c := e.newClient()
			e.wantBody(c.must("op", "set", "k", "a", "v", "1"), none, "a new session is empty")
			e.wantBody(c.must("op", "set", "k", "b", "v", "2"), none, "an unset key is missing")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a value set earlier must be readable")
			e.wantBody(c.do("op", "keys"), "a,b", "every key set earlier must be there")
			e.wantBody(c.do("op", "pop", "k", "a"), "1", "Pop must return the stored value")
			e.wantBody(c.do("op", "pop", "k", "a"), none, "Pop must delete the value it returned")
			e.wantBody(c.do("op", "get", "k", "b"), "2", "Pop must leave other keys alone")
			e.wantBody(c.do("op", "state"), "new=false len=1", "a loaded session is not new")
		},
	},
	{
		name: "RenewRotatesID",
		why:  "after a login the session must move to a new ID and the old cookie must be dead, or an attacker who planted or saw the old ID owns the logged-in session (session fixation)",
		run: func(e *env) {
			c := e.newClient()
			old := e.issued(c.must("op", "set", "k", "cart", "v", "apple"), "a new session's first write sets its cookie")
			r := c.must("op", "renew", "k", "user", "v", "alice")
			nv := e.issued(r, "a renewed session must send its new cookie")
			if idOf(nv) == idOf(old) {
				e.fatal("Renew must change the session ID", "ID unchanged after Renew")
			}
			e.wantNoRecord(idOf(old), "the old ID's record must be deleted by Renew")
			e.wantRecord(idOf(nv), "the new ID must hold the session")
			e.wantBody(c.do("op", "get", "k", "cart"), "apple", "Renew must keep the session's data")
			e.wantBody(c.do("op", "get", "k", "user"), "alice", "changes made with Renew must be saved")
			r = e.session(old, "op", "get", "k", "cart")
			e.wantBody(r, none, "a replayed pre-renewal cookie must give an empty session")
			e.noCookie(r, "a replayed dead cookie must not get a cookie on a read")
		},
	},
	{
		name: "FixationDefeated",
		why:  "an attacker who plants their own valid cookie in a victim's browser must not share the victim's session after the victim logs in",
		run: func(e *env) {
			attacker := e.newClient()
			planted := e.issued(attacker.must("op", "set", "k", "mark", "v", "attacker"), "a new session's first write sets its cookie")
			victim := e.newClient()
			u, _ := url.Parse(e.srv.URL)
			victim.hc.Jar.SetCookies(u, []*http.Cookie{{Name: e.m.CookieName(), Value: planted, Path: "/"}})
			r := victim.must("op", "renew", "k", "user", "v", "victim")
			got := e.issued(r, "a login (Renew) must send a new session cookie")
			if idOf(got) == idOf(planted) {
				e.fatal("a login must move the session to a new ID", "the victim still uses the planted ID")
			}
			r = attacker.do("op", "get", "k", "user")
			e.wantBody(r, none, "the attacker's planted cookie must not see the victim's login")
			e.wantBody(victim.do("op", "get", "k", "user"), "victim", "the victim stays logged in on the new ID")
		},
	},
	{
		name: "DestroyExpiresCookie",
		why:  "logout must delete the record and expire the cookie with the same name, Path, Domain and flags, or the browser keeps a cookie the server still honours",
		config: func(e *env, c *sess.Config) {
			c.Path = "/app"
			c.Domain = "conformance.test"
			c.SameSite = http.SameSiteStrictMode
		},
		run: func(e *env) {
			r := e.raw("/app/login", query("op", "set", "k", "user", "v", "alice"), nil)
			v := e.issued(r, "a new session's first write sets its cookie")
			r = e.raw("/app/logout", query("op", "destroy"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}})
			e.wantBody(r, "destroyed", "logout must succeed")
			c := e.oneCookie(r, "logout must send exactly one Set-Cookie that expires the session cookie")
			now := e.clock.Now()
			if c.Value != "" || !(c.MaxAge < 0 || !c.Expires.IsZero() && c.Expires.Before(now)) {
				e.fail("logout must expire the session cookie", "%q, want an empty value with Max-Age=0 or a past Expires", c.Raw)
			}
			if c.Path != "/app" || c.Domain != "conformance.test" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				e.fail("the expiring cookie must mirror the session cookie's attributes", "%q, want Path=/app, Domain=conformance.test, Secure, HttpOnly, SameSite=Strict", c.Raw)
			}
			e.wantCacheHeaders(r)
			e.wantNoRecord(idOf(v), "logout must delete the session record")
			r = e.raw("/app/", query("op", "get", "k", "user"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}})
			e.wantBody(r, none, "a replayed cookie after logout must give an empty session")
			e.noCookie(r, "a replayed dead cookie must not get a cookie on a read")
			r = e.raw("/app/logout", query("op", "destroy"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}})
			e.wantBody(r, "destroyed", "a second logout with the dead cookie must succeed")
			e.noCookie(r, "a second logout must not issue a new session")
		},
	},
	{
		name: "DestroyThenSet",
		why:  "a Set after Destroy in one request must start a new session under a new ID and never recreate the destroyed one",
		run: func(e *env) {
			c := e.newClient()
			old := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			r := c.must("op", "destroyset", "k", "b", "v", "2")
			nv := e.issued(r, "Destroy then Set must send exactly one cookie, for the new session")
			if idOf(nv) == idOf(old) {
				e.fail("Destroy then Set must use a new ID", "the destroyed ID was reused")
			}
			e.wantNoRecord(idOf(old), "the destroyed session must not be recreated")
			e.wantBody(c.do("op", "get", "k", "b"), "2", "the new session holds the value set after Destroy")
			e.wantBody(c.do("op", "get", "k", "a"), none, "the new session must not inherit destroyed data")
		},
	},
	{
		name: "SetRenewSetOneCookie",
		why:  "a response must carry exactly one session cookie, with the final ID, however often the handler changes the session; two lines leave the browser with whichever it applies last",
		run: func(e *env) {
			c := e.newClient()
			r := c.must("op", "setrenewset", "k", "a", "v", "1", "k2", "b", "v2", "2")
			first := e.issued(r, "a new session's response must carry exactly one session cookie")
			r = c.must("op", "setrenewset", "k", "c", "v", "3", "k2", "d", "v2", "4")
			final := e.issued(r, "Set, Renew, Set on a stored session must give exactly one session cookie")
			if idOf(final) == idOf(first) {
				e.fail("Renew must change the ID", "ID unchanged")
			}
			e.wantRecord(idOf(final), "the cookie must carry the ID that holds the data")
			e.wantNoRecord(idOf(first), "the pre-renewal ID must be gone")
			e.wantBody(c.do("op", "keys"), "a,b,c,d", "every change of the request must be saved under the final ID")
		},
	},
	{
		name: "InternalLookingKeys",
		why:  "keys that look like bookkeeping fields must be plain data and must not change the session's lifetime or version",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "__expires", "v", "0", "k2", "__version", "v2", "0")
			c.must("op", "set", "k", "__created", "v", "1970", "k2", "__absolute", "v2", "0")
			e.clock.Advance(time.Minute)
			e.wantBody(c.do("op", "get", "k", "__expires"), "0", "any key must round-trip")
			e.wantBody(c.do("op", "keys"), "__absolute,__created,__expires,__version", "any key must round-trip")
		},
	},
}

var requestCases = []testCase{
	{
		name: "EveryMethodAndPath",
		why:  "the middleware must handle sessions for every method and path the app serves, including HEAD, whose response has headers but no body",
		run: func(e *env) {
			r := e.request(e.srv, http.MethodPost, "/login", query("op", "set", "k", "a", "v", "1"), nil, "x=1")
			v := e.issued(r, "a POST that writes the session sets its cookie")
			h := http.Header{"Cookie": {e.m.CookieName() + "=" + v}}
			for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
				r := e.request(e.srv, method, "/deep/nested/path/", query("op", "get", "k", "a"), h, "")
				e.wantBody(r, "1", "a "+method+" request must load the session")
			}
			r = e.request(e.srv, http.MethodHead, "/", query("op", "set", "k", "b", "v", "2"), nil, "")
			e.wantStatus(r, http.StatusOK, "a HEAD request is served")
			if hv := e.issued(r, "a HEAD response that writes the session carries its cookie"); hv != "" {
				e.wantBody(e.session(hv, "op", "get", "k", "b"), "2", "a HEAD request's session is saved")
			}
		},
	},
	{
		name: "DestroyWithoutSession",
		why:  "a logout from a visitor without a session must succeed without a store call and without a cookie",
		run: func(e *env) {
			e.store.reset()
			r := e.newClient().do("op", "destroy")
			e.wantBody(r, "destroyed", "a logout without a session must succeed")
			e.noCookie(r, "a logout without a session sets no cookie")
			if n := e.store.calls(); n.total() != 0 {
				e.fail("a logout without a session must not call the store", "%v", n)
			}
		},
	},
}

var commitCases = []testCase{
	{
		name: "CommitBeforeBodyWrite",
		why:  "adapters must commit before the first byte of the response: a cookie added after the body is written never reaches the client",
		run: func(e *env) {
			c := e.newClient()
			r := c.do("op", "set", "k", "a", "v", "1")
			e.wantBody(r, none, "the handler's response must pass through")
			v := e.issued(r, "the session cookie must be set before the body is written")
			e.wantRecord(idOf(v), "the session must be stored when its cookie is sent")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the value must be readable with the cookie")
		},
	},
	{
		name: "CommitWhenHandlerWritesNothing",
		why:  "a handler that changes the session and writes no response at all must still get its session saved and its cookie sent (gin and echo skip write hooks in this case)",
		run: func(e *env) {
			c := e.newClient()
			r := c.do("op", "setnowrite", "k", "a", "v", "1")
			e.wantStatus(r, http.StatusOK, "a handler that writes nothing answers 200")
			e.issued(r, "the session cookie must be set when the handler writes nothing")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the session must be saved when the handler writes nothing")
		},
	},
	{
		name: "CommitWhenStreaming",
		why:  "a streaming handler flushes before it returns: the commit must happen before the first flush, or the cookie is lost",
		run: func(e *env) {
			c := e.newClient()
			r := c.do("op", "stream", "k", "a", "v", "1")
			e.wantBody(r, "chunk 1\nchunk 2\nchunk 3\n", "the streamed body must arrive whole")
			e.issued(r, "the session cookie must be in the headers of a streamed response")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a streaming handler's session must be saved")
		},
	},
	{
		name: "HandlerErrorSavesNothing",
		why:  "a handler that fails must leave the session as it was: half-done changes of a failed request must not be saved",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.store.reset()
			r := c.do("op", "error", "k", "a", "v", "2")
			e.wantStatus(r, http.StatusInternalServerError, "a handler error must reach the framework's error path (500)")
			e.noCookie(r, "a failed request must not set the session cookie")
			if n := e.store.calls(); n[opWrite] != 0 {
				e.fail("a failed request must not write the session", "%v", n)
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a failed request must not change the stored session")
			e.store.reset()
			r = e.newClient().do("op", "error", "k", "a", "v", "2")
			e.noCookie(r, "a failed request must not set the session cookie")
			e.wantNothingCreated("a failed request must not create a session")
		},
	},
	{
		name: "ServerErrorSavesNothing",
		why:  "a 5xx response means the request failed: by default its session changes are dropped",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			for _, code := range []int{500, 503} {
				r := c.do("op", "status", "code", fmt.Sprint(code), "k", "a", "v", "2")
				e.wantStatus(r, code, "the handler's status must pass through")
				e.noCookie(r, "a 5xx response must not set the session cookie")
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a 5xx response must not change the stored session")
			e.store.reset()
			r := e.newClient().do("op", "status", "code", "500", "k", "a", "v", "2")
			e.noCookie(r, "a 5xx response must not set the session cookie")
			e.wantNothingCreated("a 5xx response must not create a session")
		},
	},
	{
		name: "SaveOnServerError",
		why:  "with SaveOnServerError the adapter must hand the real status to Commit and the changes of a 5xx response are saved with their cookie",
		config: func(e *env, c *sess.Config) {
			c.SaveOnServerError = true
		},
		run: func(e *env) {
			c := e.newClient()
			r := c.do("op", "status", "code", "500", "k", "a", "v", "1")
			e.wantStatus(r, http.StatusInternalServerError, "the handler's status must pass through")
			e.issued(r, "with SaveOnServerError a 5xx response sets the cookie")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "with SaveOnServerError a 5xx response saves the session")
		},
	},
	{
		name: "StatusPassesThrough",
		why:  "non-200 responses such as a redirect after login must carry the session cookie with the handler's own status",
		run: func(e *env) {
			for _, code := range []int{201, 303, 404} {
				c := e.newClient()
				r := c.do("op", "status", "code", fmt.Sprint(code), "k", "a", "v", "1")
				e.wantStatus(r, code, "the handler's status must pass through")
				e.issued(r, fmt.Sprintf("a %d response must carry the session cookie", code))
				e.wantBody(c.do("op", "get", "k", "a"), "1", "the session of a non-200 response must be saved")
			}
		},
	},
	{
		name: "PanicSavesNothing",
		why:  "a handler that panics must leave the session as it was; the panic belongs to the framework's recovery, not to the adapter",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.store.reset()
			r := c.do("op", "panic", "k", "a", "v", "2")
			if r.err == nil && r.status < 500 {
				e.fail("a panicking handler must not produce a successful response", "%s", r)
			}
			if r.err == nil {
				e.noCookie(r, "a panicking request must not set the session cookie")
			}
			if n := e.store.calls(); n[opWrite] != 0 {
				e.fail("a panicking request must not write the session", "%v", n)
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a panicking request must not change the stored session")
			e.store.reset()
			r = e.newClient().do("op", "panic", "k", "a", "v", "2")
			if r.err == nil {
				e.noCookie(r, "a panicking request must not set the session cookie")
			}
			e.wantNothingCreated("a panicking request must not create a session")
		},
	},
	{
		name: "AppCookiesSurvive",
		why:  "the application's own Set-Cookie lines must survive next to the session cookie, each on its own line: folding lines with commas corrupts every cookie",
		run: func(e *env) {
			c := e.newClient()
			r := c.do("op", "appcookie", "k", "a", "v", "1")
			e.wantBody(r, "ok", "the handler's response must pass through")
			lines := r.setCookies()
			if len(lines) != 3 {
				e.fail("each Set-Cookie must be its own header line", "%d Set-Cookie lines %q, want 3 (app, app2 and the session)", len(lines), lines)
			}
			want := map[string]string{"app": "1", "app2": "2"}
			for _, line := range lines {
				ck, err := http.ParseSetCookie(line)
				if err != nil {
					e.fail("each Set-Cookie must be its own header line", "unparsable line %q: %v", line, err)
					continue
				}
				if w, ok := want[ck.Name]; ok {
					if ck.Value != w || ck.Path != "/" {
						e.fail("the application's cookies must reach the client unchanged", "%q, want %s=%s; Path=/", line, ck.Name, w)
					}
					delete(want, ck.Name)
				}
			}
			if len(want) > 0 {
				e.fail("the application's cookies must reach the client", "missing %v in %q", want, lines)
			}
			e.issued(r, "the session cookie must be sent next to the application's cookies")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the session must be saved")
		},
	},
	{
		name: "LateChangeOnStoredSession",
		why:  "a change made after the body was written to a session that already has its cookie needs no header and must still be saved",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			r := c.do("op", "bodyfirst", "k", "b", "v", "2")
			e.wantBody(r, "body", "the handler's response must pass through")
			e.wantBody(c.do("op", "get", "k", "b"), "2", "a late change to a stored session must be saved after the handler returns")
		},
	},
	{
		name: "LateChangeOnNewSession",
		why:  "a new session changed after its response started cannot get a cookie any more; then nothing may be stored (an orphan record nobody can reach), and if the framework buffers the response the cookie and the record must agree",
		run: func(e *env) {
			e.store.reset()
			r := e.newClient().do("op", "bodyfirst", "k", "b", "v", "2")
			e.wantBody(r, "body", "the handler's response must pass through")
			if cs := e.sessionCookies(r); len(cs) > 0 {
				v := e.issued(r, "a buffered late change sets exactly one cookie")
				e.wantBody(e.session(v, "op", "get", "k", "b"), "2", "a cookie sent for a late change must hold that change")
				return
			}
			e.wantNothingCreated("a late change that got no cookie must leave no record behind")
		},
	},
}

// wantCacheHeaders checks the caching headers of a response that sets the
// session cookie.
func (e *env) wantCacheHeaders(r *result) {
	e.t.Helper()
	if !hasToken(r.header, "Vary", "Cookie") {
		e.fail("a response that sets the session cookie must carry Vary: Cookie", "Vary = %q", r.header.Values("Vary"))
	}
	if !hasToken(r.header, "Cache-Control", `no-cache="Set-Cookie"`) && !hasToken(r.header, "Cache-Control", "no-store") {
		e.fail(`a response that sets the session cookie must carry Cache-Control: no-cache="Set-Cookie"`, "Cache-Control = %q", r.header.Values("Cache-Control"))
	}
}
