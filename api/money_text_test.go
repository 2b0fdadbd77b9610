package api

import (
	"math"
	"math/rand/v2"
	"testing"

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
