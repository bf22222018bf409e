package conformance

import (
	"context"
	"encoding/binary"
	"net/http"
	"time"

	sess "github.com/gosess/sess/core"
)

var timeCases = []testCase{
	{
		name: "IdleTimeout",
		why:  "a session unused for IdleTimeout must end, whatever the client's cookie says; each use pushes the deadline back",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = 30 * time.Minute
			c.AbsoluteTimeout = 8 * time.Hour
		},
		run: func(e *env) {
			c := e.newClient()
			v := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			e.clock.Advance(29 * time.Minute)
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a session used within IdleTimeout must load")
			e.clock.Advance(29 * time.Minute)
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a read must push the idle deadline back")
			e.clock.Advance(30*time.Minute + time.Second)
			r := e.session(v, "op", "get", "k", "a")
			e.wantBody(r, none, "a session idle for longer than IdleTimeout must be over")
			e.noCookie(r, "reading an expired session sets no cookie")
			e.wantNoRecord(idOf(v), "an expired session's record must be deleted when it is presented")
			r = e.session(v, "op", "set", "k", "a", "v", "2")
			if nv := e.issued(r, "a write after expiry starts a new session"); idOf(nv) == idOf(v) {
				e.fail("an expired session's ID must not be reused", "same ID %s", short(idOf(v)))
			}
		},
	},
	{
		name: "AbsoluteTimeout",
		why:  "a session must end AbsoluteTimeout after it was created however active it is, and renewing the ID must not extend that deadline",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = 30 * time.Minute
			c.AbsoluteTimeout = time.Hour
		},
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.clock.Advance(20 * time.Minute)
			c.must("op", "set", "k", "b", "v", "2")
			e.clock.Advance(20 * time.Minute)
			v := e.issued(c.must("op", "renew"), "a renewal sends the new cookie")
			e.clock.Advance(19 * time.Minute)
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a session within its absolute deadline must load")
			e.clock.Advance(2 * time.Minute)
			r := e.session(v, "op", "get", "k", "a")
			e.wantBody(r, none, "a session past its absolute deadline must be over, even after a renewal")
			e.wantNoRecord(idOf(v), "an expired session's record must be deleted when it is presented")
		},
	},
	{
		name: "CommitPastDeadlineStoresNothing",
		why:  "a request that outlives its session's absolute deadline must not write the session back, or it would be stored with no time left",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = 30 * time.Minute
			c.AbsoluteTimeout = time.Hour
		},
		run: func(e *env) {
			c := e.newClient()
			v := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			e.clock.Advance(25 * time.Minute)
			c.must("op", "get", "k", "a")
			e.clock.Advance(25 * time.Minute)
			c.must("op", "get", "k", "a")
			e.clock.Advance(9 * time.Minute)
			e.store.reset()
			done := make(chan *result, 1)
			go func() { done <- e.session(v, "op", "set", "k", "a", "v", "2", "wait", "A") }()
			e.awaitGate("A")
			e.clock.Advance(2 * time.Minute)
			e.open("A")
			r := <-done
			e.wantStatus(r, http.StatusOK, "the handler's status must pass through")
			if n := e.store.calls(); n[opWrite] != 0 {
				e.fail("a session past its deadline must not be written", "%v", n)
			}
			e.noCookie(r, "a session past its deadline must not get a cookie")
		},
	},
	{
		name: "ReadTouchesWithoutRewrite",
		why:  "a read-only request must at most extend the idle deadline (Touch), never rewrite the data: a stale copy written back would undo concurrent changes",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = 30 * time.Minute
		},
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.clock.Advance(10 * time.Minute)
			e.store.reset()
			r := c.do("op", "get", "k", "a")
			e.wantBody(r, "1", "the session must load")
			e.noCookie(r, "a read sets no cookie")
			if n := e.store.calls(); n[opWrite] != 0 || n[opTouch] > 1 {
				e.fail("a read may Touch the record once and must not rewrite it", "%v", n)
			}
		},
	},
	{
		name: "KeyRotation",
		why:  "after the signing key is rotated, cookies signed with the previous key must still work and be re-signed with the new key, so that the old key can be retired without logging anyone out",
		config: func(e *env, c *sess.Config) {
			e.secret2 = randomSecret()
			c.PreviousSecrets = [][]byte{e.secret2}
		},
		run: func(e *env) {
			old := e.sideServer(sess.Config{Secret: e.secret2, Store: e.store})
			v1 := e.issued(e.clientFor(old).must("op", "set", "k", "probe", "v", "victim"), "the old-key server issues a cookie")
			r := e.session(v1, "op", "get", "k", "probe")
			e.wantBody(r, "victim", "a cookie signed with a previous secret must load the session")
			v2 := e.issued(r, "a cookie signed with a previous secret must be re-signed on the next response")
			if idOf(v2) != idOf(v1) || v2 == v1 {
				e.fail("re-signing must keep the ID and change the MAC", "old %q, new %q", v1, v2)
			}
			r = e.session(v2, "op", "get", "k", "probe")
			e.wantBody(r, "victim", "the re-signed cookie must load the session")
			e.noCookie(r, "a cookie signed with the current key is not re-signed")
		},
	},
	{
		name: "RetiredKeyRejected",
		why:  "once a key is removed from the config, cookies signed with it must be rejected like forgeries",
		config: func(e *env, c *sess.Config) {
			e.secret2 = randomSecret()
		},
		run: func(e *env) {
			old := e.sideServer(sess.Config{Secret: e.secret2, Store: e.store})
			v1 := e.issued(e.clientFor(old).must("op", "set", "k", "probe", "v", "victim"), "the old-key server issues a cookie")
			e.rejectAll("", sidVariants(e.m.CookieName(), map[string]string{"signed with a retired key": v1}), rejection{})
		},
	},
	{
		name: "CorruptRecord",
		why:  "a record the Manager cannot decode (corrupted or tampered with in a shared store) must give an empty session and be deleted, never a server error",
		run: func(e *env) {
			// Corruption the store can hold: Meta is opaque, Entries must
			// keep the entry encoding but the values inside are opaque.
			value := func(rec sess.Record) []byte {
				_, v, _, err := sess.NextEntry(rec.Entries)
				if err != nil {
					e.t.Fatalf("setup: the new session's record holds no entry: %v", err)
				}
				return v
			}
			for label, corrupt := range map[string]func(sess.Record) sess.Record{
				"random meta":    func(r sess.Record) sess.Record { r.Meta = randomSecret(); return r },
				"empty meta":     func(r sess.Record) sess.Record { r.Meta = []byte{}; return r },
				"unknown format": func(r sess.Record) sess.Record { r.Meta = append([]byte{0xee}, r.Meta[1:]...); return r },
				"truncated value": func(r sess.Record) sess.Record {
					v := value(r)
					r.Entries = sess.AppendEntry(nil, "k", v[:len(v)/2])
					return r
				},
				"huge length": func(r sess.Record) sess.Record {
					r.Entries = sess.AppendEntry(nil, "key", binary.AppendUvarint([]byte{1}, 1<<40))
					return r
				},
				"unknown tag": func(r sess.Record) sess.Record { r.Entries = sess.AppendEntry(nil, "k", []byte{0xee, 0}); return r },
				"trailing bytes": func(r sess.Record) sess.Record {
					r.Entries = sess.AppendEntry(nil, "k", append(value(r), 0))
					return r
				},
			} {
				v := e.victim()
				id := idOf(v)
				rec, ok, err := e.store.lookup(id)
				if err != nil || !ok {
					e.t.Fatalf("setup: record for a new session: found=%t err=%v", ok, err)
				}
				bad := corrupt(rec)
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				if err = e.store.Store.Delete(ctx, id); err == nil {
					err = e.store.Store.Create(ctx, id, sess.Record{Meta: bad.Meta, Entries: bad.Entries, Expires: rec.Expires})
				}
				cancel()
				if err != nil {
					e.t.Fatalf("setup: corrupting the record: %v", err)
				}
				r := e.session(v, "op", "get", "k", "probe")
				e.wantBody(r, none, "a corrupt record ("+label+") must give an empty session")
				e.wantNoRecord(id, "a corrupt record ("+label+") must be deleted")
			}
		},
	},
}
