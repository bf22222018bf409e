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
//     x.Err() != nil: do not run the handler; answer x.ErrorResponse()
//     (BeginHTTP already did). A skipped request (x.Skipped()) needs no
//     special path: its session is inert.
//  2. Expose x.Session() in the framework's per-request bag under
//     Manager.ObjectName, in the request context (x.Context(), or
//     sess.ContextKey() in a bag that backs the framework's context), and
//     through a typed accessor From.
//  3. Call x.Start(status) just before the response's first byte (x.Writer
//     does it for net/http writers), and x.End(status) after the handler;
//     on false, replace the response with x.ErrorResponse().
//  4. Write a Mount and an Exchange in the adapter's test and call Run.
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
// The request handed over carries the suite's https URL; to forward it to a
// plain server of the adapter's own on a loopback port, set r.URL.Scheme to
// "http" and r.URL.Host to its address and call
// http.DefaultTransport.RoundTrip(r).
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
// from)) and write no mount at all.
package conformance
