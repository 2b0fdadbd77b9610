package engine_test

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/medsettle/medsettle/engine"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func dp(s string) *decimal.Decimal { v := d(s); return &v }

// clearingDRG is a DRG section in the shape of CLEARING.md's published
// rules: thresholds 3×, 2×, 1.5× by base points up to 100, 300 and above,
// low-cost at 0.4×, 5 % reserve.
func clearingDRG(basis engine.PointValueBasis) *engine.DRG {
	return &engine.DRG{
		Groups: []engine.DRGGroup{
			{Code: "G1", BasePoints: d("100"), AverageCost: d("10000")},
			{Code: "G2", BasePoints: d("300"), AverageCost: d("30000")},
		},
		Coefficients: []engine.DRGCoefficient{
			{Level: 2, Coefficient: d("0.9")},
			{InstitutionID: "H-A", Coefficient: d("1.1")},
			{Level: 3, Coefficient: d("1.05")}, // H-A's own row wins over its level's
		},
		HighThresholds: []engine.DRGHighThreshold{
			{UpToPoints: dp("100"), Ratio: d("3")},
			{UpToPoints: dp("300"), Ratio: d("2")},
			{Ratio: d("1.5")},
		},
		LowRatio:        d("0.4"),
		ReserveRatio:    d("0.05"),
		PointValueBasis: basis,
	}
}

func drgCases() []engine.DRGCase {
	c := func(id, inst string, level int, code, total, personal, basic string) engine.DRGCase {
		return engine.DRGCase{SettlementID: id, InstitutionID: inst, Level: level, DRGCode: code,
			Total: d(total), PersonalTotal: d(personal), BasicFund: d(basic)}
	}
	return []engine.DRGCase{
		c("S1", "H-A", 3, "G1", "12000.00", "2000.00", "10000.00"),  // r 1.2: normal, 100 × 1.1 = 110
		c("S2", "H-A", 3, "G1", "35000.00", "5000.00", "30000.00"),  // r 3.5 > 3: 110 + 100 × 0.5 = 160
		c("S3", "H-B", 2, "G2", "9000.00", "1000.00", "8000.00"),    // r 0.3 ≤ 0.4: 300 × 0.3 = 90
		c("S4", "H-B", 2, "G2", "30001.00", "6000.00", "24001.00"),  // r 1.0000: 300 × 0.9 = 270
		c("S5", "H-C", 1, "G2", "70000.00", "10000.00", "60000.00"), // r 2.3333 > 2: 300 + 300 × 0.3333 = 399.99
		c("S6", "H-C", 1, "", "5000.00", "1000.00", "4000.00"),      // no DRG code: ungrouped
		c("S7", "H-A", 3, "ZZ", "5000.00", "1000.00", "4000.00"),    // not a group: ungrouped
	}
}

