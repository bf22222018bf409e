package sess_test

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

type account struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	Age   int      `json:"age"`
}

// TestOneValueOneType: over real HTTP, a key read with Session.Get has the
// same Go type (and value) in the request that set it as in a later
// request: a struct comes back in the codec's generic form both times, also
// nested in []any and map[string]any, while the typed Get returns the
// struct both times.
func TestOneValueOneType(t *testing.T) {
	acct := account{Name: "ann", Roles: []string{"admin"}, Age: 41}
	e := newEnv(t, sess.Config{}, func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		if r.URL.Path == "/set" {
			s.Set("acct", acct)
			s.Set("ptr", &acct)
			s.Set("list", []any{acct, 1, "x"})
			s.Set("map", map[string]any{"acct": acct, "n": 2})
			s.Set("names", []string{"a", "b"})
		}
		for _, k := range []string{"acct", "ptr", "list", "map", "names"} {
			v, ok := s.Get(k)
			fmt.Fprintf(w, "%s: %t %T %v\n", k, ok, v, v)
			a, _ := sess.Get[any](s, k)
			fmt.Fprintf(w, "%s any: %T %v\n", k, a, a)
		}
		typed, ok := sess.Get[account](s, "acct")
		fmt.Fprintf(w, "typed: %t %T %+v\n", ok, typed, typed)
		typed, ok = sess.Get[account](s, "ptr")
		fmt.Fprintf(w, "typed ptr: %t %T %+v\n", ok, typed, typed)
		m, ok := sess.Get[map[string]any](s, "acct")
		fmt.Fprintf(w, "generic: %t %T %v\n", ok, m, m)
		l, ok := sess.Get[[]any](s, "list")
		fmt.Fprintf(w, "list: %t %T %v\n", ok, l, l)
	})
	c := e.client()
	first := e.do(c, "GET", "/set")
	second := e.do(c, "GET", "/get")
	if first.status != 200 || second.status != 200 {
		t.Fatalf("statuses %d, %d", first.status, second.status)
	}
	if first.body != second.body {
		t.Errorf("the setting request and the next one read different values:\nsetting request:\n%s\nnext request:\n%s", first.body, second.body)
	}
	want := "acct: true map[string]interface {} map[age:41 name:ann roles:[admin]]\n" +
		"acct any: map[string]interface {} map[age:41 name:ann roles:[admin]]\n" +
		"ptr: true map[string]interface {} map[age:41 name:ann roles:[admin]]\n" +
		"ptr any: map[string]interface {} map[age:41 name:ann roles:[admin]]\n" +
		"list: true []interface {} [map[age:41 name:ann roles:[admin]] 1 x]\n" +
		"list any: []interface {} [map[age:41 name:ann roles:[admin]] 1 x]\n" +
		"map: true map[string]interface {} map[acct:map[age:41 name:ann roles:[admin]] n:2]\n" +
		"map any: map[string]interface {} map[acct:map[age:41 name:ann roles:[admin]] n:2]\n" +
		"names: true []string [a b]\n" +
		"names any: []string [a b]\n" +
		"typed: true sess_test.account {Name:ann Roles:[admin] Age:41}\n" +
		"typed ptr: true sess_test.account {Name:ann Roles:[admin] Age:41}\n" +
		"generic: true map[string]interface {} map[age:41 name:ann roles:[admin]]\n" +
		"list: true []interface {} [map[age:41 name:ann roles:[admin]] 1 x]\n"
	for _, r := range []result{first, second} {
		if r.body != want {
			t.Errorf("body:\n%s\nwant:\n%s", r.body, want)
		}
	}
}

// TestGetReturnsCopy: a container read in the request that set it is a
// copy, as in later requests: changing it does not change the session.
func TestGetReturnsCopy(t *testing.T) {
	e := newEnv(t, sess.Config{}, func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		s.Set("m", map[string]any{"a": 1})
		v, _ := s.Get("m")
		v.(map[string]any)["a"] = 2
		again, _ := s.Get("m")
		fmt.Fprint(w, again)
	})
	if r := e.do(nil, "GET", "/"); r.body != "map[a:1]" {
		t.Errorf("body %q, want map[a:1]", r.body)
	}
}

