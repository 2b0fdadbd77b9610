package national

import (
	"context"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// Services are the medsettle gRPC services the gateway calls in-process,
// through the same interceptors as a gRPC call (recovery, audit, store
// deadlines), as the principal the context carries (api.WithPrincipal).
// api.Local implements it. Errors are gRPC status errors, as a gRPC
// client would see them.
type Services interface {
	GetPerson(ctx context.Context, req *pb.GetPersonRequest) (*pb.GetPersonResponse, error)
	PreSettle(ctx context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error)
	Settle(ctx context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error)
	ReverseSettlement(ctx context.Context, req *pb.ReverseSettlementRequest) (*pb.ReverseSettlementResponse, error)
	GetSettlement(ctx context.Context, req *pb.GetSettlementRequest) (*pb.GetSettlementResponse, error)
	GetAccumulators(ctx context.Context, req *pb.GetAccumulatorsRequest) (*pb.GetAccumulatorsResponse, error)
	Reconcile(ctx context.Context, req *pb.ReconcileRequest) (*pb.ReconcileResponse, error)
}
