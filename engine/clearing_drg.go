package engine

import (
	"fmt"
	"math"
	"math/big"
	"sort"

	"github.com/shopspring/decimal"
)

// CostKind says how a DRG case's cost compares with its group's average.
type CostKind int

// Cost kinds of DRG cases.
const (
	CostUnspecified CostKind = iota
	CostNormal               // points = b × k
	CostHigh                 // 费用极高: r > H, points = b × k + b × (r − H)
	CostLow                  // 费用极低: r ≤ L, points = b × r
)

// NewDRGClearer returns the Clearer of a DRG point-method run (CLEARING.md)
// under the rules d with the regional fund budget: B = round(budget × (1 −
// reserve_ratio)) to the fen. Add scores a case of a group of d and
// returns its case line; a case without a code of d's groups is counted
// as ungrouped and gets none. Only per-institution aggregates are kept,
// never the cases. Finish computes the point value V = (B + P) / T
// exactly and pays each institution p_h × V − P_h, rounded to the fen by
// largest remainder so that the payments add up to B exactly. Like every
// Clearer it is for one goroutine.
//
// Returns a *ValidationError for a budget that is negative or finer than
// a fen, ErrNoClearingRules without rules, and ErrInvariant for a
// reserve ratio outside [0, 1].
func NewDRGClearer(d *DRG, budget decimal.Decimal) (Clearer, error) {
	if d == nil {
		return nil, fmt.Errorf("DRG clearing: %w", ErrNoClearingRules)
	}
	if budget.IsNegative() || !budget.Equal(Round2(budget)) {
		return nil, invalidf("budget", "must be money ≥ 0 with at most two decimals, got %s", budget)
	}
	if d.ReserveRatio.IsNegative() || d.ReserveRatio.GreaterThan(one) {
		return nil, fmt.Errorf("%w: DRG reserve_ratio %s is not in [0, 1]", ErrInvariant, d.ReserveRatio)
	}
	c := &drgClearer{
		d:        d,
		b:        Round2(budget.Mul(one.Sub(d.ReserveRatio))),
		fundOnly: d.PointValueBasis == PointValueFundOnly,
		groups:   make(map[string]*drgGroupCalc, len(d.Groups)),
		coefs:    []drgCoef{newDRGCoef(one)},
		byInst:   map[string]int32{},
		byLevel:  map[int]int32{},
		accs:     map[string]*drgAcc{},
		ratios:   newDecTable(-4),
		points:   &decCache{exp: -4},
	}
	c.lowOn = d.LowRatio.IsPositive()
	c.l4 = floorScaled4(d.LowRatio)
	for _, g := range d.Groups {
		if g.Code == "" {
			continue // "no code" is ungrouped whatever the rules say
		}
		if _, dup := c.groups[g.Code]; !dup {
			c.groups[g.Code] = newDRGGroupCalc(d, g)
		}
	}
	// The coefficient of an institution: the first row naming it, else
	// the first row of its level, else 1 (the first row that applies, as
	// for high_thresholds).
	for _, k := range d.Coefficients {
		switch {
		case k.InstitutionID != "":
			if _, ok := c.byInst[k.InstitutionID]; !ok {
				c.byInst[k.InstitutionID] = int32(len(c.coefs))
				c.coefs = append(c.coefs, newDRGCoef(k.Coefficient))
			}
		default:
			if _, ok := c.byLevel[k.Level]; !ok {
				c.byLevel[k.Level] = int32(len(c.coefs))
				c.coefs = append(c.coefs, newDRGCoef(k.Coefficient))
			}
		}
	}
	return c, nil
}

// drgClearer is the DRG Clearer. Money is summed in fen and points in
// 1/10000 in int64s (exactSum); a case is scored with integer arithmetic
// on 128 bits (score) and, when its figures do not fit, with decimals and
// big.Rat (scoreExact): both are exact, the first is fast.
type drgClearer struct {
	d        *DRG
	b        decimal.Decimal // B
	fundOnly bool
	lowOn    bool  // L > 0: unset (0) means no case is low-cost
	l4       int64 // floor(L × 10^4): r ≤ L ⇔ r4 ≤ l4
	groups   map[string]*drgGroupCalc
	coefs    []drgCoef // [0] is 1
	byInst   map[string]int32
	byLevel  map[int]int32

	state         runState
	accs          map[string]*drgAcc
	last          *drgAcc
	ungrouped     int64
	ungroupedFund exactSum
	slow          int64 // cases scored by scoreExact
	slab          []CaseLine
	ratios        *decTable
	points        *decCache
}

