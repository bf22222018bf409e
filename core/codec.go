package sess

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// Codec encodes session values whose types the built-in encoding does not
// cover, such as your own structs. Marshal and Unmarshal have the signatures
// of encoding/json's functions. Unmarshal must be safe on hostile input: it
// only ever sees bytes that passed the size cap, but a shared store could
// have been tampered with.
type Codec interface {
	Marshal(v any) ([]byte, error)
	Unmarshal(data []byte, v any) error
}

// JSONCodec is the default Codec, built on encoding/json. A value stored
// through it comes back from Get as its JSON form (map[string]any for a
// struct) and from the typed Get[T] as T.
type JSONCodec struct{}

// Marshal encodes v as JSON.
func (JSONCodec) Marshal(v any) ([]byte, error) { return json.Marshal(v) }

// Unmarshal decodes JSON data into v.
func (JSONCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// The record format. Meta = format byte, uvarint absolute deadline (Unix
// milliseconds); format 3 (a session with its own Lifetime) adds a
// persistence mode byte, a uvarint idle timeout in milliseconds and a
// uvarint cookie Max-Age in seconds (0 = the Manager's). Sessions with the
// Manager's lifetime keep format 2, so older readers still load them. Entries follow the store-facing entry encoding (see
// AppendEntry); each value is a tag byte, a uvarint payload length and the
// payload, so a key can be found and skipped without decoding values.
// Nested values (slices, maps) use the same tag/length/payload framing
// inside their payload.
//
// Format 4, a session bound to a principal (see Session.SetPrincipal),
// always carries the lifetime fields and adds a uvarint sign-in time (Unix
// milliseconds) and the principal, uvarint length first.
const (
	recordFormat         = 2
	recordFormatLifetime = 3
	recordFormatBound    = 4
)

// maxPrincipal caps the length of a principal in bytes.
const maxPrincipal = 256

const (
	tNil byte = iota
	tString
	tBytes
	tFalse
	tTrue
	tInt
	tInt8
	tInt16
	tInt32
	tInt64
	tUint
	tUint8
	tUint16
	tUint32
	tUint64
	tFloat32
	tFloat64
	tTime
	tDuration
	tStrings
	tInts
	tInt64s
	tFloat64s
	tBools
	tAnys
	tMapStringString
	tMapStringAny
	tMapStringInt
	tCodec = 0x7f
)

// maxDepth bounds nesting of []any and map[string]any values.
const maxDepth = 32

var errCorrupt = errors.New("sess: corrupt session record")

// errCodec wraps what Codec.Unmarshal reports: the built-in framing was
// valid, but the codec could not decode its payload.
var errCodec = errors.New("sess: codec")

type header struct {
	absolute  int64 // Unix milliseconds
	lt        lifetime
	created   int64  // bound sessions: sign-in time, Unix milliseconds
	principal []byte // bound sessions: the principal, aliasing Meta
}

// parseRecord validates a whole record (so later lazy decoding of single
// values cannot fail on framing) and returns its header.
func parseRecord(meta, entries []byte, limit int) (header, error) {
	var h header
	if size := len(meta) + len(entries); size > limit {
		return h, fmt.Errorf("%w: %d bytes exceeds the %d-byte cap", errCorrupt, size, limit)
	}
	if len(meta) < 2 || meta[0] < recordFormat || meta[0] > recordFormatBound {
		return h, fmt.Errorf("%w: unknown format", errCorrupt)
	}
	abs, n := binary.Uvarint(meta[1:])
	if n <= 0 || abs > math.MaxInt64 {
		return h, fmt.Errorf("%w: bad header", errCorrupt)
	}
	h.absolute = int64(abs)
	if meta[0] >= recordFormatLifetime {
		lt, rest, err := parseLifetime(meta[1+n:])
		if err != nil {
			return h, err
		}
		h.lt = lt
		if meta[0] == recordFormatBound {
			if h.created, h.principal, err = parseBinding(rest); err != nil {
				return h, err
			}
		} else if len(rest) != 0 {
			return h, fmt.Errorf("%w: bad lifetime header", errCorrupt)
		}
	}
	for rest := entries; len(rest) > 0; {
		_, v, r, err := NextEntry(rest)
		if err != nil {
			return h, fmt.Errorf("%w: %w", errCorrupt, err)
		}
		rest = r
		tag, payload, after, err := readValue(v)
		if err != nil {
			return h, err
		}
		if len(after) != 0 {
			return h, fmt.Errorf("%w: trailing bytes after a value", errCorrupt)
		}
		if err := validateValue(tag, payload, 0); err != nil {
			return h, err
		}
	}
	return h, nil
}

// appendMeta appends the Meta of a record with the given absolute deadline
// and lifetime, bound to principal (signed in at created) if principal is
// not empty.
func appendMeta(b []byte, absolute int64, lt lifetime, created int64, principal []byte) []byte {
	if !lt.custom() && len(principal) == 0 {
		return binary.AppendUvarint(append(b, recordFormat), uint64(absolute))
	}
	format := byte(recordFormatLifetime)
	if len(principal) > 0 {
		format = recordFormatBound
	}
	b = binary.AppendUvarint(append(b, format), uint64(absolute))
	b = append(b, lt.mode)
	b = binary.AppendUvarint(b, uint64(lt.idle/time.Millisecond))
	b = binary.AppendUvarint(b, uint64(lt.maxAge))
	if len(principal) == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(max(created, 0)))
	b = binary.AppendUvarint(b, uint64(len(principal)))
	return append(b, principal...)
}