// TestClearDRG checks every figure of a DRG clearing against values worked
// out by hand from CLEARING.md (with exact fractions for the payments).
func TestClearDRG(t *testing.T) {
	res, err := engine.ClearDRG(clearingDRG(engine.PointValueFundPlusPersonal), d("1000000.00"), drgCases())
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprintf("B=%s P=%s T=%s V=%s ungrouped=%d/%s", res.Budget.StringFixed(2), res.Personal.StringFixed(2),
		res.TotalPoints, res.PointValue, res.Ungrouped, res.UngroupedBasicFund.StringFixed(2))
	if want := "B=950000.00 P=24000.00 T=1029.99 V=945.640249 ungrouped=2/8000.00"; got != want {
		t.Errorf("totals\n got %s\nwant %s", got, want)
	}
	var cases []string
	for _, in := range res.Institutions {
		for _, c := range in.Cases {
			cases = append(cases, fmt.Sprintf("%s:%s:k%s:r%s:kind%d:%s", c.SettlementID, c.InstitutionID, c.Coefficient, c.Ratio, c.Kind, c.Points))
		}
	}
	want := []string{
		"S1:H-A:k1.1:r1.2:kind1:110", "S2:H-A:k1.1:r3.5:kind2:160",
		"S3:H-B:k0.9:r0.3:kind3:90", "S4:H-B:k0.9:r1:kind1:270",
		"S5:H-C:k1:r2.3333:kind2:399.99",
	}
	if strings.Join(cases, " ") != strings.Join(want, " ") {
		t.Errorf("cases\n got %v\nwant %v", cases, want)
	}
	// Exact payments 248322.7212…, 333429.9616…, 368246.3171…: floors
	// leave 2 fen, which go to the largest remainders (H-B, then H-A).
	var pays []string
	for _, in := range res.Institutions {
		pays = append(pays, fmt.Sprintf("%s points=%s P=%s paid=%s basic=%s diff=%s", in.InstitutionID, in.Points,
			in.PersonalTotal.StringFixed(2), in.Payment.StringFixed(2), in.BasicFund.StringFixed(2), in.Difference.StringFixed(2)))
	}
	wantPays := []string{
		"H-A points=270 P=7000.00 paid=248322.87 basic=40000.00 diff=208322.87",
		"H-B points=360 P=7000.00 paid=333430.49 basic=32001.00 diff=301429.49",
		"H-C points=399.99 P=10000.00 paid=368246.64 basic=60000.00 diff=308246.64",
	}
	if strings.Join(pays, "\n") != strings.Join(wantPays, "\n") {
		t.Errorf("payments\n got %s\nwant %s", strings.Join(pays, "\n"), strings.Join(wantPays, "\n"))
	}

	// FUND_ONLY: P = 0 and each institution gets p_h × B / T.
	res, err = engine.ClearDRG(clearingDRG(engine.PointValueFundOnly), d("1000000.00"), drgCases())
	if err != nil {
		t.Fatal(err)
	}
	sum := decimal.Zero
	for _, in := range res.Institutions {
		if !in.PersonalTotal.IsZero() {
			t.Errorf("FUND_ONLY counted %s's personal total", in.InstitutionID)
		}
		exact := in.Points.Mul(d("950000")).Div(res.TotalPoints)
		if in.Payment.Sub(exact).Abs().GreaterThanOrEqual(d("0.01")) {
			t.Errorf("FUND_ONLY %s paid %s, exact %s", in.InstitutionID, in.Payment, exact)
		}
		sum = sum.Add(in.Payment)
	}
	if !res.Personal.IsZero() || !sum.Equal(d("950000")) || res.PointValue.String() != "922.339052" {
		t.Errorf("FUND_ONLY: P=%s, payments add up to %s, V=%s", res.Personal, sum, res.PointValue)
	}

	// No grouped case: nothing is paid by points.
	res, err = engine.ClearDRG(clearingDRG(engine.PointValueFundPlusPersonal), d("1000.00"), drgCases()[5:])
	if err != nil || len(res.Institutions) != 0 || !res.PointValue.IsZero() || res.Ungrouped != 2 {
		t.Errorf("ungrouped only: %+v, %v", res, err)
	}
	// A budget that is not money is refused.
	for _, b := range []string{"-1.00", "1.001"} {
		if _, err := engine.ClearDRG(clearingDRG(engine.PointValueFundOnly), d(b), drgCases()); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("budget %s: %v", b, err)
		}
	}
}