// drgGroupCalc is a group with what scoring its cases needs, precomputed.
type drgGroupCalc struct {
	g    DRGGroup
	high *decimal.Decimal // H; nil: no case of the group is high-cost

	// fast is false when the group's figures do not fit the integer path.
	fast bool
	// r × 10^4 = c_fen × rMul / rDiv.
	rMul, rDiv uint64
	// b = bCoef × 10^bExp; H = hCoef × 10^hExp; h4 = floor(H × 10^4).
	bCoef uint64
	bExp  int32
	hCoef uint64
	hExp  int32
	h4    int64
	// normal[i] is the points of a normal case under coefficient i, made
	// on the group's first such case.
	normal []cachedPoints
}

// cachedPoints is a normal case's points; ok says it is filled.
type cachedPoints struct {
	pts4 int64
	d    decimal.Decimal
	ok   bool
}

// drgCoef is a difference coefficient k = coef × 10^exp.
type drgCoef struct {
	k    decimal.Decimal
	coef uint64
	exp  int32
	fast bool
}

func newDRGCoef(k decimal.Decimal) drgCoef {
	coef, exp, ok := decParts(k)
	return drgCoef{k: k, coef: coef, exp: exp, fast: ok && exp >= -18 && exp <= 18}
}

// floorScaled4 is floor(r × 10^4), saturated to the int64 range.
func floorScaled4(r decimal.Decimal) int64 {
	f := r.Shift(4).Floor()
	switch {
	case f.GreaterThan(decimal.NewFromInt(math.MaxInt64)):
		return math.MaxInt64
	case f.LessThan(decimal.NewFromInt(math.MinInt64)):
		return math.MinInt64
	}
	return f.IntPart()
}

func newDRGGroupCalc(d *DRG, g DRGGroup) *drgGroupCalc {
	gc := &drgGroupCalc{g: g, high: d.highThreshold(g.BasePoints)}
	aCoef, aExp, okA := decParts(g.AverageCost)
	bCoef, bExp, okB := decParts(g.BasePoints)
	if !okA || !okB || aExp < -17 || aExp > 20 || bExp < -18 || bExp > 18 {
		return gc
	}
	// r × 10^4 = (c_fen / 100) / (aCoef × 10^aExp) × 10^4
	//          = c_fen × 10^(2 − aExp) / aCoef.
	if e := 2 - aExp; e >= 0 {
		gc.rMul, gc.rDiv = pow10u[e], aCoef
	} else {
		div, ok := mulPow10(aCoef, -e)
		if !ok {
			return gc
		}
		gc.rMul, gc.rDiv = 1, div
	}
	if k := new(big.Int).GCD(nil, nil, new(big.Int).SetUint64(gc.rMul), new(big.Int).SetUint64(gc.rDiv)).Uint64(); k > 1 {
		gc.rMul, gc.rDiv = gc.rMul/k, gc.rDiv/k
	}
	gc.bCoef, gc.bExp = bCoef, bExp
	if gc.high != nil {
		hCoef, hExp, ok := decParts(*gc.high)
		if !ok || hExp < -18 || hExp > 18 {
			return gc
		}
		gc.hCoef, gc.hExp, gc.h4 = hCoef, hExp, floorScaled4(*gc.high)
	}
	gc.fast = true
	return gc
}

// drgAcc is one institution's aggregates.
type drgAcc struct {
	id       string
	byID     int32 // its own coefficient row, or −1
	level    int   // the level last seen, and its coefficient
	levelK   int32
	hasLevel bool
	cases    int64
	points   exactSum // 1/10000
	personal exactSum // fen, P_h as used (0 under FUND_ONLY)
	basic    exactSum // fen
}

// acc is the aggregates of an institution, made on its first case.
func (c *drgClearer) acc(id string) *drgAcc {
	if c.last != nil && c.last.id == id {
		return c.last
	}
	a := c.accs[id]
	if a == nil {
		a = &drgAcc{id: id, byID: -1}
		if k, ok := c.byInst[id]; ok {
			a.byID = k
		}
		c.accs[id] = a
	}
	c.last = a
	return a
}

// coef is the index in c.coefs of the coefficient of a case of the
// institution at a level.
func (c *drgClearer) coef(a *drgAcc, level int) int32 {
	if a.byID >= 0 {
		return a.byID
	}
	if !a.hasLevel || a.level != level {
		k, ok := c.byLevel[level]
		if !ok {
			k = 0
		}
		a.level, a.levelK, a.hasLevel = level, k, true
	}
	return a.levelK
}

// Begin implements Clearer. A DRG run needs no other inputs: the level
// that picks a coefficient comes with each case.
func (c *drgClearer) Begin(RunInputs) error {
	return c.state.step("Begin", stateNew, stateBegun)
}

