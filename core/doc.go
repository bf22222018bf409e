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
// Applications need only New, Config (with SkipHeader), Manager, Session,
// Get, FromContext, the Err* sentinels, Codec and JSONCodec, RandomID and
// UUIDv4. The sections "Writing an adapter" and "Writing a store" list the
// rest, which only adapter and store authors use.
//
// # Configuration
//
// sess is modelled on the SessionMiddleware of FastAPI's authx_extra and
// keeps all of its options under Go names: secret_key is Config.Secret,
// store is Store, session_cookie is CookieName, session_object is
// ObjectName, http_only=False is DisableHTTPOnly, secure=False is
// DisableSecure, max_age is MaxAge, cookie_path is Path,
// skip_session_header is SkipHeaders and logger is Logger; its uuid4 IDs
// are GenerateID: UUIDv4. Every other field is new, and every zero value
// is a secure default.
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
// # Security defaults
//
// 256-bit IDs from crypto/rand; HMAC-SHA256 bound to the cookie name,
// compared in constant time, with key rotation (Config.PreviousSecrets);
// HttpOnly, Secure and SameSite=Lax cookies (Partitioned on request);
// idle and absolute timeouts enforced on the server; Renew for login and
// Destroy for logout; store failures fail closed with 503; raw IDs are
// never logged. Config.SkipHeaders are client-controlled: any client can
// send them to get an inert session, so use them only for requests that
// need no session and strip them at the proxy.
//
// # Writing an adapter
//
// An adapter drives each request through one Lifecycle and holds no
// session logic of its own:
//
//	x := m.Begin(ctx, carrier) // or m.BeginHTTP(w, r) on net/http writers
//	if x.Err() != nil { answer x.ErrorResponse(); return } // BeginHTTP did
//	expose x.Session() (bag under m.ObjectName(), accessor From) and x.Context()
//	call x.Start(status) before the response's first byte (x.Writer does it
//	for net/http writers); on false answer x.ErrorResponse() instead
//	after the handler: if !x.End(status) { answer x.ErrorResponse() }
//
// A request with a skip header needs no special path (x.Skipped reports
// it): its session is inert and Start and End commit nothing.
//
// Carrier, Manager.Begin, Manager.BeginHTTP, Manager.Wrap, Lifecycle,
// Manager.ErrorResponse, ErrorResponse, ContextKey and RawHeaderValues
// (reading a header's lines from a raw header block, for fasthttp-based
// carriers) are this API; the suite in github.com/gosess/sess/conformance
// checks an adapter built on it.
//
// # Writing a store
//
// A Store keeps records (Record: opaque Meta and Entries in the entry
// encoding) and applies Patches atomically. Entry, AppendEntry, EntrySize,
// NextEntry, ParseEntries, ApplyPatch and ErrBadEntries implement the
// encoding; HashID keys records so that a store dump holds no usable IDs;
// ErrNotFound, ErrConflict, ErrClosed, ErrStoreFull and ErrTooLarge are
// what stores return; SharedGetter, NonBlocking and ProcessLocal are
// optional capabilities. MemoryStore (MemoryConfig) is the default store;
// conformance.RunStore checks the contract.
package sess
