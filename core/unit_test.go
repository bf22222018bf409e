package sess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testSecret = []byte("unit-secret-0123456789-abcdefghijklmnop")

func TestConfigValidation(t *testing.T) {
	ok := Config{Secret: testSecret}
	cases := map[string]func(c *Config){
		"no secret":             func(c *Config) { c.Secret = nil },
		"short secret":          func(c *Config) { c.Secret = []byte("short") },
		"short previous secret": func(c *Config) { c.PreviousSecrets = [][]byte{[]byte("x")} },
		"__Host- without Secure": func(c *Config) {
			c.CookieName, c.DisableSecure = "__Host-sid", true
		},
		"__Host- with Domain": func(c *Config) { c.CookieName, c.Domain = "__Host-sid", "example.com" },
		"__Host- with Path":   func(c *Config) { c.CookieName, c.Path = "__Host-sid", "/app" },
		"__Secure- insecure":  func(c *Config) { c.CookieName, c.DisableSecure = "__Secure-sid", true },
		"SameSite=None insecure": func(c *Config) {
			c.SameSite, c.DisableSecure = http.SameSiteNoneMode, true
		},
		"Partitioned insecure":  func(c *Config) { c.Partitioned, c.DisableSecure = true, true },
		"absolute < idle":       func(c *Config) { c.IdleTimeout, c.AbsoluteTimeout = time.Hour, time.Minute },
		"invalid cookie name":   func(c *Config) { c.CookieName = "bad name;" },
		"cookie name with =":    func(c *Config) { c.CookieName = "a=b" },
		"negative MaxAge":       func(c *Config) { c.MaxAge = -time.Second },
		"MaxAge over 400 days":  func(c *Config) { c.MaxAge = 401 * 24 * time.Hour },
		"bad path":              func(c *Config) { c.Path = "/a;b" },
		"bad skip header":       func(c *Config) { c.SkipHeaders = []SkipHeader{{Name: "a b"}} },
		"negative StoreTimeout": func(c *Config) { c.StoreTimeout = -1 },
		"unknown SameSite":      func(c *Config) { c.SameSite = 99 },
	}
	for name, mutate := range cases {
		c := ok
		mutate(&c)
		if _, err := New(c); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: New error = %v, want ErrInvalidConfig", name, err)
		}
	}
	m, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := m.cfg
	if c.CookieName != "sid" || c.ObjectName != "session" || c.Path != "/" || c.SameSite != http.SameSiteLaxMode ||
		c.IdleTimeout != DefaultIdleTimeout || c.AbsoluteTimeout != DefaultAbsoluteTimeout || c.MaxAge != 0 ||
		c.DisableHTTPOnly || c.DisableSecure || c.StoreTimeout != DefaultStoreTimeout || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	if _, ok := m.store.(*MemoryStore); !ok {
		t.Errorf("nil Store gave %T, want the memory store", m.store)
	}
	if _, err := New(Config{Secret: testSecret, CookieName: "__Host-sid"}); err != nil {
		t.Errorf("valid __Host- config rejected: %v", err)
	}
}

func TestConfigIsCopied(t *testing.T) {
	key := append([]byte{}, testSecret...)
	skips := []SkipHeader{{Name: "x-skip"}}
	m, err := New(Config{Secret: key, SkipHeaders: skips})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := m.signer.sign("AAAAAAAAAAAAAAAAAAAAAA")
	key[0] ^= 0xff
	if _, _, ok := m.signer.verify(v); !ok {
		t.Error("changing the caller's secret slice changed the Manager")
	}
	if skips[0].Name != "x-skip" {
		t.Error("New modified the caller's SkipHeaders")
	}
}

func TestIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id, err := RandomID()
		if err != nil || len(id) != 43 || !validID(id) || seen[id] {
			t.Fatalf("RandomID = %q, %v", id, err)
		}
		seen[id] = true
	}
	u, err := UUIDv4()
	if err != nil || len(u) != 36 || !validID(u) || u[14] != '4' {
		t.Errorf("UUIDv4 = %q, %v", u, err)
	}
	for _, bad := range []string{"", "short", strings.Repeat("a", 129), "../../etc/passwd-xxxxxxx", "aaaaaaaaaaaaaaaa\x00", "aaaaaaaaaaaaaaa/"} {
		if validID(bad) {
			t.Errorf("validID(%q) = true", bad)
		}
	}
}

