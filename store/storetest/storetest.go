// Package storetest is the conformance suite of the store contract: every
// store.Store implementation (memstore, pgstore, ...) runs it from its own
// tests with
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return newStore(t) })
//	}
//
// It checks the promises of "State and its guarantees" in SETTLEMENT.md and
// the error contract documented on each method of store.Store. Run it with
// -race: part of the suite settles and reverses from many goroutines.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// Run runs the conformance suite. Every subtest gets a fresh, empty store
// from newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newStore func(t *testing.T) store.Store)
	}{
		{"Registry", testRegistry},
		{"PutPersons", testPutPersons},
		{"Policies", testPolicies},
		{"Snapshot", testSnapshot},
		{"SettleCommitsAtomically", testSettleCommits},
		{"SettleIdempotent", testSettleIdempotent},
		{"SettleComputeErrorChangesNothing", testSettleComputeError},
		{"SettleUnknownPerson", testSettleUnknownPerson},
		{"Reverse", testReverse},
		{"ReverseBalanceAfter", testReverseBalanceAfter},
		{"ReverseAuthorization", testReverseAuthorization},
		{"ReverseRequestIDs", testReverseRequestIDs},
		{"BudgetStatus", testBudgetStatus},
		{"ReturnedValuesAreCopies", testReturnedValuesAreCopies},
		{"PersonsDoNotWaitForEachOther", testPersonsDoNotWait},
		{"Concurrent", testConcurrent},
		{"ConcurrentEqualsSequential", testConcurrentEqualsSequential}, {"FailuresStayAlone", testFailuresStayAlone},
		{"ClearingSelectsDRG", testClearingSelectsDRG},
		{"ClearingSelectsBudget", testClearingSelectsBudget},
		{"ClearingSelectsCapitation", testClearingSelectsCapitation},
		{"ClearingStoresRun", testClearingStoresRun},
		{"ClearingDraftsAndFinals", testClearingDraftsAndFinals},
		{"ClearingConcurrentFinals", testClearingConcurrentFinals},
		{"ClearingFailureStoresNothing", testClearingFailure},
		{"ClearingSnapshot", testClearingSnapshot},
		{"CapitationContracts", testContracts},
		{"EnrollMembers", testEnrollMembers},
		{"Reconcile", testReconcile},
		{"ClearingWithEngineClearers", testClearingWithEngineClearers},
		{"Filings", testFilings},
		{"SettleRecordsDecidedCrossRegion", testSettleRecordsDecidedCrossRegion},
		{"OpeningBalances", testOpeningBalances}, {"AdjustAccount", testAdjustAccount}, {"AdjustAccountConcurrent", testAdjustAccountConcurrent},
		{"Audit", testAudit}, {"AuditLimit", testAuditLimit},
		{"Identities", testIdentities}, {"IdentitiesRefused", testIdentitiesRefused}, {"IdentitiesDecideSettlement", testIdentitiesDecideSettlement},
		{"EachPerson", testEachPerson}, {"EachPersonStops", testEachPersonStops}, {"EachPersonSnapshot", testEachPersonSnapshot},
		{"OpenVisit", testOpenVisit}, {"CancelVisit", testCancelVisit}, {"RecordDischarge", testRecordDischarge},
		{"FeeDetails", testFeeDetails}, {"CancelFeeDetails", testCancelFeeDetails}, {"FeeDetailFigures", testFeeDetailFigures},
		{"VisitSettlement", testVisitSettlement}, {"VisitDetailLimits", testVisitDetailLimits}, {"VisitsConcurrent", testVisitsConcurrent}, {"VisitKeysNotStorable", testVisitKeysNotStorable},
		{"SettleVisit", testSettleVisit}, {"SettleVisitConcurrent", testSettleVisitConcurrent}, {"SettleVisitRaces", testSettleVisitRaces},
		{"DetailsVersion", testDetailsVersion}, {"FeeDetailsAtOnce", testFeeDetailsAtOnce}, {"VisitDetails", testVisitDetails},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}

// testPutPersons stores a batch with a repeated id (the later entry wins)
// and replaces persons stored before.
func testPutPersons(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	if err := st.PutPersons(ctx, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if err := st.PutPerson(ctx, engine.Person{ID: "B0", Name: "old", Region: region, Scheme: engine.SchemeResident, AccountBalance: dec("1")}); err != nil {
		t.Fatal(err)
	}
	var batch []engine.Person
	for i := range 250 {
		batch = append(batch, engine.Person{ID: fmt.Sprintf("B%d", i), Name: fmt.Sprintf("n%d", i), Region: region,
			Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed, ContributionYears: i % 40,
			AccountBalance: dec(fmt.Sprintf("%d.%02d", i, i%100))})
	}
	batch = append(batch, engine.Person{ID: "B7", Name: "last wins", Region: region, Scheme: engine.SchemeResident,
		Category: engine.CategoryDestitute, AccountBalance: dec("7.70")})
	if err := st.PutPersons(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// The entries apply in order: the last entry of B7 wins but for the
	// balance, B7's opening balance from its first entry; B0 was
	// registered before and keeps its live balance.
	for i, want := range batch[:250] {
		switch i {
		case 0:
			want.AccountBalance = dec("1")
		case 7:
			want = batch[250]
			want.AccountBalance = batch[7].AccountBalance
		}
		got, err := st.GetPerson(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetPerson %s: %v", want.ID, err)
		}
		if d := diff(got, want); len(d) > 0 {
			t.Errorf("person %s: %v", want.ID, d)
		}
	}
}

// ---------------------------------------------------------------------------
// Fixtures

const (
	region = "R1"

	hospBudget   = "H1" // level 3, budget 10,000 in 2024 and 200,000 in 2025
	hospNoBudget = "H2" // level 3, no budget

	psnEmployed = "P1" // employee, EMPLOYED, account 3000.00
	psnRetired  = "P2" // employee, RETIRED, account 800.00
	psnPoor     = "P3" // employee, MINIMUM_LIVING (medical aid), account 150.00
)

var (
	jan1st2024 = engine.Date{Year: 2024, Month: time.January, Day: 1}
	dec31st24  = engine.Date{Year: 2024, Month: time.December, Day: 31}
	jan1st2025 = engine.Date{Year: 2025, Month: time.January, Day: 1}
	dec31st25  = engine.Date{Year: 2025, Month: time.December, Day: 31}
	day2024    = engine.Date{Year: 2024, Month: time.March, Day: 15}
	day2025    = engine.Date{Year: 2025, Month: time.June, Day: 2}
)

// dec is an amount of money written as a literal ("700", "12.50").
func dec(s string) engine.Money { return engine.MustMoney(s) }

// decp is a pointer to an amount of money.
func decp(s string) *engine.Money {
	d := dec(s)
	return &d
}

// ratio is a ratio written as a literal ("0.9").
func ratio(s string) engine.Ratio { return engine.MustRatio(s) }

func band(upTo, r string) engine.Band {
	b := engine.Band{Ratio: ratio(r)}
	if upTo != "" {
		b.UpTo = decp(upTo)
	}
	return b
}

// employeePolicy is the employee policy of region R1 in force from..to:
//   - inpatient: PER_VISIT, deductible 700/500/0 at level 3, rates 0.87 to
//     5000, 0.90 to 10000, 0.95 above, cap pool "basic";
//   - chronic outpatient: ANNUAL, deductible 500, rate 0.80, pool "basic";
//   - outpatient: no benefit;
//   - cap pool "basic": 20000;
//   - catastrophic (inpatient, chronic): 0 to 5000, 0.60 to 30000, 0.70
//     above, cap 300000;
//   - medical aid for MINIMUM_LIVING: 0 to 1000, 0.70 above, cap 30000,
//     out-of-pocket ceiling 20000.
func employeePolicy(version string, from, to engine.Date) *engine.Policy {
	return &engine.Policy{
		Region:        region,
		Scheme:        engine.SchemeEmployee,
		Version:       version,
		EffectiveFrom: from,
		EffectiveTo:   to,
		UnknownItem:   engine.UnknownItemSelfPay,
		Catalog: []engine.CatalogEntry{
			{Code: "DRUG-A", Category: engine.ItemA},
			{Code: "DRUG-B", Category: engine.ItemB, SelfPayRatio: ratio("0.1")},
			{Code: "MAT-CAP", Category: engine.ItemA, PriceCap: ptr(engine.MustPrice("50"))},
			{Code: "SVC-C", Category: engine.ItemC},
		},
		Benefits: []engine.Benefit{
			{
				VisitType:    engine.VisitInpatient,
				Accumulation: engine.AccumulationPerVisit,
				Deductibles:  []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{dec("700"), dec("500"), dec("0")}}},
				Rates: []engine.RateRow{{Level: 3, Schedule: engine.Schedule{Bands: []engine.Band{
					band("5000", "0.87"), band("10000", "0.90"), band("", "0.95"),
				}}}},
				CapPool: "basic",
			},
			{
				VisitType:    engine.VisitChronicOutpatient,
				Accumulation: engine.AccumulationAnnual,
				Deductibles:  []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{dec("500")}}},
				Rates:        []engine.RateRow{{Level: 3, Schedule: engine.Schedule{Bands: []engine.Band{band("", "0.80")}}}},
				CapPool:      "basic",
			},
		},
		CapPools: []engine.CapPool{{Name: "basic", Rows: []engine.CapPoolRow{{MinYears: 0, Amount: dec("20000")}}}},
		Catastrophic: &engine.Catastrophic{
			VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient},
			Normal: engine.Schedule{
				Bands:     []engine.Band{band("5000", "0"), band("30000", "0.60"), band("", "0.70")},
				AnnualCap: decp("300000"),
			},
		},
		MedicalAid: []engine.AidRule{{
			Category:   engine.CategoryMinimumLiving,
			Schedule:   engine.Schedule{Bands: []engine.Band{band("1000", "0"), band("", "0.70")}, AnnualCap: decp("30000")},
			OOPCeiling: decp("20000"),
		}},
	}
}

// residentPolicy is a minimal resident policy of a region.
func residentPolicy(reg, version string, from, to engine.Date) *engine.Policy {
	return &engine.Policy{
		Region:        reg,
		Scheme:        engine.SchemeResident,
		Version:       version,
		EffectiveFrom: from,
		EffectiveTo:   to,
		Catalog:       []engine.CatalogEntry{{Code: "DRUG-A", Category: engine.ItemA}},
		Benefits: []engine.Benefit{{
			VisitType:    engine.VisitInpatient,
			Accumulation: engine.AccumulationPerVisit,
			Deductibles:  []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{dec("1000")}}},
			Rates:        []engine.RateRow{{Level: 3, Schedule: engine.Schedule{Bands: []engine.Band{band("", "0.60")}}}},
		}},
	}
}

