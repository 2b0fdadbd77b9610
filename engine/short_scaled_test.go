package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestShortScaledAsAppendScaled: the fingerprint's figures read as
// appendScaled writes them in their shortest form, at every scale it uses,
// for the edges and a million random values.
func TestShortScaledAsAppendScaled(t *testing.T) {
	vals := []int64{0, 1, -1, 10, -10, 100, 10000, -10000, 10001, 123450000, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(5, 8))
	for range 1_000_000 {
		v := r.Int64() >> r.IntN(64)
		if r.IntN(2) == 0 {
			v = -v
		}
		vals = append(vals, v, v/10000*10000)
	}
	for _, v := range vals {
		for _, scale := range []int{2, 4, 6} {
			var buf [scaledLen]byte
			if got, want := string(shortScaled(&buf, v, scale)), string(appendScaled(nil, v, scale, 0)); got != want {
				t.Fatalf("%d at scale %d: %q, appendScaled %q", v, scale, got, want)
			}
		}
	}
}
