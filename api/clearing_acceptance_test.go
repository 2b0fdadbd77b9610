package api

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// Acceptance checks of CLEARING.md's run keys, finals, statements and
// capitation membership, each a sentence of the spec read literally.

// TestClearingBudgetKeyIgnoresScheme: the BUDGET run key is (kind, region,
// period), not the scheme ("so an institution's budget is cleared once"):
// a BUDGET draft asked with the other scheme replaces the draft of the
// region and year, whose id then answers NOT_FOUND; a final BUDGET run
// with the other scheme overlaps the final of the region and year
// (FAILED_PRECONDITION); drafts are still allowed after it, and replace
// each other across schemes.
func TestClearingBudgetKeyIgnoresScheme(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.putPolicy(clearingPolicy(clearingRegion, resident, true)) // the resident policy with budget_clearing too
		c.institution("B1", clearingRegion, 2, "1000000")
		c.person("P1", clearingRegion, employee)
		c.settle(claimOf("b1", "B1", "P1", inpatient, "2026-03-01", "", "900000", "0"))

		emp := c.mustRun(budgetRun())
		res := budgetRun()
		res.Scheme = resident
		resRun := c.mustRun(res)
		_, err := c.statement(clearingToken, &pb.GetStatementRequest{RunId: emp.GetRunId(), InstitutionId: "B1"})
		wantCode(t, err, codes.NotFound)
		got, err := c.statement(clearingToken, &pb.GetStatementRequest{RunId: resRun.GetRunId(), InstitutionId: "B1"})
		must(t, err)
		wantProto(t, "resident-scheme BUDGET statement", got.GetStatement(), &pb.Statement{
			RunId: resRun.GetRunId(), Kind: pb.ClearingKind_CLEARING_KIND_BUDGET,
			Institution: &pb.InstitutionClearing{InstitutionId: "B1", Cases: 1, Budget: "1000000.00", Claimed: "900000.00",
				Retained: "50000.00", Shared: "0.00", Paid: "950000.00"},
		})

		fin := budgetRun()
		fin.Final = true
		final := c.mustRun(fin)
		finRes := budgetRun()
		finRes.Scheme, finRes.Final = resident, true
		_, err = c.run(clearingToken, finRes)
		wantCode(t, err, codes.FailedPrecondition)

		again := c.mustRun(budgetRun())
		_, err = c.statement(clearingToken, &pb.GetStatementRequest{RunId: resRun.GetRunId(), InstitutionId: "B1"})
		wantCode(t, err, codes.NotFound)
		for _, id := range []string{final.GetRunId(), again.GetRunId()} {
			_, err = c.statement(clearingToken, &pb.GetStatementRequest{RunId: id, InstitutionId: "B1"})
			must(t, err)
		}
	})
}

// TestClearingFinalOverlap: final DRG runs of one region and scheme may
// not overlap in period (FAILED_PRECONDITION), whatever their periods;
// adjacent periods do not overlap; another scheme is another key; drafts
// are always allowed, and a final run leaves the draft of its key.
func TestClearingFinalOverlap(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.putPolicy(clearingPolicy(clearingRegion, resident, true))
		drgExample(c)
		period := func(from, to string, final bool) *pb.RunClearingRequest {
			r := drgRun("100000")
			r.PeriodFrom, r.PeriodTo, r.Final = from, to, final
			return r
		}
		draftH1 := c.mustRun(period("2026-01-01", "2026-06-30", false))
		c.mustRun(period("2026-01-01", "2026-06-30", true))
		c.mustRun(period("2026-07-01", "2026-12-31", true)) // adjacent: no overlap
		for _, p := range [][2]string{{"2026-06-30", "2026-07-01"}, {"2026-01-01", "2026-12-31"}, {"2026-03-01", "2026-03-01"}, {"2026-12-31", "2026-12-31"}} {
			_, err := c.run(clearingToken, period(p[0], p[1], true))
			if code := status.Code(err); code != codes.FailedPrecondition {
				t.Errorf("final %s..%s over two finals: %v, want FAILED_PRECONDITION", p[0], p[1], err)
			}
			c.mustRun(period(p[0], p[1], false)) // drafts are always allowed
		}
		// The draft of the first half is still there: a final never replaces a draft.
		_, err := c.statement(clearingToken, &pb.GetStatementRequest{RunId: draftH1.GetRunId(), InstitutionId: "H1"})
		must(t, err)
		// Another scheme is another key.
		res := period("", "", true)
		res.Scheme = resident
		c.mustRun(res)
		// Another year does not overlap.
		p2025 := clearingPolicy(clearingRegion, employee, true)
		p2025.Version, p2025.EffectiveFrom, p2025.EffectiveTo = "2025.1", "2025-01-01", "2025-12-31"
		c.putPolicy(p2025)
		prev := period("", "", true)
		prev.Year = 2025
		if s := c.mustRun(prev); s.GetPeriodFrom() != "2025-01-01" || s.GetSettlements() != 0 || !s.GetFinal() {
			t.Errorf("final 2025 run: %v", s)
		}
	})
}

