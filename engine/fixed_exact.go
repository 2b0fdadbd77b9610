package engine

import "math/bits"

// mul128 is a × b as a sign and a 128-bit magnitude.
func mul128(a, b int64) (neg bool, hi, lo uint64) {
	hi, lo = bits.Mul64(abs64(a), abs64(b))
	neg = (a < 0) != (b < 0) && (hi|lo) != 0
	return neg, hi, lo
}

// cmpProducts compares a × b with c × d exactly (on 128 bits): −1, 0 or
// +1. It lets the engine compare a product it never rounds, such as
// used ≥ warn × limit, without rounding it.
func cmpProducts(a, b, c, d int64) int {
	n1, h1, l1 := mul128(a, b)
	n2, h2, l2 := mul128(c, d)
	switch {
	case n1 && !n2:
		return -1
	case !n1 && n2:
		return 1
	}
	m := cmpU128(h1, l1, h2, l2)
	if n1 {
		return -m
	}
	return m
}

// cmpU128 compares two unsigned 128-bit integers.
func cmpU128(h1, l1, h2, l2 uint64) int {
	switch {
	case h1 < h2:
		return -1
	case h1 > h2:
		return 1
	case l1 < l2:
		return -1
	case l1 > l2:
		return 1
	}
	return 0
}

// reachesShare reports used ≥ share × limit exactly: money against a
// ratio of money, with no rounding (fen × 10^4 against ten-thousandths ×
// fen).
func reachesShare(used, limit Money, share Ratio) bool {
	return cmpProducts(used.fen, ratioUnit, share.v, limit.fen) >= 0
}
