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

// d is a decimal for the oracle (shopspring/decimal); mon, rat and pts
// are the engine's fixed-point figures.
func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func mon(s string) engine.Money { return engine.MustMoney(s) }

func rat(s string) engine.Ratio { return engine.MustRatio(s) }

func pts(s string) engine.Points { return engine.MustPoints(s) }

func ptsp(s string) *engine.Points { v := pts(s); return &v }

// fixed4 renders a ratio with exactly four decimals, as the API does.
func fixed4(r engine.Ratio) string { return decimal.New(r.Scaled(), -4).StringFixed(4) }

// publishedThresholds are CLEARING.md's published high-cost thresholds:
// 3×, 2×, 1.5× by base points up to 100, 300 and above.
func publishedThresholds() []engine.DRGHighThreshold {
	return []engine.DRGHighThreshold{
		{UpToPoints: ptsp("100"), Ratio: rat("3")},
		{UpToPoints: ptsp("300"), Ratio: rat("2")},
		{Ratio: rat("1.5")},
	}
}

// exampleDRG is the policy of CLEARING-EXAMPLES.md: groups G1 (100,
// 10,000), G2 (250, 25,000), G3 (400, 40,000); level 3 → 1.1,
// institution H2 → 0.95; low ratio 0.4, reserve 0.05.
func exampleDRG(basis engine.PointValueBasis) *engine.DRG {
	return &engine.DRG{
		Groups: []engine.DRGGroup{
			{Code: "G1", BasePoints: pts("100"), AverageCost: mon("10000")},
			{Code: "G2", BasePoints: pts("250"), AverageCost: mon("25000")},
			{Code: "G3", BasePoints: pts("400"), AverageCost: mon("40000")},
		},
		Coefficients: []engine.DRGCoefficient{
			{Level: 3, Coefficient: rat("1.1")},
			{InstitutionID: "H2", Coefficient: rat("0.95")},
		},
		HighThresholds:  publishedThresholds(),
		LowRatio:        rat("0.4"),
		ReserveRatio:    rat("0.05"),
		PointValueBasis: basis,
	}
}

// kase is a settlement as a clearing run reads it.
func kase(id, inst string, level int, code, total, personal, basic string) engine.ClearingCase {
	return engine.ClearingCase{
		SettlementID: id, RequestID: "R-" + id, InstitutionID: inst, Level: level,
		VisitType: engine.VisitInpatient, SettleDate: engine.Date{Year: 2026, Month: 3, Day: 9},
		DRGCode: code, Total: mon(total), PersonalTotal: mon(personal), BasicFund: mon(basic),
	}
}

// exampleCases are CLEARING-EXAMPLES.md's five cases (H1 level 3, H2
// level 2).
func exampleCases() []engine.ClearingCase {
	return []engine.ClearingCase{
		kase("1", "H1", 3, "G1", "12000.00", "3000.00", "9000.00"),
		kase("2", "H1", 3, "G1", "35000.00", "8000.00", "27000.00"),
		kase("3", "H1", 3, "G2", "8000.00", "2000.00", "6000.00"),
		kase("4", "H2", 2, "G3", "70000.00", "15000.00", "55000.00"),
		kase("5", "H2", 2, "", "5000.00", "1000.00", "4000.00"),
	}
}

// runDRG clears cases through a DRG Clearer, failing the test on an
// error; lines are the case lines by settlement id.
func runDRG(t *testing.T, d *engine.DRG, budget string, cases []engine.ClearingCase) (engine.ClearingRun, map[string]engine.CaseLine) {
	t.Helper()
	cl, err := engine.NewDRGClearer(d, mon(budget))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Begin(engine.RunInputs{}); err != nil {
		t.Fatal(err)
	}
	lines := map[string]engine.CaseLine{}
	for _, c := range cases {
		line, err := cl.Add(c)
		if err != nil {
			t.Fatalf("Add(%s): %v", c.SettlementID, err)
		}
		if line != nil {
			lines[line.SettlementID] = *line
		}
	}
	run, err := cl.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return run, lines
}

// showCase renders a case line's scoring.
func showCase(l engine.CaseLine) string {
	kind := map[engine.CostKind]string{engine.CostNormal: "normal", engine.CostHigh: "high", engine.CostLow: "low"}[l.Kind]
	return fmt.Sprintf("%s %s %s r=%s %s points=%s", l.SettlementID, l.InstitutionID, l.DRGCode,
		fixed4(l.Ratio), kind, l.Points.StringFixed())
}

// showSummary renders a run's summary as the API formats it.
func showSummary(r engine.ClearingRun) string {
	return fmt.Sprintf("kind=%s settlements=%d ungrouped=%d ungrouped_basic_fund=%s budget=%s personal_total=%s total_points=%s point_value=%s paid_total=%s",
		r.Kind, r.Settlements, r.Ungrouped, r.UngroupedBasicFund.String(), r.Budget.String(),
		r.PersonalTotal.String(), r.TotalPoints.StringFixed(), r.PointValue.StringFixed(), r.PaidTotal.String())
}

