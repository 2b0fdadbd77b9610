package engine

import "math/rand/v2"

// testFigures is edges followed by n random figures of every magnitude
// and sign drawn from r, each followed by itself rounded down to a
// multiple of round (so that trailing zeros are tested too): the values
// the digit writers' tests compare at every scale.
func testFigures(r *rand.Rand, n int, round int64, edges ...int64) []int64 {
	vals := append([]int64(nil), edges...)
	for range n {
		v := r.Int64() >> r.IntN(64)
		if r.IntN(2) == 0 {
			v = -v
		}
		vals = append(vals, v, v/round*round)
	}
	return vals
}
