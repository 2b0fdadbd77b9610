package engine

// Layer is how one fund's figure of a settlement came about: the layer's
// running base before the claim and the claim's part of it, the threshold
// below which the layer pays nothing, its bands as applied, and its annual
// cap with what the cap still allowed before the claim. Settle records one
// per layer it applied (Result.Layers), from the state it read, so that
// the national interface's crt_payb_lmt_amt and setl_proc_info are exact
// and the same on every reading of the settlement (ExplainLayer).
type Layer struct {
	// Fund is FundBasic, FundCatastrophic or FundMedicalAid.
	Fund Fund
	// From is the layer's running base before the claim (the year's total
	// so far; 0 for a per-visit benefit), Base the claim's part of it.
	From, Base Money
	// Threshold is the deductible carved off the bottom of the bands
	// (basic layer only).
	Threshold Money
	// Bands are the schedule's bands as applied: ratios after the
	// unregistered cross-region cut.
	Bands []Band
	// Cap is the annual cap (nil: uncapped); Room what it still allowed
	// before the claim (≥ 0; 0 when uncapped).
	Cap  *Money
	Room Money
	// Raw is what the bands gave, Paid what the layer paid after the cap
	// (for medical aid: the regular part, without the ceiling payment).
	Raw, Paid Money
	// Ceiling is medical aid's out-of-pocket ceiling (nil: none) and
	// CeilingPaid what it paid in full above it (FundAidCeiling).
	Ceiling     *Money
	CeilingPaid Money
}

// CapRoom is what the layer's annual cap still allowed before the claim:
// 0 when uncapped (the national crt_payb_lmt_amt).
func (l Layer) CapRoom() Money {
	if l.Cap == nil {
		return Money{}
	}
	return l.Room
}

// newLayer records a layer whose bands were applied from c0 to c0 + base
// above threshold with the ratios lowered by cut.
// Without a cut the layer shares the policy's bands, which nothing
// modifies (policies are shared and read-only once indexed).
func newLayer(fund Fund, bands []Band, cut Ratio, threshold, c0, base Money) Layer {
	applied := bands
	if !cut.IsZero() {
		applied = make([]Band, len(bands))
		for i, b := range bands {
			applied[i] = Band{UpTo: b.UpTo, Ratio: b.Ratio.Sub(cut).Max(Ratio{})}
		}
	}
	return Layer{Fund: fund, From: c0, Base: base, Threshold: threshold, Bands: applied}
}

// capped records the layer's annual cap and what it allowed before.
// limit points into the policy, which nothing modifies: the layer shares
// it rather than copy it.
func (l *Layer) capped(limit *Money, used Money) {
	l.Cap = limit
	l.Room = limit.Sub(used).Max(Money{})
}

// BandPart is one band of a layer as a claim went through it.
type BandPart struct {
	Band int
	// Lower and Upper bound the band on the layer's running base (Upper
	// nil: unbounded).
	Lower Money
	Upper *Money
	Ratio Ratio
	// Base is the claim's part of the band.
	Base Money
}

// Parts lists the bands the claim's base went through (Base > 0), in
// order, by the same arithmetic as the settlement (span).
func (l Layer) Parts() []BandPart { return l.appendParts(nil) }

// appendParts appends Parts' bands to out.
func (l Layer) appendParts(out []BandPart) []BandPart {
	var lower Money
	c1 := l.From.Add(l.Base)
	for i, b := range l.Bands {
		lo := lower.Max(l.Threshold)
		if base := bandLength(b, lo, c1).Sub(bandLength(b, lo, l.From)); base.IsPositive() {
			out = append(out, BandPart{Band: i, Lower: lo, Upper: b.UpTo, Ratio: b.Ratio, Base: base})
		}
		if b.UpTo != nil {
			lower = *b.UpTo
		}
	}
	return out
}

// TopRatio is the ratio of the highest band the claim reached on the
// layer (0 when it reached none).
func (l Layer) TopRatio() Ratio {
	parts := l.Parts()
	if len(parts) == 0 {
		return Ratio{}
	}
	return parts[len(parts)-1].Ratio
}

// LayerOf returns the result's layer of fund.
func (r Result) LayerOf(f Fund) (Layer, bool) {
	for _, l := range r.Layers {
		if l.Fund == f {
			return l, true
		}
	}
	return Layer{}, false
}
