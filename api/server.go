package api

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// MaxMessageBytes is the largest request or response accepted: enough for
// a policy with a catalog of some hundred thousand items.
const MaxMessageBytes = 32 << 20

// Config is what NewServer needs.
type Config struct {
	Store  store.Store
	Tokens *Tokens // nil or empty: open mode, every caller is admin
	Log    *slog.Logger
	// ServerOptions are added to the server's own (TLS credentials, stats handlers).
	ServerOptions []grpc.ServerOption
}

// NewServer builds the gRPC server with every medsettle service, health
// checking and reflection registered.
func NewServer(cfg Config) (*grpc.Server, *health.Server) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	tokens := cfg.Tokens
	if tokens == nil {
		tokens = &Tokens{}
	}
	opts := append([]grpc.ServerOption{
		// Traces and rpc.server.* metrics for every call, through the
		// global OpenTelemetry providers (no-ops until cmd sets exporters).
		grpc.StatsHandler(otelgrpc.NewServerHandler()),
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		grpc.ChainUnaryInterceptor(recoverUnary(log), tokens.UnaryAuth),
		grpc.ChainStreamInterceptor(recoverStream(log), tokens.StreamAuth),
	}, cfg.ServerOptions...)
	srv := grpc.NewServer(opts...)
	pb.RegisterSettlementServiceServer(srv, &SettlementService{store: cfg.Store, log: log, tel: newTelemetry()})
	pb.RegisterRegistryServiceServer(srv, &RegistryService{store: cfg.Store, log: log})
	pb.RegisterPolicyServiceServer(srv, &PolicyService{store: cfg.Store, log: log})
	pb.RegisterClearingServiceServer(srv, &ClearingService{store: cfg.Store, log: log})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	for _, name := range []string{"", pb.SettlementService_ServiceDesc.ServiceName, pb.RegistryService_ServiceDesc.ServiceName, pb.PolicyService_ServiceDesc.ServiceName,
		pb.ClearingService_ServiceDesc.ServiceName} {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	reflection.Register(srv)
	return srv, hs
}

// recoverUnary turns a panic into "internal error", logged with its stack.
func recoverUnary(log *slog.Logger) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(ctx, req)
	}
}

func recoverStream(log *slog.Logger) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		defer func() {
			if r := recover(); r != nil {
				log.Error("panic", "method", info.FullMethod, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		return handler(srv, ss)
	}
}
