// Package engine is the settlement arithmetic of medsettle: line
// classification, policy choice, the schedule primitive and the three
// payment layers of SETTLEMENT.md, plus the validation of claims and
// policies. It is pure and deterministic: no I/O, no clock, no proto, no
// database. Money is fixed-point (Money in fen, Ratio, Quantity, Points
// and Price at finer fixed scales, each an int64 of its own type), never
// float64.
package engine
