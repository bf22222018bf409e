package sess

import "sync/atomic"

// verifyCache remembers cookie values whose MAC verified, so that the next
// request of the same session skips the HMAC (about a quarter of a hit's
// core work). It maps the exact value a client sent to the ID and key index
// it verified with; nothing that failed verification is ever stored, so
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
// request (the loser just pays the HMAC). At its fullest it holds about
// 2 MB.
type verifyCache struct {
	slots [verifySlots]atomic.Pointer[verified]
}

// verifySlots is the number of slots: a power of two.
const verifySlots = 1 << 14

type verified struct {
	value string // the whole cookie value, owned
	id    string // its ID part
	key   int
	used  atomic.Bool // found since it was last challenged
}

// slot returns the slot of value, a verified-shaped cookie value (an ID,
// a dot and a 43-character base64url MAC).
func (c *verifyCache) slot(value string) *atomic.Pointer[verified] {
	mac := value[len(value)-macB64Len:]
	i := uint(b64Values[mac[0]]) | uint(b64Values[mac[1]])<<6 | uint(b64Values[mac[2]])<<12
	return &c.slots[i%verifySlots]
}

// get returns the ID and key index value verified with, if it is cached.
func (c *verifyCache) get(value string) (id string, key int, ok bool) {
	if r := c.slot(value).Load(); r != nil && r.value == value {
		if !r.used.Load() {
			r.used.Store(true)
		}
		return r.id, r.key, true
	}
	return "", 0, false
}

// put caches a value that verified as id with key. It copies value:
// callers' strings may alias buffers a server reuses (fasthttp).
func (c *verifyCache) put(value, id string, key int) {
	slot := c.slot(value)
	if old := slot.Load(); old != nil && old.used.Load() {
		old.used.Store(false)
		return
	}
	own := string([]byte(value))
	slot.Store(&verified{value: own, id: own[:len(id)], key: key})
}