// showDRGLine renders a DRG institution line.
func showDRGLine(l engine.ClearingLine) string {
	return fmt.Sprintf("%s cases=%d points=%s personal=%s basic=%s payment=%s difference=%s", l.InstitutionID, l.Cases,
		l.Points.StringFixed(), l.PersonalTotal.String(), l.BasicFund.String(), l.Payment.String(), l.Difference.String())
}

func checkLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s\n got %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

// TestDRGClearingExample checks every figure of CLEARING-EXAMPLES.md's
// DRG example.
func TestDRGClearingExample(t *testing.T) {
	run, lines := runDRG(t, exampleDRG(engine.PointValueFundPlusPersonal), "100000.00", exampleCases())

	var got []string
	for _, id := range []string{"1", "2", "3", "4"} {
		got = append(got, showCase(lines[id]))
	}
	checkLines(t, "cases", got,
		"1 H1 G1 r=1.2000 normal points=110.0000", // 12,000 / 10,000 = 1.2 ≤ H 3: 100 × 1.1 (level 3)
		"2 H1 G1 r=3.5000 high points=160.0000",   // 35,000 / 10,000 = 3.5 > H 3 (base 100 ≤ 100): 110 + 100 × (3.5 − 3)
		"3 H1 G2 r=0.3200 low points=80.0000",     // 8,000 / 25,000 = 0.32 ≤ L 0.4: 250 × 0.32
		"4 H2 G3 r=1.7500 high points=480.0000",   // 70,000 / 40,000 = 1.75 > H 1.5 (base 400 > 300): 400 × 0.95 (H2's own) + 400 × 0.25
	)
	if _, ok := lines["5"]; ok || len(lines) != 4 {
		t.Errorf("the ungrouped case 5 got a case line: %v", lines)
	}
	l := lines["2"]
	if l.RequestID != "R-2" || l.SettleDate != (engine.Date{Year: 2026, Month: 3, Day: 9}) || l.Total.String() != "35000.00" ||
		l.PersonalTotal.String() != "8000.00" || l.BasicFund.String() != "27000.00" {
		t.Errorf("case line 2 does not copy the case: %+v", l)
	}

	// B = round(100,000 × (1 − 0.05)) = 95,000.00; P = 3,000 + 8,000 +
	// 2,000 + 15,000 = 28,000 (case 5 is ungrouped); T = 110 + 160 + 80 +
	// 480 = 830; V = (95,000 + 28,000) / 830 = 148.1927710843… → 148.192771.
	// Settlements 4 grouped + 1 ungrouped; paid total = Σ payments = B.
	if got, want := showSummary(run),
		"kind=CLEARING_KIND_DRG settlements=5 ungrouped=1 ungrouped_basic_fund=4000.00 budget=95000.00 personal_total=28000.00 total_points=830.0000 point_value=148.192771 paid_total=95000.00"; got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
	got = nil
	for _, l := range run.Institutions {
		got = append(got, showDRGLine(l))
	}
	checkLines(t, "institutions", got,
		// H1: 350 × V − 13,000 = 38,867.4698…; H2: 480 × V − 15,000 =
		// 56,132.5301…. Floors 38,867.46 + 56,132.53 = 94,999.99 leave
		// 0.01; H1's remainder 0.0098 beats H2's 0.0001: H1 38,867.47.
		// Differences: 38,867.47 − (9,000 + 27,000 + 6,000) = −3,132.53
		// (超支); 56,132.53 − 55,000 = 1,132.53 (结余).
		"H1 cases=3 points=350.0000 personal=13000.00 basic=42000.00 payment=38867.47 difference=-3132.53",
		"H2 cases=1 points=480.0000 personal=15000.00 basic=55000.00 payment=56132.53 difference=1132.53",
	)
	if run.RunID != "" || run.Final || run.Region != "" || run.Year != 0 || run.Capitation != nil {
		t.Errorf("Finish filled what is the store's: %+v", run)
	}
}

// TestDRGFundOnly: under FUND_ONLY, P and every P_h are 0 and V = B / T.
func TestDRGFundOnly(t *testing.T) {
	run, _ := runDRG(t, exampleDRG(engine.PointValueFundOnly), "100000.00", exampleCases())
	// V = 95,000 / 830 = 114.4578313…; H1 350 × V = 40,060.2409…, H2 480 ×
	// V = 54,939.7590…: floors 40,060.24 + 54,939.75 leave 0.01, which
	// goes to H2 (remainder 0.0090 against H1's 0.0009).
	if got, want := showSummary(run),
		"kind=CLEARING_KIND_DRG settlements=5 ungrouped=1 ungrouped_basic_fund=4000.00 budget=95000.00 personal_total=0.00 total_points=830.0000 point_value=114.457831 paid_total=95000.00"; got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
	var got []string
	for _, l := range run.Institutions {
		got = append(got, showDRGLine(l))
	}
	checkLines(t, "institutions", got,
		"H1 cases=3 points=350.0000 personal=0.00 basic=42000.00 payment=40060.24 difference=-1939.76",
		"H2 cases=1 points=480.0000 personal=0.00 basic=55000.00 payment=54939.76 difference=-60.24",
	)
}

