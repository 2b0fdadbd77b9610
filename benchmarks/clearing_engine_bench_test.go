package benchmarks

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// benchDRG is a region's DRG section of realistic size: 600 groups with
// base points of up to two decimals and averages in fen, coefficients by
// level and for 30 institutions of their own, the published high-cost
// thresholds (3×, 2×, 1.5× by base points up to 100, 300 and above),
// low-cost at 0.4×, a 5 % reserve.
func benchDRG() *engine.DRG {
	r := rand.New(rand.NewPCG(1, 2))
	d := &engine.DRG{
		HighThresholds: []engine.DRGHighThreshold{
			{UpToPoints: ptr(engine.MustPoints("100")), Ratio: engine.MustRatio("3")},
			{UpToPoints: ptr(engine.MustPoints("300")), Ratio: engine.MustRatio("2")},
			{Ratio: engine.MustRatio("1.5")},
		},
		LowRatio:     engine.MustRatio("0.4"),
		ReserveRatio: engine.MustRatio("0.05"),
	}
	for i := range 600 {
		avg := 200_000 + r.Int64N(20_000_000) // 2,000.00 to 202,000.00
		d.Groups = append(d.Groups, engine.DRGGroup{
			Code:        fmt.Sprintf("DRG%03d", i),
			BasePoints:  engine.PointsFromScaled(avg / 100 * 100), // average ÷ all-group average (10,000) × 100, 2 decimals
			AverageCost: engine.MoneyFromFen(avg),
		})
	}
	for lvl, k := range []string{"0.85", "0.95", "1.08"} {
		d.Coefficients = append(d.Coefficients, engine.DRGCoefficient{Level: lvl + 1, Coefficient: engine.MustRatio(k)})
	}
	for i := range 30 {
		d.Coefficients = append(d.Coefficients, engine.DRGCoefficient{
			InstitutionID: benchInst(i * 10), Coefficient: engine.RatioFromScaled(8500 + r.Int64N(3000))})
	}
	return d
}

func ptr[T any](v T) *T { return &v }

func benchInst(i int) string { return fmt.Sprintf("H%04d", i) }

// benchCases are n inpatient settlements of 300 institutions: 97 %
// grouped; 90 % cost 0.2× to 1.8× their group's average, bunched around
// 1×, 5 % 0.1× to 0.4× (low-cost) and 5 % 2× to 5× (mostly high-cost); a
// fifth of each is paid by the patient.
func benchCases(d *engine.DRG, n int) []engine.ClearingCase {
	r := rand.New(rand.NewPCG(3, 4))
	cases := make([]engine.ClearingCase, n)
	for i := range cases {
		inst := r.IntN(300)
		g := d.Groups[r.IntN(len(d.Groups))]
		code := g.Code
		if r.IntN(100) < 3 {
			code = ""
		}
		var ratio int64 // c / a × 10^4
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
		total := g.AverageCost.MulRatio(engine.RatioFromScaled(ratio))
		personal := total.MulRatio(engine.MustRatio("0.2"))
		cases[i] = engine.ClearingCase{
			SettlementID: fmt.Sprintf("S%07d", i), RequestID: fmt.Sprintf("R%07d", i),
			InstitutionID: benchInst(inst), Level: 1 + inst%3, VisitType: engine.VisitInpatient,
			SettleDate: engine.Date{Year: 2026, Month: 6, Day: 15}, DRGCode: code,
			Total: total, PersonalTotal: personal, BasicFund: total.Sub(personal),
		}
	}
	return cases
}

func newBenchClearer(b *testing.B, d *engine.DRG) engine.Clearer {
	b.Helper()
	c, err := engine.NewDRGClearer(d, engine.MustMoney("3000000000.00"))
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Begin(engine.RunInputs{}); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkDRGClearerAdd is one DRG case through engine's DRG Clearer:
// group lookup, the exact ratio, points, and the institution's
// aggregates, returning the case line. A million-case run spends
// ns/op × 10^6 in Add.
func BenchmarkDRGClearerAdd(b *testing.B) {
	d := benchDRG()
	cases := benchCases(d, 1<<16)
	c := newBenchClearer(b, d)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := c.Add(cases[i&(len(cases)-1)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkDRGClearerFinish is Finish over 300 institutions: the exact
// point value and the largest-remainder payments (the 30,000 Adds before
// it are not timed).
func BenchmarkDRGClearerFinish(b *testing.B) {
	d := benchDRG()
	cases := benchCases(d, 30_000)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		c := newBenchClearer(b, d)
		for _, k := range cases {
			if _, err := c.Add(k); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		run, err := c.Finish()
		if err != nil {
			b.Fatal(err)
		}
		if len(run.Institutions) != 300 || !run.PaidTotal.Equal(run.Budget) {
			b.Fatalf("%d lines, paid %s of %s", len(run.Institutions), run.PaidTotal, run.Budget)
		}
	}
}
