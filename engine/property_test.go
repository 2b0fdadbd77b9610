package engine_test

// Seeded randomized property tests of engine.Settle.
//
// Every test draws its inputs from a PCG generator seeded with
// MEDSETTLE_SEED when it is set, else with the clock. A failure names the
// seed; rerun the same test with MEDSETTLE_SEED=<seed> to replay it.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

// ---------------------------------------------------------------------------
// Seeds and the generator.

// gen is a seeded source of random but valid policies, persons,
// institutions, claims and accumulators.
type gen struct {
	r    *rand.Rand
	seed uint64
	t    testing.TB
}

// newGen seeds a generator from MEDSETTLE_SEED, or from the clock, and
// arranges for the seed to be printed when the test fails.
func newGen(t testing.TB) *gen {
	t.Helper()
	var seed uint64
	if s := os.Getenv("MEDSETTLE_SEED"); s != "" {
		v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
		if err != nil {
			t.Fatalf("MEDSETTLE_SEED=%q is not an unsigned integer: %v", s, err)
		}
		seed = v
	} else {
		seed = uint64(time.Now().UnixNano())
	}
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed, t: t}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("rerun with MEDSETTLE_SEED=%d go test -race -run '^%s$' ./engine", seed, t.Name())
		}
	})
	return g
}

// fatalf fails the test with the seed in the message.
func (g *gen) fatalf(format string, args ...any) {
	g.t.Helper()
	g.t.Fatalf("rerun with MEDSETTLE_SEED=%d: %s", g.seed, fmt.Sprintf(format, args...))
}

func (g *gen) intn(n int) int        { return g.r.IntN(n) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }
func pow10(k int) int64 {
	v := int64(1)
	for ; k > 0; k-- {
		v *= 10
	}
	return v
}
func dptr[T any](d T) *T { return &d }

// The reference model computes every product and every rounding with
// shopspring/decimal, an oracle apart from the engine's fixed-point
// arithmetic; these convert between the two.

// decM, decR, decQ and decP are a Money, Ratio, Quantity and Price as decimals.
func decM(m engine.Money) decimal.Decimal    { return decimal.New(m.Fen(), -2) }
func decR(r engine.Ratio) decimal.Decimal    { return decimal.New(r.Scaled(), -4) }
func decQ(q engine.Quantity) decimal.Decimal { return decimal.New(q.Scaled(), -4) }
func decP(p engine.Price) decimal.Decimal    { return decimal.New(p.Scaled(), -6) }

// moneyOf is a decimal that is a whole number of fen as Money.
func moneyOf(d decimal.Decimal) engine.Money {
	if !d.Equal(d.Round(2)) || !d.Shift(2).BigInt().IsInt64() {
		panic(fmt.Sprintf("moneyOf(%s): not a whole number of fen in range", d))
	}
	return engine.MoneyFromFen(d.Shift(2).IntPart())
}

// money is an amount with two decimals, spread log-uniformly below
// 10^digits fen.
func (g *gen) money(digits int) engine.Money {
	k := 1 + g.intn(digits)
	return engine.MoneyFromFen(g.r.Int64N(pow10(k)))
}

// positiveMoney is money of at least one fen.
func (g *gen) positiveMoney(digits int) engine.Money {
	k := 1 + g.intn(digits)
	return engine.MoneyFromFen(1 + g.r.Int64N(pow10(k)))
}

// ratio is a ratio in [0, 1] with at most four decimals, often a round one.
func (g *gen) ratio() engine.Ratio {
	switch g.intn(6) {
	case 0:
		return engine.Ratio{}
	case 1:
		return engine.RatioOne
	case 2:
		return engine.RatioFromScaled(int64(g.intn(21)) * 500)
	default:
		return engine.RatioFromScaled(int64(g.intn(10001)))
	}
}

// schedule has 1-4 bands with ascending up_to (money) and, when asked, an
// annual cap. threshold makes the first band a ratio-0 threshold band.
func (g *gen) schedule(digits int, threshold, withCap bool) engine.Schedule {
	n := 1 + g.intn(4)
	var s engine.Schedule
	var bound engine.Money
	for i := 0; i < n; i++ {
		b := engine.Band{Ratio: g.ratio()}
		if i == 0 && threshold {
			b.Ratio = engine.Ratio{}
		}
		if i < n-1 {
			bound = bound.Add(g.positiveMoney(digits))
			b.UpTo = dptr(bound)
		}
		s.Bands = append(s.Bands, b)
	}
	if withCap {
		s.AnnualCap = dptr(g.money(digits + 1))
	}
	return s
}

var (
	testYear  = 2024
	validFrom = engine.Date{Year: 2020, Month: time.January, Day: 1}
	validTo   = engine.Date{Year: 2030, Month: time.December, Day: 31}
	aidCats   = []engine.Category{engine.CategoryDestitute, engine.CategoryMinimumLiving, engine.CategoryMonitored, engine.CategoryPovertyAlleviated}
)

