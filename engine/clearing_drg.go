package engine

import (
	"fmt"
	"math/big"
	"math/bits"
	"sort"
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
// Every figure is fixed-point (money in fen, points and ratios in
// ten-thousandths) and every product is computed on 128 bits, so scoring
// and paying are exact integer arithmetic; a figure that would leave the
// int64 range (a case of a trillion yuan in a group averaging a fen) is
// an ErrInvariant error of Add or Finish, never an approximation.
//
// Returns a *ValidationError for a negative budget, ErrNoClearingRules
// without rules, and ErrInvariant for a reserve ratio outside [0, 1].
func NewDRGClearer(d *DRG, budget Money) (Clearer, error) {
	if d == nil {
		return nil, fmt.Errorf("DRG clearing: %w", ErrNoClearingRules)
	}
	if budget.IsNegative() {
		return nil, invalidf("budget", "must be money ≥ 0 with at most two decimals, got %s", budget)
	}
	if d.ReserveRatio.IsNegative() || d.ReserveRatio.GreaterThan(RatioOne) {
		return nil, fmt.Errorf("%w: DRG reserve_ratio %s is not in [0, 1]", ErrInvariant, d.ReserveRatio)
	}
	c := &drgClearer{
		b:        budget.MulRatio(RatioOne.Sub(d.ReserveRatio)),
		fundOnly: d.PointValueBasis == PointValueFundOnly,
		groups:   make(map[string]*drgGroupCalc, len(d.Groups)),
		coefs:    []Ratio{RatioOne},
		byInst:   map[string]int32{},
		byLevel:  map[int]int32{},
		accs:     map[string]*drgAcc{},
		lowOn:    d.LowRatio.IsPositive(),
		low:      d.LowRatio,
	}
	for _, g := range d.Groups {
		if g.Code == "" {
			continue // "no code" is ungrouped whatever the rules say
		}
		if _, dup := c.groups[g.Code]; !dup {
			gc := &drgGroupCalc{g: g}
			gc.high, gc.hasHigh = d.highThreshold(g.BasePoints)
			c.groups[g.Code] = gc
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
				c.coefs = append(c.coefs, k.Coefficient)
			}
		default:
			if _, ok := c.byLevel[k.Level]; !ok {
				c.byLevel[k.Level] = int32(len(c.coefs))
				c.coefs = append(c.coefs, k.Coefficient)
			}
		}
	}
	return c, nil
}

// drgClearer is the DRG Clearer. Money is summed in fen and points in
// ten-thousandths, checked for overflow.
type drgClearer struct {
	b        Money // B
	fundOnly bool
	lowOn    bool  // L > 0: unset (0) means no case is low-cost
	low      Ratio // L
	groups   map[string]*drgGroupCalc
	coefs    []Ratio // [0] is 1
	byInst   map[string]int32
	byLevel  map[int]int32

	state         runState
	accs          map[string]*drgAcc
	last          *drgAcc
	ungrouped     int64
	ungroupedFund sumFen
	slab          []CaseLine
}

// drgGroupCalc is a group with its high-cost threshold.
type drgGroupCalc struct {
	g       DRGGroup
	high    Ratio // H, when hasHigh; else no case of the group is high-cost
	hasHigh bool
}

// drgAcc is one institution's aggregates.
type drgAcc struct {
	id       string
	byID     int32 // its own coefficient row, or −1
	level    int   // the level last seen, and its coefficient
	levelK   int32
	hasLevel bool
	cases    int64
	points   int64  // ten-thousandths
	personal sumFen // P_h as used (0 under FUND_ONLY)
	basic    sumFen
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

// coef is the coefficient of a case of the institution at a level.
func (c *drgClearer) coef(a *drgAcc, level int) Ratio {
	if a.byID >= 0 {
		return c.coefs[a.byID]
	}
	if !a.hasLevel || a.level != level {
		k, ok := c.byLevel[level]
		if !ok {
			k = 0
		}
		a.level, a.levelK, a.hasLevel = level, k, true
	}
	return c.coefs[a.levelK]
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
		c.ungroupedFund.add(k.BasicFund)
		return nil, nil
	}
	a := c.acc(k.InstitutionID)
	ratio, kind, points, err := c.score(g, c.coef(a, k.Level), k.Total)
	if err != nil {
		return nil, fmt.Errorf("settlement %q: %w", k.SettlementID, err)
	}
	sum, ok := addChecked(a.points, points.v)
	if !ok {
		return nil, fmt.Errorf("%w: institution %q's DRG points leave the range of points", ErrInvariant, a.id)
	}
	a.points = sum
	if len(c.slab) == 0 {
		c.slab = make([]CaseLine, 256)
	}
	line := &c.slab[0]
	c.slab = c.slab[1:]
	*line = CaseLine{
		SettlementID: k.SettlementID, RequestID: k.RequestID, InstitutionID: k.InstitutionID,
		SettleDate: k.SettleDate, DRGCode: k.DRGCode, Total: k.Total,
		Ratio: ratio, Kind: kind, Points: points,
		PersonalTotal: k.PersonalTotal, BasicFund: k.BasicFund,
	}
	a.cases++
	a.basic.add(k.BasicFund)
	if !c.fundOnly {
		a.personal.add(k.PersonalTotal)
	}
	return line, nil
}

