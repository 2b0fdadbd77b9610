package api

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// TestAuditFastPathsMatchReflection: the ids read from a SettleRequest and
// a SettleResponse by their fast paths are exactly what reflection reads,
// for random messages: empty, short, long (cut) and multi-byte values,
// every field set or not, with or without a settlement.
func TestAuditFastPathsMatchReflection(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	str := func() string {
		switch r.IntN(5) {
		case 0:
			return ""
		case 1:
			return strings.Repeat("医", store.MaxAuditString/3+r.IntN(3))
		case 2:
			return strings.Repeat("x", store.MaxAuditString-1+r.IntN(3))
		}
		return "id-" + string(rune('a'+r.IntN(26)))
	}
	for i := range 5000 {
		req := &pb.SettleRequest{
			RequestId: str(), InstitutionId: str(), PersonId: str(), SettleDate: str(), DrgCode: str(),
			VisitType: pb.VisitType(r.IntN(4)), CrossRegion: pb.CrossRegion(r.IntN(4)), UsePersonalAccount: r.IntN(2) == 1,
		}
		for range r.IntN(3) {
			req.Items = append(req.Items, &pb.LineItem{Code: str(), Name: str(), Quantity: "1", UnitPrice: "2", Amount: "2"})
		}
		if got, want := requestIDs(req), reflectedRequestIDs(req); got != want {
			t.Fatalf("request %d: fast %q, reflection %q", i, got, want)
		}
		resp := &pb.SettleResponse{}
		if r.IntN(4) > 0 {
			resp.Settlement = &pb.Settlement{SettlementId: str(), RequestId: str(), InstitutionId: str(), PersonId: str(), PolicyVersion: str()}
		}
		var prior []string
		if r.IntN(3) == 0 {
			prior = []string{str()}
		}
		got := resultIDs(slices.Clone(prior), resp)
		want := reflectedResultIDs(slices.Clone(prior), resp)
		if !slices.Equal(got, want) {
			t.Fatalf("response %d: fast %q, reflection %q", i, got, want)
		}
	}
}