// TestDRGBoundaries: r = H is not high-cost, r = L is low-cost, and r is
// rounded half away from zero before it is compared.
func TestDRGBoundaries(t *testing.T) {
	_, lines := runDRG(t, exampleDRG(engine.PointValueFundPlusPersonal), "1000.00", []engine.ClearingCase{
		kase("atH", "H1", 3, "G1", "30000.00", "0", "30000.00"),        // r = 3.0000 = H: normal, 100 × 1.1
		kase("H+half", "H1", 3, "G1", "30000.50", "0", "30000.50"),     // 3.00005 → 3.0001 > H: 110 + 100 × 0.0001
		kase("H+less", "H1", 3, "G1", "30000.49", "0", "30000.49"),     // 3.000049 → 3.0000: normal
		kase("atL", "H1", 3, "G1", "4000.00", "0", "4000.00"),          // r = 0.4000 = L: low, 100 × 0.4
		kase("L+half", "H1", 3, "G1", "4000.50", "0", "4000.50"),       // 0.40005 → 0.4001 > L: normal
		kase("L+less", "H1", 3, "G1", "4000.49", "0", "4000.49"),       // 0.400049 → 0.4000: low
		kase("G2atH", "H2", 2, "G2", "50000.00", "0", "50000.00"),      // G2 base 250 ≤ 300: H = 2, r = 2: normal, 250 × 0.95
		kase("G2overH", "H2", 2, "G2", "50001.25", "0", "50001.25"),    // r = 2.00005 → 2.0001: 237.5 + 250 × 0.0001 = 237.525
		kase("G3low", "H2", 2, "G3", "333.33", "0", "333.33"),          // r = 0.00833325 → 0.0083: 400 × 0.0083 = 3.32
		kase("zero", "H2", 2, "G3", "0.00", "0", "0.00"),               // r = 0: low, 0 points
		kase("G1lowfrac", "H1", 3, "G1", "1234.56", "0", "1234.56"),    // r = 0.123456 → 0.1235: 12.35
		kase("G1hi", "H1", 3, "G1", "99999999.99", "0", "99999999.99"), // r = 9999.999999 → 10000: 110 + 100 × 9997
	})
	var got []string
	for _, id := range []string{"atH", "H+half", "H+less", "atL", "L+half", "L+less", "G2atH", "G2overH", "G3low", "zero", "G1lowfrac", "G1hi"} {
		got = append(got, showCase(lines[id]))
	}
	checkLines(t, "boundaries", got,
		"atH H1 G1 r=3.0000 normal points=110.0000",
		"H+half H1 G1 r=3.0001 high points=110.0100",
		"H+less H1 G1 r=3.0000 normal points=110.0000",
		"atL H1 G1 r=0.4000 low points=40.0000",
		"L+half H1 G1 r=0.4001 normal points=110.0000",
		"L+less H1 G1 r=0.4000 low points=40.0000",
		"G2atH H2 G2 r=2.0000 normal points=237.5000",
		"G2overH H2 G2 r=2.0001 high points=237.5250",
		"G3low H2 G3 r=0.0083 low points=3.3200",
		"zero H2 G3 r=0.0000 low points=0.0000",
		"G1lowfrac H1 G1 r=0.1235 low points=12.3500",
		"G1hi H1 G1 r=10000.0000 high points=999810.0000",
	)

	// Without a low ratio (0) no case is low-cost, not even one of cost
	// 0; without threshold rows no case is high-cost.
	pol := exampleDRG(engine.PointValueFundPlusPersonal)
	pol.LowRatio, pol.HighThresholds = engine.Ratio{}, nil
	_, lines = runDRG(t, pol, "1000.00", []engine.ClearingCase{
		kase("zero", "H1", 3, "G1", "0.00", "0", "0.00"),
		kase("huge", "H1", 3, "G1", "1000000.00", "0", "1000000.00"),
	})
	checkLines(t, "no low ratio, no thresholds", []string{showCase(lines["zero"]), showCase(lines["huge"])},
		"zero H1 G1 r=0.0000 normal points=110.0000",
		"huge H1 G1 r=100.0000 normal points=110.0000",
	)

	// Points are rounded to 4 decimals, half away from zero: base 33.3333
	// × 1.05 = 34.999965 → 35.0000; low 33.3333 × 0.1235 = 4.11666255 →
	// 4.1167; high 33.3333 × (1.05 + 5.1 − 5) = 38.333295 → 38.3333.
	pol = &engine.DRG{
		Groups:         []engine.DRGGroup{{Code: "F", BasePoints: pts("33.3333"), AverageCost: mon("1000.00")}},
		Coefficients:   []engine.DRGCoefficient{{Level: 1, Coefficient: rat("1.05")}},
		HighThresholds: []engine.DRGHighThreshold{{Ratio: rat("5")}},
		LowRatio:       rat("0.2"),
	}
	_, lines = runDRG(t, pol, "1000.00", []engine.ClearingCase{
		kase("n", "X", 1, "F", "1000.00", "0", "0"),
		kase("l", "X", 1, "F", "123.45", "0", "0"),
		kase("h", "X", 1, "F", "5100.00", "0", "0"),
	})
	checkLines(t, "points rounding", []string{showCase(lines["n"]), showCase(lines["l"]), showCase(lines["h"])},
		"n X F r=1.0000 normal points=35.0000",
		"l X F r=0.1235 low points=4.1167",
		"h X F r=5.1000 high points=38.3333",
	)
}

