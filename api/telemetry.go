package api

import (
	"context"
	"slices"

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
// OpenTelemetry providers, which do nothing until cmd installs exporters;
// until then a call pays for none of them: no attribute is built, no span
// started (benchmarks/telemetry_bench_test.go measures it).
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
	if !t.outcomes.Enabled(ctx) {
		return
	}
	t.outcomes.Add(ctx, 1, metric.WithAttributes(
		attribute.String("method", method), attribute.String("code", status.Code(err).String())))
}

// storeOp names a store operation: its span ("store.Settle") and the op
// label of medsettle.store.duration, built once.
type storeOp struct {
	spanName string
	label    []metric.RecordOption
}

func newStoreOp(op string) storeOp {
	return storeOp{spanName: "store." + op,
		label: []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("op", op)))}}
}

// The store operations that have spans.
var (
	storeOpSettle  = newStoreOp("Settle")
	storeOpReverse = newStoreOp("Reverse")
)

// storeSpan is a store operation's span and timer (telemetry.span).
type storeSpan struct {
	ctx   context.Context
	t     *telemetry
	op    *storeOp
	sp    trace.Span // nil: no tracer provider installed
	timed bool       // the duration is recorded
	start float64
}

// span starts a child span for a store operation; end it with the error.
// Person identifiers are personal data and are never put on spans. Until
// OpenTelemetry is installed no span is started; the attributes are set
// only on a span that records.
func (t *telemetry) span(ctx context.Context, op *storeOp, attrs ...attribute.KeyValue) (context.Context, storeSpan) {
	s := storeSpan{t: t, op: op}
	if tracingInstalled() {
		ctx, s.sp = t.tracer.Start(ctx, op.spanName)
		if s.sp.IsRecording() {
			// A copy: attrs then stays on the caller's stack.
			s.sp.SetAttributes(slices.Clone(attrs)...)
		}
	}
	if t.storeDur.Enabled(ctx) {
		s.timed, s.start = true, nowSeconds()
	}
	s.ctx = ctx
	return ctx, s
}

// end records the operation's duration and ends its span with err.
func (s storeSpan) end(err error) {
	if s.timed {
		s.t.storeDur.Record(s.ctx, nowSeconds()-s.start, s.op.label...)
	}
	if s.sp == nil {
		return
	}
	if err != nil && s.sp.IsRecording() {
		s.sp.RecordError(err)
		s.sp.SetStatus(codes.Error, err.Error())
	}
	s.sp.End()
}
