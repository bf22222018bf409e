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
