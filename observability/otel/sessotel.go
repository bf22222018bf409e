// Package sessotel exports the session events of a sess.Manager as
// OpenTelemetry metrics. Its Observer goes into sess.Config.Observer:
//
//	obs, err := sessotel.New(otel.GetMeterProvider())
//	...
//	m, err := sess.New(sess.Config{Secret: key, Observer: obs})
//
// It records two instruments:
//
//   - sess.events (Int64Counter, unit {event}), one count per lifecycle
//     event, with the attribute sess.event set to the kind's name (created,
//     loaded, renewed, destroyed, expired, conflict, corrupt_record,
//     invalid_cookie, ambiguous_cookie, store_error; see sess.EventKind);
//     a Prometheus exporter shows it as sess_events_total;
//   - sess.store.duration (Float64Histogram, unit s), the latency of every
//     store call, with the attribute sess.store.op (get, create, update,
//     touch, delete); in Prometheus sess_store_duration_seconds.
//
// Session handles are never recorded: they would make the metrics'
// cardinality unbounded. The Observer is a sess.InlineObserver: the Manager
// calls it on the request path rather than through its event queue, so it
// records every event.
package sessotel

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	sess "github.com/gosess/sess/core"
)

// ScopeName is the instrumentation scope of the meter the Observer uses.
const ScopeName = "github.com/gosess/sess/observability/otel"

// Attribute keys of the instruments.
const (
	EventKey   = attribute.Key("sess.event")
	StoreOpKey = attribute.Key("sess.store.op")
)

// storeOps are the store operations with a precomputed attribute set.
var storeOps = [...]string{sess.StoreOpGet, sess.StoreOpCreate, sess.StoreOpUpdate, sess.StoreOpTouch, sess.StoreOpDelete}

// Observer is a sess.Observer that records events in OpenTelemetry
// instruments. It is safe for concurrent use and allocates nothing per
// event: every attribute set is built once, by New.
type Observer struct {
	events  metric.Int64Counter
	latency metric.Float64Histogram
	kinds   []metric.MeasurementOption // by sess.EventKind; nil for store calls
	ops     [len(storeOps)]metric.MeasurementOption
}

// New returns an Observer recording into meters of mp.
func New(mp metric.MeterProvider) (*Observer, error) {
	meter := mp.Meter(ScopeName)
	events, err := meter.Int64Counter("sess.events",
		metric.WithDescription("Session lifecycle events, by kind."),
		metric.WithUnit("{event}"))
	if err != nil {
		return nil, fmt.Errorf("sessotel: sess.events: %w", err)
	}
	latency, err := meter.Float64Histogram("sess.store.duration",
		metric.WithDescription("Latency of session store calls, by operation."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
	if err != nil {
		return nil, fmt.Errorf("sessotel: sess.store.duration: %w", err)
	}
	kinds := sess.EventKinds()
	o := &Observer{events: events, latency: latency, kinds: make([]metric.MeasurementOption, int(kinds[len(kinds)-1])+1)}
	for _, k := range kinds {
		if k != sess.EventStoreCall {
			o.kinds[k] = metric.WithAttributeSet(attribute.NewSet(EventKey.String(k.String())))
		}
	}
	for i, op := range storeOps {
		o.ops[i] = metric.WithAttributeSet(attribute.NewSet(StoreOpKey.String(op)))
	}
	return o, nil
}

// Inline reports true: Observe only adds to metric instruments, which
// aggregate in memory without blocking (the OpenTelemetry SDK's do), so
// the Manager calls it on the request path, with the request's context
// (so that exemplars can link to its trace span), and it records every event
// exactly (see sess.InlineObserver).
func (o *Observer) Inline() bool { return true }

// Observe records e: a store call's latency in sess.store.duration, any
// other event as one count of sess.events.
func (o *Observer) Observe(ctx context.Context, e sess.Event) {
	if e.Kind == sess.EventStoreCall {
		for i, op := range storeOps {
			if op == e.StoreOp {
				o.latency.Record(ctx, e.Latency.Seconds(), o.ops[i])
				return
			}
		}
		o.latency.Record(ctx, e.Latency.Seconds(), metric.WithAttributes(StoreOpKey.String(e.StoreOp)))
		return
	}
	if int(e.Kind) < len(o.kinds) && o.kinds[e.Kind] != nil {
		o.events.Add(ctx, 1, o.kinds[e.Kind])
	}
}

var (
	_ sess.Observer       = (*Observer)(nil)
	_ sess.InlineObserver = (*Observer)(nil)
)
