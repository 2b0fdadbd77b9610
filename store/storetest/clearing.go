package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// Clearing: which settlements a run reads (API.md, "Clearing"), run keys,
// drafts, finals and snapshots (CLEARING.md), capitation contracts and
// reconciliation, against the error contract of store.ClearingStore.
//
// The tests settle claims through Store.Settle with a compute function
// that returns chosen figures and the policy (region, scheme) the
// settlement used, and feed runs to a recording engine.Clearer, so that
// they check the store and not the clearing arithmetic.

// Clearing fixtures besides env's: a resident of R1, an employee of R2, an
// institution of R2 with a 2024 budget and one of R1 with a 2025 budget
// only.
const (
	region2 = "R2"

	hospOther = "H3" // region R2, level 2, budget 50,000 in 2024
	hospLater = "H4" // region R1, level 1, budget 80,000 in 2025 only

	psnResident = "P4" // resident of R1, no account
	psnOther    = "P5" // employee of R2, account 5000.00
)

func date(y int, m time.Month, d int) engine.Date { return engine.Date{Year: y, Month: m, Day: d} }

var (
	q1From, q1To = date(2024, time.January, 1), date(2024, time.March, 31)
	q2From, q2To = date(2024, time.April, 1), date(2024, time.June, 30)
)

// clearEnv is env with the clearing fixtures and a counter of the
// settlements it made; label names each settlement in messages.
type clearEnv struct {
	*env
	n     int
	label map[string]string
}

func newClearEnv(t *testing.T, newStore func(t *testing.T) store.Store) *clearEnv {
	t.Helper()
	ce := &clearEnv{env: newEnv(t, newStore), label: map[string]string{}}
	for _, p := range []engine.Person{
		{ID: psnResident, Name: "Zhao Liu", Region: region, Scheme: engine.SchemeResident, Category: engine.CategoryOrdinary},
		{ID: psnOther, Name: "Qian Qi", Region: region2, Scheme: engine.SchemeEmployee, Employment: engine.EmploymentEmployed,
			Category: engine.CategoryOrdinary, ContributionYears: 5, AccountBalance: dec("5000.00")},
	} {
		if err := ce.st.PutPerson(ce.ctx, p); err != nil {
			t.Fatalf("PutPerson %s: %v", p.ID, err)
		}
		ce.start[p.ID] = p
	}
	for _, in := range []engine.Institution{
		{ID: hospOther, Name: "County Hospital of R2", Region: region2, Level: 2, Budgets: []engine.Budget{{Year: 2024, Amount: dec("50000.00")}}},
		{ID: hospLater, Name: "Township Health Centre", Region: region, Level: 1, Budgets: []engine.Budget{{Year: 2025, Amount: dec("80000.00")}}},
	} {
		if err := ce.st.PutInstitution(ce.ctx, in); err != nil {
			t.Fatalf("PutInstitution %s: %v", in.ID, err)
		}
		ce.insts[in.ID] = in
	}
	return ce
}

// caseSpec is one settlement to make: an inpatient claim unless visit
// says otherwise, under the person's region and scheme unless polRegion
// or polScheme say otherwise.
type caseSpec struct {
	label        string
	inst, person string
	visit        engine.VisitType
	day          engine.Date
	drg          string
	polRegion    string
	polScheme    engine.Scheme
}

// figures are the n-th settlement's figures: total, 30% personal (1.00
// of it from the account for employees), 5.00 catastrophic, the rest
// basic fund.
func figures(n int, account bool) engine.Breakdown {
	total := dec(fmt.Sprintf("%d.%02d", 1000+37*n, (n*13)%100))
	personal := total.MulRatio(ratio("0.3"))
	fund := total.Sub(personal)
	var acct engine.Money
	if account {
		acct = dec("1.00")
	}
	return engine.Breakdown{
		Total:         total,
		InScope:       total,
		BasicFund:     fund.Sub(dec("5.00")),
		Catastrophic:  dec("5.00"),
		FundTotal:     fund,
		PersonalTotal: personal,
		Account:       acct,
		Cash:          personal.Sub(acct),
	}
}

// settleCase settles one claim with chosen figures.
func (ce *clearEnv) settleCase(cs caseSpec) engine.Settlement {
	ce.t.Helper()
	ce.n++
	c := inpatient(fmt.Sprintf("clr-%04d", ce.n), cs.inst, cs.person, cs.day, "100")
	if cs.visit != engine.VisitUnspecified {
		c.VisitType = cs.visit
	}
	c.DRGCode = cs.drg
	p := ce.start[cs.person]
	res := engine.Result{
		PolicyVersion: "clearing-fixture",
		PolicyRegion:  p.Region,
		PolicyScheme:  p.Scheme,
		Breakdown:     figures(ce.n, p.Scheme == engine.SchemeEmployee),
		Delta:         engine.NewAccumulators(cs.person, cs.day.Year),
	}
	if cs.polRegion != "" {
		res.PolicyRegion = cs.polRegion
	}
	if cs.polScheme != engine.SchemeUnspecified {
		res.PolicyScheme = cs.polScheme
	}
	st, err := ce.st.Settle(ce.ctx, c, func(store.PersonYear) (engine.Result, error) { return res, nil })
	if err != nil {
		ce.t.Fatalf("Settle %s (%s): %v", c.RequestID, cs.label, err)
	}
	ce.label[st.ID] = cs.label
	return st
}

func (ce *clearEnv) reverse(st engine.Settlement) {
	ce.t.Helper()
	r := store.Reversal{RequestID: "rv-" + st.Claim.RequestID, SettlementID: st.ID, Reason: "clearing fixture", Institution: st.Claim.InstitutionID}
	if _, err := ce.st.Reverse(ce.ctx, r); err != nil {
		ce.t.Fatalf("Reverse %s: %v", st.ID, err)
	}
}

func (ce *clearEnv) name(id string) string {
	if l, ok := ce.label[id]; ok {
		return fmt.Sprintf("%s (%s)", id, l)
	}
	return id
}

// caseOf is the case a run must read for settlement st at an institution
// of registry level level.
func caseOf(st engine.Settlement, level int) engine.ClearingCase {
	b := st.Result.Breakdown
	return engine.ClearingCase{
		SettlementID:  st.ID,
		RequestID:     st.Claim.RequestID,
		InstitutionID: st.Claim.InstitutionID,
		Level:         level,
		VisitType:     st.Claim.VisitType,
		SettleDate:    st.Claim.SettleDate,
		DRGCode:       st.Claim.DRGCode,
		Total:         b.Total,
		PersonalTotal: b.PersonalTotal,
		BasicFund:     b.BasicFund,
	}
}

// recorder is an engine.Clearer that records what it is given. Add
// returns a case line for every case with a DRG code; Finish sums the
// cases per institution. Hooks make it fail or act in the middle of a run.
type recorder struct {
	mu        sync.Mutex
	begins    []engine.RunInputs
	cases     []engine.ClearingCase
	lines     []engine.CaseLine
	addEarly  bool // Add was called before Begin
	finishes  int
	returned  engine.ClearingRun // what Finish returned last
	beginErr  error
	finishErr error
	// onAdd runs in Add for the i-th case (from 0), without the
	// recorder's lock; an error fails Add.
	onAdd func(i int, c engine.ClearingCase) error
}

// Begin records the inputs.
func (r *recorder) Begin(in engine.RunInputs) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	in.Institutions = append([]engine.Institution(nil), in.Institutions...)
	r.begins = append(r.begins, in)
	return r.beginErr
}

// Add records the case and returns a line for a case with a DRG code.
func (r *recorder) Add(c engine.ClearingCase) (*engine.CaseLine, error) {
	r.mu.Lock()
	i := len(r.cases)
	r.cases = append(r.cases, c)
	if len(r.begins) == 0 {
		r.addEarly = true
	}
	hook := r.onAdd
	r.mu.Unlock()
	if hook != nil {
		if err := hook(i, c); err != nil {
			return nil, err
		}
	}
	if c.DRGCode == "" {
		return nil, nil
	}
	l := engine.CaseLine{
		SettlementID: c.SettlementID, RequestID: c.RequestID, InstitutionID: c.InstitutionID,
		SettleDate: c.SettleDate, DRGCode: c.DRGCode, Total: c.Total,
		Ratio: ratio("1.2345"), Kind: engine.CostNormal, Points: engine.PointsFromScaled(int64(100+i) * 10_000),
		PersonalTotal: c.PersonalTotal, BasicFund: c.BasicFund,
	}
	r.mu.Lock()
	r.lines = append(r.lines, l)
	r.mu.Unlock()
	return &l, nil
}

