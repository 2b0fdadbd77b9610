package api

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

const (
	inpatient  = pb.VisitType_VISIT_TYPE_INPATIENT
	chronic    = pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT
	outpatient = pb.VisitType_VISIT_TYPE_OUTPATIENT
	employee   = pb.Scheme_SCHEME_EMPLOYEE
	resident   = pb.Scheme_SCHEME_RESIDENT
)

// wantProto fails unless got equals want field for field.
func wantProto(t *testing.T, what string, got, want proto.Message) {
	t.Helper()
	if !proto.Equal(got, want) {
		t.Errorf("%s\n got %s\nwant %s", what, protojson.Format(got), protojson.Format(want))
	}
}

// drgExample registers the institutions, persons and settlements of the
// DRG worked example of CLEARING-EXAMPLES.md, plus settlements a DRG run
// must not read: a reversed one, an outpatient one, one of another scheme.
// Returns the settlements of the five cases by request id.
func drgExample(c *clearingTS) map[string]*pb.Settlement {
	c.t.Helper()
	c.institution("H1", clearingRegion, 3, "")
	c.institution("H2", clearingRegion, 2, "")
	for _, p := range []string{"P1", "P2", "P3", "P4", "P5", "P6"} {
		c.person(p, clearingRegion, employee)
	}
	c.person("Q1", clearingRegion, resident)
	got := map[string]*pb.Settlement{}
	for _, req := range []*pb.SettleRequest{
		// case, institution, person, group, basic fund, personal (the table's figures)
		claimOf("c1", "H1", "P1", inpatient, "2026-02-01", "G1", "9000", "3000"),
		claimOf("c2", "H1", "P2", inpatient, "2026-03-15", "G1", "27000", "8000"),
		claimOf("c3", "H1", "P3", inpatient, "2026-05-20", "G2", "6000", "2000"),
		claimOf("c4", "H2", "P4", inpatient, "2026-07-01", "G3", "55000", "15000"),
		claimOf("c5", "H2", "P5", inpatient, "2026-11-30", "", "4000", "1000"),
	} {
		got[req.GetRequestId()] = c.settle(req)
	}
	// Not read: reversed; outpatient; the resident scheme's policy.
	c.reverse(c.settle(claimOf("x-reversed", "H1", "P6", inpatient, "2026-04-01", "G1", "20000", "0")))
	c.settle(claimOf("x-outpatient", "H1", "P1", outpatient, "2026-04-01", "", "500", "0"))
	c.settle(claimOf("x-resident", "H1", "Q1", inpatient, "2026-04-01", "", "700", "100"))
	return got
}

