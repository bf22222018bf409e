package sess

import (
	"net/http"
	"strings"
)

// HeaderExpired is the value of Config.TokenHeader in a response that ended
// the session (a logout): the client drops its stored token. It never
// verifies as a session value.
const HeaderExpired = "expired"

// tokenCandidates appends the values of the request's Config.TokenHeader to
// out after the n cookie values already there, and returns the new count.
// Each header line is one value, surrounding spaces removed (for
// Authorization, the credentials of the Bearer scheme); the same signing,
// verification and strictness apply as to cookies.
func (m *Manager) tokenCandidates(c Carrier, n int, out *[maxCandidates]string) int {
	bearer := m.cfg.TokenHeader == "Authorization"
	for _, v := range c.RequestHeader(m.cfg.TokenHeader) {
		if n == maxCandidates {
			break
		}
		v = trimSpace(v)
		if bearer {
			var ok bool
			if v, ok = bearerToken(v); !ok {
				continue // another scheme: not ours to judge
			}
		}
		if v != "" {
			out[n] = v
			n++
		}
	}
	return n
}

// bearerToken returns the credentials of an Authorization value of the
// Bearer scheme (case-insensitive, RFC 6750), and false for another scheme.
func bearerToken(v string) (string, bool) {
	const scheme = "bearer"
	if len(v) <= len(scheme) || (v[len(scheme)] != ' ' && v[len(scheme)] != '\t') {
		return "", false
	}
	for i := range len(scheme) {
		if v[i]|0x20 != scheme[i] {
			return "", false
		}
	}
	return trimSpace(v[len(scheme):]), true
}

// emitToken sends the session's token response header: value on a new or
// renewed session, HeaderExpired on logout; Vary on the request header, as
// the response depends on it, and Cache-Control so that no shared cache
// hands the value to another client.
func (m *Manager) emitToken(s *Session, value string) {
	s.c.AddResponseHeader(m.cfg.TokenResponseHeader, value)
	s.c.AddResponseHeader("Vary", m.cfg.TokenHeader)
	s.c.AddResponseHeader("Cache-Control", `no-cache="`+m.cfg.TokenResponseHeader+`"`)
}

// validTokenHeader checks Config.TokenHeader (request, which may be
// Authorization) or TokenResponseHeader and returns its canonical form.
func validTokenHeader(name string, request bool) (string, error) {
	field := "TokenResponseHeader"
	if request {
		field = "TokenHeader"
	}
	if name == "" {
		return "", nil
	}
	if strings.ContainsAny(name, " \t\r\n:;,\"()/<>?=@[\\]{}") {
		return "", invalid("%s %q is not a header name", field, name)
	}
	name = http.CanonicalHeaderKey(name)
	switch name {
	case "Authorization":
		if request {
			return name, nil
		}
	case "Cookie", "Set-Cookie", "Proxy-Authorization", "Host", "Vary", "Cache-Control", "Content-Type", "Content-Length", "Transfer-Encoding", "Connection", "Www-Authenticate":
	default:
		return name, nil
	}
	return "", invalid("%s %q is reserved; use a header of its own such as Session-Token", field, name)
}
