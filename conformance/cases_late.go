package conformance

import "strings"

// lateCases cover what happens to a session change made after the response
// started, once the handler returns.
var lateCases = []testCase{
	{
		name: "LateChangeSaveFailsIsLogged",
		why:  "a change made after the response started is saved when the handler returns, when the client can no longer be told that it failed; if the store then fails, the only trace of the lost change is the log, so it must be logged at level ERROR (a framework that buffers the response commits it before sending and answers the error response instead)",
		run: func(e *env) {
			c := e.newClient()
			c.must("op", "set", "k", "a", "v", "1")
			from := len(e.logs.String())
			e.store.fail(opWrite, errInjected, "")
			r := c.do("op", "bodyfirst", "k", "b", "v", "2")
			e.store.heal()
			logged := e.logs.String()[from:]
			if r.err == nil && r.status == e.m.ErrorResponse(e.t.Context(), errStoreDown).Status {
				// A buffering framework: the commit came before the response.
				e.wantErrorResponse(r, errStoreDown)
			} else {
				e.wantBody(r, "body", "the handler's response must pass through when only a late change fails")
				if !strings.Contains(logged, "level=ERROR") {
					e.fail("a late session change whose save failed must be logged at level ERROR after the handler returns", "the log of the request holds no error:\n%s", logged)
				}
			}
			e.wantBody(c.do("op", "get", "k", "b"), none, "a change whose save failed must not be stored")
			e.wantBody(c.do("op", "get", "k", "a"), "1", "the session must survive a failed late save")
		},
	},
}
