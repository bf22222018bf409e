package conformance

import (
	"errors"
	"fmt"
	"time"

	sess "github.com/gosess/sess/core"
)

// manageOp runs the handler operations of the session-management cases:
//
//   - lifetime: SetLifetime with persist (1 or 0), maxage, idle and abs
//     (Go durations), after a Set of k=v if k is given; answers "ok" or
//     "invalid" for ErrInvalidLifetime;
//   - sstatus: after a Set of k=v (if k is given), a Destroy (if destroy
//     is given) or nothing, answers Session.Status;
//   - deadlines: answers Session.Deadlines and Lifetime as Unix
//     milliseconds and durations.
func manageOp(s *sess.Session, op string, q func(string) string) (string, bool) {
	dur := func(name string) time.Duration {
		d, _ := time.ParseDuration(q(name))
		return d
	}
	switch op {
	case "lifetime":
		if k := q("k"); k != "" {
			s.Set(k, q("v"))
		}
		err := s.SetLifetime(sess.Lifetime{Persistent: q("persist") == "1", MaxAge: dur("maxage"), Idle: dur("idle"), Absolute: dur("abs")})
		switch {
		case errors.Is(err, sess.ErrInvalidLifetime):
			return "invalid", true
		case err != nil:
			return "error: " + err.Error(), true
		}
		if q("renew") != "" {
			s.Renew()
		}
		return "ok", true
	case "sstatus":
		if k := q("k"); k != "" {
			s.Set(k, q("v"))
		}
		if q("destroy") != "" {
			s.Destroy()
		}
		return s.Status().String(), true
	case "deadlines":
		d, l := s.Deadlines(), s.Lifetime()
		ms := func(t time.Time) int64 {
			if t.IsZero() {
				return 0
			}
			return t.UnixMilli()
		}
		return fmt.Sprintf("idle=%d abs=%d cookie=%d persistent=%t maxage=%v idletimeout=%v", ms(d.Idle), ms(d.Absolute), ms(d.Cookie), l.Persistent, l.MaxAge, l.Idle), true
	}
	return "", false
}

// maxAgeOf returns the response's session cookie's Max-Age attribute in
// seconds, 0 if it has none.
func (e *env) maxAgeOf(r *result, invariant string) int {
	e.t.Helper()
	return e.oneCookie(r, invariant).MaxAge
}

