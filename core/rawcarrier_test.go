package sess_test

import (
	"slices"
	"testing"

	sess "github.com/gosess/sess/core"
)

// fastHeader stands in for fasthttp's request and response headers.
type fastHeader struct {
	raw    []byte
	parsed map[string][][]byte
	added  []string
}

func (h *fastHeader) RawHeaders() []byte { return h.raw }

func (h *fastHeader) PeekAll(key string) [][]byte { return h.parsed[key] }

func (h *fastHeader) Add(key, value string) { h.added = append(h.added, key+": "+value) }

func TestRawCarrier(t *testing.T) {
	raw := []byte("GET / HTTP/1.1\r\nHost: x\r\nCookie: =sid=forged\r\nCookie: sid=a\r\n\r\n")
	req := &fastHeader{raw: raw, parsed: map[string][][]byte{"Cookie": {[]byte("sid=forged; sid=a")}}}
	resp := &fastHeader{}
	c := &sess.RawCarrier{Request: req, Response: resp}

	got := c.RequestHeader("Cookie")
	if want := []string{"=sid=forged", "sid=a"}; !slices.Equal(got, want) {
		t.Errorf("RequestHeader(Cookie) = %q, want the raw lines %q (not the re-serialised parse)", got, want)
	}
	raw[len("GET / HTTP/1.1\r\nHost: x\r\nCookie: ")] = 'X' // fasthttp reuses its buffers
	if got[0] != "=sid=forged" {
		t.Errorf("RequestHeader returned %q, which aliases the request buffer", got[0])
	}

	// A request built in memory has no raw block: the parsed values, copied.
	req.raw = nil
	if got := c.RequestHeader("Cookie"); !slices.Equal(got, []string{"sid=forged; sid=a"}) {
		t.Errorf("without a raw block RequestHeader = %q, want the parsed value", got)
	}
	if got := c.RequestHeader("Authorization"); got != nil {
		t.Errorf("absent header = %q, want nil", got)
	}

	c.AddResponseHeader("Set-Cookie", "a=1")
	c.AddResponseHeader("Set-Cookie", "b=2")
	if want := []string{"Set-Cookie: a=1", "Set-Cookie: b=2"}; !slices.Equal(resp.added, want) {
		t.Errorf("added %q, want %q (one line each)", resp.added, want)
	}

	// Released (the request ended): a session handle kept past its request
	// must not reach the pooled context that fasthttp reuses.
	c.Release()
	c.AddResponseHeader("Set-Cookie", "c=3")
	if len(resp.added) != 2 {
		t.Errorf("released carrier wrote into a reused response: %q", resp.added)
	}
	req.raw = raw
	if got := c.RequestHeader("Cookie"); got != nil {
		t.Errorf("released carrier read %q", got)
	}
}
