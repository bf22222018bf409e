package conformance

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	sess "github.com/gosess/sess/core"
)

// indexCases check the sess.PrincipalIndex capability. RunStore runs them
// for stores that implement it; for others it checks that a Manager refuses
// to bind sessions with sess.ErrNoPrincipalIndex instead of ignoring them.
var indexCases = []storeCase{
	{"IndexBindOnCreate", "a session bound at login must be listed under its user, with its handle, and be reachable by handle; an unbound one must not be", indexBindOnCreate},
	{"IndexBindByUpdate", "binding, moving and unbinding a stored session by Update must be reflected at once; writes that do not touch the binding keep it", indexBindByUpdate},
	{"IndexDeleteLeaves", "a deleted session (logout, renewal, a patch deleting it) must leave its user's list at once, or 'your sessions' shows dead sessions and revocation counts them", indexDeleteLeaves},
	{"IndexExpiredNotListed", "an expired session must never be listed or found by handle, so a user's list shows only sessions that still work", indexExpired},
	{"IndexDeleteHandle", "revoking one session by handle must end exactly that session, and only if it belongs to the given user: a user must not end another user's sessions", indexDeleteHandle},
	{"IndexDeletePrincipal", "log out everywhere (else) must end every session of the user except the kept ones, and no other user's", indexDeletePrincipal},
	{"IndexConcurrentRevoke", "sessions created while a user's sessions are being revoked must be either revoked or listed afterwards, never live and unlisted (a session that escapes revocation)", indexConcurrent},
	{"IndexManagersRevokeEverywhere", "a session revoked through one instance must be dead at once on the other instance sharing the store", indexManagers},
}

func indexOf(t *testing.T, st sess.Store) sess.PrincipalIndex {
	t.Helper()
	x, ok := st.(sess.PrincipalIndex)
	if !ok {
		t.Skipf("%T does not implement sess.PrincipalIndex", st)
	}
	return x
}

func indexCreate(t *testing.T, st sess.Store, principal string, exp time.Time) string {
	t.Helper()
	id := storeNewID(t)
	if err := st.Create(storeCtx(t), id, sess.Record{Meta: []byte("m"), Entries: kv("k", id[:8]), Expires: exp, Principal: principal}); err != nil {
		t.Fatalf("Create of a bound record: %v", err)
	}
	return id
}

// indexHandles lists principal's sessions and returns their handles,
// sorted, checking every listed record.
func indexHandles(t *testing.T, x sess.PrincipalIndex, principal string) []string {
	t.Helper()
	recs, err := x.ListPrincipal(storeCtx(t), principal)
	if err != nil {
		t.Fatalf("ListPrincipal(%q): %v", principal, err)
	}
	var hs []string
	now := time.Now()
	for _, r := range recs {
		if r.Principal != principal {
			t.Errorf("ListPrincipal(%q) returned a record bound to %q", principal, r.Principal)
		}
		if !now.Before(r.Expires) {
			t.Errorf("ListPrincipal returned a record whose Expires %v has passed", r.Expires)
		}
		hs = append(hs, r.Handle)
	}
	slices.Sort(hs)
	return hs
}

func wantHandles(t *testing.T, x sess.PrincipalIndex, principal string, ids ...string) {
	t.Helper()
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		want = append(want, sess.HashID(id))
	}
	slices.Sort(want)
	if got := indexHandles(t, x, principal); !slices.Equal(got, want) {
		t.Errorf("ListPrincipal(%q) handles = %v, want %v", principal, got, want)
	}
}

