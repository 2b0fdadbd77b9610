package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// This file draws the random policies, persons and claims of
// TestNationalGatewayAgreesWithGRPC, and holds the test's own reading of
// SETTLEMENT.md where it needs one (a line's split into the four scope
// amounts, the categories a person holds on a date).

// modelYear is the policy year of the histories: a year the demo data
// has no policy for, so that the drawn ones are the only ones in force.
const modelYear = 2027

// modelSeed is the differential test's seed: MEDSETTLE_SEED when set (to
// replay a failure), else drawn from the clock.
func modelSeed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("MEDSETTLE_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MEDSETTLE_SEED=%q: %v", s, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano()) % 1_000_000_000_000
}

// modelClaims is how many claims each store's history holds:
// MEDSETTLE_MODEL_CLAIMS when set, else def.
func modelClaims(t *testing.T, def int) int {
	t.Helper()
	if s := os.Getenv("MEDSETTLE_MODEL_CLAIMS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("MEDSETTLE_MODEL_CLAIMS=%q: want a positive count", s)
		}
		return n
	}
	return def
}

// seededTB is a test whose failures name the seed that replays them.
type seededTB struct {
	testing.TB
	seed uint64
}

// prefix is what every failure message starts with.
func (s seededTB) prefix() string {
	return fmt.Sprintf("[replay with MEDSETTLE_SEED=%d] ", s.seed)
}

// Errorf reports a failure naming the seed.
func (s seededTB) Errorf(format string, args ...any) {
	s.TB.Helper()
	s.TB.Errorf(s.prefix()+format, args...)
}

// Fatalf reports a failure naming the seed and stops the test.
func (s seededTB) Fatalf(format string, args ...any) {
	s.TB.Helper()
	s.TB.Fatalf(s.prefix()+format, args...)
}

// Error reports a failure naming the seed.
func (s seededTB) Error(args ...any) {
	s.TB.Helper()
	s.TB.Error(append([]any{s.prefix()}, args...)...)
}

// Fatal reports a failure naming the seed and stops the test.
func (s seededTB) Fatal(args ...any) {
	s.TB.Helper()
	s.TB.Fatal(append([]any{s.prefix()}, args...)...)
}

// modelClock is the server's and the HIS's clock, which the test moves
// through the policy year.
type modelClock struct {
	mu sync.Mutex
	at time.Time
}

// now is the clock's time.
func (c *modelClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

// set moves the clock to at.
func (c *modelClock) set(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = at
}

// tick moves the clock one second on.
func (c *modelClock) tick() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(time.Second)
}

// modelCode is a catalog code the histories draw from; scale says how
// dear its lines are (0 cheap, 1 middling, 2 dear).
type modelCode struct {
	code, name string
	scale      int
}

// modelCodes are the codes of every drawn policy's catalog: each policy
// lists each code, or not, in a class of its own drawing.
var modelCodes = []modelCode{
	{"XM-BED", "普通床位费", 1}, {"XM-CBC", "血常规", 0}, {"XM-APPX", "阑尾切除术", 2}, {"XM-IBU", "布洛芬缓释胶囊", 0},
	{"XM-CRO", "注射用头孢曲松钠", 0}, {"XM-STENT", "冠脉支架", 2}, {"XM-VIP", "特需门诊", 1}, {"XM-COSM", "美容项目", 1},
	{"XM-PREP", "院内制剂", 0}, {"XM-MRI", "磁共振检查", 1}, {"XM-AMOX", "阿莫西林胶囊", 0}, {"XM-KNEE", "人工膝关节", 2},
}

// modelItem is how a policy lists a code: its category (UNSPECIFIED when
// the policy does not list it), B's self-pay ratio, and the price cap
// ("" for none).
type modelItem struct {
	cat   pb.ItemCategory
	ratio string
	cap   string
}

// modelPolicy is a drawn policy and its catalog as the test reads it.
type modelPolicy struct {
	p     *pb.Policy
	items map[string]modelItem
}

