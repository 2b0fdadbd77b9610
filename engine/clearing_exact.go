package engine

import "fmt"

// Clearing computes on the fixed-point figures themselves: money in fen,
// points in ten-thousandths and ratios in ten-thousandths, all int64s, with
// every product on 128 bits (mulDivRound) and every sum checked. Nothing
// is approximated: a figure that leaves the int64 range is reported as an
// error, never wrapped or rounded.

// sumFen adds amounts of money, checking for overflow.
type sumFen struct {
	fen      int64
	overflow bool
}

// add adds m; once a sum overflows it stays overflowed.
func (s *sumFen) add(m Money) {
	v, ok := addChecked(s.fen, m.fen)
	if !ok {
		s.overflow = true
		return
	}
	s.fen = v
}

// value is the sum, or an error when it left the int64 range.
func (s *sumFen) value(what string) (Money, error) {
	if s.overflow {
		return Money{}, fmt.Errorf("%w: %s leaves the range of money", ErrInvariant, what)
	}
	return Money{s.fen}, nil
}

// runState is where a Clearer is in its Begin, Add…, Finish sequence.
type runState int

const (
	stateNew runState = iota
	stateBegun
	stateFinished
)

// step moves from the state a call needs to the next one, or says why
// the call is out of order.
func (s *runState) step(call string, need, next runState) error {
	if *s != need {
		return fmt.Errorf("%w: clearer: %s called %s", ErrInvariant, call, map[runState]string{
			stateNew: "before Begin", stateBegun: "twice or after Begin", stateFinished: "after Finish"}[*s])
	}
	*s = next
	return nil
}

// mulRatioOfMin is round(r × min(d, t × k)) to the fen, computed exactly
// (the minimum is never rounded): the share of an overspend a fund covers
// up to a tolerance of a budget (CLEARING.md).
func mulRatioOfMin(r Ratio, d Money, t Ratio, k Money) (Money, bool) {
	x := d.Rat()
	if tk := t.Rat(); tk.Mul(tk, k.Rat()).Cmp(x) < 0 {
		x = tk
	}
	v, ok := roundRatScaled(x.Mul(x, r.Rat()), 2)
	return Money{v}, ok
}