// policy builds a random policy that covers every institution level, every
// employment status and every contribution-years count, so that settling
// any generated claim with it succeeds.
func (g *gen) policy() *engine.Policy {
	p := &engine.Policy{
		Region:        "R1",
		Scheme:        []engine.Scheme{engine.SchemeEmployee, engine.SchemeResident}[g.intn(2)],
		Version:       fmt.Sprintf("v%d", g.intn(1000)),
		EffectiveFrom: validFrom,
		EffectiveTo:   validTo,
		UnknownItem:   engine.UnknownItem(g.intn(3)),
	}
	for i, n := 0, 1+g.intn(12); i < n; i++ {
		e := engine.CatalogEntry{Code: fmt.Sprintf("I%02d", i), Category: engine.ItemCategory(1 + g.intn(3))}
		if e.Category == engine.ItemB {
			e.SelfPayRatio = g.ratio()
		}
		if g.chance(0.4) {
			// up to six decimals, as API.md allows for price_cap
			e.PriceCap = dptr(engine.PriceFromScaled(g.r.Int64N(pow10(1+g.intn(8))) * pow10(g.intn(7))))
		}
		p.Catalog = append(p.Catalog, e)
	}
	var pools []string
	for i, n := 0, g.intn(3); i < n; i++ {
		cp := engine.CapPool{Name: fmt.Sprintf("pool%d", i)}
		cp.Rows = append(cp.Rows, engine.CapPoolRow{MinYears: 0, Amount: g.money(8)})
		for _, y := range []int{5, 10, 15, 20} {
			if g.chance(0.4) {
				cp.Rows = append(cp.Rows, engine.CapPoolRow{MinYears: y, Amount: g.money(8)})
			}
		}
		g.r.Shuffle(len(cp.Rows), func(i, j int) { cp.Rows[i], cp.Rows[j] = cp.Rows[j], cp.Rows[i] })
		p.CapPools = append(p.CapPools, cp)
		pools = append(pools, cp.Name)
	}
	for _, vt := range engine.VisitTypes {
		if g.chance(0.15) {
			continue // no basic-fund benefit for this visit type
		}
		b := engine.Benefit{VisitType: vt, Accumulation: engine.Accumulation(1 + g.intn(2))}
		if g.chance(0.85) {
			for level := 1; level <= 3; level++ {
				row := engine.DeductibleRow{Level: level}
				for j, n := 0, 1+g.intn(3); j < n; j++ {
					row.Amounts = append(row.Amounts, g.money(6))
				}
				b.Deductibles = append(b.Deductibles, row)
			}
		}
		for level := 1; level <= 3; level++ {
			b.Rates = append(b.Rates, engine.RateRow{Level: level, Employment: engine.EmploymentAny, Schedule: g.schedule(7, g.chance(0.2), false)})
			for _, emp := range []engine.Employment{engine.EmploymentEmployed, engine.EmploymentRetired} {
				if g.chance(0.4) {
					b.Rates = append(b.Rates, engine.RateRow{Level: level, Employment: emp, Schedule: g.schedule(7, false, false)})
				}
			}
		}
		g.r.Shuffle(len(b.Rates), func(i, j int) { b.Rates[i], b.Rates[j] = b.Rates[j], b.Rates[i] })
		if len(pools) > 0 && g.chance(0.7) {
			b.CapPool = pools[g.intn(len(pools))]
		}
		p.Benefits = append(p.Benefits, b)
	}
	if g.chance(0.5) {
		p.UnregisteredRatioCut = g.ratio()
	}
	if g.chance(0.7) {
		c := &engine.Catastrophic{IncludePreSelfPay: g.chance(0.5), Normal: g.schedule(7, true, g.chance(0.5))}
		for _, vt := range engine.VisitTypes {
			if g.chance(0.6) {
				c.VisitTypes = append(c.VisitTypes, vt)
			}
		}
		if len(c.VisitTypes) == 0 {
			c.VisitTypes = []engine.VisitType{engine.VisitInpatient}
		}
		if g.chance(0.5) {
			s := g.schedule(7, true, g.chance(0.5))
			c.Special = &s
			for cat := engine.CategoryOrdinary; cat <= engine.CategoryPovertyAlleviated; cat++ {
				if g.chance(0.3) {
					c.SpecialCategories = append(c.SpecialCategories, cat)
				}
			}
		}
		p.Catastrophic = c
	}
	for _, cat := range aidCats {
		if g.chance(0.5) {
			a := engine.AidRule{Category: cat, Schedule: g.schedule(6, g.chance(0.7), g.chance(0.5)), IncludePreSelfPay: g.chance(0.5)}
			if g.chance(0.5) {
				a.OOPCeiling = dptr(g.money(7))
			}
			p.MedicalAid = append(p.MedicalAid, a)
		}
	}
	p.AccountCoversOutOfScope = g.chance(0.5)
	if g.chance(0.5) {
		p.BudgetWarnRatio = dptr(g.ratio())
	}
	if err := engine.ValidatePolicy(p); err != nil {
		g.fatalf("the generator built a policy that ValidatePolicy rejects: %v\npolicy: %s", err, dumpPolicy(p))
	}
	if g.chance(0.5) {
		p.Index() // both indexed and linear catalog lookups are exercised
	}
	return p
}

func (g *gen) person(p *engine.Policy) engine.Person {
	per := engine.Person{
		ID: "P1", Name: "Zhang San", Region: p.Region, Scheme: p.Scheme,
		Category:          engine.Category(g.intn(6)),
		ContributionYears: g.intn(41),
		AccountBalance:    g.money(7),
	}
	if p.Scheme == engine.SchemeEmployee {
		per.Employment = engine.Employment(g.intn(3))
	}
	return per
}

// institution is in the policies' region R1 (local care) or in R2 or R3
// (cross-region care).
func (g *gen) institution() engine.Institution {
	in := engine.Institution{ID: "H1", Name: "Hospital", Region: []string{"R1", "R1", "R2", "R3"}[g.intn(4)], Level: 1 + g.intn(3)}
	if g.chance(0.6) {
		in.Budgets = append(in.Budgets, engine.Budget{Year: testYear, Amount: g.money(9)})
	}
	if g.chance(0.3) {
		in.Budgets = append(in.Budgets, engine.Budget{Year: testYear - 1, Amount: g.money(9)})
	}
	return in
}

// quantity is > 0, at most 10^6, with up to four decimals.
func (g *gen) quantity() engine.Quantity {
	if g.chance(0.5) {
		return engine.QuantityOf(int64(1 + g.intn(10)))
	}
	places := g.intn(5)
	return engine.QuantityFromScaled((1 + g.r.Int64N(pow10(1+g.intn(6)))) * pow10(4-places))
}

// price is ≥ 0 with up to six decimals.
func (g *gen) price() engine.Price {
	return engine.PriceFromScaled(g.r.Int64N(pow10(1+g.intn(9))) * pow10(g.intn(7)))
}

// amountOf is round(quantity × unit_price) to the fen, by the oracle.
func amountOf(q engine.Quantity, p engine.Price) engine.Money {
	return moneyOf(decQ(q).Mul(decP(p)).Round(2))
}

func (g *gen) item(p *engine.Policy, i int) engine.LineItem {
	it := engine.LineItem{Code: fmt.Sprintf("UNKNOWN%d", g.intn(5)), Name: fmt.Sprintf("item %d", i), Quantity: g.quantity(), UnitPrice: g.price()}
	if p.UnknownItem == engine.UnknownItemReject || g.chance(0.85) {
		e := p.Catalog[g.intn(len(p.Catalog))]
		it.Code = e.Code
		if e.PriceCap != nil && g.chance(0.4) {
			// near the cap, on either side
			step := []int64{100, 1}[g.intn(2)] // ±0.1 yuan in 10^-4 or 10^-6 steps
			it.UnitPrice = engine.PriceFromScaled(max(0, e.PriceCap.Scaled()+int64(g.intn(2001)-1000)*step))
		}
	}
	it.Amount = amountOf(it.Quantity, it.UnitPrice)
	if it.Amount.GreaterThan(maxItemAmount) {
		// A line of at most 10^9 yuan keeps a year of claims, and every
		// sum of claims the properties settle at once, below MaxTotal.
		it.Quantity, it.UnitPrice = engine.QuantityOf(1), engine.PriceFromScaled(it.UnitPrice.Scaled()%(maxItemAmount.Fen()*10_000))
		it.Amount = amountOf(it.Quantity, it.UnitPrice)
	}
	return it
}

// maxItemAmount bounds the generator's line amounts (see item).
var maxItemAmount = engine.Yuan(1_000_000_000)

// filings are 0 to 3 cross-region filings of person P1 for R2, R3 (where
// institutions may be) or R4 (where none is), each valid for a random
// stretch of the test year, sometimes all of it.
func (g *gen) filings() []engine.Filing {
	var out []engine.Filing
	for i, n := 0, g.intn(4); i < n; i++ {
		f := engine.Filing{ID: fmt.Sprintf("F%d", i), PersonID: "P1", Region: []string{"R2", "R3", "R4"}[g.intn(3)],
			ValidFrom: engine.Date{Year: testYear, Month: time.January, Day: 1}, ValidTo: engine.Date{Year: testYear, Month: time.December, Day: 31}}
		if g.chance(0.7) {
			a := engine.Date{Year: testYear, Month: time.Month(1 + g.intn(12)), Day: 1 + g.intn(28)}
			b := engine.Date{Year: testYear, Month: time.Month(1 + g.intn(12)), Day: 1 + g.intn(28)}
			if b.Compare(a) < 0 {
				a, b = b, a
			}
			f.ValidFrom, f.ValidTo = a, b
		}
		out = append(out, f)
	}
	return out
}