// validPolicy fails the test when a fixture policy is not valid, so that
// the suite never tests a store with nonsense, and indexes it.
func validPolicy(t *testing.T, p *engine.Policy) *engine.Policy {
	t.Helper()
	if err := engine.ValidatePolicy(p); err != nil {
		t.Fatalf("fixture policy %s %s is invalid: %v", p.Region, p.Version, err)
	}
	return p.Index()
}

func persons() []engine.Person {
	return []engine.Person{
		{ID: psnEmployed, Name: "Zhang San", Region: region, Scheme: engine.SchemeEmployee,
			Employment: engine.EmploymentEmployed, Category: engine.CategoryOrdinary, ContributionYears: 12, AccountBalance: dec("3000.00")},
		{ID: psnRetired, Name: "Li Si", Region: region, Scheme: engine.SchemeEmployee,
			Employment: engine.EmploymentRetired, ContributionYears: 30, AccountBalance: dec("800.00")},
		{ID: psnPoor, Name: "Wang Wu", Region: region, Scheme: engine.SchemeEmployee,
			Employment: engine.EmploymentEmployed, Category: engine.CategoryMinimumLiving, ContributionYears: 3, AccountBalance: dec("150.00")},
	}
}

func institutions() []engine.Institution {
	return []engine.Institution{
		{ID: hospBudget, Name: "First People's Hospital", Region: region, Level: 3, Budgets: []engine.Budget{
			{Year: 2024, Amount: dec("10000.00")}, {Year: 2025, Amount: dec("200000.00")},
		}},
		{ID: hospNoBudget, Name: "Second People's Hospital", Region: region, Level: 3},
	}
}

// ptr is a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// item is a line item with amount = round(quantity × unit price).
func item(code, quantity, unitPrice string) engine.LineItem {
	q, p := engine.MustQuantity(quantity), engine.MustPrice(unitPrice)
	amount, ok := p.MulQuantity(q)
	if !ok {
		panic("item " + code + ": amount out of range")
	}
	return engine.LineItem{Code: code, Name: "item " + code, Quantity: q, UnitPrice: p, Amount: amount}
}

// inpatient is an inpatient claim of in-scope cost inScope (category A)
// plus 100.00 out of scope, paid from the account when the balance allows.
func inpatient(requestID, inst, person string, day engine.Date, inScope string) engine.Claim {
	return engine.Claim{
		RequestID:          requestID,
		InstitutionID:      inst,
		PersonID:           person,
		VisitType:          engine.VisitInpatient,
		SettleDate:         day,
		UsePersonalAccount: true,
		Items:              []engine.LineItem{item("DRUG-A", "1", inScope), item("SVC-C", "2", "50")},
	}
}

// env is a store loaded with the fixtures, and a compute function that
// counts its calls.
type env struct {
	t        *testing.T
	ctx      context.Context
	st       store.Store
	policies []*engine.Policy
	insts    map[string]engine.Institution
	start    map[string]engine.Person
	calls    atomic.Int64
}

func newEnv(t *testing.T, newStore func(t *testing.T) store.Store) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), st: newStore(t), insts: map[string]engine.Institution{}, start: map[string]engine.Person{}}
	for _, p := range []*engine.Policy{
		employeePolicy("2024", jan1st2024, dec31st24),
		employeePolicy("2025", jan1st2025, dec31st25),
	} {
		if err := e.st.PutPolicy(e.ctx, validPolicy(t, p)); err != nil {
			t.Fatalf("PutPolicy %s: %v", p.Version, err)
		}
	}
	for _, p := range persons() {
		if err := e.st.PutPerson(e.ctx, p); err != nil {
			t.Fatalf("PutPerson %s: %v", p.ID, err)
		}
		e.start[p.ID] = p
	}
	for _, in := range institutions() {
		if err := e.st.PutInstitution(e.ctx, in); err != nil {
			t.Fatalf("PutInstitution %s: %v", in.ID, err)
		}
		e.insts[in.ID] = in
	}
	pols, err := e.st.Policies(e.ctx, "", engine.SchemeUnspecified)
	if err != nil {
		t.Fatalf("Policies: %v", err)
	}
	e.policies = pols
	return e
}

// compute returns the ComputeFunc of a claim: engine.Settle on the state
// the store passes. It is pure and safe to call from any goroutine.
func (e *env) compute(c engine.Claim) store.ComputeFunc {
	inst := e.insts[c.InstitutionID]
	policies := e.policies
	return func(py store.PersonYear) (engine.Result, error) {
		e.calls.Add(1)
		p, err := engine.SelectPolicy(policies, py.Person.Region, py.Person.Scheme, c.SettleDate)
		if err != nil {
			return engine.Result{}, err
		}
		return engine.Settle(engine.Input{
			Policy: p, Person: py.Person, Institution: inst, Claim: c,
			Accumulators: py.Accumulators, BudgetUsed: py.BudgetUsed, Filings: py.Filings,
		})
	}
}

func (e *env) settle(c engine.Claim) (engine.Settlement, error) {
	return e.st.Settle(e.ctx, c, e.compute(c))
}

func (e *env) mustSettle(c engine.Claim) engine.Settlement {
	e.t.Helper()
	st, err := e.settle(c)
	if err != nil {
		e.t.Fatalf("Settle %s/%s: %v", c.InstitutionID, c.RequestID, err)
	}
	return st
}

func (e *env) snap(person, inst string, year int) store.PersonYear {
	e.t.Helper()
	py, err := e.st.Snapshot(e.ctx, person, inst, year)
	if err != nil {
		e.t.Fatalf("Snapshot %s %s %d: %v", person, inst, year, err)
	}
	return py
}

func (e *env) get(id string) engine.Settlement {
	e.t.Helper()
	st, err := e.st.GetSettlement(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetSettlement %s: %v", id, err)
	}
	return st
}

// world is every piece of state the fixtures can touch: all person-years
// of the fixture persons, read at each fixture institution (so that the
// budget usage is in it too).
type world map[worldKey]store.PersonYear

type worldKey struct {
	person, inst string
	year         int
}

func (k worldKey) String() string { return fmt.Sprintf("%s at %s in %d", k.person, k.inst, k.year) }

func (e *env) world() world {
	e.t.Helper()
	w := world{}
	for _, p := range persons() {
		for _, y := range []int{2024, 2025} {
			for _, in := range institutions() {
				w[worldKey{p.ID, in.ID, y}] = e.snap(p.ID, in.ID, y)
			}
		}
	}
	return w
}

// unchanged fails when the state differs from before.
func (e *env) unchanged(what string, before world) {
	e.t.Helper()
	after := e.world()
	for k, b := range before {
		if d := diff(b, after[k]); len(d) > 0 {
			e.t.Errorf("%s changed the state of %s: %v", what, k, d)
		}
	}
}

// ---------------------------------------------------------------------------
// Comparison by value

var accumulatorsType = reflect.TypeOf(engine.Accumulators{})

// diff compares two values of the same type field by field and lists the
// differences: engine figures (Money, Ratio, … : structs without an
// exported field) whole, accumulators with Accumulators.Equal, nil and
// empty slices and maps alike, absent map entries as zero values.
// Unexported fields of other structs (caches) are ignored.
func diff(a, b any) []string {
	var out []string
	diffValue("", reflect.ValueOf(a), reflect.ValueOf(b), &out)
	return out
}

// isFigure reports whether t is a comparable struct with no exported
// field: an engine figure (Money, Ratio, Quantity, Price, Points,
// PointValue), compared whole; skipping its unexported field would make
// every figure equal.
func isFigure(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t.NumField() == 0 || !t.Comparable() {
		return false
	}
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			return false
		}
	}
	return true
}

func diffValue(path string, a, b reflect.Value, out *[]string) {
	if len(*out) >= 10 {
		return
	}
	add := func(format string, args ...any) {
		*out = append(*out, fmt.Sprintf("%s: ", pathOr(path))+fmt.Sprintf(format, args...))
	}
	if isFigure(a.Type()) {
		if a.Interface() != b.Interface() {
			add("%v != %v", a.Interface(), b.Interface())
		}
		return
	}
	switch a.Type() {
	case accumulatorsType:
		x, y := a.Interface().(engine.Accumulators), b.Interface().(engine.Accumulators)
		if !x.Equal(y) {
			add("accumulators %s != %s", fmtAcc(x), fmtAcc(y))
		}
		return
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				add("nil-ness differs: %v vs %v", fmtPtr(a), fmtPtr(b))
			}
			return
		}
		diffValue(path, a.Elem(), b.Elem(), out)
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			f := a.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			diffValue(path+"."+f.Name, a.Field(i), b.Field(i), out)
		}
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			add("length %d != %d", a.Len(), b.Len())
			return
		}
		for i := 0; i < a.Len(); i++ {
			diffValue(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), out)
		}
	case reflect.Map:
		keys := map[any]reflect.Value{}
		for _, k := range a.MapKeys() {
			keys[k.Interface()] = k
		}
		for _, k := range b.MapKeys() {
			keys[k.Interface()] = k
		}
		zero := reflect.Zero(a.Type().Elem())
		for _, k := range keys {
			x, y := a.MapIndex(k), b.MapIndex(k)
			if !x.IsValid() {
				x = zero
			}
			if !y.IsValid() {
				y = zero
			}
			diffValue(fmt.Sprintf("%s[%v]", path, k.Interface()), x, y, out)
		}
	case reflect.Interface:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			add("%v != %v", a.Interface(), b.Interface())
		}
	default:
		if a.Interface() != b.Interface() {
			add("%v != %v", a.Interface(), b.Interface())
		}
	}
}

func pathOr(p string) string {
	if p == "" {
		return "value"
	}
	return p[1:]
}

func fmtPtr(v reflect.Value) string {
	if v.IsNil() {
		return "nil"
	}
	return fmt.Sprintf("%+v", v.Elem().Interface())
}

func fmtAcc(a engine.Accumulators) string {
	s := fmt.Sprintf("{%s %d inpatient=%d", a.PersonID, a.Year, a.InpatientCount)
	for _, v := range engine.VisitTypes {
		va := a.Visit(v)
		s += fmt.Sprintf(" %d:(%s,%s)", v, va.InScope, va.DeductiblePaid)
	}
	for _, n := range a.PoolNames() {
		s += fmt.Sprintf(" pool %s=%s", n, a.Pool(n))
	}
	return s + fmt.Sprintf(" cat=(%s,%s) aid=(%s,%s,%s)}", a.CatastrophicBase, a.CatastrophicPaid, a.AidBase, a.AidPaid, a.AidOutOfPocket)
}

