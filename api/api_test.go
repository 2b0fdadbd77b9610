package api

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

const clearingToken = "clearing-token-0123456789"

// demoServer starts a server with the P1 vector's policy, institutions
// QZ-H3 and QZ-H2 and employee E1 (account 500.00), with admin, clearing
// and institution tokens.
func demoServer(t *testing.T) *testServer {
	t.Helper()
	ts := startServer(t, map[string]string{
		adminToken:                "admin",
		clearingToken:             "clearing",
		institutionToken("QZ-H3"): "institution:QZ-H3",
		institutionToken("QZ-H2"): "institution:QZ-H2",
	})
	raw, err := os.ReadFile("../examples/policies/350500-employee-2026.1.json")
	if err != nil {
		t.Fatal(err)
	}
	var pol pb.Policy
	unmarshalInto(t, raw, &pol)
	r := grpcReplayer{ts}
	must(t, r.putPolicy(&pol))
	must(t, r.putInstitution(&pb.Institution{InstitutionId: "QZ-H3", Name: "H3", Region: "350500", Level: 3,
		Budgets: []*pb.Budget{{Year: 2026, Amount: "60000"}}}))
	must(t, r.putInstitution(&pb.Institution{InstitutionId: "QZ-H2", Name: "H2", Region: "350500", Level: 2}))
	for _, id := range []string{"E1", "E2", "E3"} {
		must(t, r.putPerson(&pb.Person{PersonId: id, Name: id, Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
			Employment: pb.Employment_EMPLOYMENT_EMPLOYED, ContributionYears: 8, AccountBalance: "500.00"}))
	}
	return ts
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func claim(reqID, inst, person, amount string) *pb.SettleRequest {
	return &pb.SettleRequest{
		RequestId: reqID, InstitutionId: inst, PersonId: person,
		VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, SettleDate: "2026-03-01", UsePersonalAccount: true,
		Items: []*pb.LineItem{{Code: "A-SURG", Name: "surgery", Quantity: "1", UnitPrice: amount, Amount: amount}},
	}
}

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	if got := status.Code(err); got != want {
		t.Fatalf("got %v (%v), want %v", got, err, want)
	}
}

// fieldViolations returns the sorted field paths of a BadRequest detail.
func fieldViolations(t *testing.T, err error) []string {
	t.Helper()
	wantCode(t, err, codes.InvalidArgument)
	var fields []string
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				if v.GetDescription() == "" {
					t.Errorf("violation of %s has no description", v.GetField())
				}
				fields = append(fields, v.GetField())
			}
		}
	}
	if len(fields) == 0 {
		t.Fatalf("INVALID_ARGUMENT without google.rpc.BadRequest: %v", err)
	}
	sort.Strings(fields)
	return fields
}

func accumulatorsJSON(t *testing.T, ts *testServer, person string) string {
	t.Helper()
	ctx, cancel := as(adminToken)
	defer cancel()
	resp, err := ts.settlement.GetAccumulators(ctx, &pb.GetAccumulatorsRequest{PersonId: person, Year: 2026})
	must(t, err)
	return protojson.Format(resp.GetAccumulators())
}