// parseLifetime parses the lifetime fields of a format-3 or -4 Meta and
// returns the bytes after them.
func parseLifetime(b []byte) (lifetime, []byte, error) {
	var lt lifetime
	bad := fmt.Errorf("%w: bad lifetime header", errCorrupt)
	if len(b) < 3 || b[0] > modeLast {
		return lt, nil, bad
	}
	lt.mode = b[0]
	idle, n := binary.Uvarint(b[1:])
	if n <= 0 || idle > uint64(MaxCookieAge/time.Millisecond)*10 {
		return lt, nil, bad
	}
	age, k := binary.Uvarint(b[1+n:])
	if k <= 0 || age > uint64(MaxCookieAge/time.Second) {
		return lt, nil, bad
	}
	lt.idle, lt.maxAge = time.Duration(idle)*time.Millisecond, uint32(age)
	return lt, b[1+n+k:], nil
}

// parseBinding parses the sign-in time and principal of a format-4 Meta,
// which must end with them.
func parseBinding(b []byte) (created int64, principal []byte, err error) {
	bad := fmt.Errorf("%w: bad principal header", errCorrupt)
	c, n := binary.Uvarint(b)
	if n <= 0 || c > math.MaxInt64 {
		return 0, nil, bad
	}
	l, k := binary.Uvarint(b[n:])
	if k <= 0 || l == 0 || l > maxPrincipal || uint64(len(b)-n-k) != l {
		return 0, nil, bad
	}
	return int64(c), b[n+k:], nil
}

func readKey(b []byte) (string, []byte, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return "", nil, fmt.Errorf("%w: bad key", errCorrupt)
	}
	return string(b[n : n+int(l)]), b[n+int(l):], nil
}

func readValue(b []byte) (tag byte, payload, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("%w: short value", errCorrupt)
	}
	tag = b[0]
	l, n := binary.Uvarint(b[1:])
	if n <= 0 || l > uint64(len(b)-1-n) {
		return 0, nil, nil, fmt.Errorf("%w: bad value length", errCorrupt)
	}
	start := 1 + n
	return tag, b[start : start+int(l)], b[start+int(l):], nil
}

// findEntry returns the tag and payload stored under key in entries.
func findEntry(entries []byte, key string) (byte, []byte, bool) {
	for rest := entries; len(rest) > 0; {
		k, v, r, err := NextEntry(rest)
		if err != nil {
			return 0, nil, false
		}
		if string(k) == key {
			tag, payload, _, err := readValue(v)
			return tag, payload, err == nil
		}
		rest = r
	}
	return 0, nil, false
}

