package api

import (
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel"
	"google.golang.org/grpc"
)

// The global OpenTelemetry providers and propagator as the process starts:
// otel's delegating defaults, which do nothing until a provider is set
// (cmd sets them in setupTelemetry when an exporter is configured).
var (
	defaultTracerProvider = otel.GetTracerProvider()
	defaultMeterProvider  = otel.GetMeterProvider()
	defaultPropagator     = otel.GetTextMapPropagator()
)

// tracingInstalled reports whether a tracer provider has been set: until
// then every span is a non-recording one, and starting it is wasted work.
func tracingInstalled() bool { return otel.GetTracerProvider() != defaultTracerProvider }

// otelInstalled reports whether any OpenTelemetry provider or propagator
// has been set. Setting one is for good: otel binds its defaults to the
// first provider set, and medsettle never sets a default back.
func otelInstalled() bool {
	return tracingInstalled() || otel.GetMeterProvider() != defaultMeterProvider ||
		otel.GetTextMapPropagator() != defaultPropagator
}

// otelServerOptions is otelgrpc's stats handler (traces and rpc.server.*
// metrics for every call) when OpenTelemetry is installed as the server
// is built, and nothing otherwise. Without a provider, the handler would
// still parse every call's method into attributes, start a non-recording
// span and add context values (14 allocations, about a microsecond), and
// its mere presence makes gRPC build every call's stats events: 35 of the
// 202 allocations of a Health/Check, for nothing
// (benchmarks/telemetry_bench_test.go). So providers must be installed
// before NewServer, as cmd does, for the gRPC-level telemetry; medsettle's
// own instruments follow the providers whenever they are installed.
func otelServerOptions() []grpc.ServerOption {
	if !otelInstalled() {
		return nil
	}
	return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler())}
}