// score scores a case of cost total under coefficient k (CLEARING.md):
// r = round(c / a, 4), and its points rounded to 4 decimals, each in one
// exact 128-bit division rounded half away from zero.
func (c *drgClearer) score(g *drgGroupCalc, k Ratio, total Money) (Ratio, CostKind, Points, error) {
	a := g.g.AverageCost.fen
	if a <= 0 {
		return Ratio{}, 0, Points{}, fmt.Errorf("%w: DRG group %q has average cost %s", ErrInvariant, g.g.Code, g.g.AverageCost)
	}
	// r × 10^4 = c_fen × 10^4 / a_fen.
	r, ok := mulDivRound(total.fen, ratioUnit, a)
	if !ok {
		return Ratio{}, 0, Points{}, fmt.Errorf("%w: the cost ratio of a case of %s in group %q (average %s) leaves the range of ratios",
			ErrInvariant, total, g.g.Code, g.g.AverageCost)
	}
	b := g.g.BasePoints.v
	var factor int64 // k + r − H, r or k, in ten-thousandths
	kind := CostNormal
	switch {
	case g.hasHigh && r > g.high.v:
		// points = b × k + b × (r − H) = b × (k + r − H), rounded once.
		f, ok1 := addChecked(k.v, r)
		factor, ok = addChecked(f, -g.high.v)
		ok = ok && ok1
		kind = CostHigh
	case c.lowOn && r <= c.low.v:
		factor, ok, kind = r, true, CostLow
	default:
		factor, ok = k.v, true
	}
	var pts int64
	if ok {
		// b × factor is in 10^-8 points; points keep 10^-4.
		pts, ok = mulDivRound(b, factor, pointsUnit)
	}
	if !ok {
		return Ratio{}, 0, Points{}, fmt.Errorf("%w: the points of a case of %s in group %q leave the range of points",
			ErrInvariant, total, g.g.Code)
	}
	return Ratio{r}, kind, Points{pts}, nil
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
	ungroupedFund, err := c.ungroupedFund.value("the ungrouped cases' basic fund")
	if err != nil {
		return ClearingRun{}, err
	}
	run := ClearingRun{
		Kind:               ClearingDRG,
		Settlements:        grouped + c.ungrouped,
		Ungrouped:          c.ungrouped,
		UngroupedBasicFund: ungroupedFund,
		Budget:             c.b,
	}
	lines := make([]ClearingLine, len(accs))
	var total int64
	var personal sumFen
	for i, a := range accs {
		l := ClearingLine{InstitutionID: a.id, Cases: a.cases, Points: Points{a.points}}
		if l.PersonalTotal, err = a.personal.value(fmt.Sprintf("institution %q's personal total", a.id)); err != nil {
			return ClearingRun{}, err
		}
		if l.BasicFund, err = a.basic.value(fmt.Sprintf("institution %q's basic fund", a.id)); err != nil {
			return ClearingRun{}, err
		}
		var ok bool
		if total, ok = addChecked(total, a.points); !ok {
			return ClearingRun{}, fmt.Errorf("%w: the run's DRG points leave the range of points", ErrInvariant)
		}
		personal.add(l.PersonalTotal)
		lines[i] = l
	}
	if run.PersonalTotal, err = personal.value("the run's personal total"); err != nil {
		return ClearingRun{}, err
	}
	run.TotalPoints = Points{total}
	switch {
	case total == 0:
		// No grouped case (or none with points): nothing is paid by points.
		return run, nil
	case total < 0:
		return ClearingRun{}, fmt.Errorf("%w: DRG total points %s < 0", ErrInvariant, run.TotalPoints)
	}
	// V = (B + P) / T exactly: in yuan per point, (B + P)_fen × 100 / T_4.
	bp, ok := addChecked(c.b.fen, run.PersonalTotal.fen)
	if !ok {
		return ClearingRun{}, fmt.Errorf("%w: B + P leaves the range of money", ErrInvariant)
	}
	// Reported rounded to 6 decimals: V × 10^6 = (B + P)_fen × 10^8 / T_4.
	v6, ok := mulDivRound(bp, 100_000_000, total)
	if !ok {
		return ClearingRun{}, fmt.Errorf("%w: the point value (B + P = %s over %s points) leaves the range of point values",
			ErrInvariant, Money{bp}, run.TotalPoints)
	}
	run.PointValue = PointValue{v6}
	// The exact payments p_h × V − P_h add up to V × T − P = B.
	pay, err := drgPayments(c.b, bp, total, lines)
	if err != nil {
		return ClearingRun{}, fmt.Errorf("DRG payments: %w", err)
	}
	var paid sumFen
	for i := range lines {
		lines[i].Payment = pay[i]
		lines[i].Difference = pay[i].Sub(lines[i].BasicFund)
		paid.add(pay[i])
	}
	if run.PaidTotal, err = paid.value("the DRG payments"); err != nil {
		return ClearingRun{}, err
	}
	if !run.PaidTotal.Equal(c.b) {
		return ClearingRun{}, fmt.Errorf("%w: DRG payments add up to %s, not B = %s", ErrInvariant, run.PaidTotal, c.b)
	}
	run.Institutions = lines
	return run, nil
}

