package sess

import "bytes"

// RawHeaderValues returns the values of every line of the header called
// name in raw, an HTTP/1.x request header block (without the request line;
// parsing stops at the first empty line), in order, as new strings that do
// not alias raw. It reads them the way net/textproto, and so net/http, does:
// names match ASCII case-insensitively (no Unicode folding), white space
// around a value is dropped, and obsolete line folding (RFC 9112, section
// 5.2) joins the lines with a space. Lines may end in CRLF or a bare LF.
//
// It is for Carrier implementations over frameworks that expose the raw
// header block (fasthttp's RequestHeader.RawHeaders): their parsed view of
// the Cookie header may be a re-serialisation of parsed cookies, which
// alters or invents bytes, while every adapter must hand the core the
// Cookie lines exactly as the client sent them.
func RawHeaderValues(raw []byte, name string) []string {
	var out []string
	for len(raw) > 0 {
		var line []byte
		line, raw = nextLine(raw)
		if len(line) == 0 {
			break // end of the header block
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 || !asciiEqualFold(line[:colon], name) {
			continue
		}
		v := trimSpaceBytes(line[colon+1:])
		if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
			folded := append(make([]byte, 0, 2*len(v)), v...)
			for len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') {
				var cont []byte
				cont, raw = nextLine(raw)
				folded = append(append(folded, ' '), trimSpaceBytes(cont)...)
			}
			v = bytes.TrimLeft(folded, " \t")
		}
		out = append(out, string(v))
	}
	return out
}

// nextLine splits b after its first line, dropping the line ending (LF or
// CRLF).
func nextLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		line, rest = b, nil
	} else {
		line, rest = b[:i], b[i+1:]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, rest
}

// trimSpace drops ASCII white space from both ends of b.
func trimSpaceBytes(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// asciiEqualFold reports whether b equals s ignoring ASCII case only (no
// Unicode folding: "\u212a" must not match "k").
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// RawRequestHeader is the view of a request header that RawCarrier needs;
// fasthttp's *RequestHeader implements it (every version the adapters use).
type RawRequestHeader interface {
	// RawHeaders returns the request's header block as read from the
	// connection, or nil for a request built in memory.
	RawHeaders() []byte
	// PeekAll returns every value of the named header as parsed.
	PeekAll(key string) [][]byte
}

// ResponseHeaderAdder is the view of a response header that RawCarrier
// needs; fasthttp's *ResponseHeader implements it.
type ResponseHeaderAdder interface {
	// Add appends one header line, never folding it into an existing one.
	Add(key, value string)
}

// RawCarrier is a Carrier over a fasthttp-style request and response
// header, for adapters on frameworks built on fasthttp (fiber v2 and v3,
// raw fasthttp). RequestHeader returns copies of every line of the named
// header exactly as the client sent it, read from the raw header block with
// RawHeaderValues: fasthttp's own view of the Cookie header is a
// re-serialisation of its parsed cookies once anything has read a cookie,
// which alters or invents bytes. Requests built in memory have no raw
// block; for them the parsed values are copied. AddResponseHeader appends
// one line through Add, so every Set-Cookie stays its own line.
//
// fasthttp reuses its request objects: an adapter calls Release when the
// request ends, after which the carrier reads nothing and adds nothing.
type RawCarrier struct {
	Request  RawRequestHeader
	Response ResponseHeaderAdder
}

// RequestHeader implements Carrier.
func (c *RawCarrier) RequestHeader(name string) []string {
	if c.Request == nil {
		return nil
	}
	if raw := c.Request.RawHeaders(); len(raw) > 0 {
		return RawHeaderValues(raw, name)
	}
	vals := c.Request.PeekAll(name)
	if len(vals) == 0 {
		return nil
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// AddResponseHeader implements Carrier.
func (c *RawCarrier) AddResponseHeader(name, value string) {
	if c.Response != nil {
		c.Response.Add(name, value)
	}
}

// Release drops the headers, for when the request ends.
func (c *RawCarrier) Release() { c.Request, c.Response = nil, nil }

var _ Carrier = (*RawCarrier)(nil)
