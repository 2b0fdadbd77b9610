package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// The clearing tests run every scenario on both stores, through a real
// gRPC server, with the tokens of admin, clearing, H1 and H2.

const clearingRegion = "R1"

// clearingTS is a test server with a ClearingService client.
type clearingTS struct {
	*testServer
	t        *testing.T
	clearing pb.ClearingServiceClient
}

// clearingServer starts a server on a fresh store of kind with the
// clearing test policies of region R1 (employee with drg and
// budget_clearing, resident with neither).
func clearingServer(t *testing.T, kind storeKind) *clearingTS {
	t.Helper()
	return clearingServerOn(t, newStore(t, kind))
}

// clearingServerOn is clearingServer on a given store.
func clearingServerOn(t *testing.T, st store.Store) *clearingTS {
	t.Helper()
	roles := map[string]string{adminToken: "admin", clearingToken: "clearing"}
	for _, id := range []string{"H1", "H2", "H3", "B1", "B2", "B3", "B4", "B5", "X1", "R2-H", "S1", "S2"} {
		roles[institutionToken(id)] = "institution:" + id
	}
	ts := startServerOn(t, st, roles)
	c := &clearingTS{testServer: ts, t: t, clearing: pb.NewClearingServiceClient(ts.conn)}
	c.putPolicy(clearingPolicy(clearingRegion, pb.Scheme_SCHEME_EMPLOYEE, true))
	c.putPolicy(clearingPolicy(clearingRegion, pb.Scheme_SCHEME_RESIDENT, false))
	return c
}

// forEachStore runs f on a fresh clearing server of every store kind.
func forEachStore(t *testing.T, f func(t *testing.T, c *clearingTS)) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) { f(t, clearingServer(t, kind)) })
	}
}

// clearingPolicy is a 2026 policy under which Settle pays every in-scope
// yuan from the basic fund (one band at ratio 1, no deductible, no cap),
// so that a claim of A-ITEM a and C-ITEM c settles with total a + c,
// basic fund a and personal total c. withRules adds the drg and
// budget_clearing sections of CLEARING-EXAMPLES.md.
func clearingPolicy(region string, scheme pb.Scheme, withRules bool) *pb.Policy {
	p := &pb.Policy{
		Region: region, Scheme: scheme, Version: "2026.1",
		EffectiveFrom: "2026-01-01", EffectiveTo: "2026-12-31",
		UnknownItem: pb.UnknownItem_UNKNOWN_ITEM_REJECT,
		Catalog: []*pb.CatalogEntry{
			{Code: "A-ITEM", Category: pb.ItemCategory_ITEM_CATEGORY_A},
			{Code: "C-ITEM", Category: pb.ItemCategory_ITEM_CATEGORY_C},
		},
	}
	for _, vt := range []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT, pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT, pb.VisitType_VISIT_TYPE_OUTPATIENT} {
		b := &pb.Benefit{VisitType: vt, Accumulation: pb.Accumulation_ACCUMULATION_PER_VISIT}
		for level := int32(1); level <= 3; level++ {
			b.Rates = append(b.Rates, &pb.RateRow{Level: level, Schedule: &pb.Schedule{Bands: []*pb.Band{{Ratio: "1"}}}})
		}
		p.Benefits = append(p.Benefits, b)
	}
	if withRules {
		p.Drg = &pb.Drg{
			Groups: []*pb.DrgGroup{
				{Code: "G1", BasePoints: "100", AverageCost: "10000"},
				{Code: "G2", BasePoints: "250", AverageCost: "25000"},
				{Code: "G3", BasePoints: "400", AverageCost: "40000"},
			},
			Coefficients: []*pb.DrgCoefficient{
				{Level: 3, Coefficient: "1.1"},
				{InstitutionId: "H2", Coefficient: "0.95"},
			},
			HighThresholds: []*pb.DrgHighThreshold{
				{UpToPoints: "100", Ratio: "3"},
				{UpToPoints: "300", Ratio: "2"},
				{Ratio: "1.5"},
			},
			LowRatio:        "0.4",
			ReserveRatio:    "0.05",
			PointValueBasis: pb.PointValueBasis_POINT_VALUE_BASIS_FUND_PLUS_PERSONAL,
		}
		p.BudgetClearing = &pb.BudgetClearing{
			VisitTypes:         []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT},
			SurplusRetention:   "0.5",
			MinUtilization:     "0.85",
			OverspendShare:     "0.5",
			OverspendTolerance: "0.1",
		}
	}
	return p
}