// Finish returns result().
func (r *recorder) Finish() (engine.ClearingRun, error) {
	r.mu.Lock()
	r.finishes++
	r.mu.Unlock()
	if r.finishErr != nil {
		return engine.ClearingRun{}, r.finishErr
	}
	run := r.result()
	r.mu.Lock()
	r.returned = run
	r.mu.Unlock()
	return run, nil
}

// result is what Finish returns, built afresh at each call: the counts
// and basic fund per institution (points of the cases with a line), and a
// capitation clearing when Begin got members.
func (r *recorder) result() engine.ClearingRun {
	r.mu.Lock()
	defer r.mu.Unlock()
	run := engine.ClearingRun{Settlements: int64(len(r.cases)), Budget: dec("12345.67"), Kind: engine.ClearingUnspecified}
	byInst := map[string]*engine.ClearingLine{}
	for _, c := range r.cases {
		l := byInst[c.InstitutionID]
		if l == nil {
			l = &engine.ClearingLine{InstitutionID: c.InstitutionID}
			byInst[c.InstitutionID] = l
		}
		l.Cases++
		l.BasicFund = l.BasicFund.Add(c.BasicFund)
		l.Claimed = l.Claimed.Add(c.BasicFund)
		run.PaidTotal = run.PaidTotal.Add(c.BasicFund)
		if c.DRGCode == "" {
			run.Ungrouped++
			run.UngroupedBasicFund = run.UngroupedBasicFund.Add(c.BasicFund)
		}
	}
	for _, l := range r.lines {
		byInst[l.InstitutionID].Points = byInst[l.InstitutionID].Points.Add(l.Points)
		run.TotalPoints = run.TotalPoints.Add(l.Points)
	}
	for _, l := range byInst {
		run.Institutions = append(run.Institutions, *l)
	}
	sort.Slice(run.Institutions, func(i, j int) bool { return run.Institutions[i].InstitutionID < run.Institutions[j].InstitutionID })
	if len(r.begins) > 0 && r.begins[0].Members > 0 {
		run.Capitation = &engine.CapitationClearing{
			Members: r.begins[0].Members, Budget: dec("7400.00"), Actual: run.PaidTotal,
			Shares:     []engine.PartyAmount{{Party: "county", Amount: dec("1.00")}, {Party: "village", Amount: dec("2.00")}},
			Components: []engine.ComponentClearing{{Name: "chronic care", Budget: dec("7400.00"), Actual: run.PaidTotal}},
		}
	}
	return run
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.cases {
		out = append(out, c.SettlementID)
	}
	return out
}

func (r *recorder) began() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.begins)
}

// progressLog records progress reports.
type progressLog struct {
	mu    sync.Mutex
	calls [][2]int64
}

func (p *progressLog) report(processed, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, [2]int64{processed, total})
}

// check fails unless the reports start at (0, total), end at (total,
// total), never go back and keep one total.
func (p *progressLog) check(t *testing.T, what string, total int64) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.calls) == 0 {
		t.Errorf("%s: no progress reported", what)
		return
	}
	if first := p.calls[0]; first != [2]int64{0, total} {
		t.Errorf("%s: first progress %v, want [0 %d]", what, first, total)
	}
	if last := p.calls[len(p.calls)-1]; last != [2]int64{total, total} {
		t.Errorf("%s: last progress %v, want [%d %d]", what, last, total, total)
	}
	for i := 1; i < len(p.calls); i++ {
		if p.calls[i][0] < p.calls[i-1][0] || p.calls[i][1] != total {
			t.Errorf("%s: progress %v after %v (total %d)", what, p.calls[i], p.calls[i-1], total)
		}
	}
}

func drgSel(scheme engine.Scheme, from, to engine.Date, final bool) store.Selection {
	return store.Selection{Kind: engine.ClearingDRG, Region: region, Scheme: scheme, Year: from.Year, From: from, To: to, Final: final}
}

func capSel(c engine.CapitationContract, final bool) store.Selection {
	return store.Selection{
		Kind: engine.ClearingCapitation, Region: c.Region, Scheme: c.Scheme, Year: c.Year,
		From: date(c.Year, time.January, 1), To: date(c.Year, time.December, 31),
		VisitTypes: c.VisitTypes(), ContractID: c.ContractID, Final: final,
	}
}

// identity is the run the store must store for sel from what Finish
// returned: Finish's figures with the selection's identity.
func identity(sel store.Selection, fin engine.ClearingRun, runID string) engine.ClearingRun {
	fin.RunID = runID
	fin.Kind, fin.Region, fin.Scheme, fin.Year = sel.Kind, sel.Region, sel.Scheme, sel.Year
	fin.From, fin.To, fin.ContractID, fin.Final = sel.From, sel.To, sel.ContractID, sel.Final
	return fin
}

// run runs a clearing with a new recorder and checks what every
// successful run must: one Begin before the cases, one Finish, the stored
// run as Finish returned it with sel's identity, the same as
// GetClearingRun reads, and the progress reports.
func (ce *clearEnv) run(what string, sel store.Selection) (engine.ClearingRun, *recorder) {
	ce.t.Helper()
	rec := &recorder{}
	return ce.runWith(what, sel, rec), rec
}

func (ce *clearEnv) runWith(what string, sel store.Selection, rec *recorder) engine.ClearingRun {
	t := ce.t
	t.Helper()
	var prog progressLog
	got, err := ce.st.RunClearing(ce.ctx, sel, rec, prog.report)
	if err != nil {
		t.Fatalf("%s: RunClearing: %v", what, err)
	}
	if rec.began() != 1 || rec.addEarly || rec.finishes != 1 {
		t.Errorf("%s: Begin called %d times (Add before it: %t), Finish %d times; want once each, Begin first", what, rec.began(), rec.addEarly, rec.finishes)
	}
	if got.RunID == "" {
		t.Errorf("%s: the stored run has no id", what)
	}
	if d := diff(got, identity(sel, rec.result(), got.RunID)); len(d) > 0 {
		t.Errorf("%s: stored run differs from what Finish returned with the selection's identity: %v", what, d)
	}
	read, err := ce.st.GetClearingRun(ce.ctx, got.RunID)
	if err != nil {
		t.Fatalf("%s: GetClearingRun %s: %v", what, got.RunID, err)
	}
	if d := diff(read, got); len(d) > 0 {
		t.Errorf("%s: GetClearingRun differs from what RunClearing returned: %v", what, d)
	}
	prog.check(t, what, int64(len(rec.ids())))
	return got
}

// selected checks that rec was given exactly the settlements want, each
// once, with the fields of caseOf at its institution's level.
func (ce *clearEnv) selected(what string, rec *recorder, levels map[string]int, want ...engine.Settlement) {
	t := ce.t
	t.Helper()
	wanted := map[string]engine.Settlement{}
	for _, st := range want {
		wanted[st.ID] = st
	}
	seen := map[string]bool{}
	rec.mu.Lock()
	cases := append([]engine.ClearingCase(nil), rec.cases...)
	rec.mu.Unlock()
	for _, c := range cases {
		if seen[c.SettlementID] {
			t.Errorf("%s: settlement %s was given twice", what, ce.name(c.SettlementID))
		}
		seen[c.SettlementID] = true
		st, ok := wanted[c.SettlementID]
		if !ok {
			t.Errorf("%s: settlement %s should not be in the run", what, ce.name(c.SettlementID))
			continue
		}
		if d := diff(c, caseOf(st, levels[st.Claim.InstitutionID])); len(d) > 0 {
			t.Errorf("%s: case of %s: %v", what, ce.name(c.SettlementID), d)
		}
	}
	for _, st := range want {
		if !seen[st.ID] {
			t.Errorf("%s: settlement %s is missing from the run", what, ce.name(st.ID))
		}
	}
}

// regionInputs checks Begin's institutions: the region's, by id, as the
// registry has them.
func (ce *clearEnv) regionInputs(what string, rec *recorder, ids ...string) {
	t := ce.t
	t.Helper()
	if rec.began() != 1 {
		return
	}
	in := rec.begins[0]
	var got []string
	for _, i := range in.Institutions {
		got = append(got, i.ID)
	}
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Errorf("%s: Begin got institutions %v, want %v", what, got, ids)
		return
	}
	for _, i := range in.Institutions {
		sortBudgets(i.Budgets)
		if d := diff(i, ce.insts[i.ID]); len(d) > 0 {
			t.Errorf("%s: Begin got institution %s: %v", what, i.ID, d)
		}
	}
	if in.Members != 0 {
		t.Errorf("%s: Begin got %d members, want 0", what, in.Members)
	}
}

