package sessotel_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	sess "github.com/gosess/sess/core"
	sessotel "github.com/gosess/sess/observability/otel"
)

var secret = []byte("test-secret-0123456789-abcdefghijklmnop")

// tee sends every event to both observers.
type tee struct{ a, b sess.Observer }

// Inline reports whether both observers are inline: only then is the tee
// called on the request path (see sess.InlineObserver), which the tests
// need to compare the two counts right after the requests.
func (t tee) Inline() bool { return inline(t.a) && inline(t.b) }

func inline(o sess.Observer) bool {
	in, ok := o.(sess.InlineObserver)
	return ok && in.Inline()
}

func (t tee) Observe(ctx context.Context, e sess.Event) {
	t.a.Observe(ctx, e)
	t.b.Observe(ctx, e)
}

// collect reads every metric of the reader: the counts of sess.events by
// kind, and the histogram's count and sum by store operation.
func collect(t *testing.T, r *sdkmetric.ManualReader) (events map[string]int64, calls map[string]uint64, sums map[string]float64) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	events, calls, sums = map[string]int64{}, map[string]uint64{}, map[string]float64{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != sessotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				if m.Name != "sess.events" || !data.IsMonotonic {
					t.Errorf("unexpected sum %q", m.Name)
				}
				for _, p := range data.DataPoints {
					k, _ := p.Attributes.Value(sessotel.EventKey)
					events[k.AsString()] += p.Value
				}
			case metricdata.Histogram[float64]:
				if m.Name != "sess.store.duration" || m.Unit != "s" {
					t.Errorf("unexpected histogram %q (%s)", m.Name, m.Unit)
				}
				for _, p := range data.DataPoints {
					op, _ := p.Attributes.Value(sessotel.StoreOpKey)
					calls[op.AsString()] += p.Count
					sums[op.AsString()] += p.Sum
				}
			default:
				t.Errorf("unexpected metric %q of type %T", m.Name, m.Data)
			}
		}
	}
	return events, calls, sums
}

func TestObserverRecordsEventsOverHTTP(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	obs, err := sessotel.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	var counts sess.Counters
	m, err := sess.New(sess.Config{Secret: secret, DisableSecure: true, Observer: tee{obs, &counts},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	srv := httptest.NewServer(m.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := sess.FromContext(r.Context())
		switch r.URL.Path {
		case "/login":
			s.Set("user", "ann")
		case "/renew":
			s.Renew()
		case "/logout":
			s.Destroy()
		default:
			s.Get("user")
		}
	})))
	defer srv.Close()
	get := func(path, cookie string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for _, c := range resp.Cookies() {
			if c.Name == "sid" {
				return "sid=" + c.Value
			}
		}
		return cookie
	}

	// 50 users in parallel: log in, read 3 times, renew, log out; and 20
	// forged cookies each.
	const users = 50
	var wg sync.WaitGroup
	for range users {
		wg.Go(func() {
			c := get("/login", "")
			for range 3 {
				get("/", c)
			}
			c = get("/renew", c)
			get("/logout", c)
			for range 20 {
				get("/", "sid=forged.bad")
			}
		})
	}
	wg.Wait()

	events, calls, sums := collect(t, reader)
	want := map[string]int64{
		"created": users, "loaded": users * 5, "renewed": users, "destroyed": users,
		"invalid_cookie": users * 20,
	}
	for k, n := range want {
		if events[k] != n {
			t.Errorf("sess.events{sess.event=%q} = %d, want %d", k, events[k], n)
		}
	}
	if len(events) != len(want) {
		t.Errorf("events %v, want only %v", events, want)
	}
	var total uint64
	for op, n := range calls {
		total += n
		if sums[op] <= 0 {
			t.Errorf("store op %q: latency sum %v, want positive", op, sums[op])
		}
	}
	if d := m.ObserverDrops(); d != 0 {
		t.Errorf("ObserverDrops = %d, want 0 (both observers are inline)", d)
	}
	if total != counts.Count(sess.EventStoreCall) || calls["get"] != users*5 || calls["create"] != users*2 {
		t.Errorf("store calls %v (total %d), want %d in total, %d gets and %d creates", calls, total, counts.Count(sess.EventStoreCall), users*5, users*2)
	}
}

// TestObserverIsInline: the Observer only touches metric instruments, so it
// reports itself inline and the Manager calls it on the request path,
// with the request's context, instead of queueing its events (where a full
// queue would drop some).
func TestObserverIsInline(t *testing.T) {
	obs, err := sessotel.New(sdkmetric.NewMeterProvider())
	if err != nil {
		t.Fatal(err)
	}
	var in sess.Observer = obs
	if i, ok := in.(sess.InlineObserver); !ok || !i.Inline() {
		t.Fatal("sessotel.Observer does not report itself inline")
	}
	if !(tee{obs, &sess.Counters{}}).Inline() || (tee{obs, slowObserver{}}).Inline() {
		t.Fatal("tee: inline only if both observers are")
	}
}

// slowObserver is an Observer that does not claim to be inline.
type slowObserver struct{}

func (slowObserver) Observe(context.Context, sess.Event) {}

func TestObserverIgnoresUnknownKinds(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	obs, err := sessotel.New(mp)
	if err != nil {
		t.Fatal(err)
	}
	obs.Observe(context.Background(), sess.Event{Kind: 250})
	obs.Observe(context.Background(), sess.Event{Kind: sess.EventStoreCall, StoreOp: "custom"})
	events, calls, _ := collect(t, reader)
	if len(events) != 0 || calls["custom"] != 1 {
		t.Errorf("events %v calls %v", events, calls)
	}
}
