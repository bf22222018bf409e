package sess

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The cookie value is "<id>.<mac>": the session ID followed by the unpadded
// base64url HMAC-SHA256 of a purpose string, the cookie name and the ID.
// Binding the MAC to the cookie name means a value signed for another cookie
// with the same secret never verifies as a session cookie.
const (
	macB64Len = 43 // base64url length of a 32-byte MAC
	// maxCookieValueLen caps the work done on a cookie value: anything longer
	// cannot be a value this package issued and is dropped before decoding.
	maxCookieValueLen = maxIDLen + 1 + macB64Len
	// maxCandidates caps how many same-named cookies one request may offer.
	maxCandidates = 4
	// macPurpose binds the MAC to this use of the secret. It is short so
	// that purpose, cookie name and a 43-character ID fit one SHA-256 block.
	macPurpose = "sess/1\x00"
)

var b64 = base64.RawURLEncoding.Strict()

type macState struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

type macKey struct{ pool sync.Pool }

// signer signs and verifies cookie values with a key ring: keys[0] signs,
// every key verifies.
type signer struct {
	prefix string // purpose + cookie name + NUL
	keys   []*macKey
	logKey []byte
	cache  verifyCache
}

func newSigner(cookieName string, secret []byte, previous [][]byte) *signer {
	s := &signer{prefix: macPurpose + cookieName + "\x00"}
	for _, k := range append([][]byte{secret}, previous...) {
		k := k
		s.keys = append(s.keys, &macKey{pool: sync.Pool{New: func() any {
			return &macState{h: hmac.New(sha256.New, k), buf: make([]byte, 0, 256)}
		}}})
	}
	lk := sha256.Sum256(append([]byte("gosess/sess log key\x00"), secret...))
	s.logKey = lk[:]
	return s
}

// mac computes the MAC of id under key i into dst.
func (s *signer) mac(i int, id string, dst *[sha256.Size]byte) {
	st := s.keys[i].pool.Get().(*macState)
	st.h.Reset()
	st.buf = append(append(st.buf[:0], s.prefix...), id...)
	st.h.Write(st.buf)
	*dst = [sha256.Size]byte(st.h.Sum(st.sum[:0]))
	s.keys[i].pool.Put(st)
}

// sign returns the cookie value for id, signed with the newest key.
func (s *signer) sign(id string) string {
	return string(s.appendSigned(make([]byte, 0, len(id)+1+macB64Len), id))
}

// appendSigned appends the cookie value for id to b.
func (s *signer) appendSigned(b []byte, id string) []byte {
	var sum [sha256.Size]byte
	s.mac(0, id, &sum)
	b = append(b, id...)
	b = append(b, '.')
	return b64.AppendEncode(b, sum[:])
}

// verify checks a cookie value in the order cheapest first: length, shape,
// alphabet, then the cache of values that verified before (an exact match
// of the whole value, see verifyCache), then a constant-time MAC comparison
// against every key. It returns the ID and the index of the key that
// verified it.
func (s *signer) verify(value string) (id string, key int, ok bool) {
	if len(value) > maxCookieValueLen || len(value) < minIDLen+1+macB64Len {
		return "", 0, false
	}
	dot := len(value) - macB64Len - 1
	if value[dot] != '.' {
		return "", 0, false
	}
	id, macStr := value[:dot], value[dot+1:]
	if !validID(id) {
		return "", 0, false
	}
	if key, ok := s.cache.get(value); ok {
		return id, key, true
	}
	found := s.verifyMAC(id, macStr)
	if found < 0 {
		return "", 0, false
	}
	s.cache.put(value, found)
	return id, found, true
}

// verifyMAC returns the index of the key whose MAC of id is macStr, or -1.
func (s *signer) verifyMAC(id, macStr string) int {
	// Compare encoded forms: only the canonical encoding of the right MAC
	// matches, and nothing needs decoding.
	var want [sha256.Size]byte
	var enc [macB64Len]byte
	found := -1
	for i := range s.keys {
		s.mac(i, id, &want)
		b64.Encode(enc[:], want[:])
		// Compare with every key, not just until the first match, so the
		// time taken does not depend on which key signed the value.
		if subtle.ConstantTimeCompare(enc[:], []byte(macStr)) == 1 && found < 0 {
			found = i
		}
	}
	return found
}

