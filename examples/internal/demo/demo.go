// Package demo holds what the example servers share apart from their web
// framework: command-line flags, the signing secret, the choice of session
// store, the validation of user names, the HTML page, and what login and
// the "your sessions" routes do (Login, ListSessions, RevokeSession,
// RevokeOthers: each returns the status and JSON body to answer). Each
// example's main package keeps only its framework's idioms: routing, the
// session middleware, thin handlers and starting the server.
//
// A main package hands its framework-specific serve function to Main:
//
//	func main() { demo.Main("nethttp", serve) }
//
//	func serve(ctx context.Context, ln net.Listener, m *sess.Manager) error {
//		// serve newHandler(m) on ln until ctx is done, then shut down.
//	}
//
// Main parses -addr, -secure, -redis and -postgres, reads SESSION_SECRET, builds the
// sess.Manager with NewManager, listens, and calls serve until the process
// receives an interrupt.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	sess "github.com/gosess/sess/core"
)

// MaxUserLen is the longest user name, in bytes, that POST /login accepts.
const MaxUserLen = 32

// SecretEnv names the environment variable holding the cookie signing
// secret.
const SecretEnv = "SESSION_SECRET"

// DefaultAddr is the address the examples listen on without -addr.
const DefaultAddr = "127.0.0.1:8080"

// Options are the example servers' command-line settings.
type Options struct {
	// Addr is the TCP address to listen on (-addr).
	Addr string
	// Secure sets the Secure attribute on the session cookie (-secure).
	// Off by default because the examples serve plain HTTP, over which
	// browsers do not return a Secure cookie (some make an exception for
	// localhost, other clients such as curl may not).
	Secure bool
	// Redis is the address of a Redis server to keep sessions in (-redis).
	// Empty means the in-memory store.
	Redis string
	// RedisPrefix is the key prefix in Redis. Empty means redisstore's
	// default, "sess:". It has no flag; tests set it to keep their keys
	// apart.
	RedisPrefix string
	// Postgres is the connection string of a PostgreSQL database to keep
	// sessions in (-postgres). Empty means the in-memory store.
	Postgres string
	// PostgresTable is the session table in PostgreSQL. Empty means
	// pgstore's default, "sess_sessions". It has no flag; tests set it to
	// keep their rows apart.
	PostgresTable string
}

// ParseFlags parses the examples' command line. name is the program name
// shown in usage messages; output receives usage and errors. It returns
// flag.ErrHelp for -h.
func ParseFlags(name string, args []string, output io.Writer) (Options, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(output)
	var o Options
	fs.StringVar(&o.Addr, "addr", DefaultAddr, "TCP `address` to listen on")
	fs.BoolVar(&o.Secure, "secure", false, "mark the session cookie Secure (only when the site is served over HTTPS, e.g. behind a TLS proxy)")
	fs.StringVar(&o.Redis, "redis", "", "keep sessions in the Redis server at `host:port` instead of in memory")
	fs.StringVar(&o.Postgres, "postgres", "", "keep sessions in the PostgreSQL database at `DSN` (e.g. postgres://user@host/db) instead of in memory")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: %s [flags]\n\nServes the sess demo: a session counter, login and logout.\nThe cookie signing secret comes from $%s (at least %d bytes);\nwithout it a random one is used.\n\nFlags:\n", name, SecretEnv, sess.MinSecretLen)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if o.Redis != "" && o.Postgres != "" {
		fmt.Fprintln(fs.Output(), "-redis and -postgres exclude each other")
		fs.Usage()
		return Options{}, errors.New("-redis and -postgres exclude each other")
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

// Secret returns the cookie signing secret from the SESSION_SECRET variable
// read through getenv. If it is unset, Secret returns a random secret and
// logs a warning: the sessions of this run will not survive a restart, and
// several instances would not accept each other's cookies. A secret shorter
// than sess.MinSecretLen bytes is an error.
func Secret(getenv func(string) string, logger *slog.Logger) ([]byte, error) {
	if v := getenv(SecretEnv); v != "" {
		if len(v) < sess.MinSecretLen {
			return nil, fmt.Errorf("%s is %d bytes long; it needs at least %d bytes of random data (try: openssl rand -base64 32)", SecretEnv, len(v), sess.MinSecretLen)
		}
		return []byte(v), nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails: crypto/rand.Read crashes the program instead
	logger.Warn("demo: " + SecretEnv + " is not set; using a random secret, so sessions will not survive a restart")
	return b, nil
}

// NewManager returns the session manager for the examples, configured from
// o, the SESSION_SECRET variable read through getenv, and logger. The
// returned close function releases the manager and its store; call it once
// the server has stopped.
func NewManager(ctx context.Context, o Options, getenv func(string) string, logger *slog.Logger) (m *sess.Manager, closeFn func() error, err error) {
	secret, err := Secret(getenv, logger)
	if err != nil {
		return nil, nil, err
	}
	cfg := sess.Config{
		Secret: secret,
		// These three are the defaults, spelled out for the reader: the
		// cookie is called "sid", scripts cannot read it, and it is a
		// browser-session cookie (MaxAge 0: no Max-Age or Expires, the
		// browser forgets it when it closes; the server still ends idle
		// sessions after IdleTimeout).
		CookieName:      "sid",
		DisableHTTPOnly: false,
		MaxAge:          0,
		// The demo serves plain HTTP, over which a Secure cookie does not
		// come back, so Secure is off unless -secure says the site is
		// reached over HTTPS (say, behind a TLS proxy). Keep it on in
		// production: it is sess's default.
		DisableSecure: !o.Secure,
		Logger:        logger,
	}
	closeStore := func() error { return nil }
	if o.Redis != "" {
		store, closeRedis, err := newRedisStore(ctx, o.Redis, o.RedisPrefix)
		if err != nil {
			return nil, nil, err
		}
		cfg.Store, closeStore = store, closeRedis
		logger.Info("demo: keeping sessions in Redis", slog.String("redis", o.Redis))
	}
	if o.Postgres != "" {
		store, closePostgres, err := newPostgresStore(ctx, o.Postgres, o.PostgresTable)
		if err != nil {
			return nil, nil, err
		}
		cfg.Store, closeStore = store, closePostgres
		logger.Info("demo: keeping sessions in PostgreSQL")
	}
	m, err = sess.New(cfg)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("demo: session manager: %w", err), closeStore())
	}
	return m, func() error { return errors.Join(m.Close(), closeStore()) }, nil
}

