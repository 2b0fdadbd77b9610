package api

import (
	"github.com/medsettle/medsettle/engine"
)

// moneyTexts renders the amounts of one answer into the memory of a
// single string: a settlement's twenty-odd amounts cost one allocation
// instead of one each (benchmarks/README.md "Embedded store hot path").
// Each amount reads as engine.FormatMoney writes it ("1234.50", "-0.07");
// TestMoneyTextsAsFormatMoney holds the two together.
type moneyTexts struct {
	buf  [768]byte
	used int
	n    int
	dsts [48]*string
	ends [48]int
}

// maxMoneyText is the longest amount Money.AppendFixed writes: a sign, 17
// digits of yuan, a dot and two decimals, with room to spare.
const maxMoneyText = 24

// add renders m for *dst, which flush sets. An amount that does not fit
// the batch is rendered on its own, at once.
func (t *moneyTexts) add(dst *string, m engine.Money) {
	if t.n == len(t.dsts) || len(t.buf)-t.used < maxMoneyText {
		*dst = engine.FormatMoney(m)
		return
	}
	t.used += len(m.AppendFixed(t.buf[t.used:t.used]))
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
