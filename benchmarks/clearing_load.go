package benchmarks

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// SettlementLoader is a store that can take already-computed settlements
// in bulk: pgstore and memstore both have LoadSettlements.
type SettlementLoader interface {
	store.Store
	LoadSettlements(ctx context.Context, sts []engine.Settlement) error
}

// ClearingDataset describes a region-year of settled inpatient
// settlements for the clearing benchmarks, generated deterministically
// from Seed: Settlements settlements of Persons persons (all members of
// one capitation contract) at Institutions institutions, coded over
// Groups DRG groups. The same dataset always yields the same figures, on
// any store.
type ClearingDataset struct {
	Seed         uint64
	Region       string
	Scheme       engine.Scheme
	Year         int
	Settlements  int
	Institutions int
	Groups       int
	Persons      int
}

// MillionSettlements is the benchmarks' dataset: a year of 1,000,000
// settled inpatient settlements of 100,000 employees of region 330700
// (Jinhua) at 300 institutions, over 600 DRG groups.
func MillionSettlements() ClearingDataset {
	return ClearingDataset{Seed: 20260101, Region: "330700", Scheme: engine.SchemeEmployee, Year: 2026,
		Settlements: 1_000_000, Institutions: 300, Groups: 600, Persons: 100_000}
}

// Key names the dataset (its seed and sizes), e.g. for a schema holding it.
func (d ClearingDataset) Key() string {
	return fmt.Sprintf("s%d_%d_%d_%d_%d", d.Seed, d.Settlements, d.Institutions, d.Groups, d.Persons)
}

// From is January 1st of the dataset's year.
func (d ClearingDataset) From() engine.Date {
	return engine.Date{Year: d.Year, Month: time.January, Day: 1}
}

// To is December 31st of the dataset's year.
func (d ClearingDataset) To() engine.Date {
	return engine.Date{Year: d.Year, Month: time.December, Day: 31}
}

// InstitutionID is the id of the i-th institution.
func (d ClearingDataset) InstitutionID(i int) string { return fmt.Sprintf("JH%03d", i) }

// PersonID is the id of the i-th person.
func (d ClearingDataset) PersonID(i int) string { return fmt.Sprintf("JP%06d", i) }

// level is the i-th institution's level: a tenth are tertiary (3), a
// quarter secondary (2), the rest primary (1).
func (d ClearingDataset) level(i int) int {
	switch {
	case i < d.Institutions/10:
		return 3
	case i < d.Institutions*35/100:
		return 2
	}
	return 1
}

// DRG is the dataset's DRG rules: Groups groups whose average costs are
// log-uniform between 3,000 and 120,000 (to the fen), base points the
// group's average ÷ the all-group average × 100 (2 decimals),
// coefficients by level (0.85, 0.95, 1.08) and for a tenth of the
// institutions of their own, the published high-cost thresholds (3×, 2×,
// 1.5× by base points up to 100, 300 and above), low-cost at 0.4×, a 5 %
// reserve.
func (d ClearingDataset) DRG() *engine.DRG {
	r := rand.New(rand.NewPCG(d.Seed, 1))
	avgs := make([]int64, d.Groups)
	var sum int64
	for i := range avgs {
		avgs[i] = int64(math.Exp(math.Log(3000)+r.Float64()*(math.Log(120000)-math.Log(3000))) * 100)
		sum += avgs[i]
	}
	all := float64(sum) / float64(d.Groups)
	upTo100, upTo300 := engine.MustPoints("100"), engine.MustPoints("300")
	out := &engine.DRG{
		HighThresholds: []engine.DRGHighThreshold{
			{UpToPoints: &upTo100, Ratio: engine.MustRatio("3")},
			{UpToPoints: &upTo300, Ratio: engine.MustRatio("2")},
			{Ratio: engine.MustRatio("1.5")},
		},
		LowRatio:        engine.MustRatio("0.4"),
		ReserveRatio:    engine.MustRatio("0.05"),
		PointValueBasis: engine.PointValueFundPlusPersonal,
	}
	for i, a := range avgs {
		bp := int64(math.Round(float64(a) / all * 10000)) // base points × 100
		if bp < 1 {
			bp = 1
		}
		out.Groups = append(out.Groups, engine.DRGGroup{Code: d.groupCode(i), BasePoints: engine.PointsFromScaled(bp * 100), AverageCost: engine.MoneyFromFen(a)})
	}
	for lvl, k := range []string{"0.85", "0.95", "1.08"} {
		out.Coefficients = append(out.Coefficients, engine.DRGCoefficient{Level: lvl + 1, Coefficient: engine.MustRatio(k)})
	}
	for i := 0; i < d.Institutions; i += 10 {
		out.Coefficients = append(out.Coefficients, engine.DRGCoefficient{InstitutionID: d.InstitutionID(i),
			Coefficient: engine.RatioFromScaled(8500 + r.Int64N(3000))})
	}
	return out
}

