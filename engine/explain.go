package engine

import (
	"strings"
)

// ExplainLayer is a sentence in Chinese a cashier can read, saying how a
// layer's figure came about (the national interface's setl_proc_info):
// the running base before the claim, the threshold, each band the claim
// went through with its ratio and what it paid, and the annual cap with
// what it still allowed and what it cut. details are the settlement's
// detail lines (Result.Details): what each band paid after the cap. It is
// pure: the same layer and lines always give the same sentence.
func ExplainLayer(l Layer, details []Detail) string {
	var parts []string
	if l.From.IsPositive() {
		parts = append(parts, "本年此前累计"+yuan(l.From))
	}
	parts = append(parts, "本次计入"+yuan(l.Base))
	if l.Threshold.IsPositive() {
		c1 := l.From.Add(l.Base)
		under := c1.Min(l.Threshold).Sub(l.From.Min(l.Threshold))
		s := "起付线" + yuan(l.Threshold)
		if under.IsPositive() {
			s += "（本次起付线以下" + yuan(under) + "由个人支付）"
		}
		parts = append(parts, s)
	}
	bands := l.Parts()
	if len(bands) == 0 {
		parts = append(parts, "未进入支付段")
	}
	for _, b := range bands {
		parts = append(parts, bandText(b)+"按"+percent(b.Ratio)+"支付"+yuan(bandPaid(details, l.Fund, b.Band)))
	}
	if l.Cap != nil {
		s := "年度最高支付限额" + yuan(*l.Cap) + "，本次前剩余" + yuan(l.Room)
		if cut := l.Raw.Sub(l.Paid); cut.IsPositive() {
			s += "，超出限额" + yuan(cut) + "不予支付"
		}
		parts = append(parts, s)
	}
	if l.Ceiling != nil && l.CeilingPaid.IsPositive() {
		parts = append(parts, "个人自付超过年度限额"+yuan(*l.Ceiling)+"的部分全额救助"+yuan(l.CeilingPaid))
	}
	total := l.Paid.Add(l.CeilingPaid)
	parts = append(parts, "合计支付"+yuan(total))
	return strings.Join(parts, "；") + "。"
}

// bandText names a band and the claim's part of it: "200.00–10000.00元部分
// 3000.00元", "10000.00元以上部分500.00元".
func bandText(b BandPart) string {
	if b.Upper == nil {
		return b.Lower.String() + "元以上部分" + yuan(b.Base)
	}
	return b.Lower.String() + "–" + b.Upper.String() + "元部分" + yuan(b.Base)
}

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

// yuan writes an amount with two decimals and the unit: "8330.00元".
func yuan(m Money) string { return m.String() + "元" }

// percent writes a ratio as a percentage, exactly: "85%", "87.5%".
func percent(r Ratio) string { return formatScaled(r.v, 2, 0) + "%" }
