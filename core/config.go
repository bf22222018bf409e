package sess

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultCookieName      = "sid"
	DefaultObjectName      = "session"
	DefaultPath            = "/"
	DefaultIdleTimeout     = 24 * time.Hour
	DefaultAbsoluteTimeout = 7 * 24 * time.Hour
	DefaultStoreTimeout    = 2 * time.Second
	DefaultMaxDataSize     = 64 << 10
	DefaultObserverQueue   = 4096

	// MinSecretLen is the shortest secret New accepts, in bytes.
	MinSecretLen = 32
	// MaxCookieAge is the longest MaxAge New accepts (RFC 6265bis caps
	// cookie lifetimes at 400 days).
	MaxCookieAge = 400 * 24 * time.Hour
	// DefaultTokenResponseHeader is the response header of issued values
	// when TokenHeader is Authorization.
	DefaultTokenResponseHeader = "Session-Token"

	// MaxRenewGrace is the longest RenewGrace New accepts.
	MaxRenewGrace = time.Minute
)

// SkipHeader names a request header that makes the middleware skip session
// handling. The request's handlers still get a Session, an inert one: it
// reads empty and ignores changes, and the request touches no store and
// sets no cookie.
//
// The header is client-controlled: any client can send it and so opt out of
// its session for that request. Use it only for requests that need no
// session (health checks, internal probes), and have the proxy in front
// strip it from outside traffic.
type SkipHeader struct {
	// Name is the header name, matched case-insensitively.
	Name string
	// Value is the exact header value that triggers the skip. "" or "*"
	// matches any value, as long as the header is present.
	Value string
}

// ErrorResponse is what the middleware answers when session handling fails
// before the response started.
type ErrorResponse struct {
	Status      int
	ContentType string
	Body        string
}

// Headers sets the response headers of an error response through set:
// its Content-Type, and headers that keep it out of caches and content
// sniffing. Adapters call it with their framework's header setter.
func (r ErrorResponse) Headers(set func(name, value string)) {
	if r.ContentType != "" {
		set("Content-Type", r.ContentType)
	}
	set("X-Content-Type-Options", "nosniff")
	set("Cache-Control", "no-store")
}