// TestClearDRGPaysTheBudgetExactly: for random cases and budgets, the
// payments add up to B to the fen and none is more than a fen from its
// exact value.
func TestClearDRGPaysTheBudgetExactly(t *testing.T) {
	g := newGen(t)
	for range 200 {
		var cases []engine.DRGCase
		for i := range 1 + g.intn(40) {
			code := []string{"G1", "G2", "", "ZZ"}[g.intn(4)]
			total := decimal.New(int64(100+g.intn(10_000_000)), -2)
			personal := decimal.New(int64(g.intn(int(total.Mul(d("100")).IntPart())+1)), -2)
			cases = append(cases, engine.DRGCase{
				SettlementID: fmt.Sprintf("S%d", i), InstitutionID: fmt.Sprintf("H%d", g.intn(7)), Level: 1 + g.intn(3),
				DRGCode: code, Total: total, PersonalTotal: personal, BasicFund: total.Sub(personal),
			})
		}
		basis := []engine.PointValueBasis{engine.PointValueFundPlusPersonal, engine.PointValueFundOnly}[g.intn(2)]
		budget := decimal.New(int64(g.intn(1_000_000_000)), -2)
		res, err := engine.ClearDRG(clearingDRG(basis), budget, cases)
		if err != nil {
			g.fatalf("ClearDRG: %v", err)
		}
		if res.TotalPoints.IsZero() {
			continue
		}
		v := new(big.Rat).Quo(res.Budget.Add(res.Personal).Rat(), res.TotalPoints.Rat())
		sum := decimal.Zero
		for _, in := range res.Institutions {
			exact := new(big.Rat).Sub(new(big.Rat).Mul(in.Points.Rat(), v), in.PersonalTotal.Rat())
			diff := new(big.Rat).Sub(in.Payment.Rat(), exact)
			if diff.Abs(diff).Cmp(big.NewRat(1, 100)) >= 0 {
				g.fatalf("%s paid %s, exact %s", in.InstitutionID, in.Payment, exact.FloatString(6))
			}
			sum = sum.Add(in.Payment)
		}
		if !sum.Equal(res.Budget) {
			g.fatalf("payments add up to %s, B = %s", sum, res.Budget)
		}
	}
}

func TestClearBudget(t *testing.T) {
	bc := &engine.BudgetClearing{SurplusRetention: d("0.5"), MinUtilization: d("0.85"), OverspendShare: d("0.6"), OverspendTolerance: d("0.1")}
	for _, tc := range []struct{ claimed, retained, shared, paid string }{
		{"90000.00", "5000.00", "0.00", "95000.00"},   // used ≥ 85 %: half the surplus kept
		{"85000.00", "7500.00", "0.00", "92500.00"},   // exactly at the minimum utilization
		{"84999.99", "0.00", "0.00", "84999.99"},      // below it: the claim only
		{"99999.99", "0.01", "0.00", "100000.00"},     // 0.005 rounds half away from zero
		{"100000.00", "0.00", "0.00", "100000.00"},    // on budget
		{"105000.00", "0.00", "3000.00", "103000.00"}, // 60 % of a 5,000 overspend
		{"130000.00", "0.00", "6000.00", "106000.00"}, // overspend counted up to 10 % of G
		{"110000.01", "0.00", "6000.00", "106000.00"}, // just over the tolerance
	} {
		r := engine.ClearBudget(bc, "H", d("100000.00"), d(tc.claimed))
		got := fmt.Sprintf("%s/%s/%s", r.Retained.StringFixed(2), r.Shared.StringFixed(2), r.Paid.StringFixed(2))
		if want := tc.retained + "/" + tc.shared + "/" + tc.paid; got != want {
			t.Errorf("claimed %s: retained/shared/paid %s, want %s", tc.claimed, got, want)
		}
	}
}