// modelGen draws everything random from one seeded source.
type modelGen struct {
	r *rand.Rand
}

// chance is true with probability p.
func (g *modelGen) chance(p float64) bool { return g.r.Float64() < p }

// between is an integer in [lo, hi).
func (g *modelGen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo) }

// number is a decimal text with an integer part in [lo, hi) and up to
// places decimals (as many as drawn, trailing zeros kept).
func (g *modelGen) number(lo, hi, places int) string {
	s := strconv.Itoa(g.between(lo, hi))
	if n := g.r.IntN(places + 1); n > 0 {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + g.r.IntN(10)))
		}
		s += "." + b.String()
	}
	return s
}

// money is an amount in [lo, hi) yuan, whole or with two decimals.
func (g *modelGen) money(lo, hi int) string {
	if g.chance(0.5) {
		return strconv.Itoa(g.between(lo, hi))
	}
	return fmt.Sprintf("%d.%02d", g.between(lo, hi), g.r.IntN(100))
}

// ratio is a ratio in [lo, hi] with two to four decimals.
func (g *modelGen) ratio(lo, hi float64) string {
	k := int64(lo*10000) + g.r.Int64N(int64((hi-lo)*10000)+1)
	switch g.r.IntN(3) {
	case 0:
		k = k / 100 * 100
	case 1:
		k = k / 10 * 10
	}
	return decimal.New(k, -4).String()
}

// bands draws n ascending bands over [lo, hi) with ratios in [rlo, rhi],
// the first at ratio 0 when threshold.
func (g *modelGen) bands(n, lo, hi int, rlo, rhi float64, threshold bool) []*pb.Band {
	var out []*pb.Band
	bound := lo
	for i := range n {
		b := &pb.Band{Ratio: g.ratio(rlo, rhi)}
		if i == 0 && threshold {
			b.Ratio = "0"
		}
		if i < n-1 {
			step := (hi - bound) / (n - i)
			bound += 1 + g.r.IntN(max(step, 1))
			b.UpTo = strconv.Itoa(bound)
		}
		out = append(out, b)
	}
	return out
}

// capOrNone is an annual cap in [lo, hi) with probability p, else "".
func (g *modelGen) capOrNone(p float64, lo, hi int) string {
	if g.chance(p) {
		return g.money(lo, hi)
	}
	return ""
}

// catalog draws each code's class under one policy.
func (g *modelGen) catalog() ([]*pb.CatalogEntry, map[string]modelItem) {
	var entries []*pb.CatalogEntry
	items := map[string]modelItem{}
	for _, c := range modelCodes {
		var it modelItem
		switch x := g.r.Float64(); {
		case x < 0.30:
			it.cat = pb.ItemCategory_ITEM_CATEGORY_A
		case x < 0.62:
			it.cat, it.ratio = pb.ItemCategory_ITEM_CATEGORY_B, g.ratio(0.05, 0.4)
		case x < 0.80:
			it.cat = pb.ItemCategory_ITEM_CATEGORY_C
		default:
			items[c.code] = it // not listed
			continue
		}
		if it.cat != pb.ItemCategory_ITEM_CATEGORY_C && g.chance(0.4) {
			lo, hi := modelPriceRange(c.scale)
			it.cap = g.number(lo, hi, 6)
		}
		items[c.code] = it
		entries = append(entries, &pb.CatalogEntry{Code: c.code, Category: it.cat, SelfPayRatio: it.ratio, PriceCap: it.cap})
	}
	return entries, items
}

// modelPriceRange is the integer part of a unit price at a scale.
func modelPriceRange(scale int) (int, int) {
	switch scale {
	case 0:
		return 0, 100
	case 1:
		return 20, 1500
	}
	return 500, 15000
}