// sameSettlement compares two settlements field by field, by value.
func sameSettlement(t *testing.T, what string, got, want engine.Settlement) {
	t.Helper()
	if d := diff(got, want); len(d) > 0 {
		t.Errorf("%s: settlement %s differs: %v", what, want.ID, d)
	}
}

// sameFigures compares what a retry must return unchanged: the id, the
// claim and the result; the state (and reversal) may have moved on.
func sameFigures(t *testing.T, what string, got, want engine.Settlement) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s: settlement id %q, want %q", what, got.ID, want.ID)
	}
	if d := diff(got.Result, want.Result); len(d) > 0 {
		t.Errorf("%s: result differs: %v", what, d)
	}
	if d := diff(got.Claim, want.Claim); len(d) > 0 {
		t.Errorf("%s: claim differs: %v", what, d)
	}
}

// cloneSettlement is a deep copy.
func cloneSettlement(s engine.Settlement) engine.Settlement {
	out := s
	out.Claim.Items = append([]engine.LineItem(nil), s.Claim.Items...)
	out.Result.Details = append([]engine.Detail(nil), s.Result.Details...)
	out.Result.Delta = s.Result.Delta.Clone()
	if s.Result.Budget != nil {
		b := *s.Result.Budget
		out.Result.Budget = &b
	}
	if s.Result.BudgetLimit != nil {
		l := *s.Result.BudgetLimit
		out.Result.BudgetLimit = &l
	}
	return out
}

// ---------------------------------------------------------------------------
// Registry and policies

func testRegistry(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)

	if _, err := st.GetPerson(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetPerson of an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := st.GetInstitution(ctx, "nowhere"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetInstitution of an unknown id: %v, want ErrNotFound", err)
	}
	if _, err := st.GetSettlement(ctx, "ST-none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSettlement of an unknown id: %v, want ErrNotFound", err)
	}

	for _, p := range persons() {
		if err := st.PutPerson(ctx, p); err != nil {
			t.Fatalf("PutPerson %s: %v", p.ID, err)
		}
	}
	for _, p := range persons() {
		got, err := st.GetPerson(ctx, p.ID)
		if err != nil {
			t.Fatalf("GetPerson %s: %v", p.ID, err)
		}
		if d := diff(got, p); len(d) > 0 {
			t.Errorf("GetPerson %s after PutPerson: %v", p.ID, d)
		}
	}
	// Replace: every field but the balance is the new one; the balance is
	// an opening balance, which a person already registered keeps.
	repl := persons()[0]
	repl.Name = "Zhang San (renamed)"
	repl.Employment = engine.EmploymentRetired
	repl.ContributionYears = 13
	repl.AccountBalance = dec("12.5")
	if err := st.PutPerson(ctx, repl); err != nil {
		t.Fatalf("PutPerson (replace): %v", err)
	}
	got, err := st.GetPerson(ctx, repl.ID)
	if err != nil {
		t.Fatalf("GetPerson after replace: %v", err)
	}
	wantRepl := repl
	wantRepl.AccountBalance = persons()[0].AccountBalance
	if d := diff(got, wantRepl); len(d) > 0 {
		t.Errorf("GetPerson after replace: %v", d)
	}
	if !got.AccountBalance.Equal(dec("3000.00")) {
		t.Errorf("balance %s, want the live 3000.00", got.AccountBalance)
	}
	// The other persons are untouched.
	other, err := st.GetPerson(ctx, psnRetired)
	if err != nil || !other.AccountBalance.Equal(dec("800")) {
		t.Errorf("GetPerson %s after replacing %s: %+v, %v", psnRetired, repl.ID, other, err)
	}

	for _, in := range institutions() {
		if err := st.PutInstitution(ctx, in); err != nil {
			t.Fatalf("PutInstitution %s: %v", in.ID, err)
		}
	}
	for _, in := range institutions() {
		got, err := st.GetInstitution(ctx, in.ID)
		if err != nil {
			t.Fatalf("GetInstitution %s: %v", in.ID, err)
		}
		sortBudgets(got.Budgets)
		if d := diff(got, in); len(d) > 0 {
			t.Errorf("GetInstitution %s after PutInstitution: %v", in.ID, d)
		}
	}
	// Replace: the budgets are the new list, not a merge.
	inst := institutions()[0]
	inst.Name = "First People's Hospital (new wing)"
	inst.Level = 2
	inst.Budgets = []engine.Budget{{Year: 2026, Amount: dec("99.9")}}
	if err := st.PutInstitution(ctx, inst); err != nil {
		t.Fatalf("PutInstitution (replace): %v", err)
	}
	gotInst, err := st.GetInstitution(ctx, inst.ID)
	if err != nil {
		t.Fatalf("GetInstitution after replace: %v", err)
	}
	if d := diff(gotInst, inst); len(d) > 0 {
		t.Errorf("GetInstitution after replace: %v", d)
	}
	if _, ok := gotInst.Budget(2024); ok {
		t.Errorf("the replaced institution still has its 2024 budget")
	}
}

func sortBudgets(b []engine.Budget) {
	sort.Slice(b, func(i, j int) bool { return b[i].Year < b[j].Year })
}

// policyKey names a policy for comparisons of listings.
func policyKey(p *engine.Policy) string {
	return fmt.Sprintf("%s/%s/%s[%s,%s]cut=%s", p.Region, p.Scheme, p.Version, p.EffectiveFrom, p.EffectiveTo, p.UnregisteredRatioCut)
}

func listPolicies(t *testing.T, st store.Store, reg string, scheme engine.Scheme) []string {
	t.Helper()
	ps, err := st.Policies(context.Background(), reg, scheme)
	if err != nil {
		t.Fatalf("Policies(%q, %s): %v", reg, scheme, err)
	}
	out := []string{}
	for _, p := range ps {
		out = append(out, policyKey(p))
	}
	return out
}

func testPolicies(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	if got := listPolicies(t, st, "", engine.SchemeUnspecified); len(got) != 0 {
		t.Fatalf("an empty store lists policies %v", got)
	}

	e2024 := validPolicy(t, employeePolicy("2024", jan1st2024, dec31st24))
	e2025 := validPolicy(t, employeePolicy("2025", jan1st2025, dec31st25))
	r2024 := validPolicy(t, residentPolicy(region, "res-2024", jan1st2024, dec31st24))
	// Same dates as the employee policy of R1, in another region: no overlap.
	other := validPolicy(t, employeePolicy("2024", jan1st2024, dec31st24))
	other.Region = "R0"
	// Put out of order: the listing is ordered, not the insertion.
	for _, p := range []*engine.Policy{e2025, r2024, other, e2024} {
		if err := st.PutPolicy(ctx, p); err != nil {
			t.Fatalf("PutPolicy %s: %v", policyKey(p), err)
		}
	}
	k := policyKey
	check := func(what, reg string, scheme engine.Scheme, want ...string) {
		t.Helper()
		got := listPolicies(t, st, reg, scheme)
		if want == nil {
			want = []string{}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Policies(%q, %s) =\n  %v\nwant\n  %v", what, reg, scheme, got, want)
		}
	}
	check("region and scheme", region, engine.SchemeEmployee, k(e2024), k(e2025))
	check("region, every scheme", region, engine.SchemeUnspecified, k(e2024), k(e2025), k(r2024))
	check("every region and scheme", "", engine.SchemeUnspecified, k(other), k(e2024), k(e2025), k(r2024))
	check("every region, one scheme", "", engine.SchemeResident, k(r2024))
	check("unknown region", "nowhere", engine.SchemeUnspecified)

	// The listed policies are indexed and usable as they are.
	ps, err := st.Policies(ctx, region, engine.SchemeEmployee)
	if err != nil || len(ps) != 2 {
		t.Fatalf("Policies: %d policies, %v", len(ps), err)
	}
	if e, ok := ps[0].Item("MAT-CAP"); !ok || e.PriceCap == nil || !e.PriceCap.Equal(engine.MustPrice("50")) {
		t.Errorf("a listed policy does not find its catalog item MAT-CAP: %+v %v", e, ok)
	}
	if b := ps[1].Benefit(engine.VisitInpatient); b == nil || b.CapPool != "basic" || len(b.Rates) != 1 || len(b.Rates[0].Schedule.Bands) != 3 {
		t.Errorf("a listed policy lost its inpatient benefit: %+v", b)
	}
	if d := diff(*ps[0], *e2024); len(d) > 0 {
		t.Errorf("the listed policy 2024 differs from the one put: %v", d)
	}

	// Replacing the same region, scheme and version.
	repl := validPolicy(t, employeePolicy("2024", jan1st2024, dec31st24))
	repl.UnregisteredRatioCut = ratio("0.2")
	if err := st.PutPolicy(ctx, repl); err != nil {
		t.Fatalf("PutPolicy replacing version 2024: %v", err)
	}
	check("after replacing 2024", region, engine.SchemeEmployee, k(repl), k(e2025))

	// A version overlapping another one is refused and changes nothing.
	before := listPolicies(t, st, "", engine.SchemeUnspecified)
	overlapping := validPolicy(t, employeePolicy("2024-h2", engine.Date{Year: 2024, Month: time.July, Day: 1}, engine.Date{Year: 2025, Month: time.June, Day: 30}))
	err = st.PutPolicy(ctx, overlapping)
	var ve *engine.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("PutPolicy of an overlapping version: %v, want a *engine.ValidationError", err)
	}
	// Touching on a single day is an overlap too (validity is inclusive).
	touching := validPolicy(t, employeePolicy("2023", engine.Date{Year: 2023, Month: time.January, Day: 1}, jan1st2024))
	if err := st.PutPolicy(ctx, touching); !errors.As(err, &ve) {
		t.Errorf("PutPolicy of a version ending on the first day of another: %v, want a *engine.ValidationError", err)
	}
	// Replacing a version with dates that overlap another version is refused
	// too, and the version keeps its old dates.
	extended := validPolicy(t, employeePolicy("2024", jan1st2024, engine.Date{Year: 2025, Month: time.February, Day: 1}))
	if err := st.PutPolicy(ctx, extended); !errors.As(err, &ve) {
		t.Errorf("PutPolicy extending 2024 into 2025: %v, want a *engine.ValidationError", err)
	}
	if got := listPolicies(t, st, "", engine.SchemeUnspecified); !reflect.DeepEqual(got, before) {
		t.Errorf("refused PutPolicy calls changed the policies:\n  %v\nwant\n  %v", got, before)
	}
	// The next year, adjacent but not overlapping, is accepted.
	next := validPolicy(t, employeePolicy("2026", engine.Date{Year: 2026, Month: time.January, Day: 1}, engine.Date{Year: 2026, Month: time.December, Day: 31}))
	if err := st.PutPolicy(ctx, next); err != nil {
		t.Errorf("PutPolicy of an adjacent version: %v", err)
	}
	check("after adding 2026", region, engine.SchemeEmployee, k(repl), k(e2025), k(next))
}