func TestClearCapitation(t *testing.T) {
	c := &engine.CapitationContract{
		ContractID: "CAP-1", InstitutionID: "COUNTY", Year: 2026, Members: []string{"P1", "P2", "P3"},
		Rate: d("3700"), VisitTypes: []engine.VisitType{engine.VisitInpatient},
		Shares:         []engine.CapitationShare{{Party: "township", Share: d("0.4")}, {Party: "county", Share: d("0.4")}, {Party: "village", Share: d("0.2")}},
		OverspendShare: d("0.6"), OverspendTolerance: d("0.1"),
	}
	if err := engine.ValidateContract(c); err != nil {
		t.Fatal(err)
	}
	show := func(r engine.CapitationResult) string {
		var parts []string
		for _, s := range r.PartyShares {
			parts = append(parts, s.Party+"="+s.Share.StringFixed(2))
		}
		return fmt.Sprintf("K=%s surplus=%s [%s] deficit=%s fund=%s contract=%s", r.Budget.StringFixed(2), r.Surplus.StringFixed(2),
			strings.Join(parts, " "), r.Deficit.StringFixed(2), r.FundCovers.StringFixed(2), r.ContractBears.StringFixed(2))
	}
	for _, tc := range []struct{ actual, want string }{
		{"9000.00", "K=11100.00 surplus=2100.00 [township=840.00 county=840.00 village=420.00] deficit=0.00 fund=0.00 contract=0.00"},
		// One fen left over: 0.004, 0.004, 0.002 all floor to 0; the fen
		// goes to the largest remainder, county before township by name.
		{"11099.99", "K=11100.00 surplus=0.01 [township=0.00 county=0.01 village=0.00] deficit=0.00 fund=0.00 contract=0.00"},
		{"11099.95", "K=11100.00 surplus=0.05 [township=0.02 county=0.02 village=0.01] deficit=0.00 fund=0.00 contract=0.00"},
		// Deficit 1,900: the fund covers 60 % of at most 10 % of K (1,110).
		{"13000.00", "K=11100.00 surplus=0.00 [] deficit=1900.00 fund=666.00 contract=1234.00"},
		{"11600.00", "K=11100.00 surplus=0.00 [] deficit=500.00 fund=300.00 contract=200.00"},
	} {
		r, err := engine.ClearCapitation(c, d(tc.actual))
		if err != nil {
			t.Fatal(err)
		}
		if got := show(r); got != tc.want {
			t.Errorf("actual %s:\n got %s\nwant %s", tc.actual, got, tc.want)
		}
	}
	bad := *c
	bad.Shares = []engine.CapitationShare{{Party: "county", Share: d("0.5")}, {Party: "county", Share: d("0.4")}}
	bad.Members = []string{"P1", "P1"}
	bad.Year = 0
	bad.VisitTypes = nil
	err := engine.ValidateContract(&bad)
	for _, field := range []string{"contract.shares:", "contract.shares[1].party", "contract.members[1]", "contract.year", "contract.visit_types"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("bad contract: %v, want a violation of %s", err, field)
		}
	}
}

// TestAllocateFen: the amounts add up to the total exactly, each within a
// fen of its exact share, and a share that is not exact to the fen is
// refused.
func TestAllocateFen(t *testing.T) {
	g := newGen(t)
	for range 500 {
		n := 1 + g.intn(9)
		total := decimal.New(int64(g.intn(10_000_000))-1_000, -2)
		weights := make([]int64, n)
		var sum int64
		for i := range weights {
			weights[i] = int64(1 + g.intn(1000))
			sum += weights[i]
		}
		shares := make([]engine.Share, n)
		for i, w := range weights {
			shares[i] = engine.Share{Key: fmt.Sprintf("k%d", g.intn(3)), Exact: new(big.Rat).Mul(total.Rat(), big.NewRat(w, sum))}
		}
		got, err := engine.AllocateFen(total, shares)
		if err != nil {
			g.fatalf("AllocateFen(%s): %v", total, err)
		}
		acc := decimal.Zero
		for i, a := range got {
			diff := new(big.Rat).Sub(a.Rat(), shares[i].Exact)
			if diff.Abs(diff).Cmp(big.NewRat(1, 100)) >= 0 {
				g.fatalf("share %d: %s for exact %s (off by %s)", i, a, shares[i].Exact.FloatString(6), diff.FloatString(6))
			}
			acc = acc.Add(a)
		}
		if !acc.Equal(total) {
			g.fatalf("amounts add up to %s, total %s", acc, total)
		}
	}
	if _, err := engine.AllocateFen(d("1.00"), []engine.Share{{Key: "a", Exact: big.NewRat(1, 3)}}); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("shares not adding up: %v", err)
	}
	if _, err := engine.AllocateFen(d("1.001"), []engine.Share{{Key: "a", Exact: big.NewRat(1001, 1000)}}); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("total finer than a fen: %v", err)
	}
}
