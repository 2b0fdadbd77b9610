package api

import (
	"encoding/json"
	"testing"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

const adminToken = "admin-token-0123456789"

func institutionToken(id string) string { return "institution-token-" + id }

// grpcReplayer replays vectors through a real server, each call made with
// the credentials of its caller.
type grpcReplayer struct{ ts *testServer }

func (g grpcReplayer) putPolicy(p *pb.Policy) error {
	ctx, cancel := as(adminToken)
	defer cancel()
	_, err := g.ts.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: p})
	return err
}

func (g grpcReplayer) putInstitution(in *pb.Institution) error {
	ctx, cancel := as(adminToken)
	defer cancel()
	_, err := g.ts.registry.PutInstitution(ctx, &pb.PutInstitutionRequest{Institution: in})
	return err
}

func (g grpcReplayer) putPerson(p *pb.Person) error {
	ctx, cancel := as(adminToken)
	defer cancel()
	_, err := g.ts.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: p})
	return err
}

func (g grpcReplayer) putFiling(f *pb.CrossRegionFiling) error {
	ctx, cancel := as(adminToken)
	defer cancel()
	_, err := g.ts.registry.PutCrossRegionFiling(ctx, &pb.PutCrossRegionFilingRequest{Filing: f})
	return err
}

func (g grpcReplayer) settle(caller string, req *pb.SettleRequest, commit bool) (*pb.Settlement, error) {
	ctx, cancel := as(institutionToken(caller))
	defer cancel()
	call := g.ts.settlement.PreSettle
	if commit {
		call = g.ts.settlement.Settle
	}
	resp, err := call(ctx, req)
	return resp.GetSettlement(), err
}

func (g grpcReplayer) reverse(caller string, req *pb.ReverseSettlementRequest) (*pb.Settlement, error) {
	if caller == "" {
		// The default caller of a reversal is the settling institution.
		ctx, cancel := as(adminToken)
		got, err := g.ts.settlement.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: req.GetSettlementId()})
		cancel()
		if err != nil {
			return nil, err
		}
		caller = got.GetSettlement().GetInstitutionId()
	}
	ctx, cancel := as(institutionToken(caller))
	defer cancel()
	resp, err := g.ts.settlement.ReverseSettlement(ctx, req)
	return resp.GetSettlement(), err
}

func (g grpcReplayer) accumulators(req *pb.GetAccumulatorsRequest) (*pb.Accumulators, error) {
	ctx, cancel := as(adminToken)
	defer cancel()
	resp, err := g.ts.settlement.GetAccumulators(ctx, req)
	return resp.GetAccumulators(), err
}

// TestVectorsGRPC replays every vector through a real gRPC server on a
// loopback socket, with the credentials of each caller, on every store.
func TestVectorsGRPC(t *testing.T) {
	for _, kind := range storeKinds {
		for _, sc := range loadScenarios(t) {
			t.Run(string(kind)+"/"+sc.Name, func(t *testing.T) {
				replayScenario(t, sc, grpcReplayer{startServerOn(t, newStore(t, kind), vectorRoles(t, sc))})
			})
		}
	}
}

// vectorRoles gives the admin and every institution of a scenario a token.
func vectorRoles(t *testing.T, sc scenario) map[string]string {
	roles := map[string]string{adminToken: "admin"}
	for _, raw := range sc.Institutions {
		var in struct {
			InstitutionID string `json:"institutionId"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		roles[institutionToken(in.InstitutionID)] = "institution:" + in.InstitutionID
	}
	return roles
}
