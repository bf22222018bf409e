package sess

// Carrier is the whole contract between the core and a web framework: read
// request headers, add response headers. Adapters implement it over their
// framework's request and response; all cookie parsing, signing and
// Set-Cookie serialisation happens in the core, so every adapter emits the
// same bytes.
type Carrier interface {
	// RequestHeader returns every value of the named request header, in
	// order, or nil. name is in canonical form ("Cookie"); the lookup is
	// case-insensitive. The returned strings must stay valid and unchanged
	// after the request ends: adapters over frameworks that reuse buffers
	// (fasthttp) must copy them.
	RequestHeader(name string) []string
	// AddResponseHeader appends one response header line. It must never
	// replace, merge or fold existing lines: each Set-Cookie stays its own
	// line and the application's own cookies survive.
	AddResponseHeader(name, value string)
}
