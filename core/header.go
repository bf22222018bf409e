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
// Each header line is one value, surrounding spaces removed; the same
// signing, verification and strictness apply as to cookies.
func (m *Manager) tokenCandidates(c Carrier, n int, out *[maxCandidates]string) int {
	for _, v := range c.RequestHeader(m.cfg.TokenHeader) {
		if n == maxCandidates {
			break
		}
		if v = trimSpace(v); v != "" {
			out[n] = v
			n++
		}
	}
	return n
}

// emitToken sends the session's token header: value on a new or renewed
// session, HeaderExpired on logout, and Vary on the header, as the
// response depends on it.
func (m *Manager) emitToken(s *Session, value string) {
	s.c.AddResponseHeader(m.cfg.TokenHeader, value)
	s.c.AddResponseHeader("Vary", m.cfg.TokenHeader)
}

// validTokenHeader checks Config.TokenHeader and returns its canonical
// form.
func validTokenHeader(name string) (string, error) {
	if name == "" {
		return "", nil
	}
	if strings.ContainsAny(name, " \t\r\n:;,\"()/<>?=@[\\]{}") {
		return "", invalid("TokenHeader %q is not a header name", name)
	}
	name = http.CanonicalHeaderKey(name)
	switch name {
	case "Cookie", "Set-Cookie", "Authorization", "Proxy-Authorization", "Host", "Vary", "Cache-Control", "Content-Type", "Content-Length", "Transfer-Encoding", "Connection":
		return "", invalid("TokenHeader %q is reserved; use a header of its own such as Session-Token", name)
	}
	return name, nil
}