// modelCross is what the records say about an input's care, by the rule
// of SETTLEMENT.md ("Cross-region care"), written apart from the engine.
func modelCross(in engine.Input) engine.CrossRegion {
	if in.Institution.Region == in.Person.Region {
		return engine.CrossRegionLocal
	}
	d := in.Claim.SettleDate
	for _, f := range in.Filings {
		if f.PersonID == in.Person.ID && f.Region == in.Institution.Region && f.ValidFrom.Compare(d) <= 0 && d.Compare(f.ValidTo) <= 0 {
			return engine.CrossRegionRegistered
		}
	}
	return engine.CrossRegionUnregistered
}

// declare sets the claim's cross_region as an HIS would: mostly not at
// all (as the records say), else what the records say.
func (g *gen) declare(in *engine.Input) {
	in.Claim.CrossRegion = engine.CrossRegionUnspecified
	if g.chance(0.5) {
		in.Claim.CrossRegion = modelCross(*in)
	}
}

func (g *gen) claim(p *engine.Policy, id int, vt engine.VisitType) engine.Claim {
	if vt == engine.VisitUnspecified {
		vt = engine.VisitTypes[g.intn(3)]
	}
	c := engine.Claim{
		RequestID: fmt.Sprintf("REQ-%d", id), InstitutionID: "H1", PersonID: "P1",
		VisitType:          vt,
		SettleDate:         engine.Date{Year: testYear, Month: time.Month(1 + g.intn(12)), Day: 1 + g.intn(28)},
		UsePersonalAccount: g.chance(0.6),
	}
	for i, n := 0, 1+g.intn(30); i < n; i++ {
		c.Items = append(c.Items, g.item(p, i))
	}
	return c
}

// accumulators are either zero or random non-negative running totals, so
// that caps may already be partly or wholly used.
func (g *gen) accumulators(p *engine.Policy) engine.Accumulators {
	a := engine.NewAccumulators("P1", testYear)
	if g.chance(0.4) {
		return a
	}
	a.InpatientCount = g.intn(5)
	a.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{}
	for _, vt := range engine.VisitTypes {
		if g.chance(0.6) {
			a.VisitTypes[vt] = engine.VisitAccumulator{InScope: g.money(8), DeductiblePaid: g.money(5)}
		}
	}
	for _, cp := range p.CapPools {
		if g.chance(0.7) {
			if a.PoolUsed == nil {
				a.PoolUsed = map[string]engine.Money{}
			}
			a.PoolUsed[cp.Name] = g.money(8)
		}
	}
	a.CatastrophicBase, a.CatastrophicPaid = g.money(8), g.money(7)
	a.AidBase, a.AidPaid, a.AidOutOfPocket = g.money(7), g.money(6), g.money(7)
	return a
}

// input is a complete random input that Settle must accept.
func (g *gen) input() engine.Input {
	p := g.policy()
	in := engine.Input{
		Policy: p, Person: g.person(p), Institution: g.institution(),
		Claim: g.claim(p, g.intn(1_000_000), 0), Accumulators: g.accumulators(p),
		BudgetUsed: g.money(9), Filings: g.filings(),
	}
	g.declare(&in)
	return in
}

// settle runs Settle, turning a panic into a test failure that names the seed.
func (g *gen) settle(in engine.Input) (res engine.Result, err error) {
	g.t.Helper()
	defer func() {
		if r := recover(); r != nil {
			g.fatalf("Settle panicked: %v\ninput: %s", r, dumpInput(in))
		}
	}()
	return engine.Settle(in)
}

// mustSettle runs Settle and fails on an error.
func (g *gen) mustSettle(in engine.Input) engine.Result {
	g.t.Helper()
	res, err := g.settle(in)
	if err != nil {
		g.fatalf("Settle failed on a valid input: %v\ninput: %s", err, dumpInput(in))
	}
	return res
}

func dumpPolicy(p *engine.Policy) string {
	if p == nil {
		return "<nil>"
	}
	cat := "<nil>"
	if c := p.Catastrophic; c != nil {
		cat = fmt.Sprintf("%+v", *c)
		if c.Special != nil {
			cat += fmt.Sprintf(" special=%+v", *c.Special)
		}
	}
	return fmt.Sprintf("%+v\ncatastrophic=%s", *p, cat)
}

func dumpInput(in engine.Input) string {
	return fmt.Sprintf("policy=%s\nperson=%+v\ninstitution=%+v\nclaim=%+v\naccumulators=%+v\nbudget_used=%s\nfilings=%+v",
		dumpPolicy(in.Policy), in.Person, in.Institution, in.Claim, in.Accumulators, in.BudgetUsed, in.Filings)
}

// ---------------------------------------------------------------------------
// A reference model of SETTLEMENT.md, written independently of the engine.

// modelG is Σ_b round(r_b × len([max(lower_b, floor), min(up_to_b, x)])) per
// band, each ratio lowered by cut (floor 0).
func modelG(bands []engine.Band, cut, floor, x decimal.Decimal) []decimal.Decimal {
	out := make([]decimal.Decimal, len(bands))
	lower := decimal.Zero
	for i, b := range bands {
		lo := decimal.Max(lower, floor)
		hi := x
		if b.UpTo != nil {
			hi = decimal.Min(hi, decM(*b.UpTo))
		}
		l := decimal.Max(decimal.Zero, hi.Sub(lo))
		r := decimal.Max(decimal.Zero, decR(b.Ratio).Sub(cut))
		out[i] = r.Mul(l).Round(2)
		if b.UpTo != nil {
			lower = decM(*b.UpTo)
		}
	}
	return out
}

// modelSpan returns the per-band detail lines of a running amount moving
// from c0 to c1, capped at limit (nil: no cap) from the highest band down,
// and what they pay in total before and after the cap.
func modelSpan(fund engine.Fund, bands []engine.Band, cutR engine.Ratio, floorM, c0M, c1M engine.Money, limitM *engine.Money) (lines []engine.Detail, rawM, paidM engine.Money) {
	cut, floor, c0, c1 := decR(cutR), decM(floorM), decM(c0M), decM(c1M)
	var limit *decimal.Decimal
	if limitM != nil {
		limit = dptr(decM(*limitM))
	}
	var raw, paid decimal.Decimal
	g0, g1 := modelG(bands, cut, floor, c0), modelG(bands, cut, floor, c1)
	lower := decimal.Zero
	for i, b := range bands {
		lo := decimal.Max(lower, floor)
		length := func(x decimal.Decimal) decimal.Decimal {
			hi := x
			if b.UpTo != nil {
				hi = decimal.Min(hi, decM(*b.UpTo))
			}
			return decimal.Max(decimal.Zero, hi.Sub(lo))
		}
		amt := g1[i].Sub(g0[i])
		ratio := decimal.Max(decimal.Zero, decR(b.Ratio).Sub(cut))
		lines = append(lines, engine.Detail{Fund: fund, Band: i, Ratio: engine.RatioFromScaled(ratio.Shift(4).IntPart()),
			Base: moneyOf(length(c1).Sub(length(c0))), Amount: moneyOf(amt)})
		raw = raw.Add(amt)
		if b.UpTo != nil {
			lower = decM(*b.UpTo)
		}
	}
	paid = raw
	if limit != nil {
		room := decimal.Max(decimal.Zero, *limit)
		if raw.GreaterThan(room) {
			paid = room
			excess := raw.Sub(room)
			for i := len(lines) - 1; i >= 0 && excess.IsPositive(); i-- {
				cut := decimal.Min(decM(lines[i].Amount), excess)
				lines[i].Amount = moneyOf(decM(lines[i].Amount).Sub(cut))
				excess = excess.Sub(cut)
			}
		}
	}
	return lines, moneyOf(raw), moneyOf(paid)
}

