package sessotel_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	sess "github.com/gosess/sess/core"
	sessotel "github.com/gosess/sess/observability/otel"
)

func Example() {
	reader := sdkmetric.NewManualReader() // in production: a Prometheus or OTLP exporter
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())

	obs, err := sessotel.New(mp)
	if err != nil {
		panic(err)
	}
	m, err := sess.New(sess.Config{Secret: []byte("0123456789abcdef0123456789abcdef"), Observer: obs})
	if err != nil {
		panic(err)
	}
	defer m.Close()
	// ... serve requests through an adapter; here one event by hand:
	obs.Observe(context.Background(), sess.Event{Kind: sess.EventCreated})

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		fmt.Println(m.Name)
	}
	// Output: sess.events
}
