package api

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// MaxMessageBytes is the largest request or response accepted: the
// largest legitimate message, a policy with a catalog of 200,000 entries
// (engine.MaxCatalog). It is the receive limit of the whole server (grpc-go
// has no other); each request type has its own, smaller limit, checked
// before the message is decoded (messageLimits).
const MaxMessageBytes = 32 << 20

// Config is what NewServer needs.
type Config struct {
	Store  store.Store
	Tokens *Tokens // nil or empty: open mode, every caller is admin
	Log    *slog.Logger
	// ServerOptions are added to the server's own (TLS credentials, stats handlers).
	ServerOptions []grpc.ServerOption
	// Limits bounds the calls, messages and connections the server takes
	// on; zero fields take their defaults.
	Limits Limits
	// Now is the clock settle dates are checked against (time.Now when nil).
	Now func() time.Time
	// MaxClockSkew is how far ahead of Now a settle date may be (its date
	// in China Standard Time); later dates are INVALID_ARGUMENT. Zero or
	// negative: DefaultMaxClockSkew (24h).
	MaxClockSkew time.Duration
}

// NewServer builds the gRPC server with every medsettle service, health
// checking and reflection registered. OpenTelemetry providers installed
// before it is called get gRPC traces and rpc.server.* metrics as well as
// medsettle's own instruments; with none installed the server pays for
// neither.
func NewServer(cfg Config) (*grpc.Server, *health.Server) {
	srv, hs, _ := NewServerWithLocal(cfg)
	return srv, hs
}

// NewServerWithLocal is NewServer that also returns the same services
// callable in-process (Local): the same service instances, admission
// gates, message limits and interceptors as the gRPC server's.
func NewServerWithLocal(cfg Config) (*grpc.Server, *health.Server, *Local) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	tokens := cfg.Tokens
	if tokens == nil {
		tokens = &Tokens{}
	}
	lim := cfg.Limits.WithDefaults()
	// Every store operation has a server-side limit (store_timeout.go).
	cfg.Store = withDefaultStoreTimeouts(cfg.Store)
	// State-changing calls are recorded after authentication (audit.go).
	audit := newAuditor(cfg.Store, log, cfg.Now)
	opts := append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		grpc.MaxSendMsgSize(MaxMessageBytes),
		// Credentials are checked on the headers, before the message is
		// read; the guard reads messages raw and checks them before
		// decoding (guard.go).
		grpc.InTapHandle(tokens.tapAuth),
		grpc.ForceServerCodecV2(newGuardCodec()),
		grpc.MaxHeaderListSize(MaxHeaderBytes),
		grpc.MaxConcurrentStreams(lim.MaxStreams),
		grpc.ConnectionTimeout(lim.HandshakeTimeout),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: lim.KeepaliveMinTime, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: lim.MaxConnectionIdle, Time: KeepaliveTime, Timeout: KeepaliveTimeout}),
		// An idle connection keeps no write buffer (32 KiB each).
		grpc.SharedWriteBuffer(true),
		grpc.ChainUnaryInterceptor(recoverUnary(log), tokens.UnaryAuth, audit.Unary, storeDeadline(cfg.Store)),
		grpc.ChainStreamInterceptor(recoverStream(log), tokens.StreamAuth, audit.Stream),
	}, cfg.ServerOptions...)
	// Traces and rpc.server.* metrics for every call, first of the stats
	// handlers, through the global OpenTelemetry providers when cmd has
	// installed them (exporters are configured); none of their cost
	// otherwise (telemetry_gate.go).
	opts = append(otelServerOptions(), opts...)
	srv := grpc.NewServer(opts...)
	// The audit registrar sits inside the guard: its stream handlers see
	// the messages decoded.
	// Local calls run through the same chain, the caller's principal
	// standing in for UnaryAuth (local.go).
	local := newLocal(recoverUnary(log), audit.Unary, storeDeadline(cfg.Store))
	reg := auditRegistrar{next: guardedRegistrar{srv: srv, g: newGuard(lim), local: local}}
	pb.RegisterSettlementServiceServer(reg, &SettlementService{store: cfg.Store, log: log, tel: newTelemetry(),
		clock: newSettleClock(cfg.Now, cfg.MaxClockSkew)})
	pb.RegisterRegistryServiceServer(reg, &RegistryService{store: cfg.Store, log: log})
	pb.RegisterPolicyServiceServer(reg, &PolicyService{store: cfg.Store, log: log})
	pb.RegisterClearingServiceServer(reg, &ClearingService{store: cfg.Store, log: log})
	pb.RegisterAuditServiceServer(reg, &AuditService{store: cfg.Store, log: log})
	pb.RegisterContributionServiceServer(reg, &ContributionService{store: cfg.Store, log: log})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(reg, hs)
	for _, name := range []string{"", pb.SettlementService_ServiceDesc.ServiceName, pb.RegistryService_ServiceDesc.ServiceName, pb.PolicyService_ServiceDesc.ServiceName,
		pb.ClearingService_ServiceDesc.ServiceName, pb.AuditService_ServiceDesc.ServiceName, pb.ContributionService_ServiceDesc.ServiceName} {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	reflection.Register(reg)
	return srv, hs, local
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