// ---------------------------------------------------------------------------
// Selection

func testClearingSelectsDRG(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	from, to := date(2024, time.March, 1), date(2024, time.June, 30)
	in := []engine.Settlement{
		ce.settleCase(caseSpec{label: "grouped at H1", inst: hospBudget, person: psnEmployed, day: date(2024, time.April, 10), drg: "G1"}),
		ce.settleCase(caseSpec{label: "no DRG code at H2", inst: hospNoBudget, person: psnRetired, day: date(2024, time.May, 5)}),
		ce.settleCase(caseSpec{label: "on the first day", inst: hospBudget, person: psnPoor, day: from, drg: "G2"}),
		ce.settleCase(caseSpec{label: "on the last day", inst: hospNoBudget, person: psnEmployed, day: to, drg: "G1"}),
		ce.settleCase(caseSpec{label: "at H4, no budget that year", inst: hospLater, person: psnEmployed, day: date(2024, time.April, 1), drg: "G3"}),
	}
	reversed := ce.settleCase(caseSpec{label: "reversed", inst: hospBudget, person: psnEmployed, day: date(2024, time.April, 11), drg: "G1"})
	ce.reverse(reversed)
	for _, cs := range []caseSpec{
		{label: "policy of another region", inst: hospBudget, person: psnOther, day: date(2024, time.April, 12), drg: "G1"},
		{label: "policy of another scheme", inst: hospBudget, person: psnResident, day: date(2024, time.April, 13), drg: "G1"},
		{label: "region R1 with another scheme", inst: hospBudget, person: psnEmployed, day: date(2024, time.April, 13), polScheme: engine.SchemeResident},
		{label: "chronic outpatient", inst: hospBudget, person: psnEmployed, visit: engine.VisitChronicOutpatient, day: date(2024, time.April, 14), drg: "G1"},
		{label: "outpatient", inst: hospBudget, person: psnEmployed, visit: engine.VisitOutpatient, day: date(2024, time.April, 14)},
		{label: "the day before the period", inst: hospBudget, person: psnEmployed, day: date(2024, time.February, 29), drg: "G1"},
		{label: "the day after the period", inst: hospBudget, person: psnEmployed, day: date(2024, time.July, 1), drg: "G1"},
		{label: "at an institution of another region", inst: hospOther, person: psnEmployed, day: date(2024, time.April, 15), drg: "G1"},
		{label: "next year", inst: hospBudget, person: psnEmployed, day: date(2025, time.April, 15), drg: "G1"},
	} {
		ce.settleCase(cs)
	}
	// The level a run reads is the registry's when it runs.
	h2 := ce.insts[hospNoBudget]
	h2.Level = 2
	if err := ce.st.PutInstitution(ce.ctx, h2); err != nil {
		t.Fatal(err)
	}
	ce.insts[hospNoBudget] = h2

	_, rec := ce.run("DRG draft", drgSel(engine.SchemeEmployee, from, to, false))
	ce.selected("DRG", rec, map[string]int{hospBudget: 3, hospNoBudget: 2, hospLater: 1}, in...)
	ce.regionInputs("DRG", rec, hospBudget, hospNoBudget, hospLater)

	// The resident scheme of R1 reads the resident's settlement and the
	// one settled under the resident policy of R1.
	_, rec = ce.run("DRG of residents", drgSel(engine.SchemeResident, from, to, false))
	if got := len(rec.ids()); got != 2 {
		t.Errorf("DRG of residents read %d settlements %v, want 2", got, rec.ids())
	}
	// Another region reads only its institutions, with their own policy.
	sel := drgSel(engine.SchemeEmployee, from, to, false)
	sel.Region = region2
	_, rec = ce.run("DRG of R2", sel)
	ce.selected("DRG of R2", rec, nil)
	ce.regionInputs("DRG of R2", rec, hospOther)
}

func testClearingSelectsBudget(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	in := []engine.Settlement{
		ce.settleCase(caseSpec{label: "inpatient on January 1st", inst: hospBudget, person: psnEmployed, day: date(2024, time.January, 1), drg: "G1"}),
		ce.settleCase(caseSpec{label: "a resident", inst: hospBudget, person: psnResident, day: date(2024, time.June, 1)}),
		ce.settleCase(caseSpec{label: "insured in R2, chronic, on December 31st", inst: hospBudget, person: psnOther, visit: engine.VisitChronicOutpatient, day: date(2024, time.December, 31)}),
	}
	reversed := ce.settleCase(caseSpec{label: "reversed", inst: hospBudget, person: psnEmployed, day: date(2024, time.June, 2)})
	ce.reverse(reversed)
	for _, cs := range []caseSpec{
		{label: "outpatient", inst: hospBudget, person: psnEmployed, visit: engine.VisitOutpatient, day: date(2024, time.June, 2)},
		{label: "the day before the year", inst: hospBudget, person: psnEmployed, day: date(2023, time.December, 31)},
		{label: "the day after the year", inst: hospBudget, person: psnEmployed, day: date(2025, time.January, 1)},
		{label: "at H2, no budget", inst: hospNoBudget, person: psnEmployed, day: date(2024, time.June, 3)},
		{label: "at H4, a budget for 2025 only", inst: hospLater, person: psnEmployed, day: date(2024, time.June, 4)},
		{label: "at H3 of R2, with a budget", inst: hospOther, person: psnEmployed, day: date(2024, time.June, 5)},
	} {
		ce.settleCase(cs)
	}
	sel := store.Selection{Kind: engine.ClearingBudget, Region: region, Scheme: engine.SchemeEmployee, Year: 2024,
		From: jan1st2024, To: dec31st24, VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient}}
	_, rec := ce.run("BUDGET", sel)
	ce.selected("BUDGET", rec, map[string]int{hospBudget: 3}, in...)
	ce.regionInputs("BUDGET", rec, hospBudget, hospNoBudget, hospLater)

	// The scheme picks the rules, not the settlements.
	sel.Scheme = engine.SchemeResident
	_, rec = ce.run("BUDGET under the resident policy", sel)
	ce.selected("BUDGET under the resident policy", rec, map[string]int{hospBudget: 3}, in...)
}

// chronicContract is a capitation contract of R1's employees in year led
// by H1: inpatient and chronic outpatient care at 3700 a member.
func chronicContract(id string, year int) engine.CapitationContract {
	return engine.CapitationContract{
		ContractID: id, InstitutionID: hospBudget, Region: region, Scheme: engine.SchemeEmployee, Year: year,
		Components: []engine.CapitationComponent{{Name: "chronic care", Rate: dec("3700.00"),
			VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient}}},
		Shares: []engine.CapitationShare{{Party: "county", Share: ratio("0.4")}, {Party: "township", Share: ratio("0.4")},
			{Party: "village", Share: ratio("0.2")}},
		OverspendShare: ratio("0.5"), OverspendTolerance: ratio("0.1"),
	}
}

func (ce *clearEnv) putContract(c engine.CapitationContract) {
	ce.t.Helper()
	if err := engine.ValidateContract(&c); err != nil {
		ce.t.Fatalf("fixture contract %s is invalid: %v", c.ContractID, err)
	}
	if err := ce.st.PutContract(ce.ctx, c); err != nil {
		ce.t.Fatalf("PutContract %s: %v", c.ContractID, err)
	}
}

func (ce *clearEnv) enroll(contract string, ids ...string) {
	ce.t.Helper()
	n, rej, err := ce.st.EnrollMembers(ce.ctx, contract, ids)
	if err != nil || n != int64(len(ids)) || len(rej) != 0 {
		ce.t.Fatalf("EnrollMembers %s %v: %d enrolled, rejected %v, %v", contract, ids, n, rej, err)
	}
}

