package api

import (
	"testing"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestGetSettlementListsItems checks that GetSettlement carries the
// claim's line items as settled (decimals as sent, the amount with two
// decimals), and that Settle's answer leaves them out.
func TestGetSettlementListsItems(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	req := claim("items-1", "QZ-H3", "E1", "1200")
	req.Items = append(req.Items, &pb.LineItem{Code: "A-BED", Name: "bed", Quantity: "2.5", UnitPrice: "80.5", Amount: "201.25"})
	settled, err := ts.settlement.Settle(ctx, req)
	must(t, err)
	if n := len(settled.GetSettlement().GetItems()); n != 0 {
		t.Errorf("Settle answered %d items; it leaves them out", n)
	}
	got, err := ts.settlement.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: settled.GetSettlement().GetSettlementId()})
	must(t, err)
	want := [][5]string{{"A-SURG", "surgery", "1", "1200", "1200.00"}, {"A-BED", "bed", "2.5", "80.5", "201.25"}}
	items := got.GetSettlement().GetItems()
	if len(items) != len(want) {
		t.Fatalf("GetSettlement has %d items, want %d", len(items), len(want))
	}
	for i, it := range items {
		if g := [5]string{it.GetCode(), it.GetName(), it.GetQuantity(), it.GetUnitPrice(), it.GetAmount()}; g != want[i] {
			t.Errorf("item %d = %v, want %v", i, g, want[i])
		}
	}
}