var manageCases = []testCase{
	{
		name: "LifetimeRememberMe",
		why:  "a handler must be able to make one session persistent (remember me) or a browser-session cookie; the choice must hold on later requests and across renewal, and the cookie is re-sent only when the choice changes or the ID does",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = 24 * time.Hour
			c.AbsoluteTimeout = 30 * 24 * time.Hour
		},
		run: func(e *env) {
			const week = 7 * 24 * 3600
			t0 := e.clock.Now()
			c := e.newClient()
			r := c.must("op", "set", "k", "a", "v", "1")
			if age := e.maxAgeOf(r, "a new session's first write sets its cookie"); age != 0 {
				e.fail("with Config.MaxAge zero the cookie is a browser-session cookie", "Max-Age %d", age)
			}
			r = c.must("op", "lifetime", "persist", "1", "maxage", "168h")
			e.wantBody(r, "ok", "SetLifetime within the Manager's maximums must succeed")
			if age := e.maxAgeOf(r, "making a session persistent must re-send its cookie"); age != week {
				e.fail("a persistent session's cookie carries the chosen Max-Age", "Max-Age %d, want %d", age, week)
			}
			e.clock.Advance(time.Hour)
			r = c.must("op", "get", "k", "a")
			e.wantBody(r, "1", "a session made persistent keeps its data")
			e.noCookie(r, "a reading request after the choice must not re-send the cookie")
			e.noCookie(c.must("op", "set", "k", "b", "v", "2"), "a writing request after the choice must not re-send the cookie")
			e.noCookie(c.must("op", "lifetime", "persist", "1", "maxage", "168h"), "setting the same lifetime again must not re-send the cookie")
			r = c.must("op", "renew")
			if age := e.maxAgeOf(r, "a renewal sends the new cookie"); age != week {
				e.fail("the per-session lifetime must survive Renew", "Max-Age %d after renewal, want %d", age, week)
			}
			now := e.clock.Now()
			e.wantBody(c.must("op", "deadlines"), fmt.Sprintf("idle=%d abs=%d cookie=%d persistent=true maxage=168h0m0s idletimeout=24h0m0s",
				now.Add(24*time.Hour).UnixMilli(), t0.Add(30*24*time.Hour).UnixMilli(), now.Add(week*time.Second).UnixMilli()),
				"Deadlines and Lifetime must report the session's own lifetime")
			r = c.must("op", "lifetime", "persist", "0")
			if age := e.maxAgeOf(r, "making a session a browser-session one must re-send its cookie"); age != 0 {
				e.fail("a browser-session cookie has no Max-Age", "Max-Age %d", age)
			}
			e.wantBody(c.must("op", "get", "k", "b"), "2", "changing the lifetime keeps the data")
			if age := e.maxAgeOf(c.must("op", "renew"), "a renewal sends the new cookie"); age != 0 {
				e.fail("a browser-session choice must survive Renew", "Max-Age %d after renewal", age)
			}
		},
	},
	{
		name: "LifetimeBrowserSessionOverride",
		why:  "a login without remember me must get a browser-session cookie even when the Manager issues persistent ones, also for a session created by that request",
		config: func(e *env, c *sess.Config) {
			c.MaxAge = 24 * time.Hour
		},
		run: func(e *env) {
			c := e.newClient()
			r := c.must("op", "lifetime", "persist", "0", "k", "user", "v", "alice")
			e.wantBody(r, "ok", "SetLifetime within the Manager's maximums must succeed")
			if age := e.maxAgeOf(r, "a new session's first write sets its cookie"); age != 0 {
				e.fail("a session chosen to be a browser-session one gets no Max-Age", "Max-Age %d", age)
			}
			e.wantBody(c.must("op", "get", "k", "user"), "alice", "the session keeps its data")
			other := e.newClient()
			if age := e.maxAgeOf(other.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie"); age != 24*3600 {
				e.fail("another session keeps the Manager's MaxAge", "Max-Age %d", age)
			}
			r = c.must("op", "lifetime", "persist", "1")
			if age := e.maxAgeOf(r, "making a session persistent must re-send its cookie"); age != 24*3600 {
				e.fail("Persistent with a zero MaxAge uses Config.MaxAge", "Max-Age %d", age)
			}
		},
	},
	{
		name: "LifetimeIdleShortened",
		why:  "a session given a shorter idle timeout must end after that timeout, also after a renewal, while other sessions keep the Manager's",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = time.Hour
			c.AbsoluteTimeout = 8 * time.Hour
		},
		run: func(e *env) {
			c := e.newClient()
			e.wantBody(c.must("op", "lifetime", "persist", "0", "idle", "10m", "k", "a", "v", "1"), "ok", "SetLifetime within the Manager's maximums must succeed")
			other := e.newClient()
			other.must("op", "set", "k", "a", "v", "2")
			e.clock.Advance(9 * time.Minute)
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a session used within its idle timeout must load")
			c.must("op", "renew")
			e.clock.Advance(9 * time.Minute)
			v := e.issued(c.must("op", "renew"), "a renewal sends the new cookie")
			e.clock.Advance(10*time.Minute + time.Second)
			r := e.session(v, "op", "get", "k", "a")
			e.wantBody(r, none, "a session idle for longer than its own idle timeout must be over, also after renewals")
			e.wantNoRecord(idOf(v), "an expired session's record must be deleted when it is presented")
			e.wantBody(other.do("op", "get", "k", "a"), "2", "another session keeps the Manager's idle timeout")
		},
	},
	{
		name: "LifetimeWithinMaximums",
		why:  "a handler must not give a session a longer lifetime than the Manager allows: longer idle or absolute timeouts or a longer Max-Age are refused and change nothing; a shorter absolute timeout ends the session early",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = 30 * time.Minute
			c.AbsoluteTimeout = 2 * time.Hour
			c.MaxAge = time.Hour
		},
		run: func(e *env) {
			c := e.newClient()
			for _, bad := range [][]string{
				{"idle", "31m"}, {"abs", "3h"}, {"persist", "1", "maxage", "2h"}, {"idle", "-1s"}, {"abs", "1ms"},
			} {
				r := c.must(append([]string{"op", "lifetime"}, bad...)...)
				e.wantBody(r, "invalid", fmt.Sprintf("SetLifetime %v beyond the Manager's maximums must fail with ErrInvalidLifetime", bad))
				e.noCookie(r, "a refused SetLifetime must not create a session")
			}
			e.wantNothingCreated("a refused SetLifetime must store nothing")
			v := e.issued(c.must("op", "lifetime", "persist", "1", "abs", "20m", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			e.clock.Advance(15 * time.Minute)
			r := e.session(v, "op", "lifetime", "persist", "1", "abs", "2h")
			e.wantBody(r, "ok", "an Absolute within the maximum is accepted")
			e.noCookie(r, "an Absolute that cannot extend the deadline changes nothing")
			e.clock.Advance(5*time.Minute + time.Second)
			e.wantBody(e.session(v, "op", "get", "k", "a"), none, "a session past its shortened absolute deadline must be over")
		},
	},
	{
		name: "StatusAndDeadlines",
		why:  "handlers rely on Status to tell a new session from a loaded, changed or destroyed one, and on Deadlines to show when it ends",
		config: func(e *env, c *sess.Config) {
			c.IdleTimeout = 30 * time.Minute
			c.AbsoluteTimeout = 4 * time.Hour
		},
		run: func(e *env) {
			t0 := e.clock.Now()
			c := e.newClient()
			e.wantBody(c.must("op", "sstatus"), "new", "a request without a cookie has a new session")
			e.wantBody(c.must("op", "sstatus", "k", "a", "v", "1"), "modified", "a Set modifies the session")
			e.wantBody(c.must("op", "sstatus"), "unmodified", "a loaded session nobody changed is unmodified")
			e.clock.Advance(time.Minute)
			now := e.clock.Now()
			e.wantBody(c.must("op", "deadlines"), fmt.Sprintf("idle=%d abs=%d cookie=0 persistent=false maxage=0s idletimeout=30m0s",
				now.Add(30*time.Minute).UnixMilli(), t0.Add(4*time.Hour).UnixMilli()), "Deadlines reports the idle and absolute deadlines")
			e.wantBody(c.must("op", "sstatus", "destroy", "1"), "destroyed", "Destroy destroys the session")
			e.wantBody(c.must("op", "sstatus"), "new", "after a Destroy the next request starts a new session")
			e.wantBody(c.must("op", "sstatus", "k", "a", "v", "1", "destroy", "1"), "new", "a new session destroyed before its commit is new again")
		},
	},
}
