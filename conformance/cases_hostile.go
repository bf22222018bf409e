package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	sess "github.com/gosess/sess/core"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// victim creates a session holding probe=victim and returns its cookie
// value.
func (e *env) victim() string {
	e.t.Helper()
	return e.issued(e.newClient().must("op", "set", "k", "probe", "v", "victim"), "a new session's first write sets its cookie")
}

// variant is one hostile cookie header shape.
type variant struct {
	label string
	lines []string // Cookie header lines
}

func sidVariants(name string, values map[string]string) []variant {
	var out []variant
	for label, v := range values {
		out = append(out, variant{label, []string{name + "=" + v}})
	}
	return out
}

// rejection describes what a hostile request may and must do.
type rejection struct {
	gets        int  // store Get calls the request may make
	serverMayNo bool // the server may refuse the request (400, 431) before the middleware
}

// wantRejected sends a write request (probe=attacker) carrying the hostile
// cookie and checks that nothing it carries is adopted: the handler sees an
// empty session, the store is not asked (beyond rj.gets), and the write
// gets a fresh server-generated ID.
func (e *env) wantRejected(label string, send func() *result, rj rejection, presented ...string) {
	e.t.Helper()
	e.store.reset()
	r := send()
	if rj.serverMayNo && r.err == nil && (r.status == http.StatusBadRequest || r.status == http.StatusRequestHeaderFieldsTooLarge) {
		return // refused by the server before any session handling
	}
	if r.err != nil || r.status != http.StatusOK || r.body != none {
		e.fail("a hostile cookie ("+label+") must never be adopted", "%s, want 200 with an empty session (body %q)", r, none)
		return
	}
	if n := e.store.calls(); n[opGet] != rj.gets {
		e.fail("a hostile cookie ("+label+") must be rejected before the store is asked", "%d store Get calls for IDs %q, want %d", n[opGet], truncateAll(e.store.gotIDs()), rj.gets)
	}
	cs := e.sessionCookies(r)
	if len(cs) != 1 {
		e.fail("a write after a rejected cookie ("+label+") must set exactly one new session cookie", "Set-Cookie %q", e.sessionLines(r))
		return
	}
	id := idOf(cs[0].Value)
	if !plausibleID(id) || len(id) != 43 {
		e.fail("a write after a rejected cookie ("+label+") must get a fresh server-generated ID", "ID %q is not 43 base64url characters", id)
	}
	for _, p := range presented {
		if strings.Contains(p, id) || id == idOf(p) {
			e.fail("a write after a rejected cookie ("+label+") must get a fresh server-generated ID", "the new cookie reuses the presented ID %s", short(id))
		}
	}
}

// rejectAll runs wantRejected for every variant, then checks the victim's
// session is untouched.
func (e *env) rejectAll(victim string, vs []variant, rj rejection) {
	e.t.Helper()
	for _, v := range vs {
		e.wantRejected(v.label, func() *result {
			return e.raw("/", query("op", "set", "k", "probe", "v", "attacker"), http.Header{"Cookie": v.lines})
		}, rj, v.lines...)
	}
	if victim != "" {
		e.wantBody(e.session(victim, "op", "get", "k", "probe"), "victim", "hostile requests must not change the victim's session")
	}
}

func truncateAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = truncate(id, 20)
	}
	return out
}

// flip replaces the character at i with another base64url character.
func flip(s string, i int) string {
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}