// Add implements Clearer. The case line it returns is the caller's: the
// Clearer never reads or writes it again.
func (c *drgClearer) Add(k ClearingCase) (*CaseLine, error) {
	if c.state != stateBegun {
		return nil, c.state.step("Add", stateBegun, stateBegun)
	}
	var g *drgGroupCalc
	if k.DRGCode != "" {
		g = c.groups[k.DRGCode]
	}
	if g == nil {
		c.ungrouped++
		c.ungroupedFund.add(k.BasicFund, 2)
		return nil, nil
	}
	a := c.acc(k.InstitutionID)
	ki := c.coef(a, k.Level)
	kc := &c.coefs[ki]

	if len(c.slab) == 0 {
		c.slab = make([]CaseLine, 256)
	}
	line := &c.slab[0]
	c.slab = c.slab[1:]
	*line = CaseLine{
		SettlementID: k.SettlementID, RequestID: k.RequestID, InstitutionID: k.InstitutionID,
		SettleDate: k.SettleDate, DRGCode: k.DRGCode, Total: k.Total,
		PersonalTotal: k.PersonalTotal, BasicFund: k.BasicFund,
	}
	if r4, kind, pts4, ok := c.score(g, ki, k.Total); ok && a.points.addInt(pts4) {
		line.Ratio, line.Kind = c.ratios.get(r4), kind
		if kind == CostNormal {
			line.Points = g.normal[ki].d
		} else {
			line.Points = c.points.get(pts4)
		}
	} else {
		c.slow++
		line.Ratio, line.Kind, line.Points = c.scoreExact(g, kc.k, k.Total)
		a.points.add(line.Points, 4)
	}
	a.cases++
	a.basic.add(k.BasicFund, 2)
	if !c.fundOnly {
		a.personal.add(k.PersonalTotal, 2)
	}
	return line, nil
}

// score scores a case of cost total in integers: r4 = r × 10^4 and pts4
// = points × 10^4. ok is false when a figure does not fit, and the case
// must be scored by scoreExact.
func (c *drgClearer) score(g *drgGroupCalc, ki int32, total decimal.Decimal) (r4 int64, kind CostKind, pts4 int64, ok bool) {
	k := &c.coefs[ki]
	if !g.fast || !k.fast {
		return 0, 0, 0, false
	}
	fen, ok := scaledInt(total, 2)
	if !ok || fen < 0 {
		return 0, 0, 0, false
	}
	// r = round(c / a, 4), half away from zero, in one exact division.
	r, ok := mulDivRound(uint64(fen), g.rMul, g.rDiv)
	if !ok {
		return 0, 0, 0, false
	}
	var p uint64
	switch {
	case g.high != nil && int64(r) > g.h4: // r4 > floor(H × 10^4) ⇔ r > H
		// points = b × (k + r − H): k + r − H = z × 10^−s.
		s := max(int32(4), -k.exp, -g.hExp)
		kz, ok1 := mulPow10(k.coef, k.exp+s)
		rz, ok2 := mulPow10(r, s-4)
		hz, ok3 := mulPow10(g.hCoef, g.hExp+s)
		z := kz + rz
		if !ok1 || !ok2 || !ok3 || z < kz || z > math.MaxInt64 || z <= hz {
			return 0, 0, 0, false
		}
		p, ok = mulPow10Round(g.bCoef, z-hz, g.bExp+4-s)
		kind = CostHigh
	case c.lowOn && int64(r) <= c.l4: // r ≤ L
		p, ok = mulPow10Round(g.bCoef, r, g.bExp) // b × r × 10^4
		kind = CostLow
	default:
		// b × k × 10^4, once per group and coefficient.
		if g.normal == nil {
			g.normal = make([]cachedPoints, len(c.coefs))
		}
		n := &g.normal[ki]
		if !n.ok {
			p, ok := mulPow10Round(g.bCoef, k.coef, g.bExp+k.exp+4)
			if !ok {
				return 0, 0, 0, false
			}
			n.pts4, n.d, n.ok = int64(p), decimal.New(int64(p), -4), true
		}
		return int64(r), CostNormal, n.pts4, true
	}
	return int64(r), kind, int64(p), ok
}

// scoreExact scores a case with decimals and big.Rat: the rules as
// CLEARING.md writes them, for figures score cannot hold.
func (c *drgClearer) scoreExact(g *drgGroupCalc, k, total decimal.Decimal) (ratio decimal.Decimal, kind CostKind, points decimal.Decimal) {
	ratio = roundRat(new(big.Rat).Quo(total.Rat(), g.g.AverageCost.Rat()), 4)
	b := g.g.BasePoints
	switch {
	case g.high != nil && ratio.GreaterThan(*g.high):
		kind, points = CostHigh, b.Mul(k).Add(b.Mul(ratio.Sub(*g.high)))
	case c.lowOn && ratio.LessThanOrEqual(c.d.LowRatio):
		kind, points = CostLow, b.Mul(ratio)
	default:
		kind, points = CostNormal, b.Mul(k)
	}
	return ratio, kind, points.Round(4)
}