// TestClearingStatementWithoutLine: an institution line lists only
// grouped cases, so an institution of the region with ungrouped cases
// only, or none, has no line in a DRG run, and its statement is
// NOT_FOUND, for itself too; so is an institution without a budget in a
// BUDGET run.
func TestClearingStatementWithoutLine(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		drgExample(c)
		c.institution("H3", clearingRegion, 1, "")
		c.settle(claimOf("h3", "H3", "P6", inpatient, "2026-05-01", "", "800", "200")) // ungrouped
		s := c.mustRun(drgRun("100000"))
		if len(s.GetInstitutions()) != 2 || s.GetUngrouped() != 2 {
			t.Fatalf("lines %v, ungrouped %d: want H1 and H2 only, 2 ungrouped", s.GetInstitutions(), s.GetUngrouped())
		}
		for _, tok := range []string{clearingToken, institutionToken("H3")} {
			_, err := c.statement(tok, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "H3"})
			wantCode(t, err, codes.NotFound)
		}
		b := c.mustRun(budgetRun())
		_, err := c.statement(institutionToken("H1"), &pb.GetStatementRequest{RunId: b.GetRunId(), InstitutionId: "H1"})
		wantCode(t, err, codes.NotFound)
	})
}

// TestClearingCapitationMembership: a member counts for the whole year
// whenever enrolled, so settlements made before the enrolment count; a
// person in a contract of another year may be enrolled; one in another
// contract of the same year may not.
func TestClearingCapitationMembership(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "")
		c.institution("H2", clearingRegion, 2, "")
		c.person("M1", clearingRegion, employee)
		c.person("M2", clearingRegion, employee)
		old := capitationContract("K2025", "H2")
		old.Year = 2025
		_, err := c.putContract(clearingToken, old)
		must(t, err)
		_, err = c.putContract(clearingToken, capitationContract("K1", "H1"))
		must(t, err)
		_, err = c.putContract(clearingToken, capitationContract("K2", "H1"))
		must(t, err)
		resp, err := c.enroll(clearingToken, [2]string{"K2025", "M1"})
		must(t, err)
		if resp.GetEnrolled() != 1 {
			t.Fatalf("enrol M1 in 2025: %v", resp)
		}
		c.settle(claimOf("jan", "H2", "M1", inpatient, "2026-01-01", "", "1000", "0"))
		c.settle(claimOf("dec", "H1", "M1", outpatient, "2026-12-31", "", "20.50", "0"))
		resp, err = c.enroll(clearingToken, [2]string{"K1", "M1"}) // after its settlements, in a contract of another year
		must(t, err)
		if resp.GetEnrolled() != 1 || resp.GetRejected() != 0 {
			t.Fatalf("enrol M1 in K1 (2026) while in K2025: %v", resp)
		}
		resp, err = c.enroll(clearingToken, [2]string{"K2", "M1"}, [2]string{"K2", "M2"})
		must(t, err)
		if resp.GetEnrolled() != 1 || resp.GetRejected() != 1 || resp.GetRejections()[0].GetPersonId() != "M1" {
			t.Fatalf("enrol M1 in K2 (2026) while in K1: %v", resp)
		}
		s := c.mustRun(&pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_CAPITATION, ContractId: "K1"})
		wantProto(t, "K1", s.GetCapitation(), &pb.CapitationClearing{
			ContractId: "K1", Members: 1, Budget: "3940.00", Actual: "1020.50", Surplus: "2919.50",
			Shares:  []*pb.PartyAmount{{Party: "county", Amount: "1167.80"}, {Party: "township", Amount: "1167.80"}, {Party: "village", Amount: "583.90"}},
			Deficit: "0.00", FundCovers: "0.00", ContractBears: "0.00",
			Components: []*pb.ComponentClearing{
				{Name: "chronic care", Budget: "3700.00", Actual: "1000.00"},
				{Name: "two-disease quota", Budget: "240.00", Actual: "20.50"},
			},
		})
		if s.GetSettlements() != 2 || s.GetPaidTotal() != "3940.00" {
			t.Errorf("K1 counted %d settlements, paid %s; want 2 and 3940.00", s.GetSettlements(), s.GetPaidTotal())
		}
		// The 2025 contract reads 2025 only.
		s = c.mustRun(&pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_CAPITATION, ContractId: "K2025"})
		if s.GetSettlements() != 0 || s.GetCapitation().GetActual() != "0.00" || s.GetPeriodTo() != "2025-12-31" {
			t.Errorf("K2025: %v", s)
		}
	})
}
