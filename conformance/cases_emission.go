package conformance

import (
	"fmt"
	"net/http"
	"regexp"
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
