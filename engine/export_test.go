package engine

// DRGRatio is r = round(c / a, 4) as a DRG clearer computes it for a case
// of cost c in a group of average cost a (one exact 128-bit division), or
// the error the clearer would report.
func DRGRatio(c, a Money) (Ratio, error) {
	cl := &drgClearer{}
	r, _, _, err := cl.score(&drgGroupCalc{g: DRGGroup{Code: "X", BasePoints: Points{1}, AverageCost: a}}, RatioOne, c)
	return r, err
}
