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
// The table has a fixed number of slots, indexed by the first characters
// of the MAC (uniformly distributed, and not chosen by a client without
// the key: values that did not verify are never stored). A newly verified
// value takes its slot unless the value there was used since it was last
// challenged (second chance): then that one stays and only loses its mark,
// so two busy sessions sharing a slot do not evict each other on every
// request (the loser just pays the HMAC).
//
// With many sessions the table is mostly out of the CPU's caches, so it is
// laid out for few memory reads and no allocation: each slot is 128 bytes
// holding the value inline, a tag (more characters of the MAC) and the
// second-chance mark in its first 16, so a value that is not cached costs
// one read and a cached one the slot's two cache lines. Writers replace a
// slot's value in place under the slot's sequence number (a seqlock, all
// in atomic words): a reader that overlaps a write sees the sequence
// change and treats the value as not cached. Values longer than
// verifyMaxLen (only IDs of a custom generator are) and key indexes past
// 255 are not cached. At its fullest the table holds 2 MB, allocated in
// chunks of 64 slots as values are put in them.
type verifyCache struct {
	chunks [verifySlots / verifyChunk]atomic.Pointer[[verifyChunk]verifySlot]
}

// verifySlots is the number of slots: a power of two.
const verifySlots = 1 << 14

// verifyChunk is the number of slots allocated together (8 KB), when the
// first value is put in one of them, so a Manager that serves few sessions
// holds little of the table.
const verifyChunk = 64

// verifyMaxLen is the longest value cached: a 64-character ID, the dot and
// the MAC, rounded up to whole words.
const verifyMaxLen = len(verifySlot{}.w) * 8

// verifySlot is one cached value. meta packs the value's length (bits
// 0-7), its key index (8-15), the second-chance mark (16) and its tag
// (17-63); w holds the value's bytes, little endian, zero after its end.
type verifySlot struct {
	seq  atomic.Uint64 // odd while a writer changes the slot
	meta atomic.Uint64
	w    [14]atomic.Uint64
}

const verifyUsed = 1 << 16

// index returns the slot index of value and the bits of meta that identify
// it (tag and length). value is verified-shaped: an ID, a dot and a
// 43-character base64url MAC.
func (c *verifyCache) index(value string) (int, uint64) {
	mac := value[len(value)-macB64Len:]
	var i, tag uint64
	for _, ch := range []byte(mac[:3]) {
		i = i<<6 | uint64(b64Values[ch])
	}
	for _, ch := range []byte(mac[3:11]) {
		tag = tag<<6 | uint64(b64Values[ch])
	}
	return int(i % verifySlots), tag<<17 | uint64(len(value))
}

// word returns the i-th 8 bytes of value, little endian, zero past its end.
func word(value string, i int) uint64 {
	if k := i * 8; k+8 <= len(value) {
		return le64(value[k : k+8])
	}
	var w uint64
	for j := len(value) - 1; j >= i*8; j-- {
		w = w<<8 | uint64(value[j])
	}
	return w
}

// le64 returns the 8 bytes of b as a little-endian word (one load).
func le64(b string) uint64 {
	_ = b[7]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// get returns the key index value verified with, if it is cached.
func (c *verifyCache) get(value string) (key int, ok bool) {
	if len(value) > verifyMaxLen {
		return 0, false
	}
	i, id := c.index(value)
	chunk := c.chunks[i/verifyChunk].Load()
	if chunk == nil {
		return 0, false
	}
	sl := &chunk[i%verifyChunk]
	seq := sl.seq.Load()
	meta := sl.meta.Load()
	if seq&1 != 0 || meta&^(verifyUsed|0xff00) != id {
		return 0, false
	}
	j := 0
	for ; j+8 <= len(value); j += 8 {
		if sl.w[j/8].Load() != le64(value[j:j+8]) {
			return 0, false
		}
	}
	if j < len(value) && sl.w[j/8].Load() != word(value, j/8) {
		return 0, false
	}
	if sl.seq.Load() != seq {
		return 0, false // a writer changed the slot while it was read
	}
	if meta&verifyUsed == 0 {
		// Best effort: a writer that replaced the value meanwhile wins.
		sl.meta.CompareAndSwap(meta, meta|verifyUsed)
	}
	return int(meta >> 8 & 0xff), true
}

// put caches a value that verified with key. It copies value: callers'
// strings may alias buffers a server reuses (fasthttp).
func (c *verifyCache) put(value string, key int) {
	if len(value) > verifyMaxLen || key > 0xff {
		return
	}
	i, id := c.index(value)
	p := &c.chunks[i/verifyChunk]
	chunk := p.Load()
	if chunk == nil {
		p.CompareAndSwap(nil, new([verifyChunk]verifySlot))
		chunk = p.Load()
	}
	sl := &chunk[i%verifyChunk]
	if meta := sl.meta.Load(); meta&verifyUsed != 0 {
		sl.meta.CompareAndSwap(meta, meta&^verifyUsed)
		return
	}
	seq := sl.seq.Load()
	if seq&1 != 0 || !sl.seq.CompareAndSwap(seq, seq+1) {
		return // another writer has the slot
	}
	sl.meta.Store(id | uint64(key)<<8)
	for j := range sl.w {
		sl.w[j].Store(word(value, j))
	}
	sl.seq.Store(seq + 2)
}