func (c *clearingTS) putPolicy(p *pb.Policy) {
	c.t.Helper()
	must(c.t, grpcReplayer{c.testServer}.putPolicy(p))
}

// institution registers an institution; budget "" means none for 2026.
func (c *clearingTS) institution(id, region string, level int32, budget string) {
	c.t.Helper()
	in := &pb.Institution{InstitutionId: id, Name: id, Region: region, Level: level}
	if budget != "" {
		in.Budgets = []*pb.Budget{{Year: 2026, Amount: budget}}
	}
	must(c.t, grpcReplayer{c.testServer}.putInstitution(in))
}

// person registers a person of region and scheme.
func (c *clearingTS) person(id, region string, scheme pb.Scheme) {
	c.t.Helper()
	p := &pb.Person{PersonId: id, Name: id, Region: region, Scheme: scheme, ContributionYears: 10}
	if scheme == pb.Scheme_SCHEME_EMPLOYEE {
		p.Employment = pb.Employment_EMPLOYMENT_EMPLOYED
	}
	must(c.t, grpcReplayer{c.testServer}.putPerson(p))
}

// claimOf is a claim of in-scope a (A-ITEM) and out-of-scope o (C-ITEM,
// left out when "0").
func claimOf(reqID, inst, person string, vt pb.VisitType, date, drg, a, o string) *pb.SettleRequest {
	items := []*pb.LineItem{{Code: "A-ITEM", Name: "care", Quantity: "1", UnitPrice: a, Amount: a}}
	if o != "0" {
		items = append(items, &pb.LineItem{Code: "C-ITEM", Name: "self-pay", Quantity: "1", UnitPrice: o, Amount: o})
	}
	return &pb.SettleRequest{RequestId: reqID, InstitutionId: inst, PersonId: person, VisitType: vt, SettleDate: date, DrgCode: drg, Items: items}
}

// settle commits a claim as its institution and checks the fixture's
// promise: basic fund = a, personal total = o.
func (c *clearingTS) settle(req *pb.SettleRequest) *pb.Settlement {
	c.t.Helper()
	s, err := grpcReplayer{c.testServer}.settle(req.GetInstitutionId(), req, true)
	must(c.t, err)
	b := s.GetBreakdown()
	wantBasic := req.GetItems()[0].GetAmount()
	wantPersonal := "0"
	if len(req.GetItems()) > 1 {
		wantPersonal = req.GetItems()[1].GetAmount()
	}
	if !decEq(b.GetBasicFund(), wantBasic) || !decEq(b.GetPersonalTotal(), wantPersonal) {
		c.t.Fatalf("%s settled basic %s personal %s, want %s and %s", req.GetRequestId(), b.GetBasicFund(), b.GetPersonalTotal(), wantBasic, wantPersonal)
	}
	return s
}

func (c *clearingTS) reverse(s *pb.Settlement) {
	c.t.Helper()
	_, err := grpcReplayer{c.testServer}.reverse(s.GetInstitutionId(), &pb.ReverseSettlementRequest{
		RequestId: "rv-" + s.GetRequestId(), SettlementId: s.GetSettlementId(), Reason: "test",
	})
	must(c.t, err)
}

func decEq(a, b string) bool {
	x, err1 := decimal.NewFromString(a)
	y, err2 := decimal.NewFromString(b)
	return err1 == nil && err2 == nil && x.Equal(y)
}

// runResult is what one RunClearing stream delivered.
type runResult struct {
	progress []*pb.ClearingProgress
	summary  *pb.ClearingSummary
}

// run calls RunClearing with token and reads the stream to its end,
// checking that the summary comes last and only once.
func (c *clearingTS) run(token string, req *pb.RunClearingRequest) (runResult, error) {
	c.t.Helper()
	ctx, cancel := as(token)
	defer cancel()
	return readRun(ctx, c.clearing, req)
}

func readRun(ctx context.Context, cl pb.ClearingServiceClient, req *pb.RunClearingRequest) (runResult, error) {
	var r runResult
	stream, err := cl.RunClearing(ctx, req)
	if err != nil {
		return r, err
	}
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if r.summary == nil {
				return r, fmt.Errorf("the stream ended without a summary")
			}
			return r, nil
		}
		if err != nil {
			return r, err
		}
		if r.summary != nil {
			return r, fmt.Errorf("a message after the summary: %v", m)
		}
		switch e := m.GetEvent().(type) {
		case *pb.RunClearingResponse_Progress:
			r.progress = append(r.progress, e.Progress)
		case *pb.RunClearingResponse_Summary:
			r.summary = e.Summary
		default:
			return r, fmt.Errorf("an empty message")
		}
	}
}

