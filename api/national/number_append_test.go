package national

import (
	"strconv"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// TestAppendShortest: appendShortest writes what the engine's String
// methods write.
func TestAppendShortest(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 5, 10, 100, 1000, 9999, 10000, 10001, 12345, 120000, 1234567890, -1234500, -10000,
		999999, 1000000, 1000001, 7_000_000_000_000, -9_223_372_036_854_775_807} {
		if got, want := string(appendShortest([]byte("x"), v, 4)), "x"+engine.QuantityFromScaled(v).String(); got != want {
			t.Errorf("quantity %d: %q, want %q", v, got, want)
		}
		if got, want := string(appendShortest(nil, v, 6)), engine.PriceFromScaled(v).String(); got != want {
			t.Errorf("price %d: %q, want %q", v, got, want)
		}
		if got, want := string(engine.MoneyFromFen(v).AppendFixed(nil)), engine.MoneyFromFen(v).String(); got != want {
			t.Errorf("money %d: %q, want %q", v, got, want)
		}
	}
}

// TestClaimItemsTexts: the items' figures are their String texts, for
// claims of few lines and of more than the stack's room.
func TestClaimItemsTexts(t *testing.T) {
	for _, n := range []int{1, 6, 32, 33, 100} {
		var details []store.FeeDetail
		var want engine.Money
		for i := range n {
			q := engine.QuantityFromScaled(int64(i*12345 + 10000))
			p := engine.PriceFromScaled(int64(i*1000001 + 500000))
			a, _ := p.MulQuantity(q)
			details = append(details, store.FeeDetail{Code: "C" + strconv.Itoa(i), Name: "名" + strconv.Itoa(i), Quantity: q, UnitPrice: p, Amount: a})
			want = want.Add(a)
		}
		items, sum, err := claimItems(store.Visit{ID: "V1"}, "", details)
		if err != nil || !sum.Equal(want) || len(items) != n {
			t.Fatalf("%d lines: %d items, sum %s (want %s), %v", n, len(items), sum, want, err)
		}
		for i, it := range items {
			d := details[i]
			if it.GetCode() != d.Code || it.GetName() != d.Name || it.GetQuantity() != d.Quantity.String() ||
				it.GetUnitPrice() != d.UnitPrice.String() || it.GetAmount() != d.Amount.String() {
				t.Fatalf("%d lines, item %d: %v, from %+v", n, i, it, d)
			}
		}
	}
}