func testClearingSelectsCapitation(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	con := chronicContract("CC1", 2024)
	ce.putContract(con)
	ce.enroll(con.ContractID, psnEmployed, psnRetired)
	in := []engine.Settlement{
		ce.settleCase(caseSpec{label: "member, inpatient, January 1st", inst: hospBudget, person: psnEmployed, day: date(2024, time.January, 1), drg: "G1"}),
		ce.settleCase(caseSpec{label: "member, chronic, at R2's H3, December 31st", inst: hospOther, person: psnRetired, visit: engine.VisitChronicOutpatient, day: date(2024, time.December, 31)}),
		ce.settleCase(caseSpec{label: "member at H2", inst: hospNoBudget, person: psnEmployed, day: date(2024, time.July, 1)}),
	}
	reversed := ce.settleCase(caseSpec{label: "reversed", inst: hospBudget, person: psnEmployed, day: date(2024, time.June, 2)})
	ce.reverse(reversed)
	for _, cs := range []caseSpec{
		{label: "not a member", inst: hospBudget, person: psnPoor, day: date(2024, time.May, 1)},
		{label: "outpatient", inst: hospBudget, person: psnEmployed, visit: engine.VisitOutpatient, day: date(2024, time.June, 2)},
		{label: "the day before the year", inst: hospBudget, person: psnEmployed, day: date(2023, time.December, 31)},
		{label: "the day after the year", inst: hospBudget, person: psnRetired, day: date(2025, time.January, 1)},
	} {
		ce.settleCase(cs)
	}
	sel := capSel(con, false)
	got, rec := ce.run("CAPITATION", sel)
	ce.selected("CAPITATION", rec, map[string]int{hospBudget: 3, hospOther: 2, hospNoBudget: 3}, in...)
	if rec.began() == 1 {
		if in := rec.begins[0]; in.Members != 2 || len(in.Institutions) != 0 {
			t.Errorf("CAPITATION: Begin got %d members and institutions %v, want 2 members and no institutions", in.Members, in.Institutions)
		}
	}
	if got.Capitation == nil || got.Capitation.Members != 2 {
		t.Errorf("CAPITATION: stored capitation clearing %+v, want Finish's", got.Capitation)
	}

	// An unknown contract: ErrNotFound, and the clearer is not called.
	sel.ContractID = "CC-none"
	rec = &recorder{}
	if _, err := ce.st.RunClearing(ce.ctx, sel, rec, nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RunClearing of an unknown contract: %v, want ErrNotFound", err)
	}
	if rec.began() != 0 {
		t.Errorf("RunClearing of an unknown contract called Begin")
	}
}

// ---------------------------------------------------------------------------
// Stored runs

// testClearingStoresRun checks the stored run, its statement cases and
// copies.
func testClearingStoresRun(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	var h1 []engine.Settlement
	for i, drg := range []string{"G1", "", "G2", "G1", "G3"} {
		h1 = append(h1, ce.settleCase(caseSpec{label: fmt.Sprintf("H1 #%d", i), inst: hospBudget, person: psnEmployed, day: date(2024, time.February, 1+i), drg: drg}))
	}
	h2 := ce.settleCase(caseSpec{label: "H2", inst: hospNoBudget, person: psnRetired, day: date(2024, time.March, 3), drg: "G2"})
	sel := drgSel(engine.SchemeEmployee, q1From, q1To, false)

	// A nil progress is allowed.
	rec := &recorder{}
	got, err := ce.st.RunClearing(ce.ctx, sel, rec, nil)
	if err != nil {
		t.Fatalf("RunClearing with no progress: %v", err)
	}
	if d := diff(got, identity(sel, rec.result(), got.RunID)); len(d) > 0 || got.RunID == "" {
		t.Errorf("stored run %q: %v", got.RunID, d)
	}

	// Statement cases: the lines Add returned, by institution and
	// settlement id; cases without a line are not listed.
	var want []engine.CaseLine
	for _, l := range rec.lines {
		if l.InstitutionID == hospBudget {
			want = append(want, l)
		}
	}
	sort.Slice(want, func(i, j int) bool { return want[i].SettlementID < want[j].SettlementID })
	if len(want) != 4 {
		t.Fatalf("fixture: %d lines at H1, want 4", len(want))
	}
	lines := func(inst, after string, limit int) []engine.CaseLine {
		t.Helper()
		ls, err := ce.st.StatementCases(ce.ctx, got.RunID, inst, after, limit)
		if err != nil {
			t.Fatalf("StatementCases %s after %q: %v", inst, after, err)
		}
		return ls
	}
	if d := diff(lines(hospBudget, "", 100), want); len(d) > 0 {
		t.Errorf("StatementCases of H1: %v", d)
	}
	if d := diff(lines(hospBudget, "", 3), want[:3]); len(d) > 0 {
		t.Errorf("StatementCases of H1, limit 3: %v", d)
	}
	if d := diff(lines(hospBudget, want[1].SettlementID, 2), want[2:4]); len(d) > 0 {
		t.Errorf("StatementCases of H1 after the second: %v", d)
	}
	if d := diff(lines(hospBudget, want[3].SettlementID, 10), []engine.CaseLine{}); len(d) > 0 {
		t.Errorf("StatementCases of H1 after the last: %v", d)
	}
	// Paging from an id between two listed ones (the ungrouped case).
	if d := diff(lines(hospBudget, h1[1].ID, 10), want[1:]); len(d) > 0 {
		t.Errorf("StatementCases of H1 after the ungrouped case: %v", d)
	}
	if ls := lines(hospNoBudget, "", 10); len(ls) != 1 || ls[0].SettlementID != h2.ID {
		t.Errorf("StatementCases of H2: %+v, want the line of %s", ls, h2.ID)
	}
	if ls := lines(hospLater, "", 10); len(ls) != 0 {
		t.Errorf("StatementCases of an institution without cases: %+v, want none", ls)
	}
	if ls := lines("H-none", "", 10); len(ls) != 0 {
		t.Errorf("StatementCases of an unknown institution: %+v, want none", ls)
	}
	if _, err := ce.st.StatementCases(ce.ctx, "CR-none", hospBudget, "", 10); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("StatementCases of an unknown run: %v, want ErrNotFound", err)
	}
	if _, err := ce.st.GetClearingRun(ce.ctx, "CR-none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetClearingRun of an unknown run: %v, want ErrNotFound", err)
	}

	// Returned values are copies: changing them changes nothing stored.
	stored, err := ce.st.GetClearingRun(ce.ctx, got.RunID)
	if err != nil {
		t.Fatal(err)
	}
	got.Institutions[0].Cases = 999
	got.Institutions[0].Payment = dec("-1")
	rec.returned.Institutions[1].Cases = 999
	again, err := ce.st.GetClearingRun(ce.ctx, got.RunID)
	if err != nil {
		t.Fatal(err)
	}
	again.Institutions[0].Points = engine.MustPoints("-7")
	ls := lines(hospBudget, "", 100)
	ls[0].Points = engine.MustPoints("-1")
	if d := diff(mustGetRun(t, ce, got.RunID), stored); len(d) > 0 {
		t.Errorf("changing returned runs changed the stored run: %v", d)
	}
	if d := diff(lines(hospBudget, "", 100), want); len(d) > 0 {
		t.Errorf("changing returned lines changed the stored lines: %v", d)
	}

	// A run's distinct ids, and a capitation run keeps its clearing.
	con := chronicContract("CC1", 2024)
	ce.putContract(con)
	ce.enroll(con.ContractID, psnEmployed)
	capRun, capRec := ce.run("CAPITATION", capSel(con, false))
	if capRun.RunID == got.RunID {
		t.Errorf("two runs got the same id %s", got.RunID)
	}
	capRun.Capitation.Shares[0].Amount = dec("-1")
	capRun.Capitation.Components[0].Name = "changed"
	capRec.returned.Capitation.Shares[0].Amount = dec("-2")
	capRec.returned.Capitation.Components[0].Actual = dec("-2")
	read := mustGetRun(t, ce, capRun.RunID)
	if read.Capitation == nil || !read.Capitation.Shares[0].Amount.Equal(dec("1.00")) || read.Capitation.Components[0].Name != "chronic care" {
		t.Errorf("changing a returned capitation clearing changed the stored one: %+v", read.Capitation)
	}
}

func mustGetRun(t *testing.T, ce *clearEnv, id string) engine.ClearingRun {
	t.Helper()
	r, err := ce.st.GetClearingRun(ce.ctx, id)
	if err != nil {
		t.Fatalf("GetClearingRun %s: %v", id, err)
	}
	return r
}

// present fails unless the run is stored as it was.
func (ce *clearEnv) present(what string, r engine.ClearingRun) {
	ce.t.Helper()
	got, err := ce.st.GetClearingRun(ce.ctx, r.RunID)
	if err != nil {
		ce.t.Errorf("%s: run %s: %v, want it stored", what, r.RunID, err)
		return
	}
	if d := diff(got, r); len(d) > 0 {
		ce.t.Errorf("%s: run %s changed: %v", what, r.RunID, d)
	}
}