// ---------------------------------------------------------------------------
// Snapshot and Settle

func testSnapshot(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	if _, err := e.st.Snapshot(e.ctx, "nobody", hospBudget, 2024); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Snapshot of an unknown person: %v, want ErrNotFound", err)
	}
	for _, inst := range []string{hospBudget, hospNoBudget, "", "unknown-institution"} {
		py := e.snap(psnEmployed, inst, 2024)
		if want := engine.NewAccumulators(psnEmployed, 2024); !py.Accumulators.Equal(want) {
			t.Errorf("Snapshot with no settlement: accumulators %s, want zero", fmtAcc(py.Accumulators))
		}
		if !py.BudgetUsed.IsZero() {
			t.Errorf("Snapshot at %q with no settlement: budget used %s, want 0", inst, py.BudgetUsed)
		}
		if d := diff(py.Person, e.start[psnEmployed]); len(d) > 0 {
			t.Errorf("Snapshot person: %v", d)
		}
	}
}

func testSettleCommits(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	c := inpatient("req-1", hospBudget, psnEmployed, day2024, "6000")
	before := e.snap(psnEmployed, hospBudget, 2024)
	// What the settlement must compute, from the same state.
	want, err := e.compute(c)(before)
	if err != nil {
		t.Fatalf("compute: %v", err)
	}
	if !want.Breakdown.BasicFund.Equal(dec("4641")) || !want.Breakdown.Account.IsPositive() {
		t.Fatalf("fixture: basic fund %s (want 4641.00), account %s (want > 0)", want.Breakdown.BasicFund, want.Breakdown.Account)
	}
	otherBefore := e.world()

	st := e.mustSettle(c)
	if st.ID == "" {
		t.Errorf("the settlement has no id")
	}
	if st.State != engine.StateSettled {
		t.Errorf("state %v, want SETTLED", st.State)
	}
	// Recorded as settled: local care, decided from the records.
	settled := c.Decided(engine.CrossRegionLocal)
	if st.Fingerprint != settled.Fingerprint() {
		t.Errorf("fingerprint %q, want the settled claim's %q", st.Fingerprint, settled.Fingerprint())
	}
	if d := diff(st.Claim, settled); len(d) > 0 {
		t.Errorf("recorded claim: %v", d)
	}
	for _, d := range [][]string{
		diff(st.Result.Breakdown, want.Breakdown), diff(st.Result.Details, want.Details),
		diff(st.Result.Delta, want.Delta), diff(st.Result.PolicyVersion, want.PolicyVersion),
	} {
		if len(d) > 0 {
			t.Errorf("the recorded result is not what compute returned: %v", d)
		}
	}
	sameSettlement(t, "GetSettlement after Settle", e.get(st.ID), st)

	after := e.snap(psnEmployed, hospBudget, 2024)
	if wantAcc := before.Accumulators.Apply(st.Result.Delta, +1); !after.Accumulators.Equal(wantAcc) {
		t.Errorf("accumulators after Settle %s, want %s", fmtAcc(after.Accumulators), fmtAcc(wantAcc))
	}
	if after.Accumulators.InpatientCount != 1 {
		t.Errorf("inpatient count %d, want 1", after.Accumulators.InpatientCount)
	}
	if wantBal := before.Person.AccountBalance.Sub(st.Result.Breakdown.Account); !after.Person.AccountBalance.Equal(wantBal) {
		t.Errorf("balance after Settle %s, want %s", after.Person.AccountBalance, wantBal)
	}
	if p, err := e.st.GetPerson(e.ctx, psnEmployed); err != nil || !p.AccountBalance.Equal(after.Person.AccountBalance) {
		t.Errorf("GetPerson after Settle: balance %s (%v), want %s", p.AccountBalance, err, after.Person.AccountBalance)
	}
	if wantUsed := before.BudgetUsed.Add(st.Result.Breakdown.BasicFund); !after.BudgetUsed.Equal(wantUsed) {
		t.Errorf("budget used after Settle %s, want %s", after.BudgetUsed, wantUsed)
	}

	// Nothing else moved: the other year, the other institution's usage, the
	// other persons.
	now := e.world()
	for k, b := range otherBefore {
		want := b
		if k.person == psnEmployed {
			want.Person.AccountBalance = after.Person.AccountBalance
			if k.year == 2024 {
				want.Accumulators = after.Accumulators
			}
		}
		if k.inst == hospBudget && k.year == 2024 {
			want.BudgetUsed = after.BudgetUsed
		}
		if d := diff(now[k], want); len(d) > 0 {
			t.Errorf("Settle changed %s: %v", k, d)
		}
	}
	if u := e.snap(psnRetired, hospBudget, 2024).BudgetUsed; !u.Equal(after.BudgetUsed) {
		t.Errorf("budget usage read for another person %s, want %s (usage is per institution)", u, after.BudgetUsed)
	}
	if u := e.snap(psnEmployed, hospNoBudget, 2024).BudgetUsed; !u.IsZero() {
		t.Errorf("usage of another institution %s, want 0", u)
	}

	// A second settlement reads the first one's state: the second inpatient
	// deductible of the year.
	st2 := e.mustSettle(inpatient("req-2", hospBudget, psnEmployed, day2024, "6000"))
	if !st2.Result.Breakdown.Deductible.Equal(dec("500")) {
		t.Errorf("second inpatient settlement: deductible %s, want 500", st2.Result.Breakdown.Deductible)
	}
	if st2.ID == st.ID {
		t.Errorf("two settlements share the id %s", st.ID)
	}
	// Another year starts again from zero.
	st3 := e.mustSettle(inpatient("req-3", hospBudget, psnEmployed, day2025, "6000"))
	if !st3.Result.Breakdown.Deductible.Equal(dec("700")) {
		t.Errorf("first inpatient settlement of 2025: deductible %s, want 700", st3.Result.Breakdown.Deductible)
	}
	if acc := e.snap(psnEmployed, "", 2025).Accumulators; !acc.Equal(engine.NewAccumulators(psnEmployed, 2025).Apply(st3.Result.Delta, +1)) {
		t.Errorf("2025 accumulators %s, want only the 2025 settlement", fmtAcc(acc))
	}
}

// countingCompute wraps a ComputeFunc and counts its calls.
func countingCompute(f store.ComputeFunc, n *atomic.Int64) store.ComputeFunc {
	return func(py store.PersonYear) (engine.Result, error) {
		n.Add(1)
		return f(py)
	}
}

func testSettleIdempotent(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	c := inpatient("req-1", hospBudget, psnEmployed, day2024, "6000")
	var calls atomic.Int64
	first, err := e.st.Settle(e.ctx, c, countingCompute(e.compute(c), &calls))
	if err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("compute called %d times for one settlement", calls.Load())
	}
	state := e.world()

	// The same request again: the recorded settlement, compute not called.
	calls.Store(0)
	again, err := e.st.Settle(e.ctx, c, countingCompute(e.compute(c), &calls))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	sameSettlement(t, "retry", again, first)
	if n := calls.Load(); n != 0 {
		t.Errorf("a retry called compute %d times, want 0", n)
	}
	// The same request with decimals written differently is the same request.
	same := inpatient("req-1", hospBudget, psnEmployed, day2024, "6000.00")
	same.Items[1].Quantity = engine.MustQuantity("2.000")
	again2, err := e.st.Settle(e.ctx, same, countingCompute(e.compute(same), &calls))
	if err != nil {
		t.Fatalf("retry with 6000.00: %v", err)
	}
	sameFigures(t, "retry with equal decimals", again2, first)
	if n := calls.Load(); n != 0 {
		t.Errorf("a retry called compute %d times, want 0", n)
	}
	e.unchanged("retries", state)

	// The same request id with another body: ErrConflict, nothing changes.
	for name, c2 := range map[string]engine.Claim{
		"another amount":       inpatient("req-1", hospBudget, psnEmployed, day2024, "6000.01"),
		"another person":       inpatient("req-1", hospBudget, psnRetired, day2024, "6000"),
		"another date":         inpatient("req-1", hospBudget, psnEmployed, engine.Date{Year: 2024, Month: time.March, Day: 16}, "6000"),
		"another visit type":   func() engine.Claim { x := c; x.VisitType = engine.VisitOutpatient; return x }(),
		"without the account":  func() engine.Claim { x := c; x.UsePersonalAccount = false; return x }(),
		"one item less":        func() engine.Claim { x := c; x.Items = x.Items[:1]; return x }(),
		"registered elsewhere": func() engine.Claim { x := c; x.CrossRegion = engine.CrossRegionRegistered; return x }(),
	} {
		calls.Store(0)
		_, err := e.st.Settle(e.ctx, c2, countingCompute(e.compute(c2), &calls))
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("same request id, %s: %v, want ErrConflict", name, err)
		}
	}
	e.unchanged("conflicting requests", state)
	sameSettlement(t, "GetSettlement after conflicts", e.get(first.ID), first)

	// The same request id at another institution is another request.
	c3 := inpatient("req-1", hospNoBudget, psnEmployed, day2024, "6000")
	other, err := e.settle(c3)
	if err != nil {
		t.Fatalf("same request id at another institution: %v", err)
	}
	if other.ID == first.ID {
		t.Errorf("the same request id at two institutions gave one settlement %s", other.ID)
	}
	if !other.Result.Breakdown.Deductible.Equal(dec("500")) {
		t.Errorf("the second institution's settlement is not a second admission: deductible %s", other.Result.Breakdown.Deductible)
	}
	if acc := e.snap(psnEmployed, "", 2024).Accumulators; acc.InpatientCount != 2 {
		t.Errorf("inpatient count %d after two settlements, want 2", acc.InpatientCount)
	}
	// Both keys still answer with their own settlement.
	if s, err := e.settle(c); err != nil || s.ID != first.ID {
		t.Errorf("retry at the first institution: %s, %v; want %s", s.ID, err, first.ID)
	}
	if s, err := e.settle(c3); err != nil || s.ID != other.ID {
		t.Errorf("retry at the second institution: %s, %v; want %s", s.ID, err, other.ID)
	}
}