type modelResult struct {
	b       engine.Breakdown
	details []engine.Detail // non-zero lines only
	delta   engine.Accumulators
}

// model settles an input by the rules, for inputs that settle without error.
func model(in engine.Input) modelResult {
	p, c, per, acc := in.Policy, in.Claim, in.Person, in.Accumulators
	var m modelResult
	b := &m.b
	for _, it := range c.Items {
		b.Total = b.Total.Add(it.Amount)
		var e *engine.CatalogEntry
		for i := range p.Catalog {
			if p.Catalog[i].Code == it.Code {
				e = &p.Catalog[i]
			}
		}
		if e == nil || e.Category == engine.ItemC {
			b.OutOfScope = b.OutOfScope.Add(it.Amount)
			continue
		}
		rest := it.Amount
		if e.PriceCap != nil && it.UnitPrice.GreaterThan(*e.PriceCap) {
			over := moneyOf(decP(it.UnitPrice).Sub(decP(*e.PriceCap)).Mul(decQ(it.Quantity)).Round(2))
			b.OverLimit = b.OverLimit.Add(over)
			rest = rest.Sub(over)
		}
		if e.Category == engine.ItemB {
			pre := moneyOf(decM(rest).Mul(decR(e.SelfPayRatio)).Round(2))
			b.PreSelfPay = b.PreSelfPay.Add(pre)
			rest = rest.Sub(pre)
		}
		b.InScope = b.InScope.Add(rest)
	}
	keep := func(lines []engine.Detail) {
		for _, l := range lines {
			if !l.Amount.IsZero() {
				m.details = append(m.details, l)
			}
		}
	}

	// Layer 1.
	m.delta = engine.NewAccumulators(c.PersonID, c.SettleDate.Year)
	if c.VisitType == engine.VisitInpatient {
		m.delta.InpatientCount = 1
	}
	var ded engine.Money
	if ben := p.Benefit(c.VisitType); ben != nil {
		var d engine.Money
		for _, row := range ben.Deductibles {
			if row.Level == in.Institution.Level {
				n := 0
				if ben.Accumulation == engine.AccumulationPerVisit && c.VisitType == engine.VisitInpatient {
					n = min(acc.InpatientCount, len(row.Amounts)-1)
				}
				d = row.Amounts[n]
			}
		}
		var sched engine.Schedule
		found := false
		for _, r := range ben.Rates { // the exact status wins over a row for everyone
			if r.Level == in.Institution.Level && r.Employment == engine.EmploymentAny && !found {
				sched, found = r.Schedule, true
			}
		}
		for _, r := range ben.Rates {
			if r.Level == in.Institution.Level && per.Employment != engine.EmploymentAny && r.Employment == per.Employment {
				sched = r.Schedule
			}
		}
		var c0 engine.Money
		if ben.Accumulation == engine.AccumulationAnnual {
			c0 = acc.Visit(c.VisitType).InScope
		}
		c1 := c0.Add(b.InScope)
		var cut engine.Ratio
		if modelCross(in) == engine.CrossRegionUnregistered {
			cut = p.UnregisteredRatioCut
		}
		var limit *engine.Money
		if ben.CapPool != "" {
			for _, cp := range p.CapPools {
				if cp.Name == ben.CapPool {
					best := -1
					for _, r := range cp.Rows {
						if r.MinYears <= per.ContributionYears && r.MinYears > best {
							best = r.MinYears
							limit = dptr(r.Amount.Sub(acc.Pool(cp.Name)))
						}
					}
				}
			}
		}
		lines, raw, paid := modelSpan(engine.FundBasic, sched.Bands, cut, d, c0, c1, limit)
		keep(lines)
		b.BasicFund, b.OverCap = paid, raw.Sub(paid)
		ded = c1.Min(d).Sub(c0.Min(d))
		if ben.CapPool != "" {
			m.delta.PoolUsed = map[string]engine.Money{ben.CapPool: paid}
		}
	}
	b.Deductible = ded
	m.delta.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{c.VisitType: {InScope: b.InScope, DeductiblePaid: ded}}

	// Layer 2.
	if cat := p.Catastrophic; cat != nil && containsVT(cat.VisitTypes, c.VisitType) {
		base := b.InScope.Sub(b.BasicFund)
		if cat.IncludePreSelfPay {
			base = base.Add(b.PreSelfPay)
		}
		sched := cat.Normal
		if cat.Special != nil {
			for _, sc := range cat.SpecialCategories {
				if sc.Normal() == per.Category.Normal() {
					sched = *cat.Special
				}
			}
		}
		var limit *engine.Money
		if sched.AnnualCap != nil {
			limit = dptr(sched.AnnualCap.Sub(acc.CatastrophicPaid))
		}
		lines, _, paid := modelSpan(engine.FundCatastrophic, sched.Bands, engine.Ratio{}, engine.Money{}, acc.CatastrophicBase, acc.CatastrophicBase.Add(base), limit)
		keep(lines)
		b.Catastrophic = paid
		m.delta.CatastrophicBase, m.delta.CatastrophicPaid = base, paid
	}

	// Layer 3.
	for _, rule := range p.MedicalAid {
		if rule.Category != per.Category.Normal() {
			continue
		}
		base := b.InScope.Sub(b.BasicFund).Sub(b.Catastrophic)
		if rule.IncludePreSelfPay {
			base = base.Add(b.PreSelfPay)
		}
		// A negative base (catastrophic insurance paid more than the
		// in-scope remainder because it counted pre_self_pay) counts as 0.
		base = base.Max(engine.Money{})
		var limit *engine.Money
		if rule.Schedule.AnnualCap != nil {
			limit = dptr(rule.Schedule.AnnualCap.Sub(acc.AidPaid))
		}
		lines, _, regular := modelSpan(engine.FundMedicalAid, rule.Schedule.Bands, engine.Ratio{}, engine.Money{}, acc.AidBase, acc.AidBase.Add(base), limit)
		keep(lines)
		oop := base.Sub(regular)
		var extra engine.Money
		if rule.OOPCeiling != nil {
			c0, c1 := acc.AidOutOfPocket, acc.AidOutOfPocket.Add(oop)
			extra = c1.Sub(*rule.OOPCeiling).Max(engine.Money{}).Sub(c0.Sub(*rule.OOPCeiling).Max(engine.Money{}))
			if extra.IsPositive() {
				m.details = append(m.details, engine.Detail{Fund: engine.FundAidCeiling, Band: 0, Ratio: engine.RatioOne, Base: extra, Amount: extra})
			}
		}
		b.MedicalAid = regular.Add(extra)
		m.delta.AidBase, m.delta.AidPaid, m.delta.AidOutOfPocket = base, regular, oop
		break
	}

	b.FundTotal = b.BasicFund.Add(b.Catastrophic).Add(b.MedicalAid)
	b.PersonalTotal = b.Total.Sub(b.FundTotal)
	if per.Scheme == engine.SchemeEmployee && c.UsePersonalAccount {
		payable := b.PersonalTotal
		if !p.AccountCoversOutOfScope {
			payable = payable.Sub(b.OutOfScope).Sub(b.OverLimit)
		}
		b.Account = per.AccountBalance.Max(engine.Money{}).Min(payable.Max(engine.Money{}))
	}
	b.Cash = b.PersonalTotal.Sub(b.Account)
	return m
}

func containsVT(list []engine.VisitType, v engine.VisitType) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Independent checks of one result.

type figure struct {
	name string
	v    engine.Money
}