// gone fails unless the run and its cases answer ErrNotFound.
func (ce *clearEnv) gone(what string, r engine.ClearingRun) {
	ce.t.Helper()
	if _, err := ce.st.GetClearingRun(ce.ctx, r.RunID); !errors.Is(err, store.ErrNotFound) {
		ce.t.Errorf("%s: GetClearingRun of replaced run %s: %v, want ErrNotFound", what, r.RunID, err)
	}
	if _, err := ce.st.StatementCases(ce.ctx, r.RunID, hospBudget, "", 10); !errors.Is(err, store.ErrNotFound) {
		ce.t.Errorf("%s: StatementCases of replaced run %s: %v, want ErrNotFound", what, r.RunID, err)
	}
}

// refusedFinal runs sel expecting engine.ErrFinalExists before anything is
// read.
func (ce *clearEnv) refusedFinal(what string, sel store.Selection) {
	ce.t.Helper()
	rec := &recorder{}
	_, err := ce.st.RunClearing(ce.ctx, sel, rec, nil)
	if !errors.Is(err, engine.ErrFinalExists) {
		ce.t.Errorf("%s: %v, want ErrFinalExists", what, err)
	}
	if rec.began() != 0 {
		ce.t.Errorf("%s: the run was computed before ErrFinalExists", what)
	}
}

func testClearingDraftsAndFinals(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	ce.settleCase(caseSpec{label: "Q1", inst: hospBudget, person: psnEmployed, day: date(2024, time.February, 1), drg: "G1"})
	ce.settleCase(caseSpec{label: "Q2", inst: hospBudget, person: psnEmployed, day: date(2024, time.May, 1), drg: "G1"})
	emp, res := engine.SchemeEmployee, engine.SchemeResident

	d1, _ := ce.run("draft Q1", drgSel(emp, q1From, q1To, false))
	if ls, err := ce.st.StatementCases(ce.ctx, d1.RunID, hospBudget, "", 10); err != nil || len(ls) != 1 {
		t.Fatalf("draft Q1 lines at H1: %+v, %v", ls, err)
	}
	d2, _ := ce.run("second draft Q1", drgSel(emp, q1From, q1To, false))
	ce.gone("a draft of the same key", d1)
	ce.present("after replacing", d2)

	// Drafts of other keys coexist: another period, scheme or kind.
	d3, _ := ce.run("draft Q2", drgSel(emp, q2From, q2To, false))
	dRes, _ := ce.run("draft Q1 of residents", drgSel(res, q1From, q1To, false))
	budgetSel := store.Selection{Kind: engine.ClearingBudget, Region: region, Scheme: emp, Year: 2024, From: q1From, To: q1To,
		VisitTypes: []engine.VisitType{engine.VisitInpatient}}
	dBudget, _ := ce.run("BUDGET draft Q1", budgetSel)
	sel2 := drgSel(emp, q1From, q1To, false)
	sel2.Region = region2
	dR2, _ := ce.run("draft Q1 of R2", sel2)
	for _, r := range []engine.ClearingRun{d2, d3, dRes, dBudget, dR2} {
		ce.present("drafts of other keys", r)
	}

	// A final run is locked; it leaves the drafts alone.
	f1, _ := ce.run("final Q1", drgSel(emp, q1From, q1To, true))
	if !f1.Final {
		t.Errorf("final Q1 is not final")
	}
	ce.present("after final Q1", d2)
	ce.refusedFinal("final Q1 again", drgSel(emp, q1From, q1To, true))
	ce.refusedFinal("final first half (overlapping Q1)", drgSel(emp, q1From, q2To, true))
	ce.refusedFinal("final March 31st to April 15th (one day of Q1)", drgSel(emp, q1To, date(2024, time.April, 15), true))
	f2, _ := ce.run("final Q2 (adjacent to Q1)", drgSel(emp, q2From, q2To, true))
	ce.refusedFinal("final March 15th to April 15th (overlapping both)", drgSel(emp, date(2024, time.March, 15), date(2024, time.April, 15), true))
	// Drafts are always allowed, even over final periods.
	d4, _ := ce.run("third draft Q1", drgSel(emp, q1From, q1To, false))
	ce.gone("a draft of the same key after a final", d2)
	d5, _ := ce.run("draft first half", drgSel(emp, q1From, q2To, false))
	// Finals of other scopes are independent.
	fRes, _ := ce.run("final Q1 of residents", drgSel(res, q1From, q1To, true))
	budgetSel.Final = true
	fBudget, _ := ce.run("BUDGET final Q1", budgetSel)
	budgetSel.Scheme = res
	ce.refusedFinal("BUDGET final Q1 under another scheme (the scheme is not in its key)", budgetSel)
	sel2.Final = true
	fR2, _ := ce.run("final Q1 of R2", sel2)
	for _, r := range []engine.ClearingRun{f1, f2, fRes, fBudget, fR2, d3, d4, d5, dRes, dBudget, dR2} {
		ce.present("at the end", r)
	}

	// Capitation: the contract is the key.
	con := chronicContract("CC1", 2024)
	ce.putContract(con)
	ce.putContract(chronicContract("CC2", 2024))
	c1, _ := ce.run("capitation draft", capSel(con, false))
	c2, _ := ce.run("capitation draft again", capSel(con, false))
	ce.gone("capitation draft", c1)
	fc, _ := ce.run("capitation final", capSel(con, true))
	ce.refusedFinal("capitation final again", capSel(con, true))
	other, _ := ce.run("final of another contract", capSel(chronicContract("CC2", 2024), true))
	for _, r := range []engine.ClearingRun{c2, fc, other} {
		ce.present("capitation", r)
	}
}

// testClearingConcurrentFinals runs two overlapping finals at once: the
// check against finals is atomic with the commit, so exactly one stores.
func testClearingConcurrentFinals(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	ce.settleCase(caseSpec{label: "Q1", inst: hospBudget, person: psnEmployed, day: date(2024, time.February, 1), drg: "G1"})
	// Each run waits in Add (up to 2s) until both runs are there: both
	// have passed the check made before reading.
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	var once [2]sync.Once
	errs := make([]error, 2)
	runs := make([]engine.ClearingRun, 2)
	var wg sync.WaitGroup
	for i, sel := range []store.Selection{drgSel(engine.SchemeEmployee, q1From, q1To, true), drgSel(engine.SchemeEmployee, q1From, q2To, true)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := &recorder{onAdd: func(int, engine.ClearingCase) error {
				once[i].Do(arrived.Done)
				select {
				case <-both:
				case <-time.After(2 * time.Second):
				}
				return nil
			}}
			runs[i], errs[i] = ce.st.RunClearing(ce.ctx, sel, rec, nil)
			once[i].Do(arrived.Done)
		}()
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, engine.ErrFinalExists):
			t.Errorf("final %d: %v, want success or ErrFinalExists", i, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of two overlapping concurrent finals were stored (errors %v), want exactly 1", ok, errs)
	}
	ce.refusedFinal("a third overlapping final", drgSel(engine.SchemeEmployee, q1From, q1To, true))
}

// testClearingFailure checks that a failing clearer or a cancelled
// context stores nothing and leaves the earlier draft as it was.
func testClearingFailure(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	for i := range 4 {
		ce.settleCase(caseSpec{label: fmt.Sprintf("Q1 #%d", i), inst: hospBudget, person: psnEmployed, day: date(2024, time.February, 1+i), drg: "G1"})
	}
	sel := drgSel(engine.SchemeEmployee, q1From, q1To, false)
	d1, _ := ce.run("draft", sel)
	lines, err := ce.st.StatementCases(ce.ctx, d1.RunID, hospBudget, "", 100)
	if err != nil || len(lines) != 4 {
		t.Fatalf("draft lines: %+v, %v", lines, err)
	}
	unchanged := func(what string) {
		t.Helper()
		ce.present(what, d1)
		got, err := ce.st.StatementCases(ce.ctx, d1.RunID, hospBudget, "", 100)
		if err != nil {
			t.Errorf("%s: StatementCases: %v", what, err)
		} else if d := diff(got, lines); len(d) > 0 {
			t.Errorf("%s: the draft's lines changed: %v", what, d)
		}
	}
	boom := errors.New("boom")
	failAt := func(n int) func(int, engine.ClearingCase) error {
		return func(i int, _ engine.ClearingCase) error {
			if i == n {
				return fmt.Errorf("%w: case %d", engine.ErrInvariant, i)
			}
			return nil
		}
	}
	for _, tc := range []struct {
		what string
		rec  func() *recorder
		want error
	}{
		{"Add fails on the third case", func() *recorder { return &recorder{onAdd: failAt(2)} }, engine.ErrInvariant},
		{"Add fails on the first case", func() *recorder { return &recorder{onAdd: failAt(0)} }, engine.ErrInvariant},
		{"Begin fails", func() *recorder { return &recorder{beginErr: boom} }, boom},
		{"Finish fails", func() *recorder { return &recorder{finishErr: boom} }, boom},
	} {
		for _, final := range []bool{false, true} {
			s := sel
			s.Final = final
			_, err := ce.st.RunClearing(ce.ctx, s, tc.rec(), nil)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s (final %t): %v, want %v", tc.what, final, err, tc.want)
			}
			unchanged(tc.what)
		}
	}
	// Cancelled in the middle of the run, and before it.
	for _, final := range []bool{false, true} {
		ctx, cancel := context.WithCancel(ce.ctx)
		rec := &recorder{onAdd: func(i int, _ engine.ClearingCase) error {
			if i == 1 {
				cancel()
			}
			return nil
		}}
		s := sel
		s.Final = final
		if _, err := ce.st.RunClearing(ctx, s, rec, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("a run cancelled in the middle (final %t): %v, want context.Canceled", final, err)
		}
		unchanged("a cancelled run")
		if _, err := ce.st.RunClearing(ctx, s, &recorder{}, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("a run with a cancelled context (final %t): %v, want context.Canceled", final, err)
		}
		unchanged("a run with a cancelled context")
	}
	// No failed final was stored: a final run of the period is allowed,
	// and it leaves the draft alone.
	sel.Final = true
	ce.run("final after failures", sel)
	unchanged("a final run")
}