func testSettleComputeError(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	e.mustSettle(inpatient("req-0", hospBudget, psnEmployed, day2024, "2000"))
	state := e.world()

	c := inpatient("req-1", hospBudget, psnEmployed, day2024, "6000")
	failing := func(store.PersonYear) (engine.Result, error) {
		return engine.Result{}, fmt.Errorf("level 3: %w", engine.ErrNotCovered)
	}
	if _, err := e.st.Settle(e.ctx, c, failing); !errors.Is(err, engine.ErrNotCovered) {
		t.Errorf("Settle with a failing compute: %v, want compute's error (ErrNotCovered)", err)
	}
	// A compute that fails after it was given the state, as the engine does
	// for a malformed claim.
	bad := c
	bad.Items = nil
	if _, err := e.settle(bad); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("Settle of a claim without items: %v, want ErrInvalid from compute", err)
	}
	e.unchanged("a failed compute", state)

	// No key was recorded: the request can be retried, and it is a new
	// settlement read from the state left by req-0.
	st, err := e.settle(c)
	if err != nil {
		t.Fatalf("retry after a failed compute: %v", err)
	}
	if st.State != engine.StateSettled || !st.Result.Breakdown.Deductible.Equal(dec("500")) {
		t.Errorf("retry after a failed compute: state %v, deductible %s; want SETTLED, 500", st.State, st.Result.Breakdown.Deductible)
	}
}

func testSettleUnknownPerson(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	state := e.world()
	c := inpatient("req-1", hospBudget, "P9", day2024, "6000")
	var calls atomic.Int64
	if _, err := e.st.Settle(e.ctx, c, countingCompute(e.compute(c), &calls)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Settle for an unknown person: %v, want ErrNotFound", err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("compute called %d times for an unknown person", n)
	}
	e.unchanged("Settle for an unknown person", state)
	if _, err := e.st.Snapshot(e.ctx, "P9", hospBudget, 2024); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Snapshot after a refused Settle: %v, want ErrNotFound", err)
	}
	// Nothing was recorded under the key: once the person exists the same
	// request settles.
	p := persons()[0]
	p.ID = "P9"
	if err := e.st.PutPerson(e.ctx, p); err != nil {
		t.Fatal(err)
	}
	st, err := e.settle(c)
	if err != nil || st.State != engine.StateSettled {
		t.Fatalf("Settle once the person exists: %+v, %v", st.State, err)
	}
	if used := e.snap("P9", hospBudget, 2024).BudgetUsed; !used.Equal(st.Result.Breakdown.BasicFund) {
		t.Errorf("budget used %s, want only this settlement's %s", used, st.Result.Breakdown.BasicFund)
	}
}

// ---------------------------------------------------------------------------
// Reverse

func testReverse(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	e.mustSettle(inpatient("req-0", hospBudget, psnEmployed, day2024, "3000"))
	before := e.world()
	beforeSnap := e.snap(psnEmployed, hospBudget, 2024)

	st := e.mustSettle(inpatient("req-1", hospBudget, psnEmployed, day2024, "7000"))
	if !st.Result.Breakdown.Account.IsPositive() || !st.Result.Breakdown.BasicFund.IsPositive() {
		t.Fatalf("fixture: account %s, basic fund %s; want both > 0", st.Result.Breakdown.Account, st.Result.Breakdown.BasicFund)
	}
	r := store.Reversal{RequestID: "rev-1", SettlementID: st.ID, Reason: "wrong patient", Institution: hospBudget}
	rev, err := e.st.Reverse(e.ctx, r)
	if err != nil {
		t.Fatalf("Reverse: %v", err)
	}
	if rev.State != engine.StateReversed || rev.ReversalReason != r.Reason || rev.ReversalRequestID != r.RequestID {
		t.Errorf("reversed settlement: state %v, reason %q, request %q", rev.State, rev.ReversalReason, rev.ReversalRequestID)
	}
	sameFigures(t, "Reverse", rev, st)
	sameSettlement(t, "GetSettlement after Reverse", e.get(st.ID), rev)
	// Exactly what the settlement added is gone.
	e.unchanged("Settle then Reverse", before)
	after := e.snap(psnEmployed, hospBudget, 2024)
	if !after.Accumulators.Equal(beforeSnap.Accumulators) || !after.Person.AccountBalance.Equal(beforeSnap.Person.AccountBalance) || !after.BudgetUsed.Equal(beforeSnap.BudgetUsed) {
		t.Errorf("after Reverse: %s balance %s used %s; want %s balance %s used %s",
			fmtAcc(after.Accumulators), after.Person.AccountBalance, after.BudgetUsed,
			fmtAcc(beforeSnap.Accumulators), beforeSnap.Person.AccountBalance, beforeSnap.BudgetUsed)
	}

	// A retry of the reversal returns the reversed settlement, changing nothing.
	again, err := e.st.Reverse(e.ctx, r)
	if err != nil {
		t.Fatalf("retry of Reverse: %v", err)
	}
	sameSettlement(t, "retry of Reverse", again, rev)
	// Another request may not reverse it again.
	r2 := r
	r2.RequestID = "rev-2"
	if _, err := e.st.Reverse(e.ctx, r2); !errors.Is(err, engine.ErrAlreadyReversed) {
		t.Errorf("second reversal with another request id: %v, want ErrAlreadyReversed", err)
	}
	// Another request id with the same reason and an administrator: still once.
	r2.Institution = ""
	if _, err := e.st.Reverse(e.ctx, r2); !errors.Is(err, engine.ErrAlreadyReversed) {
		t.Errorf("second reversal by an administrator: %v, want ErrAlreadyReversed", err)
	}
	e.unchanged("refused reversals", before)
	sameSettlement(t, "GetSettlement after refused reversals", e.get(st.ID), rev)

	// A retry of the original Settle does not settle again.
	if s, err := e.settle(inpatient("req-1", hospBudget, psnEmployed, day2024, "7000")); err != nil || s.ID != st.ID {
		t.Errorf("retry of a reversed settlement's request: %s, %v; want %s", s.ID, err, st.ID)
	}
	e.unchanged("retry of a reversed settlement's request", before)

	// A reversed settlement does not count in the admission sequence.
	st3 := e.mustSettle(inpatient("req-3", hospBudget, psnEmployed, day2024, "7000"))
	if !st3.Result.Breakdown.Deductible.Equal(dec("500")) {
		t.Errorf("admission after a reversed one: deductible %s, want 500 (second admission)", st3.Result.Breakdown.Deductible)
	}

	if _, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "rev-x", SettlementID: "ST-none", Institution: hospBudget}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Reverse of an unknown settlement: %v, want ErrNotFound", err)
	}
	if _, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "rev-y", SettlementID: "ST-none"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Reverse of an unknown settlement by an administrator: %v, want ErrNotFound", err)
	}
}

func testReverseAuthorization(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	before := e.world()
	st := e.mustSettle(inpatient("req-1", hospBudget, psnRetired, day2024, "6000"))
	settled := e.world()

	r := store.Reversal{RequestID: "rev-1", SettlementID: st.ID, Reason: "duplicate", Institution: hospNoBudget}
	if _, err := e.st.Reverse(e.ctx, r); !errors.Is(err, engine.ErrForbidden) {
		t.Errorf("Reverse by another institution: %v, want ErrForbidden", err)
	}
	e.unchanged("a forbidden reversal", settled)
	sameSettlement(t, "GetSettlement after a forbidden reversal", e.get(st.ID), st)

	// The administrator may, with the request id the other institution
	// tried: the forbidden attempt recorded nothing.
	r.Institution = ""
	rev, err := e.st.Reverse(e.ctx, r)
	if err != nil {
		t.Fatalf("Reverse by an administrator: %v", err)
	}
	if rev.State != engine.StateReversed || rev.ReversalReason != "duplicate" {
		t.Errorf("reversed by an administrator: state %v reason %q", rev.State, rev.ReversalReason)
	}
	e.unchanged("Settle then Reverse by an administrator", before)
	// Reversals are keyed by the settling institution: the administrator's
	// request, retried by the institution, is the same request.
	r.Institution = hospBudget
	again, err := e.st.Reverse(e.ctx, r)
	if err != nil {
		t.Errorf("the administrator's reversal retried by the settling institution: %v", err)
	} else {
		sameSettlement(t, "the administrator's reversal retried by the settling institution", again, rev)
	}
	// The other institution is still refused, even now.
	r.Institution = hospNoBudget
	r.RequestID = "rev-2"
	if _, err := e.st.Reverse(e.ctx, r); !errors.Is(err, engine.ErrForbidden) && !errors.Is(err, engine.ErrAlreadyReversed) {
		t.Errorf("Reverse of a reversed settlement by another institution: %v, want ErrForbidden", err)
	}
	e.unchanged("a refused reversal", before)
}

func testReverseRequestIDs(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	st1 := e.mustSettle(inpatient("req-1", hospBudget, psnEmployed, day2024, "6000"))
	st2 := e.mustSettle(inpatient("req-2", hospBudget, psnRetired, day2024, "6000"))
	state := e.world()

	// A reversal reusing a settle request id of the same institution.
	if _, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "req-1", SettlementID: st2.ID, Institution: hospBudget}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("reversal with the request id of an earlier settlement: %v, want ErrConflict", err)
	}
	if _, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "req-2", SettlementID: st2.ID, Institution: hospBudget}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("reversal with the request id of the settlement itself: %v, want ErrConflict", err)
	}
	// An administrator's reversal is keyed by the settling institution too.
	if _, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "req-1", SettlementID: st2.ID}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("administrator's reversal with a request id the settling institution used: %v, want ErrConflict", err)
	}
	e.unchanged("conflicting reversals", state)
	sameSettlement(t, "settlement after conflicting reversals", e.get(st2.ID), st2)

	rev, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "rev-1", SettlementID: st1.ID, Reason: "r", Institution: hospBudget})
	if err != nil {
		t.Fatalf("Reverse: %v", err)
	}
	state = e.world()
	// The same reversal request id for another settlement, or another reason.
	if _, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "rev-1", SettlementID: st2.ID, Reason: "r", Institution: hospBudget}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("reversal request id reused for another settlement: %v, want ErrConflict", err)
	}
	if _, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "rev-1", SettlementID: st1.ID, Reason: "other", Institution: hospBudget}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("reversal request id reused with another reason: %v, want ErrConflict", err)
	}
	// A settlement reusing a reversal's request id at the same institution.
	c := inpatient("rev-1", hospBudget, psnRetired, day2024, "100")
	if _, err := e.settle(c); !errors.Is(err, store.ErrConflict) {
		t.Errorf("Settle with the request id of a reversal: %v, want ErrConflict", err)
	}
	e.unchanged("conflicting requests", state)
	sameSettlement(t, "reversed settlement after conflicts", e.get(st1.ID), rev)
	sameSettlement(t, "settled settlement after conflicts", e.get(st2.ID), st2)

	// At another institution the reversal's request id is free.
	if _, err := e.settle(inpatient("rev-1", hospNoBudget, psnRetired, day2024, "100")); err != nil {
		t.Errorf("Settle at another institution with a request id used by a reversal here: %v", err)
	}
}

