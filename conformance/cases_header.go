package conformance

import (
	"net/http"
	"slices"
	"strings"

	sess "github.com/gosess/sess/core"
)

// tokenHeader is the Config.TokenHeader of the header transport cases.
const tokenHeader = "Session-Token"

var headerCases = []testCase{
	{
		name: "HeaderTransport",
		why:  "an API client that cannot keep cookies carries the signed value in Config.TokenHeader: it must get the value on create and renew, be recognised by it with the cookie's strictness (forged values, a value in the URL and two different sessions are all refused), and be told of a logout; every such response varies on the header so no cache mixes two clients",
		config: func(e *env, c *sess.Config) {
			c.TokenHeader = tokenHeader
		},
		run: func(e *env) {
			tok := func(r *result) string {
				if r.header == nil {
					return ""
				}
				return r.header.Get(tokenHeader)
			}
			varies := func(r *result, when string) {
				e.t.Helper()
				var vary []string
				for _, v := range r.header.Values("Vary") {
					for f := range strings.SplitSeq(v, ",") {
						vary = append(vary, http.CanonicalHeaderKey(strings.TrimSpace(f)))
					}
				}
				if !slices.Contains(vary, tokenHeader) {
					e.fail("a response that sends "+tokenHeader+" must vary on it", "%s: Vary %q", when, vary)
				}
			}
			send := func(token string, pairs ...string) *result {
				return e.raw("/", query(pairs...), http.Header{tokenHeader: {token}})
			}

			// Create: the token header carries the cookie's value.
			r := e.raw("/", query("op", "set", "k", "a", "v", "1"), nil)
			v := e.issued(r, "a new session sends its cookie")
			if tok(r) != v {
				e.fatal("a new session sends its value in "+tokenHeader, "%s %q, cookie value %q", tokenHeader, tok(r), v)
			}
			varies(r, "create")

			// Load by header alone; nothing is re-issued.
			r = send(v, "op", "get", "k", "a")
			e.wantBody(r, "1", "the token header alone reaches the session")
			e.noCookie(r, "a session reached by its token gets no new cookie")
			if tok(r) != "" {
				e.fail("an unchanged session is not re-issued", "%s %q", tokenHeader, tok(r))
			}

			// Forged, truncated, in the URL: never adopted.
			for label, bad := range map[string]string{
				"flipped MAC": flip(v, len(v)-2), "flipped ID": flip(v, 3),
				"ID alone": idOf(v), "with a Bearer prefix": "Bearer " + v,
			} {
				r = send(bad, "op", "get", "k", "a")
				e.wantBody(r, none, "a "+label+" token must give an empty session")
			}
			r = e.raw("/", query("op", "get", "k", "a", tokenHeader, v, e.m.CookieName(), v), nil)
			e.wantBody(r, none, "a session value in the URL query is never used")

			// Cookie and header naming two different sessions: neither.
			other := e.issued(e.raw("/", query("op", "set", "k", "a", "v", "2"), nil), "a second session")
			r = e.raw("/", query("op", "get", "k", "a"), http.Header{
				tokenHeader: {other}, "Cookie": {e.m.CookieName() + "=" + v}})
			e.wantBody(r, none, "a cookie and a token of different sessions must give an empty session")
			r = e.raw("/", query("op", "get", "k", "a"), http.Header{
				tokenHeader: {v}, "Cookie": {e.m.CookieName() + "=" + v}})
			e.wantBody(r, "1", "a cookie and a token of the same session reach it")

			// Renew by header: a new value, the old one dead.
			r = send(v, "op", "renew")
			nv := tok(r)
			if nv == "" || idOf(nv) == idOf(v) {
				e.fatal("a renewal sends the new value in "+tokenHeader, "%s %q (old %q)", tokenHeader, nv, v)
			}
			varies(r, "renew")
			e.wantBody(send(v, "op", "get", "k", "a"), none, "the token replaced by a renewal is dead")
			e.wantBody(send(nv, "op", "get", "k", "a"), "1", "the renewed token keeps the data")

			// Logout by header: told so, record gone.
			r = send(nv, "op", "destroy")
			if tok(r) != sess.HeaderExpired {
				e.fail("a logout sends "+tokenHeader+": "+sess.HeaderExpired, "%s %q", tokenHeader, tok(r))
			}
			varies(r, "destroy")
			e.wantNoRecord(idOf(nv), "logout by token deletes the record")
			e.wantBody(send(nv, "op", "get", "k", "a"), none, "a logged-out token is dead")
		},
	},
	{
		name: "HeaderBearerCookieless",
		why:  "a pure API server (TokenHeader Authorization, DisableCookie) must read the session only from Authorization: Bearer, send issued values in Session-Token and never a cookie, and keep shared caches from storing the value",
		config: func(e *env, c *sess.Config) {
			c.TokenHeader = "Authorization"
			c.DisableCookie = true
		},
		run: func(e *env) {
			const resp = sess.DefaultTokenResponseHeader
			tok := func(r *result) string {
				if r.header == nil {
					return ""
				}
				return r.header.Get(resp)
			}
			guarded := func(r *result, when string) {
				e.t.Helper()
				if len(r.setCookies()) != 0 {
					e.fail("with DisableCookie no response sets a cookie", "%s: Set-Cookie %q", when, r.setCookies())
				}
				if !slices.Contains(r.header.Values("Cache-Control"), `no-cache="`+resp+`"`) {
					e.fail("a response that issues a token must keep shared caches from handing it to another client", "%s: Cache-Control %q", when, r.header.Values("Cache-Control"))
				}
				if !slices.ContainsFunc(r.header.Values("Vary"), func(v string) bool { return strings.Contains(strings.ToLower(v), "authorization") }) {
					e.fail("a response that depends on Authorization must vary on it", "%s: Vary %q", when, r.header.Values("Vary"))
				}
			}
			bearer := func(token string, pairs ...string) *result {
				return e.raw("/", query(pairs...), http.Header{"Authorization": {"Bearer " + token}})
			}
			r := e.raw("/", query("op", "set", "k", "a", "v", "1"), nil)
			v := tok(r)
			if v == "" {
				e.fatal("a new session sends its value in "+resp, "%s", r)
			}
			guarded(r, "create")
			e.wantBody(bearer(v, "op", "get", "k", "a"), "1", "Authorization: Bearer reaches the session")
			e.wantBody(e.raw("/", query("op", "get", "k", "a"), http.Header{"Authorization": {"Basic " + v}}), none, "another Authorization scheme is not a session")
			e.wantBody(e.raw("/", query("op", "get", "k", "a"), http.Header{"Cookie": {e.m.CookieName() + "=" + v}}), none, "with DisableCookie a cookie is not a session")
			e.wantBody(bearer(flip(v, len(v)-2), "op", "get", "k", "a"), none, "a forged bearer token gives an empty session")
			r = bearer(v, "op", "renew")
			nv := tok(r)
			if nv == "" || idOf(nv) == idOf(v) {
				e.fatal("a renewal sends the new value in "+resp, "%s %q (old %q)", resp, nv, v)
			}
			guarded(r, "renew")
			e.wantBody(bearer(v, "op", "get", "k", "a"), none, "the token replaced by a renewal is dead")
			r = bearer(nv, "op", "destroy")
			if tok(r) != sess.HeaderExpired {
				e.fail("a logout sends "+resp+": "+sess.HeaderExpired, "%s %q", resp, tok(r))
			}
			guarded(r, "destroy")
			e.wantBody(bearer(nv, "op", "get", "k", "a"), none, "a logged-out token is dead")
		},
	},
}