// ServeFunc serves one framework's example on ln until ctx is done, then
// shuts the server down gracefully and returns. It returns nil after a
// shutdown caused by ctx.
type ServeFunc func(ctx context.Context, ln net.Listener, m *sess.Manager) error

// Main runs an example server: it parses the command line, builds the
// session manager, listens, and calls serve until SIGINT or SIGTERM. It
// exits the process with status 1 on failure (2 for a bad command line).
func Main(name string, serve ServeFunc) {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, name, os.Args[1:], os.Getenv, logger, serve)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		logger.Error("demo: "+name+" stopped", slog.Any("error", err))
		os.Exit(1)
	}
}

var errUsage = errors.New("bad command line")

// Run is Main without the process handling: it serves until ctx is done
// and returns the first error. Command-line errors wrap flag.ErrHelp (for
// -h) or are reported as a usage error.
func Run(ctx context.Context, name string, args []string, getenv func(string) string, logger *slog.Logger, serve ServeFunc) error {
	o, err := ParseFlags(name, args, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	m, closeManager, err := NewManager(ctx, o, getenv, logger)
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", o.Addr)
	if err != nil {
		return errors.Join(fmt.Errorf("demo: listen: %w", err), closeManager())
	}
	logger.Info("demo: "+name+" example listening", slog.String("url", "http://"+ln.Addr().String()+"/"))
	err = serve(ctx, ln, m)
	if err != nil {
		err = fmt.Errorf("demo: serve: %w", err)
	} else {
		logger.Info("demo: " + name + " example shut down")
	}
	return errors.Join(err, closeManager())
}

// ValidUser reports whether name is acceptable as a user name for POST
// /login: 1 to MaxUserLen bytes of valid UTF-8, every character printable
// (letters, marks, numbers, punctuation, symbols and the ASCII space), and
// no leading or trailing space. The error says what is wrong, in words fit
// for the client.
func ValidUser(name string) error {
	switch {
	case name == "":
		return errors.New("user name is empty")
	case len(name) > MaxUserLen:
		return fmt.Errorf("user name is longer than %d bytes", MaxUserLen)
	case !utf8.ValidString(name):
		return errors.New("user name is not valid UTF-8")
	case name[0] == ' ' || name[len(name)-1] == ' ':
		return errors.New("user name starts or ends with a space")
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return errors.New("user name contains a control or invisible character")
		}
	}
	return nil
}

// ShutdownTimeout bounds a graceful shutdown. Both net/http and fasthttp
// count a connection that never sent a request as idle only after five
// seconds, so a browser's preconnected sockets can hold a shutdown that
// long.
const ShutdownTimeout = 10 * time.Second

// ServeHTTP serves h on ln with an http.Server until ctx is done, then
// shuts the server down, giving running requests up to ShutdownTimeout. The
// net/http and gin examples use it.
func ServeHTTP(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// PageHeaders are the response headers to send with Page, besides its
// Content-Type (PageContentType): the Content-Security-Policy, and
// Cache-Control: no-store because the page shows one visitor's session.
var PageHeaders = map[string]string{
	"Content-Security-Policy": ContentSecurityPolicy,
	"Cache-Control":           "no-store",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
}
