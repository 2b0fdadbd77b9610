package engine

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// appendScaledRef is appendScaled as it was written, the fraction
// formatted by strconv and padded with zeros.
func appendScaledRef(b []byte, v int64, scale, minPlaces int) []byte {
	if v < 0 {
		b = append(b, '-')
	}
	u := abs64(v)
	p := uint64(pow10[scale])
	b = strconv.AppendUint(b, u/p, 10)
	frac := u % p
	places := scale
	for places > minPlaces && frac%10 == 0 {
		frac /= 10
		places--
	}
	if places > 0 {
		b = append(b, '.')
		var dbuf [20]byte
		digits := strconv.AppendUint(dbuf[:0], frac, 10)
		for i := len(digits); i < places; i++ {
			b = append(b, '0')
		}
		b = append(b, digits...)
	}
	return b
}

// TestAppendScaledUnchanged: appendScaled writes what it always wrote, at
// every scale and minimum of places, for the edges and random values.
func TestAppendScaledUnchanged(t *testing.T) {
	vals := testFigures(rand.New(rand.NewPCG(7, 11)), 200_000, 1000,
		0, 1, -1, 5, 10, 99, 100, 101, 1_000_000, math.MaxInt64, math.MinInt64, math.MinInt64+1)
	for _, v := range vals {
		for scale := range len(pow10) {
			for _, minPlaces := range []int{0, scale / 2, scale} {
				if got, want := string(appendScaled(nil, v, scale, minPlaces)), string(appendScaledRef(nil, v, scale, minPlaces)); got != want {
					t.Fatalf("%d at scale %d, %d places at least: %q, want %q", v, scale, minPlaces, got, want)
				}
			}
		}
	}
}

// BenchmarkAppendFixed is a response's rendering of one amount.
func BenchmarkAppendFixed(b *testing.B) {
	buf := make([]byte, 0, 32)
	m := MoneyFromFen(1_234_567)
	for b.Loop() {
		buf = m.AppendFixed(buf[:0])
	}
}

// BenchmarkAppendFixedRef is BenchmarkAppendFixed as it was written.
func BenchmarkAppendFixedRef(b *testing.B) {
	buf := make([]byte, 0, 32)
	for b.Loop() {
		buf = appendScaledRef(buf[:0], 1_234_567, 2, 2)
	}
}
