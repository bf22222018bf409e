package conformance

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	sess "github.com/gosess/sess/core"
)

// b64 matches a run of the base64url alphabet.
const b64 = `[A-Za-z0-9_-]`

var defaultLine = regexp.MustCompile(`^sid=` + b64 + `{43}\.` + b64 + `{43}; Path=/; HttpOnly; Secure; SameSite=Lax$`)

var emissionCases = []testCase{
	{
		name: "DefaultCookieShape",
		why:  "every adapter must send the core's Set-Cookie bytes unchanged: with the default config exactly sid=<id>.<mac>; Path=/; HttpOnly; Secure; SameSite=Lax, a 43-character ID and no lifetime",
		run: func(e *env) {
			r := e.newClient().must("op", "set", "k", "a", "v", "1")
			lines := e.sessionLines(r)
			if len(lines) != 1 || !defaultLine.MatchString(lines[0]) {
				e.fail("the default session cookie must be exactly sid=<id>.<mac>; Path=/; HttpOnly; Secure; SameSite=Lax", "%q", lines)
			}
			e.wantCacheHeaders(r)
		},
	},
	{
		name: "CacheHeadersOnEveryCookie",
		why:  "a response that sets the session cookie must not be cached and served to someone else: Vary: Cookie and Cache-Control: no-cache=\"Set-Cookie\" on every such response",
		run: func(e *env) {
			c := e.newClient()
			r := c.must("op", "set", "k", "a", "v", "1")
			e.wantCacheHeaders(r)
			r = c.must("op", "renew")
			e.issued(r, "a renewal sends the new cookie")
			e.wantCacheHeaders(r)
			r = c.must("op", "destroy")
			e.oneCookie(r, "a logout sends one expiring cookie")
			e.wantCacheHeaders(r)
			r = e.newClient().must("op", "stream", "k", "a", "v", "1")
			e.issued(r, "a streamed response sends the cookie")
			e.wantCacheHeaders(r)
		},
	},
	{
		name: "CustomCookieAttributes",
		why:  "the cookie's attributes must follow the Config exactly on every adapter: Path, Domain, SameSite, and a persistent cookie's Max-Age with a matching Expires",
		config: func(e *env, c *sess.Config) {
			c.Path = "/app"
			c.Domain = "conformance.test"
			c.SameSite = http.SameSiteStrictMode
			c.MaxAge = time.Hour
		},
		run: func(e *env) {
			r := e.raw("/app/", query("op", "set", "k", "a", "v", "1"), nil)
			c := e.oneCookie(r, "a new session's first write sets exactly one cookie")
			if c.Path != "/app" || c.Domain != "conformance.test" || c.SameSite != http.SameSiteStrictMode || !c.Secure || !c.HttpOnly {
				e.fail("the cookie's attributes must follow the Config", "%q, want Path=/app, Domain=conformance.test, SameSite=Strict, Secure, HttpOnly", c.Raw)
			}
			if c.MaxAge != 3600 {
				e.fail("a persistent cookie must carry Max-Age = Config.MaxAge", "%q, want Max-Age=3600", c.Raw)
			}
			if want := e.clock.Now().Add(time.Hour); c.Expires.IsZero() || c.Expires.Sub(want).Abs() > time.Second {
				e.fail("a persistent cookie's Expires must agree with its Max-Age", "Expires %v, want %v", c.Expires, want.UTC())
			}
		},
	},
	{
		name: "MaxAgeCappedByAbsoluteTimeout",
		why:  "a persistent cookie must not outlive the session's absolute deadline",
		config: func(e *env, c *sess.Config) {
			c.MaxAge = 10 * time.Hour
			c.IdleTimeout = time.Hour
			c.AbsoluteTimeout = 2 * time.Hour
		},
		run: func(e *env) {
			c := e.oneCookie(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets exactly one cookie")
			// The deadline is kept in milliseconds, so a second may be lost
			// to rounding down; it must never be more than the time left.
			if c.MaxAge != 7200 && c.MaxAge != 7199 {
				e.fail("Max-Age must be capped by the absolute deadline", "%q, want Max-Age=7200 (or 7199 after rounding)", c.Raw)
			}
		},
	},
	{
		name: "HostPrefixCookie",
		why:  "a __Host- cookie name must be emitted as configured, and its case variants must not be recognised (cookie names are case-sensitive)",
		config: func(e *env, c *sess.Config) {
			c.CookieName = "__Host-sid"
		},
		run: func(e *env) {
			c := e.newClient()
			r := c.must("op", "set", "k", "a", "v", "1")
			ck := e.oneCookie(r, "a new session's first write sets exactly one cookie")
			if ck.Path != "/" || ck.Domain != "" || !ck.Secure {
				e.fail("a __Host- cookie needs Path=/, Secure and no Domain", "%q", ck.Raw)
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the __Host- cookie must load the session")
			for _, name := range []string{"__host-sid", "__HOST-sid", "__Host-SID", "sid"} {
				r := e.withCookie(name+"="+ck.Value, "op", "get", "k", "a")
				e.wantBody(r, none, fmt.Sprintf("a cookie named %q must not be taken for %q", name, "__Host-sid"))
			}
		},
	},
	{
		name: "DisabledFlags",
		why:  "DisableHTTPOnly and DisableSecure must drop exactly those attributes and nothing else",
		config: func(e *env, c *sess.Config) {
			c.DisableHTTPOnly = true
			c.DisableSecure = true
		},
		run: func(e *env) {
			c := e.oneCookie(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets exactly one cookie")
			if c.HttpOnly || c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				e.fail("the cookie's attributes must follow the Config", "%q, want Path=/, SameSite=Lax, no HttpOnly, no Secure", c.Raw)
			}
		},
	},
	{
		name: "SameSiteNone",
		why:  "SameSite=None must be emitted with Secure, or browsers drop the cookie",
		config: func(e *env, c *sess.Config) {
			c.SameSite = http.SameSiteNoneMode
		},
		run: func(e *env) {
			c := e.oneCookie(e.newClient().must("op", "set", "k", "a", "v", "1"), "a new session's first write sets exactly one cookie")
			if c.SameSite != http.SameSiteNoneMode || !c.Secure {
				e.fail("SameSite=None must come with Secure", "%q", c.Raw)
			}
		},
	},
	{
		name: "PersistentCookieLifetimeFixedAtIssue",
		why:  "a persistent cookie's lifetime (MaxAge) counts from when it is issued; it is sent with a new session and a renewal, and never re-sent by later writes or reads, which would cost every response a Set-Cookie",
		config: func(e *env, c *sess.Config) {
			c.MaxAge = time.Hour
			c.IdleTimeout = 30 * time.Minute
		},
		run: func(e *env) {
			c := e.newClient()
			first := e.oneCookie(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets exactly one cookie")
			if want := e.clock.Now().Add(time.Hour); first.Expires.Sub(want).Abs() > time.Second || first.MaxAge != 3600 {
				e.fail("a persistent cookie must carry MaxAge from its issue", "%q, want Max-Age=3600 and Expires %v", first.Raw, want.UTC())
			}
			e.clock.Advance(10 * time.Minute)
			e.noCookie(c.must("op", "set", "k", "a", "v", "2"), "a later write does not re-send the cookie")
			e.noCookie(c.must("op", "get", "k", "a"), "a read does not re-send the cookie")
			ck := e.oneCookie(c.must("op", "renew"), "a renewal sends exactly one new cookie")
			if idOf(ck.Value) == idOf(first.Value) || ck.MaxAge != 3600 {
				e.fail("a renewal must issue a new ID with a fresh persistent lifetime", "%q", ck.Raw)
			}
		},
	},
	{
		name: "UUIDv4IDs",
		why:  "Config.GenerateID may issue other ID shapes (sess.UUIDv4 for parity with authx_extra); they must work end to end",
		config: func(e *env, c *sess.Config) {
			c.GenerateID = sess.UUIDv4
		},
		run: func(e *env) {
			c := e.newClient()
			v := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			if len(idOf(v)) != 36 {
				e.fail("the cookie must carry the generated ID", "ID %q, want a 36-character UUID", idOf(v))
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a UUID session must load")
		},
	},
	{
		name: "LongestIDsFit",
		why:  "the longest IDs Config.GenerateID may return (128 characters) must give a cookie browsers keep (at most 4096 bytes) that loads the session",
		config: func(e *env, c *sess.Config) {
			c.GenerateID = func() (string, error) {
				b := randomSecret()
				return strings.Repeat(base64.RawURLEncoding.EncodeToString(b), 4)[:128], nil
			}
		},
		run: func(e *env) {
			c := e.newClient()
			r := c.must("op", "set", "k", "a", "v", "1")
			v := e.issued(r, "a new session's first write sets its cookie")
			if len(idOf(v)) != 128 {
				e.fail("the cookie must carry the generated ID", "ID of %d characters, want 128", len(idOf(v)))
			}
			for _, line := range e.sessionLines(r) {
				if len(line) > 4096 {
					e.fail("a session cookie must fit in 4096 bytes", "%d bytes", len(line))
				}
			}
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a session with a 128-character ID must load")
		},
	},
	{
		name: "CustomCookieName",
		why:  "Config.CookieName must be used both to read and to write the cookie; another cookie with the default name must be ignored",
		config: func(e *env, c *sess.Config) {
			c.CookieName = "app_session"
		},
		run: func(e *env) {
			c := e.newClient()
			v := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets exactly one cookie named by Config.CookieName")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the configured cookie must load the session")
			e.wantBody(e.withCookie("sid="+v, "op", "get", "k", "a"), none, "a cookie under the default name must not load the session")
		},
	},
}