// mustRun runs as clearing and fails the test on error.
func (c *clearingTS) mustRun(req *pb.RunClearingRequest) *pb.ClearingSummary {
	c.t.Helper()
	r, err := c.run(clearingToken, req)
	must(c.t, err)
	checkProgress(c.t, r)
	return r.summary
}

// checkProgress: at least one progress message, never decreasing, the
// last with processed == total (every settlement read).
func checkProgress(t *testing.T, r runResult) {
	t.Helper()
	if len(r.progress) == 0 {
		t.Fatalf("no progress before the summary")
	}
	for i, p := range r.progress {
		if p.GetProcessed() > p.GetTotal() || (i > 0 && p.GetProcessed() < r.progress[i-1].GetProcessed()) {
			t.Errorf("progress %d: %v after %v", i, p, r.progress[max(i-1, 0)])
		}
	}
	if last := r.progress[len(r.progress)-1]; last.GetProcessed() != last.GetTotal() {
		t.Errorf("last progress %v: processed != total", last)
	}
}

func drgRun(budget string) *pb.RunClearingRequest {
	return &pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_DRG, Region: clearingRegion, Scheme: pb.Scheme_SCHEME_EMPLOYEE, Year: 2026, Budget: budget}
}

func budgetRun() *pb.RunClearingRequest {
	return &pb.RunClearingRequest{Kind: pb.ClearingKind_CLEARING_KIND_BUDGET, Region: clearingRegion, Scheme: pb.Scheme_SCHEME_EMPLOYEE, Year: 2026}
}

func (c *clearingTS) statement(token string, req *pb.GetStatementRequest) (*pb.GetStatementResponse, error) {
	ctx, cancel := as(token)
	defer cancel()
	return c.clearing.GetStatement(ctx, req)
}

// allCases reads every page of a DRG statement, page by page.
func (c *clearingTS) allCases(token, runID, inst string, pageSize int32) (*pb.InstitutionClearing, []*pb.StatementCase) {
	c.t.Helper()
	var cases []*pb.StatementCase
	var line *pb.InstitutionClearing
	tok := ""
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			c.t.Fatal("statement pages never end")
		}
		resp, err := c.statement(token, &pb.GetStatementRequest{RunId: runID, InstitutionId: inst, PageSize: pageSize, PageToken: tok})
		must(c.t, err)
		line = resp.GetStatement().GetInstitution()
		cases = append(cases, resp.GetStatement().GetCases()...)
		if tok = resp.GetNextPageToken(); tok == "" {
			return line, cases
		}
	}
}

func (c *clearingTS) putContract(token string, k *pb.CapitationContract) (*pb.CapitationContract, error) {
	ctx, cancel := as(token)
	defer cancel()
	resp, err := c.clearing.PutCapitationContract(ctx, &pb.PutCapitationContractRequest{Contract: k})
	return resp.GetContract(), err
}

// enroll streams (contract, person) pairs in one EnrollMembers call.
func (c *clearingTS) enroll(token string, pairs ...[2]string) (*pb.EnrollMembersResponse, error) {
	ctx, cancel := as(token)
	defer cancel()
	stream, err := c.clearing.EnrollMembers(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pairs {
		if err := stream.Send(&pb.EnrollMembersRequest{ContractId: p[0], PersonId: p[1]}); err != nil {
			break // the server answered early; CloseAndRecv says why
		}
	}
	return stream.CloseAndRecv()
}

func (c *clearingTS) reconcile(token string, req *pb.ReconcileRequest) (*pb.ReconcileResponse, error) {
	ctx, cancel := as(token)
	defer cancel()
	return c.clearing.Reconcile(ctx, req)
}

// wantFields checks that err is INVALID_ARGUMENT with a BadRequest naming
// exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	got := fieldViolations(t, err)
	got = dedupe(got)
	sort.Strings(fields)
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Errorf("violations %v, want %v (%v)", got, fields, err)
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// line finds an institution's line in a summary.
func line(t *testing.T, s *pb.ClearingSummary, id string) *pb.InstitutionClearing {
	t.Helper()
	for _, l := range s.GetInstitutions() {
		if l.GetInstitutionId() == id {
			return l
		}
	}
	t.Fatalf("no line for %s in %v", id, s.GetInstitutions())
	return nil
}
