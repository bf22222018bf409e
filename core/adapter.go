package sess

// This file is the API for adapter authors; applications never need it.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Lifecycle is one request's session lifecycle, as an adapter drives it.
// Manager.Begin (or BeginHTTP) loads the session and returns it; the
// adapter then only maps its framework's hooks onto three calls:
//
//   - before the handler: Err (do not run it: answer ErrorResponse), else
//     expose Session and Context to the handler (also when Skipped);
//   - when the response is about to start, before its first byte:
//     Start(status), which commits the session;
//   - after the handler returned: End(status), which commits a response
//     that has not started yet and saves (or logs) changes made after it
//     started.
//
// When Start or End returns false the session could not be committed: the
// adapter replaces the whole response (status, headers, cookies, body) with
// ErrorResponse and writes nothing else. A Lifecycle from BeginHTTP, or one
// whose Writer is in use, writes that error response itself.
//
// A Lifecycle belongs to one request and must not be used after it ended.
// Its methods are not safe for concurrent use: call them from the
// goroutine that writes the response.
//
// Its request context is its Session's (s.ctx.Context), or its failure's
// when loading failed: a Lifecycle is allocated with its Session, and each
// word counts against the Session's size class.
type Lifecycle struct {
	s      *Session            // nil when loading failed
	w      http.ResponseWriter // where the error response goes, if the core writes it
	state  uint8
	status int32
	failed *failure // allocated on failure only

	rw responseWriter // the first Writer, allocated with the Session
}

// failure is what a failed lifecycle answers.
type failure struct {
	err  error
	resp ErrorResponse
	ctx  context.Context // the request's, when loading failed
}

const (
	lcPending uint8 = iota
	lcStarted
	lcFailed
)

// Begin starts the lifecycle of one request: it reads the session cookie
// through c and loads the session. ctx is the request's context (store
// calls detach from its cancellation); frameworks without one pass their
// request object if it implements context.Context (fasthttp's RequestCtx
// does) or context.Background().
//
// A missing, malformed, forged or expired cookie gives a new, empty
// session: the store is consulted only for cookies whose MAC verifies, and
// an ID the store does not hold is never adopted. Only a store failure
// fails Begin (see Lifecycle.Err).
func (m *Manager) Begin(ctx context.Context, c Carrier) *Lifecycle {
	return m.begin(ctx, c, nil, nil, nil)
}

// BeginHTTP is Begin for frameworks that write through an
// http.ResponseWriter (net/http, gin, echo): the carrier is r.Header and
// w.Header(), the context r.Context(), and the core writes every error
// response to w itself (clearing the headers the handler set), a load
// failure before BeginHTTP returns. It allocates nothing beyond the Session.
func (m *Manager) BeginHTTP(w http.ResponseWriter, r *http.Request) *Lifecycle {
	return m.begin(r.Context(), nil, r.Header, w.Header(), w)
}

func (m *Manager) begin(ctx context.Context, c Carrier, req, resp http.Header, w http.ResponseWriter) *Lifecycle {
	s, err := m.load(ctx, c, req, resp)
	if err != nil {
		x := &Lifecycle{w: w}
		x.fail(m, ctx, err, w)
		return x
	}
	s.ctx.Context = ctx
	x := &s.lc
	*x = Lifecycle{s: s, w: w}
	return x
}

// Skipped reports whether the request carries one of Config.SkipHeaders.
// Such a request still has a Session, which the adapter exposes as usual,
// but an inert one: it reads empty, ignores every change, touches no store
// and sets no cookie; Start and End commit nothing. Adapters need not treat
// it specially.
func (x *Lifecycle) Skipped() bool { return x.s != nil && x.s.skipped }

// Err returns the failure that replaced the response with ErrorResponse:
// the store failure that made Begin fail (the adapter must not run the
// handler), or the failed commit of Start or End. It is nil otherwise.
func (x *Lifecycle) Err() error {
	if x.failed == nil {
		return nil
	}
	return x.failed.err
}

// Session returns the request's session (an inert one if Skipped), or nil
// if loading failed.
func (x *Lifecycle) Session() *Session { return x.s }

// Context returns the request's context carrying the session, for
// sess.FromContext: the adapter hands it to the handler as the request
// context. Without a session it is the context given to Begin.
func (x *Lifecycle) Context() context.Context {
	if x.s == nil {
		return x.failed.ctx
	}
	return newContext(x.s)
}

