package engine_test

// Seeded randomized property tests of the clearers (CLEARING.md). As in
// property_test.go, MEDSETTLE_SEED replays a failure.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

// ---------------------------------------------------------------------------
// Reference model: CLEARING.md's DRG rules in big.Rat, written apart from
// the engine's integer path.

// refRound rounds r half away from zero to places decimals.
func refRound(r *big.Rat, places int32) decimal.Decimal {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(places)), nil)
	num := new(big.Int).Mul(new(big.Int).Abs(r.Num()), scale)
	q, m := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if new(big.Int).Lsh(m, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return decimal.NewFromBigInt(q, -places)
}

// refCase is a grouped case as the rules score it.
type refCase struct {
	ratio, points decimal.Decimal
	kind          engine.CostKind
}

// decPts is points as a decimal.
func decPts(p engine.Points) decimal.Decimal { return decimal.New(p.Scaled(), -4) }

func refScore(p *engine.DRG, inst string, level int, grp engine.DRGGroup, totalM engine.Money) refCase {
	k, own := decimal.NewFromInt(1), false
	for _, c := range p.Coefficients {
		if c.InstitutionID != "" && c.InstitutionID == inst && !own {
			k, own = decR(c.Coefficient), true
		}
	}
	if !own {
		for _, c := range p.Coefficients {
			if c.InstitutionID == "" && c.Level == level {
				k = decR(c.Coefficient)
				break // the first row of the level
			}
		}
	}
	var h *decimal.Decimal
	for _, row := range p.HighThresholds {
		if row.UpToPoints == nil || decPts(*row.UpToPoints).GreaterThanOrEqual(decPts(grp.BasePoints)) {
			r := decR(row.Ratio)
			h = &r
			break
		}
	}
	r := refRound(new(big.Rat).Quo(decM(totalM).Rat(), decM(grp.AverageCost).Rat()), 4)
	b := decPts(grp.BasePoints)
	switch {
	case h != nil && r.GreaterThan(*h):
		return refCase{r, b.Mul(k).Add(b.Mul(r.Sub(*h))).Round(4), engine.CostHigh}
	case p.LowRatio.IsPositive() && r.LessThanOrEqual(decR(p.LowRatio)):
		return refCase{r, b.Mul(r).Round(4), engine.CostLow}
	}
	return refCase{r, b.Mul(k).Round(4), engine.CostNormal}
}

// ---------------------------------------------------------------------------
// Random regions.

// scaledIn is a positive figure with up to places decimals, spread
// log-uniformly below 10^digits, as a count of 10^-scale units (places ≤
// scale).
func (g *gen) scaledIn(digits, places, scale int) int64 {
	p := g.intn(places + 1)
	k := 1 + g.intn(digits+p)
	return (1 + g.r.Int64N(pow10(min(k, 18)))) * pow10(scale-p)
}

