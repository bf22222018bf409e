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
// An adapter calls Manager.Load before the handler and Manager.Commit when
// the response is about to start. Load verifies the cookie's HMAC before
// any store access and never adopts an ID the store does not hold. Commit
// writes only if the handler changed something, sending the store only the
// keys the request changed as a Patch that the store applies atomically, so
// concurrent changes to different keys never conflict; it sends the cookie
// only when its value or lifetime changes. A request that never writes its
// session stores nothing and sets no cookie.
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
// An adapter implements Carrier over its framework (or uses HeaderCarrier
// for net/http-based ones), calls Load and Commit at the right moments,
// exposes the session in the framework's per-request bag under
// Manager.ObjectName and in the request context with NewContext, and passes
// the suite in github.com/gosess/sess/conformance.
package sess