// ---------------------------------------------------------------------------
// Budget

func testBudgetStatus(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	limit := dec("10000")
	steps := []struct {
		person, inst string
		basic, used  string
		state        engine.BudgetState
	}{
		// 0.87 × (5000 − 700) + 0.90 × 1000 = 4641
		{psnEmployed, hospBudget, "4641", "4641", engine.BudgetWithin},
		// Another person, no budget at that institution: no status, no usage here.
		{psnRetired, hospNoBudget, "4641", "4641", engine.BudgetUnspecified},
		// 0.87 × (5000 − 500) + 900 = 4815 → 9456 ≥ 0.9 × 10000
		{psnEmployed, hospBudget, "4815", "9456", engine.BudgetWarning},
		// 0.87 × 5000 + 900 = 5250 → 14706 > 10000
		{psnEmployed, hospBudget, "5250", "14706", engine.BudgetExceeded},
		// The other person's second admission, at this institution: 4815 → 19521
		{psnRetired, hospBudget, "4815", "19521", engine.BudgetExceeded},
	}
	var sts []engine.Settlement
	for i, s := range steps {
		st := e.mustSettle(inpatient(fmt.Sprintf("b-%d", i), s.inst, s.person, day2024, "6000"))
		sts = append(sts, st)
		if !st.Result.Breakdown.BasicFund.Equal(dec(s.basic)) {
			t.Fatalf("step %d: basic fund %s, want %s", i, st.Result.Breakdown.BasicFund, s.basic)
		}
		used := e.snap(s.person, hospBudget, 2024).BudgetUsed
		if !used.Equal(dec(s.used)) {
			t.Errorf("step %d: budget used %s, want %s", i, used, s.used)
		}
		if s.state == engine.BudgetUnspecified {
			if st.Result.Budget != nil {
				t.Errorf("step %d: budget status %+v at an institution without a budget", i, *st.Result.Budget)
			}
			continue
		}
		if st.Result.Budget == nil {
			t.Fatalf("step %d: no budget status", i)
		}
		want := engine.NewBudgetStatus(2024, limit, used, ratio("0.9"))
		if d := diff(*st.Result.Budget, want); len(d) > 0 {
			t.Errorf("step %d: budget status: %v", i, d)
		}
		if st.Result.Budget.State != s.state {
			t.Errorf("step %d: budget state %v, want %v", i, st.Result.Budget.State, s.state)
		}
		sameSettlement(t, fmt.Sprintf("step %d: GetSettlement", i), e.get(st.ID), st)
	}
	// 2025 has its own budget and usage.
	st := e.mustSettle(inpatient("b-2025", hospBudget, psnEmployed, day2025, "6000"))
	if b := st.Result.Budget; b == nil || b.Year != 2025 || !b.Used.Equal(dec("4641")) || !b.Limit.Equal(dec("200000")) || b.State != engine.BudgetWithin {
		t.Errorf("2025 budget status %+v, want 2025 used 4641 of 200000 WITHIN", b)
	}
	// A reversal gives the usage back; the reversed settlement keeps the
	// status it was returned with.
	rev, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "rb", SettlementID: sts[2].ID, Institution: hospBudget})
	if err != nil {
		t.Fatal(err)
	}
	if used := e.snap(psnEmployed, hospBudget, 2024).BudgetUsed; !used.Equal(dec("14706")) {
		t.Errorf("budget used after reversing 4815: %s, want 14706", used)
	}
	sameFigures(t, "reversed settlement", rev, sts[2])
}

// testReturnedValuesAreCopies checks that what a store returns belongs to
// the caller, and what it was given was copied: changing either does not
// change what the store holds.
func testReturnedValuesAreCopies(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	c := inpatient("req-1", hospBudget, psnPoor, day2024, "6000")
	c.Items = append(c.Items, item("DRUG-B", "3", "10"))
	st := e.mustSettle(c)
	want := cloneSettlement(st)
	if len(st.Result.Details) == 0 || len(st.Result.Delta.VisitTypes) == 0 || st.Result.Budget == nil {
		t.Fatalf("fixture: settlement without details, delta or budget: %+v", st.Result)
	}

	// Scribble over the claim given to Settle and the settlement returned.
	c.Items[0].Amount = dec("1")
	c.Items[0].Code = "changed"
	st.Claim.Items[1].Amount = dec("2")
	st.Result.Details[0].Amount = dec("3")
	st.Result.Delta.VisitTypes[engine.VisitInpatient] = engine.VisitAccumulator{InScope: dec("4")}
	st.Result.Delta.PoolUsed["basic"] = dec("5")
	st.Result.Budget.Used = dec("6")
	*st.Result.BudgetLimit = dec("7")
	got := e.get(st.ID)
	sameSettlement(t, "after changing the claim given and the settlement returned", got, want)

	// Scribble over what GetSettlement returned.
	got.Claim.Items[0].Amount = dec("8")
	got.Result.Details[0].Amount = dec("9")
	got.Result.Delta.VisitTypes[engine.VisitInpatient] = engine.VisitAccumulator{InScope: dec("10")}
	got.Result.Budget.Used = dec("11")
	sameSettlement(t, "after changing what GetSettlement returned", e.get(st.ID), want)

	// Snapshot's accumulators.
	snap := e.snap(psnPoor, hospBudget, 2024)
	wantAcc := snap.Accumulators.Clone()
	snap.Accumulators.VisitTypes[engine.VisitInpatient] = engine.VisitAccumulator{InScope: dec("12")}
	snap.Accumulators.PoolUsed["basic"] = dec("13")
	if acc := e.snap(psnPoor, hospBudget, 2024).Accumulators; !acc.Equal(wantAcc) {
		t.Errorf("changing a snapshot's accumulators changed the store: %s, want %s", fmtAcc(acc), fmtAcc(wantAcc))
	}

	// The institution's budgets.
	in := institutions()[0]
	if err := e.st.PutInstitution(e.ctx, in); err != nil {
		t.Fatal(err)
	}
	in.Budgets[0].Amount = dec("14")
	gotIn, err := e.st.GetInstitution(e.ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	sortBudgets(gotIn.Budgets)
	if !gotIn.Budgets[0].Amount.Equal(dec("10000")) {
		t.Errorf("changing the institution given to PutInstitution changed the store: %s", gotIn.Budgets[0].Amount)
	}
	gotIn.Budgets[0].Amount = dec("15")
	gotIn2, err := e.st.GetInstitution(e.ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	sortBudgets(gotIn2.Budgets)
	if !gotIn2.Budgets[0].Amount.Equal(dec("10000")) {
		t.Errorf("changing what GetInstitution returned changed the store: %s", gotIn2.Budgets[0].Amount)
	}
}

// ---------------------------------------------------------------------------
// Locking

const waitLimit = 5 * time.Second

type outcome struct {
	st  engine.Settlement
	err error
}

func testPersonsDoNotWait(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	release := make(chan struct{})
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	var wg sync.WaitGroup
	// However the test ends, unblock A and wait for every goroutine, but
	// not forever.
	defer func() {
		free()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(waitLimit):
			t.Errorf("settlements still running %s after the test released them", waitLimit)
		}
	}()

	// Settlement A1 of person P1 blocks in compute, holding P1's lock.
	cA := inpatient("a-1", hospBudget, psnEmployed, day2024, "6000")
	computeA := e.compute(cA)
	enteredA := make(chan struct{})
	var enteredOnce sync.Once
	doneA := make(chan outcome, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		st, err := e.st.Settle(e.ctx, cA, func(py store.PersonYear) (engine.Result, error) {
			enteredOnce.Do(func() { close(enteredA) })
			<-release
			return computeA(py)
		})
		doneA <- outcome{st, err}
	}()
	select {
	case <-enteredA:
	case <-time.After(waitLimit):
		t.Fatalf("Settle did not call compute within %s", waitLimit)
	}

	// Meanwhile another person settles at the same institution, and
	// reverses, and P1's state can be read.
	run := func(what string, f func() error) {
		t.Helper()
		done := make(chan error, 1)
		wg.Add(1)
		go func() { defer wg.Done(); done <- f() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s while another person's settlement computes: %v", what, err)
			}
		case <-time.After(waitLimit):
			t.Fatalf("%s waited %s for another person's settlement", what, waitLimit)
		}
	}
	var stB engine.Settlement
	run("Settle of another person", func() (err error) {
		stB, err = e.settle(inpatient("b-1", hospBudget, psnRetired, day2024, "6000"))
		return err
	})
	var stC engine.Settlement
	run("Settle of a third person elsewhere", func() (err error) {
		stC, err = e.settle(inpatient("c-1", hospNoBudget, psnPoor, day2024, "3000"))
		return err
	})
	run("Reverse of another person's settlement", func() error {
		_, err := e.st.Reverse(e.ctx, store.Reversal{RequestID: "rev-c", SettlementID: stC.ID, Institution: hospNoBudget})
		return err
	})
	run("Snapshot of the person whose settlement computes", func() error {
		py, err := e.st.Snapshot(e.ctx, psnEmployed, hospBudget, 2024)
		if err == nil && py.Accumulators.InpatientCount != 0 {
			err = fmt.Errorf("the snapshot shows an uncommitted settlement: %s", fmtAcc(py.Accumulators))
		}
		return err
	})

	// A second settlement of P1 waits for the first: it does not compute
	// until A1 is committed, and then reads A1's state.
	cA2 := inpatient("a-2", hospBudget, psnEmployed, day2024, "6000")
	computeA2 := e.compute(cA2)
	var sawCount atomic.Int64
	sawCount.Store(-1)
	enteredA2 := make(chan struct{})
	var entered2Once sync.Once
	doneA2 := make(chan outcome, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		st, err := e.st.Settle(e.ctx, cA2, func(py store.PersonYear) (engine.Result, error) {
			entered2Once.Do(func() { close(enteredA2) })
			sawCount.Store(int64(py.Accumulators.InpatientCount))
			return computeA2(py)
		})
		doneA2 <- outcome{st, err}
	}()
	select {
	case <-enteredA2:
		t.Errorf("a second settlement of the same person computed while the first was computing")
	case <-time.After(100 * time.Millisecond):
	}
	free()

	var resA, resA2 outcome
	for _, w := range []struct {
		ch  chan outcome
		dst *outcome
	}{{doneA, &resA}, {doneA2, &resA2}} {
		select {
		case *w.dst = <-w.ch:
		case <-time.After(waitLimit):
			t.Fatalf("a settlement of P1 did not finish within %s of being released", waitLimit)
		}
	}
	if resA.err != nil || resA2.err != nil {
		t.Fatalf("settlements of P1: %v, %v", resA.err, resA2.err)
	}
	if n := sawCount.Load(); n != 1 {
		t.Errorf("the second settlement of P1 computed from inpatient count %d, want 1 (the first one's state)", n)
	}
	if !resA.st.Result.Breakdown.Deductible.Equal(dec("700")) || !resA2.st.Result.Breakdown.Deductible.Equal(dec("500")) {
		t.Errorf("deductibles %s and %s, want 700 and 500", resA.st.Result.Breakdown.Deductible, resA2.st.Result.Breakdown.Deductible)
	}
	// A1 computed before B committed but committed after it: its budget
	// status counts B's basic fund (the usage committed, not the usage read).
	wantUsed := stB.Result.Breakdown.BasicFund.Add(resA.st.Result.Breakdown.BasicFund)
	if b := resA.st.Result.Budget; b == nil || !b.Used.Equal(wantUsed) {
		t.Errorf("budget status of A1 %+v, want used %s (B's basic fund committed first)", b, wantUsed)
	}
	if used := e.snap(psnEmployed, hospBudget, 2024).BudgetUsed; !used.Equal(wantUsed.Add(resA2.st.Result.Breakdown.BasicFund)) {
		t.Errorf("budget used %s after A1, B, A2", used)
	}
}

