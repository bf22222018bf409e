package sess

import (
	"slices"
	"testing"
)

func TestRawHeaderValues(t *testing.T) {
	tests := []struct {
		name, raw string
		want      []string
	}{
		{"none", "Host: x\r\n\r\n", nil},
		{"two lines, any case", "cookie: a=1\r\nHost: x\r\nCOOKIE:  b=2 \r\n\r\n", []string{"a=1", "b=2"}},
		{"bare LF", "Cookie: a=1\nHost: x\n\n", []string{"a=1"}},
		{"folded", "Cookie: a=1;\r\n b=2\r\n\tc=3\r\n\r\n", []string{"a=1; b=2 c=3"}},
		{"other header folded", "X: y\r\n Cookie: z\r\nCookie: q\r\n\r\n", []string{"q"}},
		{"stops at the blank line", "Cookie: a=1\r\n\r\nCookie: body\r\n", []string{"a=1"}},
		{"no Unicode folding", "Coo\u212aie: a=1\r\n\r\n", nil},
		{"space before colon", "Cookie : a=1\r\n\r\n", nil},
		{"no final blank line", "Cookie: a=1", []string{"a=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RawHeaderValues([]byte(tt.raw), "Cookie"); !slices.Equal(got, tt.want) {
				t.Errorf("RawHeaderValues(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}