// builtins returns one value of every built-in type, derived from the
// fuzzer's inputs.
func builtins(i int64, u uint64, f float64, s string, b []byte, flag bool) []any {
	return []any{
		nil, s, b, flag,
		int(i), int8(i), int16(i), int32(i), i,
		uint(u), uint8(u), uint16(u), uint32(u), u,
		float32(f), f,
		time.Duration(i), time.Unix(i%(1<<40), i%1e9).UTC(),
		[]string{s, ""}, []int{int(i), 0}, []int64{i}, []float64{f}, []bool{flag, !flag},
		[]any{s, i, f, flag, nil, []any{b}},
		map[string]string{s: s}, map[string]int{s: int(i)},
		map[string]any{s: []any{int16(i), uint8(u)}, "n": map[string]any{"t": time.Duration(u)}},
		[]byte(nil), []string{}, map[string]any{},
	}
}

// FuzzBuiltinTypesKeepType: every built-in type comes back from
// Session.Get with its exact Go type and value, in the request that set it
// and in the next one.
func FuzzBuiltinTypesKeepType(f *testing.F) {
	f.Add(int64(-1), uint64(math.MaxUint64), 2.5, "k", []byte{0, 1}, true)
	f.Add(int64(math.MinInt64), uint64(0), math.Inf(-1), "", []byte(nil), false)
	f.Add(int64(1<<40), uint64(1<<63), math.NaN(), "\xff\x00é", []byte("x"), true)
	m, err := sess.New(sess.Config{Secret: secret})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { m.Close() })
	f.Fuzz(func(t *testing.T, i int64, u uint64, fl float64, s string, b []byte, flag bool) {
		vals := builtins(i, u, fl, s, b, flag)
		key := func(n int) string { return fmt.Sprintf("k%02d", n) }
		var cookie string
		read := func(s *sess.Session, when string) {
			for n, want := range vals {
				got, ok := s.Get(key(n))
				if !ok {
					t.Fatalf("%s: key %d (%T) missing", when, n, want)
				}
				if reflect.TypeOf(got) != reflect.TypeOf(want) {
					t.Fatalf("%s: key %d: Get returned %T, set %T", when, n, got, want)
				}
				if !same(got, want) {
					t.Fatalf("%s: key %d: Get returned %#v, set %#v", when, n, got, want)
				}
			}
		}
		// Request 1 sets and reads.
		w := httptest.NewRecorder()
		x := m.BeginHTTP(w, httptest.NewRequest("GET", "https://example.com/", nil))
		ss := x.Session()
		for n, v := range vals {
			ss.Set(key(n), v)
		}
		read(ss, "setting request")
		if !x.End(200) {
			t.Fatalf("commit failed: %v", x.Err())
		}
		cookie = w.Result().Header.Get("Set-Cookie")
		c, err := http.ParseSetCookie(cookie)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", cookie, err)
		}
		// Request 2 reads what request 1 stored.
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		x = m.BeginHTTP(httptest.NewRecorder(), req)
		if x.Session().IsNew() {
			t.Fatal("second request got a new session")
		}
		read(x.Session(), "next request")
		x.Session().Destroy()
		x.End(200)
	})
}

// same compares values as the session stores them: types must match at
// every level, NaN equals NaN, times compare by instant, and a nil slice or
// map equals an empty one of its type.
func same(a, b any) bool { return sameValue(reflect.ValueOf(a), reflect.ValueOf(b)) }

func sameValue(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if ta, ok := a.Interface().(time.Time); ok {
		return ta.Equal(b.Interface().(time.Time))
	}
	switch a.Kind() {
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !sameValue(a.MapIndex(k), bv) {
				return false
			}
		}
		return true
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y)
	}
	return a.Interface() == b.Interface()
}