// ---------------------------------------------------------------------------
// Concurrency

const (
	workers          = 32
	claimsPerWorker  = 8
	inpatientMinimum = 800 // above every deductible: each admission applies its deductible in full
)

// seed is MEDSETTLE_SEED when set, else the clock. The test logs it when
// it fails.
func seed(t *testing.T) int64 {
	s := time.Now().UnixNano()
	if v := os.Getenv("MEDSETTLE_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("MEDSETTLE_SEED=%q is not an integer", v)
		}
		s = n
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d: rerun with MEDSETTLE_SEED=%d", s, s)
		}
	})
	return s
}

// randomClaim is a claim of job j: request ids are shared by two jobs, at
// the two institutions.
func randomClaim(rng *rand.Rand, j int) engine.Claim {
	ps := persons()
	inst := []string{hospBudget, hospNoBudget}[j%2]
	day := day2024
	if rng.Intn(3) == 0 {
		day = day2025
	}
	money := func(minFen, maxFen int) string {
		return engine.MoneyFromFen(int64(minFen + rng.Intn(maxFen-minFen+1))).String()
	}
	c := engine.Claim{
		RequestID:          fmt.Sprintf("c-%04d", j/2),
		InstitutionID:      inst,
		PersonID:           ps[rng.Intn(len(ps))].ID,
		SettleDate:         day,
		UsePersonalAccount: rng.Intn(3) > 0,
	}
	switch n := rng.Intn(10); {
	case n < 5:
		c.VisitType = engine.VisitInpatient
		c.Items = []engine.LineItem{item("DRUG-A", "1", money(inpatientMinimum*100, 900000))}
	case n < 8:
		c.VisitType = engine.VisitChronicOutpatient
		c.Items = []engine.LineItem{item("DRUG-A", "1", money(100, 150000))}
	default:
		c.VisitType = engine.VisitOutpatient
		c.Items = []engine.LineItem{item("DRUG-A", "1", money(100, 50000))}
	}
	if rng.Intn(2) == 0 {
		c.Items = append(c.Items, item("DRUG-B", strconv.Itoa(1+rng.Intn(5)), money(100, 20000)))
	}
	if rng.Intn(3) == 0 {
		c.Items = append(c.Items, item("MAT-CAP", "2", money(1000, 9000)))
	}
	if rng.Intn(4) == 0 {
		c.Items = append(c.Items, item("SVC-C", "1", money(0, 30000)))
	}
	return c
}

func testConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	rng := rand.New(rand.NewSource(seed(t)))

	// Phase 1: settle n claims from 32 workers. Every fourth job is also
	// sent by a second worker at about the same time, as a client retry
	// would be; every eighth has a conflicting twin: the same institution
	// and request id for another person, sent concurrently.
	n := workers * claimsPerWorker
	claims := make([]engine.Claim, n)
	twins := map[int]engine.Claim{}
	for j := range claims {
		claims[j] = randomClaim(rng, j)
		if j%8 == 2 {
			twin := claims[j]
			twin.PersonID = persons()[(personIndex(twin.PersonID)+1)%len(persons())].ID
			twins[j] = twin
		}
	}
	// Each worker takes its share round by round; within a round the two
	// sides of a twin pair go first, so that they start together.
	queues := make([][]settleTask, workers)
	for k := 0; k < claimsPerWorker; k++ {
		round := make([][]settleTask, workers)
		add := func(g int, tk settleTask) {
			if _, twinned := twins[tk.job]; twinned {
				round[g] = append([]settleTask{tk}, round[g]...)
			} else {
				round[g] = append(round[g], tk)
			}
		}
		for g := 0; g < workers; g++ {
			j := g + workers*k
			add(g, settleTask{job: j, claim: claims[j]})
			if j%4 == 0 {
				add((g+5)%workers, settleTask{job: j, claim: claims[j]})
			}
			if twin, ok := twins[j]; ok {
				add((g+11)%workers, settleTask{job: j, claim: twin, twin: true})
			}
		}
		for g := range queues {
			queues[g] = append(queues[g], round[g]...)
		}
	}
	// A twin and its original meet in compute: each waits there (briefly)
	// for the other, so that both have read the state before either
	// commits, and the store must let the request key decide at commit.
	meet := map[int]*rendezvous{}
	for j := range twins {
		meet[j] = &rendezvous{both: make(chan struct{})}
	}
	calls := make([][]settleCall, workers)
	runWorkers(func(g int) {
		for _, tk := range queues[g] {
			compute := e.compute(tk.claim)
			if r := meet[tk.job]; r != nil {
				compute = r.wrap(compute)
			}
			st, err := e.st.Settle(e.ctx, tk.claim, compute)
			calls[g] = append(calls[g], settleCall{tk, outcome{st, err}})
		}
	})
	settled := make([]engine.Settlement, n)
	e.collectSettlements(calls, settled, map[string]int{}, twins)
	if t.Failed() {
		return
	}
	reversed := make([]bool, n)
	e.checkTotals(settled, reversed)
	checkDeductibleSequence(t, settled)
	e.checkBudgetReports(settled)
	if t.Failed() {
		return
	}

	// Phase 2: reverse about half of them concurrently; some reversals are
	// sent twice, some meet a competing reversal under another request id,
	// some come from an administrator. Alongside run retries of settled
	// requests and new settlements of the same persons.
	fresh := n / 4
	for j := n; j < n+fresh; j++ {
		claims = append(claims, randomClaim(rng, j))
	}
	settled = append(settled, make([]engine.Settlement, fresh)...)
	reversed = append(reversed, make([]bool, fresh)...)
	var tasks []task
	contested := map[int]bool{}
	for j := 0; j < n; j++ {
		if rng.Intn(8) == 0 {
			tasks = append(tasks, task{settle: &settleTask{job: j, claim: settled[j].Claim}})
		}
		if rng.Intn(2) == 0 {
			continue
		}
		reversed[j] = true
		inst := settled[j].Claim.InstitutionID
		if rng.Intn(5) == 0 {
			inst = ""
		}
		r := store.Reversal{RequestID: fmt.Sprintf("rv-%04d", j), SettlementID: settled[j].ID, Reason: "phase 2", Institution: inst}
		tasks = append(tasks, task{job: j, rev: &r})
		switch rng.Intn(4) {
		case 0:
			tasks = append(tasks, task{job: j, rev: &r})
		case 1:
			contested[j] = true
			r2 := r
			r2.RequestID = fmt.Sprintf("rw-%04d", j)
			tasks = append(tasks, task{job: j, rev: &r2})
		}
	}
	for j := n; j < n+fresh; j++ {
		tasks = append(tasks, task{settle: &settleTask{job: j, claim: claims[j]}})
		if j%3 == 0 {
			tasks = append(tasks, task{settle: &settleTask{job: j, claim: claims[j]}})
		}
	}
	rng.Shuffle(len(tasks), func(a, b int) { tasks[a], tasks[b] = tasks[b], tasks[a] })
	type revCall struct {
		task
		outcome
	}
	revCalls := make([][]revCall, workers)
	settleCalls := make([][]settleCall, workers)
	runWorkers(func(g int) {
		for i := g; i < len(tasks); i += workers {
			tk := tasks[i]
			if tk.settle != nil {
				st, err := e.settle(tk.settle.claim)
				settleCalls[g] = append(settleCalls[g], settleCall{*tk.settle, outcome{st, err}})
				continue
			}
			st, err := e.st.Reverse(e.ctx, *tk.rev)
			revCalls[g] = append(revCalls[g], revCall{tk, outcome{st, err}})
		}
	})
	// Retries of settled requests return the recorded settlement (whatever
	// its state now); new requests are recorded once.
	byID := map[string]int{}
	for j := 0; j < n; j++ {
		byID[settled[j].ID] = j
	}
	for _, cs := range settleCalls {
		for _, c := range cs {
			if c.job < n {
				if c.err != nil {
					t.Errorf("retry of job %d during reversals: %v", c.job, c.err)
				} else {
					sameFigures(t, fmt.Sprintf("retry of job %d during reversals", c.job), c.st, settled[c.job])
				}
			}
		}
	}
	e.collectSettlements(settleCalls, settled, byID, nil)
	winners := map[int]map[string]bool{}
	for _, rs := range revCalls {
		for _, r := range rs {
			j := r.job
			if r.err != nil {
				if contested[j] && errors.Is(r.err, engine.ErrAlreadyReversed) {
					continue
				}
				t.Errorf("Reverse of job %d (%s): %v", j, r.rev.RequestID, r.err)
				continue
			}
			if r.st.State != engine.StateReversed || r.st.ReversalRequestID != r.rev.RequestID {
				t.Errorf("Reverse of job %d (%s): state %v by %q", j, r.rev.RequestID, r.st.State, r.st.ReversalRequestID)
			}
			sameFigures(t, fmt.Sprintf("Reverse of job %d", j), r.st, settled[j])
			if winners[j] == nil {
				winners[j] = map[string]bool{}
			}
			winners[j][r.rev.RequestID] = true
		}
	}
	if t.Failed() {
		return
	}
	for j := range settled {
		got := e.get(settled[j].ID)
		switch {
		case !reversed[j]:
			sameSettlement(t, fmt.Sprintf("job %d, not reversed", j), got, settled[j])
		case len(winners[j]) != 1:
			t.Errorf("job %d was reversed by %d requests %v, want exactly 1", j, len(winners[j]), winners[j])
		case got.State != engine.StateReversed || !winners[j][got.ReversalRequestID] || got.ReversalReason != "phase 2":
			t.Errorf("job %d: state %v reversed by %q (%q), want REVERSED by %v", j, got.State, got.ReversalRequestID, got.ReversalReason, winners[j])
		default:
			sameFigures(t, fmt.Sprintf("job %d, reversed", j), got, settled[j])
		}
	}
	e.checkTotals(settled, reversed)
	// Reversals ran alongside the new settlements, so their usage is no
	// simple running sum; each status is still classified as committed.
	for _, st := range settled[n:] {
		limit, ok := e.insts[st.Claim.InstitutionID].Budget(st.Claim.Year())
		switch b := st.Result.Budget; {
		case ok != (b != nil):
			t.Errorf("settlement %s at %s: budget status %+v, budget %t", st.ID, st.Claim.InstitutionID, b, ok)
		case ok:
			if d := diff(*b, engine.NewBudgetStatus(st.Claim.Year(), limit, b.Used, ratio("0.9"))); len(d) > 0 {
				t.Errorf("settlement %s: budget status %v", st.ID, d)
			}
		}
	}
}