// TestDRGCoefficients: an institution's own coefficient wins over its
// level's, which wins over 1; of two rows for one institution or one
// level, the first counts (as the first high_thresholds row that applies
// does).
func TestDRGCoefficients(t *testing.T) {
	pol := exampleDRG(engine.PointValueFundPlusPersonal)
	pol.Coefficients = append(pol.Coefficients,
		engine.DRGCoefficient{Level: 2, Coefficient: rat("0.9")},
		engine.DRGCoefficient{Level: 2, Coefficient: rat("0.7")},            // level 2 again: not read
		engine.DRGCoefficient{InstitutionID: "H2", Coefficient: rat("0.5")}, // H2 again: not read
		engine.DRGCoefficient{Level: 3, Coefficient: rat("1.3")})            // level 3 again: not read
	_, lines := runDRG(t, pol, "1000.00", []engine.ClearingCase{
		kase("own", "H2", 3, "G1", "10000.00", "0", "0"),    // H2's row 0.95, though level 3 has 1.1
		kase("level3", "H1", 3, "G1", "10000.00", "0", "0"), // level 3: 1.1
		kase("level2", "H4", 2, "G1", "10000.00", "0", "0"), // level 2: 0.9
		kase("none", "H5", 1, "G1", "10000.00", "0", "0"),   // level 1 has no row: 1
		kase("high", "H2", 3, "G1", "40000.00", "0", "0"),   // r 4 > 3: 100 × 0.95 + 100 × 1
	})
	var got []string
	for _, id := range []string{"own", "level3", "level2", "none", "high"} {
		got = append(got, showCase(lines[id]))
	}
	checkLines(t, "coefficients", got,
		"own H2 G1 r=1.0000 normal points=95.0000",
		"level3 H1 G1 r=1.0000 normal points=110.0000",
		"level2 H4 G1 r=1.0000 normal points=90.0000",
		"none H5 G1 r=1.0000 normal points=100.0000",
		"high H2 G1 r=4.0000 high points=195.0000",
	)
}

// TestDRGNoGroupedCase: with T = 0 the run succeeds with no lines, point
// value, total points and paid total 0, and still reports B and counts.
func TestDRGNoGroupedCase(t *testing.T) {
	run, lines := runDRG(t, exampleDRG(engine.PointValueFundPlusPersonal), "1000.00", []engine.ClearingCase{
		kase("a", "H1", 3, "", "500.00", "100.00", "400.00"),
		kase("b", "H2", 2, "NOT-A-GROUP", "300.00", "0.00", "300.00"),
	})
	if got, want := showSummary(run),
		"kind=CLEARING_KIND_DRG settlements=2 ungrouped=2 ungrouped_basic_fund=700.00 budget=950.00 personal_total=0.00 total_points=0.0000 point_value=0.000000 paid_total=0.00"; got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
	if len(run.Institutions) != 0 || len(lines) != 0 {
		t.Errorf("lines without a grouped case: %+v %+v", run.Institutions, lines)
	}
	run, _ = runDRG(t, exampleDRG(engine.PointValueFundPlusPersonal), "0.00", nil)
	if got, want := showSummary(run),
		"kind=CLEARING_KIND_DRG settlements=0 ungrouped=0 ungrouped_basic_fund=0.00 budget=0.00 personal_total=0.00 total_points=0.0000 point_value=0.000000 paid_total=0.00"; got != want {
		t.Errorf("empty run\n got %s\nwant %s", got, want)
	}
}