// hashID returns a short keyed hash of id for logs. Raw IDs are never logged.
func (s *signer) hashID(id string) string {
	if id == "" {
		return ""
	}
	h := hmac.New(sha256.New, s.logKey)
	h.Write([]byte(id))
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// HashID returns a hex SHA-256 of a session ID with a namespace prefix, for
// stores that persist outside the process: keying records by HashID(id)
// instead of the ID means a leaked store dump holds no usable session IDs.
func HashID(id string) string {
	sum := sha256.Sum256([]byte("gosess/sess store key\x00" + id))
	return hex.EncodeToString(sum[:])
}

// cookieCandidates collects the values of every cookie named name in the
// given Cookie header lines. It parses the raw header itself, the same way
// for every framework: pairs split on ';', ASCII white space trimmed around
// names and values, one pair of surrounding double quotes removed. Names are
// case-sensitive. At most maxCandidates values are returned.
func cookieCandidates(lines []string, name string, out *[maxCandidates]string) int {
	n := 0
	for _, line := range lines {
		for len(line) > 0 {
			var part string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			eq := strings.IndexByte(part, '=')
			if eq < 0 {
				continue
			}
			if trimSpace(part[:eq]) != name {
				continue
			}
			v := trimSpace(part[eq+1:])
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if n == maxCandidates {
				return n
			}
			out[n] = v
			n++
		}
	}
	return n
}

func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// cookieWriter serializes the session cookie. Everything but the value and
// the lifetime is fixed at New, so every adapter emits identical bytes.
type cookieWriter struct {
	name    string
	scope   string // "; Path=...; Domain=..."
	flags   string // "; HttpOnly; Secure; SameSite=...; Partitioned"
	deleted string // the whole expiring cookie
}

func newCookieWriter(c *Config) *cookieWriter {
	w := &cookieWriter{name: c.CookieName}
	w.scope = "; Path=" + c.Path
	if c.Domain != "" {
		w.scope += "; Domain=" + strings.TrimPrefix(c.Domain, ".")
	}
	if !c.DisableHTTPOnly {
		w.flags += "; HttpOnly"
	}
	if !c.DisableSecure {
		w.flags += "; Secure"
	}
	switch c.SameSite {
	case http.SameSiteStrictMode:
		w.flags += "; SameSite=Strict"
	case http.SameSiteNoneMode:
		w.flags += "; SameSite=None"
	default:
		w.flags += "; SameSite=Lax"
	}
	if c.Partitioned {
		w.flags += "; Partitioned"
	}
	w.deleted = w.name + "=" + w.scope + "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0" + w.flags
	return w
}

// line returns the Set-Cookie value carrying the signed value of id. For a
// persistent cookie (maxAge > 0) the lifetime is maxAge capped by the time
// left until deadline.
func (w *cookieWriter) line(sg *signer, id string, now, deadline time.Time, maxAge time.Duration) string {
	b := make([]byte, 0, len(w.name)+1+len(id)+1+macB64Len+len(w.scope)+len(w.flags)+64)
	b = append(b, w.name...)
	b = append(b, '=')
	b = sg.appendSigned(b, id)
	b = append(b, w.scope...)
	if maxAge > 0 {
		age := min(maxAge, deadline.Sub(now.Truncate(time.Millisecond))) // deadlines are kept in ms
		secs := int64(age / time.Second)
		if secs < 1 {
			secs = 1
		}
		b = append(b, "; Expires="...)
		b = now.Add(time.Duration(secs)*time.Second).UTC().AppendFormat(b, http.TimeFormat)
		b = append(b, "; Max-Age="...)
		b = strconv.AppendInt(b, secs, 10)
	}
	b = append(b, w.flags...)
	return string(b)
}