// drgPolicy is a random valid DRG section; huge makes figures of large
// magnitudes (averages of a fen to a trillion yuan, thousands of base
// points, large coefficients) whose products may leave the int64 range.
func (g *gen) drgPolicy(huge bool) *engine.DRG {
	p := &engine.DRG{
		ReserveRatio:    engine.RatioFromScaled(int64(g.intn(2001))),
		PointValueBasis: []engine.PointValueBasis{engine.PointValueUnspecified, engine.PointValueFundPlusPersonal, engine.PointValueFundOnly}[g.intn(3)],
	}
	if g.chance(0.8) {
		p.LowRatio = engine.RatioFromScaled(int64(1 + g.intn(6000)))
	}
	for i := range 1 + g.intn(8) {
		grp := engine.DRGGroup{Code: fmt.Sprintf("G%d", i), BasePoints: engine.PointsFromScaled(g.scaledIn(3, 4, 4)),
			AverageCost: engine.MoneyFromFen(g.scaledIn(6, 2, 2))}
		if huge && g.chance(0.5) {
			grp.AverageCost = engine.MoneyFromFen(1 + g.r.Int64N(pow10(1+g.intn(14))))
		}
		if huge && g.chance(0.3) {
			grp.BasePoints = engine.PointsFromScaled(1 + g.r.Int64N(pow10(1+g.intn(12))))
		}
		p.Groups = append(p.Groups, grp)
	}
	for lvl := 1; lvl <= 3; lvl++ {
		if g.chance(0.6) {
			p.Coefficients = append(p.Coefficients, engine.DRGCoefficient{Level: lvl, Coefficient: engine.RatioFromScaled(int64(5000 + g.intn(10001)))})
		}
	}
	for range g.intn(4) {
		k := engine.RatioFromScaled(int64(5000 + g.intn(10001)))
		if huge && g.chance(0.5) {
			k = engine.RatioFromScaled(1 + g.r.Int64N(pow10(1+g.intn(12))))
		}
		p.Coefficients = append(p.Coefficients, engine.DRGCoefficient{InstitutionID: fmt.Sprintf("H%d", g.intn(10)), Coefficient: k})
	}
	var up engine.Points
	rows := g.intn(4)
	for i := range rows {
		row := engine.DRGHighThreshold{Ratio: engine.RatioFromScaled(int64(110+g.intn(300)) * 100)}
		if i < rows-1 {
			up = up.Add(engine.PointsFromScaled(int64(1+g.intn(300)) * 10_000))
			row.UpToPoints = dptr(up)
		}
		p.HighThresholds = append(p.HighThresholds, row)
	}
	return p
}

// drgCases are random cases of a region of up to ten institutions: most
// grouped, some without a code or with a code of no group; their cost is
// often near a group's average (r near 1, L or H).
func (g *gen) drgCases(p *engine.DRG, n int, huge bool) []engine.ClearingCase {
	levels := make([]int, 10)
	for i := range levels {
		levels[i] = 1 + g.intn(3)
	}
	var cases []engine.ClearingCase
	for i := range n {
		inst := g.intn(len(levels))
		c := engine.ClearingCase{
			SettlementID: fmt.Sprintf("S%05d", i), RequestID: fmt.Sprintf("R%05d", i),
			InstitutionID: fmt.Sprintf("H%d", inst), Level: levels[inst], VisitType: engine.VisitInpatient,
			SettleDate: engine.Date{Year: 2026, Month: time.Month(1 + g.intn(12)), Day: 1 + g.intn(28)},
		}
		switch x := g.intn(20); {
		case x == 0:
			c.DRGCode = ""
		case x == 1:
			c.DRGCode = "NOT-A-GROUP"
		default:
			c.DRGCode = p.Groups[g.intn(len(p.Groups))].Code
		}
		var total decimal.Decimal
		switch {
		case huge && g.chance(0.3):
			total = decimal.New(g.r.Int64N(pow10(14)), -2) // up to MaxMoney
		case c.DRGCode != "" && c.DRGCode != "NOT-A-GROUP" && g.chance(0.7):
			// Around the average, on the fen: r near 1 and the thresholds.
			var avg decimal.Decimal
			for _, grp := range p.Groups {
				if grp.Code == c.DRGCode {
					avg = decM(grp.AverageCost)
				}
			}
			total = avg.Mul(decimal.New(int64(g.intn(40001)), -4)).Round(2)
		default:
			total = decimal.New(g.r.Int64N(pow10(1+g.intn(10))), -2)
		}
		personal := total.Mul(decimal.New(int64(g.intn(10001)), -4)).Round(2)
		c.Total, c.PersonalTotal, c.BasicFund = moneyOf(total), moneyOf(personal), moneyOf(total.Sub(personal))
		cases = append(cases, c)
	}
	return cases
}

