package sess

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// FuzzVerifyCookie: arbitrary values never panic, and a value verifies only
// if it is exactly the signature of its ID (one ID, one cookie string).
func FuzzVerifyCookie(f *testing.F) {
	s := newSigner("sid", testSecret, nil)
	id := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
	v := s.sign(id)
	for _, seed := range []string{v, v + "x", v[:len(v)-1], id, "", ".", "a.b", strings.Repeat("A", 200), v + "==", `"` + v + `"`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		got, _, ok := s.verify(value)
		if !ok {
			return
		}
		if s.sign(got) != value {
			t.Fatalf("verify accepted %q, which is not sign(%q)", value, got)
		}
		if !validID(got) {
			t.Fatalf("verify returned an invalid ID %q", got)
		}
	})
}

// FuzzCookieHeader: arbitrary Cookie headers never panic and yield at most
// maxCandidates values that are substrings of the header.
func FuzzCookieHeader(f *testing.F) {
	for _, seed := range []string{"sid=abc", "a=1; sid=\"x\"; sid=y", "sid", ";;;", "sid=;sid= ;sid=\t", strings.Repeat("a=;", 3001) + "sid=z"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		var out [maxCandidates]string
		n := cookieCandidates([]string{header, header}, "sid", &out)
		if n > maxCandidates {
			t.Fatalf("%d candidates", n)
		}
		for _, c := range out[:n] {
			if !strings.Contains(header, c) {
				t.Fatalf("candidate %q not from the header", c)
			}
		}
	})
}

// FuzzRecord: arbitrary stored bytes never panic; whatever parses decodes
// fully, and re-encoding decoded values round-trips.
func FuzzRecord(f *testing.F) {
	good := []byte{recordFormat, 1}
	good, _ = appendEntryValue(good, "k", map[string]any{"a": []any{1, "x", true}, "b": 2.5}, JSONCodec{})
	f.Add(good)
	f.Add([]byte{recordFormat, 1, 1, 'k', 2, tAnys, 0x7f})
	f.Add([]byte{recordFormat, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	deep := []byte{recordFormat, 1, 1, 'k', 80}
	for range 40 {
		deep = append(deep, tAnys, 2)
	}
	f.Add(deep)
	f.Fuzz(func(t *testing.T, data []byte) {
		// The input is Meta (format byte and a uvarint) followed by Entries.
		if len(data) < 2 {
			return
		}
		_, n := binary.Uvarint(data[1:])
		if n <= 0 {
			return
		}
		meta, entries := data[:1+n], data[1+n:]
		if _, err := parseRecord(meta, entries, 4096); err != nil {
			return
		}
		rest := entries
		for len(rest) > 0 {
			kb, raw, r2, err := NextEntry(rest)
			if err != nil {
				t.Fatalf("validated record failed to re-read: %v", err)
			}
			k := string(kb)
			tag, p, _, err := readValue(raw)
			if err != nil {
				t.Fatalf("validated record failed to re-read value: %v", err)
			}
			v, err := decodeValue(tag, p, JSONCodec{})
			// Codec payloads (also nested ones) are opaque to validation:
			// the codec alone may reject them.
			if err != nil && !errors.Is(err, errCodec) {
				t.Fatalf("validated value %q (tag %d) failed to decode: %v", k, tag, err)
			}
			if err == nil && tag != tCodec {
				if _, err := appendValue(nil, v, JSONCodec{}, 0); err != nil {
					t.Fatalf("decoded value %q does not re-encode: %v", k, err)
				}
			}
			rest = r2
		}
	})
}

// FuzzDecodeID: the memory store's fast ID decoder agrees with the strict
// base64url decoder on every 43-character input.
func FuzzDecodeID(f *testing.F) {
	for range 4 {
		id, _ := RandomID()
		f.Add(id)
	}
	f.Add(strings.Repeat("_", 43))
	f.Add(strings.Repeat("A", 42) + "B")
	f.Add(strings.Repeat("A", 42) + "=")
	f.Fuzz(func(t *testing.T, id string) {
		if len(id) != 43 {
			return
		}
		var got [32]byte
		ok := decodeID(id, &got)
		var want [32]byte
		n, err := b64.Decode(want[:], []byte(id))
		wantOK := err == nil && n == 32 && !strings.ContainsAny(id, "\r\n")
		if ok != wantOK || ok && got != want {
			t.Fatalf("decodeID(%q) = %x, %v; strict decoder: %x, %v", id, got, ok, want, wantOK)
		}
	})
}