func figures(b engine.Breakdown) []figure {
	return []figure{
		{"total", b.Total}, {"out_of_scope", b.OutOfScope}, {"over_limit", b.OverLimit},
		{"pre_self_pay", b.PreSelfPay}, {"in_scope", b.InScope}, {"deductible", b.Deductible},
		{"basic_fund", b.BasicFund}, {"over_cap", b.OverCap}, {"catastrophic", b.Catastrophic},
		{"medical_aid", b.MedicalAid}, {"fund_total", b.FundTotal}, {"personal_total", b.PersonalTotal},
		{"account", b.Account}, {"cash", b.Cash},
	}
}

// checkResult checks a result of a successful Settle without calling the
// engine's own CheckResult, and compares it with the reference model.
func (g *gen) checkResult(in engine.Input, res engine.Result) {
	g.t.Helper()
	fail := func(format string, args ...any) {
		g.t.Helper()
		g.fatalf("%s\nbreakdown: %+v\ndetails: %+v\ninput: %s", fmt.Sprintf(format, args...), res.Breakdown, res.Details, dumpInput(in))
	}
	if err := engine.CheckResult(res); err != nil {
		fail("engine.CheckResult: %v", err)
	}
	b := res.Breakdown
	for _, f := range figures(b) {
		if f.v.IsNegative() {
			fail("%s = %s is negative", f.name, f.v)
		}
	}
	eq := func(what string, got, want engine.Money) {
		g.t.Helper()
		if !got.Equal(want) {
			fail("%s: got %s, want %s", what, got, want)
		}
	}
	eq("total = out_of_scope + over_limit + pre_self_pay + in_scope", b.Total, b.OutOfScope.Add(b.OverLimit).Add(b.PreSelfPay).Add(b.InScope))
	eq("fund_total = basic + catastrophic + aid", b.FundTotal, b.BasicFund.Add(b.Catastrophic).Add(b.MedicalAid))
	eq("personal_total = total - fund_total", b.PersonalTotal, b.Total.Sub(b.FundTotal))
	eq("cash = personal_total - account", b.Cash, b.PersonalTotal.Sub(b.Account))
	var itemSum engine.Money
	for _, it := range in.Claim.Items {
		itemSum = itemSum.Add(it.Amount)
	}
	eq("total = sum of item amounts", b.Total, itemSum)

	sums := map[engine.Fund]engine.Money{}
	for _, d := range res.Details {
		switch d.Fund {
		case engine.FundBasic, engine.FundCatastrophic, engine.FundMedicalAid:
			sums[d.Fund] = sums[d.Fund].Add(d.Amount)
		case engine.FundAidCeiling:
			sums[engine.FundMedicalAid] = sums[engine.FundMedicalAid].Add(d.Amount)
			if d.Band != 0 || !d.Ratio.Equal(engine.RatioOne) || !d.Base.Equal(d.Amount) {
				fail("aid ceiling line %+v is not band 0, ratio 1, base = amount", d)
			}
		default:
			fail("detail line %+v has no fund", d)
		}
		if d.Amount.IsNegative() || d.Base.IsNegative() || d.Amount.GreaterThan(d.Base) {
			fail("detail line %+v: amount and base must be fen, >= 0, amount <= base", d)
		}
		if d.Ratio.IsNegative() || d.Ratio.GreaterThan(engine.RatioOne) {
			fail("detail line %+v: ratio outside [0, 1]", d)
		}
	}
	eq("basic detail lines", sums[engine.FundBasic], b.BasicFund)
	eq("catastrophic detail lines", sums[engine.FundCatastrophic], b.Catastrophic)
	eq("aid detail lines (with FUND_AID_CEILING)", sums[engine.FundMedicalAid], b.MedicalAid)

	if b.BasicFund.Add(b.OverCap).Add(b.Deductible).GreaterThan(b.InScope) {
		fail("basic_fund + over_cap + deductible exceeds in_scope")
	}
	if b.Account.IsPositive() && (in.Person.Scheme != engine.SchemeEmployee || !in.Claim.UsePersonalAccount) {
		fail("account paid %s for a claim that may not use it", b.Account)
	}
	if b.Account.GreaterThan(in.Person.AccountBalance.Max(engine.Money{})) {
		fail("account paid %s, more than the balance %s", b.Account, in.Person.AccountBalance)
	}

	// Budget.
	if limit, ok := in.Institution.Budget(in.Claim.SettleDate.Year); ok {
		if res.Budget == nil {
			fail("no budget status although the institution has a budget")
		}
		eq("budget used", res.Budget.Used, in.BudgetUsed.Add(b.BasicFund))
		eq("budget limit", res.Budget.Limit, limit)
		want := engine.BudgetWithin
		switch used := res.Budget.Used; {
		case used.GreaterThan(limit):
			want = engine.BudgetExceeded
		case decM(used).GreaterThanOrEqual(decR(in.Policy.WarnRatio()).Mul(decM(limit))):
			want = engine.BudgetWarning
		}
		if res.Budget.State != want {
			fail("budget state %v, want %v", res.Budget.State, want)
		}
	} else if res.Budget != nil {
		fail("budget status %+v without a budget", *res.Budget)
	}

	if want := modelCross(in); res.CrossRegion != want {
		fail("cross_region decided %v, the records say %v", res.CrossRegion, want)
	}

	// The reference model.
	m := model(in)
	for i, f := range figures(b) {
		if w := figures(m.b)[i]; !f.v.Equal(w.v) {
			fail("%s = %s, the reference model says %s (model breakdown %+v)", f.name, f.v, w.v, m.b)
		}
	}
	if len(res.Details) != len(m.details) {
		fail("details %+v, the reference model says %+v", res.Details, m.details)
	}
	for i, d := range res.Details {
		w := m.details[i]
		if d.Fund != w.Fund || d.Band != w.Band || !d.Ratio.Equal(w.Ratio) || !d.Base.Equal(w.Base) || !d.Amount.Equal(w.Amount) {
			fail("detail %d is %+v, the reference model says %+v", i, d, w)
		}
	}
	if !res.Delta.Equal(m.delta) {
		fail("delta %+v, the reference model says %+v", res.Delta, m.delta)
	}
}

// diffResults compares two results by value (decimals with Equal) and
// describes the first difference, or returns "".
func diffResults(a, b engine.Result) string {
	if a.PolicyVersion != b.PolicyVersion || !a.WarnRatio.Equal(b.WarnRatio) || a.CrossRegion != b.CrossRegion {
		return fmt.Sprintf("policy version, warn ratio or cross region: %s %s %v / %s %s %v",
			a.PolicyVersion, a.WarnRatio, a.CrossRegion, b.PolicyVersion, b.WarnRatio, b.CrossRegion)
	}
	fa, fb := figures(a.Breakdown), figures(b.Breakdown)
	for i := range fa {
		if !fa[i].v.Equal(fb[i].v) {
			return fmt.Sprintf("%s: %s / %s", fa[i].name, fa[i].v, fb[i].v)
		}
	}
	if len(a.Details) != len(b.Details) {
		return fmt.Sprintf("details: %+v / %+v", a.Details, b.Details)
	}
	for i, x := range a.Details {
		y := b.Details[i]
		if x.Fund != y.Fund || x.Band != y.Band || !x.Ratio.Equal(y.Ratio) || !x.Base.Equal(y.Base) || !x.Amount.Equal(y.Amount) {
			return fmt.Sprintf("detail %d: %+v / %+v", i, x, y)
		}
	}
	if !a.Delta.Equal(b.Delta) {
		return fmt.Sprintf("delta: %+v / %+v", a.Delta, b.Delta)
	}
	if (a.Budget == nil) != (b.Budget == nil) || (a.BudgetLimit == nil) != (b.BudgetLimit == nil) {
		return fmt.Sprintf("budget: %+v / %+v", a.Budget, b.Budget)
	}
	if a.Budget != nil && (a.Budget.Year != b.Budget.Year || a.Budget.State != b.Budget.State ||
		!a.Budget.Used.Equal(b.Budget.Used) || !a.Budget.Limit.Equal(b.Budget.Limit) || !a.BudgetLimit.Equal(*b.BudgetLimit)) {
		return fmt.Sprintf("budget: %+v / %+v", *a.Budget, *b.Budget)
	}
	return ""
}