// Finish implements Clearer: the summary (B, P, T, V, paid total,
// settlements and ungrouped) and the institution lines by institution
// id. With T = 0 there are no lines, and V, T and the paid total are 0.
func (c *drgClearer) Finish() (ClearingRun, error) {
	if err := c.state.step("Finish", stateBegun, stateFinished); err != nil {
		return ClearingRun{}, err
	}
	accs := make([]*drgAcc, 0, len(c.accs))
	var grouped int64
	for _, a := range c.accs {
		accs = append(accs, a)
		grouped += a.cases
	}
	sort.Slice(accs, func(i, j int) bool { return accs[i].id < accs[j].id })
	run := ClearingRun{
		Kind:               ClearingDRG,
		Settlements:        grouped + c.ungrouped,
		Ungrouped:          c.ungrouped,
		UngroupedBasicFund: c.ungroupedFund.value(2),
		Budget:             c.b,
		PointValue:         decimal.Zero,
		PaidTotal:          decimal.Zero,
	}
	lines := make([]ClearingLine, len(accs))
	total, personal := decimal.New(0, -4), decimal.New(0, -2)
	for i, a := range accs {
		lines[i] = ClearingLine{
			InstitutionID: a.id, Cases: a.cases,
			Points: a.points.value(4), PersonalTotal: a.personal.value(2), BasicFund: a.basic.value(2),
		}
		total = total.Add(lines[i].Points)
		personal = personal.Add(lines[i].PersonalTotal)
	}
	run.TotalPoints, run.PersonalTotal = total, personal
	switch total.Sign() {
	case 0:
		// No grouped case (or none with points): nothing is paid by points.
		return run, nil
	case -1:
		return ClearingRun{}, fmt.Errorf("%w: DRG total points %s < 0", ErrInvariant, total)
	}
	// V = (B + P) / T exactly; the exact payments p_h × V − P_h add up to
	// V × T − P = B.
	v := new(big.Rat).Quo(c.b.Add(personal).Rat(), total.Rat())
	run.PointValue = roundRat(v, 6)
	shares := make([]Share, len(lines))
	for i, l := range lines {
		exact := new(big.Rat).Mul(l.Points.Rat(), v)
		shares[i] = Share{Key: l.InstitutionID, Exact: exact.Sub(exact, l.PersonalTotal.Rat())}
	}
	pay, err := AllocateFen(c.b, shares)
	if err != nil {
		return ClearingRun{}, fmt.Errorf("DRG payments: %w", err)
	}
	paid := decimal.New(0, -2)
	for i := range lines {
		lines[i].Payment = pay[i]
		lines[i].Difference = pay[i].Sub(lines[i].BasicFund)
		paid = paid.Add(pay[i])
	}
	if !paid.Equal(c.b) {
		return ClearingRun{}, fmt.Errorf("%w: DRG payments add up to %s, not B = %s", ErrInvariant, paid, c.b)
	}
	run.PaidTotal, run.Institutions = paid, lines
	return run, nil
}

// ClearDRG clears cases in one call through the DRG Clearer (Begin, Add
// for each case, Finish): the run's figures and the case lines of the
// grouped cases, in the order of cases. Errors are NewDRGClearer's and
// the Clearer's.
func ClearDRG(d *DRG, budget decimal.Decimal, cases []ClearingCase) (ClearingRun, []CaseLine, error) {
	cl, err := NewDRGClearer(d, budget)
	if err != nil {
		return ClearingRun{}, nil, err
	}
	if err := cl.Begin(RunInputs{}); err != nil {
		return ClearingRun{}, nil, err
	}
	var lines []CaseLine
	for _, k := range cases {
		line, err := cl.Add(k)
		if err != nil {
			return ClearingRun{}, nil, fmt.Errorf("case %q: %w", k.SettlementID, err)
		}
		if line != nil {
			lines = append(lines, *line)
		}
	}
	run, err := cl.Finish()
	if err != nil {
		return ClearingRun{}, nil, err
	}
	return run, lines, nil
}

// highThreshold is H for a group's base points: the first row whose
// up_to_points ≥ base points, the last row unbounded; nil without rows.
func (d *DRG) highThreshold(basePoints decimal.Decimal) *decimal.Decimal {
	for _, h := range d.HighThresholds {
		if h.UpToPoints == nil || h.UpToPoints.GreaterThanOrEqual(basePoints) {
			r := h.Ratio
			return &r
		}
	}
	return nil
}