func TestBadRequestNamesEveryFieldAndChangesNothing(t *testing.T) {
	ts := demoServer(t)
	before := accumulatorsJSON(t, ts, "E1")
	req := &pb.SettleRequest{
		RequestId: strings.Repeat("x", 65), InstitutionId: "QZ-H3", PersonId: "E1",
		VisitType: 9, SettleDate: "2026-13-01", CrossRegion: 7,
		Items: []*pb.LineItem{
			{Code: "A-SURG", Quantity: "0", UnitPrice: "10", Amount: "0.00"},
			{Code: "", Quantity: "1", UnitPrice: "1e3", Amount: "1000"},
			{Code: "A-BED", Quantity: "2", UnitPrice: "100", Amount: "201.00"},
			{Code: "A-BED", Quantity: "1.00001", UnitPrice: "-1", Amount: "12.345"},
		},
	}
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	_, err := ts.settlement.Settle(ctx, req)
	got := fieldViolations(t, err)
	want := []string{"cross_region", "items[0].quantity", "items[1].code", "items[1].unit_price", "items[2].amount",
		"items[3].amount", "items[3].quantity", "items[3].unit_price", "request_id", "settle_date", "visit_type"}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("violations\n got %v\nwant %v", got, want)
	}
	if after := accumulatorsJSON(t, ts, "E1"); after != before {
		t.Errorf("a rejected request changed state:\n%s\n%s", before, after)
	}
	// No items at all, and an unknown DRG code.
	req = claim("r-empty", "QZ-H3", "E1", "100")
	req.Items = nil
	_, err = ts.settlement.Settle(ctx, req)
	if got := fieldViolations(t, err); strings.Join(got, ",") != "items" {
		t.Errorf("violations %v, want [items]", got)
	}
	req = claim("r-drg", "QZ-H3", "E1", "100")
	req.DrgCode = "NO-SUCH-GROUP"
	_, err = ts.settlement.Settle(ctx, req)
	if got := fieldViolations(t, err); strings.Join(got, ",") != "drg_code" {
		t.Errorf("violations %v, want [drg_code]", got)
	}
	// The DRG code is checked against the policy even when other fields
	// are malformed; money is never negative, not even "-0".
	req.Items[0].Amount = "100.001"
	req.Items = append(req.Items, &pb.LineItem{Code: "A-BED", Quantity: "1", UnitPrice: "-0", Amount: "-0.00"})
	_, err = ts.settlement.Settle(ctx, req)
	if got := fieldViolations(t, err); strings.Join(got, ",") != "drg_code,items[0].amount,items[1].amount,items[1].unit_price" {
		t.Errorf("violations %v, want [drg_code items[0].amount items[1].amount items[1].unit_price]", got)
	}
	// A missing institution id is a malformed request, whoever sends it.
	req = claim("r-noinst", "", "E1", "100")
	req.SettleDate = ""
	_, err = ts.settlement.PreSettle(ctx, req)
	if got := fieldViolations(t, err); strings.Join(got, ",") != "institution_id,settle_date" {
		t.Errorf("violations %v, want [institution_id settle_date]", got)
	}
	if after := accumulatorsJSON(t, ts, "E1"); after != before {
		t.Errorf("a rejected request changed state")
	}
}

func TestReversalRestoresAccountAndAccumulators(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	before := accumulatorsJSON(t, ts, "E2")
	resp, err := ts.settlement.Settle(ctx, claim("rv-1", "QZ-H3", "E2", "4000"))
	must(t, err)
	s := resp.GetSettlement()
	if s.GetBreakdown().GetAccount() != "500.00" || s.GetBreakdown().GetCash() != "629.00" {
		t.Fatalf("breakdown %v", s.GetBreakdown())
	}
	if accumulatorsJSON(t, ts, "E2") == before {
		t.Fatal("settle changed nothing")
	}
	rv, err := ts.settlement.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "rv-1-undo", SettlementId: s.GetSettlementId(), Reason: "wrong patient"})
	must(t, err)
	if rv.GetSettlement().GetState() != pb.SettlementState_SETTLEMENT_STATE_REVERSED || rv.GetSettlement().GetReversalReason() != "wrong patient" {
		t.Errorf("reversal %v", rv.GetSettlement())
	}
	if after := accumulatorsJSON(t, ts, "E2"); after != before {
		t.Errorf("reversal did not restore:\n%s\n%s", before, after)
	}
	// Retrying the reversal returns it; another reversal is refused; the
	// settle request id cannot be reused for a reversal.
	again, err := ts.settlement.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "rv-1-undo", SettlementId: s.GetSettlementId(), Reason: "wrong patient"})
	must(t, err)
	if again.GetSettlement().GetSettlementId() != s.GetSettlementId() {
		t.Errorf("retry returned %v", again.GetSettlement())
	}
	_, err = ts.settlement.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "rv-1-undo-2", SettlementId: s.GetSettlementId()})
	wantCode(t, err, codes.FailedPrecondition)
	_, err = ts.settlement.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "rv-1", SettlementId: s.GetSettlementId()})
	wantCode(t, err, codes.AlreadyExists)
	if after := accumulatorsJSON(t, ts, "E2"); after != before {
		t.Errorf("refused reversals changed state")
	}
	// A retry of the settle gets its first answer unchanged and settles
	// nothing again; GetSettlement shows the reversal.
	retry, err := ts.settlement.Settle(ctx, claim("rv-1", "QZ-H3", "E2", "4000"))
	must(t, err)
	if !proto.Equal(retry.GetSettlement(), s) {
		t.Errorf("retry after reversal answered\n%v\nfirst answer\n%v", retry.GetSettlement(), s)
	}
	if after := accumulatorsJSON(t, ts, "E2"); after != before {
		t.Errorf("retry after reversal changed state")
	}
	got, err := ts.settlement.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: s.GetSettlementId()})
	must(t, err)
	if got.GetSettlement().GetState() != pb.SettlementState_SETTLEMENT_STATE_REVERSED || got.GetSettlement().GetReversalReason() != "wrong patient" {
		t.Errorf("GetSettlement after reversal %v", got.GetSettlement())
	}
}

