// Package sess is the framework-neutral core of sess, server-side HTTP
// sessions for Go. Only a signed session ID travels in a cookie; the data
// stays on the server, in a Store (in memory by default, or Redis with
// github.com/gosess/sess/stores/redis).
//
// Applications create one Manager and install an adapter's middleware:
//
//	m, err := sess.New(sess.Config{Secret: secret}) // secret: 32+ random bytes
//	if err != nil { ... }
//	handler := sesshttp.Middleware(m)(mux)          // or sessgin, sessecho, sessfiber
//
// Handlers then use the request's *Session:
//
//	s := sesshttp.From(r)               // or sess.FromContext(ctx)
//	n, _ := sess.Get[int](s, "counter")
//	s.Set("counter", n+1)
//
// # Lifecycle
//
// The adapter loads the session before the handler runs and commits it
// when the response is about to start. Loading verifies the cookie's HMAC
// before any store access and never adopts an ID the store does not hold.
// Committing writes only if the handler changed something, sending the
// store only the keys the request changed as a Patch that the store applies
// atomically, so concurrent changes to different keys never conflict; it
// sends the cookie only when its value or lifetime changes. A request that
// never writes its session stores nothing and sets no cookie.
//
// # Stores
//
// A Store keeps records of opaque Meta and Entries in the entry encoding
// (AppendEntry, NextEntry, ParseEntries, ApplyPatch) and applies Patches
// atomically; conformance.RunStore checks the contract. MemoryStore is the
// default.
//
// # Security defaults
//
// 256-bit IDs from crypto/rand; HMAC-SHA256 bound to the cookie name,
// compared in constant time, with key rotation (Config.PreviousSecrets);
// HttpOnly, Secure and SameSite=Lax cookies; idle and absolute timeouts
// enforced on the server; Renew for login and Destroy for logout; store
// failures fail closed with 503; raw IDs are never logged.
//
// # Writing an adapter
//
// Applications can skip this section. An adapter drives each request
// through one Lifecycle and holds no session logic of its own:
//
//	x := m.Begin(ctx, carrier) // or m.BeginHTTP(w, r) on net/http writers
//	if x.Err() != nil { answer x.ErrorResponse(); return } // BeginHTTP did
//	expose x.Session() (bag under m.ObjectName(), accessor From) and x.Context()
//	call x.Start(status) before the response's first byte (x.Writer does it
//	for net/http writers); on false answer x.ErrorResponse() instead
//	after the handler: if !x.End(status) { answer x.ErrorResponse() }
//
// Carrier, Manager.Begin, Manager.BeginHTTP, Lifecycle,
// Manager.ErrorResponse, ContextKey and RawHeaderValues (reading a header's
// lines from a raw header block, for fasthttp-based carriers) are this API; the suite in
// github.com/gosess/sess/conformance checks an adapter built on it.
package sess