func indexBindOnCreate(t *testing.T, st sess.Store) {
	x := indexOf(t, st)
	exp := time.Now().Add(time.Hour)
	a := indexCreate(t, st, "alice", exp)
	b := indexCreate(t, st, "alice", exp)
	c := indexCreate(t, st, "bob", exp)
	free := indexCreate(t, st, "", exp)
	wantHandles(t, x, "alice", a, b)
	wantHandles(t, x, "bob", c)
	wantHandles(t, x, "carol")
	recs, err := x.ListPrincipal(storeCtx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		id := a
		if r.Handle == sess.HashID(b) {
			id = b
		}
		got := storeMustGet(t, st, id)
		if string(r.Meta) != string(got.Meta) || string(r.Entries) != string(got.Entries) || r.Version != got.Version || !storeSameMilli(r.Expires, got.Expires) {
			t.Errorf("ListPrincipal's record differs from Get's: %q %q v%d %v, Get: %q %q v%d %v", r.Meta, r.Entries, r.Version, r.Expires, got.Meta, got.Entries, got.Version, got.Expires)
		}
		if len(r.Entries) > 0 {
			r.Entries[0] ^= 0xff // must not alias the store's copy
		}
	}
	storeCheck(t, storeMustGet(t, st, a), "m", 1, "k", a[:8])
	r, err := x.GetHandle(storeCtx(t), sess.HashID(c))
	if err != nil || r.Principal != "bob" || r.Handle != sess.HashID(c) {
		t.Errorf("GetHandle of a bound record = (%q, %q), %v; want bob's record", r.Handle, r.Principal, err)
	}
	if _, err := x.GetHandle(storeCtx(t), sess.HashID(free)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("GetHandle of an unbound record: %v, want ErrNotFound (only bound sessions are reachable by handle)", err)
	}
	if _, err := x.GetHandle(storeCtx(t), sess.HashID(storeNewID(t))); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("GetHandle of an unknown handle: %v, want ErrNotFound", err)
	}
}

func indexBindByUpdate(t *testing.T, st sess.Store) {
	x := indexOf(t, st)
	exp := time.Now().Add(time.Hour)
	id := indexCreate(t, st, "", exp)
	wantHandles(t, x, "alice")
	alice, bob, none := "alice", "bob", ""
	storeMustUpdate(t, st, id, sess.Patch{Principal: &alice, Set: set("k", "1"), Expires: exp, Deadline: exp.Add(time.Hour)})
	wantHandles(t, x, "alice", id)
	storeMustUpdate(t, st, id, sess.Patch{Set: set("k2", "2"), Expires: exp})
	if err := st.Touch(storeCtx(t), id, exp.Add(time.Minute)); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	wantHandles(t, x, "alice", id)
	storeMustUpdate(t, st, id, sess.Patch{Principal: &bob, Expires: exp})
	wantHandles(t, x, "alice")
	wantHandles(t, x, "bob", id)
	if err := x.DeleteHandle(storeCtx(t), sess.HashID(id), "alice"); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("DeleteHandle for the previous principal: %v, want ErrNotFound", err)
	}
	storeMustUpdate(t, st, id, sess.Patch{Principal: &none, Expires: exp})
	wantHandles(t, x, "bob")
	if _, err := x.GetHandle(storeCtx(t), sess.HashID(id)); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("GetHandle after unbinding: %v, want ErrNotFound", err)
	}
	storeCheck(t, storeMustGet(t, st, id), "m", 0, "k", "1", "k2", "2")
	// A failed conditional patch changes no binding either.
	if err := st.Update(storeCtx(t), id, sess.Patch{Principal: &alice, IfVersion: 1, Expires: exp}); !errors.Is(err, sess.ErrConflict) {
		t.Fatalf("conditional Update at a stale version: %v, want ErrConflict", err)
	}
	wantHandles(t, x, "alice")
}

func indexDeleteLeaves(t *testing.T, st sess.Store) {
	x := indexOf(t, st)
	exp := time.Now().Add(time.Hour)
	a, b, c := indexCreate(t, st, "alice", exp), indexCreate(t, st, "alice", exp), indexCreate(t, st, "alice", exp)
	if err := st.Delete(storeCtx(t), a); err != nil {
		t.Fatal(err)
	}
	storeMustUpdate(t, st, b, sess.Patch{IfVersion: 1}) // a renewal retiring the old ID
	wantHandles(t, x, "alice", c)
	for _, id := range []string{a, b} {
		if _, err := x.GetHandle(storeCtx(t), sess.HashID(id)); !errors.Is(err, sess.ErrNotFound) {
			t.Errorf("GetHandle of a deleted record: %v, want ErrNotFound", err)
		}
	}
	// A new record under a deleted ID starts unbound.
	if err := st.Create(storeCtx(t), a, sess.Record{Meta: []byte("m"), Expires: exp}); err != nil {
		t.Fatal(err)
	}
	wantHandles(t, x, "alice", c)
}