// TestClearingDRGWorkedExample clears the DRG example of
// CLEARING-EXAMPLES.md end to end: B = 95,000.00, P = 28,000, T = 830,
// V = 123,000 / 830 = 148.192771…; H1 350 × V − 13,000 = 38,867.4698…,
// H2 480 × V − 15,000 = 56,132.5301…; floors 38,867.46 + 56,132.53 leave
// one fen, which goes to H1 (remainder 0.0098 > 0.0001).
func TestClearingDRGWorkedExample(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		settled := drgExample(c)
		s := c.mustRun(drgRun("100000"))
		if s.GetRunId() == "" {
			t.Fatal("no run id")
		}
		wantProto(t, "summary", s, &pb.ClearingSummary{
			RunId: s.GetRunId(), Kind: pb.ClearingKind_CLEARING_KIND_DRG, Region: clearingRegion, Scheme: employee, Year: 2026,
			PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31", Final: false,
			Settlements: 5, Ungrouped: 1, UngroupedBasicFund: "4000.00",
			Budget: "95000.00", PersonalTotal: "28000.00", TotalPoints: "830.0000", PointValue: "148.192771", PaidTotal: "95000.00",
			Institutions: []*pb.InstitutionClearing{
				{InstitutionId: "H1", Cases: 3, Points: "350.0000", PersonalTotal: "13000.00", BasicFund: "42000.00", Payment: "38867.47", Difference: "-3132.53"},
				{InstitutionId: "H2", Cases: 1, Points: "480.0000", PersonalTotal: "15000.00", BasicFund: "55000.00", Payment: "56132.53", Difference: "1132.53"},
			},
		})

		// The statements list the grouped cases with their ratios, kinds and points.
		type wantCase struct {
			req, group, total, ratio string
			kind                     pb.CostKind
			points, personal, basic  string
		}
		for inst, cases := range map[string][]wantCase{
			"H1": {
				{"c1", "G1", "12000.00", "1.2000", pb.CostKind_COST_KIND_NORMAL, "110.0000", "3000.00", "9000.00"},
				{"c2", "G1", "35000.00", "3.5000", pb.CostKind_COST_KIND_HIGH, "160.0000", "8000.00", "27000.00"},
				{"c3", "G2", "8000.00", "0.3200", pb.CostKind_COST_KIND_LOW, "80.0000", "2000.00", "6000.00"},
			},
			"H2": {
				{"c4", "G3", "70000.00", "1.7500", pb.CostKind_COST_KIND_HIGH, "480.0000", "15000.00", "55000.00"},
			},
		} {
			// The institution itself reads its statement.
			resp, err := c.statement(institutionToken(inst), &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: inst})
			must(t, err)
			st := resp.GetStatement()
			if st.GetRunId() != s.GetRunId() || st.GetKind() != pb.ClearingKind_CLEARING_KIND_DRG || st.GetFinal() || resp.GetNextPageToken() != "" {
				t.Errorf("%s statement header %v, next %q", inst, st, resp.GetNextPageToken())
			}
			wantProto(t, inst+" statement line", st.GetInstitution(), line(t, s, inst))
			if len(st.GetCases()) != len(cases) {
				t.Fatalf("%s: %d cases, want %d", inst, len(st.GetCases()), len(cases))
			}
			byReq := map[string]*pb.StatementCase{}
			for i, sc := range st.GetCases() {
				byReq[sc.GetRequestId()] = sc
				if i > 0 && sc.GetSettlementId() <= st.GetCases()[i-1].GetSettlementId() {
					t.Errorf("%s: cases not by settlement id", inst)
				}
			}
			for _, w := range cases {
				src := settled[w.req]
				wantProto(t, inst+" case "+w.req, byReq[w.req], &pb.StatementCase{
					SettlementId: src.GetSettlementId(), RequestId: w.req, SettleDate: src.GetSettleDate(), DrgCode: w.group,
					Total: w.total, Ratio: w.ratio, CostKind: w.kind, Points: w.points, PersonalTotal: w.personal, BasicFund: w.basic,
				})
			}
			// Pages of one, two and three cases read the same list.
			for _, size := range []int32{1, 2, 3} {
				_, paged := c.allCases(clearingToken, s.GetRunId(), inst, size)
				if len(paged) != len(st.GetCases()) {
					t.Errorf("%s: pages of %d read %d cases, want %d", inst, size, len(paged), len(st.GetCases()))
					continue
				}
				for i := range paged {
					wantProto(t, "paged case", paged[i], st.GetCases()[i])
				}
			}
		}
		// A full last page has a token only when more may follow: a page
		// of exactly three cases ends H1's statement.
		resp, err := c.statement(adminToken, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "H1", PageSize: 3})
		must(t, err)
		if resp.GetNextPageToken() != "" {
			t.Errorf("a page holding every case has a next page token")
		}
		resp, err = c.statement(adminToken, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "H1", PageSize: 2})
		must(t, err)
		if len(resp.GetStatement().GetCases()) != 2 || resp.GetNextPageToken() == "" {
			t.Fatalf("first page of two: %d cases, token %q", len(resp.GetStatement().GetCases()), resp.GetNextPageToken())
		}
		// The token belongs to H1's statement of this run.
		_, err = c.statement(adminToken, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "H2", PageToken: resp.GetNextPageToken()})
		wantFields(t, err, "page_token")
		_, err = c.statement(adminToken, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "H1", PageToken: "%%%"})
		wantFields(t, err, "page_token")
		_, err = c.statement(adminToken, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "H1", PageSize: -1})
		wantFields(t, err, "page_size")
		_, err = c.statement(adminToken, &pb.GetStatementRequest{})
		wantFields(t, err, "institution_id", "run_id")
	})
}