// Config configures a Manager. The zero value of every field means the
// documented default, so Config{Secret: key} is a complete, secure
// configuration (the package documentation maps the fields to the options
// of authx_extra's SessionMiddleware).
type Config struct {
	// Secret signs session cookies with HMAC-SHA256. It must be at least
	// MinSecretLen bytes of high-entropy data. Required.
	Secret []byte
	// PreviousSecrets still verify cookies but never sign them, so a key can
	// be rotated without logging everyone out: put the new key in Secret and
	// the old one here. A cookie verified with a previous secret is re-signed
	// with Secret on the next response. Default: none.
	PreviousSecrets [][]byte

	// Store keeps the session data. Default: a fresh in-memory store
	// (NewMemoryStore with a zero MemoryConfig), owned and closed by the
	// Manager.
	Store Store

	// CookieName is the session cookie's name. Default: "sid". A "__Host-"
	// prefix requires Secure, Path "/" and no Domain; "__Secure-" requires
	// Secure.
	CookieName string
	// ObjectName is the key of the session in the framework's per-request
	// store of values: c.Get(ObjectName) in gin and echo, c.Locals(ObjectName)
	// in fiber. Handlers rarely need it: the adapter's From and FromContext
	// return the same session. Default: "session".
	ObjectName string
	// DisableHTTPOnly omits the HttpOnly attribute, letting page scripts read
	// the cookie. Default: false (HttpOnly set).
	DisableHTTPOnly bool
	// DisableSecure omits the Secure attribute so the cookie also travels
	// over plain HTTP. Only for local development. Default: false (Secure
	// set).
	DisableSecure bool
	// MaxAge makes the cookie persistent with this lifetime, counted from
	// when the cookie is issued (a new session, a renewal, a key rotation)
	// and capped by the session's absolute deadline. The cookie is not
	// re-sent on every request to slide it. Zero means a browser-session
	// cookie without Max-Age or Expires. Default: 0. At most MaxCookieAge.
	MaxAge time.Duration
	// SameSite is the cookie's SameSite attribute. Default: Lax.
	// SameSiteNone requires Secure.
	SameSite http.SameSite
	// Path is the cookie's Path attribute. Default: "/".
	Path string
	// Domain is the cookie's Domain attribute. Default: none (host-only).
	Domain string
	// Partitioned adds the Partitioned attribute (CHIPS) to the session
	// cookie and to the expiring cookie sent at logout, so that a browser
	// keeps a separate cookie jar per top-level site for an application
	// embedded in other sites. It requires Secure (not DisableSecure); a
	// cross-site embed also needs SameSite None. Default: false.
	Partitioned bool

	// IdleTimeout ends a session after this long without a request. Reading
	// requests extend it without rewriting the data. Negative disables the
	// idle timeout. Default: 24h.
	IdleTimeout time.Duration
	// AbsoluteTimeout ends a session this long after it was created,
	// whatever the activity; renewing the ID does not extend it. Default:
	// the larger of 7 days and IdleTimeout. Must not be shorter than
	// IdleTimeout.
	AbsoluteTimeout time.Duration
	// RenewGrace, when positive, keeps a renewed session reachable through
	// its old ID for this long: requests a client sent with the old cookie
	// before it received the new one (parallel XHRs around a login) reach
	// the renewed session instead of an empty one, and their writes land in
	// it. Such a request never gets a cookie of its own, cannot renew the
	// session again (Renew does nothing) and can only end it (Destroy ends
	// the renewed session). The old record itself is deleted as without a
	// grace window; a small forwarding record, holding the new ID sealed
	// with the old one, lives for RenewGrace. The trade-off: for RenewGrace
	// after a login, whoever holds the pre-login ID can use the logged-in
	// session, so keep it to a few seconds. It costs one more store read
	// for a verified cookie whose session is gone (to look for a forward).
	// At most one minute. Default: 0, the old ID ends at once.
	RenewGrace time.Duration

	// TokenHeader, when set, names a request header (such as
	// "Session-Token") that carries the signed session value for API and
	// mobile clients, besides the cookie: the same signing, strictness and
	// key rotation apply. A response that issues a value (a new session, a
	// renewal, a key rotation) carries it in this header too, one that ends
	// the session carries HeaderExpired, and both add Vary on the header.
	// The value is never read from the URL. "Authorization" is read as the
	// Bearer scheme (Authorization: Bearer <value>; other schemes are left
	// alone), and the response then carries issued values in
	// TokenResponseHeader. Cookie and other standard headers are refused.
	// Default: none (cookies only).
	TokenHeader string
	// TokenResponseHeader names the response header that carries issued
	// values and HeaderExpired. Default: TokenHeader, or "Session-Token"
	// when TokenHeader is Authorization.
	TokenResponseHeader string
	// DisableCookie makes TokenHeader the only transport, for pure API
	// servers: no cookie is read and no Set-Cookie sent. Requires
	// TokenHeader. Default: false.
	DisableCookie bool

	// SkipHeaders lists request headers that skip session handling: such a
	// request gets an inert session (see SkipHeader). The headers are
	// client-controlled. Default: none.
	SkipHeaders []SkipHeader

	// Logger receives security events and failures. Session
	// IDs are never logged, only a short keyed hash. Default: slog.Default().
	Logger *slog.Logger
	// Observer receives every session lifecycle event and store call (see
	// Event), for metrics and audit trails: Counters counts them, the otel
	// module exports them. An InlineObserver (Counters, the otel module's)
	// is called synchronously on the request path and sees every event; any
	// other Observer is called from a goroutine of the Manager, fed by a
	// queue of ObserverQueue events, so that a slow Observer cannot stall
	// requests: when the queue is full events are dropped, counted
	// (Manager.ObserverDrops) and logged at most 10 times a minute, and
	// Manager.Close delivers what is queued. Invalid cookies, ambiguous
	// cookies and corrupt records are logged at most 10 times a minute
	// (with a summary of the lines suppressed), but always observed.
	// Default: none (no cost, no goroutine).
	Observer Observer
	// ObserverQueue is the capacity, in events, of the queue in front of an
	// Observer that is not an InlineObserver (unused otherwise). A request
	// emits a few events and one per store call. Default:
	// DefaultObserverQueue. At most 1<<20.
	ObserverQueue int

	// StoreTimeout bounds every store call. Store calls use a context that a
	// client disconnect does not cancel. Default: 2s.
	StoreTimeout time.Duration
	// MaxDataSize caps the encoded size of one session (Meta plus Entries,
	// see Patch), checked before decoding, before creating a record and,
	// atomically, by the store when it applies a commit's Patch: concurrent
	// writers can never together push a session over the cap, a commit that
	// would fails with ErrTooLarge. Default: 64 KiB.
	MaxDataSize int
	// SaveOnServerError also saves changes made by a request whose response
	// status is 5xx. Default: false (a failed request leaves the session as
	// it was).
	SaveOnServerError bool

	// GenerateID returns a new session ID. It must return at least 128 bits
	// from a cryptographically secure source, as 16 to 128 characters of the
	// base64url alphabet (A-Z a-z 0-9 - _). Default: RandomID (256 bits).
	GenerateID func() (string, error)
	// Codec encodes values of types the built-in encoding does not cover
	// (see Session.Set). Default: JSONCodec.
	Codec Codec
	// ErrorHandler chooses the response when session handling fails before
	// the response started. Default: DefaultErrorHandler.
	ErrorHandler func(ctx context.Context, err error) ErrorResponse
	// Now is the clock. Default: time.Now. Tests inject a fake clock.
	Now func() time.Time
}