// appendEntryValue appends an entry for key holding the encoding of v.
func appendEntryValue(b []byte, key string, v any, codec Codec) ([]byte, error) {
	b = appendString(b, key)
	// One byte for the value length, as in appendValue; shifted if longer.
	start := len(b)
	b = append(b, 0)
	b, err := appendValue(b, v, codec, 0)
	if err != nil {
		return b, err
	}
	vlen := len(b) - start - 1
	if vlen < 0x80 {
		b[start] = byte(vlen)
		return b, nil
	}
	var lenBuf [binary.MaxVarintLen64]byte
	ln := binary.PutUvarint(lenBuf[:], uint64(vlen))
	b = append(b, lenBuf[:ln-1]...)
	copy(b[start+ln:], b[start+1:start+1+vlen])
	copy(b[start:], lenBuf[:ln])
	return b, nil
}

func validateValue(tag byte, p []byte, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nesting deeper than %d", errCorrupt, maxDepth)
	}
	bad := func() error { return fmt.Errorf("%w: bad payload for tag %d", errCorrupt, tag) }
	switch tag {
	case tNil, tFalse, tTrue:
		if len(p) != 0 {
			return bad()
		}
	case tString, tBytes, tCodec:
	case tInt, tInt8, tInt16, tInt32, tInt64, tDuration:
		v, n := binary.Varint(p)
		if n <= 0 || n != len(p) || !intFits(tag, v) {
			return bad()
		}
	case tUint, tUint8, tUint16, tUint32, tUint64:
		v, n := binary.Uvarint(p)
		if n <= 0 || n != len(p) || !uintFits(tag, v) {
			return bad()
		}
	case tFloat32:
		if len(p) != 4 {
			return bad()
		}
	case tFloat64:
		if len(p) != 8 {
			return bad()
		}
	case tTime:
		var t time.Time
		if err := t.UnmarshalBinary(p); err != nil {
			return bad()
		}
	case tStrings:
		for len(p) > 0 {
			var err error
			if _, p, err = readKey(p); err != nil {
				return bad()
			}
		}
	case tInts, tInt64s:
		for len(p) > 0 {
			_, n := binary.Varint(p)
			if n <= 0 {
				return bad()
			}
			p = p[n:]
		}
	case tFloat64s:
		if len(p)%8 != 0 {
			return bad()
		}
	case tBools:
		for _, c := range p {
			if c > 1 {
				return bad()
			}
		}
	case tAnys:
		for len(p) > 0 {
			t, sub, rest, err := readValue(p)
			if err != nil {
				return err
			}
			if err := validateValue(t, sub, depth+1); err != nil {
				return err
			}
			p = rest
		}
	case tMapStringString, tMapStringInt, tMapStringAny:
		for len(p) > 0 {
			var err error
			if _, p, err = readKey(p); err != nil {
				return bad()
			}
			switch tag {
			case tMapStringString:
				if _, p, err = readKey(p); err != nil {
					return bad()
				}
			case tMapStringInt:
				_, n := binary.Varint(p)
				if n <= 0 {
					return bad()
				}
				p = p[n:]
			default:
				t, sub, rest, err := readValue(p)
				if err != nil {
					return err
				}
				if err := validateValue(t, sub, depth+1); err != nil {
					return err
				}
				p = rest
			}
		}
	default:
		return fmt.Errorf("%w: unknown tag %d", errCorrupt, tag)
	}
	return nil
}

func intFits(tag byte, v int64) bool {
	switch tag {
	case tInt:
		return v >= math.MinInt && v <= math.MaxInt
	case tInt8:
		return v >= math.MinInt8 && v <= math.MaxInt8
	case tInt16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case tInt32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return true
}

func uintFits(tag byte, v uint64) bool {
	switch tag {
	case tUint:
		return v <= math.MaxUint
	case tUint8:
		return v <= math.MaxUint8
	case tUint16:
		return v <= math.MaxUint16
	case tUint32:
		return v <= math.MaxUint32
	}
	return true
}

// decodeScalar decodes numeric tags, checking the range of sized types.
func decodeScalar(tag byte, p []byte) (any, error) {
	switch tag {
	case tInt, tInt8, tInt16, tInt32, tInt64, tDuration:
		v, _ := binary.Varint(p)
		switch tag {
		case tInt:
			if v < math.MinInt || v > math.MaxInt {
				return nil, errCorrupt
			}
			return int(v), nil
		case tInt8:
			if v < math.MinInt8 || v > math.MaxInt8 {
				return nil, errCorrupt
			}
			return int8(v), nil
		case tInt16:
			if v < math.MinInt16 || v > math.MaxInt16 {
				return nil, errCorrupt
			}
			return int16(v), nil
		case tInt32:
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, errCorrupt
			}
			return int32(v), nil
		case tDuration:
			return time.Duration(v), nil
		}
		return v, nil
	case tUint, tUint8, tUint16, tUint32, tUint64:
		v, _ := binary.Uvarint(p)
		switch tag {
		case tUint:
			if v > math.MaxUint {
				return nil, errCorrupt
			}
			return uint(v), nil
		case tUint8:
			if v > math.MaxUint8 {
				return nil, errCorrupt
			}
			return uint8(v), nil
		case tUint16:
			if v > math.MaxUint16 {
				return nil, errCorrupt
			}
			return uint16(v), nil
		case tUint32:
			if v > math.MaxUint32 {
				return nil, errCorrupt
			}
			return uint32(v), nil
		}
		return v, nil
	}
	return nil, errCorrupt
}