// TestClearingDraftsAndFinals: a draft replaces the previous draft of its
// key (whose id then answers NOT_FOUND); a final run is locked: another
// final overlapping it is FAILED_PRECONDITION, later settlements change
// drafts but never the final's figures.
func TestClearingDraftsAndFinals(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		drgExample(c)
		first := c.mustRun(drgRun("100000"))
		second := c.mustRun(drgRun("100000"))
		if first.GetRunId() == second.GetRunId() {
			t.Fatal("two runs share an id")
		}
		_, err := c.statement(clearingToken, &pb.GetStatementRequest{RunId: first.GetRunId(), InstitutionId: "H1"})
		wantCode(t, err, codes.NotFound)
		_, err = c.statement(clearingToken, &pb.GetStatementRequest{RunId: second.GetRunId(), InstitutionId: "H1"})
		must(t, err)
		// A draft of another period is another key: both stay.
		q1 := drgRun("30000")
		q1.PeriodTo = "2026-03-31"
		q1Run := c.mustRun(q1)
		if q1Run.GetSettlements() != 2 || q1Run.GetPeriodTo() != "2026-03-31" {
			t.Errorf("Q1 run counted %d settlements to %s, want c1 and c2 to 2026-03-31", q1Run.GetSettlements(), q1Run.GetPeriodTo())
		}
		_, err = c.statement(clearingToken, &pb.GetStatementRequest{RunId: second.GetRunId(), InstitutionId: "H1"})
		must(t, err)

		final := drgRun("100000")
		final.Final = true
		locked := c.mustRun(final)
		if !locked.GetFinal() || locked.GetPaidTotal() != "95000.00" {
			t.Errorf("final run %v", locked)
		}
		_, err = c.run(clearingToken, final)
		wantCode(t, err, codes.FailedPrecondition)
		q1.Final = true // overlaps the final of the whole year
		_, err = c.run(clearingToken, q1)
		wantCode(t, err, codes.FailedPrecondition)

		// Later settlements land in drafts, never in the final.
		c.settle(claimOf("late", "H1", "P6", inpatient, "2026-06-01", "G1", "9000", "1000"))
		draft := c.mustRun(drgRun("100000"))
		if draft.GetSettlements() != 6 || line(t, draft, "H1").GetCases() != 4 {
			t.Errorf("draft after the final: %d settlements, H1 %d cases; want 6 and 4", draft.GetSettlements(), line(t, draft, "H1").GetCases())
		}
		_, cases := c.allCases(adminToken, locked.GetRunId(), "H1", 0)
		resp, err := c.statement(adminToken, &pb.GetStatementRequest{RunId: locked.GetRunId(), InstitutionId: "H1"})
		must(t, err)
		if len(cases) != 3 || !resp.GetStatement().GetFinal() {
			t.Errorf("the final statement changed: %d cases, final %v", len(cases), resp.GetStatement().GetFinal())
		}
		wantProto(t, "final line", resp.GetStatement().GetInstitution(), line(t, locked, "H1"))
	})
}

// TestClearingBudgetRun clears the four institutions of the budget
// example (G = 1,000,000; surplus_retention 0.5, min_utilization 0.85,
// overspend_share 0.5, overspend_tolerance 0.1):
//
//	B1 C =   900,000 (two settlements, one of a resident): 900,000 + 0.5 × 100,000 = 950,000.00
//	B2 C =   800,000 (< 85 %):                                                    800,000.00
//	B3 C = 1,050,000: 1,000,000 + 0.5 × 50,000                                 = 1,025,000.00
//	B4 C = 1,150,000: 1,000,000 + 0.5 × min(150,000, 100,000)                 = 1,050,000.00
//
// Σ G = 4,000,000.00, Σ paid = 3,825,000.00. Not read: an outpatient
// settlement (visit types of budget_clearing: inpatient), a reversed one,
// one at an institution without a 2026 budget, one in another region.
func TestClearingBudgetRun(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		for _, b := range []string{"B1", "B2", "B3", "B4"} {
			c.institution(b, clearingRegion, 2, "1000000")
		}
		must(t, grpcReplayer{c.testServer}.putInstitution(&pb.Institution{InstitutionId: "B5", Name: "B5", Region: clearingRegion, Level: 2,
			Budgets: []*pb.Budget{{Year: 2025, Amount: "500000"}}}))
		c.institution("R2-H", "R2", 2, "1000000")
		for _, p := range []string{"P1", "P2", "P3", "P4", "P5"} {
			c.person(p, clearingRegion, employee)
		}
		c.person("Q1", clearingRegion, resident)
		c.settle(claimOf("b1a", "B1", "P1", inpatient, "2026-01-10", "", "600000", "0"))
		c.settle(claimOf("b1b", "B1", "Q1", inpatient, "2026-12-31", "", "300000", "5000"))
		c.settle(claimOf("b1-out", "B1", "P1", outpatient, "2026-02-10", "", "1000", "0"))
		c.settle(claimOf("b2", "B2", "P2", inpatient, "2026-03-10", "", "800000", "0"))
		c.reverse(c.settle(claimOf("b2-rev", "B2", "P2", inpatient, "2026-03-11", "", "5000", "0")))
		c.settle(claimOf("b3", "B3", "P3", inpatient, "2026-04-10", "", "1050000", "0"))
		c.settle(claimOf("b4", "B4", "P4", inpatient, "2026-05-10", "", "1150000", "0"))
		c.settle(claimOf("b5", "B5", "P5", inpatient, "2026-05-10", "", "10000", "0"))
		c.settle(claimOf("r2", "R2-H", "P5", inpatient, "2026-05-10", "", "10000", "0"))

		s := c.mustRun(budgetRun())
		wantProto(t, "summary", s, &pb.ClearingSummary{
			RunId: s.GetRunId(), Kind: pb.ClearingKind_CLEARING_KIND_BUDGET, Region: clearingRegion, Scheme: employee, Year: 2026,
			PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31",
			Settlements: 5, Budget: "4000000.00", PaidTotal: "3825000.00",
			Institutions: []*pb.InstitutionClearing{
				{InstitutionId: "B1", Cases: 2, Budget: "1000000.00", Claimed: "900000.00", Retained: "50000.00", Shared: "0.00", Paid: "950000.00"},
				{InstitutionId: "B2", Cases: 1, Budget: "1000000.00", Claimed: "800000.00", Retained: "0.00", Shared: "0.00", Paid: "800000.00"},
				{InstitutionId: "B3", Cases: 1, Budget: "1000000.00", Claimed: "1050000.00", Retained: "0.00", Shared: "25000.00", Paid: "1025000.00"},
				{InstitutionId: "B4", Cases: 1, Budget: "1000000.00", Claimed: "1150000.00", Retained: "0.00", Shared: "50000.00", Paid: "1050000.00"},
			},
		})
		// A BUDGET statement is the line, without cases.
		resp, err := c.statement(institutionToken("B3"), &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "B3"})
		must(t, err)
		wantProto(t, "B3 statement", resp.GetStatement(), &pb.Statement{
			RunId: s.GetRunId(), Kind: pb.ClearingKind_CLEARING_KIND_BUDGET, Institution: line(t, s, "B3"),
		})
		// An institution without a line.
		_, err = c.statement(adminToken, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "B5"})
		wantCode(t, err, codes.NotFound)
		// The run key has no scheme: the resident policy has no
		// budget_clearing, so its run cannot be made.
		res := budgetRun()
		res.Scheme = resident
		_, err = c.run(clearingToken, res)
		wantCode(t, err, codes.FailedPrecondition)
	})
}