func TestPutPolicyListsEveryProblem(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(adminToken)
	defer cancel()
	bad := &pb.Policy{
		Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE, Version: "bad",
		EffectiveFrom: "2027-12-31", EffectiveTo: "2027-01-01",
		Catalog: []*pb.CatalogEntry{
			{Code: "B1", Category: pb.ItemCategory_ITEM_CATEGORY_B},
			{Code: "B1", Category: pb.ItemCategory_ITEM_CATEGORY_A, PriceCap: "-1"},
		},
		Benefits: []*pb.Benefit{{
			VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, Accumulation: pb.Accumulation_ACCUMULATION_PER_VISIT,
			Deductibles: []*pb.DeductibleRow{{Level: 4, Amounts: []string{"1.234"}}},
			Rates: []*pb.RateRow{{Level: 3, Schedule: &pb.Schedule{Bands: []*pb.Band{
				{UpTo: "5000", Ratio: "1.5"}, {UpTo: "4000", Ratio: "0.9"}, {Ratio: "0.95"}}}}},
			CapPool: "missing",
		}},
		BudgetWarnRatio: "0.12345",
	}
	_, err := ts.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: bad})
	got := fieldViolations(t, err)
	want := []string{
		"policy.benefits[0].cap_pool",
		"policy.benefits[0].deductibles[0].amounts[0]",
		"policy.benefits[0].deductibles[0].level",
		"policy.benefits[0].rates[0].schedule.bands[0].ratio",
		"policy.benefits[0].rates[0].schedule.bands[1].up_to",
		"policy.budget_warn_ratio",
		"policy.catalog[0].self_pay_ratio",
		"policy.catalog[1].code",
		"policy.catalog[1].price_cap",
		"policy.effective_to",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations\n got %v\nwant %v", got, want)
	}
	// An overlapping version is refused; a later one is accepted and is then the latest.
	raw, err := os.ReadFile("../examples/policies/350500-employee-2026.1.json")
	must(t, err)
	var next pb.Policy
	unmarshalInto(t, raw, &next)
	next.Version, next.EffectiveFrom, next.EffectiveTo = "2026.2", "2026-06-01", "2027-12-31"
	_, err = ts.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: &next})
	if got := fieldViolations(t, err); strings.Join(got, ",") != "policy.effective_from" {
		t.Errorf("overlap violations %v", got)
	}
	// The overlap is listed with the other problems; a date that does not
	// parse is reported once.
	warn := next.BudgetWarnRatio
	next.BudgetWarnRatio = "1.5"
	_, err = ts.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: &next})
	if got := fieldViolations(t, err); strings.Join(got, ",") != "policy.budget_warn_ratio,policy.effective_from" {
		t.Errorf("overlap with a bad ratio: violations %v", got)
	}
	next.EffectiveTo = "2027-02-30"
	_, err = ts.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: &next})
	if got := fieldViolations(t, err); strings.Join(got, ",") != "policy.budget_warn_ratio,policy.effective_to" {
		t.Errorf("bad end date: violations %v", got)
	}
	next.BudgetWarnRatio, next.EffectiveTo = warn, "2027-12-31"
	next.EffectiveFrom = "2027-01-01"
	_, err = ts.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: &next})
	must(t, err)
	latest, err := ts.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE})
	must(t, err)
	if latest.GetPolicy().GetVersion() != "2026.2" {
		t.Errorf("latest is %q", latest.GetPolicy().GetVersion())
	}
	old, err := ts.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE, Version: "2026.1"})
	must(t, err)
	if old.GetPolicy().GetBenefits()[0].GetDeductibles()[0].GetAmounts()[0] != "700.00" || len(old.GetPolicy().GetCatalog()) != 6 {
		t.Errorf("round trip lost data: %v", old.GetPolicy())
	}
	list, err := ts.policy.ListPolicies(ctx, &pb.ListPoliciesRequest{})
	must(t, err)
	if len(list.GetPolicies()) != 2 {
		t.Errorf("%d policies listed", len(list.GetPolicies()))
	}
	_, err = ts.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE, Version: "1999"})
	wantCode(t, err, codes.NotFound)
	// A claim of 2027 now settles under the new version.
	h3, cancel2 := as(institutionToken("QZ-H3"))
	defer cancel2()
	req := claim("y2027", "QZ-H3", "E1", "1000")
	req.SettleDate = "2027-02-01"
	resp, err := ts.settlement.PreSettle(h3, req)
	must(t, err)
	if resp.GetSettlement().GetPolicyVersion() != "2026.2" {
		t.Errorf("policy version %q", resp.GetSettlement().GetPolicyVersion())
	}
}

