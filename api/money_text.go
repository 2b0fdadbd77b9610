package api

import (
	"github.com/medsettle/medsettle/engine"
)

// moneyTexts renders the amounts of one answer into the memory of a
// single string: a settlement's twenty-odd amounts cost one allocation
// instead of one each (benchmarks/README.md "Embedded store hot path").
// Each amount reads as engine.FormatMoney writes it ("1234.50", "-0.07");
// TestMoneyTextsAsFormatMoney holds the two together.
//
// A settlement's ratios and its settle date go in the same string
// (addRatio, addDate), read as their String methods write them.
type moneyTexts struct {
	buf  [1280]byte
	used int
	n    int
	dsts [64]*string
	ends [64]int
}

// maxMoneyText is the longest amount Money.AppendFixed writes: a sign, 17
// digits of yuan, a dot and two decimals, with room to spare.
const maxMoneyText = 24

// add renders m for *dst, which flush sets. An amount that does not fit
// the batch is rendered on its own, at once.
func (t *moneyTexts) add(dst *string, m engine.Money) {
	if !t.room(maxMoneyText) {
		*dst = engine.FormatMoney(m)
		return
	}
	t.added(dst, len(m.AppendFixed(t.buf[t.used:t.used])))
}

// addRatio renders r for *dst as r.String() does.
func (t *moneyTexts) addRatio(dst *string, r engine.Ratio) {
	if !t.room(maxMoneyText) {
		*dst = r.String()
		return
	}
	t.added(dst, len(r.AppendString(t.buf[t.used:t.used])))
}

// maxDateText is room for any date Date.AppendString writes, odd years
// and months included ("%04d-%02d-%02d" of three ints).
const maxDateText = 64

// addDate renders d for *dst as d.String() does.
func (t *moneyTexts) addDate(dst *string, d engine.Date) {
	if !t.room(maxDateText) {
		*dst = d.String()
		return
	}
	t.added(dst, len(d.AppendString(t.buf[t.used:t.used])))
}

// room reports whether the batch has a place and n bytes free.
func (t *moneyTexts) room(n int) bool {
	return t.n < len(t.dsts) && len(t.buf)-t.used >= n
}

// added records the n bytes just written for *dst.
func (t *moneyTexts) added(dst *string, n int) {
	t.used += n
	t.dsts[t.n] = dst
	t.ends[t.n] = t.used
	t.n++
}

// flush sets every added field to its amount, all of them slices of one
// string, and empties the batch.
func (t *moneyTexts) flush() {
	s := string(t.buf[:t.used])
	start := 0
	for i, d := range t.dsts[:t.n] {
		*d = s[start:t.ends[i]]
		start = t.ends[i]
	}
	t.used, t.n = 0, 0
}