func TestSignerVerify(t *testing.T) {
	s := newSigner("sid", testSecret, nil)
	id := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
	v := s.sign(id)
	if got, k, ok := s.verify(v); !ok || got != id || k != 0 {
		t.Fatalf("verify(sign(id)) = %q %d %v", got, k, ok)
	}
	// Every single-character change is rejected.
	for i := range v {
		for _, c := range []byte{'A', 'a', '0', '-', '_', '.', '=', '+', '/', ' '} {
			if v[i] == c {
				continue
			}
			b := []byte(v)
			b[i] = c
			if _, _, ok := s.verify(string(b)); ok {
				t.Fatalf("verify accepted %q (byte %d changed to %q)", b, i, c)
			}
		}
	}
	// Non-canonical final character: same decoded bytes, different string.
	mac := v[len(id)+1:]
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", mac[len(mac)-1])
	alt := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last^1]
	if _, _, ok := s.verify(v[:len(v)-1] + string(alt)); ok {
		t.Error("a non-canonical MAC encoding verified")
	}
	// Bound to the cookie name.
	other := newSigner("csrf", testSecret, nil)
	if _, _, ok := s.verify(other.sign(id)); ok {
		t.Error("a value signed for another cookie name verified")
	}
	// Key ring.
	rotated := newSigner("sid", []byte("a-brand-new-secret-0123456789-abcdefgh"), [][]byte{testSecret})
	if _, k, ok := rotated.verify(v); !ok || k != 1 {
		t.Errorf("old-key cookie with the key ring: ok=%v key=%d", ok, k)
	}
	if strings.Contains(s.hashID(id), id[:8]) || len(s.hashID(id)) != 12 {
		t.Errorf("hashID = %q", s.hashID(id))
	}
}