// TestClearDRG clears a second region in one call (ClearDRG, the same
// code path as the Clearer), with exact fractions for the payments.
func TestClearDRG(t *testing.T) {
	pol := &engine.DRG{
		Groups: []engine.DRGGroup{
			{Code: "G1", BasePoints: pts("100"), AverageCost: mon("10000")},
			{Code: "G2", BasePoints: pts("300"), AverageCost: mon("30000")},
		},
		Coefficients: []engine.DRGCoefficient{
			{Level: 2, Coefficient: rat("0.9")},
			{InstitutionID: "H-A", Coefficient: rat("1.1")},
			{Level: 3, Coefficient: rat("1.05")}, // H-A's own row wins over its level's
		},
		HighThresholds: publishedThresholds(),
		LowRatio:       rat("0.4"),
		ReserveRatio:   rat("0.05"),
	}
	cases := []engine.ClearingCase{
		kase("S1", "H-A", 3, "G1", "12000.00", "2000.00", "10000.00"),  // r 1.2: normal, 100 × 1.1 = 110
		kase("S2", "H-A", 3, "G1", "35000.00", "5000.00", "30000.00"),  // r 3.5 > 3: 110 + 100 × 0.5 = 160
		kase("S3", "H-B", 2, "G2", "9000.00", "1000.00", "8000.00"),    // r 0.3 ≤ 0.4: 300 × 0.3 = 90
		kase("S4", "H-B", 2, "G2", "30001.00", "6000.00", "24001.00"),  // r 1.0000333 → 1.0000: 300 × 0.9 = 270
		kase("S5", "H-C", 1, "G2", "70000.00", "10000.00", "60000.00"), // r 2.3333 > 2: 300 + 300 × 0.3333 = 399.99
		kase("S6", "H-C", 1, "", "5000.00", "1000.00", "4000.00"),      // no DRG code: ungrouped
		kase("S7", "H-A", 3, "ZZ", "5000.00", "1000.00", "4000.00"),    // not a group: ungrouped
	}
	run, lines, err := engine.ClearDRG(pol, mon("1000000.00"), cases)
	if err != nil {
		t.Fatal(err)
	}
	// B = 950,000.00; P = 24,000 (unset basis: FUND_PLUS_PERSONAL); T =
	// 1,029.99; V = 974,000 / 1,029.99 = 945.6402489….
	if got, want := showSummary(run),
		"kind=CLEARING_KIND_DRG settlements=7 ungrouped=2 ungrouped_basic_fund=8000.00 budget=950000.00 personal_total=24000.00 total_points=1029.9900 point_value=945.640249 paid_total=950000.00"; got != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
	var got []string
	for _, l := range lines {
		got = append(got, showCase(l))
	}
	checkLines(t, "cases", got,
		"S1 H-A G1 r=1.2000 normal points=110.0000", "S2 H-A G1 r=3.5000 high points=160.0000",
		"S3 H-B G2 r=0.3000 low points=90.0000", "S4 H-B G2 r=1.0000 normal points=270.0000",
		"S5 H-C G2 r=2.3333 high points=399.9900")
	// Exact payments 270 V − 7,000 = 248,322.8672…, 360 V − 7,000 =
	// 333,430.4896…, 399.99 V − 10,000 = 368,246.6431…: the floors leave 2
	// fen, which go to the largest remainders (H-B 0.96 fen, H-A 0.72; H-C's
	// 0.32 gets none).
	got = nil
	for _, l := range run.Institutions {
		got = append(got, showDRGLine(l))
	}
	checkLines(t, "institutions", got,
		"H-A cases=2 points=270.0000 personal=7000.00 basic=40000.00 payment=248322.87 difference=208322.87",
		"H-B cases=2 points=360.0000 personal=7000.00 basic=32001.00 payment=333430.49 difference=301429.49",
		"H-C cases=1 points=399.9900 personal=10000.00 basic=60000.00 payment=368246.64 difference=308246.64",
	)
	// A budget that is not money is refused.
	for _, b := range []string{"-1.00"} {
		if _, err := engine.NewDRGClearer(pol, mon(b)); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("budget %s: %v", b, err)
		}
		if _, _, err := engine.ClearDRG(pol, mon(b), cases); !errors.Is(err, engine.ErrInvalid) {
			t.Errorf("ClearDRG budget %s: %v", b, err)
		}
	}
}

// TestDRGRatioNearHalf: c / a just below a half of the fourth decimal.
// Dividing to 16 decimals first rounds it up to the half, which then
// rounds up again: r must come from the exact quotient.
func TestDRGRatioNearHalf(t *testing.T) {
	for _, tc := range []struct{ c, a, want, doubleRounded string }{
		// 99,994,999,999.99 / 99,999,999,999.99 = 0.999949999999999995…
		{"99994999999.99", "99999999999.99", "0.9999", "1"},
		// 5,670,987,603.28 / 12,345,678,901.23 = 0.459349999999999959…
		{"5670987603.28", "12345678901.23", "0.4593", "0.4594"},
	} {
		if naive := d(tc.c).Div(d(tc.a)).Round(4); naive.String() != tc.doubleRounded {
			t.Errorf("%s / %s: a 16-digit Div then Round gives %s; the example expects %s", tc.c, tc.a, naive, tc.doubleRounded)
		}
		r, err := engine.DRGRatio(mon(tc.c), mon(tc.a))
		if r.String() != tc.want || err != nil {
			t.Errorf("%s / %s: r = %s (%v), want %s", tc.c, tc.a, r, err, tc.want)
		}
		pol := &engine.DRG{Groups: []engine.DRGGroup{{Code: "G", BasePoints: pts("1"), AverageCost: mon(tc.a)}}}
		_, lines := runDRG(t, pol, "1.00", []engine.ClearingCase{kase("x", "H", 1, "G", tc.c, "0", "0")})
		if got := lines["x"].Ratio.String(); got != tc.want {
			t.Errorf("%s / %s: the clearer's ratio is %s, want %s", tc.c, tc.a, got, tc.want)
		}
	}
}

