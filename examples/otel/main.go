// Command otel is the sess demo with metrics: a session counter, login and
// logout on net/http, whose session events are exported through
// OpenTelemetry (observability/otel) to a Prometheus endpoint at /metrics.
//
//	go run ./examples/otel [-addr 127.0.0.1:8080]
//	curl -c jar -b jar http://127.0.0.1:8080/session_test
//	curl http://127.0.0.1:8080/metrics | grep ^sess_
//
// Set SESSION_SECRET (at least 32 bytes) to keep sessions valid across
// restarts. In production, serve /metrics on an internal listener only.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	sesshttp "github.com/gosess/sess/adapters/nethttp"
	sess "github.com/gosess/sess/core"
	sessotel "github.com/gosess/sess/observability/otel"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	secret := []byte(os.Getenv("SESSION_SECRET"))
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret)
		log.Print("SESSION_SECRET is not set: using a random key (sessions end on restart)")
	}
	app, err := newApp(sess.Config{Secret: secret, DisableSecure: true}) // plain-HTTP demo: drop DisableSecure behind HTTPS
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	srv := &http.Server{Addr: *addr, Handler: app.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Printf("listening on http://%s/ (metrics at /metrics)", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// app is the demo's handler with what it owns.
type app struct {
	Handler  http.Handler
	manager  *sess.Manager
	provider *sdkmetric.MeterProvider
}

// newApp builds the metrics pipeline (a Prometheus registry fed by the
// OpenTelemetry exporter), a Manager reporting into it, and the routes:
// the session routes behind the middleware, /metrics outside it.
func newApp(cfg sess.Config) (*app, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	obs, err := sessotel.New(mp)
	if err != nil {
		return nil, err
	}
	cfg.Observer = obs
	m, err := sess.New(cfg)
	if err != nil {
		return nil, err
	}
	sessions := http.NewServeMux()
	sessions.HandleFunc("GET /session_test", func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		n, _ := sess.Get[int](s, "test_counter")
		s.Set("test_counter", n+1)
		writeJSON(w, map[string]int{"test_counter": n + 1})
	})
	sessions.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := sesshttp.From(r)
		s.Renew() // new ID, same data: defeats session fixation
		s.Set("user", r.URL.Query().Get("user"))
		writeJSON(w, map[string]bool{"ok": true})
	})
	sessions.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		sesshttp.From(r).Destroy()
		writeJSON(w, map[string]bool{"ok": true})
	})
	root := http.NewServeMux()
	root.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	root.Handle("/", sesshttp.Middleware(m)(sessions))
	return &app{Handler: root, manager: m, provider: mp}, nil
}

// Close stops the metrics pipeline and the Manager.
func (a *app) Close() error {
	return errors.Join(a.provider.Shutdown(context.Background()), a.manager.Close())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
