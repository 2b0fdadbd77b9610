package api

import (
	"testing"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestContributionServiceHealth: the server reports ContributionService
// SERVING by name, as it does every medsettle service, without a token.
func TestContributionServiceHealth(t *testing.T) {
	c := contributionServer(t, memKind)
	ctx, cancel := as("")
	defer cancel()
	hr, err := healthpb.NewHealthClient(c.conn).Check(ctx, &healthpb.HealthCheckRequest{Service: pb.ContributionService_ServiceDesc.ServiceName})
	must(t, err)
	if hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("%s: %v", pb.ContributionService_ServiceDesc.ServiceName, hr.GetStatus())
	}
}
