package main

import (
	"context"
	"net"
	"sync/atomic"

	collmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// otelStore is the pseudo-store of -stores that measures OpenTelemetry's
// cost: memstore served with every exporter configured, traces and
// metrics over OTLP/gRPC to an otelSink and a Prometheus /metrics
// endpoint, so that the server records a span and the rpc.server.* and
// medsettle.* metrics of every call, and ships them.
const otelStore = "memstore+otel"

// otelSink is an OTLP/gRPC collector that takes traces and metrics and
// throws them away, counting the spans.
type otelSink struct {
	srv   *grpc.Server
	addr  string
	spans atomic.Int64
}

// startOtelSink serves an otelSink on a free loopback port.
func startOtelSink() (*otelSink, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &otelSink{srv: grpc.NewServer(), addr: lis.Addr().String()}
	colltrace.RegisterTraceServiceServer(s.srv, sinkTraces{s: s})
	collmetrics.RegisterMetricsServiceServer(s.srv, sinkMetrics{})
	go func() { _ = s.srv.Serve(lis) }()
	return s, nil
}

// stop ends the sink.
func (s *otelSink) stop() { s.srv.Stop() }

// env is the environment that points medsettle serve's OTLP exporters at
// the sink.
func (s *otelSink) env() []string {
	return []string{"OTEL_EXPORTER_OTLP_ENDPOINT=http://" + s.addr, "OTEL_EXPORTER_OTLP_INSECURE=true"}
}

// sinkTraces counts and drops spans.
type sinkTraces struct {
	colltrace.UnimplementedTraceServiceServer
	s *otelSink
}

// Export counts the spans of a trace export and drops them.
func (t sinkTraces) Export(_ context.Context, req *colltrace.ExportTraceServiceRequest) (*colltrace.ExportTraceServiceResponse, error) {
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			t.s.spans.Add(int64(len(ss.GetSpans())))
		}
	}
	return &colltrace.ExportTraceServiceResponse{}, nil
}

// sinkMetrics drops metrics.
type sinkMetrics struct {
	collmetrics.UnimplementedMetricsServiceServer
}

// Export drops a metrics export.
func (sinkMetrics) Export(context.Context, *collmetrics.ExportMetricsServiceRequest) (*collmetrics.ExportMetricsServiceResponse, error) {
	return &collmetrics.ExportMetricsServiceResponse{}, nil
}
