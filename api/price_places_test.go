package api

import (
	"os"
	"strings"
	"testing"

	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// API.md: unit_price and price_cap take six decimals (the national
// interface's pric 16,6); a seventh is refused.

// TestSixDecimalUnitPriceSettlesExactly checks that a six-decimal unit
// price is read exactly: 3 × 0.333333 = 0.999999, which rounds to 1.00,
// and nothing else is accepted as the amount.
func TestSixDecimalUnitPriceSettlesExactly(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	req := claim("six-1", "QZ-H3", "E1", "1")
	req.Items[0].Quantity, req.Items[0].UnitPrice, req.Items[0].Amount = "3", "0.333333", "1.00"
	resp, err := ts.settlement.Settle(ctx, req)
	must(t, err)
	if got := resp.GetSettlement().GetBreakdown().GetTotal(); got != "1.00" {
		t.Errorf("total %s, want 1.00", got)
	}
	got, err := ts.settlement.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: resp.GetSettlement().GetSettlementId()})
	must(t, err)
	if it := got.GetSettlement().GetItems()[0]; it.GetQuantity() != "3" || it.GetUnitPrice() != "0.333333" || it.GetAmount() != "1.00" {
		t.Errorf("item as settled %v, want 3 × 0.333333 = 1.00", it)
	}
	// round(0.999999) is 1.00, not 0.99.
	req = claim("six-2", "QZ-H3", "E1", "1")
	req.Items[0].Quantity, req.Items[0].UnitPrice, req.Items[0].Amount = "3", "0.333333", "0.99"
	_, err = ts.settlement.Settle(ctx, req)
	if got := fieldViolations(t, err); strings.Join(got, ",") != "items[0].amount" {
		t.Errorf("violations %v, want items[0].amount", got)
	}
}

// TestSevenDecimalPriceRefused checks that a unit price or a price cap
// with seven decimals is INVALID_ARGUMENT naming the field, and that a
// six-decimal price cap is kept and applied exactly.
func TestSevenDecimalPriceRefused(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	req := claim("seven-1", "QZ-H3", "E1", "1")
	req.Items[0].Quantity, req.Items[0].UnitPrice, req.Items[0].Amount = "3", "0.3333333", "1.00"
	_, err := ts.settlement.Settle(ctx, req)
	// The amount is not checked against a price that did not read.
	if got := fieldViolations(t, err); strings.Join(got, ",") != "items[0].unit_price" {
		t.Errorf("violations %v, want items[0].unit_price", got)
	}
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "more than 6 decimals") {
		t.Errorf("message %q does not say the limit", msg)
	}

	admin, cancelAdmin := as(adminToken)
	defer cancelAdmin()
	raw, err := os.ReadFile("../examples/policies/350500-employee-2026.1.json")
	must(t, err)
	var next pb.Policy
	unmarshalInto(t, raw, &next)
	next.Version, next.EffectiveFrom, next.EffectiveTo = "2027.1", "2027-01-01", "2027-12-31"
	drug := next.GetCatalog()[2]
	if drug.GetCode() != "A-DRUG" {
		t.Fatalf("catalog[2] is %s, not A-DRUG", drug.GetCode())
	}
	drug.PriceCap = "0.3333355"
	_, err = ts.policy.PutPolicy(admin, &pb.PutPolicyRequest{Policy: &next})
	if got := fieldViolations(t, err); strings.Join(got, ",") != "policy.catalog[2].price_cap" {
		t.Errorf("violations %v, want policy.catalog[2].price_cap", got)
	}
	drug.PriceCap = "0.333335"
	_, err = ts.policy.PutPolicy(admin, &pb.PutPolicyRequest{Policy: &next})
	must(t, err)
	pol, err := ts.policy.GetPolicy(admin, &pb.GetPolicyRequest{Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE, Version: "2027.1"})
	must(t, err)
	if got := pol.GetPolicy().GetCatalog()[2].GetPriceCap(); got != "0.333335" {
		t.Errorf("price cap read back as %q, want 0.333335", got)
	}
	// over_limit = round((0.5 − 0.333335) × 300) = round(49.9995) = 50.00
	// (a cap cut to four decimals, 0.3333, would give 50.01).
	req = claim("capped-1", "QZ-H3", "E1", "1")
	req.SettleDate = "2027-03-01"
	req.Items[0].Code, req.Items[0].Quantity, req.Items[0].UnitPrice, req.Items[0].Amount = "A-DRUG", "300", "0.5", "150.00"
	resp, err := ts.settlement.PreSettle(ctx, req)
	must(t, err)
	if b := resp.GetSettlement().GetBreakdown(); b.GetTotal() != "150.00" || b.GetOverLimit() != "50.00" {
		t.Errorf("total %s over_limit %s, want 150.00 and 50.00", b.GetTotal(), b.GetOverLimit())
	}
}