// drgPayments rounds the exact payments p_h × V − P_h, V = bp / T, to the
// fen by largest remainder so that they add up to b (CLEARING.md). In fen,
// p_h × V = p4_h × bp_fen / T_4: a 128-bit product over one denominator,
// so the floors and the remainders (ordered as integers over T_4) are
// exact. Points are never negative; should one be, the exact rationals of
// AllocateFen decide.
func drgPayments(b Money, bp, total int64, lines []ClearingLine) ([]Money, error) {
	if bp < 0 || total <= 0 {
		return drgPaymentsRat(b, bp, total, lines)
	}
	for _, l := range lines {
		if l.Points.v < 0 || l.Points.v > total {
			return drgPaymentsRat(b, bp, total, lines)
		}
	}
	pay := make([]Money, len(lines))
	rem := make([]uint64, len(lines))
	var given int64
	for i, l := range lines {
		// p4_h ≤ T_4 and bp < 2^63: the high word is below T_4.
		hi, lo := bits.Mul64(uint64(l.Points.v), uint64(bp))
		q, r := bits.Div64(hi, lo, uint64(total))
		f, ok := addChecked(int64(q), -l.PersonalTotal.fen) // q ≤ bp fits
		if !ok {
			return nil, fmt.Errorf("%w: institution %q's payment leaves the range of money", ErrInvariant, l.InstitutionID)
		}
		pay[i], rem[i] = Money{f}, r
		if given, ok = addChecked(given, f); !ok {
			return nil, fmt.Errorf("%w: the DRG payments leave the range of money", ErrInvariant)
		}
	}
	left, ok := addChecked(b.fen, -given)
	if !ok || left < 0 || left > int64(len(lines)) {
		return nil, fmt.Errorf("%w: %s fen left over after flooring %d payments", ErrInvariant, Money{left}, len(lines))
	}
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool {
		if rem[order[x]] != rem[order[y]] {
			return rem[order[x]] > rem[order[y]]
		}
		return lines[order[x]].InstitutionID < lines[order[y]].InstitutionID
	})
	for k := int64(0); k < left; k++ {
		pay[order[k]].fen++
	}
	return pay, nil
}

// drgPaymentsRat is drgPayments on exact rationals, through AllocateFen.
func drgPaymentsRat(b Money, bp, total int64, lines []ClearingLine) ([]Money, error) {
	v := new(big.Rat).Quo(Money{bp}.Rat(), Points{total}.Rat())
	shares := make([]Share, len(lines))
	for i, l := range lines {
		exact := new(big.Rat).Mul(l.Points.Rat(), v)
		shares[i] = Share{Key: l.InstitutionID, Exact: exact.Sub(exact, l.PersonalTotal.Rat())}
	}
	return AllocateFen(b, shares)
}

// ClearDRG clears cases in one call through the DRG Clearer (Begin, Add
// for each case, Finish): the run's figures and the case lines of the
// grouped cases, in the order of cases. Errors are NewDRGClearer's and
// the Clearer's.
func ClearDRG(d *DRG, budget Money, cases []ClearingCase) (ClearingRun, []CaseLine, error) {
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
// up_to_points ≥ base points, the last row unbounded; false without rows.
func (d *DRG) highThreshold(basePoints Points) (Ratio, bool) {
	for _, h := range d.HighThresholds {
		if h.UpToPoints == nil || h.UpToPoints.GreaterThanOrEqual(basePoints) {
			return h.Ratio, true
		}
	}
	return Ratio{}, false
}