// clearDRG runs a DRG Clearer over cases; err is the first error of Add or
// Finish (a figure out of range), other errors fail the test.
func (g *gen) clearDRG(p *engine.DRG, budget engine.Money, cases []engine.ClearingCase) (engine.ClearingRun, map[string]engine.CaseLine, error) {
	cl, err := engine.NewDRGClearer(p, budget)
	if err != nil {
		g.fatalf("NewDRGClearer: %v", err)
	}
	if err := cl.Begin(engine.RunInputs{}); err != nil {
		g.fatalf("Begin: %v", err)
	}
	lines := map[string]engine.CaseLine{}
	for _, c := range cases {
		l, err := cl.Add(c)
		if err != nil {
			if !errors.Is(err, engine.ErrInvariant) {
				g.fatalf("Add(%+v): %v", c, err)
			}
			return engine.ClearingRun{}, nil, err
		}
		if l != nil {
			lines[c.SettlementID] = *l
		}
	}
	run, err := cl.Finish()
	if err != nil && !errors.Is(err, engine.ErrInvariant) {
		g.fatalf("Finish: %v", err)
	}
	return run, lines, err
}

// renderRun is every figure of a run, decimals by value.
func renderRun(r engine.ClearingRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %d %s %s %s %s %s %s\n", r.Kind, r.Settlements, r.Ungrouped, r.UngroupedBasicFund, r.Budget,
		r.PersonalTotal, r.TotalPoints, r.PointValue, r.PaidTotal)
	for _, l := range r.Institutions {
		fmt.Fprintf(&b, "%s %d %s %s %s %s %s %s %s %s %s %s\n", l.InstitutionID, l.Cases, l.Points, l.PersonalTotal, l.BasicFund,
			l.Payment, l.Difference, l.Budget, l.Claimed, l.Retained, l.Shared, l.Paid)
	}
	if c := r.Capitation; c != nil {
		fmt.Fprintf(&b, "%s %d %s %s %s %v %s %s %s %v\n", c.ContractID, c.Members, c.Budget, c.Actual, c.Surplus, c.Shares,
			c.Deficit, c.FundCovers, c.ContractBears, c.Components)
	}
	return b.String()
}

func renderCase(l engine.CaseLine) string {
	return fmt.Sprintf("%s %s %s %s %s %s %s %d %s %s %s", l.SettlementID, l.RequestID, l.InstitutionID, l.SettleDate, l.DRGCode,
		l.Total, l.Ratio, l.Kind, l.Points, l.PersonalTotal, l.BasicFund)
}