func indexExpired(t *testing.T, st sess.Store) {
	x := indexOf(t, st)
	long := indexCreate(t, st, "alice", time.Now().Add(time.Hour))
	var short []string
	exp := time.Now().Add(300 * time.Millisecond)
	for i := range 5 {
		id := storeNewID(t)
		// Some with a Deadline far beyond their expiry, as the Manager
		// sends: the index may keep their entries that long, but must not
		// list them once they expired.
		rec := sess.Record{Meta: []byte("m"), Expires: exp, Principal: "alice"}
		if i%2 == 0 {
			rec.Deadline = time.Now().Add(time.Hour)
		}
		if err := st.Create(storeCtx(t), id, rec); err != nil {
			t.Fatalf("Create of a bound record: %v", err)
		}
		short = append(short, id)
	}
	wantHandles(t, x, "alice", append([]string{long}, short...)...)
	time.Sleep(time.Until(exp) + 1200*time.Millisecond)
	wantHandles(t, x, "alice", long)
	if _, err := x.GetHandle(storeCtx(t), sess.HashID(short[0])); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("GetHandle of an expired record: %v, want ErrNotFound", err)
	}
	if err := x.DeleteHandle(storeCtx(t), sess.HashID(short[1]), ""); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("DeleteHandle of an expired record: %v, want ErrNotFound", err)
	}
	if n, err := x.DeletePrincipal(storeCtx(t), "alice", nil); err != nil || n != 1 {
		t.Errorf("DeletePrincipal with one live and five expired records = %d, %v; want 1 (expired ones are not counted)", n, err)
	}
}

func indexDeleteHandle(t *testing.T, st sess.Store) {
	x := indexOf(t, st)
	exp := time.Now().Add(time.Hour)
	a, b := indexCreate(t, st, "alice", exp), indexCreate(t, st, "alice", exp)
	m := indexCreate(t, st, "mallory", exp)
	free := indexCreate(t, st, "", exp)
	if err := x.DeleteHandle(storeCtx(t), sess.HashID(a), "mallory"); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("DeleteHandle of alice's session for mallory: %v, want ErrNotFound", err)
	}
	storeMustGet(t, st, a)
	if err := x.DeleteHandle(storeCtx(t), sess.HashID(free), ""); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("DeleteHandle of an unbound record: %v, want ErrNotFound", err)
	}
	storeMustGet(t, st, free)
	if err := x.DeleteHandle(storeCtx(t), sess.HashID(a), "alice"); err != nil {
		t.Errorf("DeleteHandle of alice's session for alice: %v", err)
	}
	storeWantNotFound(t, st, a, "after DeleteHandle")
	if err := x.DeleteHandle(storeCtx(t), sess.HashID(a), "alice"); !errors.Is(err, sess.ErrNotFound) {
		t.Errorf("second DeleteHandle: %v, want ErrNotFound", err)
	}
	if err := x.DeleteHandle(storeCtx(t), sess.HashID(m), ""); err != nil {
		t.Errorf("DeleteHandle for any principal: %v", err)
	}
	storeWantNotFound(t, st, m, "after DeleteHandle for any principal")
	wantHandles(t, x, "alice", b)
	wantHandles(t, x, "mallory")
}

func indexDeletePrincipal(t *testing.T, st sess.Store) {
	x := indexOf(t, st)
	exp := time.Now().Add(time.Hour)
	var alice []string
	for range 5 {
		alice = append(alice, indexCreate(t, st, "alice", exp))
	}
	bob1, bob2 := indexCreate(t, st, "bob", exp), indexCreate(t, st, "bob", exp)
	free := indexCreate(t, st, "", exp)
	n, err := x.DeletePrincipal(storeCtx(t), "alice", []string{sess.HashID(alice[2]), sess.HashID(bob1)})
	if err != nil || n != 4 {
		t.Errorf("DeletePrincipal keeping one = %d, %v; want 4", n, err)
	}
	wantHandles(t, x, "alice", alice[2])
	for i, id := range alice {
		if i != 2 {
			storeWantNotFound(t, st, id, "a revoked session")
		}
	}
	wantHandles(t, x, "bob", bob1, bob2)
	storeMustGet(t, st, free)
	if n, err := x.DeletePrincipal(storeCtx(t), "alice", nil); err != nil || n != 1 {
		t.Errorf("DeletePrincipal of the last one = %d, %v; want 1", n, err)
	}
	if n, err := x.DeletePrincipal(storeCtx(t), "nobody", nil); err != nil || n != 0 {
		t.Errorf("DeletePrincipal of an unknown principal = %d, %v; want 0", n, err)
	}
}