// testClearingSnapshot settles and reverses while a run is reading: the
// run reads the state as it was when it started.
func testClearingSnapshot(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	a := ce.settleCase(caseSpec{label: "a", inst: hospBudget, person: psnEmployed, day: date(2024, time.February, 1), drg: "G1"})
	b := ce.settleCase(caseSpec{label: "b, reversed during the run", inst: hospBudget, person: psnRetired, day: date(2024, time.February, 2), drg: "G1"})
	c := ce.settleCase(caseSpec{label: "c", inst: hospNoBudget, person: psnPoor, day: date(2024, time.February, 3)})
	// Made before the run runs, not settled yet.
	ce.n++
	lateClaim := inpatient(fmt.Sprintf("clr-%04d", ce.n), hospBudget, psnEmployed, date(2024, time.February, 4), "100")
	lateClaim.DRGCode = "G1"
	lateRes := engine.Result{PolicyRegion: region, PolicyScheme: engine.SchemeEmployee, Breakdown: figures(ce.n, true),
		Delta: engine.NewAccumulators(psnEmployed, 2024)}

	var late engine.Settlement
	var lateErr, revErr error
	done := make(chan struct{})
	var started sync.Once
	rec := &recorder{onAdd: func(int, engine.ClearingCase) error {
		started.Do(func() {
			// Settle and reverse from another goroutine while the run is
			// in Add; the store must not make them wait for the run.
			go func() {
				defer close(done)
				late, lateErr = ce.st.Settle(ce.ctx, lateClaim, func(store.PersonYear) (engine.Result, error) { return lateRes, nil })
				_, revErr = ce.st.Reverse(ce.ctx, store.Reversal{RequestID: "rv-b", SettlementID: b.ID, Reason: "during a run", Institution: hospBudget})
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Errorf("a settlement and a reversal waited for a clearing run to finish reading")
			}
		})
		return nil
	}}
	sel := drgSel(engine.SchemeEmployee, q1From, q1To, false)
	ce.runWith("run during changes", sel, rec)
	<-done
	if lateErr != nil || revErr != nil {
		t.Fatalf("Settle during the run: %v; Reverse during the run: %v", lateErr, revErr)
	}
	ce.label[late.ID] = "settled during the run"
	levels := map[string]int{hospBudget: 3, hospNoBudget: 3}
	ce.selected("run during changes", rec, levels, a, b, c)

	// The next run sees both.
	_, rec = ce.run("run after the changes", sel)
	ce.selected("run after the changes", rec, levels, a, c, late)
}

// ---------------------------------------------------------------------------
// Capitation contracts

func (ce *clearEnv) contract(id string) engine.CapitationContract {
	ce.t.Helper()
	c, err := ce.st.GetContract(ce.ctx, id)
	if err != nil {
		ce.t.Fatalf("GetContract %s: %v", id, err)
	}
	return c
}

func testContracts(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	if _, err := ce.st.GetContract(ce.ctx, "CC-none"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetContract of an unknown id: %v, want ErrNotFound", err)
	}
	orphan := chronicContract("CC0", 2024)
	orphan.InstitutionID = "H-none"
	if err := ce.st.PutContract(ce.ctx, orphan); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutContract led by an unknown institution: %v, want ErrNotFound", err)
	}
	if _, err := ce.st.GetContract(ce.ctx, "CC0"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetContract after a refused PutContract: %v, want ErrNotFound", err)
	}

	con := chronicContract("CC1", 2024)
	con.Components = append(con.Components, engine.CapitationComponent{Name: "quota", Rate: dec("240.00"),
		VisitTypes: []engine.VisitType{engine.VisitOutpatient}})
	ce.putContract(con)
	if d := diff(ce.contract("CC1"), con); len(d) > 0 {
		t.Errorf("GetContract after PutContract: %v", d)
	}
	// Copies both ways.
	want := chronicContract("CC1", 2024)
	want.Components = append(want.Components, engine.CapitationComponent{Name: "quota", Rate: dec("240.00"),
		VisitTypes: []engine.VisitType{engine.VisitOutpatient}})
	con.Components[0].VisitTypes[0] = engine.VisitOutpatient
	con.Shares[0].Party = "changed"
	got := ce.contract("CC1")
	got.Components[1].VisitTypes[0] = engine.VisitInpatient
	got.Shares[1].Share = ratio("0.9")
	if d := diff(ce.contract("CC1"), want); len(d) > 0 {
		t.Errorf("changing what was put or got changed the stored contract: %v", d)
	}

	// Replacing the terms keeps the members.
	ce.enroll("CC1", psnEmployed, psnRetired)
	repl := chronicContract("CC1", 2024)
	repl.Components[0].Rate = dec("3800.00")
	repl.InstitutionID = hospNoBudget
	ce.putContract(repl)
	repl.Members = 2
	if d := diff(ce.contract("CC1"), repl); len(d) > 0 {
		t.Errorf("GetContract after replacing the terms: %v", d)
	}
	// With members, the region, scheme and year are fixed.
	for _, tc := range []struct {
		what   string
		change func(c *engine.CapitationContract)
	}{
		{"region", func(c *engine.CapitationContract) { c.Region = region2; c.InstitutionID = hospOther }},
		{"scheme", func(c *engine.CapitationContract) { c.Scheme = engine.SchemeResident }},
		{"year", func(c *engine.CapitationContract) { c.Year = 2025 }},
	} {
		c := chronicContract("CC1", 2024)
		tc.change(&c)
		if err := ce.st.PutContract(ce.ctx, c); !errors.Is(err, engine.ErrContractInUse) {
			t.Errorf("PutContract changing the %s of a contract with members: %v, want ErrContractInUse", tc.what, err)
		}
		if d := diff(ce.contract("CC1"), repl); len(d) > 0 {
			t.Errorf("a refused change of %s changed the contract: %v", tc.what, d)
		}
	}
	// Without members they may change.
	ce.putContract(chronicContract("CC2", 2024))
	moved := chronicContract("CC2", 2025)
	moved.Region, moved.InstitutionID, moved.Scheme = region2, hospOther, engine.SchemeResident
	ce.putContract(moved)
	if d := diff(ce.contract("CC2"), moved); len(d) > 0 {
		t.Errorf("changing a contract without members: %v", d)
	}
}