// shuffled is a copy of cases in a random order.
func shuffled[T any](g *gen, cases []T) []T {
	out := append([]T(nil), cases...)
	g.r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// maxScaled is the largest count of fixed-point units, as a decimal.
var maxScaled = decimal.NewFromInt(math.MaxInt64)

// fits reports that d × 10^places is at most the int64 range.
func fits(d decimal.Decimal, places int32) bool {
	return d.Shift(places).Abs().LessThanOrEqual(maxScaled)
}

// TestPropertyDRGClearing: for random regions, every case line is the
// rules' exact scoring, the lines and summary are the sums of the cases,
// the payments add up to B exactly and each is within a fen of p_h × V −
// P_h, and feeding the cases in another order gives the identical run.
// Huge regions may carry a figure beyond the int64 range of its fixed
// scale: the run then fails with ErrInvariant exactly when the rules'
// figure does not fit, and is exact otherwise.
func TestPropertyDRGClearing(t *testing.T) {
	g := newGen(t)
	overflowed := 0
	for iter := range 300 {
		huge := iter%5 == 4
		p := g.drgPolicy(huge)
		cases := g.drgCases(p, g.intn(200), huge)
		budget := engine.MoneyFromFen(g.r.Int64N(pow10(1 + g.intn(12))))
		run, lines, runErr := g.clearDRG(p, budget, cases)

		groups := map[string]engine.DRGGroup{}
		for _, grp := range p.Groups {
			groups[grp.Code] = grp
		}
		type agg struct {
			cases                   int64
			points, personal, basic decimal.Decimal
		}
		want := map[string]*agg{}
		var ungrouped int64
		ungroupedFund, P, T := decimal.Zero, decimal.Zero, decimal.Zero
		inRange := true // every figure of the rules fits its fixed scale
		for _, c := range cases {
			grp, ok := groups[c.DRGCode]
			if !ok {
				ungrouped++
				ungroupedFund = ungroupedFund.Add(decM(c.BasicFund))
				if _, has := lines[c.SettlementID]; has && runErr == nil {
					g.fatalf("ungrouped case %s has a line", c.SettlementID)
				}
				continue
			}
			ref := refScore(p, c.InstitutionID, c.Level, grp, c.Total)
			a := want[c.InstitutionID]
			if a == nil {
				a = &agg{}
				want[c.InstitutionID] = a
			}
			a.cases++
			a.points = a.points.Add(ref.points)
			a.basic = a.basic.Add(decM(c.BasicFund))
			if p.PointValueBasis != engine.PointValueFundOnly {
				a.personal = a.personal.Add(decM(c.PersonalTotal))
			}
			if !fits(ref.ratio, 4) || !fits(ref.points, 4) || !fits(a.points, 4) {
				inRange = false
				break
			}
			if runErr != nil {
				continue
			}
			l, has := lines[c.SettlementID]
			if !has || !decR(l.Ratio).Equal(ref.ratio) || !decPts(l.Points).Equal(ref.points) || l.Kind != ref.kind {
				g.fatalf("case %s (c %s, group %+v, policy %+v): line %+v, want r %s kind %d points %s",
					c.SettlementID, c.Total, grp, p, l, ref.ratio, ref.kind, ref.points)
			}
			if l.RequestID != c.RequestID || l.InstitutionID != c.InstitutionID || l.SettleDate != c.SettleDate ||
				l.DRGCode != c.DRGCode || !l.Total.Equal(c.Total) || !l.PersonalTotal.Equal(c.PersonalTotal) || !l.BasicFund.Equal(c.BasicFund) {
				g.fatalf("case line %+v does not copy case %+v", l, c)
			}
		}
		B := decM(budget).Mul(decimal.NewFromInt(1).Sub(decR(p.ReserveRatio))).Round(2)
		var v *big.Rat
		if inRange {
			for _, a := range want {
				P, T = P.Add(a.personal), T.Add(a.points)
			}
			inRange = fits(T, 4)
			if inRange && !T.IsZero() {
				v = new(big.Rat).Quo(B.Add(P).Rat(), T.Rat())
				inRange = fits(refRound(v, 6), 6)
			}
		}
		if !inRange || runErr != nil {
			if inRange || runErr == nil {
				g.fatalf("in range %v, but the run says %v (policy %+v)", inRange, runErr, p)
			}
			overflowed++
			continue
		}
		if run.Kind != engine.ClearingDRG || run.Settlements != int64(len(cases)) || run.Ungrouped != ungrouped ||
			!decM(run.UngroupedBasicFund).Equal(ungroupedFund) || !decM(run.Budget).Equal(B) || !decM(run.PersonalTotal).Equal(P) ||
			!decPts(run.TotalPoints).Equal(T) {
			g.fatalf("summary %s; want settlements %d ungrouped %d/%s B %s P %s T %s", renderRun(run), len(cases), ungrouped, ungroupedFund, B, P, T)
		}
		if T.IsZero() {
			if len(run.Institutions) != 0 || !run.PointValue.IsZero() || !run.PaidTotal.IsZero() {
				g.fatalf("T = 0: %s", renderRun(run))
			}
			continue
		}
		if !decimal.New(run.PointValue.Scaled(), -6).Equal(refRound(v, 6)) || len(run.Institutions) != len(want) {
			g.fatalf("V %s, want %s; %d lines for %d institutions", run.PointValue, refRound(v, 6), len(run.Institutions), len(want))
		}
		sum := decimal.Zero
		for i, l := range run.Institutions {
			a := want[l.InstitutionID]
			if a == nil || (i > 0 && run.Institutions[i-1].InstitutionID >= l.InstitutionID) {
				g.fatalf("lines not one per institution by id: %s", renderRun(run))
			}
			if l.Cases != a.cases || !decPts(l.Points).Equal(a.points) || !decM(l.PersonalTotal).Equal(a.personal) || !decM(l.BasicFund).Equal(a.basic) ||
				!l.Difference.Equal(l.Payment.Sub(l.BasicFund)) {
				g.fatalf("line %+v, want %+v", l, *a)
			}
			exact := new(big.Rat).Sub(new(big.Rat).Mul(a.points.Rat(), v), a.personal.Rat())
			diff := new(big.Rat).Sub(l.Payment.Rat(), exact)
			if diff.Abs(diff).Cmp(big.NewRat(1, 100)) >= 0 {
				g.fatalf("%s paid %s, exact %s", l.InstitutionID, l.Payment, exact.FloatString(6))
			}
			sum = sum.Add(decM(l.Payment))
		}
		if !sum.Equal(B) || !decM(run.PaidTotal).Equal(B) {
			g.fatalf("payments add up to %s, paid total %s, B = %s", sum, run.PaidTotal, B)
		}

		// Another order, the identical run and case lines.
		run2, lines2, err := g.clearDRG(p, budget, shuffled(g, cases))
		if err != nil {
			g.fatalf("shuffled cases: %v", err)
		}
		if a, b := renderRun(run), renderRun(run2); a != b {
			g.fatalf("shuffled cases give another run:\n%s\n%s", a, b)
		}
		for id, l := range lines {
			if a, b := renderCase(l), renderCase(lines2[id]); a != b {
				g.fatalf("shuffled: case line %s\n%s", a, b)
			}
		}
	}
	if overflowed == 0 || overflowed > 45 {
		g.fatalf("%d of the 60 huge regions overflowed: out-of-range figures went untested, or too few were in range", overflowed)
	}
}

// TestPropertyDRGRatio: the integer ratio round(c / a, 4) against big.Rat
// rounding, on random costs and averages, on exact half boundaries
// (c / a = n.nnnn5), a fen either side of them, and quotients within
// 1/(2a) of a half, where dividing to 16 digits first would round twice;
// and a quotient beyond the range of ratios is reported, not wrapped.
func TestPropertyDRGRatio(t *testing.T) {
	g := newGen(t)
	ok, boundaries, overflows := 0, 0, 0
	check := func(c, a engine.Money) {
		exact := new(big.Rat).Quo(c.Rat(), a.Rat())
		want := refRound(exact, 4)
		got, err := engine.DRGRatio(c, a)
		switch {
		case !fits(want, 4):
			if err == nil || !errors.Is(err, engine.ErrInvariant) {
				g.fatalf("round(%s / %s, 4) = %s is out of range, but DRGRatio says %s, %v", c, a, want, got, err)
			}
			overflows++
			return
		case err != nil || !decR(got).Equal(want):
			g.fatalf("round(%s / %s, 4) = %s, %v; want %s (exact %s)", c, a, got, err, want, exact.FloatString(12))
		}
		ok++
		// On a half boundary?
		if new(big.Rat).Mul(exact, big.NewRat(20000, 1)).IsInt() && !new(big.Rat).Mul(exact, big.NewRat(10000, 1)).IsInt() {
			boundaries++
		}
	}
	const n = 20000
	for range n {
		// Random money and averages of 0 to 2 decimals.
		a := engine.MoneyFromFen(g.scaledIn(9, 2, 2))
		check(engine.MoneyFromFen(g.r.Int64N(pow10(1+g.intn(13)))), a)

		// A half boundary: a = 200k, c = k × (2m + 1) fen, so c / a =
		// (2m + 1) / 20000; and a fen either side.
		k := 1 + g.r.Int64N(pow10(1+g.intn(7)))
		a = engine.Yuan(200 * k)
		cf := k * (2*g.r.Int64N(pow10(1+g.intn(6))) + 1)
		for _, f := range []int64{cf - 1, cf, cf + 1} {
			check(engine.MoneyFromFen(f), a)
		}

		// Within 1/(2A) of a half: A odd and prime to 5, c×10^4 ≡ (A ∓ 1)/2
		// (mod A) in fen.
		A := big.NewInt(1 + 2*g.r.Int64N(pow10(6+g.intn(7))))
		if new(big.Int).Mod(A, big.NewInt(5)).Sign() == 0 {
			A.Add(A, big.NewInt(2))
		}
		inv := new(big.Int).ModInverse(big.NewInt(10000), A)
		if inv == nil {
			continue
		}
		half := new(big.Int).Rsh(A, 1) // (A − 1) / 2
		if g.chance(0.5) {
			half.Add(half, big.NewInt(1)) // (A + 1) / 2
		}
		cfen := new(big.Int).Mod(new(big.Int).Mul(half, inv), A)
		cfen.Add(cfen, new(big.Int).Mul(A, big.NewInt(g.r.Int64N(3))))
		check(engine.MoneyFromFen(cfen.Int64()), engine.MoneyFromFen(A.Int64()))
	}
	// Costs up to the int64 range over tiny averages: some quotients leave
	// the range of ratios.
	for range 200 {
		check(engine.MoneyFromFen(g.r.Int64N(math.MaxInt64)), engine.MoneyFromFen(1+g.r.Int64N(pow10(g.intn(8)))))
	}
	if ok < 4*n || boundaries < n/2 || overflows == 0 {
		g.fatalf("%d of %d ratios computed, %d half boundaries, %d overflows reported", ok, 5*n+200, boundaries, overflows)
	}
}

// TestPropertyCapitation: for random contracts and claims, a surplus is
// shared out to the fen exactly, each party within a fen of its exact
// share; a deficit is fund_covers + contract_bears with fund_covers =
// round(overspend_share × min(D, overspend_tolerance × K)); paid total
// K + fund_covers; and the order of the cases does not matter.
func TestPropertyCapitation(t *testing.T) {
	g := newGen(t)
	for range 500 {
		c := &engine.CapitationContract{
			ContractID: "C", InstitutionID: "I", Region: "R", Scheme: engine.SchemeResident, Year: 2026,
			OverspendShare: engine.RatioFromScaled(int64(g.intn(10001))), OverspendTolerance: engine.RatioFromScaled(int64(g.intn(10001))),
		}
		vts := shuffled(g, engine.VisitTypes)
		for i := 0; i < len(vts); {
			n := 1 + g.intn(len(vts)-i)
			c.Components = append(c.Components, engine.CapitationComponent{
				Name: fmt.Sprintf("comp%d", i), Rate: engine.MoneyFromFen(g.r.Int64N(1_000_000)), VisitTypes: vts[i : i+n]})
			i += n
		}
		// Shares in 1/10000 adding up to 1; party names in random order.
		parties := 1 + g.intn(6)
		cuts := []int{0, 10000}
		for range parties - 1 {
			cuts = append(cuts, g.intn(10001))
		}
		for i := range cuts {
			for j := i + 1; j < len(cuts); j++ {
				if cuts[j] < cuts[i] {
					cuts[i], cuts[j] = cuts[j], cuts[i]
				}
			}
		}
		for i := range parties {
			c.Shares = append(c.Shares, engine.CapitationShare{Party: fmt.Sprintf("p%c", 'z'-rune(g.intn(26))) + fmt.Sprint(i),
				Share: engine.RatioFromScaled(int64(cuts[i+1] - cuts[i]))})
		}
		if err := engine.ValidateContract(c); err != nil {
			g.fatalf("contract: %v", err)
		}
		members := g.r.Int64N(pow10(1 + g.intn(5)))
		K := decimal.Zero
		for _, comp := range c.Components {
			K = K.Add(decM(comp.Rate).Mul(decimal.NewFromInt(members)).Round(2))
		}
		// Claims around K.
		var cases []engine.ClearingCase
		A := decimal.Zero
		target := K.Mul(decimal.New(int64(g.intn(20001)), -4)).Shift(2).IntPart()
		for i := range g.intn(30) {
			fen := int64(0)
			if target > 0 {
				fen = g.r.Int64N(target/15 + 1)
			}
			k := visitCase(fmt.Sprint(i), vts[g.intn(len(vts))], decimal.New(fen, -2).String())
			cases = append(cases, k)
			A = A.Add(decM(k.BasicFund))
		}
		run := func(cases []engine.ClearingCase) engine.ClearingRun {
			cl := engine.NewCapitationClearer(c)
			if err := cl.Begin(engine.RunInputs{Members: members}); err != nil {
				g.fatalf("Begin: %v", err)
			}
			for _, k := range cases {
				if _, err := cl.Add(k); err != nil {
					g.fatalf("Add: %v", err)
				}
			}
			r, err := cl.Finish()
			if err != nil {
				g.fatalf("Finish: %v", err)
			}
			return r
		}
		r := run(cases)
		cc := r.Capitation
		if !decM(cc.Budget).Equal(K) || !decM(r.Budget).Equal(K) || !decM(cc.Actual).Equal(A) || cc.Members != members || r.Settlements != int64(len(cases)) {
			g.fatalf("K %s A %s members %d: %s", K, A, members, renderRun(r))
		}
		if A.LessThanOrEqual(K) {
			sum := decimal.Zero
			for i, s := range cc.Shares {
				exact := new(big.Rat).Mul(c.Shares[i].Share.Rat(), cc.Surplus.Rat())
				diff := new(big.Rat).Sub(s.Amount.Rat(), exact)
				if s.Party != c.Shares[i].Party || diff.Abs(diff).Cmp(big.NewRat(1, 100)) >= 0 {
					g.fatalf("share %+v, exact %s", s, exact.FloatString(6))
				}
				sum = sum.Add(decM(s.Amount))
			}
			if !decM(cc.Surplus).Equal(K.Sub(A)) || !sum.Equal(decM(cc.Surplus)) || len(cc.Shares) != len(c.Shares) ||
				!cc.Deficit.IsZero() || !cc.FundCovers.IsZero() || !cc.ContractBears.IsZero() {
				g.fatalf("surplus %s shared as %v adding up to %s: %s", K.Sub(A), cc.Shares, sum, renderRun(r))
			}
		} else {
			D := A.Sub(K)
			fund := decR(c.OverspendShare).Mul(decimal.Min(D, decR(c.OverspendTolerance).Mul(K))).Round(2)
			if !decM(cc.Deficit).Equal(D) || !decM(cc.FundCovers).Equal(fund) || !decM(cc.FundCovers.Add(cc.ContractBears)).Equal(D) ||
				len(cc.Shares) != 0 || !cc.Surplus.IsZero() {
				g.fatalf("deficit %s, fund %s: %s", D, fund, renderRun(r))
			}
		}
		if !decM(r.PaidTotal).Equal(K.Add(decM(cc.FundCovers))) {
			g.fatalf("paid total %s, K + fund_covers %s", r.PaidTotal, K.Add(decM(cc.FundCovers)))
		}
		if a, b := renderRun(r), renderRun(run(shuffled(g, cases))); a != b {
			g.fatalf("shuffled cases give another clearing:\n%s\n%s", a, b)
		}
	}
}

// TestPropertyBudgetClearer: C is the sum of an institution's cases, each
// line is ClearBudget's, the summary adds up, and the order of the cases
// does not matter.
func TestPropertyBudgetClearer(t *testing.T) {
	g := newGen(t)
	for range 200 {
		bc := &engine.BudgetClearing{SurplusRetention: g.ratio(), MinUtilization: g.ratio(), OverspendShare: g.ratio(), OverspendTolerance: g.ratio()}
		var insts []engine.Institution
		for i := range 1 + g.intn(8) {
			in := engine.Institution{ID: fmt.Sprintf("H%d", i)}
			if g.chance(0.8) {
				in.Budgets = []engine.Budget{{Year: 2026, Amount: g.money(9)}}
			}
			insts = append(insts, in)
		}
		var cases []engine.ClearingCase
		claimed := map[string]engine.Money{}
		count := map[string]int64{}
		for i := range g.intn(100) {
			in := insts[g.intn(len(insts))]
			if len(in.Budgets) == 0 {
				continue
			}
			k := kase(fmt.Sprint(i), in.ID, 1, "", "0", "0", g.money(8).String())
			cases = append(cases, k)
			claimed[in.ID] = claimed[in.ID].Add(k.BasicFund)
			count[in.ID]++
		}
		run := func(cases []engine.ClearingCase) engine.ClearingRun {
			cl := engine.NewBudgetClearer(bc, 2026)
			if err := cl.Begin(engine.RunInputs{Institutions: insts}); err != nil {
				g.fatalf("Begin: %v", err)
			}
			for _, k := range cases {
				if _, err := cl.Add(k); err != nil {
					g.fatalf("Add: %v", err)
				}
			}
			r, err := cl.Finish()
			if err != nil {
				g.fatalf("Finish: %v", err)
			}
			return r
		}
		r := run(cases)
		var lines []string
		var sumG, sumPaid engine.Money
		for _, in := range insts {
			if len(in.Budgets) == 0 {
				continue
			}
			want := engine.ClearBudget(bc, in.ID, in.Budgets[0].Amount, claimed[in.ID])
			checkClearBudget(g, bc, want)
			lines = append(lines, fmt.Sprintf("%s %d %s %s %s %s %s", in.ID, count[in.ID], want.Budget, want.Claimed, want.Retained, want.Shared, want.Paid))
			sumG, sumPaid = sumG.Add(want.Budget), sumPaid.Add(want.Paid)
		}
		var got []string
		for _, l := range r.Institutions {
			got = append(got, fmt.Sprintf("%s %d %s %s %s %s %s", l.InstitutionID, l.Cases, l.Budget, l.Claimed, l.Retained, l.Shared, l.Paid))
		}
		if strings.Join(got, "\n") != strings.Join(lines, "\n") || !r.Budget.Equal(sumG) || !r.PaidTotal.Equal(sumPaid) || r.Settlements != int64(len(cases)) {
			g.fatalf("run\n%s\nwant lines\n%s\nΣG %s Σpaid %s", renderRun(r), strings.Join(lines, "\n"), sumG, sumPaid)
		}
		if a, b := renderRun(r), renderRun(run(shuffled(g, cases))); a != b {
			g.fatalf("shuffled cases give another clearing:\n%s\n%s", a, b)
		}
	}
}

// checkClearBudget compares a ClearBudget result with CLEARING.md's rules
// computed by the oracle (shopspring/decimal), comparisons exact.
func checkClearBudget(g *gen, bc *engine.BudgetClearing, r engine.BudgetClearingResult) {
	G, C := decM(r.Budget), decM(r.Claimed)
	retained, shared := decimal.Zero, decimal.Zero
	paid := C
	if C.LessThanOrEqual(G) {
		if C.GreaterThanOrEqual(decR(bc.MinUtilization).Mul(G)) {
			retained = decR(bc.SurplusRetention).Mul(G.Sub(C)).Round(2)
		}
		paid = C.Add(retained)
	} else {
		shared = decR(bc.OverspendShare).Mul(decimal.Min(C.Sub(G), decR(bc.OverspendTolerance).Mul(G))).Round(2)
		paid = G.Add(shared)
	}
	if !decM(r.Retained).Equal(retained) || !decM(r.Shared).Equal(shared) || !decM(r.Paid).Equal(paid) {
		g.fatalf("ClearBudget(G %s, C %s, %+v) = %+v; the rules say retained %s shared %s paid %s", G, C, *bc, r, retained, shared, paid)
	}
}
