package conformance

import (
	"compress/gzip"
	"net/http"
	"strings"
)

// CookieReader returns next behind a middleware that reads every request
// cookie with r.Cookies first, the net/http way of "the framework touched
// the cookies": put it in front of the session middleware in the mount
// given to CookiesReadFirst.
func CookieReader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.Cookies()
		next.ServeHTTP(w, r)
	})
}

// GzipWriter returns next behind a gzip middleware that swaps the response
// writer for a compressing one when the client accepts gzip (Go's client
// does, and decompresses transparently): put it between the session
// middleware and the handler in the mount given to WriterSwapped.
func GzipWriter(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			next.ServeHTTP(w, r)
			return
		}
		gw := &gzipWriter{ResponseWriter: w}
		defer gw.close()
		next.ServeHTTP(gw, r)
	})
}

// gzipWriter compresses what the handler writes; it starts the response
// (WriteHeader on the writer it wraps) on the handler's first WriteHeader
// or Write, and writes compressed bytes only when its buffer fills, on
// Flush and at the end.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	started bool
}

func (w *gzipWriter) WriteHeader(code int) {
	if !w.started {
		w.started = true
		h := w.Header()
		h.Del("Content-Length")
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if !w.started {
		w.WriteHeader(http.StatusOK)
	}
	if w.gz == nil {
		w.gz = gzip.NewWriter(w.ResponseWriter)
	}
	return w.gz.Write(b)
}

func (w *gzipWriter) Flush() {
	if w.gz != nil {
		_ = w.gz.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *gzipWriter) close() {
	if w.gz != nil {
		_ = w.gz.Close()
	}
}
