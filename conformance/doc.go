// Package conformance holds the test suites every sess adapter (Run) and
// every sess store (RunStore) must pass.
//
// An adapter author writes one small Mount function that builds an app in
// their framework, installs their middleware and routes every request to
// the suite's Handler through an Exchange, their framework's view of one
// request. Then:
//
//	func TestConformance(t *testing.T) { conformance.Run(t, mount) }
//
// Run drives the adapter over real HTTP (an httptest TLS server, real
// Cookie and Set-Cookie headers, cookie jars and hand-made hostile
// requests) and checks raw headers, status codes and store state, one named
// subtest per case, each with a fresh store, a fresh Manager and a fresh
// mount. RunWithStore runs the same cases with a store of the caller's
// choosing, such as a Redis store. Cases are added to the suite without
// ever widening Mount or Exchange.
//
// A failing case names the invariant that broke, what it got and why the
// invariant matters, and prints the Manager's log of that case.
//
// Passing is necessary, not sufficient: the suite should not produce false
// positives, but it can miss defects. Run it with -race.
//
// # Writing an adapter
//
// An adapter binds the core's per-request sess.Lifecycle to one framework
// and holds no session logic of its own (see "Writing an adapter" in the
// core's package documentation and the README):
//
//  1. Before the handler, x := Manager.BeginHTTP(w, r) for frameworks on
//     net/http writers, or Manager.Begin(ctx, carrier) with a Carrier that
//     returns the request's header lines as sent (copied, for fasthttp).
//     x.Skipped(): run the handler without a session. x.Err() != nil: do
//     not run it; answer x.ErrorResponse() (BeginHTTP already did).
//  2. Expose x.Session() in the framework's per-request bag under
//     Manager.ObjectName, in the request context (x.Context(), or
//     sess.ContextKey() in a bag that backs the framework's context), and
//     through a typed accessor From.
//  3. Call x.Start(status) just before the response's first byte (x.Writer
//     does it for net/http writers), and x.End(status) after the handler;
//     on false, replace the response with x.ErrorResponse().
//  4. Write a Mount and an Exchange in the adapter's test and call Run.
//
// From, the typed accessor, needs no Manager: it reads the session from
// the request's context with sess.FromContext (or from the framework's
// context under sess.ContextKey), which does not depend on
// Manager.ObjectName; only the bag is keyed by ObjectName.
//
// When a handler returns an error and has written nothing (echo, fiber),
// the session commits with the status the framework's error path will
// send, not 200: either let that error path write through the writer that
// commits (the echo adapter wraps the writer echo's HTTPErrorHandler uses,
// so Start sees the error's status), or pass the status the framework will
// send to End (the fiber adapters read it from the error, 500 for a plain
// error). A 5xx commits nothing unless Config.SaveOnServerError.
//
// When the commit fails (Start or End returns false), the client gets
// ErrorResponse and nothing of the handler's response: not its status,
// body, headers (Vary, Cache-Control) or cookies. Lifecycle.Writer clears
// the header map before writing the error response; a buffering adapter
// resets the buffered response. FailedCommitAnswersOnlyTheErrorResponse
// checks it.
//
// # Optional capabilities
//
// Some cases need more than Mount and Exchange give; they are skipped, with
// a message, when the adapter's test does not provide it:
//
//   - CookiesReadFirst(mount): a second mount with a middleware in front of
//     the session middleware that reads the cookies through the framework's
//     API (r.Cookies, gin's and echo's c.Cookie, fiber's c.Cookies,
//     fasthttp's Request.Header.Cookie). The hostile Cookie headers must
//     load the same session through both mounts; over fasthttp that means
//     reading the lines with sess.RawHeaderValues(req.Header.RawHeaders(),
//     name), never PeekAll, which returns a re-serialisation once the
//     cookies were parsed.
//   - WriterSwapped(mount): a second mount with a writer-swapping middleware
//     (gzip: echo's middleware.Gzip, GzipWriter for net/http) between the
//     session middleware and the handler, for frameworks that have one.
//   - HeaderAdder, implemented by the Exchange: AddHeader adds a response
//     header line the framework's way, so the suite can check that the
//     application's own Vary, Cache-Control and Set-Cookie lines survive
//     next to the session's.
//   - NoBag, implemented by the Exchange of a framework without a
//     per-request bag (net/http).
//   - NoContext, implemented by the Exchange of a framework that gives
//     handlers no context.Context to find the session in. A framework whose
//     request object is a context.Context backed by its bag (fasthttp's
//     *RequestCtx, fiber v3's Ctx) does not need it: store the session under
//     sess.ContextKey() there and sess.FromContext works on it.
//
// Pass the options to Run or RunWithStore:
//
//	conformance.Run(t, mount, conformance.CookiesReadFirst(readFirstMount))
//
// # Writing a mount
//
// Mount builds an app that serves every method and path with the adapter's
// middleware in front of the suite's Handler, and returns it as an
// http.Handler. The Exchange passed to the Handler uses the framework's own
// idioms, so that the suite exercises the framework's real writers. For
// net/http the whole mount is:
//
//	type exchange struct {
//		w http.ResponseWriter
//		r *http.Request
//	}
//
//	func (x exchange) Session() *sess.Session       { return sesshttp.From(x.r) }
//	func (x exchange) Context() context.Context     { return x.r.Context() }
//	func (x exchange) Bag(string) any               { return nil } // net/http has no bag
//	func (x exchange) NoBag()                       {}             // ... and says so
//	func (x exchange) AddHeader(name, value string) { x.w.Header().Add(name, value) }
//	func (x exchange) Query(name string) string     { return x.r.URL.Query().Get(name) }
//	func (x exchange) SetCookie(name, value string) { http.SetCookie(x.w, &http.Cookie{Name: name, Value: value, Path: "/"}) }
//
//	func (x exchange) String(status int, body string) error {
//		x.w.WriteHeader(status)
//		_, err := io.WriteString(x.w, body)
//		return err
//	}
//
//	func (x exchange) Stream(status int, chunks ...string) error {
//		x.w.WriteHeader(status)
//		rc := http.NewResponseController(x.w)
//		for _, c := range chunks {
//			if _, err := io.WriteString(x.w, c); err != nil {
//				return err
//			}
//			if err := rc.Flush(); err != nil {
//				return err
//			}
//		}
//		return nil
//	}
//
//	func mount(t *testing.T, m *sess.Manager, h conformance.Handler) http.Handler {
//		return sesshttp.Middleware(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			if err := h(exchange{w, r}); err != nil {
//				http.Error(w, err.Error(), http.StatusInternalServerError)
//			}
//		}))
//	}
//
// Frameworks that do not serve net/http (fiber) end their mount with
// RoundTripHandler:
//
//	return conformance.RoundTripHandler(func(r *http.Request) (*http.Response, error) {
//		return app.Test(r, -1)
//	})
//
// The request handed over carries the suite's https URL (the suite serves
// TLS, so that Secure cookies come back). To forward it to a plain-HTTP
// server of the adapter's own on a loopback port, set r.URL.Scheme to
// "http" and r.URL.Host to its address and call
// http.DefaultTransport.RoundTrip(r); the Secure cookies still reach it,
// because the client-side jar saw https.
//
// A mount must serve every method (HEAD and OPTIONS included) and path,
// must hand an error returned by the Handler to the framework's own error
// path, which answers 500, and should install the framework's usual panic
// recovery (the suite checks that a handler that panics saves nothing).
// Exchange.Query must return URL query parameters; the suite's Handler
// copies what it keeps, so frameworks that reuse buffers need not.
//
// That is what HTTPMount builds: an adapter that is plain net/http
// middleware can call conformance.Run(t, conformance.HTTPMount(middleware,
// from)) and write no mount at all. Its Exchange implements NoBag and
// HeaderAdder; CookieReader and GzipWriter build its CookiesReadFirst and
// WriterSwapped variants:
//
//	readFirst := conformance.HTTPMount(func(m *sess.Manager) func(http.Handler) http.Handler {
//		return func(next http.Handler) http.Handler { return conformance.CookieReader(sesshttp.Middleware(m)(next)) }
//	}, sesshttp.From)
package conformance
