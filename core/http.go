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
		if x.Err() == nil {
			next.ServeHTTP(x.Writer(w), r.WithContext(x.Context()))
			x.End(http.StatusOK)
		}
	})
}

// Writer returns w wrapped for the handler, the net/http binding of the
// lifecycle: the wrapper calls Start exactly when the response starts, on
// the first WriteHeader (other than 1xx), Write, Flush or Hijack (as 101),
// and from then on a failed commit's error response is written to w: the
// client gets it instead of the handler's response, without a session
// cookie, and later writes report ErrCommitFailed. Its Unwrap lets
// http.ResponseController reach w's optional methods (deadlines,
// EnableFullDuplex). If w already wraps this lifecycle's writer (a
// middleware put its own writer around it), Writer returns w unchanged. The
// first call allocates nothing.
func (x *Lifecycle) Writer(w http.ResponseWriter) http.ResponseWriter {
	for u := w; u != nil; {
		if rw, ok := u.(*responseWriter); ok && rw.x == x {
			return w
		}
		uw, ok := u.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		u = uw.Unwrap()
	}
	x.w = w
	if x.s != nil && x.rw.x == nil {
		x.rw = responseWriter{w: w, x: x}
		return &x.rw
	}
	return &responseWriter{w: w, x: x}
}

// responseWriter is the http.ResponseWriter that Writer returns.
type responseWriter struct {
	w http.ResponseWriter
	x *Lifecycle
}

// start starts the response with status unless it already started, and
// reports whether the handler's output may go through.
func (rw *responseWriter) start(status int) bool {
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
func (rw *responseWriter) Header() http.Header {
	if rw.x.state == lcFailed {
		return http.Header{} // writes to it go nowhere
	}
	return rw.w.Header()
}

// WriteHeader implements http.ResponseWriter. Informational (1xx) headers
// pass through without committing.
func (rw *responseWriter) WriteHeader(code int) {
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
func (rw *responseWriter) Write(b []byte) (int, error) {
	if !rw.start(http.StatusOK) {
		return 0, ErrCommitFailed
	}
	return rw.w.Write(b)
}

// Flush commits the session and flushes the wrapped writer, if it can.
func (rw *responseWriter) Flush() {
	if rw.start(http.StatusOK) {
		_ = http.NewResponseController(rw.w).Flush()
	}
}

// Hijack commits the session (a hijacked connection carries no cookie the
// session could add later) and hijacks the wrapped connection.
func (rw *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !rw.start(http.StatusSwitchingProtocols) {
		return nil, nil, ErrCommitFailed
	}
	return http.NewResponseController(rw.w).Hijack()
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (rw *responseWriter) Unwrap() http.ResponseWriter { return rw.w }