// rateRows draws a benefit's rates for levels 1–3: one row per level for
// residents; for employees a row for everyone, rows by employment, or a
// row for everyone and one for the retired (the exact status wins).
func (g *modelGen) rateRows(scheme pb.Scheme) []*pb.RateRow {
	var rows []*pb.RateRow
	sched := func() *pb.Schedule {
		return &pb.Schedule{Bands: g.bands(g.between(1, 4), 500, 20000, 0.5, 0.95, false)}
	}
	for level := int32(1); level <= 3; level++ {
		if scheme == pb.Scheme_SCHEME_RESIDENT {
			rows = append(rows, &pb.RateRow{Level: level, Schedule: sched()})
			continue
		}
		switch g.r.IntN(3) {
		case 0:
			rows = append(rows, &pb.RateRow{Level: level, Schedule: sched()})
		case 1:
			rows = append(rows, &pb.RateRow{Level: level, Employment: pb.Employment_EMPLOYMENT_EMPLOYED, Schedule: sched()},
				&pb.RateRow{Level: level, Employment: pb.Employment_EMPLOYMENT_RETIRED, Schedule: sched()})
		default:
			rows = append(rows, &pb.RateRow{Level: level, Schedule: sched()},
				&pb.RateRow{Level: level, Employment: pb.Employment_EMPLOYMENT_RETIRED, Schedule: sched()})
		}
	}
	return rows
}

// deductibles draws a benefit's deductible table for levels 1–3: up to
// n amounts by visit sequence, each below hi (none at all sometimes).
func (g *modelGen) deductibles(n, hi int) []*pb.DeductibleRow {
	if g.chance(0.1) {
		return nil
	}
	var rows []*pb.DeductibleRow
	for level := int32(1); level <= 3; level++ {
		row := &pb.DeductibleRow{Level: level}
		for range g.between(1, n+1) {
			row.Amounts = append(row.Amounts, g.money(0, hi))
		}
		rows = append(rows, row)
	}
	return rows
}

