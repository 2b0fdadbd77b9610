package api

import (
	"context"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/status"
)

// instrumentationName names medsettle's own spans and metrics.
const instrumentationName = "github.com/medsettle/medsettle/api"

// telemetry holds the domain instruments: what gRPC metrics cannot tell
// (settlement outcomes, time spent in the store). They use the global
// OpenTelemetry providers, which do nothing until cmd installs exporters.
type telemetry struct {
	tracer   trace.Tracer
	outcomes metric.Int64Counter
	storeDur metric.Float64Histogram
	// metrics are the operator's instruments (metrics.go).
	metrics *metrics
}

func newTelemetry() *telemetry {
	meter := otel.Meter(instrumentationName)
	t := &telemetry{tracer: otel.Tracer(instrumentationName), metrics: newMetrics()}
	// Errors creating instruments leave no-op instruments in place.
	t.outcomes, _ = meter.Int64Counter("medsettle.settlement.requests",
		metric.WithDescription("Settlement calls by method and gRPC status code"), metric.WithUnit("{request}"))
	t.storeDur, _ = meter.Float64Histogram("medsettle.store.duration",
		metric.WithDescription("Time spent in the store per operation"), metric.WithUnit("s"),
		// Seconds, not the SDK's default boundaries (0 to 10000, meant for
		// milliseconds).
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	return t
}

// record counts one settlement call by its outcome.
func (t *telemetry) record(ctx context.Context, method string, err error) {
	t.outcomes.Add(ctx, 1, metric.WithAttributes(
		attribute.String("method", method), attribute.String("code", status.Code(err).String())))
}

// span starts a child span for a store operation; end it with the error.
// Person identifiers are personal data and are never put on spans.
func (t *telemetry) span(ctx context.Context, op string, attrs ...attribute.KeyValue) (context.Context, func(error)) {
	ctx, sp := t.tracer.Start(ctx, "store."+op, trace.WithAttributes(attrs...))
	start := nowSeconds()
	return ctx, func(err error) {
		t.storeDur.Record(ctx, nowSeconds()-start, metric.WithAttributes(attribute.String("op", op)))
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, err.Error())
		}
		sp.End()
	}
}