// DefaultErrorHandler answers 503 Service Unavailable for store failures,
// 409 Conflict (body "Conflict\n") for a concurrent change that could not be
// merged (ErrConflict: the client may retry the request) and 500 Internal
// Server Error otherwise, each with a generic plain-text body that reveals
// nothing about the cause.
func DefaultErrorHandler(_ context.Context, err error) ErrorResponse {
	if errors.Is(err, ErrStoreUnavailable) || errors.Is(err, ErrStoreFull) {
		return ErrorResponse{Status: http.StatusServiceUnavailable, ContentType: "text/plain; charset=utf-8", Body: "Service Unavailable\n"}
	}
	if errors.Is(err, ErrConflict) {
		return ErrorResponse{Status: http.StatusConflict, ContentType: "text/plain; charset=utf-8", Body: "Conflict\n"}
	}
	return ErrorResponse{Status: http.StatusInternalServerError, ContentType: "text/plain; charset=utf-8", Body: "Internal Server Error\n"}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}

// withDefaults validates cfg and returns a copy with every default applied.
func (cfg Config) withDefaults() (Config, error) {
	c := cfg
	// Copy everything the caller could mutate later: the Manager is immutable.
	c.Secret = slices.Clone(cfg.Secret)
	c.PreviousSecrets = make([][]byte, len(cfg.PreviousSecrets))
	for i, k := range cfg.PreviousSecrets {
		c.PreviousSecrets[i] = slices.Clone(k)
	}
	c.SkipHeaders = slices.Clone(cfg.SkipHeaders)
	if len(c.Secret) == 0 {
		return c, invalid("Secret is required")
	}
	if len(c.Secret) < MinSecretLen {
		return c, invalid("Secret is %d bytes, need at least %d", len(c.Secret), MinSecretLen)
	}
	for i, k := range c.PreviousSecrets {
		if len(k) < MinSecretLen {
			return c, invalid("PreviousSecrets[%d] is %d bytes, need at least %d", i, len(k), MinSecretLen)
		}
	}
	if c.CookieName == "" {
		c.CookieName = DefaultCookieName
	}
	if c.ObjectName == "" {
		c.ObjectName = DefaultObjectName
	}
	if c.Path == "" {
		c.Path = DefaultPath
	}
	if c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode {
		c.SameSite = http.SameSiteLaxMode
	}
	switch c.SameSite {
	case http.SameSiteLaxMode, http.SameSiteStrictMode, http.SameSiteNoneMode:
	default:
		return c, invalid("unknown SameSite value %d", c.SameSite)
	}
	probe := &http.Cookie{Name: c.CookieName, Value: "x", Path: c.Path, Domain: c.Domain}
	if err := probe.Valid(); err != nil {
		return c, invalid("cookie: %v", err)
	}
	if strings.ContainsAny(c.Path, ";\x00") {
		return c, invalid("cookie path %q", c.Path)
	}
	secure := !c.DisableSecure
	if strings.HasPrefix(c.CookieName, "__Host-") {
		if !secure || c.Path != "/" || c.Domain != "" {
			return c, invalid("cookie name %q needs Secure, Path \"/\" and no Domain", c.CookieName)
		}
	}
	if strings.HasPrefix(c.CookieName, "__Secure-") && !secure {
		return c, invalid("cookie name %q needs Secure", c.CookieName)
	}
	if c.Partitioned && !secure {
		return c, invalid("Partitioned needs Secure")
	}
	if c.SameSite == http.SameSiteNoneMode && !secure {
		return c, invalid("SameSite=None needs Secure")
	}
	if c.MaxAge < 0 {
		return c, invalid("MaxAge is negative")
	}
	if c.MaxAge > MaxCookieAge {
		return c, invalid("MaxAge %v exceeds %v", c.MaxAge, MaxCookieAge)
	}
	if c.MaxAge > 0 && c.MaxAge < time.Second {
		return c, invalid("MaxAge %v is below one second", c.MaxAge)
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.AbsoluteTimeout < 0 {
		return c, invalid("AbsoluteTimeout is negative")
	}
	if c.AbsoluteTimeout == 0 {
		c.AbsoluteTimeout = max(DefaultAbsoluteTimeout, c.IdleTimeout)
	}
	if c.IdleTimeout > 0 && c.AbsoluteTimeout < c.IdleTimeout {
		return c, invalid("AbsoluteTimeout %v is shorter than IdleTimeout %v", c.AbsoluteTimeout, c.IdleTimeout)
	}
	var err error
	if c.TokenHeader, err = validTokenHeader(c.TokenHeader, true); err != nil {
		return c, err
	}
	if c.TokenResponseHeader, err = validTokenHeader(c.TokenResponseHeader, false); err != nil {
		return c, err
	}
	switch {
	case c.TokenHeader == "" && (c.TokenResponseHeader != "" || c.DisableCookie):
		return c, invalid("TokenResponseHeader and DisableCookie need a TokenHeader")
	case c.TokenResponseHeader == "" && c.TokenHeader == "Authorization":
		c.TokenResponseHeader = DefaultTokenResponseHeader
	case c.TokenResponseHeader == "":
		c.TokenResponseHeader = c.TokenHeader
	}
	for i, h := range c.SkipHeaders {
		if h.Name == "" || strings.ContainsAny(h.Name, " \t\r\n:") {
			return c, invalid("SkipHeaders[%d]: invalid header name %q", i, h.Name)
		}
		c.SkipHeaders[i].Name = http.CanonicalHeaderKey(h.Name)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.StoreTimeout < 0 {
		return c, invalid("StoreTimeout is negative")
	}
	if c.RenewGrace < 0 || c.RenewGrace > MaxRenewGrace {
		return c, invalid("RenewGrace %v is outside 0..%v", c.RenewGrace, MaxRenewGrace)
	}
	if c.StoreTimeout == 0 {
		c.StoreTimeout = DefaultStoreTimeout
	}
	if c.MaxDataSize < 0 {
		return c, invalid("MaxDataSize is negative")
	}
	if c.MaxDataSize == 0 {
		c.MaxDataSize = DefaultMaxDataSize
	}
	if c.ObserverQueue < 0 {
		return c, invalid("ObserverQueue is negative")
	}
	if c.ObserverQueue > maxObserverQueue {
		return c, invalid("ObserverQueue %d exceeds %d", c.ObserverQueue, maxObserverQueue)
	}
	if c.ObserverQueue == 0 {
		c.ObserverQueue = DefaultObserverQueue
	}
	if c.GenerateID == nil {
		c.GenerateID = RandomID
	}
	if c.Codec == nil {
		c.Codec = JSONCodec{}
	}
	if c.ErrorHandler == nil {
		c.ErrorHandler = DefaultErrorHandler
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
