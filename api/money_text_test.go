package api

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// TestMoneyTextsAsFormatMoney renders amounts through moneyTexts and
// engine.FormatMoney: every edge and a million random amounts read the
// same.
func TestMoneyTextsAsFormatMoney(t *testing.T) {
	vals := []int64{0, 1, -1, 9, -9, 10, -10, 99, -99, 100, -100, 101, -101, 123456, -123456,
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(1, 9))
	for range 1_000_000 {
		v := r.Int64()
		if r.IntN(2) == 0 {
			v = -v
		}
		vals = append(vals, v, v%100_000_00)
	}
	out := make([]string, len(vals))
	// Batches of 100: some amounts overflow a batch's 48 places and its
	// buffer, and are rendered on their own.
	var mt moneyTexts
	for i, v := range vals {
		mt.add(&out[i], engine.MoneyFromFen(v))
		if i%100 == 99 {
			mt.flush()
		}
	}
	mt.flush()
	for i, v := range vals {
		if want := engine.FormatMoney(engine.MoneyFromFen(v)); out[i] != want {
			t.Fatalf("fen %d: %q, FormatMoney %q", v, out[i], want)
		}
	}
}

// TestMoneyTextsRatiosAndDates: ratios and dates rendered through
// moneyTexts read as their String methods write them, odd dates (fmt's
// form) and batches that run out of places included.
func TestMoneyTextsRatiosAndDates(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 7))
	ratios := []engine.Ratio{engine.RatioFromScaled(0), engine.RatioFromScaled(math.MaxInt64), engine.RatioFromScaled(math.MinInt64),
		engine.RatioFromScaled(9000), engine.RatioFromScaled(-1)}
	dates := []engine.Date{{Year: 2026, Month: 6, Day: 15}, {}, {Year: math.MinInt, Month: -1, Day: math.MaxInt},
		{Year: 12345, Month: 100, Day: 7}, {Year: -3, Month: 13, Day: 100}}
	for range 100_000 {
		ratios = append(ratios, engine.RatioFromScaled(r.Int64N(2_000_000)-1_000_000), engine.RatioFromScaled(r.Int64()))
		dates = append(dates, engine.Date{Year: r.IntN(12000) - 100, Month: time.Month(r.IntN(14)), Day: r.IntN(40)},
			engine.Date{Year: 2000 + r.IntN(100), Month: time.Month(1 + r.IntN(12)), Day: 1 + r.IntN(31)})
	}
	gotR, gotD := make([]string, len(ratios)), make([]string, len(dates))
	var mt moneyTexts
	for i := range ratios {
		mt.addRatio(&gotR[i], ratios[i])
		mt.addDate(&gotD[i], dates[i])
		if i%50 == 49 {
			mt.flush()
		}
	}
	mt.flush()
	for i := range ratios {
		if want := ratios[i].String(); gotR[i] != want {
			t.Fatalf("ratio %d: %q, String %q", i, gotR[i], want)
		}
		if want := dates[i].String(); gotD[i] != want {
			t.Fatalf("date %+v: %q, String %q", dates[i], gotD[i], want)
		}
	}
}