// decodeValue turns a validated payload into a fresh Go value. Values of
// tCodec are decoded into an any through codec.
func decodeValue(tag byte, p []byte, codec Codec) (any, error) {
	switch tag {
	case tNil:
		return nil, nil
	case tString:
		return string(p), nil
	case tBytes:
		return append([]byte{}, p...), nil
	case tFalse:
		return false, nil
	case tTrue:
		return true, nil
	case tInt, tInt8, tInt16, tInt32, tInt64, tDuration, tUint, tUint8, tUint16, tUint32, tUint64:
		return decodeScalar(tag, p)
	case tFloat32:
		return math.Float32frombits(binary.LittleEndian.Uint32(p)), nil
	case tFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(p)), nil
	case tTime:
		var t time.Time
		err := t.UnmarshalBinary(p)
		return t, err
	case tStrings:
		out := []string{}
		for len(p) > 0 {
			s, rest, err := readKey(p)
			if err != nil {
				return nil, err
			}
			out, p = append(out, s), rest
		}
		return out, nil
	case tInts, tInt64s:
		var ints []int
		var i64s []int64
		for len(p) > 0 {
			v, n := binary.Varint(p)
			if n <= 0 {
				return nil, errCorrupt
			}
			if tag == tInts {
				ints = append(ints, int(v))
			} else {
				i64s = append(i64s, v)
			}
			p = p[n:]
		}
		if tag == tInts {
			if ints == nil {
				ints = []int{}
			}
			return ints, nil
		}
		if i64s == nil {
			i64s = []int64{}
		}
		return i64s, nil
	case tFloat64s:
		out := make([]float64, len(p)/8)
		for i := range out {
			out[i] = math.Float64frombits(binary.LittleEndian.Uint64(p[8*i:]))
		}
		return out, nil
	case tBools:
		out := make([]bool, len(p))
		for i, c := range p {
			out[i] = c == 1
		}
		return out, nil
	case tAnys:
		out := []any{}
		for len(p) > 0 {
			t, sub, rest, err := readValue(p)
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(t, sub, codec)
			if err != nil {
				return nil, err
			}
			out, p = append(out, v), rest
		}
		return out, nil
	case tMapStringString:
		out := map[string]string{}
		for len(p) > 0 {
			k, rest, err := readKey(p)
			if err != nil {
				return nil, err
			}
			v, rest, err := readKey(rest)
			if err != nil {
				return nil, err
			}
			out[k], p = v, rest
		}
		return out, nil
	case tMapStringInt:
		out := map[string]int{}
		for len(p) > 0 {
			k, rest, err := readKey(p)
			if err != nil {
				return nil, err
			}
			v, n := binary.Varint(rest)
			if n <= 0 {
				return nil, errCorrupt
			}
			out[k], p = int(v), rest[n:]
		}
		return out, nil
	case tMapStringAny:
		out := map[string]any{}
		for len(p) > 0 {
			k, rest, err := readKey(p)
			if err != nil {
				return nil, err
			}
			t, sub, rest, err := readValue(rest)
			if err != nil {
				return nil, err
			}
			v, err := decodeValue(t, sub, codec)
			if err != nil {
				return nil, err
			}
			out[k], p = v, rest
		}
		return out, nil
	case tCodec:
		var v any
		if err := codec.Unmarshal(p, &v); err != nil {
			return nil, fmt.Errorf("%w: %w", errCodec, err)
		}
		return v, nil
	}
	return nil, errCorrupt
}

