package sess

import "sync/atomic"

// verifyCache remembers cookie values whose MAC verified, so that the next
// request of the same session skips the HMAC (about a quarter of a hit's
// core work). It maps the exact value a client sent to the key index it
// verified with; nothing that failed verification is ever stored, so
// forged cookies cannot fill it, and a value is found only by a request
// that sends it byte for byte. It says nothing about whether the session
// exists: the store still decides that on every request.
//
// It is a direct-mapped table of verifySlots entries, lock-free: the slot
// of a value is picked by characters of its MAC, which are uniformly
// random for values the Manager issued and unknown to anyone else. A new
// value takes its slot unless the value there was used since it was last
// challenged (second chance): then that one stays and only loses its mark,
// so two busy sessions sharing a slot do not evict each other on every
// request (the loser just pays the HMAC).
//
// With many sessions the table is mostly out of the CPU's caches, so its
// layout counts memory reads: each slot keeps a tag (more characters of
// the MAC) beside its pointer, so a value that is not cached costs one read
// of the table and no more, and a cached value is compared with one read
// of its entry, which holds the value's bytes inline. Values longer than
// verifyMaxLen (only IDs of a custom generator are) are not cached. At its
// fullest the table holds about 2.4 MB (16,384 entries of 128 bytes and
// the 256 KB table).
type verifyCache struct {
	slots [verifySlots]verifySlot
}

// verifySlots is the number of slots: a power of two.
const verifySlots = 1 << 14

// verifyMaxLen is the longest value cached: a 64-character ID, the dot and
// the MAC.
const verifyMaxLen = 64 + 1 + macB64Len

type verifySlot struct {
	tag atomic.Uint64 // verifyTag of the value in p; only a hint
	p   atomic.Pointer[verified]
}

type verified struct {
	used atomic.Bool // found since it was last challenged
	key  int32
	n    uint8
	b    [verifyMaxLen]byte // the value, owned
}

// slot returns the slot of value and the tag it is stored with. value is
// verified-shaped: an ID, a dot and a 43-character base64url MAC.
func (c *verifyCache) slot(value string) (*verifySlot, uint64) {
	mac := value[len(value)-macB64Len:]
	var i, tag uint64
	for _, ch := range []byte(mac[:3]) {
		i = i<<6 | uint64(b64Values[ch])
	}
	for _, ch := range []byte(mac[3:13]) {
		tag = tag<<6 | uint64(b64Values[ch])
	}
	return &c.slots[i%verifySlots], tag
}

// get returns the key index value verified with, if it is cached.
func (c *verifyCache) get(value string) (key int, ok bool) {
	slot, tag := c.slot(value)
	if slot.tag.Load() != tag {
		return 0, false
	}
	if r := slot.p.Load(); r != nil && string(r.b[:r.n]) == value {
		if !r.used.Load() {
			r.used.Store(true)
		}
		return int(r.key), true
	}
	return 0, false
}

// put caches a value that verified with key. It copies value: callers'
// strings may alias buffers a server reuses (fasthttp).
func (c *verifyCache) put(value string, key int) {
	if len(value) > verifyMaxLen {
		return
	}
	slot, tag := c.slot(value)
	if old := slot.p.Load(); old != nil && old.used.Load() {
		old.used.Store(false)
		return
	}
	r := &verified{key: int32(key), n: uint8(len(value))}
	copy(r.b[:], value)
	// A reader may see the new tag with the old entry or the other way
	// round: the comparison of the whole value decides, the tag only
	// saves reading entries that cannot match.
	slot.p.Store(r)
	slot.tag.Store(tag)
}