// TestDRGClearerOrder: a Clearer is used Begin, Add…, Finish, once.
func TestDRGClearerOrder(t *testing.T) {
	if _, err := engine.NewDRGClearer(nil, mon("1.00")); !errors.Is(err, engine.ErrNoClearingRules) {
		t.Errorf("no rules: %v", err)
	}
	bad := exampleDRG(engine.PointValueFundOnly)
	bad.ReserveRatio = rat("1.5")
	if _, err := engine.NewDRGClearer(bad, mon("1.00")); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("reserve 1.5: %v", err)
	}
	for _, mk := range []func() engine.Clearer{
		func() engine.Clearer {
			c, _ := engine.NewDRGClearer(exampleDRG(engine.PointValueFundOnly), mon("1.00"))
			return c
		},
		func() engine.Clearer { return engine.NewBudgetClearer(exampleBudgetClearing(), 2026) },
		func() engine.Clearer { return engine.NewCapitationClearer(exampleContract()) },
	} {
		c := mk()
		if _, err := c.Add(kase("x", "H1", 1, "G1", "1.00", "0", "1.00")); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%T: Add before Begin: %v", c, err)
		}
		if _, err := c.Finish(); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%T: Finish before Begin: %v", c, err)
		}
		if err := c.Begin(engine.RunInputs{Members: 1}); err != nil {
			t.Fatal(err)
		}
		if err := c.Begin(engine.RunInputs{}); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%T: Begin twice: %v", c, err)
		}
		if _, err := c.Finish(); err != nil {
			t.Fatalf("%T: %v", c, err)
		}
		if _, err := c.Finish(); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%T: Finish twice: %v", c, err)
		}
		if _, err := c.Add(kase("x", "H1", 1, "G1", "1.00", "0", "1.00")); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%T: Add after Finish: %v", c, err)
		}
	}
}

// exampleBudgetClearing is CLEARING-EXAMPLES.md's budget_clearing.
func exampleBudgetClearing() *engine.BudgetClearing {
	return &engine.BudgetClearing{
		VisitTypes:       []engine.VisitType{engine.VisitInpatient, engine.VisitOutpatient},
		SurplusRetention: rat("0.5"), MinUtilization: rat("0.85"), OverspendShare: rat("0.5"), OverspendTolerance: rat("0.1"),
	}
}

// TestBudgetClearerExample: the four rows of CLEARING-EXAMPLES.md, each
// an institution with G = 1,000,000 whose cases add up to C, through the
// BUDGET Clearer.
func TestBudgetClearerExample(t *testing.T) {
	g := []engine.Budget{{Year: 2025, Amount: mon("5.00")}, {Year: 2026, Amount: mon("1000000.00")}}
	insts := []engine.Institution{
		{ID: "H4", Budgets: g}, {ID: "H1", Budgets: g}, {ID: "H3", Budgets: g}, {ID: "H2", Budgets: g},
		{ID: "H5", Budgets: g}, // no settlement: C = 0
		{ID: "H6", Budgets: []engine.Budget{{Year: 2025, Amount: mon("9.00")}}}, // no budget for 2026: no line
	}
	c := engine.NewBudgetClearer(exampleBudgetClearing(), 2026)
	if err := c.Begin(engine.RunInputs{Institutions: insts}); err != nil {
		t.Fatal(err)
	}
	cases := []engine.ClearingCase{
		kase("1a", "H1", 1, "", "0", "0", "400000.00"), kase("1b", "H1", 1, "", "0", "0", "500000.00"), // C 900,000
		kase("2", "H2", 1, "", "0", "0", "800000.00"),                                              // C 800,000
		kase("3a", "H3", 1, "", "0", "0", "1049999.99"), kase("3b", "H3", 1, "", "0", "0", "0.01"), // C 1,050,000
		kase("4", "H4", 1, "", "0", "0", "1150000.00"), // C 1,150,000
	}
	for _, k := range cases {
		if line, err := c.Add(k); err != nil || line != nil {
			t.Fatalf("Add(%s): %v, %v", k.SettlementID, line, err)
		}
	}
	if _, err := c.Add(kase("x", "H6", 1, "", "0", "0", "1.00")); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("a case of an institution without a budget: %v", err)
	}
	run, err := c.Finish()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range run.Institutions {
		got = append(got, fmt.Sprintf("%s cases=%d G=%s C=%s retained=%s shared=%s paid=%s", l.InstitutionID, l.Cases,
			l.Budget.String(), l.Claimed.String(), l.Retained.String(), l.Shared.String(), l.Paid.String()))
	}
	checkLines(t, "institutions", got,
		// 900,000 ≥ 0.85 × G: 900,000 + 0.5 × 100,000
		"H1 cases=2 G=1000000.00 C=900000.00 retained=50000.00 shared=0.00 paid=950000.00",
		// 800,000 < 850,000: the claim only
		"H2 cases=1 G=1000000.00 C=800000.00 retained=0.00 shared=0.00 paid=800000.00",
		// over by 50,000 ≤ 0.1 × G: 1,000,000 + 0.5 × 50,000
		"H3 cases=2 G=1000000.00 C=1050000.00 retained=0.00 shared=25000.00 paid=1025000.00",
		// over by 150,000: 1,000,000 + 0.5 × min(150,000, 100,000)
		"H4 cases=1 G=1000000.00 C=1150000.00 retained=0.00 shared=50000.00 paid=1050000.00",
		// nothing claimed: 0 < 0.85 × G, paid 0
		"H5 cases=0 G=1000000.00 C=0.00 retained=0.00 shared=0.00 paid=0.00",
	)
	// Σ G = 5 × 1,000,000; Σ paid = 950,000 + 800,000 + 1,025,000 +
	// 1,050,000 + 0.
	if got := fmt.Sprintf("%s settlements=%d budget=%s paid=%s", run.Kind, run.Settlements, run.Budget.String(), run.PaidTotal.String()); got != "CLEARING_KIND_BUDGET settlements=6 budget=5000000.00 paid=3825000.00" {
		t.Errorf("summary %s", got)
	}
	c = engine.NewBudgetClearer(exampleBudgetClearing(), 2026)
	if err := c.Begin(engine.RunInputs{Institutions: []engine.Institution{insts[0], insts[0]}}); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("an institution given twice: %v", err)
	}
	if err := engine.NewBudgetClearer(nil, 2026).Begin(engine.RunInputs{}); !errors.Is(err, engine.ErrNoClearingRules) {
		t.Errorf("no budget_clearing: %v", err)
	}
}