// appendString appends a uvarint length and s.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends tag, length and payload for v. Types outside the
// built-in set go through codec.
func appendValue(b []byte, v any, codec Codec, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("%w: nesting deeper than %d", ErrEncode, maxDepth)
	}
	// Reserve one byte for the length; most payloads are short. If the
	// payload turns out longer, shift it to make room for the full varint.
	start := len(b)
	b = append(b, 0, 0)
	var tag byte
	var err error
	switch x := v.(type) {
	case nil:
		tag = tNil
	case string:
		tag, b = tString, append(b, x...)
	case []byte:
		tag, b = tBytes, append(b, x...)
	case bool:
		tag = tFalse
		if x {
			tag = tTrue
		}
	case int:
		tag, b = tInt, binary.AppendVarint(b, int64(x))
	case int8:
		tag, b = tInt8, binary.AppendVarint(b, int64(x))
	case int16:
		tag, b = tInt16, binary.AppendVarint(b, int64(x))
	case int32:
		tag, b = tInt32, binary.AppendVarint(b, int64(x))
	case int64:
		tag, b = tInt64, binary.AppendVarint(b, x)
	case uint:
		tag, b = tUint, binary.AppendUvarint(b, uint64(x))
	case uint8:
		tag, b = tUint8, binary.AppendUvarint(b, uint64(x))
	case uint16:
		tag, b = tUint16, binary.AppendUvarint(b, uint64(x))
	case uint32:
		tag, b = tUint32, binary.AppendUvarint(b, uint64(x))
	case uint64:
		tag, b = tUint64, binary.AppendUvarint(b, x)
	case float32:
		tag, b = tFloat32, binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	case float64:
		tag, b = tFloat64, binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	case time.Duration:
		tag, b = tDuration, binary.AppendVarint(b, int64(x))
	case time.Time:
		tag = tTime
		b, err = x.AppendBinary(b)
	case []string:
		tag = tStrings
		for _, s := range x {
			b = appendString(b, s)
		}
	case []int:
		tag = tInts
		for _, i := range x {
			b = binary.AppendVarint(b, int64(i))
		}
	case []int64:
		tag = tInt64s
		for _, i := range x {
			b = binary.AppendVarint(b, i)
		}
	case []float64:
		tag = tFloat64s
		for _, f := range x {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
		}
	case []bool:
		tag = tBools
		for _, t := range x {
			c := byte(0)
			if t {
				c = 1
			}
			b = append(b, c)
		}
	case []any:
		tag = tAnys
		for _, e := range x {
			if b, err = appendValue(b, e, codec, depth+1); err != nil {
				return b, err
			}
		}
	case map[string]string:
		tag = tMapStringString
		for _, k := range sortedKeys(x) {
			b = appendString(appendString(b, k), x[k])
		}
	case map[string]int:
		tag = tMapStringInt
		for _, k := range sortedKeys(x) {
			b = binary.AppendVarint(appendString(b, k), int64(x[k]))
		}
	case map[string]any:
		tag = tMapStringAny
		for _, k := range sortedKeys(x) {
			b = appendString(b, k)
			if b, err = appendValue(b, x[k], codec, depth+1); err != nil {
				return b, err
			}
		}
	default:
		tag = tCodec
		var enc []byte
		enc, err = codec.Marshal(v)
		if err == nil {
			b = append(b, enc...)
		} else {
			err = fmt.Errorf("%w: %T: %w", ErrEncode, v, err)
		}
	}
	if err != nil {
		return b, err
	}
	b[start] = tag
	plen := len(b) - start - 2
	if plen < 0x80 {
		b[start+1] = byte(plen)
		return b, nil
	}
	var lenBuf [binary.MaxVarintLen64]byte
	ln := binary.PutUvarint(lenBuf[:], uint64(plen))
	b = append(b, lenBuf[:ln-1]...) // grow by the extra length bytes
	copy(b[start+1+ln:], b[start+2:start+2+plen])
	copy(b[start+1:], lenBuf[:ln])
	return b, nil
}
