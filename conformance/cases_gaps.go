package conformance

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	sess "github.com/gosess/sess/core"
)

// noHeaderAdder is the body of the appheaders op for an Exchange that does
// not implement HeaderAdder.
const noHeaderAdder = "<no HeaderAdder>"

// The application's own response headers, which the session's must join
// and never replace.
const (
	appVary         = "Accept-Encoding"
	appCacheControl = "private, max-age=60"
)

// handleMore serves the operations of the cases in this file; done reports
// whether op was one of them.
func (e *env) handleMore(x Exchange, s *sess.Session, op string, q func(string) string) (done bool, err error) {
	switch op {
	case "appheaders":
		ha, ok := x.(HeaderAdder)
		if !ok {
			return true, x.String(http.StatusOK, noHeaderAdder)
		}
		ha.AddHeader("Vary", appVary)
		ha.AddHeader("Cache-Control", appCacheControl)
		x.SetCookie("app", "1")
		s.Set(q("k"), q("v"))
		return true, x.String(http.StatusOK, "ok")
	case "statusonly":
		s.Set(q("k"), q("v"))
		code, _ := strconv.Atoi(q("code"))
		return true, x.String(code, "")
	}
	return false, nil
}

// checkIssuedID checks the ID inside a live session cookie value the
// server issued: with the default generator, 32 random bytes as 43
// base64url characters.
func (e *env) checkIssuedID(value string) {
	e.t.Helper()
	if value == "" || e.cfg.GenerateID != nil {
		return
	}
	id := idOf(value)
	if len(id) != 43 || strings.Trim(id, b64Alphabet) != "" {
		e.fail("every issued session ID must carry the default generator's 256 bits: 43 base64url characters", "ID %q (%d characters) in cookie value %s", truncate(id, 60), len(id), truncate(value, 90))
	}
}

// hostileAfterParse is the Cookie header lines the case
// HostileCookiesAfterFrameworkParse sends, for a cookie name n and a valid
// cookie value v.
func hostileAfterParse(n, v string) []variant {
	return []variant{
		{"valid cookie (control)", []string{n + "=" + v}},
		{"nameless =name=value", []string{"=" + n + "=" + v}},
		{"nameless =name=value after another", []string{"a=1; =" + n + "=" + v}},
		{"nameless =name=value before another", []string{"=" + n + "=" + v + "; a=1"}},
		{"bare value", []string{v}},
		{"bare value after another", []string{"a=1; " + v}},
		{"nameless =value", []string{"=" + v}},
		{"duplicate, valid first", []string{n + "=" + v + "; " + n + "=garbage"}},
		{"duplicate, valid last", []string{n + "=garbage; " + n + "=" + v}},
		{"duplicate, same value", []string{n + "=" + v + "; " + n + "=" + v}},
		{"duplicate on two lines", []string{n + "=garbage", n + "=" + v}},
		{"valid plus nameless garbage", []string{n + "=" + v + "; =" + n + "=garbage"}},
		{"quoted value", []string{n + `="` + v + `"`}},
		{"quoted pair", []string{`"` + n + "=" + v + `"`}},
		{"spaces around =", []string{n + " = " + v}},
		{"space before value", []string{n + "= " + v}},
		{"tab before value", []string{n + "=\t" + v}},
		{"leading and trailing space", []string{"  " + n + "=" + v + "  "}},
		{"space before ;", []string{n + "=" + v + " ; a=1"}},
		{"no space after ;", []string{"a=1;" + n + "=" + v}},
		{"empty pairs", []string{";;" + n + "=" + v + ";;"}},
		{"comma separated", []string{"a=1, " + n + "=" + v}},
		{"two lines", []string{"a=1", n + "=" + v}},
		{"nameless on its own line", []string{"=" + n + "=" + v, "a=1"}},
	}
}

