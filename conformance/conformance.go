package conformance

import (
	"context"
	"net/http"
	"testing"

	sess "github.com/gosess/sess/core"
)

// Exchange is one request as the suite's handler sees it, implemented by
// the adapter's test over its framework's own request context. Every
// method must use the framework's own idiom: the suite checks that the
// adapter's commit hooks work with the framework's real writers.
type Exchange interface {
	// Session returns the session through the adapter's typed accessor
	// (sesshttp.From, sessgin.From, ...).
	Session() *sess.Session
	// Context returns the context.Context the framework gives handler code
	// (r.Context(), c.Request.Context(), c.UserContext(), fasthttp's
	// *RequestCtx itself); the suite checks that sess.FromContext finds the
	// same session in it, unless the Exchange also implements NoContext.
	Context() context.Context
	// Bag returns the value the framework's per-request bag holds under key
	// (gin and echo c.Get, fiber c.Locals), or nil for frameworks without
	// one (net/http), whose Exchange then also implements NoBag.
	Bag(key string) any
	// Query returns a URL query parameter.
	Query(name string) string
	// SetCookie adds an application cookie "name=value; Path=/" the
	// framework's own way (http.SetCookie, c.SetCookie, c.Cookie).
	SetCookie(name, value string)
	// String writes a complete response: status, then body, with the
	// framework's own writer (w.Write, c.String, c.SendString).
	String(status int, body string) error
	// Stream writes status and then each chunk, flushing after every chunk
	// (http.Flusher, c.Writer.Flush, c.Response().Flush, or fiber's
	// SetBodyStreamWriter).
	Stream(status int, chunks ...string) error
}

// NoBag is implemented by an Exchange whose framework has no per-request bag
// (net/http): its Bag returns nil. For every other Exchange the suite
// requires Bag(ObjectName) to return the session, so an adapter that forgets
// to put it there fails.
type NoBag interface {
	NoBag()
}

// Handler is the suite's handler. When it returns an error, the mount
// hands it to the framework's own error path, which must answer 500
// (returned from an echo or fiber handler, c.AbortWithError with 500 in
// gin, http.Error with 500 in net/http).
type Handler func(x Exchange) error

// Mount builds an app that serves every method and path with the
// adapter's middleware for m in front of h, and returns it as an
// http.Handler. Frameworks that do not serve net/http directly (fiber)
// return a bridge such as RoundTripHandler.
type Mount func(t *testing.T, m *sess.Manager, h Handler) http.Handler
