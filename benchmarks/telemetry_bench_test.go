package benchmarks

import (
	"context"
	"fmt"
	"net"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/stats"

	"github.com/medsettle/medsettle/store/memstore"
)

// The cost of OpenTelemetry on the hot path when no exporter is
// configured (issue 9): no provider is installed in this process, as in
// `medsettle serve` without OTEL_EXPORTER_OTLP_* or --metrics-listen.
// Allocations per call are the stable figure on a shared machine; compare
// them before and after a change to api/telemetry.go or
// api/telemetry_gate.go.

// BenchmarkTelemetryOtelgrpcHandler is what otelgrpc's server stats
// handler does for one unary call with no provider installed: tag the
// call (parse the method into attributes, start a non-recording span,
// add context values) and handle its seven stats events. A server built
// with no provider installed has no stats handler at all
// (api/telemetry_gate.go), so this is what it saves on every call.
func BenchmarkTelemetryOtelgrpcHandler(b *testing.B) {
	h := otelgrpc.NewServerHandler()
	info := &stats.RPCTagInfo{FullMethodName: "/medsettle.v1.SettlementService/Settle"}
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090}
	events := []stats.RPCStats{
		&stats.Begin{}, &stats.InHeader{LocalAddr: addr, RemoteAddr: addr}, &stats.InPayload{Length: 1200},
		&stats.OutHeader{}, &stats.OutPayload{Length: 900}, &stats.OutTrailer{}, &stats.End{},
	}
	b.ReportAllocs()
	for b.Loop() {
		ctx := h.TagRPC(context.Background(), info)
		for _, e := range events {
			h.HandleRPC(ctx, e)
		}
	}
}

// BenchmarkTelemetryGRPCHealthCheck is one grpc.health.v1 Health/Check at
// a time through the server on a loopback socket: the empty RPC, whose
// cost beyond gRPC's own is the server's interceptors and stats handler.
func BenchmarkTelemetryGRPCHealthCheck(b *testing.B) {
	client := healthpb.NewHealthClient(serveStore(b, memstore.New()))
	req := &healthpb.HealthCheckRequest{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Check(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTelemetryGRPCPreSettle20Lines is one PreSettle of the typical
// 20-line claim at a time through the server on the embedded store: the
// settlement path with its domain telemetry (outcome counter) and
// otelgrpc, without a commit.
func BenchmarkTelemetryGRPCPreSettle20Lines(b *testing.B) {
	client := grpcClient(b, memstore.New())
	req := typicalClaim("")
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		req.RequestId = fmt.Sprintf("pre-%d", n)
		req.PersonId = fmt.Sprintf("P%d", n%64)
		if _, err := client.PreSettle(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