func TestCookieCandidates(t *testing.T) {
	var out [maxCandidates]string
	cases := []struct {
		lines []string
		want  []string
	}{
		{[]string{"sid=abc"}, []string{"abc"}},
		{[]string{"a=1; sid=abc; b=2"}, []string{"abc"}},
		{[]string{" sid = abc ;"}, []string{"abc"}},
		{[]string{"\tsid=\"abc\""}, []string{"abc"}},
		{[]string{"sid=a; sid=b", "sid=c"}, []string{"a", "b", "c"}},
		{[]string{"SID=a; sidx=b; xsid=c; sid"}, nil},
		{[]string{"sid="}, []string{""}},
		{[]string{"sid=1;sid=2;sid=3;sid=4;sid=5"}, []string{"1", "2", "3", "4"}},
		{[]string{`sid="`}, []string{`"`}},
	}
	for _, tc := range cases {
		n := cookieCandidates(tc.lines, "sid", &out)
		if got := out[:n]; !reflect.DeepEqual(append([]string(nil), got...), tc.want) && !(n == 0 && tc.want == nil) {
			t.Errorf("cookieCandidates(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

type point struct {
	X, Y int
}

func TestCodecRoundTrip(t *testing.T) {
	when := time.Date(2026, 3, 4, 5, 6, 7, 8, time.FixedZone("X", 3600))
	values := map[string]any{
		"nil": nil, "s": "héllo", "empty": "", "b": []byte{0, 1, 2}, "t": true, "f": false,
		"i": -7, "big": math.MaxInt64, "i8": int8(-8), "i16": int16(-16), "i32": int32(-32), "i64": int64(-64),
		"u": uint(7), "u8": uint8(8), "u16": uint16(16), "u32": uint32(32), "u64": uint64(math.MaxUint64),
		"f32": float32(1.5), "f64": math.Pi, "nan": math.Inf(-1), "time": when, "dur": 3 * time.Second,
		"ss": []string{"a", "", "c"}, "is": []int{1, -2, 3}, "i64s": []int64{math.MinInt64}, "fs": []float64{0.5},
		"bs": []bool{true, false}, "anys": []any{"x", 1, []any{true}}, "mss": map[string]string{"a": "b"},
		"msi": map[string]int{"a": 1}, "msa": map[string]any{"n": map[string]any{"deep": []string{"z"}}},
		"long": strings.Repeat("x", 300),
	}
	var entries []byte
	for k, v := range values {
		var err error
		if entries, err = appendEntryValue(entries, k, v, JSONCodec{}); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	if _, err := parseRecord([]byte{recordFormat, 0x01}, entries, 1<<20); err != nil {
		t.Fatal(err)
	}
	for k, want := range values {
		tag, p, ok := findEntry(entries, k)
		if !ok {
			t.Fatalf("%s missing", k)
		}
		got, err := decodeValue(tag, p, JSONCodec{})
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if wt, ok := want.(time.Time); ok {
			if !wt.Equal(got.(time.Time)) {
				t.Errorf("%s: %v != %v", k, got, want)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v (%T), want %#v (%T)", k, got, got, want, want)
		}
	}
}

func TestSessionAPIAndTypedGet(t *testing.T) {
	m, err := New(Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	hdr := http.Header{}
	s, _ := m.load(context.Background(), nil, http.Header{}, hdr)
	if !s.IsNew() || s.ID() != "" || s.Len() != 0 {
		t.Fatal("fresh session not empty")
	}
	s.Delete("missing")
	s.Clear()
	if s.dirty {
		t.Error("Delete of a missing key / Clear of an empty session marked the session modified")
	}
	s.Set("n", 300)
	s.Set("name", "ann")
	s.Set("p", point{1, 2})
	s.Set("flash", "saved!")
	if err := m.commit(context.Background(), s, 200); err != nil {
		t.Fatal(err)
	}
	cookie := hdr.Get("Set-Cookie")
	value := strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], "sid=")
	s2, _ := m.load(context.Background(), nil, http.Header{"Cookie": {"sid=" + value}}, http.Header{})
	if s2.IsNew() || s2.ID() != s.ID() {
		t.Fatal("session not loaded")
	}
	if n, ok := Get[int](s2, "n"); !ok || n != 300 {
		t.Errorf("Get[int] = %v %v", n, ok)
	}
	if _, ok := Get[string](s2, "n"); ok {
		t.Error("Get[string] of an int succeeded")
	}
	if p, ok := Get[point](s2, "p"); !ok || p != (point{1, 2}) {
		t.Errorf("Get[point] = %v %v", p, ok)
	}
	if v, ok := s2.Get("p"); !ok || !reflect.DeepEqual(v, map[string]any{"X": 1.0, "Y": 2.0}) {
		t.Errorf("Get of a codec value = %#v", v)
	}
	if v, ok := s2.Pop("flash"); !ok || v != "saved!" {
		t.Errorf("Pop = %v %v", v, ok)
	}
	if _, ok := s2.Get("flash"); ok {
		t.Error("Pop did not delete")
	}
	if got := s2.Keys(); !reflect.DeepEqual(got, []string{"n", "name", "p"}) {
		t.Errorf("Keys = %q", got)
	}
	s2.Clear()
	if s2.Len() != 0 {
		t.Error("Clear left keys")
	}
	s2.Set("after", "clear")
	if got := s2.Keys(); !reflect.DeepEqual(got, []string{"after"}) {
		t.Errorf("Keys after Clear+Set = %q", got)
	}
}

func TestEncodeErrorsAndSizeCap(t *testing.T) {
	m, _ := New(Config{Secret: testSecret, MaxDataSize: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer m.Close()
	s, _ := m.load(context.Background(), nil, http.Header{}, http.Header{})
	s.Set("ch", make(chan int))
	if err := m.commit(context.Background(), s, 200); !errors.Is(err, ErrEncode) {
		t.Errorf("unencodable value: %v, want ErrEncode", err)
	}
	s, _ = m.load(context.Background(), nil, http.Header{}, http.Header{})
	s.Set("big", strings.Repeat("x", 200))
	if err := m.commit(context.Background(), s, 200); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized session: %v, want ErrTooLarge", err)
	}
	if m.ErrorResponse(context.Background(), ErrTooLarge).Status != 500 {
		t.Error("ErrTooLarge should map to 500")
	}
	if n := m.store.(*MemoryStore).Len(); n != 0 {
		t.Errorf("failed commits stored %d records", n)
	}
	deep := any("x")
	for range maxDepth + 2 {
		deep = []any{deep}
	}
	if _, err := appendValue(nil, deep, JSONCodec{}, 0); !errors.Is(err, ErrEncode) {
		t.Errorf("over-deep value: %v", err)
	}
}

func TestParseRecordRejectsCorruption(t *testing.T) {
	meta := []byte{recordFormat, 1}
	valid, _ := appendEntryValue(nil, "k", []any{1, "x"}, JSONCodec{})
	if _, err := parseRecord(meta, valid, 1<<10); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(valid); i++ {
		if _, err := parseRecord(meta, valid[:i], 1<<10); err == nil {
			t.Errorf("truncated entries (%d of %d bytes) parsed", i, len(valid))
		}
	}
	if _, err := parseRecord(meta, valid, len(meta)+len(valid)-1); err == nil {
		t.Error("size cap not enforced")
	}
	bad := []struct{ meta, entries []byte }{
		{nil, nil}, {[]byte{1, 1}, nil}, {[]byte{recordFormat}, nil}, {[]byte{recordFormat, 0xff}, nil},
		{meta, []byte{1, 'k', 99, 0}},
		{meta, []byte{1, 'k', 3, tInt8, 1, 0xfe}},
		{meta, []byte{1, 'k', 2, tString, 0, 0}},
		{meta, []byte{1, 'k', 3, tString, 0, 0}},
	}
	for _, b := range bad {
		if _, err := parseRecord(b.meta, b.entries, 1<<10); err == nil {
			t.Errorf("corrupt record %x|%x parsed", b.meta, b.entries)
		}
	}
}

func TestVerifyDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under -race; run without it: cd core && go test -run DoesNotAllocate (.ci/run does)")
	}
	s := newSigner("sid", testSecret, nil)
	long := strings.Repeat("A", 8<<10)
	allocs := testing.AllocsPerRun(100, func() { s.verify(long) })
	if allocs != 0 {
		t.Errorf("verify of an 8 KiB value allocated %v times; the length cap must come first", allocs)
	}
	v := s.sign("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ")
	if a := testing.AllocsPerRun(100, func() { s.verify(v) }); a != 0 {
		t.Errorf("verify allocated %v times per call, want 0", a)
	}
}

// TestLateChangeAfterCreateKeepsView: a session created by the first
// commit keeps its entries in the session's inline buffer; a late change
// committed afterwards must not overwrite them.
func TestLateChangeAfterCreateKeepsView(t *testing.T) {
	m, _ := New(Config{Secret: testSecret, Logger: slog.New(slog.DiscardHandler)})
	defer m.Close()
	ctx := context.Background()
	s, _ := m.load(ctx, nil, http.Header{}, http.Header{})
	s.Set("a", "alpha")
	if err := m.commit(ctx, s, 200); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s.Set(fmt.Sprintf("late%d", i), strings.Repeat("z", 30))
		if err := m.commit(ctx, s, 200); err != nil {
			t.Fatalf("late commit %d: %v", i, err)
		}
		if v, _ := Get[string](s, "a"); v != "alpha" {
			t.Fatalf("after late commit %d: a = %q, want alpha", i, v)
		}
	}
	rec, err := m.store.Get(ctx, s.ID())
	if err != nil {
		t.Fatal(err)
	}
	es, err := ParseEntries(rec.Entries)
	if err != nil || len(es) != 4 {
		t.Fatalf("stored entries %v, %v; want a and three late keys", es, err)
	}
	if v, _ := Get[string](s, "a"); v != "alpha" {
		t.Errorf("a = %q, want alpha", v)
	}
}