// Start reports that the response is about to start with status, before
// its first byte (the first WriteHeader, Write or Flush; 101 for a hijacked
// connection). The first call commits the session: it persists the changes
// (none for a 5xx status unless Config.SaveOnServerError) and adds the
// session's Set-Cookie, Vary and Cache-Control lines through the Carrier.
// It returns whether the adapter may send the handler's response; false
// means the commit failed and the adapter must send ErrorResponse instead
// and nothing else (with BeginHTTP or Writer the core already did). Later
// calls commit nothing and return the first call's answer.
func (x *Lifecycle) Start(status int) bool { return x.start(status, x.w) }

// start is Start writing a failure's error response to sink, if not nil.
func (x *Lifecycle) start(status int, sink http.ResponseWriter) bool {
	switch x.state {
	case lcStarted:
		return true
	case lcFailed:
		return false
	}
	if x.s.skipped {
		x.state, x.status = lcStarted, int32(status)
		return true
	}
	x.status = int32(status)
	s := x.s
	if err := s.m.commit(s.ctx.Context, s, status); err != nil {
		x.fail(s.m, s.ctx.Context, err, sink)
		return false
	}
	x.state = lcStarted
	return true
}

// fail records err, logs it and builds its error response, which it writes
// to sink if not nil.
func (x *Lifecycle) fail(m *Manager, ctx context.Context, err error, sink http.ResponseWriter) {
	r := m.ErrorResponse(ctx, err)
	x.state, x.status = lcFailed, int32(r.Status)
	x.failed = &failure{err: err, resp: r, ctx: ctx}
	if sink != nil {
		writeError(sink, r)
	}
}

// End completes the lifecycle after the handler returned. status is the
// status the framework sends for a handler that wrote nothing (200 in
// net/http, the recorded status in gin, the buffered response's in
// fasthttp and fiber). If the response has not started, End is Start(status)
// and returns its answer. Otherwise it saves changes the handler made after
// the response started if that is still safe (the client already holds the
// session's cookie), and logs at level Error those it could not save; it
// then returns true, or false if Start failed earlier.
func (x *Lifecycle) End(status int) bool {
	switch x.state {
	case lcPending:
		return x.Start(status)
	case lcFailed:
		return false
	}
	if x.s.skipped {
		return true
	}
	s := x.s
	err := s.m.commit(s.ctx.Context, s, int(x.status))
	if err != nil && !errors.Is(err, errResponseStarted) { // commit logged those itself
		s.m.logSession(s.ctx.Context, slog.LevelError, "sess: session changed after the response started; saving the change failed", "",
			slog.String("event", "late_change_failed"), attrErr(err))
	}
	return true
}

// Status returns the status the response started with (Start's, or the
// error response's after a failure), or 0 before Start.
func (x *Lifecycle) Status() int { return int(x.status) }

// ErrorResponse returns the response that replaces the handler's after a
// failure (Err is not nil): its status, content type, headers (see
// ErrorResponse.Headers) and body, as chosen by Config.ErrorHandler.
func (x *Lifecycle) ErrorResponse() ErrorResponse {
	if x.failed == nil {
		return ErrorResponse{}
	}
	return x.failed.resp
}

// ErrorResponse returns what an adapter answers for a failure of its own
// before the response started (such as fiber refusing Prefork with a
// process-local store), as chosen by Config.ErrorHandler, and logs the
// failure at level Error. Failures of the lifecycle itself come with
// Lifecycle.ErrorResponse.
//
// An unmergeable ErrConflict, which is no store failure, is logged at level
// Warn with event=conflict.
func (m *Manager) ErrorResponse(ctx context.Context, err error) ErrorResponse {
	if errors.Is(err, ErrConflict) {
		m.logSession(ctx, slog.LevelWarn, "sess: a concurrent change of the session could not be merged; answering with an error response", "",
			slog.String("event", "conflict"), attrErr(err))
	} else {
		m.logSession(ctx, slog.LevelError, "sess: session handling failed; answering with an error response", "", attrErr(err))
	}
	r := m.cfg.ErrorHandler(ctx, err)
	if r.Status == 0 {
		r.Status = 500
	}
	return r
}

// ContextKey returns the key under which FromContext looks the session up.
// Frameworks whose request object is itself a context.Context backed by a
// per-request bag (fasthttp's RequestCtx with its user values, fiber v3's
// Ctx with Locals) store Lifecycle.Session under it as well, so that
// sess.FromContext works on the framework's own context.
func ContextKey() any { return ctxKey{} }

// ContextKey returns the key under which FromContextFor looks up this
// Manager's session. Frameworks whose request object is itself a
// context.Context backed by a per-request bag store Lifecycle.Session under
// it as well as under the package's ContextKey.
func (m *Manager) ContextKey() any { return managerKey{m} }
