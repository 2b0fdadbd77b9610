package engine

// ExplainLayer is a sentence in Chinese a cashier can read, saying how a
// layer's figure came about (the national interface's setl_proc_info):
// the running base before the claim, the threshold, each band the claim
// went through with its ratio and what it paid, and the annual cap with
// what it still allowed and what it cut. details are the settlement's
// detail lines (Result.Details): what each band paid after the cap. It is
// pure: the same layer and lines always give the same sentence.
func ExplainLayer(l Layer, details []Detail) string {
	var buf [512]byte
	return string(AppendExplainLayer(buf[:0], l, details))
}

// AppendExplainLayer appends ExplainLayer's sentence to b, allocating
// nothing when b has room: the national gateway writes one per fund layer
// of every settlement it answers.
func AppendExplainLayer(b []byte, l Layer, details []Detail) []byte {
	const sep = "；"
	if l.From.IsPositive() {
		b = appendYuan(append(b, "本年此前累计"...), l.From)
		b = append(b, sep...)
	}
	b = appendYuan(append(b, "本次计入"...), l.Base)
	if l.Threshold.IsPositive() {
		c1 := l.From.Add(l.Base)
		under := c1.Min(l.Threshold).Sub(l.From.Min(l.Threshold))
		b = appendYuan(append(b, sep+"起付线"...), l.Threshold)
		if under.IsPositive() {
			b = appendYuan(append(b, "（本次起付线以下"...), under)
			b = append(b, "由个人支付）"...)
		}
	}
	var arr [8]BandPart
	bands := l.appendParts(arr[:0])
	if len(bands) == 0 {
		b = append(b, sep+"未进入支付段"...)
	}
	for _, p := range bands {
		b = appendBandText(append(b, sep...), p)
		b = appendScaled(append(b, "按"...), p.Ratio.v, 2, 0)
		b = appendYuan(append(b, "%支付"...), bandPaid(details, l.Fund, p.Band))
	}
	if l.Cap != nil {
		b = appendYuan(append(b, sep+"年度最高支付限额"...), *l.Cap)
		b = appendYuan(append(b, "，本次前剩余"...), l.Room)
		if cut := l.Raw.Sub(l.Paid); cut.IsPositive() {
			b = appendYuan(append(b, "，超出限额"...), cut)
			b = append(b, "不予支付"...)
		}
	}
	if l.Ceiling != nil && l.CeilingPaid.IsPositive() {
		b = appendYuan(append(b, sep+"个人自付超过年度限额"...), *l.Ceiling)
		b = appendYuan(append(b, "的部分全额救助"...), l.CeilingPaid)
	}
	b = appendYuan(append(b, sep+"合计支付"...), l.Paid.Add(l.CeilingPaid))
	return append(b, "。"...)
}

// appendBandText appends a band's name and the claim's part of it:
// "200.00–10000.00元部分3000.00元", "10000.00元以上部分500.00元".
func appendBandText(b []byte, p BandPart) []byte {
	b = appendScaled(b, p.Lower.fen, 2, 2)
	if p.Upper == nil {
		b = append(b, "元以上部分"...)
	} else {
		b = appendScaled(append(b, "–"...), p.Upper.fen, 2, 2)
		b = append(b, "元部分"...)
	}
	return appendYuan(b, p.Base)
}

// appendYuan appends an amount with two decimals and the unit: "8330.00元".
func appendYuan(b []byte, m Money) []byte { return append(appendScaled(b, m.fen, 2, 2), "元"...) }

// bandPaid is what the detail line of fund's band paid (0 when none: a
// line that pays nothing is not kept).
func bandPaid(details []Detail, fund Fund, band int) Money {
	for _, d := range details {
		if d.Fund == fund && d.Band == band {
			return d.Amount
		}
	}
	return Money{}
}
