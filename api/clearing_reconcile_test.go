package api

import (
	"testing"

	"google.golang.org/grpc/codes"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestReconcile: the institution's totals for a period, narrowed by scheme
// and visit types, match or not; unmatched answers list the settlements
// counted; reversed settlements, other periods and other institutions are
// never counted.
func TestReconcile(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "")
		c.institution("H2", clearingRegion, 2, "")
		c.person("E1", clearingRegion, employee)
		c.person("Q1", clearingRegion, resident)
		s1 := c.settle(claimOf("r1", "H1", "E1", inpatient, "2026-03-01", "", "1000", "200"))
		s2 := c.settle(claimOf("r2", "H1", "Q1", outpatient, "2026-03-02", "", "300.50", "0"))
		c.reverse(c.settle(claimOf("r3", "H1", "E1", inpatient, "2026-04-01", "", "500", "0")))
		c.settle(claimOf("r4", "H1", "E1", inpatient, "2026-05-01", "", "700", "0"))
		c.settle(claimOf("r5", "H2", "E1", inpatient, "2026-03-05", "", "900", "0"))

		// H1 in March and April: r1 (1,200.00 total, 1,000.00 fund) and r2
		// (300.50, 300.50); r3 is reversed, r4 is in May, r5 is H2's.
		req := func(count int64, total, fund string) *pb.ReconcileRequest {
			return &pb.ReconcileRequest{InstitutionId: "H1", PeriodFrom: "2026-03-01", PeriodTo: "2026-04-30",
				Count: count, Total: total, FundTotal: fund, Account: "0"}
		}
		got, err := c.reconcile(institutionToken("H1"), req(2, "1500.50", "1300.5"))
		must(t, err)
		wantProto(t, "matched", got, &pb.ReconcileResponse{Matched: true, Count: 2, Total: "1500.50", FundTotal: "1300.50", Account: "0.00"})

		got, err = c.reconcile(clearingToken, req(3, "1500.50", "1300.50"))
		must(t, err)
		wantProto(t, "unmatched", got, &pb.ReconcileResponse{Matched: false, Count: 2, Total: "1500.50", FundTotal: "1300.50", Account: "0.00",
			Settlements: []*pb.ReconcileSettlement{
				{SettlementId: s1.GetSettlementId(), RequestId: "r1", SettleDate: "2026-03-01", Total: "1200.00", FundTotal: "1000.00", Account: "0.00"},
				{SettlementId: s2.GetSettlementId(), RequestId: "r2", SettleDate: "2026-03-02", Total: "300.50", FundTotal: "300.50", Account: "0.00"},
			}})

		// Narrowed to a scheme, to visit types.
		r := req(1, "1200", "1000")
		r.Scheme = employee
		got, err = c.reconcile(adminToken, r)
		must(t, err)
		if !got.GetMatched() || len(got.GetSettlements()) != 0 {
			t.Errorf("employee scheme only: %v", got)
		}
		r = req(1, "300.50", "300.50")
		r.VisitTypes = []pb.VisitType{outpatient, chronic}
		got, err = c.reconcile(adminToken, r)
		must(t, err)
		if !got.GetMatched() {
			t.Errorf("outpatient only: %v", got)
		}

		// Malformed: every bad field at once.
		_, err = c.reconcile(institutionToken("H1"), &pb.ReconcileRequest{InstitutionId: "H1", PeriodTo: "2026-13-01",
			Scheme: 5, VisitTypes: []pb.VisitType{0, 9}, Count: -1, FundTotal: "1.001", Account: "x"})
		wantFields(t, err, "account", "count", "fund_total", "period_from", "period_to", "scheme", "total", "visit_types[0]", "visit_types[1]")
		bad := req(0, "0", "0")
		bad.PeriodFrom, bad.PeriodTo = "2026-05-01", "2026-04-30"
		_, err = c.reconcile(adminToken, bad)
		wantFields(t, err, "period_to")
		bad = req(0, "0", "0")
		bad.InstitutionId = "NO-SUCH-HOSPITAL"
		_, err = c.reconcile(adminToken, bad)
		wantCode(t, err, codes.NotFound)
		_, err = c.reconcile(institutionToken("H2"), req(2, "1500.50", "1300.50"))
		wantCode(t, err, codes.PermissionDenied)
	})
}