func indexConcurrent(t *testing.T, st sess.Store) {
	x := indexOf(t, st)
	const creators = 300
	exp := time.Now().Add(time.Hour)
	ids := make([]string, creators)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	revoked := make(chan int, 1)
	go func() {
		total := 0
		for {
			select {
			case <-stop:
				revoked <- total
				return
			default:
			}
			n, err := x.DeletePrincipal(storeCtx(t), "alice", nil)
			if err != nil {
				t.Errorf("DeletePrincipal: %v", err)
			}
			total += n
		}
	}()
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := storeNewID(t)
			if err := st.Create(storeCtx(t), id, sess.Record{Meta: []byte("m"), Expires: exp, Principal: "alice"}); err != nil {
				t.Errorf("Create: %v", err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	close(stop)
	total := <-revoked
	listed := map[string]bool{}
	for _, h := range indexHandles(t, x, "alice") {
		listed[h] = true
	}
	live := 0
	for _, id := range ids {
		_, err := st.Get(storeCtx(t), id)
		switch {
		case err == nil:
			live++
			if !listed[sess.HashID(id)] {
				t.Errorf("a session created during a revocation is live but not listed: it escapes every later revocation")
			}
		case !errors.Is(err, sess.ErrNotFound):
			t.Fatalf("Get: %v", err)
		}
	}
	if live+total != creators {
		t.Errorf("%d live + %d revoked != %d created", live, total, creators)
	}
	if len(listed) != live {
		t.Errorf("%d listed, %d live", len(listed), live)
	}
}

func indexManagers(t *testing.T, st sess.Store) {
	indexOf(t, st)
	m1, m2 := storeManager(t, st), storeManager(t, st)
	ctx := storeCtx(t)
	ids := make([]string, 3)
	for i := range ids {
		cookie, id := storeStartSession(t, m1)
		_, err := storeRequest(ctx, m1, cookie, func(s *sess.Session) {
			if err := s.SetPrincipal("alice"); err != nil {
				t.Errorf("SetPrincipal: %v", err)
			}
			s.Set("ua", fmt.Sprintf("device %d", i))
		})
		if err != nil {
			t.Fatalf("binding request: %v", err)
		}
		ids[i] = id
	}
	infos, err := m2.Sessions(ctx, "alice")
	if err != nil || len(infos) != 3 {
		t.Fatalf("Sessions through the other instance = %d, %v; want 3", len(infos), err)
	}
	for _, info := range infos {
		if ua, _ := info.Get("ua"); ua == nil || info.Principal != "alice" || info.SignedIn.IsZero() {
			t.Errorf("listed session %+v lacks its data", info)
		}
	}
	if err := m2.Revoke(ctx, "alice", sess.HashID(ids[0])); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if n, err := m2.RevokeAll(ctx, "alice", sess.HashID(ids[2])); err != nil || n != 1 {
		t.Fatalf("RevokeAll keeping one = %d, %v; want 1", n, err)
	}
	for i, id := range ids {
		_, err := m1.SessionByID(ctx, id)
		if live := err == nil; live != (i == 2) {
			t.Errorf("session %d on the first instance after revocation on the second: %v", i, err)
		}
	}
}

// indexMissingIsClear is the case RunStore runs for a store without
// sess.PrincipalIndex.
func indexMissingIsClear(t *testing.T, st sess.Store) {
	m := storeManager(t, st)
	cookie, _ := storeStartSession(t, m)
	_, err := storeRequest(storeCtx(t), m, cookie, func(s *sess.Session) {
		if err := s.SetPrincipal("alice"); !errors.Is(err, sess.ErrNoPrincipalIndex) {
			t.Errorf("SetPrincipal with a store lacking PrincipalIndex: %v, want ErrNoPrincipalIndex", err)
		}
		if s.Principal() != "" {
			t.Errorf("a refused SetPrincipal still bound the session to %q", s.Principal())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sessions(storeCtx(t), "alice"); !errors.Is(err, sess.ErrNoPrincipalIndex) {
		t.Errorf("Sessions with a store lacking PrincipalIndex: %v, want ErrNoPrincipalIndex", err)
	}
	if _, err := m.RevokeAll(storeCtx(t), "alice"); !errors.Is(err, sess.ErrNoPrincipalIndex) {
		t.Errorf("RevokeAll with a store lacking PrincipalIndex: %v, want ErrNoPrincipalIndex", err)
	}
}