func TestImportPersons(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(adminToken)
	defer cancel()
	stream, err := ts.registry.ImportPersons(ctx)
	must(t, err)
	persons := []*pb.Person{
		{PersonId: "I1", Name: "one", Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE, AccountBalance: "10.00"},
		{PersonId: "", Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE},
		{PersonId: "I3", Name: "three", Region: "350500", Scheme: pb.Scheme_SCHEME_RESIDENT, AccountBalance: "1.001"},
		{PersonId: "I4", Name: "four", Region: "610300", Scheme: pb.Scheme_SCHEME_RESIDENT, Category: pb.PersonCategory_PERSON_CATEGORY_DESTITUTE},
	}
	for _, p := range persons {
		must(t, stream.Send(&pb.ImportPersonsRequest{Person: p}))
	}
	resp, err := stream.CloseAndRecv()
	must(t, err)
	if resp.GetImported() != 2 || resp.GetRejected() != 2 || len(resp.GetRejections()) != 2 || resp.GetRejections()[0].GetIndex() != 1 ||
		resp.GetRejections()[1].GetIndex() != 2 || !strings.Contains(resp.GetRejections()[1].GetReason(), "account_balance") {
		t.Errorf("import report %v", resp)
	}
	got, err := ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "I4"})
	must(t, err)
	if got.GetPerson().GetCategory() != pb.PersonCategory_PERSON_CATEGORY_DESTITUTE || got.GetPerson().GetAccountBalance() != "0.00" {
		t.Errorf("person %v", got.GetPerson())
	}
	_, err = ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "I3"})
	wantCode(t, err, codes.NotFound)

	// rejected counts every bad message; rejections lists the first 1,000.
	stream, err = ts.registry.ImportPersons(ctx)
	must(t, err)
	for i := range MaxImportRejections + 200 {
		must(t, stream.Send(&pb.ImportPersonsRequest{Person: &pb.Person{PersonId: fmt.Sprintf("BAD%d", i), Region: "350500"}}))
	}
	must(t, stream.Send(&pb.ImportPersonsRequest{Person: persons[0]}))
	resp, err = stream.CloseAndRecv()
	must(t, err)
	if resp.GetImported() != 1 || resp.GetRejected() != MaxImportRejections+200 || len(resp.GetRejections()) != MaxImportRejections ||
		resp.GetRejections()[MaxImportRejections-1].GetIndex() != MaxImportRejections-1 {
		t.Errorf("import with many bad rows: imported %d, rejected %d, %d listed", resp.GetImported(), resp.GetRejected(), len(resp.GetRejections()))
	}
}

// TestImportPersonsIsAtomic: a call that fails stores nothing, neither
// when the client goes away mid-stream nor when it sends too many persons.
func TestImportPersonsIsAtomic(t *testing.T) {
	ts := demoServer(t)
	// A minute, not as's ten seconds: the test streams some 6,000 persons,
	// which takes 4–8 s under -race on a loaded two-core machine.
	long, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := metadata.AppendToOutgoingContext(long, "authorization", "Bearer "+adminToken)
	person := func(i int) *pb.Person {
		return &pb.Person{PersonId: fmt.Sprintf("AT%06d", i), Region: "350500", Scheme: pb.Scheme_SCHEME_RESIDENT}
	}
	absent := func(what string, ids ...int) {
		t.Helper()
		for _, i := range ids {
			_, err := ts.registry.GetPerson(admin, &pb.GetPersonRequest{PersonId: person(i).GetPersonId()})
			if status.Code(err) != codes.NotFound {
				t.Fatalf("%s: person %d was stored (%v)", what, i, err)
			}
		}
	}

	// The client sends 1,200 persons and goes away without closing.
	ctx, stop := context.WithCancel(admin)
	stream, err := ts.registry.ImportPersons(ctx)
	must(t, err)
	for i := range 1200 {
		must(t, stream.Send(&pb.ImportPersonsRequest{Person: person(i)}))
	}
	time.Sleep(300 * time.Millisecond) // the server reads what was sent
	stop()
	time.Sleep(100 * time.Millisecond) // and sees the stream end
	absent("a cancelled import", 0, 499, 500, 1199)

	// One person more than a call takes.
	stream, err = ts.registry.ImportPersons(admin)
	must(t, err)
	for i := range MaxImportPersons + 1 {
		if err := stream.Send(&pb.ImportPersonsRequest{Person: person(i)}); err != nil {
			break // the server ended the call; CloseAndRecv says why
		}
	}
	_, err = stream.CloseAndRecv()
	if got := fieldViolations(t, err); strings.Join(got, ",") != "person" || !strings.Contains(err.Error(), "nothing was stored") {
		t.Errorf("an oversized import: %v", err)
	}
	absent("an oversized import", 0, MaxImportPersons-1)
}

