package sess

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
)

// Wrap returns next behind the session lifecycle for net/http: the
// session is loaded before next runs (a store failure answers ErrorResponse
// without running it), placed in the request context (FromContext), and
// committed before the response's first byte. Package sesshttp exposes it
// as its Middleware.
func (m *Manager) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := m.BeginHTTP(w, r)
		switch {
		case x.Skipped():
			next.ServeHTTP(w, r)
		case x.Err() == nil:
			next.ServeHTTP(x.Writer(w), r.WithContext(x.Context()))
			x.End(http.StatusOK)
		}
	})
}

// ResponseWriter is the net/http binding of a Lifecycle (see
// Lifecycle.Writer): it wraps an http.ResponseWriter so that the session is
// committed exactly when the response starts, on the first WriteHeader
// (other than 1xx), Write, Flush or Hijack. If the commit fails, the client
// gets the error response instead of the handler's, no session cookie, and
// later writes report ErrCommitFailed. Unwrap lets http.ResponseController
// reach the wrapped writer's optional methods (deadlines,
// EnableFullDuplex).
type ResponseWriter struct {
	w http.ResponseWriter
	x *Lifecycle
}

// Writer returns w wrapped to call Start before the response's first byte;
// the adapter hands it to the handler in place of w. From then on a failed
// commit's error response is written to w. The first call allocates
// nothing.
func (x *Lifecycle) Writer(w http.ResponseWriter) *ResponseWriter {
	x.w = w
	if x.s != nil && x.rw.x == nil {
		x.rw = ResponseWriter{w: w, x: x}
		return &x.rw
	}
	return &ResponseWriter{w: w, x: x}
}

// start starts the response with status unless it already started, and
// reports whether the handler's output may go through.
func (rw *ResponseWriter) start(status int) bool {
	return rw.x.start(status, rw.w)
}

// writeError writes r to w in place of whatever the handler set: status,
// content type, body, and headers that keep the error out of caches and
// content sniffing.
func writeError(w http.ResponseWriter, r ErrorResponse) {
	h := w.Header()
	for k := range h {
		delete(h, k)
	}
	r.Headers(h.Set)
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	w.WriteHeader(r.Status)
	_, _ = io.WriteString(w, r.Body)
}

// Header implements http.ResponseWriter.
func (rw *ResponseWriter) Header() http.Header {
	if rw.x.state == lcFailed {
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
	switch rw.x.state {
	case lcStarted:
		rw.w.WriteHeader(code) // let net/http report the superfluous call
	case lcPending:
		if rw.start(code) {
			rw.w.WriteHeader(code)
		}
	}
}

// Write implements http.ResponseWriter.
func (rw *ResponseWriter) Write(b []byte) (int, error) {
	if !rw.start(http.StatusOK) {
		return 0, ErrCommitFailed
	}
	return rw.w.Write(b)
}

// Flush commits the session and flushes the wrapped writer, if it can.
func (rw *ResponseWriter) Flush() {
	if rw.start(http.StatusOK) {
		_ = http.NewResponseController(rw.w).Flush()
	}
}

// Hijack commits the session (a hijacked connection carries no cookie the
// session could add later) and hijacks the wrapped connection.
func (rw *ResponseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !rw.start(http.StatusSwitchingProtocols) {
		return nil, nil, ErrCommitFailed
	}
	return http.NewResponseController(rw.w).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *ResponseWriter) Unwrap() http.ResponseWriter { return rw.w }