// ---------------------------------------------------------------------------
// The properties.

// TestPropertyResultInvariants: every result of a valid input satisfies the
// identities of SETTLEMENT.md and agrees with the reference model, for a
// single claim on random prior accumulators and for a year of claims
// settled one after another.
func TestPropertyResultInvariants(t *testing.T) {
	g := newGen(t)
	for iter := 0; iter < 300; iter++ {
		in := g.input()
		g.checkResult(in, g.mustSettle(in))
	}
	for iter := 0; iter < 40; iter++ {
		p := g.policy()
		in := engine.Input{Policy: p, Person: g.person(p), Institution: g.institution(), Accumulators: engine.NewAccumulators("P1", testYear),
			Filings: g.filings()}
		for k, n := 0, 1+g.intn(12); k < n; k++ {
			in.Claim = g.claim(p, k, 0)
			g.declare(&in)
			res := g.mustSettle(in)
			g.checkResult(in, res)
			in.Accumulators = in.Accumulators.Apply(res.Delta, +1)
			in.Person.AccountBalance = in.Person.AccountBalance.Sub(res.Breakdown.Account)
			in.BudgetUsed = in.BudgetUsed.Add(res.Breakdown.BasicFund)
			if in.Person.AccountBalance.IsNegative() {
				g.fatalf("the account balance went negative: %s", in.Person.AccountBalance)
			}
		}
	}
}

// TestPropertySequenceEqualsSum: with an annual benefit and no cap of any
// kind, settling claims one by one pays what settling one claim with all
// their items pays.
func TestPropertySequenceEqualsSum(t *testing.T) {
	g := newGen(t)
	for iter := 0; iter < 100; iter++ {
		p := g.policy()
		vt := engine.VisitTypes[g.intn(3)]
		// The benefit for vt is ANNUAL and has no cap pool.
		ben := p.Benefit(vt)
		if ben == nil {
			p.Benefits = append(p.Benefits, engine.Benefit{VisitType: vt, Rates: []engine.RateRow{
				{Level: 1, Schedule: g.schedule(7, false, false)},
				{Level: 2, Schedule: g.schedule(7, false, false)},
				{Level: 3, Schedule: g.schedule(7, false, false)},
			}})
			ben = &p.Benefits[len(p.Benefits)-1]
		}
		ben.Accumulation, ben.CapPool = engine.AccumulationAnnual, ""
		if c := p.Catastrophic; c != nil {
			c.Normal.AnnualCap = nil
			if c.Special != nil {
				c.Special.AnnualCap = nil
			}
		}
		for i := range p.MedicalAid {
			p.MedicalAid[i].Schedule.AnnualCap = nil
			// When catastrophic insurance counts pre_self_pay but aid does
			// not, a claim's aid base can be negative and is counted as 0,
			// which is not additive (see TestAidBaseClampNotAdditive).
			if c := p.Catastrophic; c != nil && c.IncludePreSelfPay && containsVT(c.VisitTypes, vt) {
				p.MedicalAid[i].IncludePreSelfPay = true
			}
		}
		if err := engine.ValidatePolicy(p); err != nil {
			g.fatalf("adjusted policy rejected: %v", err)
		}
		base := engine.Input{Policy: p, Person: g.person(p), Institution: g.institution(), Accumulators: g.accumulators(p)}
		if g.chance(0.5) {
			// Registered all year where the institution is, so that every
			// claim of the sequence is settled alike.
			base.Filings = []engine.Filing{{ID: "F1", PersonID: "P1", Region: base.Institution.Region,
				ValidFrom: engine.Date{Year: testYear, Month: time.January, Day: 1}, ValidTo: engine.Date{Year: testYear, Month: time.December, Day: 31}}}
		}
		n := 2 + g.intn(7)
		seq := base
		var basic, cat, aid, ded engine.Money
		var all []engine.LineItem
		for k := 0; k < n; k++ {
			seq.Claim = g.claim(p, k, vt)
			g.declare(&seq)
			c := seq.Claim
			res := g.mustSettle(seq)
			g.checkResult(seq, res)
			basic, cat, aid = basic.Add(res.Breakdown.BasicFund), cat.Add(res.Breakdown.Catastrophic), aid.Add(res.Breakdown.MedicalAid)
			ded = ded.Add(res.Breakdown.Deductible)
			seq.Accumulators = seq.Accumulators.Apply(res.Delta, +1)
			all = append(all, c.Items...)
		}
		one := base
		one.Claim = g.claim(p, 999, vt)
		one.Claim.Items = all
		g.declare(&one)
		res := g.mustSettle(one)
		g.checkResult(one, res)
		b := res.Breakdown
		if !b.BasicFund.Equal(basic) || !b.Catastrophic.Equal(cat) || !b.MedicalAid.Equal(aid) || !b.Deductible.Equal(ded) {
			g.fatalf("%d claims one by one paid basic %s, catastrophic %s, aid %s (deductible %s); all at once: basic %s, catastrophic %s, aid %s (deductible %s)\ninput: %s",
				n, basic, cat, aid, ded, b.BasicFund, b.Catastrophic, b.MedicalAid, b.Deductible, dumpInput(one))
		}
		after := base.Accumulators.Apply(res.Delta, +1)
		after.InpatientCount = seq.Accumulators.InpatientCount // n admissions against one
		if !after.Equal(seq.Accumulators) {
			g.fatalf("accumulators after one by one %+v, after all at once %+v", seq.Accumulators, after)
		}
	}
}

