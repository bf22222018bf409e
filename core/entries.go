package sess

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The entry encoding of Record.Entries, for store authors. Entries is a
// sequence of entries, each
//
//	uvarint(len(key)) ‖ key ‖ uvarint(len(value)) ‖ value
//
// where uvarint is encoding/binary's unsigned varint. Keys are unique
// within one Entries; the order of entries carries no meaning. Values are
// opaque to stores. A store that keeps one field per key (a Redis hash, SQL
// rows) rebuilds Entries on Get by calling AppendEntry once per field; a
// store that keeps Entries as one blob applies patches with ApplyPatch.

// ErrBadEntries reports Entries bytes that do not follow the entry encoding.
var ErrBadEntries = errors.New("sess: malformed entry encoding")

// AppendEntry appends the encoding of one entry to b and returns the
// extended slice.
func AppendEntry(b []byte, key string, value []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	b = binary.AppendUvarint(b, uint64(len(value)))
	return append(b, value...)
}

// EntrySize returns how many bytes AppendEntry adds for an entry with a
// key of keyLen bytes and a value of valueLen bytes. The size of a record,
// which Patch.MaxSize caps, is len(Meta) plus the sum of EntrySize over its
// entries.
func EntrySize(keyLen, valueLen int) int {
	return uvarintLen(uint64(keyLen)) + keyLen + uvarintLen(uint64(valueLen)) + valueLen
}

// NextEntry decodes the first entry of entries and returns its key and
// value (both aliasing entries) and the entries after it. It allocates
// nothing. Iterate with:
//
//	for rest := entries; len(rest) > 0; {
//		key, value, r, err := sess.NextEntry(rest)
//		if err != nil { ... }
//		rest = r
//	}
func NextEntry(entries []byte) (key, value, rest []byte, err error) {
	kl, n := binary.Uvarint(entries)
	if n <= 0 || kl > uint64(len(entries)-n) {
		return nil, nil, nil, fmt.Errorf("%w: bad key length", ErrBadEntries)
	}
	key = entries[n : n+int(kl)]
	rest = entries[n+int(kl):]
	vl, n := binary.Uvarint(rest)
	if n <= 0 || vl > uint64(len(rest)-n) {
		return nil, nil, nil, fmt.Errorf("%w: bad value length", ErrBadEntries)
	}
	return key, rest[n : n+int(vl)], rest[n+int(vl):], nil
}

// ParseEntries decodes entries into a new slice of Entry whose values
// alias entries.
func ParseEntries(entries []byte) ([]Entry, error) {
	var out []Entry
	for rest := entries; len(rest) > 0; {
		k, v, r, err := NextEntry(rest)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Key: string(k), Value: v})
		rest = r
	}
	return out, nil
}

// ApplyPatch appends to dst the entries that result from applying p's
// Clear, Delete and Set (step 4 of the Patch rules) to entries, and
// returns the extended slice. It ignores p's other fields, which the store
// checks itself. dst must not overlap entries or p's values.
func ApplyPatch(dst, entries []byte, p *Patch) ([]byte, error) {
	// Small patches (the common case: a request changes a key or two) are
	// matched by a linear scan; large ones through a map.
	var last map[string]int // key -> index of its last Set, or -1 if deleted
	if len(p.Set)+len(p.Delete) > 8 {
		last = make(map[string]int, len(p.Set)+len(p.Delete))
		for _, k := range p.Delete {
			last[k] = -1
		}
		for i, e := range p.Set {
			last[e.Key] = i
		}
	}
	if !p.Clear {
		for rest := entries; len(rest) > 0; {
			k, _, r, err := NextEntry(rest)
			if err != nil {
				return dst, err
			}
			var touched bool
			if last != nil {
				_, touched = last[string(k)]
			} else {
				touched = patchTouches(p, k)
			}
			if !touched {
				dst = append(dst, rest[:len(rest)-len(r)]...)
			}
			rest = r
		}
	}
	for i, e := range p.Set {
		if last != nil {
			if last[e.Key] != i {
				continue
			}
		} else if setAgain(p.Set[i+1:], e.Key) {
			continue
		}
		dst = AppendEntry(dst, e.Key, e.Value)
	}
	return dst, nil
}

// patchTouches reports whether p sets or deletes key.
func patchTouches(p *Patch, key []byte) bool {
	for i := range p.Set {
		if p.Set[i].Key == string(key) {
			return true
		}
	}
	for _, k := range p.Delete {
		if k == string(key) {
			return true
		}
	}
	return false
}

// setAgain reports whether key is set in rest.
func setAgain(rest []Entry, key string) bool {
	for i := range rest {
		if rest[i].Key == key {
			return true
		}
	}
	return false
}

// uvarintLen returns the length of the uvarint encoding of x.
func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