func TestClearBudget(t *testing.T) {
	bc := &engine.BudgetClearing{SurplusRetention: rat("0.5"), MinUtilization: rat("0.85"), OverspendShare: rat("0.6"), OverspendTolerance: rat("0.1")}
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
		r := engine.ClearBudget(bc, "H", mon("100000.00"), mon(tc.claimed))
		got := fmt.Sprintf("%s/%s/%s", r.Retained.String(), r.Shared.String(), r.Paid.String())
		if want := tc.retained + "/" + tc.shared + "/" + tc.paid; got != want {
			t.Errorf("claimed %s: retained/shared/paid %s, want %s", tc.claimed, got, want)
		}
	}
}

// exampleContract is CLEARING-EXAMPLES.md's contract: components 3,700
// (chronic care: inpatient and chronic outpatient) and 240 (two-disease
// quota: outpatient); shares county 0.4, township 0.4, village 0.2
// (listed township first: the tie-break is by name, not by position);
// overspend 0.5 up to 0.1 of K.
func exampleContract() *engine.CapitationContract {
	return &engine.CapitationContract{
		ContractID: "CAP-1", InstitutionID: "COUNTY", Region: "341621", Scheme: engine.SchemeResident, Year: 2026,
		Components: []engine.CapitationComponent{
			{Name: "chronic", Rate: mon("3700.00"), VisitTypes: []engine.VisitType{engine.VisitInpatient, engine.VisitChronicOutpatient}},
			{Name: "two-disease", Rate: mon("240.00"), VisitTypes: []engine.VisitType{engine.VisitOutpatient}},
		},
		Shares:         []engine.CapitationShare{{Party: "township", Share: rat("0.4")}, {Party: "county", Share: rat("0.4")}, {Party: "village", Share: rat("0.2")}},
		OverspendShare: rat("0.5"), OverspendTolerance: rat("0.1"),
	}
}

// visitCase is a member's settlement of a visit type drawing basic from
// the basic fund.
func visitCase(id string, v engine.VisitType, basic string) engine.ClearingCase {
	k := kase(id, "T1", 1, "", "0", "0", basic)
	k.VisitType = v
	return k
}

// showCapitation renders a capitation clearing.
func showCapitation(r engine.ClearingRun) string {
	c := r.Capitation
	var parts, comps []string
	for _, s := range c.Shares {
		parts = append(parts, s.Party+"="+s.Amount.String())
	}
	for _, k := range c.Components {
		comps = append(comps, fmt.Sprintf("%s K=%s A=%s", k.Name, k.Budget.String(), k.Actual.String()))
	}
	return fmt.Sprintf("%s settlements=%d budget=%s paid=%s | %s members=%d K=%s A=%s surplus=%s [%s] deficit=%s fund=%s contract=%s [%s]",
		r.Kind, r.Settlements, r.Budget.String(), r.PaidTotal.String(),
		c.ContractID, c.Members, c.Budget.String(), c.Actual.String(), c.Surplus.String(), strings.Join(parts, " "),
		c.Deficit.String(), c.FundCovers.String(), c.ContractBears.String(), strings.Join(comps, "; "))
}