// rendezvous lets two computes wait for each other, up to 50ms: a store
// that serializes on the request key never lets them meet, and one side
// may be late.
type rendezvous struct {
	n    atomic.Int32
	both chan struct{}
}

func (r *rendezvous) wrap(f store.ComputeFunc) store.ComputeFunc {
	return func(py store.PersonYear) (engine.Result, error) {
		if r.n.Add(1) == 2 {
			close(r.both)
		}
		select {
		case <-r.both:
		case <-time.After(50 * time.Millisecond):
		}
		return f(py)
	}
}

func personIndex(id string) int {
	for i, p := range persons() {
		if p.ID == id {
			return i
		}
	}
	return -1
}

// settleTask is one Settle call of the concurrency test: a job's claim, or
// its conflicting twin.
type settleTask struct {
	job   int
	claim engine.Claim
	twin  bool
}

type settleCall struct {
	settleTask
	outcome
}

// task is one call of phase 2: a Settle or a Reverse.
type task struct {
	job    int
	rev    *store.Reversal
	settle *settleTask
}

// collectSettlements checks the outcomes of concurrent Settle calls and
// records each job's settlement in settled (jobs already there are left
// alone). All calls of a job get one settlement; a job with a twin has one
// winner, the other side gets ErrConflict. byID maps the settlement ids
// seen so far to their job: no two jobs share one.
func (e *env) collectSettlements(calls [][]settleCall, settled []engine.Settlement, byID map[string]int, twins map[int]engine.Claim) {
	t := e.t
	t.Helper()
	type side struct{ ok, conflict int }
	sides := map[int]*[2]side{}
	fresh := map[int]bool{}
	for _, cs := range calls {
		for _, c := range cs {
			if sides[c.job] == nil {
				sides[c.job] = &[2]side{}
			}
			k := 0
			if c.twin {
				k = 1
			}
			if c.err != nil {
				if _, ok := twins[c.job]; ok && errors.Is(c.err, store.ErrConflict) {
					sides[c.job][k].conflict++
					continue
				}
				t.Errorf("Settle of job %d (twin %t, %s/%s): %v", c.job, c.twin, c.claim.InstitutionID, c.claim.RequestID, c.err)
				continue
			}
			sides[c.job][k].ok++
			// Recorded as settled: every fixture is local care.
			if d := diff(c.st.Claim, c.claim.Decided(engine.CrossRegionLocal)); len(d) > 0 {
				t.Errorf("job %d: Settle returned another claim: %v", c.job, d)
			}
			if c.st.State != engine.StateSettled && settled[c.job].ID == "" {
				t.Errorf("job %d: state %v, want SETTLED", c.job, c.st.State)
			}
			if first := settled[c.job]; first.ID != "" {
				if fresh[c.job] {
					sameFigures(t, fmt.Sprintf("concurrent retry of job %d", c.job), c.st, first)
				}
				continue
			}
			if j, dup := byID[c.st.ID]; dup {
				t.Errorf("jobs %d and %d got the same settlement %s", j, c.job, c.st.ID)
			}
			byID[c.st.ID] = c.job
			settled[c.job] = c.st
			fresh[c.job] = true
		}
	}
	for j, s := range sides {
		if s[0].ok > 0 && s[1].ok > 0 {
			t.Errorf("job %d: the same request id was settled for two different claims", j)
		}
		if s[0].ok == 0 && s[1].ok == 0 {
			t.Errorf("job %d: no Settle call succeeded (%d and %d conflicts)", j, s[0].conflict, s[1].conflict)
		}
	}
}

// runWorkers runs f(0..workers-1) in goroutines released together.
func runWorkers(f func(g int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(g)
		}()
	}
	close(start)
	wg.Wait()
}

// checkTotals compares the store's state with the sum of the settlements
// not reversed: per person-year the accumulators, per institution-year the
// budget usage, per person the balance.
func (e *env) checkTotals(settled []engine.Settlement, reversed []bool) {
	t := e.t
	t.Helper()
	type iy struct {
		inst string
		year int
	}
	acc := map[string]engine.Accumulators{}
	used := map[iy]engine.Money{}
	account := map[string]engine.Money{}
	inpatients := map[string]int{}
	for j, st := range settled {
		if reversed[j] {
			continue
		}
		c := st.Claim
		k := fmt.Sprintf("%s/%d", c.PersonID, c.Year())
		a, ok := acc[k]
		if !ok {
			a = engine.NewAccumulators(c.PersonID, c.Year())
		}
		acc[k] = a.Apply(st.Result.Delta, +1)
		used[iy{c.InstitutionID, c.Year()}] = used[iy{c.InstitutionID, c.Year()}].Add(st.Result.Breakdown.BasicFund)
		account[c.PersonID] = account[c.PersonID].Add(st.Result.Breakdown.Account)
		if c.VisitType == engine.VisitInpatient {
			inpatients[k]++
		}
	}
	for _, p := range persons() {
		for _, y := range []int{2024, 2025} {
			k := fmt.Sprintf("%s/%d", p.ID, y)
			want, ok := acc[k]
			if !ok {
				want = engine.NewAccumulators(p.ID, y)
			}
			py := e.snap(p.ID, "", y)
			if !py.Accumulators.Equal(want) {
				t.Errorf("%s: accumulators %s, want the sum of its settlements %s", k, fmtAcc(py.Accumulators), fmtAcc(want))
			}
			if py.Accumulators.InpatientCount != inpatients[k] {
				t.Errorf("%s: inpatient count %d, want %d inpatient settlements", k, py.Accumulators.InpatientCount, inpatients[k])
			}
			if pool := py.Accumulators.Pool("basic"); pool.GreaterThan(dec("20000")) {
				t.Errorf("%s: cap pool basic used %s, above its cap 20000", k, pool)
			}
			if wantBal := p.AccountBalance.Sub(account[p.ID]); !py.Person.AccountBalance.Equal(wantBal) || py.Person.AccountBalance.IsNegative() {
				t.Errorf("%s: balance %s, want %s − %s = %s", p.ID, py.Person.AccountBalance, p.AccountBalance, account[p.ID], wantBal)
			}
		}
	}
	for _, in := range institutions() {
		for _, y := range []int{2024, 2025} {
			got := e.snap(psnEmployed, in.ID, y).BudgetUsed
			if want := used[iy{in.ID, y}]; !got.Equal(want) {
				t.Errorf("%s/%d: budget used %s, want the sum of basic fund of its settlements %s", in.ID, y, got, want)
			}
		}
	}
}

// checkDeductibleSequence checks that no entry of the inpatient deductible
// sequence 700, 500, 0 was used twice in a person-year: admissions were
// counted one at a time.
func checkDeductibleSequence(t *testing.T, settled []engine.Settlement) {
	t.Helper()
	seq := map[string][]string{}
	for _, st := range settled {
		c := st.Claim
		if c.VisitType != engine.VisitInpatient {
			continue
		}
		k := fmt.Sprintf("%s/%d", c.PersonID, c.Year())
		seq[k] = append(seq[k], st.Result.Breakdown.Deductible.String())
	}
	for k, ds := range seq {
		sort.Sort(sort.Reverse(sort.StringSlice(ds)))
		for i, d := range ds {
			want := "0.00"
			switch i {
			case 0:
				want = "700.00"
			case 1:
				want = "500.00"
			}
			if d != want {
				t.Errorf("%s: inpatient deductibles applied %v, want 700, 500, then 0: an admission was counted twice", k, ds)
				break
			}
		}
	}
}

// checkBudgetReports checks the budget status of each settlement of
// phase 1 (no reversals, so usage only grows): none at the institution
// without a budget; at the other one, a usage that counts the
// settlement's own basic fund and no more than the final usage, classified
// by engine.NewBudgetStatus.
//
// It does not require the reported usages to form one running sum (each
// being exactly the previous commit's usage plus its basic fund): a store
// may spread an institution's usage over several rows so that different
// persons never wait for each other, and then two concurrent settlements
// may each report the usage without the other. The exact figure is checked
// where the order is known: BudgetStatus and PersonsDoNotWaitForEachOther.
func (e *env) checkBudgetReports(settled []engine.Settlement) {
	t := e.t
	t.Helper()
	finals := map[string]engine.Money{}
	for _, st := range settled {
		c := st.Claim
		limit, ok := e.insts[c.InstitutionID].Budget(c.Year())
		b := st.Result.Budget
		if !ok {
			if b != nil {
				t.Errorf("settlement %s at %s, which has no budget, has a budget status %+v", st.ID, c.InstitutionID, *b)
			}
			continue
		}
		if b == nil {
			t.Errorf("settlement %s at %s has no budget status", st.ID, c.InstitutionID)
			continue
		}
		k := fmt.Sprintf("%s/%d", c.InstitutionID, c.Year())
		final, seen := finals[k]
		if !seen {
			final = e.snap(c.PersonID, c.InstitutionID, c.Year()).BudgetUsed
			finals[k] = final
		}
		if b.Used.LessThan(st.Result.Breakdown.BasicFund) || b.Used.GreaterThan(final) {
			t.Errorf("%s/%d: settlement %s reports usage %s; want at least its own basic fund %s and at most the final usage %s",
				c.InstitutionID, c.Year(), st.ID, b.Used, st.Result.Breakdown.BasicFund, final)
		}
		if d := diff(*b, engine.NewBudgetStatus(c.Year(), limit, b.Used, ratio("0.9"))); len(d) > 0 {
			t.Errorf("settlement %s: budget status %v", st.ID, d)
		}
	}
}