var hostileCases = []testCase{
	{
		name: "ForgedSignature",
		why:  "a cookie signed with another key, even for a real session ID, must never be adopted and must never reach the store",
		run: func(e *env) {
			victim := e.victim()
			forger := e.sideServer(sess.Config{GenerateID: func() (string, error) { return idOf(victim), nil }})
			forged := e.issued(e.clientFor(forger).must("op", "set", "k", "x", "v", "1"), "the forger's server issues a cookie")
			if forged == victim || idOf(forged) != idOf(victim) {
				e.t.Fatalf("setup: forged cookie %q should carry the victim's ID with another MAC", forged)
			}
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{"signed with another key": forged}), rejection{})
		},
	},
	{
		name: "SignatureForAnotherCookie",
		why:  "a value signed with the same secret for another cookie name (say a CSRF cookie) must not be accepted as the session cookie",
		run: func(e *env) {
			victim := e.victim()
			other := e.sideServer(sess.Config{Secret: e.cfg.Secret, CookieName: "csrf", GenerateID: func() (string, error) { return idOf(victim), nil }})
			r := e.clientFor(other).must("op", "set", "k", "x", "v", "1")
			var v string
			for _, line := range r.setCookies() {
				if c, err := http.ParseSetCookie(line); err == nil && c.Name == "csrf" {
					v = c.Value
				}
			}
			if v == "" {
				e.t.Fatalf("setup: the second server set no csrf cookie: %s", r)
			}
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{"signed for the cookie name csrf": v}), rejection{})
		},
	},
	{
		name: "TamperedValue",
		why:  "changing any character of a valid cookie must make it invalid: the MAC covers the whole ID",
		run: func(e *env) {
			victim := e.victim()
			dot := strings.LastIndexByte(victim, '.')
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{
				"first ID character flipped":   flip(victim, 0),
				"middle ID character flipped":  flip(victim, dot/2),
				"last ID character flipped":    flip(victim, dot-1),
				"middle MAC character flipped": flip(victim, dot+20),
				"first MAC character flipped":  flip(victim, dot+1),
				"separator replaced":           victim[:dot] + "-" + victim[dot+1:],
				"ID and MAC swapped":           victim[dot+1:] + "." + victim[:dot],
			}), rejection{})
		},
	},
	{
		name: "UnsignedID",
		why:  "a bare session ID or an attacker-chosen value without a valid MAC must never be adopted, and must never become the ID of a new session (session fixation, as in fiber's CVE with test-session-id)",
		run: func(e *env) {
			victim := e.victim()
			chosen := strings.Repeat("A", 43)
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{
				"bare victim ID":          idOf(victim),
				"test-session-id":         "test-session-id",
				"attacker-chosen 43 char": chosen,
				"chosen ID, victim MAC":   chosen + victim[strings.LastIndexByte(victim, '.'):],
			}), rejection{})
			for _, id := range []string{"test-session-id", chosen} {
				e.wantNoRecord(id, "an attacker-chosen ID must never be stored")
			}
		},
	},
	{
		name: "AppendedBytes",
		why:  "a valid cookie with bytes appended is a different value and must be rejected, or one session has many cookie spellings",
		run: func(e *env) {
			victim := e.victim()
			mac := victim[strings.LastIndexByte(victim, '.')+1:]
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{
				"x appended":          victim + "x",
				"dot appended":        victim + ".",
				"padding appended":    victim + "==",
				"second part":         victim + ".x",
				"MAC repeated":        victim + "." + mac,
				"prefixed":            "x" + victim,
				"space inside":        idOf(victim) + ". " + mac,
				"comma and more":      victim + ",x",
				"second dot-free MAC": victim + mac,
			}), rejection{})
		},
	},
	{
		name: "TruncatedValue",
		why:  "truncated, MAC-less or ID-less values must be rejected without a panic and without a store lookup",
		run: func(e *env) {
			victim := e.victim()
			dot := strings.LastIndexByte(victim, '.')
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{
				"last character cut": victim[:len(victim)-1],
				"half the MAC":       victim[:dot+22],
				"empty MAC":          victim[:dot+1],
				"no separator":       victim[:dot] + victim[dot+1:],
				"empty ID":           victim[dot:],
				"two separators":     victim[:dot] + "." + victim[dot:],
				"16 characters":      victim[:16],
				"one character":      victim[:1],
				"just a dot":         ".",
			}), rejection{})
		},
	},
	{
		name: "EmptyOrNamelessValue",
		why:  "an empty session cookie or a bare name must give an empty session, never an error",
		run: func(e *env) {
			victim := e.victim()
			name := e.m.CookieName()
			e.rejectAll(victim, []variant{
				{"empty value", []string{name + "="}},
				{"bare name", []string{name}},
				{"empty quoted value", []string{name + `=""`}},
				{"empty value then other cookie", []string{name + "=; a=b"}},
				{"lone semicolons", []string{";;; " + name + "=;"}},
			}, rejection{})
		},
	},
	{
		name: "NonCanonicalBase64",
		why:  "one ID must have exactly one cookie spelling; non-canonical base64 (padding, the standard alphabet, non-zero trailing bits) must be rejected",
		run: func(e *env) {
			victim := e.victim()
			last := strings.IndexByte(b64Alphabet, victim[len(victim)-1])
			std := strings.NewReplacer("-", "+", "_", "/").Replace(victim)
			vs := map[string]string{
				"trailing bits set": victim[:len(victim)-1] + string(b64Alphabet[last^1]),
				"padded MAC":        victim + "=",
			}
			if std != victim {
				vs["standard alphabet"] = std
			}
			e.rejectAll(victim, sidVariants(e.m.CookieName(), vs), rejection{})
		},
	},
	{
		name: "PercentEncodedValue",
		why:  "cookies are not URL-decoded: a percent-encoded copy of a valid cookie must be rejected on every adapter (gin's c.Cookie would decode it)",
		run: func(e *env) {
			victim := e.victim()
			var all strings.Builder
			for i := 0; i < len(victim); i++ {
				fmt.Fprintf(&all, "%%%02X", victim[i])
			}
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{
				"dot encoded":             strings.Replace(victim, ".", "%2E", 1),
				"every byte encoded":      all.String(),
				"first character encoded": fmt.Sprintf("%%%02X", victim[0]) + victim[1:],
			}), rejection{})
		},
	},
	{
		name: "QuotedValueAccepted",
		why:  "RFC 6265 allows a cookie value in double quotes and both net/http and fasthttp strip them: a quoted valid cookie must load the session on every adapter",
		run: func(e *env) {
			victim := e.victim()
			r := e.withCookie(e.m.CookieName()+`="`+victim+`"`, "op", "get", "k", "probe")
			e.wantBody(r, "victim", "a quoted valid cookie must load the session")
			e.noCookie(r, "reading a loaded session sets no cookie")
		},
	},
	{
		name: "ControlAndNonASCIIBytes",
		why:  "control characters, DEL, bytes above 0x7F, backslashes and quotes inside a cookie must be rejected on every adapter (fasthttp passes bytes net/http refuses); the server may refuse the request, never with a 5xx",
		run: func(e *env) {
			victim := e.victim()
			name := e.m.CookieName()
			vs := map[string]string{
				"control byte appended": victim + "\x01",
				"DEL appended":          victim + "\x7f",
				"NUL inside":            victim[:10] + "\x00" + victim[10:],
				"UTF-8 appended":        victim + "é",
				"Latin-1 byte appended": victim + "\xe9",
				"backslash appended":    victim + `\`,
				"quote inside":          victim[:10] + `"` + victim[10:],
				"one quote":             `"` + victim,
			}
			for label, v := range vs {
				e.wantRejected(label, func() *result {
					return e.rawBytes(rawCookieRequest(query("op", "set", "k", "probe", "v", "attacker"), name+"="+v))
				}, rejection{serverMayNo: true}, v)
			}
			e.wantBody(e.session(victim, "op", "get", "k", "probe"), "victim", "hostile requests must not change the victim's session")
		},
	},
	{
		name: "OversizedValue",
		why:  "a huge cookie value must be rejected before any decoding or store lookup; the server may refuse the request, never with a 5xx",
		run: func(e *env) {
			victim := e.victim()
			e.rejectAll(victim, sidVariants(e.m.CookieName(), map[string]string{
				"8 KiB of ID characters": strings.Repeat("A", 8<<10),
				"8 KiB appended":         victim + strings.Repeat("A", 8<<10),
				"8 KiB ID, real MAC":     strings.Repeat("A", 8<<10) + victim[strings.LastIndexByte(victim, '.'):],
			}), rejection{serverMayNo: true})
		},
	},
	{
		name: "HugeCookieHeader",
		why:  "a 64 KiB Cookie header or thousands of cookies (a cookie bomb) must never cause a server error, and a read must not set a cookie that could overwrite the user's",
		run: func(e *env) {
			victim := e.victim()
			name := e.m.CookieName()
			for label, line := range map[string]string{
				"64 KiB padding cookie": "pad=" + strings.Repeat("p", 64<<10) + "; " + name + "=" + victim,
				"3001 empty cookies":    strings.Repeat("a=; ", 3001) + name + "=" + victim,
			} {
				r := e.withCookie(line, "op", "get", "k", "probe")
				if r.err != nil || r.status >= 500 {
					e.fail("a huge Cookie header must never cause a server error", "%s: %s", label, r)
					continue
				}
				if r.status == http.StatusOK && r.body != "victim" && r.body != none {
					e.fail("a huge Cookie header must give the session or an empty one", "%s: %s", label, r)
				}
				e.noCookie(r, "a read with a huge Cookie header must not set a cookie ("+label+")")
			}
		},
	},
	{
		name: "UnknownSignedID",
		why:  "a validly signed ID the store does not hold (deleted, expired) must not be adopted: the next write gets a fresh ID and the old one is not recreated (strict sessions)",
		run: func(e *env) {
			victim := e.victim()
			if err := e.store.Store.Delete(context.Background(), idOf(victim)); err != nil {
				e.t.Fatalf("setup: store Delete: %v", err)
			}
			e.rejectAll("", sidVariants(e.m.CookieName(), map[string]string{"signed but unknown": victim}), rejection{gets: 1})
			e.wantNoRecord(idOf(victim), "an unknown ID must not be recreated by a write")
		},
	},
	{
		name: "JunkNextToValidCookie",
		why:  "junk cookies with the session's name next to a valid one (a subdomain or an attacker can plant them) must not log the user out",
		run: func(e *env) {
			victim := e.victim()
			name := e.m.CookieName()
			for label, lines := range map[string][]string{
				"junk first":              {name + "=junk; " + name + "=" + victim},
				"junk last":               {name + "=" + victim + "; " + name + "=junk"},
				"forged first":            {name + "=" + flip(victim, len(victim)-5) + "; " + name + "=" + victim},
				"two header lines":        {name + "=junk", name + "=" + victim},
				"session in the 2nd line": {"a=b", name + "=" + victim},
				"empty first":             {name + "=; " + name + "=" + victim},
				"same valid cookie twice": {name + "=" + victim + "; " + name + "=" + victim},
			} {
				r := e.raw("/", query("op", "get", "k", "probe"), http.Header{"Cookie": lines})
				e.wantBody(r, "victim", "a valid session cookie must load next to junk ("+label+")")
				e.noCookie(r, "junk next to a valid cookie must not expire or replace it ("+label+")")
			}
		},
	},
	{
		name: "TwoValidSessions",
		why:  "two different live session cookies at once (cookie tossing from a sibling domain) must not silently adopt either: the request gets an empty session",
		run: func(e *env) {
			a, b := e.victim(), e.victim()
			name := e.m.CookieName()
			for _, lines := range [][]string{
				{name + "=" + a + "; " + name + "=" + b},
				{name + "=" + b, name + "=" + a},
			} {
				r := e.raw("/", query("op", "get", "k", "probe"), http.Header{"Cookie": lines})
				e.wantBody(r, none, "two different valid session cookies must give an empty session")
				e.noCookie(r, "a read with ambiguous cookies must not set a cookie")
			}
			e.wantRecord(idOf(a), "ambiguous cookies must not destroy either session")
			e.wantRecord(idOf(b), "ambiguous cookies must not destroy either session")
		},
	},
	{
		name: "NameVariantsIgnored",
		why:  "cookie names are case-sensitive and exact: other spellings of the session cookie's name must be ignored",
		run: func(e *env) {
			victim := e.victim()
			name := e.m.CookieName()
			e.rejectAll(victim, []variant{
				{"upper case", []string{strings.ToUpper(name) + "=" + victim}},
				{"title case", []string{strings.ToUpper(name[:1]) + name[1:] + "=" + victim}},
				{"suffix", []string{name + "2=" + victim}},
				{"prefix", []string{"x" + name + "=" + victim}},
				{"__Host- prefix", []string{"__Host-" + name + "=" + victim}},
			}, rejection{})
		},
	},
	{
		name: "IDOutsideCookieIgnored",
		why:  "session IDs are only read from the cookie: an ID in the query string, a header or a form must be ignored (IDs in URLs leak through logs and Referer)",
		run: func(e *env) {
			victim := e.victim()
			name := e.m.CookieName()
			send := func(rawQuery string, h http.Header) func() *result {
				return func() *result { return e.raw("/", rawQuery+"&"+query("op", "set", "k", "probe", "v", "attacker"), h) }
			}
			e.wantRejected("query parameter", send(query(name, victim), nil), rejection{}, victim)
			e.wantRejected("session query parameter", send(query("session", victim, "session_id", idOf(victim)), nil), rejection{}, victim)
			e.wantRejected("X-Session-Id header", send("", http.Header{"X-Session-Id": {victim}}), rejection{}, victim)
			e.wantRejected("bare ID header", send("", http.Header{"X-Session-Id": {idOf(victim)}}), rejection{}, victim)
			e.wantRejected("Authorization header", send("", http.Header{"Authorization": {"Bearer " + victim}}), rejection{}, victim)
			e.wantRejected("Set-Cookie request header", send("", http.Header{"Set-Cookie": {name + "=" + victim}}), rejection{}, victim)
			e.wantRejected("form field", func() *result {
				return e.request(e.srv, http.MethodPost, "/", query("op", "set", "k", "probe", "v", "attacker"),
					http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, query(name, victim))
			}, rejection{}, victim)
			e.wantBody(e.session(victim, "op", "get", "k", "probe"), "victim", "hostile requests must not change the victim's session")
		},
	},
	{
		name: "WhitespaceAroundCookie",
		why:  "white space around cookie names, values and separators is parsed the same way on every adapter (the core trims it), so a valid cookie loads however it is spaced",
		run: func(e *env) {
			victim := e.victim()
			name := e.m.CookieName()
			for label, line := range map[string]string{
				"spaces around =":  name + " = " + victim,
				"no space after ;": "a=1;" + name + "=" + victim,
				"tab after ;":      "a=1;\t" + name + "=" + victim,
				"trailing ;":       name + "=" + victim + ";",
				"space before ;":   "a=1 ;  " + name + "=" + victim + " ; b=2",
			} {
				e.wantBody(e.withCookie(line, "op", "get", "k", "probe"), "victim", "a valid cookie must load whatever the white space ("+label+")")
			}
		},
	},
}
