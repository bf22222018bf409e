package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	sess "github.com/gosess/sess/core"
)

// errStoreDown is the error the Manager reports for the injected failure.
var errStoreDown = fmt.Errorf("%w: conformance: %w", sess.ErrStoreUnavailable, errInjected)

var failureCases = []testCase{
	{
		name: "StoreGetFails",
		why:  "when the store cannot load a session the request must fail closed with the error response: running the handler would serve a logged-in user as anonymous and could overwrite their session",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.store.fail(opGet, errInjected, "")
			before := e.calls.Load()
			r := c.do("op", "set", "k", "a", "v", "2")
			e.wantErrorResponse(r, errStoreDown)
			if e.calls.Load() != before {
				e.fail("the handler must not run when the session cannot be loaded", "the handler ran for a request whose session load failed (response %s)", r)
			}
			e.store.heal()
			e.wantBody(c.do("op", "get", "k", "a"), "1", "after the store recovers, the same cookie must load the session")
		},
	},
	{
		name: "StoreGetHangs",
		why:  "a hanging store must not hang requests: the load must give up after StoreTimeout and answer the error response",
		config: func(e *env, c *sess.Config) {
			c.StoreTimeout = 300 * time.Millisecond
		},
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.store.fail(opGet, errHang, "")
			e.store.reset()
			before := e.calls.Load()
			r := c.do("op", "get", "k", "a")
			e.wantErrorResponse(r, errStoreDown)
			if e.calls.Load() != before {
				e.fail("the handler must not run when the session cannot be loaded", "the handler ran (response %s)", r)
			}
			if n := e.store.deadlineless(); n != 0 {
				e.fail("every store call must have a deadline", "%d store calls without a context deadline", n)
			}
			e.store.heal()
			e.wantBody(c.do("op", "get", "k", "a"), "1", "after the store recovers, the same cookie must load the session")
		},
	},
	{
		name: "StoreCreateFails",
		why:  "if a new session cannot be stored the client must get the error response and no cookie, whichever way the handler writes, or it holds a cookie for a session that does not exist",
		run: func(e *env) {
			e.store.fail(opWrite, errInjected, "")
			for _, op := range []string{"set", "setnowrite", "stream", "appcookie"} {
				e.store.reset()
				r := e.newClient().do("op", op, "k", "a", "v", "1")
				e.wantErrorResponse(r, errStoreDown)
				e.wantNothingCreated("a failed commit must store nothing")
			}
			e.store.heal()
			c := e.newClient()
			e.issued(c.must("op", "set", "k", "a", "v", "1"), "after the store recovers, a new session gets its cookie")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "after the store recovers, sessions are saved")
		},
	},
	{
		name: "StoreUpdateFails",
		why:  "if a change cannot be saved the client must learn it (error response) instead of a success that silently lost the change",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.store.fail(opWrite, errInjected, "")
			e.wantErrorResponse(c.do("op", "set", "k", "a", "v", "2"), errStoreDown)
			e.store.heal()
			e.wantBody(c.do("op", "get", "k", "a"), "1", "a failed update must leave the stored session unchanged")
		},
	},
	{
		name: "StoreDeleteFailsOnLogout",
		why:  "a logout whose record could not be deleted must not be reported as a success: the session would stay valid for anyone holding the cookie",
		run: func(e *env) {
			c := e.newClient()
			v := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			e.store.fail(opDelete, errInjected, "")
			r := c.do("op", "destroy")
			e.wantErrorResponse(r, errStoreDown)
			e.store.heal()
			e.wantBody(e.session(v, "op", "get", "k", "a"), "1", "a failed logout leaves the session as it was")
			r = e.session(v, "op", "destroy")
			e.wantBody(r, "destroyed", "a retried logout must succeed")
			e.wantNoRecord(idOf(v), "a retried logout must delete the record")
		},
	},
	{
		name: "StoreDeleteFailsOnRenew",
		why:  "a renewal whose old record could not be deleted must fail without leaving the new record behind, or the store fills with unreachable copies",
		run: func(e *env) {
			c := e.newClient()
			v := e.issued(c.must("op", "set", "k", "a", "v", "1"), "a new session's first write sets its cookie")
			// The old record goes by a conditional Update (or a Delete):
			// make both fail for the old ID only.
			e.store.fail(opDelete, errInjected, idOf(v))
			e.store.fail(opWrite, errInjected, idOf(v))
			e.store.reset()
			r := c.do("op", "renew")
			e.wantErrorResponse(r, errStoreDown)
			for _, id := range e.store.createdIDs() {
				e.wantNoRecord(id, "a failed renewal must not leave its new record behind")
			}
			e.store.heal()
			e.wantBody(e.session(v, "op", "get", "k", "a"), "1", "a failed renewal leaves the session as it was")
		},
	},
	{
		name: "CustomErrorResponse",
		why:  "Config.ErrorHandler chooses the error response; the adapter must send its status, content type and body as they are",
		config: func(e *env, c *sess.Config) {
			c.ErrorHandler = func(context.Context, error) sess.ErrorResponse {
				return sess.ErrorResponse{Status: http.StatusInsufficientStorage, ContentType: "application/problem+json", Body: `{"title":"sessions unavailable"}`}
			}
		},
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			e.store.fail(opGet, errInjected, "")
			e.wantErrorResponse(c.do("op", "get", "k", "a"), errStoreDown)
			e.store.fail(opGet, nil, "")
			e.store.fail(opWrite, errInjected, "")
			e.wantErrorResponse(e.newClient().do("op", "set", "k", "a", "v", "1"), errStoreDown)
		},
	},
	{
		name: "DataTooLarge",
		why:  "a session whose data exceeds MaxDataSize cannot be saved; the client must get the error response and no cookie rather than a success that lost the data",
		config: func(e *env, c *sess.Config) {
			c.MaxDataSize = 1024
		},
		run: func(e *env) {
			e.store.reset()
			r := e.newClient().do("op", "big", "k", "a", "n", "4096")
			e.wantErrorResponse(r, sess.ErrTooLarge)
			e.wantNothingCreated("data over the size cap must not be stored")
		},
	},
}

// wantErrorResponse checks that r is the Manager's error response for err,
// without a session cookie and without backend details.
func (e *env) wantErrorResponse(r *result, err error) {
	e.t.Helper()
	want := e.m.ErrorResponse(context.Background(), err)
	if r.err != nil || r.status != want.Status || r.body != want.Body {
		e.fail("a session failure must be answered with the Manager's error response", "%s, want status %d with body %q", r, want.Status, want.Body)
	}
	if r.err == nil && want.ContentType != "" && r.header.Get("Content-Type") != want.ContentType {
		e.fail("the error response must keep its content type", "Content-Type %q, want %q", r.header.Get("Content-Type"), want.ContentType)
	}
	for _, m := range leakMarkers {
		if strings.Contains(r.body, m) {
			e.fail("an error response must not reveal backend details", "body %q contains %q", r.body, m)
		}
	}
	e.noCookie(r, "an error response must not set the session cookie")
}
