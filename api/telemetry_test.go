package api

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc/codes"
)

// TestTelemetry checks that a Settle call leaves a server span with a
// store child span, and that settlement outcomes are counted by code.
func TestTelemetry(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	otel.SetTracerProvider(tp)
	otel.SetMeterProvider(mp)
	t.Cleanup(resetTelemetry)

	ts := demoServer(t)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	_, err := ts.settlement.Settle(ctx, claim("tel-1", "QZ-H3", "E1", "1000"))
	must(t, err)
	bad := claim("tel-2", "QZ-H3", "E1", "1000")
	bad.Items[0].Amount = "999.99"
	_, err = ts.settlement.Settle(ctx, bad)
	wantCode(t, err, codes.InvalidArgument)

	var server, store bool
	for _, s := range spans.Ended() {
		switch s.Name() {
		case "medsettle.v1.SettlementService/Settle":
			server = true
		case "store.Settle":
			store = true
			if !s.Parent().IsValid() {
				t.Error("store.Settle has no parent span")
			}
			for _, kv := range s.Attributes() {
				if kv.Key == "medsettle.person_id" {
					t.Error("a span carries a person id")
				}
			}
		}
	}
	if !server || !store {
		t.Errorf("spans: server %v, store %v", server, store)
	}

	var rm metricdata.ResourceMetrics
	must(t, reader.Collect(context.Background(), &rm))
	counts := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "medsettle.settlement.requests" {
				continue
			}
			for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
				code, _ := dp.Attributes.Value(attribute.Key("code"))
				method, _ := dp.Attributes.Value(attribute.Key("method"))
				counts[method.AsString()+"/"+code.AsString()] += dp.Value
			}
		}
	}
	if counts["Settle/OK"] != 1 || counts["Settle/InvalidArgument"] != 1 {
		t.Errorf("settlement outcome counts %v", counts)
	}
}

// resetTelemetry leaves no-op providers as the global ones after a test
// that installed recording ones. Setting back the providers found before
// would not do: before any provider is set, otel's global is a delegate
// that the first provider set stays bound to (setting the delegate itself
// changes nothing), so a recorder would keep every later test's spans and
// measurements in memory.
func resetTelemetry() {
	otel.SetTracerProvider(tracenoop.NewTracerProvider())
	otel.SetMeterProvider(metricnoop.NewMeterProvider())
}