// TestCapitationClearerExample: CLEARING-EXAMPLES.md's two capitation
// cases through the CAPITATION Clearer.
func TestCapitationClearerExample(t *testing.T) {
	run := func(cases ...engine.ClearingCase) engine.ClearingRun {
		t.Helper()
		c := engine.NewCapitationClearer(exampleContract())
		if err := c.Begin(engine.RunInputs{Members: 3}); err != nil {
			t.Fatal(err)
		}
		for _, k := range cases {
			if line, err := c.Add(k); err != nil || line != nil {
				t.Fatalf("Add(%s): %v, %v", k.SettlementID, line, err)
			}
		}
		r, err := c.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// K = 3 × 3,700 + 3 × 240 = 11,100 + 720 = 11,820.00. A = 10,000.01:
	// surplus 1,819.99; exact shares 727.996, 727.996, 363.998; floors
	// 727.99 + 727.99 + 363.99 = 1,819.97 leave 0.02: village (remainder
	// 0.008), then county (0.006, tied with township, the smaller name).
	// paid_total = K + 0.
	got := showCapitation(run(
		visitCase("a", engine.VisitInpatient, "6000.00"),
		visitCase("b", engine.VisitChronicOutpatient, "3000.00"),
		visitCase("c", engine.VisitOutpatient, "1000.01"),
	))
	if want := "CLEARING_KIND_CAPITATION settlements=3 budget=11820.00 paid=11820.00 | CAP-1 members=3 K=11820.00 A=10000.01 surplus=1819.99 " +
		"[township=727.99 county=728.00 village=364.00] deficit=0.00 fund=0.00 contract=0.00 [chronic K=11100.00 A=9000.00; two-disease K=720.00 A=1000.01]"; got != want {
		t.Errorf("surplus\n got %s\nwant %s", got, want)
	}
	// A = 13,000.00: deficit 1,180.00; the fund covers round(0.5 ×
	// min(1,180, 0.1 × 11,820 = 1,182)) = 590.00, the contract bears the
	// other 590.00; no shares; paid_total = 11,820 + 590.
	got = showCapitation(run(
		visitCase("a", engine.VisitInpatient, "12000.00"),
		visitCase("b", engine.VisitOutpatient, "1000.00"),
	))
	if want := "CLEARING_KIND_CAPITATION settlements=2 budget=11820.00 paid=12410.00 | CAP-1 members=3 K=11820.00 A=13000.00 surplus=0.00 " +
		"[] deficit=1180.00 fund=590.00 contract=590.00 [chronic K=11100.00 A=12000.00; two-disease K=720.00 A=1000.00]"; got != want {
		t.Errorf("deficit\n got %s\nwant %s", got, want)
	}

	// A visit type no component covers is a case the run should never
	// have been given; so are negative members.
	con := exampleContract()
	con.Components = con.Components[:1]
	c := engine.NewCapitationClearer(con)
	if err := c.Begin(engine.RunInputs{Members: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Add(visitCase("x", engine.VisitOutpatient, "1.00")); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("a visit of no component: %v", err)
	}
	if err := engine.NewCapitationClearer(exampleContract()).Begin(engine.RunInputs{Members: -1}); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("negative members: %v", err)
	}
}

func TestClearCapitation(t *testing.T) {
	c := exampleContract()
	c.Components = c.Components[:1]
	c.OverspendShare = rat("0.6")
	if err := engine.ValidateContract(c); err != nil {
		t.Fatal(err)
	}
	show := func(r engine.CapitationClearing) string {
		var parts []string
		for _, s := range r.Shares {
			parts = append(parts, s.Party+"="+s.Amount.String())
		}
		return fmt.Sprintf("K=%s surplus=%s [%s] deficit=%s fund=%s contract=%s", r.Budget.String(), r.Surplus.String(),
			strings.Join(parts, " "), r.Deficit.String(), r.FundCovers.String(), r.ContractBears.String())
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
		r, err := engine.ClearCapitation(c, 3, []engine.Money{mon(tc.actual)})
		if err != nil {
			t.Fatal(err)
		}
		if got := show(r); got != tc.want {
			t.Errorf("actual %s:\n got %s\nwant %s", tc.actual, got, tc.want)
		}
	}
	if _, err := engine.ClearCapitation(c, 3, nil); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("actual figures not matching the components: %v", err)
	}
	bad := *c
	bad.Shares = []engine.CapitationShare{{Party: "county", Share: rat("0.5")}, {Party: "county", Share: rat("0.4")}}
	bad.Year = 0
	bad.Components = []engine.CapitationComponent{
		{Name: "a", Rate: mon("1.00"), VisitTypes: []engine.VisitType{engine.VisitInpatient}},
		{Name: "b", Rate: mon("-1.00"), VisitTypes: []engine.VisitType{engine.VisitInpatient}},
		{Name: "c", Rate: mon("1.00")},
	}
	err := engine.ValidateContract(&bad)
	for _, field := range []string{"contract.shares:", "contract.shares[1].party", "contract.year",
		"contract.components[1].rate", "contract.components[1].visit_types[0]", "contract.components[2].visit_types"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("bad contract: %v, want a violation of %s", err, field)
		}
	}
}

// TestAllocateFen: the amounts add up to the total exactly, each within a
// fen of its exact share, and shares that do not add up to the total are
// refused.
func TestAllocateFen(t *testing.T) {
	g := newGen(t)
	for range 500 {
		n := 1 + g.intn(9)
		total := engine.MoneyFromFen(int64(g.intn(10_000_000)) - 1_000)
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
		var acc engine.Money
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
	if _, err := engine.AllocateFen(mon("1.00"), []engine.Share{{Key: "a", Exact: big.NewRat(1, 3)}}); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("shares not adding up: %v", err)
	}
}
