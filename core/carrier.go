package sess

import "net/http"

// Carrier is the whole contract between the core and a web framework: read
// request headers, add response headers. Adapters implement it over their
// framework's request and response and hand it to Manager.Begin; all
// cookie parsing, signing and Set-Cookie serialisation happens in the
// core, so every adapter emits the same bytes. Adapters on net/http writers
// use Manager.BeginHTTP and need no Carrier.
type Carrier interface {
	// RequestHeader returns every value of the named request header, in
	// order, or nil. name is in canonical form ("Cookie"); the lookup is
	// case-insensitive. Return the lines exactly as the client sent them,
	// not a framework's re-serialisation of parsed cookies. The returned
	// strings must stay valid and unchanged after the request ends:
	// adapters over frameworks that reuse buffers (fasthttp) must copy
	// them.
	RequestHeader(name string) []string
	// AddResponseHeader appends one response header line. It must never
	// replace, merge or fold existing lines: each Set-Cookie stays its own
	// line and the application's own cookies survive.
	AddResponseHeader(name, value string)
}

// headerCarrier is the Carrier over net/http's request and response
// headers, stored inside the Session by BeginHTTP.
type headerCarrier struct {
	req, resp http.Header

	spare *[3]string // one-line header values allocated with the Session
}

func (c headerCarrier) RequestHeader(name string) []string { return c.req[name] }

func (c headerCarrier) AddResponseHeader(name, value string) {
	old := c.resp[name]
	if len(old) == 0 && c.spare != nil && value != "" {
		// A new header: use a slot allocated with the Session, capped at
		// one element so that a later append copies instead of writing
		// into the next slot.
		for i := range c.spare {
			if c.spare[i] == "" {
				c.spare[i] = value
				c.resp[name] = c.spare[i : i+1 : i+1]
				return
			}
		}
	}
	c.resp[name] = append(old, value)
}
