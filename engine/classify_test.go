package engine_test

import (
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// classifyPolicy has one item of each category, capped A and B items and an
// uncapped B item.
func classifyPolicy() *engine.Policy {
	cap := func(s string) *engine.Price { p := engine.MustPrice(s); return &p }
	return (&engine.Policy{Region: "R1", Scheme: engine.SchemeResident, Version: "v1", UnknownItem: engine.UnknownItemSelfPay,
		Catalog: []engine.CatalogEntry{
			{Code: "A1", Category: engine.ItemA, PriceCap: cap("10.5")},
			{Code: "B1", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.1"), PriceCap: cap("3.333333")},
			{Code: "B2", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.15")},
			{Code: "C1", Category: engine.ItemC, SelfPayRatio: engine.RatioOne},
		}}).Index()
}

// TestClassifyLineExact: each kind of line splits into the exact parts, and
// the parts add up to the amount.
func TestClassifyLineExact(t *testing.T) {
	p := classifyPolicy()
	m := engine.MustMoney
	line := func(code, q, price string) engine.LineItem {
		it := engine.LineItem{Code: code, Quantity: engine.MustQuantity(q), UnitPrice: engine.MustPrice(price)}
		it.Amount, _ = it.UnitPrice.MulQuantity(it.Quantity)
		return it
	}
	for _, tc := range []struct {
		name                 string
		it                   engine.LineItem
		known                bool
		cat                  engine.ItemCategory
		out, over, pre, scop engine.Money
	}{
		{"A under its cap", line("A1", "2", "10.5"), true, engine.ItemA, m("0"), m("0"), m("0"), m("21")},
		{"A over its cap", line("A1", "3", "12"), true, engine.ItemA, m("0"), m("4.5"), m("0"), m("31.5")},
		// 2.5 × 4.123456 = 10.30864 → 10.31; over: 2.5 × 0.790123 = 1.9753075 → 1.98;
		// rest 8.33, self-pay 0.833 → 0.83, in scope 7.50.
		{"B over its cap", line("B1", "2.5", "4.123456"), true, engine.ItemB, m("0"), m("1.98"), m("0.83"), m("7.5")},
		// 7 × 1.5 = 10.50; 0.15 × 10.50 = 1.575 → 1.58 (half away from zero).
		{"B uncapped", line("B2", "7", "1.5"), true, engine.ItemB, m("0"), m("0"), m("1.58"), m("8.92")},
		{"C", line("C1", "1", "99.99"), true, engine.ItemC, m("99.99"), m("0"), m("0"), m("0")},
		{"unknown code", line("ZZ", "1.25", "8"), false, engine.ItemUnspecified, m("10"), m("0"), m("0"), m("0")},
		{"free line", line("A1", "1", "0"), true, engine.ItemA, m("0"), m("0"), m("0"), m("0")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lc := engine.ClassifyLine(p, tc.it)
			if lc.Known != tc.known || lc.Entry.Category != tc.cat {
				t.Errorf("known %v category %v, want %v %v", lc.Known, lc.Entry.Category, tc.known, tc.cat)
			}
			got := [4]engine.Money{lc.OutOfScope, lc.OverLimit, lc.PreSelfPay, lc.InScope}
			if want := [4]engine.Money{tc.out, tc.over, tc.pre, tc.scop}; got != want {
				t.Errorf("parts (out, over, pre, in) = %v, want %v", got, want)
			}
			if sum := lc.OutOfScope.Add(lc.OverLimit).Add(lc.PreSelfPay).Add(lc.InScope); !sum.Equal(tc.it.Amount) {
				t.Errorf("parts add up to %s, not the amount %s", sum, tc.it.Amount)
			}
		})
	}
}

// TestPropertyClassifyLineIsSettle: over random valid inputs, the sum over
// a claim's lines of each part ClassifyLine gives equals the settlement's
// out_of_scope, over_limit, pre_self_pay and in_scope, and a claim of one
// line settles to exactly that line's parts.
func TestPropertyClassifyLineIsSettle(t *testing.T) {
	g := newGen(t)
	for iter := 0; iter < 300; iter++ {
		in := g.input()
		res := g.mustSettle(in)
		var sum engine.Breakdown
		for _, it := range in.Claim.Items {
			lc := engine.ClassifyLine(in.Policy, it)
			if total := lc.OutOfScope.Add(lc.OverLimit).Add(lc.PreSelfPay).Add(lc.InScope); !total.Equal(it.Amount) {
				g.fatalf("line %+v: parts add up to %s", it, total)
			}
			sum.OutOfScope = sum.OutOfScope.Add(lc.OutOfScope)
			sum.OverLimit = sum.OverLimit.Add(lc.OverLimit)
			sum.PreSelfPay = sum.PreSelfPay.Add(lc.PreSelfPay)
			sum.InScope = sum.InScope.Add(lc.InScope)
		}
		b := res.Breakdown
		if got, want := [4]engine.Money{sum.OutOfScope, sum.OverLimit, sum.PreSelfPay, sum.InScope},
			[4]engine.Money{b.OutOfScope, b.OverLimit, b.PreSelfPay, b.InScope}; got != want {
			g.fatalf("lines add up to %v, the settlement says %v\ninput: %s", got, want, dumpInput(in))
		}

		one := in
		one.Claim.Items = in.Claim.Items[:1]
		lc := engine.ClassifyLine(in.Policy, one.Claim.Items[0])
		b1 := g.mustSettle(one).Breakdown
		if got, want := [4]engine.Money{lc.OutOfScope, lc.OverLimit, lc.PreSelfPay, lc.InScope},
			[4]engine.Money{b1.OutOfScope, b1.OverLimit, b1.PreSelfPay, b1.InScope}; got != want {
			g.fatalf("line %+v classifies as %v, settles as %v", one.Claim.Items[0], got, want)
		}
	}
}
