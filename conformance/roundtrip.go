package conformance

import (
	"errors"
	"io"
	"net/http"
)

// hopByHop lists the connection-level headers RoundTripHandler does not
// copy: they describe the bridged connection, not the response.
var hopByHop = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}

// RoundTripHandler turns a function that answers an *http.Request with an
// *http.Response, such as fiber's app.Test, into an http.Handler, so that
// frameworks that do not serve net/http can be mounted:
//
//	return conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) {
//		return app.Test(r, -1)
//	})
//
// The request handed to rt is a client request (absolute URL, Host set,
// no RequestURI) carrying the incoming request's headers, body and
// context. Its URL is https, as the suite's server is: rt that forwards it
// to a plain-HTTP server on a loopback port sets r.URL.Scheme = "http" and
// r.URL.Host to that server's address first, then calls
// http.DefaultTransport.RoundTrip(r). The response's status, every header line except hop-by-hop ones
// (each Set-Cookie line stays its own line, never folded) and its body are
// copied to the client, flushing as the body arrives. If rt fails, the
// client gets 502 Bad Gateway.
func RoundTripHandler(rt func(*http.Request) (*http.Response, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := r.Clone(r.Context())
		req.RequestURI = ""
		req.URL.Host = r.Host
		req.URL.Scheme = "http"
		if r.TLS != nil {
			req.URL.Scheme = "https"
		}
		resp, err := rt(req)
		if err != nil {
			http.Error(w, "conformance: round trip failed: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		h := w.Header()
		for name, values := range resp.Header {
			if hopByHop[http.CanonicalHeaderKey(name)] {
				continue
			}
			h[name] = append(h[name], values...)
		}
		w.WriteHeader(resp.StatusCode)
		rc := http.NewResponseController(w)
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				_ = rc.Flush()
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					panic(http.ErrAbortHandler) // the client must not take a cut body for a whole one
				}
				return
			}
		}
	})
}
