package api

import (
	"fmt"
	"testing"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestValidClaimBuildsNoFieldPaths checks that reading a valid claim
// allocates nothing per line item (issue 9): the field paths of its items
// ("items[3].quantity") are built only when a violation is recorded.
// What remains is the claim's slice of items.
func TestValidClaimBuildsNoFieldPaths(t *testing.T) {
	allocs := func(lines int) float64 {
		req := &pb.SettleRequest{RequestId: "R1", InstitutionId: "H1", PersonId: "P1",
			VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, SettleDate: "2026-06-15"}
		for i := range lines {
			req.Items = append(req.Items, &pb.LineItem{Code: "A-DRUG", Name: fmt.Sprintf("line %d", i),
				Quantity: "12.5", UnitPrice: "11.203456", Amount: "140.04"})
		}
		if _, err := claimFromProto(req); err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(50, func() { _, _ = claimFromProto(req) })
	}
	one, twenty := allocs(1), allocs(20)
	if one != twenty || twenty > 1 {
		t.Errorf("claimFromProto allocates %v times for 1 line, %v for 20; want 1 (the items) for both", one, twenty)
	}
	// A bad item still names its field.
	req := &pb.SettleRequest{RequestId: "R1", InstitutionId: "H1", PersonId: "P1",
		VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, SettleDate: "2026-06-15",
		Items: []*pb.LineItem{{Code: "A", Quantity: "1", UnitPrice: "1", Amount: "1.00"}, {Code: "A", Quantity: "1", UnitPrice: "1", Amount: "1.01"}}}
	_, err := claimFromProto(req)
	if got := violations(t, err, "items[1]."); !got["items[1].amount"] || len(got) != 1 {
		t.Errorf("violations %v, want items[1].amount", got)
	}
}
