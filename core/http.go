package sess

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
)

// HeaderCarrier is a Carrier over net/http's request and response headers.
// Adapters for frameworks built on net/http (net/http itself, gin, echo)
// use it as is.
type HeaderCarrier struct {
	Request  http.Header
	Response http.Header

	spare *[3]string // one-line header values allocated with the Session
}

// RequestHeader implements Carrier.
func (c HeaderCarrier) RequestHeader(name string) []string { return c.Request[name] }

// AddResponseHeader implements Carrier.
func (c HeaderCarrier) AddResponseHeader(name, value string) {
	old := c.Response[name]
	if len(old) == 0 && c.spare != nil && value != "" {
		// A new header: use a slot allocated with the Session, capped at
		// one element so that a later append copies instead of writing
		// into the next slot.
		for i := range c.spare {
			if c.spare[i] == "" {
				c.spare[i] = value
				c.Response[name] = c.spare[i : i+1 : i+1]
				return
			}
		}
	}
	c.Response[name] = append(old, value)
}

// LoadHeaders is Load over net/http header maps, for adapters on frameworks
// built on net/http. It saves the allocation of a Carrier per request.
func (m *Manager) LoadHeaders(ctx context.Context, request, response http.Header) (*Session, error) {
	return m.load(ctx, nil, request, response)
}

// Wrap returns next behind the session lifecycle for net/http: the
// session is loaded before next runs (a store failure answers ErrorResponse
// without running it), placed in the request context (FromContext), and
// committed before the response's first byte. Package sesshttp exposes it
// as its Middleware; frameworks with their own writers build on Load,
// Commit and NewResponseWriter instead.
func (m *Manager) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s, err := m.LoadHeaders(ctx, r.Header, w.Header())
		if err != nil {
			m.ServeError(ctx, w, err)
			return
		}
		if s == nil { // a skip header
			next.ServeHTTP(w, r)
			return
		}
		rw := m.NewResponseWriter(ctx, w, s)
		next.ServeHTTP(rw, r.WithContext(NewContext(ctx, s)))
		rw.Finish(http.StatusOK)
	})
}

// ResponseWriter wraps an http.ResponseWriter so that the session is
// committed exactly when the response starts: on the first WriteHeader
// (other than 1xx), Write or Flush. If the commit fails, the client gets
// Manager.ErrorResponse instead of the handler's response, no session
// cookie, and later writes report ErrCommitFailed. Adapters for frameworks
// built on net/http wrap their writer with it and call Finish after the
// handler returns. Unwrap lets http.ResponseController reach the
// underlying writer's optional methods (deadlines, EnableFullDuplex).
type ResponseWriter struct {
	w      http.ResponseWriter
	ctx    context.Context
	m      *Manager
	s      *Session
	state  uint8 // 0 pending, 1 committed, 2 failed
	status int
}

const (
	rwPending uint8 = iota
	rwCommitted
	rwFailed
)

// NewResponseWriter returns w wrapped to commit s through m. ctx is the
// request's context (store calls detach from its cancellation).
func (m *Manager) NewResponseWriter(ctx context.Context, w http.ResponseWriter, s *Session) *ResponseWriter {
	if s != nil && s.rwUsed.CompareAndSwap(false, true) {
		s.rw = ResponseWriter{w: w, ctx: ctx, m: m, s: s}
		return &s.rw
	}
	return &ResponseWriter{w: w, ctx: ctx, m: m, s: s}
}

// Before commits the session for a response with the given status unless
// that already happened, and reports whether the response may proceed. When
// it returns false the error response has been written and the caller must
// write nothing more. Adapters whose framework writes through its own
// writer type (gin) call it from their hooks.
func (rw *ResponseWriter) Before(status int) bool {
	switch rw.state {
	case rwCommitted:
		return true
	case rwFailed:
		return false
	}
	rw.status = status
	if err := rw.m.Commit(rw.ctx, rw.s, status); err != nil {
		rw.state = rwFailed
		rw.writeError(err)
		return false
	}
	rw.state = rwCommitted
	return true
}

func (rw *ResponseWriter) writeError(err error) {
	h := rw.w.Header()
	for k := range h {
		delete(h, k)
	}
	r := rw.m.ErrorResponse(rw.ctx, err)
	rw.status = r.Status
	WriteError(rw.w, r)
}

// ServeError logs err and answers it on w with the Manager's error
// response (see ErrorResponse). Adapters on net/http writers call it when
// Load fails, instead of running the handler.
func (m *Manager) ServeError(ctx context.Context, w http.ResponseWriter, err error) {
	WriteError(w, m.ErrorResponse(ctx, err))
}

// WriteError writes r to w: status, content type, body, and headers that
// keep the error out of caches and content sniffing. Adapters on net/http
// writers use it to render Manager.ErrorResponse.
func WriteError(w http.ResponseWriter, r ErrorResponse) {
	h := w.Header()
	r.Headers(h.Set)
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, r.Body)
}

// Header implements http.ResponseWriter.
func (rw *ResponseWriter) Header() http.Header {
	if rw.state == rwFailed {
		return http.Header{} // writes to it go nowhere
	}
	return rw.w.Header()
}

// WriteHeader implements http.ResponseWriter. Informational (1xx) headers
// pass through without committing.
func (rw *ResponseWriter) WriteHeader(code int) {
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rw.w.WriteHeader(code)
		return
	}
	if rw.state != rwPending {
		if rw.state == rwCommitted {
			rw.w.WriteHeader(code) // let net/http report the superfluous call
		}
		return
	}
	if rw.Before(code) {
		rw.w.WriteHeader(code)
	}
}

// Write implements http.ResponseWriter.
func (rw *ResponseWriter) Write(b []byte) (int, error) {
	if rw.state == rwPending && !rw.Before(http.StatusOK) || rw.state == rwFailed {
		return 0, ErrCommitFailed
	}
	return rw.w.Write(b)
}

// Flush commits the session and flushes the underlying writer, if it can.
func (rw *ResponseWriter) Flush() {
	if rw.state == rwPending && !rw.Before(http.StatusOK) || rw.state == rwFailed {
		return
	}
	_ = http.NewResponseController(rw.w).Flush()
}

// Hijack commits the session (a hijacked connection carries no cookie the
// session could add later) and hijacks the underlying connection.
func (rw *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if rw.state == rwPending && !rw.Before(http.StatusSwitchingProtocols) || rw.state == rwFailed {
		return nil, nil, ErrCommitFailed
	}
	return http.NewResponseController(rw.w).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *ResponseWriter) Unwrap() http.ResponseWriter { return rw.w }

// Status returns the status the response started with, or 0 if it has not
// started.
func (rw *ResponseWriter) Status() int { return rw.status }

// Finish completes the exchange after the handler returned. status is the
// status the framework sends for a handler that wrote nothing (200 in
// net/http; the recorded status in frameworks such as gin). Such a handler
// gets its session committed now, and changes made after the response
// started are persisted if still safe, or reported. It returns false if
// the commit failed and an error response was written.
func (rw *ResponseWriter) Finish(status int) bool {
	switch rw.state {
	case rwPending:
		return rw.Before(status)
	case rwCommitted:
		_ = rw.m.Commit(rw.ctx, rw.s, rw.status)
		return true
	}
	return false
}
