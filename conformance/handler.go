package conformance

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	sess "github.com/gosess/sess/core"
)

// errHandler is what the "error" operation returns to the mount.
var errHandler = errors.New("conformance: handler failed on purpose")

// none is the body the handler answers for a missing key.
const none = "<none>"

// noSession is the body of any session operation run without a session.
const noSession = "<no session>"

// handle is the suite's Handler. It dispatches on the query parameter op;
// k, v, k2, v2 name keys and values, code a status, n a size and c a
// client for values the handler keeps. wait names a gate at which the
// handler pauses after changing the session and before writing, barrier a
// number of requests that must all have loaded the session before any
// writes, awaitcancel makes it wait (briefly) for the client to go away,
// and signal names a gate it marks once its response is written.
func (e *env) handle(x Exchange) error {
	e.calls.Add(1)
	q := func(name string) string { return strings.Clone(x.Query(name)) }
	op := q("op")
	switch op {
	case "noop":
		return x.String(http.StatusOK, "noop")
	case "skip":
		_, inCtx := sess.FromContext(x.Context())
		return x.String(http.StatusOK, fmt.Sprintf("session=%t context=%t", x.Session() != nil, inCtx))
	case "same":
		return x.String(http.StatusOK, e.sameSession(x))
	}
	s := x.Session()
	if s == nil {
		return x.String(http.StatusOK, noSession)
	}
	k, v := q("k"), q("v")
	switch op {
	case "counter":
		n, _ := sess.Get[int](s, "test_counter")
		n++
		s.Set("test_counter", n)
		if c := q("c"); c != "" {
			e.keep("id/"+c, s.ID())
		}
		return x.String(http.StatusOK, fmt.Sprintf(`{"test_counter": %d}`, n))
	case "get":
		got := value(s, k)
		e.pause(q("wait"))
		return x.String(http.StatusOK, got)
	case "set":
		prev := value(s, k)
		s.Set(k, v)
		if k2 := q("k2"); k2 != "" {
			s.Set(k2, q("v2"))
		}
		e.pause(q("wait"))
		if n, err := strconv.Atoi(q("barrier")); err == nil {
			e.await(n)
		}
		if q("awaitcancel") != "" {
			select {
			case <-x.Context().Done():
			case <-time.After(time.Second):
			}
		}
		err := x.String(http.StatusOK, prev)
		e.arrive(q("signal"))
		return err
	case "keys":
		return x.String(http.StatusOK, strings.Join(s.Keys(), ","))
	case "state":
		return x.String(http.StatusOK, fmt.Sprintf("new=%t len=%d", s.IsNew(), s.Len()))
	case "id":
		return x.String(http.StatusOK, s.ID())
	case "pop":
		got, ok := s.Pop(k)
		if !ok {
			return x.String(http.StatusOK, none)
		}
		return x.String(http.StatusOK, fmt.Sprint(got))
	case "setnowrite":
		s.Set(k, v)
		return nil
	case "stream":
		s.Set(k, v)
		return x.Stream(http.StatusOK, "chunk 1\n", "chunk 2\n", "chunk 3\n")
	case "error":
		s.Set(k, v)
		return errHandler
	case "status":
		s.Set(k, v)
		code, _ := strconv.Atoi(q("code"))
		return x.String(code, "status "+strconv.Itoa(code))
	case "panic":
		s.Set(k, v)
		panic("conformance: handler panics on purpose")
	case "appcookie":
		x.SetCookie("app", "1")
		s.Set(k, v)
		x.SetCookie("app2", "2")
		return x.String(http.StatusOK, "ok")
	case "bodyfirst":
		err := x.String(http.StatusOK, "body")
		s.Set(k, v)
		return err
	case "renew":
		if k != "" {
			s.Set(k, v)
		}
		s.Renew()
		e.pause(q("wait"))
		return x.String(http.StatusOK, "renewed")
	case "setrenewset":
		s.Set(k, v)
		s.Renew()
		s.Set(q("k2"), q("v2"))
		return x.String(http.StatusOK, "ok")
	case "destroy":
		s.Destroy()
		e.pause(q("wait"))
		return x.String(http.StatusOK, "destroyed")
	case "destroyset":
		s.Destroy()
		s.Set(k, v)
		return x.String(http.StatusOK, "ok")
	case "big":
		n, _ := strconv.Atoi(q("n"))
		s.Set(k, strings.Repeat("x", n))
		return x.String(http.StatusOK, "ok")
	case "parallel":
		return x.String(http.StatusOK, parallel(s))
	}
	if body, ok := manageOp(s, op, q); ok {
		return x.String(http.StatusOK, body)
	}
	if done, err := e.principalOp(x, s, op, q); done {
		return err
	}
	if done, err := e.handleMore(x, s, op, q); done {
		return err
	}
	return x.String(http.StatusBadRequest, "conformance: unknown op "+strconv.Quote(op))
}

// value returns the string under key, or none.
func value(s *sess.Session, key string) string {
	v, ok := sess.Get[string](s, key)
	if !ok {
		return none
	}
	return v
}

// sameSession checks that every way of reaching the session gives the same
// one.
func (e *env) sameSession(x Exchange) string {
	s := x.Session()
	if s == nil {
		return "Session() returned nil"
	}
	var problems []string
	_, contextless := x.(NoContext)
	if fc, ok := sess.FromContext(x.Context()); !contextless && (!ok || fc != s) {
		problems = append(problems, "sess.FromContext(Context()) does not return the session Session() returns")
	}
	name := e.m.ObjectName()
	_, bagless := x.(NoBag)
	switch b := x.Bag(name); {
	case b == nil && !bagless:
		problems = append(problems, fmt.Sprintf("Bag(%q) is empty: the adapter must put the session in the framework's per-request bag under ObjectName (or the Exchange must implement NoBag)", name))
	case b != nil && b != any(s):
		problems = append(problems, fmt.Sprintf("Bag(%q) holds %T, not the session Session() returns", name, b))
	}
	if name != sess.DefaultObjectName {
		if b := x.Bag(sess.DefaultObjectName); b != nil && b == any(s) {
			problems = append(problems, fmt.Sprintf("the bag holds the session under %q instead of the configured ObjectName %q", sess.DefaultObjectName, name))
		}
	}
	// A value set through one view must be visible through the others.
	s.Set("same", "yes")
	if fc, ok := sess.FromContext(x.Context()); !contextless && ok && value(fc, "same") != "yes" {
		problems = append(problems, "a value set through Session() is not visible through sess.FromContext")
	}
	if len(problems) == 0 {
		return "ok"
	}
	return strings.Join(problems, "; ")
}

// parallel uses the session from 100 goroutines at once.
func parallel(s *sess.Session) string {
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			k := fmt.Sprintf("g%02d", i)
			s.Set(k, i)
			if got, ok := sess.Get[int](s, k); !ok || got != i {
				s.Set("error", fmt.Sprintf("goroutine %d read back %v, %t", i, got, ok))
			}
			s.Set("shared", strconv.Itoa(i))
			s.Set("tmp"+k, i)
			s.Delete("tmp" + k)
			_ = s.Keys()
			_, _ = s.Get("shared")
		})
	}
	wg.Wait()
	return strconv.Itoa(s.Len())
}