var gapCases = []testCase{
	{
		name: "HostileCookiesAfterFrameworkParse",
		why:  "middleware in front of the session middleware (authentication, CSRF) reads cookies through the framework's API; frameworks that rewrite their view of the Cookie header when they parse it (fasthttp turns \"=sid=<value>\" into \"sid=<value>\") must not change which session a hostile header loads, so the adapter must read the header lines as sent",
		run: func(e *env) {
			if e.opts.cookiesFirst == nil {
				e.t.Skip("needs the CookiesReadFirst option: a mount with a middleware that reads the cookies through the framework's API before the session middleware")
			}
			touched := e.serve(e.opts.cookiesFirst, e.m)
			v := e.victim()
			for _, vr := range hostileAfterParse(e.m.CookieName(), v) {
				h := http.Header{"Cookie": vr.lines}
				plain := e.raw("/", query("op", "get", "k", "probe"), h)
				parsed := e.rawTo(touched, "/", query("op", "get", "k", "probe"), h)
				if plain.err != nil || parsed.err != nil || plain.status != parsed.status || plain.body != parsed.body {
					e.fail("a Cookie header ("+vr.label+") must load the same session whether or not a middleware read the cookies first",
						"without the cookie-reading middleware %s, with it %s, for Cookie lines %q", plain, parsed, vr.lines)
				}
			}
			e.wantBody(e.rawTo(touched, "/", query("op", "get", "k", "probe"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}}), "victim",
				"the cookie-reading mount must load a valid session")
		},
	},
	{
		name: "AppHeadersSurvive",
		why:  "the application's own Vary, Cache-Control and Set-Cookie lines must be kept next to the session's (added, never Set over them), or compression caches and the application's cookies break",
		run: func(e *env) {
			c := e.newClient()
			r := c.do("op", "appheaders", "k", "a", "v", "1")
			if r.err == nil && r.body == noHeaderAdder {
				e.t.Skip("needs an Exchange that implements HeaderAdder")
			}
			if !e.wantBody(r, "ok", "a request that sets application headers must succeed") {
				return
			}
			e.issued(r, "a new session's first write sets its cookie")
			e.wantCacheHeaders(r)
			if !hasToken(r.header, "Vary", appVary) {
				e.fail("the application's Vary: "+appVary+" must survive next to the session's Vary: Cookie", "Vary = %q", r.header.Values("Vary"))
			}
			if !hasToken(r.header, "Cache-Control", "private") || !hasToken(r.header, "Cache-Control", "max-age=60") {
				e.fail("the application's Cache-Control: "+appCacheControl+" must survive next to the session's directives", "Cache-Control = %q", r.header.Values("Cache-Control"))
			}
			if !hasAppCookie(r) {
				e.fail("the application's own Set-Cookie must survive next to the session cookie", "Set-Cookie = %q", r.setCookies())
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the session must be saved")
		},
	},
	{
		name: "StatusOnlyResponses",
		why:  "a handler that sets a status and writes no body (204 after an API call, 304, an error status) must commit with that status: the cookie goes out with 2xx/3xx, and a 5xx saves nothing",
		run: func(e *env) {
			for _, code := range []int{http.StatusNoContent, http.StatusNotModified, http.StatusAccepted} {
				c := e.newClient()
				r := c.do("op", "statusonly", "code", strconv.Itoa(code), "k", "a", "v", "1")
				e.wantStatus(r, code, "the handler's status must pass through")
				e.issued(r, fmt.Sprintf("a bodiless %d response must carry the session cookie", code))
				e.wantBody(c.do("op", "get", "k", "a"), "1", fmt.Sprintf("the session of a bodiless %d response must be saved", code))
			}
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			for _, code := range []int{500, 503} {
				r := c.do("op", "statusonly", "code", strconv.Itoa(code), "k", "a", "v", "2")
				e.wantStatus(r, code, "the handler's status must pass through")
				e.noCookie(r, "a bodiless 5xx response must not set the session cookie")
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a bodiless 5xx response must not change the stored session")
			e.store.reset()
			r := e.newClient().do("op", "statusonly", "code", "500", "k", "a", "v", "2")
			e.wantStatus(r, 500, "the handler's status must pass through")
			e.noCookie(r, "a bodiless 5xx response must not set the session cookie")
			e.wantNothingCreated("a bodiless 5xx response must not create a session")
		},
	},
	{
		name: "FailedCommitAnswersOnlyTheErrorResponse",
		why:  "when the commit fails the client gets the error response and nothing of the handler's: its cookies would act on a request that failed, and its cache headers would let a shared cache keep the error",
		run: func(e *env) {
			e.store.fail(opWrite, errInjected, "")
			r := e.newClient().do("op", "appheaders", "k", "a", "v", "1")
			if r.err == nil && r.body == noHeaderAdder {
				r = e.newClient().do("op", "appcookie", "k", "a", "v", "1")
			}
			e.wantErrorResponse(r, errStoreDown)
			if hasAppCookie(r) {
				e.fail("a failed commit's error response must not carry the handler's cookies", "Set-Cookie = %q", r.setCookies())
			}
			if hasToken(r.header, "Vary", appVary) || hasToken(r.header, "Cache-Control", "private") || hasToken(r.header, "Cache-Control", "max-age=60") {
				e.fail("a failed commit's error response must not carry the handler's headers", "Vary = %q, Cache-Control = %q", r.header.Values("Vary"), r.header.Values("Cache-Control"))
			}
			e.wantNothingCreated("a failed commit must store nothing")
		},
	},
	{
		name: "CommitBeforeBodyThroughSwappedWriter",
		why:  "a middleware that swaps the response writer (gzip) between the session middleware and the handler must not move the commit after the first byte: the cookie is still sent and the session saved, for whole and streamed bodies",
		run: func(e *env) {
			if e.opts.writerSwapped == nil {
				e.t.Skip("needs the WriterSwapped option: a mount with a writer-swapping (gzip) middleware around the handler")
			}
			srv := e.serve(e.opts.writerSwapped, e.m)
			c := e.clientFor(srv)
			r := c.do("op", "set", "k", "a", "v", "1")
			if e.wantBody(r, none, "a write through the swapped writer must succeed") {
				e.issued(r, "the session cookie must be set before the body is written, through a swapped writer too")
				if !r.gzipped {
					e.fail("the WriterSwapped mount must swap the writer for a compressing one", "the response to a client that accepts gzip came uncompressed")
				}
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the session written through a swapped writer must be saved")
			c = e.clientFor(srv)
			r = c.do("op", "stream", "k", "a", "v", "2")
			if r.err != nil || r.status != http.StatusOK || r.body != "chunk 1\nchunk 2\nchunk 3\n" {
				e.fail("a streamed response through a swapped writer must arrive whole", "%s", r)
			}
			e.issued(r, "the session cookie must be set before the first streamed chunk, through a swapped writer too")
			e.wantBody(c.do("op", "get", "k", "a"), "2", "the session of a streamed response through a swapped writer must be saved")
		},
	},
	{
		name: "IssuedIDsFullEntropy",
		why:  "session IDs are the only secret a session has: every issued ID must be the generator's whole 256 bits (43 base64url characters with the default generator), all distinct, so an adapter or core that truncates or reuses IDs fails",
		run: func(e *env) {
			const n = 200
			seen := make(map[string]bool, n)
			for range n {
				v := e.issued(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
				id := idOf(v)
				if seen[id] {
					e.fatal("every issued session ID must be distinct", "ID %s issued twice in %d new sessions", short(id), len(seen)+1)
				}
				seen[id] = true
			}
		},
	},
}

// hasAppCookie reports whether the response sets the application's own
// cookie app=1.
func hasAppCookie(r *result) bool {
	for _, line := range r.setCookies() {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == "app" && c.Value == "1" {
			return true
		}
	}
	return false
}
