package sess

import "sync"

// verifyCache remembers cookie values whose MAC verified, so that the next
// request of the same session skips the HMAC (about a quarter of a hit's
// core work). It maps the exact value a client sent to the ID and key index
// it verified with; nothing that failed verification is ever stored, so
// forged cookies cannot fill it, and a value is found only by a request
// that sends it byte for byte. It says nothing about whether the session
// exists: the store still decides that on every request.
//
// It is bounded: 16 shards (picked by the MAC's last character, which is
// random), each with two generations of verifyGen entries; when the
// current generation is full it becomes the old one and the previous old
// one is dropped. A value found in the old generation moves to the current
// one, so active sessions stay.
type verifyCache struct {
	shards [16]verifyShard
}

// verifyGen is the size of one generation of one shard: at most
// 16 × 2 × 512 = 16,384 values, about 2.5 MB at their largest.
const verifyGen = 512

type verifyShard struct {
	mu       sync.RWMutex
	cur, old map[string]verified
	_        [24]byte // keep shards on separate cache lines
}

type verified struct {
	id  string
	key int
}

func (c *verifyCache) shard(value string) *verifyShard {
	return &c.shards[value[len(value)-1]&15]
}

// get returns what value verified as, if it is cached.
func (c *verifyCache) get(value string) (verified, bool) {
	sh := c.shard(value)
	sh.mu.RLock()
	r, ok := sh.cur[value]
	if !ok {
		r, ok = sh.old[value]
		if ok {
			sh.mu.RUnlock()
			c.put(value, r)
			return r, true
		}
	}
	sh.mu.RUnlock()
	return r, ok
}

// put caches a value that verified. It copies value: callers' strings may
// alias buffers a server reuses (fasthttp).
func (c *verifyCache) put(value string, r verified) {
	sh := c.shard(value)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.cur[value]; ok {
		return
	}
	if sh.cur == nil || len(sh.cur) >= verifyGen {
		sh.old, sh.cur = sh.cur, make(map[string]verified, verifyGen)
	}
	own := string([]byte(value))
	sh.cur[own] = verified{id: own[:len(r.id)], key: r.key}
}