// capitationContract is the contract of the capitation example: 3,700 a
// member for inpatient care, 240 for the outpatient quota; surplus
// county, township, village 0.4, 0.4, 0.2; overspend 0.5 up to 0.1 × K.
func capitationContract(id, lead string) *pb.CapitationContract {
	return &pb.CapitationContract{
		ContractId: id, InstitutionId: lead, Region: clearingRegion, Scheme: employee, Year: 2026,
		Components: []*pb.CapitationComponent{
			{Name: "chronic care", Rate: "3700", VisitTypes: []pb.VisitType{inpatient}},
			{Name: "two-disease quota", Rate: "240", VisitTypes: []pb.VisitType{outpatient}},
		},
		Shares: []*pb.CapitationShare{
			{Party: "county", Share: "0.4"}, {Party: "township", Share: "0.4"}, {Party: "village", Share: "0.2"},
		},
		OverspendShare: "0.5", OverspendTolerance: "0.1",
	}
}

// TestClearingCapitationRun clears the capitation example of
// CLEARING-EXAMPLES.md: K = 3 × 3,940 = 11,820.00.
//   - A = 9,000.01 + 1,000.00 = 10,000.01: surplus 1,819.99, exact shares
//     727.996, 727.996, 363.998, floors leave 0.02: village (0.008), then
//     county (0.006, tied with township, the smaller name): 728.00,
//     727.99, 364.00; paid_total 11,820.00.
//   - one more member settlement of 2,999.99: A = 13,000.00, deficit
//     1,180.00, the fund covers round(0.5 × min(1,180, 1,182)) = 590.00,
//     the contract bears 590.00, no shares, paid_total 12,410.00.
func TestClearingCapitationRun(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "")
		c.institution("H2", clearingRegion, 2, "")
		for _, p := range []string{"M1", "M2", "M3", "M4", "N1"} {
			c.person(p, clearingRegion, employee)
		}
		got, err := c.putContract(clearingToken, capitationContract("K1", "H1"))
		must(t, err)
		want := capitationContract("K1", "H1")
		want.Components[0].Rate, want.Components[1].Rate = "3700.00", "240.00"
		wantProto(t, "stored contract", got, want)
		resp, err := c.enroll(clearingToken, [2]string{"K1", "M1"}, [2]string{"K1", "M2"}, [2]string{"K1", "M3"})
		must(t, err)
		if resp.GetEnrolled() != 3 || resp.GetRejected() != 0 {
			t.Fatalf("enrolment %v", resp)
		}
		must(t, func() error { _, err := c.putContract(clearingToken, capitationContract("K2", "H2")); return err }())
		_, err = c.enroll(clearingToken, [2]string{"K2", "M4"})
		must(t, err)

		c.settle(claimOf("m1", "H1", "M1", inpatient, "2026-02-01", "", "9000.01", "100"))
		c.settle(claimOf("m2", "H2", "M2", outpatient, "2026-06-01", "", "1000", "0"))
		// Not read: a visit type of no component, a reversed settlement,
		// a non-member, a member of another contract.
		c.settle(claimOf("m2-chronic", "H1", "M2", chronic, "2026-06-02", "", "500", "0"))
		c.reverse(c.settle(claimOf("m3-rev", "H1", "M3", inpatient, "2026-06-03", "", "100", "0")))
		c.settle(claimOf("n1", "H1", "N1", inpatient, "2026-06-04", "", "7000", "0"))
		c.settle(claimOf("m4", "H1", "M4", inpatient, "2026-06-05", "", "50", "0"))

		run := &pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_CAPITATION, ContractId: "K1"}
		s := c.mustRun(run)
		wantProto(t, "surplus summary", s, &pb.ClearingSummary{
			RunId: s.GetRunId(), Kind: pb.ClearingKind_CLEARING_KIND_CAPITATION, Region: clearingRegion, Scheme: employee, Year: 2026,
			PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31", ContractId: "K1",
			Settlements: 2, Budget: "11820.00", PaidTotal: "11820.00",
			Capitation: &pb.CapitationClearing{
				ContractId: "K1", Members: 3, Budget: "11820.00", Actual: "10000.01", Surplus: "1819.99",
				Shares:  []*pb.PartyAmount{{Party: "county", Amount: "728.00"}, {Party: "township", Amount: "727.99"}, {Party: "village", Amount: "364.00"}},
				Deficit: "0.00", FundCovers: "0.00", ContractBears: "0.00",
				Components: []*pb.ComponentClearing{
					{Name: "chronic care", Budget: "11100.00", Actual: "9000.01"},
					{Name: "two-disease quota", Budget: "720.00", Actual: "1000.00"},
				},
			},
		})
		// The summary is the statement.
		_, err = c.statement(adminToken, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: "H1"})
		wantCode(t, err, codes.NotFound)

		c.settle(claimOf("m3", "H2", "M3", inpatient, "2026-09-01", "", "2999.99", "0"))
		run.Year = 2026 // the contract's year may be given
		d := c.mustRun(run)
		if d.GetRunId() == s.GetRunId() {
			t.Error("the second draft kept the first's id")
		}
		wantProto(t, "deficit", d.GetCapitation(), &pb.CapitationClearing{
			ContractId: "K1", Members: 3, Budget: "11820.00", Actual: "13000.00", Surplus: "0.00",
			Deficit: "1180.00", FundCovers: "590.00", ContractBears: "590.00",
			Components: []*pb.ComponentClearing{
				{Name: "chronic care", Budget: "11100.00", Actual: "12000.00"},
				{Name: "two-disease quota", Budget: "720.00", Actual: "1000.00"},
			},
		})
		if d.GetPaidTotal() != "12410.00" || d.GetSettlements() != 3 {
			t.Errorf("deficit run paid %s over %d settlements, want 12410.00 over 3", d.GetPaidTotal(), d.GetSettlements())
		}
	})
}

// TestClearingWithoutCases: runs that read no settlement succeed with zero
// figures: point value and total points 0, paid_total 0.00.
func TestClearingWithoutCases(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "")
		s := c.mustRun(drgRun("100000"))
		wantProto(t, "empty DRG run", s, &pb.ClearingSummary{
			RunId: s.GetRunId(), Kind: pb.ClearingKind_CLEARING_KIND_DRG, Region: clearingRegion, Scheme: employee, Year: 2026,
			PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31",
			UngroupedBasicFund: "0.00", Budget: "95000.00", PersonalTotal: "0.00", TotalPoints: "0.0000", PointValue: "0.000000", PaidTotal: "0.00",
		})
		b := c.mustRun(budgetRun())
		wantProto(t, "empty BUDGET run", b, &pb.ClearingSummary{
			RunId: b.GetRunId(), Kind: pb.ClearingKind_CLEARING_KIND_BUDGET, Region: clearingRegion, Scheme: employee, Year: 2026,
			PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31", Budget: "0.00", PaidTotal: "0.00",
		})
	})
}