func (d ClearingDataset) groupCode(i int) string { return fmt.Sprintf("JD%03d", i) }

// BudgetRules is the dataset's institution-budget clearing: inpatient
// care, 50 % of a surplus kept when at least 85 % of the budget is used,
// 60 % of an overspend shared up to 10 % of the budget.
func (d ClearingDataset) BudgetRules() *engine.BudgetClearing {
	return &engine.BudgetClearing{VisitTypes: []engine.VisitType{engine.VisitInpatient},
		SurplusRetention: engine.MustRatio("0.5"), MinUtilization: engine.MustRatio("0.85"),
		OverspendShare: engine.MustRatio("0.6"), OverspendTolerance: engine.MustRatio("0.1")}
}

// DRGBudget is the regional fund budget of the DRG runs.
func (d ClearingDataset) DRGBudget() engine.Money {
	return engine.Yuan(int64(d.Settlements) * 15_000)
}

// Policy is the region's policy for the year: one inpatient benefit (the
// loaded settlements were not computed with it), the DRG rules and the
// budget clearing rules.
func (d ClearingDataset) Policy() *engine.Policy {
	return &engine.Policy{
		Region: d.Region, Scheme: d.Scheme, Version: fmt.Sprintf("%d.bench", d.Year),
		EffectiveFrom: d.From(), EffectiveTo: d.To(),
		Benefits: []engine.Benefit{{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit,
			Rates: []engine.RateRow{{Level: 1, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.85")}}}},
				{Level: 2, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.8")}}}},
				{Level: 3, Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.75")}}}}}}},
		DRG:            d.DRG(),
		BudgetClearing: d.BudgetRules(),
	}
}

// Contract is the capitation contract every person of the dataset is a
// member of, led by the first institution: inpatient and chronic care at
// 3,700 a member, the outpatient quota at 240, a surplus shared county,
// township, village 4:4:2 (the Suixi county contract of CLEARING.md).
func (d ClearingDataset) Contract() engine.CapitationContract {
	return engine.CapitationContract{
		ContractID: fmt.Sprintf("CAP-%s-%d", d.Region, d.Year), InstitutionID: d.InstitutionID(0),
		Region: d.Region, Scheme: d.Scheme, Year: d.Year,
		Components: []engine.CapitationComponent{
			{Name: "inpatient and chronic care", Rate: engine.MustMoney("3700.00"),
				VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient}},
			{Name: "outpatient quota", Rate: engine.MustMoney("240.00"), VisitTypes: []engine.VisitType{engine.VisitOutpatient}},
		},
		Shares: []engine.CapitationShare{{Party: "county", Share: engine.MustRatio("0.4")},
			{Party: "township", Share: engine.MustRatio("0.4")}, {Party: "village", Share: engine.MustRatio("0.2")}},
		OverspendShare: engine.MustRatio("0.5"), OverspendTolerance: engine.MustRatio("0.1"),
	}
}

// DRGSelection is a DRG run over the whole year.
func (d ClearingDataset) DRGSelection() store.Selection {
	return store.Selection{Kind: engine.ClearingDRG, Region: d.Region, Scheme: d.Scheme, Year: d.Year, From: d.From(), To: d.To()}
}

// BudgetSelection is the BUDGET run of the year.
func (d ClearingDataset) BudgetSelection() store.Selection {
	return store.Selection{Kind: engine.ClearingBudget, Region: d.Region, Scheme: d.Scheme, Year: d.Year, From: d.From(), To: d.To(),
		VisitTypes: d.BudgetRules().VisitTypes}
}

// CapitationSelection is the capitation run of the contract.
func (d ClearingDataset) CapitationSelection() store.Selection {
	c := d.Contract()
	return store.Selection{Kind: engine.ClearingCapitation, Region: c.Region, Scheme: c.Scheme, Year: c.Year, From: d.From(), To: d.To(),
		VisitTypes: c.VisitTypes(), ContractID: c.ContractID}
}

// loadChunk is how many settlements one LoadSettlements call stores.
const loadChunk = 20_000

// Load fills st with the dataset: the policy, the institutions, the
// persons, the contract with every person enrolled, and the settlements
// in chunks of 20,000 (LoadSettlements: no accumulator, balance or budget
// usage moves). The institutions' budgets for the year are set last, at
// 85 % to 115 % of the basic fund their settlements drew. progress, if not
// nil, is told how many settlements are stored.
func (d ClearingDataset) Load(ctx context.Context, st SettlementLoader, progress func(loaded int)) error {
	if err := st.PutPolicy(ctx, d.Policy()); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	insts := d.institutions(nil)
	for _, in := range insts {
		if err := st.PutInstitution(ctx, in); err != nil {
			return fmt.Errorf("institution %s: %w", in.ID, err)
		}
	}
	const personChunk = 10_000
	for from := 0; from < d.Persons; from += personChunk {
		var ps []engine.Person
		for i := from; i < min(from+personChunk, d.Persons); i++ {
			ps = append(ps, engine.Person{ID: d.PersonID(i), Name: "bench", Region: d.Region, Scheme: d.Scheme,
				Employment: engine.EmploymentEmployed, Category: engine.CategoryOrdinary, ContributionYears: 1 + i%40})
		}
		if err := st.PutPersons(ctx, ps); err != nil {
			return fmt.Errorf("persons: %w", err)
		}
	}
	con := d.Contract()
	if err := st.PutContract(ctx, con); err != nil {
		return fmt.Errorf("contract: %w", err)
	}
	for from := 0; from < d.Persons; from += personChunk {
		var ids []string
		for i := from; i < min(from+personChunk, d.Persons); i++ {
			ids = append(ids, d.PersonID(i))
		}
		n, rej, err := st.EnrollMembers(ctx, con.ContractID, ids)
		if err != nil || len(rej) > 0 || n != int64(len(ids)) {
			return fmt.Errorf("enrol members: %d enrolled, rejected %v: %w", n, rej, err)
		}
	}
	g := d.newGenerator()
	claimed := make([]int64, d.Institutions)
	for loaded := 0; loaded < d.Settlements; {
		chunk := g.next(min(loadChunk, d.Settlements-loaded), claimed)
		if err := st.LoadSettlements(ctx, chunk); err != nil {
			return fmt.Errorf("settlements %d to %d: %w", loaded, loaded+len(chunk), err)
		}
		loaded += len(chunk)
		if progress != nil {
			progress(loaded)
		}
	}
	for _, in := range d.institutions(claimed) {
		if err := st.PutInstitution(ctx, in); err != nil {
			return fmt.Errorf("institution %s: %w", in.ID, err)
		}
	}
	return nil
}

// institutions are the dataset's institutions; with claimed (the basic
// fund in fen each drew) they have budgets for the year.
func (d ClearingDataset) institutions(claimed []int64) []engine.Institution {
	r := rand.New(rand.NewPCG(d.Seed, 2))
	out := make([]engine.Institution, d.Institutions)
	for i := range out {
		out[i] = engine.Institution{ID: d.InstitutionID(i), Name: fmt.Sprintf("Hospital %d", i), Region: d.Region, Level: d.level(i)}
		f := 85 + r.Int64N(31) // percent
		if claimed != nil {
			out[i].Budgets = []engine.Budget{{Year: d.Year, Amount: engine.MoneyFromFen(claimed[i] * f / 100)}}
		}
	}
	return out
}

// generator makes the dataset's settlements in order.
type generator struct {
	d     ClearingDataset
	r     *rand.Rand
	drg   *engine.DRG
	n     int
	byLvl [4][]int // institutions by level
	days  int      // in the year
}

func (d ClearingDataset) newGenerator() *generator {
	g := &generator{d: d, r: rand.New(rand.NewPCG(d.Seed, 3)), drg: d.DRG()}
	for i := range d.Institutions {
		l := d.level(i)
		g.byLvl[l] = append(g.byLvl[l], i)
	}
	start := time.Date(d.Year, time.January, 1, 0, 0, 0, 0, time.UTC)
	g.days = int(time.Date(d.Year+1, time.January, 1, 0, 0, 0, 0, time.UTC).Sub(start).Hours() / 24)
	return g
}

// next makes the next n settlements, adding the basic fund of each to
// claimed[institution].
func (g *generator) next(n int, claimed []int64) []engine.Settlement {
	out := make([]engine.Settlement, n)
	for k := range out {
		out[k] = g.one(claimed)
	}
	return out
}

// one is the next settlement: half the cases at tertiary hospitals, 30 %
// at secondary ones, 20 % at primary ones; 97 % coded with a group of the
// rules, 1 % with a retired code, 2 % uncoded; 90 % cost 0.2× to 1.8× the
// group's average (bunched around 1×), 5 % 0.1× to 0.4× (low-cost), 5 %
// 2× to 5× (mostly high-cost); the patient pays 15 % to 35 %, part from
// the personal account; a tenth of the costliest also draw catastrophic
// insurance.
func (g *generator) one(claimed []int64) engine.Settlement {
	r := g.r
	i := g.n
	g.n++
	var lvl int
	switch x := r.IntN(10); {
	case x < 5:
		lvl = 3
	case x < 8:
		lvl = 2
	default:
		lvl = 1
	}
	insts := g.byLvl[lvl]
	if len(insts) == 0 {
		insts = g.byLvl[1]
	}
	inst := insts[r.IntN(len(insts))]
	grp := g.drg.Groups[r.IntN(len(g.drg.Groups))]
	code := grp.Code
	switch x := r.IntN(100); {
	case x < 2:
		code = ""
	case x < 3:
		code = "JD-RETIRED"
	}
	var ratio int64 // × 10^4
	switch x := r.IntN(100); {
	case x < 5:
		ratio = 1000 + r.Int64N(3000)
	case x < 10:
		ratio = 20000 + r.Int64N(30000)
	default:
		ratio = 10000
		for range 4 {
			ratio += r.Int64N(4001) - 2000
		}
	}
	avg := grp.AverageCost.Fen()
	total := avg * ratio / 10000
	if total < 100 {
		total = 100
	}
	personal := total * (15 + r.Int64N(21)) / 100
	var catastrophic int64
	if total > 5_000_000 && r.IntN(10) == 0 {
		catastrophic = (total - personal) / 10
	}
	basic := total - personal - catastrophic
	account := min(personal, r.Int64N(50_000))
	outOfScope := personal / 3
	deductible := min(personal-outOfScope, 80_000)
	claimed[inst] += basic

	day := time.Date(g.d.Year, time.January, 1+r.IntN(g.days), 0, 0, 0, 0, time.UTC)
	person := g.d.PersonID(r.IntN(g.d.Persons))
	fen := engine.MoneyFromFen
	claim := engine.Claim{
		RequestID: fmt.Sprintf("CLR-%07d", i), InstitutionID: g.d.InstitutionID(inst), PersonID: person,
		VisitType: engine.VisitInpatient, SettleDate: engine.Date{Year: day.Year(), Month: day.Month(), Day: day.Day()},
		CrossRegion: engine.CrossRegionLocal, DRGCode: code, UsePersonalAccount: account > 0,
	}
	// Six lines adding up to the total: beds, surgery, A and B drugs,
	// materials and self-pay items.
	weights := [6]int64{}
	var wsum int64
	for j := range weights {
		weights[j] = 1 + r.Int64N(100)
		wsum += weights[j]
	}
	codes := [6]string{"A-BED", "A-SURG", "A-DRUG", "B-DRUG", "B-MAT", "C-VIP"}
	left := total
	for j, w := range weights {
		amt := total * w / wsum
		if j == len(weights)-1 {
			amt = left
		}
		left -= amt
		// One unit at the line's amount: the price in millionths is the fen × 10^4.
		claim.Items = append(claim.Items, engine.LineItem{Code: codes[j], Name: codes[j], Quantity: engine.QuantityOf(1),
			UnitPrice: engine.PriceFromScaled(amt * 10_000), Amount: fen(amt)})
	}
	inScope := total - outOfScope
	res := engine.Result{
		PolicyVersion: fmt.Sprintf("%d.bench", g.d.Year), PolicyRegion: g.d.Region, PolicyScheme: g.d.Scheme,
		Breakdown: engine.Breakdown{Total: fen(total), OutOfScope: fen(outOfScope), InScope: fen(inScope), Deductible: fen(deductible),
			BasicFund: fen(basic), Catastrophic: fen(catastrophic), FundTotal: fen(basic + catastrophic),
			PersonalTotal: fen(personal), Account: fen(account), Cash: fen(personal - account)},
		Details: []engine.Detail{{Fund: engine.FundBasic, Band: 0, Ratio: engine.MustRatio("0.8"), Base: fen(inScope - deductible), Amount: fen(basic)}},
		Delta: engine.Accumulators{PersonID: person, Year: g.d.Year, InpatientCount: 1,
			VisitTypes: map[engine.VisitType]engine.VisitAccumulator{engine.VisitInpatient: {InScope: fen(inScope), DeductiblePaid: fen(deductible)}},
			PoolUsed:   map[string]engine.Money{"inpatient": fen(basic)}},
	}
	if catastrophic > 0 {
		res.Details = append(res.Details, engine.Detail{Fund: engine.FundCatastrophic, Band: 0, Ratio: engine.MustRatio("0.6"),
			Base: fen(catastrophic * 10 / 6), Amount: fen(catastrophic)})
		res.Delta.CatastrophicBase, res.Delta.CatastrophicPaid = fen(catastrophic*10/6), fen(catastrophic)
	}
	return engine.Settlement{Claim: claim, State: engine.StateSettled, Result: res}
}