func testEnrollMembers(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	members := func(id string) int64 { t.Helper(); return ce.contract(id).Members }

	if n, _, err := ce.st.EnrollMembers(ce.ctx, "CC9", []string{psnEmployed}); !errors.Is(err, store.ErrNotFound) || n != 0 {
		t.Errorf("EnrollMembers in an unknown contract: %d, %v; want 0, ErrNotFound", n, err)
	}
	// It enrolled nobody: the contract, created now, has no members.
	ce.putContract(chronicContract("CC9", 2027))
	if m := members("CC9"); m != 0 {
		t.Errorf("a contract created after a refused enrolment has %d members", m)
	}
	ce.putContract(chronicContract("CC1", 2024))
	n, rej, err := ce.st.EnrollMembers(ce.ctx, "CC1", []string{psnEmployed, psnRetired, psnEmployed, "nobody", psnResident, psnOther})
	if err != nil {
		t.Fatalf("EnrollMembers: %v", err)
	}
	if n != 3 {
		t.Errorf("enrolled %d, want 3 (P1 twice and P2)", n)
	}
	var rejected []string
	for _, r := range rej {
		rejected = append(rejected, r.PersonID)
		if strings.TrimSpace(r.Reason) == "" {
			t.Errorf("rejection of %s has no reason", r.PersonID)
		}
	}
	sort.Strings(rejected)
	want := []string{"nobody", psnResident, psnOther}
	sort.Strings(want)
	if strings.Join(rejected, ",") != strings.Join(want, ",") {
		t.Errorf("rejected %v, want %v (unknown, another scheme, another region)", rejected, want)
	}
	if m := members("CC1"); m != 2 {
		t.Errorf("CC1 has %d members, want 2", m)
	}
	// Already a member: counted, nothing changes.
	if n, rej, err := ce.st.EnrollMembers(ce.ctx, "CC1", []string{psnRetired}); n != 1 || len(rej) != 0 || err != nil {
		t.Errorf("enrolling a member again: %d, %v, %v; want 1 enrolled", n, rej, err)
	}
	if n, rej, err := ce.st.EnrollMembers(ce.ctx, "CC1", nil); n != 0 || len(rej) != 0 || err != nil {
		t.Errorf("enrolling no one: %d, %v, %v", n, rej, err)
	}
	if m := members("CC1"); m != 2 {
		t.Errorf("CC1 has %d members, want 2", m)
	}

	// One contract a year.
	cc2 := chronicContract("CC2", 2024)
	cc2.InstitutionID = hospNoBudget
	ce.putContract(cc2)
	n, rej, err = ce.st.EnrollMembers(ce.ctx, "CC2", []string{psnEmployed, psnPoor})
	if err != nil || n != 1 || len(rej) != 1 || rej[0].PersonID != psnEmployed || rej[0].Reason == "" {
		t.Errorf("enrolling a member of CC1 in CC2 of the same year: %d, %+v, %v; want P3 enrolled, P1 rejected with a reason", n, rej, err)
	}
	if m1, m2 := members("CC1"), members("CC2"); m1 != 2 || m2 != 1 {
		t.Errorf("members %d and %d, want 2 and 1", m1, m2)
	}
	ce.putContract(chronicContract("CC3", 2025))
	ce.enroll("CC3", psnEmployed, psnPoor)

	// Other regions and schemes have their own contracts.
	cc4 := chronicContract("CC4", 2024)
	cc4.Region, cc4.InstitutionID = region2, hospOther
	ce.putContract(cc4)
	ce.enroll("CC4", psnOther)
	if n, rej, err := ce.st.EnrollMembers(ce.ctx, "CC4", []string{psnRetired}); n != 0 || len(rej) != 1 || err != nil {
		t.Errorf("enrolling a person of R1 in a contract of R2: %d, %v, %v; want a rejection", n, rej, err)
	}
	cc5 := chronicContract("CC5", 2024)
	cc5.Scheme = engine.SchemeResident
	ce.putContract(cc5)
	ce.enroll("CC5", psnResident)

	ce.putContract(chronicContract("CC6", 2026))
	ce.putContract(chronicContract("CC7", 2026))
	// Two contracts of one year enrolling the same persons at once: each
	// person lands in exactly one.
	var wg sync.WaitGroup
	results := make([]int64, 2)
	rejections := make([]int, 2)
	for i, id := range []string{"CC6", "CC7"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := []string{psnEmployed, psnRetired, psnPoor}
			if i == 1 {
				ids = []string{psnPoor, psnRetired, psnEmployed}
			}
			n, rej, err := ce.st.EnrollMembers(ce.ctx, id, ids)
			if err != nil {
				t.Errorf("EnrollMembers %s: %v", id, err)
			}
			results[i], rejections[i] = n, len(rej)
		}()
	}
	wg.Wait()
	if results[0]+results[1] != 3 || rejections[0]+rejections[1] != 3 || members("CC6")+members("CC7") != 3 {
		t.Errorf("concurrent enrolments: enrolled %v, rejected %v, members %d and %d; want each person once",
			results, rejections, members("CC6"), members("CC7"))
	}
}

// ---------------------------------------------------------------------------
// Reconciliation

func reconcileOf(sts ...engine.Settlement) (store.ReconcileTotals, []store.ReconcileSettlement) {
	var tot store.ReconcileTotals
	list := []store.ReconcileSettlement{}
	for _, st := range sts {
		b := st.Result.Breakdown
		tot.Count++
		tot.Total = tot.Total.Add(b.Total)
		tot.FundTotal = tot.FundTotal.Add(b.FundTotal)
		tot.Account = tot.Account.Add(b.Account)
		list = append(list, store.ReconcileSettlement{SettlementID: st.ID, RequestID: st.Claim.RequestID,
			SettleDate: st.Claim.SettleDate, Total: b.Total, FundTotal: b.FundTotal, Account: b.Account})
	}
	return tot, list
}

func testReconcile(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	march := func(d int) engine.Date { return date(2024, time.March, d) }
	// Settled in this order; listed by date, then id.
	r1 := ce.settleCase(caseSpec{label: "r1", inst: hospBudget, person: psnEmployed, day: march(5)})
	r2 := ce.settleCase(caseSpec{label: "r2, resident, same day", inst: hospBudget, person: psnResident, day: march(5)})
	r3 := ce.settleCase(caseSpec{label: "r3, chronic, first", inst: hospBudget, person: psnRetired, visit: engine.VisitChronicOutpatient, day: march(1)})
	r4 := ce.settleCase(caseSpec{label: "r4, outpatient, last", inst: hospBudget, person: psnEmployed, visit: engine.VisitOutpatient, day: march(31)})
	rev := ce.settleCase(caseSpec{label: "reversed", inst: hospBudget, person: psnEmployed, day: march(10)})
	ce.reverse(rev)
	ce.settleCase(caseSpec{label: "before", inst: hospBudget, person: psnEmployed, day: date(2024, time.February, 29)})
	ce.settleCase(caseSpec{label: "after", inst: hospBudget, person: psnEmployed, day: date(2024, time.April, 1)})
	ce.settleCase(caseSpec{label: "another institution", inst: hospNoBudget, person: psnEmployed, day: march(6)})
	ordered := []engine.Settlement{r3, r1, r2, r4}
	if r2.ID < r1.ID {
		ordered = []engine.Settlement{r3, r2, r1, r4}
	}

	query := func(scheme engine.Scheme, visits ...engine.VisitType) store.ReconcileQuery {
		return store.ReconcileQuery{InstitutionID: hospBudget, From: march(1), To: march(31), Scheme: scheme, VisitTypes: visits}
	}
	check := func(what string, q store.ReconcileQuery, counted []engine.Settlement, listed int, truncated bool) {
		t.Helper()
		got, err := ce.st.Reconcile(ce.ctx, q)
		if err != nil {
			t.Fatalf("%s: Reconcile: %v", what, err)
		}
		tot, list := reconcileOf(counted...)
		if d := diff(got.Totals, tot); len(d) > 0 {
			t.Errorf("%s: totals %v", what, d)
		}
		if d := diff(got.Settlements, list[:listed]); len(d) > 0 {
			t.Errorf("%s: listed settlements %v", what, d)
		}
		if got.Truncated != truncated {
			t.Errorf("%s: truncated %t, want %t", what, got.Truncated, truncated)
		}
	}
	all, _ := reconcileOf(ordered...)
	q := query(engine.SchemeUnspecified)
	q.Claimed = all
	check("matched", q, ordered, 0, false)
	// Equal by value: the same figure read from a text with more decimals.
	var total4 engine.Money
	if err := total4.UnmarshalText([]byte(all.Total.String() + "00")); err != nil {
		t.Fatal(err)
	}
	q.Claimed.Total = total4
	check("matched, 4 decimals", q, ordered, 0, false)

	for _, tc := range []struct {
		what   string
		change func(c *store.ReconcileTotals)
	}{
		{"count differs", func(c *store.ReconcileTotals) { c.Count++ }},
		{"total differs", func(c *store.ReconcileTotals) { c.Total = c.Total.Add(dec("0.01")) }},
		{"fund total differs", func(c *store.ReconcileTotals) { c.FundTotal = c.FundTotal.Sub(dec("0.01")) }},
		{"account differs", func(c *store.ReconcileTotals) { c.Account = engine.Money{} }},
	} {
		q := query(engine.SchemeUnspecified)
		q.Claimed = all
		tc.change(&q.Claimed)
		q.ListLimit = 10
		check(tc.what, q, ordered, 4, false)
	}
	q = query(engine.SchemeUnspecified)
	q.ListLimit = 2
	check("limit 2 of 4", q, ordered, 2, true)
	q.ListLimit = 4
	check("limit 4 of 4", q, ordered, 4, false)
	q.ListLimit = 0
	check("no limit set (1000)", q, ordered, 4, false)

	// Narrowed to a scheme (the policy the settlement used) and visit types.
	byScheme := []engine.Settlement{}
	for _, st := range ordered {
		if st.ID != r2.ID {
			byScheme = append(byScheme, st)
		}
	}
	check("employees", query(engine.SchemeEmployee), byScheme, len(byScheme), false)
	check("residents", query(engine.SchemeResident), []engine.Settlement{r2}, 1, false)
	inpat := []engine.Settlement{ordered[1], ordered[2]}
	check("inpatient", query(engine.SchemeUnspecified, engine.VisitInpatient), inpat, 2, false)
	check("chronic and outpatient", query(engine.SchemeUnspecified, engine.VisitChronicOutpatient, engine.VisitOutpatient), []engine.Settlement{r3, r4}, 2, false)
	check("employees, inpatient", query(engine.SchemeEmployee, engine.VisitInpatient), []engine.Settlement{r1}, 1, false)

	// Nothing to count: zero totals, matched by zeros.
	empty := query(engine.SchemeUnspecified)
	empty.InstitutionID = hospLater
	check("an institution without settlements", empty, nil, 0, false)
	empty.InstitutionID = "H-none"
	check("an unknown institution", empty, nil, 0, false)
	empty.InstitutionID = hospBudget
	empty.From, empty.To = date(2024, time.September, 1), date(2024, time.September, 30)
	check("a period without settlements", empty, nil, 0, false)

	// A later reversal leaves the figures.
	ce.reverse(r4)
	check("after reversing r4", query(engine.SchemeUnspecified), ordered[:3], 3, false)
}

