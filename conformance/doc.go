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
// An adapter binds the core's lifecycle to one framework and holds no
// session logic of its own:
//
//  1. Before the handler, call Manager.Load with a Carrier over the
//     request and response headers (sess.HeaderCarrier for frameworks built
//     on net/http; a copying Carrier for fasthttp). A nil session with a nil
//     error means a skip header was present: run the handler without a
//     session. An error means the store failed: do not run the handler,
//     answer Manager.ErrorResponse the framework's way and set no cookie.
//  2. Expose the session: in the framework's per-request bag under
//     Manager.ObjectName, in the request's context.Context with
//     sess.NewContext, and through a typed accessor From.
//  3. Call Manager.Commit with the status exactly when the response is about
//     to start, before its first byte: wrap net/http-style writers with
//     Manager.NewResponseWriter and call Finish after the handler, or hook
//     the framework's before-write callback. If the first Commit fails,
//     answer ErrorResponse instead of the handler's response.
//  4. Add response headers one line at a time (never fold Set-Cookie lines),
//     and let the framework's own recovery and error handling run.
//  5. Write a Mount and an Exchange in the adapter's test and call Run.
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
//	func (x exchange) Bag(string) any               { return nil }
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
