package conformance

// Option gives Run a mount variant for an optional capability of the
// adapter's framework. Cases that need a variant the caller did not give
// are skipped and say so.
type Option func(*options)

type options struct {
	cookiesFirst  Mount
	writerSwapped Mount
}

// CookiesReadFirst gives Run a second mount of the same adapter, identical
// to the main one except for a middleware in front of the session
// middleware that reads every request cookie through the framework's own
// API (r.Cookies in net/http, c.Cookie in gin and echo, c.Cookies in
// fiber), as authentication or CSRF middleware does. Frameworks that parse
// cookies lazily may rewrite their view of the Cookie header when they do
// (fasthttp re-serialises it: a nameless cookie "=sid=<value>" becomes
// "sid=<value>"); the case HostileCookiesAfterFrameworkParse sends the
// hostile Cookie headers through both mounts, which share one Manager, and
// requires identical answers. An adapter that reads the framework's parsed
// or re-serialised header instead of the lines as sent
// (sess.RawHeaderValues over fasthttp's raw header bytes) fails it.
func CookiesReadFirst(mount Mount) Option {
	return func(o *options) { o.cookiesFirst = mount }
}

// WriterSwapped gives Run a second mount of the same adapter with a
// middleware between the session middleware and the handler that swaps the
// response writer for its own, as gzip or compression middleware does
// (middleware.Gzip in echo, a gzip http.Handler wrapper in net/http).
// Frameworks that buffer the whole response (fiber, fasthttp) have no such
// writer and leave it out. The case CommitBeforeBodyThroughSwappedWriter
// checks that the session is still committed before the first byte and its
// cookie still sent, for whole and streamed responses.
func WriterSwapped(mount Mount) Option {
	return func(o *options) { o.writerSwapped = mount }
}

// HeaderAdder is implemented by an Exchange that can add a response header
// line the framework's own way (w.Header().Add, c.Writer.Header().Add,
// c.Response().Header().Add, fiber's c.Append). The case
// AppHeadersSurvive needs it and is skipped without it.
type HeaderAdder interface {
	AddHeader(name, value string)
}

// NoContext is implemented by an Exchange whose framework gives handler
// code no context.Context it could find the session in. Frameworks whose
// request object is itself a context.Context backed by a per-request bag
// (fasthttp's *RequestCtx, fiber v3's Ctx) do not need it: the adapter
// stores the session under sess.ContextKey() in that bag, and
// sess.FromContext(ctx) finds it. For an Exchange that implements NoContext
// the suite does not require sess.FromContext(Context()) to find the
// session; Context must still return a context that ends with the request
// (or context.Background()), and the adapter must still give the Lifecycle
// a context for store calls.
type NoContext interface {
	NoContext()
}