// policy draws a policy of region and scheme in force from from to to.
func (g *modelGen) policy(region string, scheme pb.Scheme, version, from, to string) *modelPolicy {
	entries, items := g.catalog()
	p := &pb.Policy{Region: region, Scheme: scheme, Version: version, EffectiveFrom: from, EffectiveTo: to,
		UnknownItem: pb.UnknownItem_UNKNOWN_ITEM_SELF_PAY, Catalog: entries, UnregisteredRatioCut: "0.10",
		BudgetWarnRatio: "0.9", AccountCoversOutOfScope: scheme == pb.Scheme_SCHEME_EMPLOYEE && g.chance(0.4)}
	pools := map[string][2]int{"ip": {4000, 40000}, "op": {800, 8000}, "mt": {1500, 12000}}
	used := map[string]bool{}
	pool := func(choices ...string) string {
		c := choices[g.r.IntN(len(choices))]
		if c != "" {
			used[c] = true
		}
		return c
	}
	accumulation := func(pAnnual float64) pb.Accumulation {
		if g.chance(pAnnual) {
			return pb.Accumulation_ACCUMULATION_ANNUAL
		}
		return pb.Accumulation_ACCUMULATION_PER_VISIT
	}
	p.Benefits = append(p.Benefits, &pb.Benefit{VisitType: pb.VisitType_VISIT_TYPE_INPATIENT, Accumulation: accumulation(0.2),
		Deductibles: g.deductibles(3, 1500), Rates: g.rateRows(scheme), CapPool: pool("ip", "ip", "ip", "")})
	if g.chance(0.85) {
		p.Benefits = append(p.Benefits, &pb.Benefit{VisitType: pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT, Accumulation: accumulation(0.7),
			Deductibles: g.deductibles(1, 1000), Rates: g.rateRows(scheme), CapPool: pool("mt", "op", "ip", "")})
	}
	if g.chance(0.75) {
		p.Benefits = append(p.Benefits, &pb.Benefit{VisitType: pb.VisitType_VISIT_TYPE_OUTPATIENT, Accumulation: accumulation(0.6),
			Deductibles: g.deductibles(1, 500), Rates: g.rateRows(scheme), CapPool: pool("op", "op", "")})
	}
	for _, name := range []string{"ip", "op", "mt"} {
		if !used[name] {
			continue
		}
		r := pools[name]
		cp := &pb.CapPool{Name: name, Rows: []*pb.CapPoolRow{{MinYears: 0, Amount: g.money(r[0], r[1])}}}
		if g.chance(0.5) {
			cp.Rows = append(cp.Rows, &pb.CapPoolRow{MinYears: int32(g.between(1, 15)), Amount: g.money(r[1], 2*r[1])})
		}
		p.CapPools = append(p.CapPools, cp)
	}
	if g.chance(0.9) {
		cat := &pb.Catastrophic{IncludePreSelfPay: g.chance(0.5),
			Normal: &pb.Schedule{Bands: g.bands(g.between(2, 4), 1000, 40000, 0.5, 0.9, true), AnnualCap: g.capOrNone(0.6, 3000, 30000)}}
		for _, vt := range []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT, pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT, pb.VisitType_VISIT_TYPE_OUTPATIENT} {
			if g.chance(0.6) {
				cat.VisitTypes = append(cat.VisitTypes, vt)
			}
		}
		if len(cat.VisitTypes) == 0 {
			cat.VisitTypes = []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT}
		}
		if scheme == pb.Scheme_SCHEME_RESIDENT {
			for _, c := range modelAidCategories {
				if g.chance(0.6) {
					cat.SpecialCategories = append(cat.SpecialCategories, c)
				}
			}
			if len(cat.SpecialCategories) > 0 {
				cat.Special = &pb.Schedule{Bands: g.bands(g.between(2, 4), 500, 30000, 0.55, 0.95, true), AnnualCap: g.capOrNone(0.3, 5000, 40000)}
			}
		}
		p.Catastrophic = cat
	}
	var aid []pb.PersonCategory
	if scheme == pb.Scheme_SCHEME_RESIDENT {
		for _, i := range g.r.Perm(len(modelAidCategories)) {
			if g.chance(0.75) {
				aid = append(aid, modelAidCategories[i])
			}
		}
	} else if g.chance(0.5) {
		aid = []pb.PersonCategory{pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING}
	}
	for _, c := range aid {
		rule := &pb.MedicalAid{Category: c, IncludePreSelfPay: g.chance(0.4),
			Schedule: &pb.Schedule{Bands: g.bands(g.between(1, 3), 300, 3000, 0.5, 0.9, g.chance(0.5)), AnnualCap: g.capOrNone(0.7, 2000, 30000)}}
		if g.chance(0.4) {
			rule.OopCeiling = g.money(1000, 15000)
		}
		p.MedicalAid = append(p.MedicalAid, rule)
	}
	return &modelPolicy{p: p, items: items}
}

// modelAidCategories are the categories an aid rule or a special
// catastrophic schedule can name.
var modelAidCategories = []pb.PersonCategory{pb.PersonCategory_PERSON_CATEGORY_DESTITUTE, pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING,
	pb.PersonCategory_PERSON_CATEGORY_MONITORED, pb.PersonCategory_PERSON_CATEGORY_POVERTY_ALLEVIATED}

// date is day d (0-based) of the model year.
func modelDate(d int) time.Time {
	return time.Date(modelYear, 1, 1, 0, 0, 0, 0, shanghaiTZ).AddDate(0, 0, d)
}

