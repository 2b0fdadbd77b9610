package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// setupTelemetry installs the OpenTelemetry providers and their exporters:
//
//   - OTLP/gRPC traces and metrics when the standard
//     OTEL_EXPORTER_OTLP_ENDPOINT (or the traces/metrics variants) is set;
//     the exporters read the other standard OTEL_* variables (headers, TLS,
//     sampling) themselves;
//   - a Prometheus scrape endpoint, /metrics over plain HTTP on
//     metricsListen, when it is not empty (docs/METRICS.md).
//
// Both can be on together: one meter provider feeds both readers. With
// neither, OpenTelemetry stays a no-op. It returns a function that flushes
// and stops them, and the address /metrics is served on ("" when off).
func setupTelemetry(ctx context.Context, log *slog.Logger, metricsListen string) (func(context.Context) error, string, error) {
	otlp := os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" ||
		os.Getenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") != ""
	if !otlp && metricsListen == "" {
		return func(context.Context) error { return nil }, "", nil
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName("medsettle")))
	if err != nil {
		return nil, "", fmt.Errorf("telemetry resource: %w", err)
	}
	opts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	var stops []func(context.Context) error
	if otlp {
		traceExp, err := otlptracegrpc.New(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("OTLP trace exporter: %w", err)
		}
		metricExp, err := otlpmetricgrpc.New(ctx)
		if err != nil {
			return nil, "", fmt.Errorf("OTLP metric exporter: %w", err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(traceExp), sdktrace.WithResource(res))
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
		stops = append(stops, tp.Shutdown)
		opts = append(opts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(metricExp, sdkmetric.WithInterval(15*time.Second))))
		log.Info("OpenTelemetry: exporting traces and metrics over OTLP/gRPC")
	}
	addr := ""
	if metricsListen != "" {
		// A registry of our own rather than the global default one: what
		// /metrics serves is exactly what this process registered.
		reg := prometheus.NewRegistry()
		exp, err := otelprom.New(otelprom.WithRegisterer(reg))
		if err != nil {
			return nil, "", fmt.Errorf("prometheus exporter: %w", err)
		}
		ms, err := startMetricsServer(metricsListen, reg, log)
		if err != nil {
			return nil, "", err
		}
		addr = ms.addr
		stops = append(stops, ms.stop)
		opts = append(opts, sdkmetric.WithReader(exp))
	}
	mp := sdkmetric.NewMeterProvider(opts...)
	otel.SetMeterProvider(mp)
	// The meter provider goes first: its readers flush before the
	// /metrics server stops.
	stops = append([]func(context.Context) error{mp.Shutdown}, stops...)
	return func(ctx context.Context) error {
		var errs []error
		for _, stop := range stops {
			errs = append(errs, stop(ctx))
		}
		return errors.Join(errs...)
	}, addr, nil
}