// TestAidBaseClampNotAdditive pins down the one case where sequence and sum
// differ: catastrophic insurance counts pre_self_pay, medical aid does not,
// so the first claim's aid base in_scope − basic − catastrophic is negative
// and counts as 0. Settled together, that negative part offsets the second
// claim's base. SETTLEMENT.md does not say what a negative base does; the
// engine clamps per claim. This test documents the behaviour and fails if
// it changes, so that the choice is revisited consciously.
func TestAidBaseClampNotAdditive(t *testing.T) {
	p := &engine.Policy{
		Region: "R1", Scheme: engine.SchemeResident, Version: "v1", EffectiveFrom: validFrom, EffectiveTo: validTo,
		Catalog: []engine.CatalogEntry{
			{Code: "A", Category: engine.ItemA},
			{Code: "B", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.9")},
		},
		Catastrophic: &engine.Catastrophic{VisitTypes: []engine.VisitType{engine.VisitInpatient}, IncludePreSelfPay: true,
			Normal: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.6")}}}},
		MedicalAid: []engine.AidRule{{Category: engine.CategoryDestitute,
			Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.5")}}}}},
	}
	if err := engine.ValidatePolicy(p); err != nil {
		t.Fatal(err)
	}
	item := func(code, amount string) engine.LineItem {
		return engine.LineItem{Code: code, Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice(amount), Amount: engine.MustMoney(amount)}
	}
	in := engine.Input{Policy: p, Person: engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeResident, Category: engine.CategoryDestitute},
		Institution: engine.Institution{ID: "H1", Level: 1}, Accumulators: engine.NewAccumulators("P1", testYear)}
	claim := func(items ...engine.LineItem) engine.Claim {
		return engine.Claim{RequestID: "R", InstitutionID: "H1", PersonID: "P1", VisitType: engine.VisitInpatient,
			SettleDate: engine.Date{Year: testYear, Month: 3, Day: 1}, Items: items}
	}
	c1, c2 := claim(item("B", "1000.00")), claim(item("A", "1000.00"))
	in.Claim = c1
	r1, err := engine.Settle(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Accumulators = in.Accumulators.Apply(r1.Delta, +1)
	in.Claim = c2
	r2, err := engine.Settle(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Accumulators = engine.NewAccumulators("P1", testYear)
	in.Claim = claim(c1.Items[0], c2.Items[0])
	all, err := engine.Settle(in)
	if err != nil {
		t.Fatal(err)
	}
	// Claim 1: in_scope 100, pre 900, catastrophic 0.6 × 1000 = 600, aid base max(0, 100 − 600) = 0.
	// Claim 2: in_scope 1000, catastrophic 600, aid base 400, aid 200.
	// Together: in_scope 1100, catastrophic 1200, aid base max(0, −100) = 0, aid 0.
	got := []string{r1.Breakdown.MedicalAid.String(), r2.Breakdown.MedicalAid.String(), all.Breakdown.MedicalAid.String()}
	want := []string{"0.00", "200.00", "0.00"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("aid one by one %v, together %v; want %v", got[:2], got[2], want)
	}
}

// TestPropertyReversal: reversing every settlement of a sequence, in any
// order, restores the accumulators and the account balance; settling the
// first claim again then gives the first result.
func TestPropertyReversal(t *testing.T) {
	g := newGen(t)
	for iter := 0; iter < 100; iter++ {
		p := g.policy()
		in := engine.Input{Policy: p, Person: g.person(p), Institution: g.institution(), Accumulators: g.accumulators(p), Filings: g.filings()}
		start, startBalance := in.Accumulators.Clone(), in.Person.AccountBalance
		n := 1 + g.intn(10)
		results := make([]engine.Result, n)
		claims := make([]engine.Claim, n)
		for k := range n {
			in.Claim = g.claim(p, k, 0)
			g.declare(&in)
			claims[k] = in.Claim
			results[k] = g.mustSettle(in)
			g.checkResult(in, results[k])
			in.Accumulators = in.Accumulators.Apply(results[k].Delta, +1)
			in.Person.AccountBalance = in.Person.AccountBalance.Sub(results[k].Breakdown.Account)
		}
		acc, balance := in.Accumulators, in.Person.AccountBalance
		order := g.r.Perm(n)
		for j, k := range order {
			acc = acc.Apply(results[k].Delta, -1)
			balance = balance.Add(results[k].Breakdown.Account)
			// What is left is the start plus the settlements not yet reversed.
			want := start
			for _, rest := range order[j+1:] {
				want = want.Apply(results[rest].Delta, +1)
			}
			if !acc.Equal(want) {
				g.fatalf("after reversing %v of %d settlements: accumulators %+v, want %+v", order[:j+1], n, acc, want)
			}
		}
		if !acc.Equal(start) {
			g.fatalf("after reversing all %d settlements in order %v: accumulators %+v, want the start %+v", n, order, acc, start)
		}
		if !balance.Equal(startBalance) {
			g.fatalf("after reversing all %d settlements: balance %s, want %s", n, balance, startBalance)
		}
		in.Accumulators, in.Person.AccountBalance, in.Claim = acc, balance, claims[0]
		if diff := diffResults(g.mustSettle(in), results[0]); diff != "" {
			g.fatalf("settling claim 0 again after reversing everything differs from the first time: %s", diff)
		}
	}
}

// TestPropertyDeterminism: the same input gives the same result, Settle
// does not change its input, and a shared policy can be used concurrently.
func TestPropertyDeterminism(t *testing.T) {
	g := newGen(t)
	for iter := 0; iter < 120; iter++ {
		in := g.input()
		before := dumpInput(in)
		r1 := g.mustSettle(in)
		r2 := g.mustSettle(in)
		if diff := diffResults(r1, r2); diff != "" || !reflect.DeepEqual(r1, r2) {
			g.fatalf("two settlements of one input differ (%s):\n%+v\n%+v\ninput: %s", diff, r1, r2, before)
		}
		if after := dumpInput(in); after != before {
			g.fatalf("Settle changed its input:\nbefore %s\nafter  %s", before, after)
		}
	}
	// Concurrent use of one indexed policy (run with -race).
	p := g.policy().Index()
	inputs := make([]engine.Input, 8)
	want := make([]engine.Result, len(inputs))
	for i := range inputs {
		inputs[i] = engine.Input{Policy: p, Person: g.person(p), Institution: g.institution(), Claim: g.claim(p, i, 0), Accumulators: g.accumulators(p),
			Filings: g.filings()}
		g.declare(&inputs[i])
		want[i] = g.mustSettle(inputs[i])
	}
	var wg sync.WaitGroup
	got := make([][]engine.Result, 4)
	errs := make([]error, 4)
	for w := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, in := range inputs {
				r, err := engine.Settle(in)
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], r)
			}
		}()
	}
	wg.Wait()
	for w := range got {
		if errs[w] != nil {
			g.fatalf("concurrent Settle: %v", errs[w])
		}
		if !reflect.DeepEqual(got[w], want) {
			g.fatalf("concurrent Settle gave other results")
		}
	}
}

// TestPropertyInvalidClaims: Settle never panics, and a malformed claim
// fails with an error wrapping ErrInvalid that names the bad field.
func TestPropertyInvalidClaims(t *testing.T) {
	g := newGen(t)
	fen := engine.MoneyFromFen(1)
	type mutation struct {
		name  string
		field string // a field path the ValidationError must name
		apply func(in *engine.Input)
	}
	item := func(in *engine.Input) int { return g.intn(len(in.Claim.Items)) }
	mutations := []mutation{
		{"negative quantity", "quantity", func(in *engine.Input) {
			i := item(in)
			it := &in.Claim.Items[i]
			it.Quantity = engine.QuantityFromScaled(-it.Quantity.Scaled())
			if g.chance(0.5) {
				it.Amount = amountOf(it.Quantity, it.UnitPrice)
			}
		}},
		{"zero quantity", "quantity", func(in *engine.Input) {
			it := &in.Claim.Items[item(in)]
			it.Quantity, it.Amount = engine.Quantity{}, engine.Money{}
		}},
		{"negative unit price", "unit_price", func(in *engine.Input) {
			it := &in.Claim.Items[item(in)]
			it.UnitPrice = engine.PriceFromScaled(-it.UnitPrice.Scaled() - 100)
		}},
		{"amount plus one fen", "amount", func(in *engine.Input) {
			it := &in.Claim.Items[item(in)]
			it.Amount = it.Amount.Add(fen)
		}},
		{"amount minus one fen", "amount", func(in *engine.Input) {
			it := &in.Claim.Items[item(in)]
			it.Amount = it.Amount.Sub(fen)
		}},
		{"amount above a line's limit", "amount", func(in *engine.Input) {
			it := &in.Claim.Items[item(in)]
			it.Amount = engine.MustMoney(engine.MaxMoney).Add(fen)
		}},
		{"unit price half a fen off", "amount", func(in *engine.Input) {
			// 1 × p rounds to p's fen only when p is on the fen.
			it := &in.Claim.Items[item(in)]
			it.Quantity = engine.QuantityOf(1)
			it.Amount = amountOf(it.Quantity, it.UnitPrice)
			it.UnitPrice = engine.PriceFromScaled(it.Amount.Fen()*10_000 + 5_000)
		}},
		{"empty items", "items", func(in *engine.Input) { in.Claim.Items = nil }},
		{"too many items", "items", func(in *engine.Input) {
			in.Claim.Items = make([]engine.LineItem, engine.MaxItems+1)
		}},
		{"unknown visit type", "visit_type", func(in *engine.Input) {
			in.Claim.VisitType = []engine.VisitType{engine.VisitUnspecified, 4, -1, 99}[g.intn(4)]
		}},
		{"unknown cross region", "cross_region", func(in *engine.Input) { in.Claim.CrossRegion = 4 + engine.CrossRegion(g.intn(10)) }},
		{"no request id", "request_id", func(in *engine.Input) { in.Claim.RequestID = "" }},
		{"long person id", "person_id", func(in *engine.Input) { in.Claim.PersonID = strings.Repeat("p", engine.MaxIDLen+1) }},
		{"no settle date", "settle_date", func(in *engine.Input) { in.Claim.SettleDate = engine.Date{} }},
		{"empty item code", "code", func(in *engine.Input) { in.Claim.Items[item(in)].Code = "" }},
		{"unknown DRG code", "drg_code", func(in *engine.Input) { in.Claim.DRGCode = "NO-SUCH-DRG" }},
		{"unknown item under REJECT", "code", func(in *engine.Input) {
			in.Policy.UnknownItem = engine.UnknownItemReject
			in.Claim.Items[item(in)].Code = "NOT-IN-CATALOG"
		}},
	}
	for iter := 0; iter < 300; iter++ {
		m := mutations[iter%len(mutations)]
		in := g.input()
		m.apply(&in)
		_, err := g.settle(in)
		if !errors.Is(err, engine.ErrInvalid) {
			g.fatalf("%s: Settle returned %v, want an error wrapping ErrInvalid\ninput: %s", m.name, err, dumpInput(in))
		}
		var ve *engine.ValidationError
		if !errors.As(err, &ve) || len(ve.Violations) == 0 {
			g.fatalf("%s: %v is not a *ValidationError with violations", m.name, err)
		}
		named := false
		for _, v := range ve.Violations {
			if v.Field == "" || v.Description == "" {
				g.fatalf("%s: violation %+v has an empty field or description", m.name, v)
			}
			named = named || strings.HasSuffix(v.Field, m.field)
		}
		if !named {
			g.fatalf("%s: no violation names %q: %v", m.name, m.field, err)
		}
	}

	// Inputs that are not malformed claims fail with their own errors.
	others := []struct {
		name  string
		want  error
		apply func(in *engine.Input)
	}{
		{"nil policy", engine.ErrNoPolicy, func(in *engine.Input) { in.Policy = nil }},
		{"date outside the policy", engine.ErrNoPolicy, func(in *engine.Input) { in.Claim.SettleDate.Year = 2031 }},
		{"other region", engine.ErrNoPolicy, func(in *engine.Input) { in.Person.Region = "R2" }},
		{"accumulators of another year", engine.ErrInvariant, func(in *engine.Input) { in.Accumulators.Year = testYear - 1 }},
		{"a cross_region the records do not say", engine.ErrCrossRegion, func(in *engine.Input) {
			others := []engine.CrossRegion{engine.CrossRegionLocal, engine.CrossRegionRegistered, engine.CrossRegionUnregistered}
			others = slices.DeleteFunc(others, func(c engine.CrossRegion) bool { return c == modelCross(*in) })
			in.Claim.CrossRegion = others[g.intn(len(others))]
		}},
		{"no rate row for the level", engine.ErrNotCovered, func(in *engine.Input) {
			ben := &in.Policy.Benefits[g.intn(len(in.Policy.Benefits))]
			in.Claim.VisitType = ben.VisitType
			var keep []engine.RateRow
			for _, r := range ben.Rates {
				if r.Level != in.Institution.Level || (g.chance(0.5) && r.Employment != engine.EmploymentAny && r.Employment != in.Person.Employment) {
					keep = append(keep, r) // only rows of other levels, or of another status
				}
			}
			ben.Rates = keep
		}},
		{"no deductible row for the level", engine.ErrNotCovered, func(in *engine.Input) {
			ben := &in.Policy.Benefits[g.intn(len(in.Policy.Benefits))]
			in.Claim.VisitType = ben.VisitType
			other := in.Institution.Level%3 + 1
			ben.Deductibles = []engine.DeductibleRow{{Level: other, Amounts: []engine.Money{engine.Yuan(100)}}}
		}},
		{"an institution level the policy does not know", engine.ErrNotCovered, func(in *engine.Input) {
			ben := &in.Policy.Benefits[g.intn(len(in.Policy.Benefits))]
			in.Claim.VisitType = ben.VisitType
			in.Institution.Level = []int{0, 4, -1}[g.intn(3)]
		}},
		{"no cap pool row", engine.ErrNotCovered, func(in *engine.Input) {
			ben := &in.Policy.Benefits[g.intn(len(in.Policy.Benefits))]
			in.Claim.VisitType = ben.VisitType
			in.Policy.CapPools = append(in.Policy.CapPools, engine.CapPool{Name: "late", Rows: []engine.CapPoolRow{{MinYears: 50, Amount: engine.Yuan(1)}}})
			ben.CapPool = "late"
		}},
	}
	for iter := 0; iter < 120; iter++ {
		o := others[iter%len(others)]
		in := g.input()
		if len(in.Policy.Benefits) == 0 && o.want == engine.ErrNotCovered {
			continue
		}
		o.apply(&in)
		if _, err := g.settle(in); !errors.Is(err, o.want) {
			g.fatalf("%s: Settle returned %v, want %v\ninput: %s", o.name, err, o.want, dumpInput(in))
		}
	}

	// Wild but well-formed inputs: negative or inconsistent accumulators,
	// balances and budget usage never make Settle panic.
	for iter := 0; iter < 200; iter++ {
		in := g.input()
		neg := func(d engine.Money) engine.Money {
			if g.chance(0.5) {
				return d.Neg()
			}
			return d
		}
		a := &in.Accumulators
		// InpatientCount stays >= 0: a negative count makes Settle panic
		// (index out of range in deductibleFor); reported, not tested here.
		a.InpatientCount = g.intn(7)
		a.CatastrophicBase, a.CatastrophicPaid = neg(a.CatastrophicBase), neg(a.CatastrophicPaid)
		a.AidBase, a.AidPaid, a.AidOutOfPocket = neg(a.AidBase), neg(a.AidPaid), neg(a.AidOutOfPocket)
		for name, v := range a.PoolUsed {
			a.PoolUsed[name] = neg(v)
		}
		in.Person.AccountBalance = neg(in.Person.AccountBalance)
		in.BudgetUsed = neg(in.BudgetUsed)
		if res, err := g.settle(in); err == nil {
			if err := engine.CheckResult(res); err != nil {
				g.fatalf("Settle returned a result failing CheckResult: %v", err)
			}
		} else if !errors.Is(err, engine.ErrInvariant) {
			g.fatalf("Settle on odd accumulators: %v", err)
		}
	}
}