// person draws a person of scheme in region (its id and name are set by
// the caller).
func (g *modelGen) person(region string, scheme pb.Scheme) *pb.Person {
	p := &pb.Person{Region: region, Scheme: scheme, ContributionYears: int32(g.between(0, 25)), AccountBalance: "0"}
	if scheme == pb.Scheme_SCHEME_EMPLOYEE {
		p.Employment = pb.Employment_EMPLOYMENT_EMPLOYED
		if g.chance(0.4) {
			p.Employment = pb.Employment_EMPLOYMENT_RETIRED
		}
		if !g.chance(0.15) {
			p.AccountBalance = g.money(0, 4000)
		}
		if g.chance(0.2) {
			p.Category = pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING
		}
		return p
	}
	if g.chance(0.4) {
		p.Category = modelAidCategories[g.r.IntN(len(modelAidCategories))]
	}
	for _, i := range g.r.Perm(len(modelAidCategories))[:g.r.IntN(3)] {
		from := g.between(0, 300)
		to := from + g.between(10, 200)
		p.Identities = append(p.Identities, &pb.Identity{Category: modelAidCategories[i],
			ValidFrom: modelDate(from).Format(time.DateOnly), ValidTo: modelDate(min(to, 364)).Format(time.DateOnly)})
	}
	return p
}

// line draws a fee line: a code, a count with up to four decimals and a
// unit price with up to six, the amount round(cnt × pric, 2).
func (g *modelGen) line() *modelLine {
	var c modelCode
	for {
		c = modelCodes[g.r.IntN(len(modelCodes))]
		if c.scale < 2 || g.chance(0.3) {
			break
		}
	}
	lo, hi := modelPriceRange(c.scale)
	pric := g.number(lo, hi, 6)
	if g.chance(0.02) {
		pric = "0"
	}
	var cnt string
	switch c.scale {
	case 0:
		cnt = g.number(0, 10, 4)
	case 1:
		cnt = g.number(0, 3, 4)
	default:
		cnt = g.number(0, 2, 4)
	}
	if decimal.RequireFromString(cnt).IsZero() {
		cnt = "1"
	}
	return &modelLine{code: c.code, name: c.name, cnt: cnt, pric: pric,
		amt: decimal.RequireFromString(cnt).Mul(decimal.RequireFromString(pric)).Round(2).StringFixed(2)}
}

// modelLine is a fee detail as the HIS uploaded it.
type modelLine struct {
	sn                    string
	code, name, cnt, pric string
	amt                   string
	cancelled             bool
}

// lineScope splits a line's amount by SETTLEMENT.md's catalog table:
// out of scope, over the price cap, B's pre-self-pay, in scope.
func lineScope(it modelItem, l *modelLine) (out, over, pre, in decimal.Decimal) {
	amt := decimal.RequireFromString(l.amt)
	if it.cat == pb.ItemCategory_ITEM_CATEGORY_UNSPECIFIED || it.cat == pb.ItemCategory_ITEM_CATEGORY_C {
		return amt, decimal.Zero, decimal.Zero, decimal.Zero
	}
	rest := amt
	if it.cap != "" {
		pric, capd := decimal.RequireFromString(l.pric), decimal.RequireFromString(it.cap)
		if pric.GreaterThan(capd) {
			over = pric.Sub(capd).Mul(decimal.RequireFromString(l.cnt)).Round(2)
			rest = amt.Sub(over)
		}
	}
	if it.cat == pb.ItemCategory_ITEM_CATEGORY_B {
		pre = rest.Mul(decimal.RequireFromString(it.ratio)).Round(2)
	}
	return decimal.Zero, over, pre, rest.Sub(pre)
}

// heldOn lists the categories p holds on date: its undated category and
// the identities whose dates hold date (SETTLEMENT.md "Identities").
func heldOn(p *pb.Person, date string) map[pb.PersonCategory]bool {
	held := map[pb.PersonCategory]bool{}
	if c := p.GetCategory(); c != pb.PersonCategory_PERSON_CATEGORY_UNSPECIFIED && c != pb.PersonCategory_PERSON_CATEGORY_ORDINARY {
		held[c] = true
	}
	for _, id := range p.GetIdentities() {
		if id.GetValidFrom() <= date && date <= id.GetValidTo() {
			held[id.GetCategory()] = true
		}
	}
	return held
}
