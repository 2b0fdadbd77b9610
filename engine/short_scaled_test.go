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
	vals := testFigures(rand.New(rand.NewPCG(5, 8)), 1_000_000, 10000,
		0, 1, -1, 10, -10, 100, 10000, -10000, 10001, 123450000, math.MaxInt64, math.MinInt64, math.MinInt64+1)
	for _, v := range vals {
		for _, scale := range []int{2, 4, 6} {
			var buf [scaledLen]byte
			if got, want := string(shortScaled(&buf, v, scale)), string(appendScaled(nil, v, scale, 0)); got != want {
				t.Fatalf("%d at scale %d: %q, appendScaled %q", v, scale, got, want)
			}
		}
	}
}