// ---------------------------------------------------------------------------
// With the engine's clearers

// testClearingWithEngineClearers runs each kind with the engine's Clearer
// on a small fixture: what the store feeds them and stores adds up.
func testClearingWithEngineClearers(t *testing.T, newStore func(t *testing.T) store.Store) {
	ce := newClearEnv(t, newStore)
	g1 := ce.settleCase(caseSpec{label: "G1 at H1", inst: hospBudget, person: psnEmployed, day: date(2024, time.January, 10), drg: "G1"})
	g2 := ce.settleCase(caseSpec{label: "G2 at H1", inst: hospBudget, person: psnRetired, day: date(2024, time.February, 10), drg: "G2"})
	ungrouped := ce.settleCase(caseSpec{label: "ungrouped at H1", inst: hospBudget, person: psnEmployed, day: date(2024, time.March, 10), drg: "X9"})
	h2 := ce.settleCase(caseSpec{label: "G1 at H2", inst: hospNoBudget, person: psnPoor, day: date(2024, time.March, 11), drg: "G1"})
	chronic := ce.settleCase(caseSpec{label: "chronic at H1", inst: hospBudget, person: psnRetired, visit: engine.VisitChronicOutpatient, day: date(2024, time.May, 10)})
	basic := func(sts ...engine.Settlement) engine.Money {
		var sum engine.Money
		for _, st := range sts {
			sum = sum.Add(st.Result.Breakdown.BasicFund)
		}
		return sum
	}
	personal := func(sts ...engine.Settlement) engine.Money {
		var sum engine.Money
		for _, st := range sts {
			sum = sum.Add(st.Result.Breakdown.PersonalTotal)
		}
		return sum
	}

	// DRG: coefficient 1, no high or low cases, no reserve.
	drg := &engine.DRG{Groups: []engine.DRGGroup{
		{Code: "G1", BasePoints: engine.MustPoints("100"), AverageCost: dec("10000")},
		{Code: "G2", BasePoints: engine.MustPoints("200"), AverageCost: dec("20000")},
	}}
	c, err := engine.NewDRGClearer(drg, dec("10000.00"))
	if err != nil {
		t.Fatalf("NewDRGClearer: %v", err)
	}
	sel := drgSel(engine.SchemeEmployee, q1From, q1To, false)
	run, err := ce.st.RunClearing(ce.ctx, sel, c, nil)
	if err != nil {
		t.Fatalf("DRG run: %v", err)
	}
	if run.Kind != engine.ClearingDRG || run.Settlements != 4 || run.Ungrouped != 1 ||
		!run.UngroupedBasicFund.Equal(basic(ungrouped)) || !run.TotalPoints.Equal(engine.MustPoints("400")) ||
		!run.PersonalTotal.Equal(personal(g1, g2, h2)) || !run.PaidTotal.Equal(dec("10000")) {
		t.Errorf("DRG run: %+v", run)
	}
	if len(run.Institutions) != 2 || run.Institutions[0].InstitutionID != hospBudget || run.Institutions[1].InstitutionID != hospNoBudget {
		t.Fatalf("DRG run lines: %+v", run.Institutions)
	}
	paid := run.Institutions[0].Payment.Add(run.Institutions[1].Payment)
	if l := run.Institutions[0]; l.Cases != 2 || !l.Points.Equal(engine.MustPoints("300")) || !l.BasicFund.Equal(basic(g1, g2)) || !paid.Equal(dec("10000")) {
		t.Errorf("DRG line of H1: %+v (payments add up to %s)", l, paid)
	}
	lines, err := ce.st.StatementCases(ce.ctx, run.RunID, hospBudget, "", 10)
	if err != nil || len(lines) != 2 || lines[0].SettlementID != g1.ID || lines[1].SettlementID != g2.ID ||
		!lines[0].Points.Equal(engine.MustPoints("100")) || !lines[1].Points.Equal(engine.MustPoints("200")) || lines[0].Kind != engine.CostNormal ||
		lines[0].RequestID != g1.Claim.RequestID || !lines[1].BasicFund.Equal(basic(g2)) {
		t.Errorf("DRG statement of H1: %+v, %v", lines, err)
	}

	// BUDGET: H1's 2024 budget of 10,000 against its inpatient and
	// chronic basic fund.
	bc := &engine.BudgetClearing{VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient},
		SurplusRetention: ratio("0.5"), OverspendShare: ratio("0.5"), OverspendTolerance: ratio("0.1")}
	bsel := store.Selection{Kind: engine.ClearingBudget, Region: region, Scheme: engine.SchemeEmployee, Year: 2024,
		From: jan1st2024, To: dec31st24, VisitTypes: bc.VisitTypes}
	run, err = ce.st.RunClearing(ce.ctx, bsel, engine.NewBudgetClearer(bc, 2024), nil)
	if err != nil {
		t.Fatalf("BUDGET run: %v", err)
	}
	claimed := basic(g1, g2, ungrouped, chronic)
	want := engine.ClearBudget(bc, hospBudget, dec("10000.00"), claimed)
	if run.Kind != engine.ClearingBudget || run.Settlements != 4 || len(run.Institutions) != 1 || !run.Budget.Equal(dec("10000")) {
		t.Fatalf("BUDGET run: %+v", run)
	}
	if l := run.Institutions[0]; l.InstitutionID != hospBudget || l.Cases != 4 || !l.Claimed.Equal(claimed) || !l.Paid.Equal(want.Paid) {
		t.Errorf("BUDGET line: %+v, want claimed %s and paid %s", l, claimed, want.Paid)
	}

	// CAPITATION: two members at 3700.
	con := chronicContract("CC1", 2024)
	ce.putContract(con)
	ce.enroll(con.ContractID, psnEmployed, psnRetired)
	run, err = ce.st.RunClearing(ce.ctx, capSel(con, true), engine.NewCapitationClearer(&con), nil)
	if err != nil {
		t.Fatalf("CAPITATION run: %v", err)
	}
	actual := basic(g1, g2, ungrouped, chronic)
	if cc := run.Capitation; run.Kind != engine.ClearingCapitation || !run.Final || run.ContractID != "CC1" || run.Settlements != 4 || cc == nil ||
		cc.Members != 2 || !cc.Budget.Equal(dec("7400")) || !cc.Actual.Equal(actual) || !run.PaidTotal.Equal(dec("7400")) {
		t.Errorf("CAPITATION run: %+v, capitation %+v; want 2 members, K 7400.00, A %s", run, run.Capitation, actual)
	}
}