// TestConcurrentSettlementsThroughAPI settles from many goroutines for a
// few persons, with retries, and checks each person's accumulators equal
// the sum of their settlements' contributions.
func TestConcurrentSettlementsThroughAPI(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	persons := []string{"E1", "E2", "E3"}
	var mu sync.Mutex
	results := map[string]*pb.Settlement{} // request id → settlement
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 12; i++ {
				// Two goroutines send each request id: a retry racing the original.
				reqID := fmt.Sprintf("c-%d-%d", g/2, i)
				person := persons[(g/2+i)%len(persons)]
				amount := fmt.Sprintf("%d.%02d", 1000+(g/2)*37+i*11, i)
				resp, err := ts.settlement.Settle(ctx, claim(reqID, "QZ-H3", person, amount))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				if prev, ok := results[reqID]; ok && prev.GetSettlementId() != resp.GetSettlement().GetSettlementId() {
					errs <- fmt.Errorf("request %s settled twice: %s and %s", reqID, prev.GetSettlementId(), resp.GetSettlement().GetSettlementId())
				}
				results[reqID] = resp.GetSettlement()
				mu.Unlock()
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	budget := decimal.Zero
	for _, person := range persons {
		basic, deductible, inScope, account, count := decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero, 0
		for _, s := range results {
			if s.GetPersonId() != person {
				continue
			}
			b := s.GetBreakdown()
			basic = basic.Add(decimal.RequireFromString(b.GetBasicFund()))
			deductible = deductible.Add(decimal.RequireFromString(b.GetDeductible()))
			inScope = inScope.Add(decimal.RequireFromString(b.GetInScope()))
			account = account.Add(decimal.RequireFromString(b.GetAccount()))
			count++
		}
		budget = budget.Add(basic)
		resp, err := ts.settlement.GetAccumulators(ctx, &pb.GetAccumulatorsRequest{PersonId: person, Year: 2026})
		must(t, err)
		a := resp.GetAccumulators()
		if int(a.GetInpatientCount()) != count || a.GetPoolUsed()["basic"] != basic.StringFixed(2) ||
			a.GetVisitTypes()[0].GetInScope() != inScope.StringFixed(2) || a.GetVisitTypes()[0].GetDeductiblePaid() != deductible.StringFixed(2) ||
			a.GetAccountBalance() != decimal.RequireFromString("500").Sub(account).StringFixed(2) {
			t.Errorf("%s: accumulators %v; settlements sum to count %d basic %s in_scope %s deductible %s account %s",
				person, a, count, basic, inScope, deductible, account)
		}
	}
	// The deductible sequence was consumed once per admission: 700, 500, then 0.
	for _, person := range persons {
		var ds []string
		for _, s := range results {
			if s.GetPersonId() == person {
				ds = append(ds, s.GetBreakdown().GetDeductible())
			}
		}
		sort.Strings(ds)
		if len(ds) < 3 || ds[len(ds)-1] != "700.00" || ds[len(ds)-2] != "500.00" || ds[len(ds)-3] != "0.00" {
			t.Errorf("%s deductibles %v", person, ds)
		}
	}
}

func TestTooManyItems(t *testing.T) {
	ts := demoServer(t)
	ctx, cancel := as(institutionToken("QZ-H3"))
	defer cancel()
	req := claim("many", "QZ-H3", "E1", "1")
	for len(req.Items) <= 2000 {
		req.Items = append(req.Items, req.Items[0])
	}
	_, err := ts.settlement.Settle(ctx, req)
	if got := fieldViolations(t, err); strings.Join(got, ",") != "items" {
		t.Errorf("violations %v, want [items]", got)
	}
}
