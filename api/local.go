package api

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// Local is the medsettle services called in-process (the national gateway,
// api/national.Services): each call takes the gRPC path from the guard on
// (the service's admission gate, the message read as bytes and checked
// against its type's limits, then decoded), through the same unary
// interceptors (recovery, audit, store deadline) to the same service
// instance. Only the transport and UnaryAuth are left out: the caller
// puts the principal in the context (WithPrincipal), and a call without
// one is refused as a gRPC call without credentials is. Errors are gRPC
// status errors, as a gRPC client sees them.
//
// NewServerWithLocal makes it; its methods are safe for concurrent use.
type Local struct {
	chain   grpc.UnaryServerInterceptor
	methods map[string]localMethod
}

// localMethod is one guarded unary method and the service serving it.
type localMethod struct {
	handler grpc.MethodHandler
	impl    any
}

// newLocal builds a Local whose calls run through interceptors, in order.
func newLocal(interceptors ...grpc.UnaryServerInterceptor) *Local {
	return &Local{chain: chainUnary(interceptors), methods: map[string]localMethod{}}
}

// register learns the unary methods of a guarded service (guardedRegistrar).
func (l *Local) register(sd *grpc.ServiceDesc, impl any) {
	for _, m := range sd.Methods {
		l.methods["/"+sd.ServiceName+"/"+m.MethodName] = localMethod{handler: m.Handler, impl: impl}
	}
}

// chainUnary runs interceptors in order, as grpc.ChainUnaryInterceptor does.
func chainUnary(ics []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		var next func(i int) grpc.UnaryHandler
		next = func(i int) grpc.UnaryHandler {
			if i == len(ics) {
				return handler
			}
			return func(ctx context.Context, req any) (any, error) { return ics[i](ctx, req, info, next(i+1)) }
		}
		return next(0)(ctx, req)
	}
}

// call runs req through method's guarded handler and interceptors.
func call[T proto.Message](ctx context.Context, l *Local, method string, req proto.Message) (T, error) {
	var zero T
	m, ok := l.methods[method]
	if !ok {
		return zero, status.Errorf(codes.Unimplemented, "method %s is not served", method)
	}
	// The request travels as its wire bytes, so that the guard checks it
	// against its type's limits exactly as it checks a gRPC message.
	dec := func(v any) error {
		f, ok := v.(*rawFrame)
		if !ok {
			return status.Errorf(codes.Internal, "local call: cannot read into %T", v)
		}
		b, err := proto.Marshal(req)
		if err != nil {
			return status.Errorf(codes.Internal, "local call: encode %s: %v", method, err)
		}
		f.data = mem.BufferSlice{mem.SliceBuffer(b)}
		return nil
	}
	resp, err := m.handler(m.impl, ctx, dec, l.chain)
	if err != nil {
		return zero, err
	}
	out, ok := resp.(T)
	if !ok {
		return zero, status.Error(codes.Internal, fmt.Sprintf("local call: %s answered %T", method, resp))
	}
	return out, nil
}

// WithPrincipal returns ctx carrying p as the caller of the Local calls
// made with it: its access rights, its audit identity and its share of
// the admission gates are p's, as for a gRPC caller authenticated as p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	ctx = context.WithValue(ctx, principalKey{}, p)
	return context.WithValue(ctx, localCallerKey{}, p.String())
}

// localCallerKey is the context key of the caller a Local call's admission
// shares are counted for (callerKey).
type localCallerKey struct{}

// GetPerson is RegistryService.GetPerson.
func (l *Local) GetPerson(ctx context.Context, req *pb.GetPersonRequest) (*pb.GetPersonResponse, error) {
	return call[*pb.GetPersonResponse](ctx, l, pb.RegistryService_GetPerson_FullMethodName, req)
}

// GetInstitution is RegistryService.GetInstitution.
func (l *Local) GetInstitution(ctx context.Context, req *pb.GetInstitutionRequest) (*pb.GetInstitutionResponse, error) {
	return call[*pb.GetInstitutionResponse](ctx, l, pb.RegistryService_GetInstitution_FullMethodName, req)
}

// PreSettle is SettlementService.PreSettle.
func (l *Local) PreSettle(ctx context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	return call[*pb.SettleResponse](ctx, l, pb.SettlementService_PreSettle_FullMethodName, req)
}

// Settle is SettlementService.Settle.
func (l *Local) Settle(ctx context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	return call[*pb.SettleResponse](ctx, l, pb.SettlementService_Settle_FullMethodName, req)
}

// ReverseSettlement is SettlementService.ReverseSettlement.
func (l *Local) ReverseSettlement(ctx context.Context, req *pb.ReverseSettlementRequest) (*pb.ReverseSettlementResponse, error) {
	return call[*pb.ReverseSettlementResponse](ctx, l, pb.SettlementService_ReverseSettlement_FullMethodName, req)
}

// GetSettlement is SettlementService.GetSettlement.
func (l *Local) GetSettlement(ctx context.Context, req *pb.GetSettlementRequest) (*pb.GetSettlementResponse, error) {
	return call[*pb.GetSettlementResponse](ctx, l, pb.SettlementService_GetSettlement_FullMethodName, req)
}

// GetAccumulators is SettlementService.GetAccumulators.
func (l *Local) GetAccumulators(ctx context.Context, req *pb.GetAccumulatorsRequest) (*pb.GetAccumulatorsResponse, error) {
	return call[*pb.GetAccumulatorsResponse](ctx, l, pb.SettlementService_GetAccumulators_FullMethodName, req)
}

// Reconcile is ClearingService.Reconcile.
func (l *Local) Reconcile(ctx context.Context, req *pb.ReconcileRequest) (*pb.ReconcileResponse, error) {
	return call[*pb.ReconcileResponse](ctx, l, pb.ClearingService_Reconcile_FullMethodName, req)
}

// GetPolicy is PolicyService.GetPolicy.
func (l *Local) GetPolicy(ctx context.Context, req *pb.GetPolicyRequest) (*pb.GetPolicyResponse, error) {
	return call[*pb.GetPolicyResponse](ctx, l, pb.PolicyService_GetPolicy_FullMethodName, req)
}

// ListPolicies is PolicyService.ListPolicies.
func (l *Local) ListPolicies(ctx context.Context, req *pb.ListPoliciesRequest) (*pb.ListPoliciesResponse, error) {
	return call[*pb.ListPoliciesResponse](ctx, l, pb.PolicyService_ListPolicies_FullMethodName, req)
}
