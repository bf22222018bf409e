package sessfiberv3

import (
	"bufio"
	"net/textproto"
	"slices"
	"strings"
	"testing"
)

// FuzzRawHeaderValues checks rawHeaderValues against net/textproto, the
// parser behind net/http: for every header block textproto accepts, both
// return the same Cookie values, so the fiber v3 adapter hands the core the
// same strings as the net/http adapter.
func FuzzRawHeaderValues(f *testing.F) {
	for _, s := range []string{
		"Cookie: a=1\r\n\r\n",
		"cookie: a=1\r\nCOOKIE:  b=2 \r\n\r\n",
		"Cookie: a=1;\r\n b=2\r\n\tc=3\r\n\r\n",
		"Cookie:\r\n x\r\n\r\n",
		"Cookie: a\r\n \r\n\r\n",
		"X: y\r\n z\r\nCookie: q\r\n\r\n",
		"Cookie: a=1\n\n",
		"Cookie: \"x\"\t\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, block string) {
		got := rawHeaderValues([]byte(block), "Cookie")
		h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(block))).ReadMIMEHeader()
		if err != nil {
			return
		}
		if want := h["Cookie"]; !slices.Equal(got, want) {
			t.Errorf("rawHeaderValues(%q) = %q, textproto = %q", block, got, want)
		}
	})
}
