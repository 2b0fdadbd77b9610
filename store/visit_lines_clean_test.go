package store

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// oldCheckFeeDetails is CheckFeeDetails as it was before lineClean, every
// line through the per-field checks: the judge of the fast path.
func oldCheckFeeDetails(lines []FeeDetail) error {
	return checkFeeDetails(lines, func(*FeeDetail) bool { return false })
}

// trickyTexts are texts at the edges of CheckIDAt's and CheckTextAt's
// rules: empty, NUL, controls, DEL, invalid and surrogate UTF-8, U+FFFD
// itself, and lengths at and above the limits in bytes and characters.
var trickyTexts = []string{
	"", "A-01", "头孢克肟胶囊", "x\x00y", "\x00", "a\tb", "\x1f", "\x7f", "é", "\u0085", "\xff", "a\xc3", "\xed\xa0\x80",
	"\ufffd", "\xef\xbf\xbd", "\u2028",
	strings.Repeat("a", engine.MaxIDLen), strings.Repeat("a", engine.MaxIDLen+1),
	strings.Repeat("长", engine.MaxIDLen), strings.Repeat("长", engine.MaxIDLen+1),
	strings.Repeat("长", engine.MaxNameLen), strings.Repeat("长", engine.MaxNameLen+1),
	strings.Repeat("𝄞", engine.MaxIDLen), strings.Repeat("𝄞", engine.MaxIDLen) + "a",
	strings.Repeat("a", engine.MaxNameLen), strings.Repeat("a", engine.MaxNameLen+1),
	strings.Repeat("a", 4*engine.MaxNameLen+1),
}

// TestCheckFeeDetailsAsBefore compares CheckFeeDetails with the
// implementation it replaced on random lines of tricky texts and signed
// figures: the same violations, in the same order, and nil for the same
// lines; and asks lineClean of every tricky text alone.
func TestCheckFeeDetailsAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	text := func() string {
		if r.IntN(2) == 0 {
			return "ok"
		}
		return trickyTexts[r.IntN(len(trickyTexts))]
	}
	sign := func() int64 { return []int64{0, 1, 100, -1}[r.IntN(4)] }
	clean := 0
	for range 20000 {
		lines := make([]FeeDetail, 1+r.IntN(4))
		for i := range lines {
			lines[i] = FeeDetail{SN: text(), Batch: text(), Code: text(), Name: text(), FeeTime: text(), MedType: text(),
				Quantity: engine.QuantityFromScaled(sign()), UnitPrice: engine.PriceFromScaled(sign()), Amount: engine.MoneyFromFen(sign())}
			if r.IntN(3) == 0 {
				lines[i] = FeeDetail{SN: "1", Name: text(), Quantity: engine.QuantityOf(1)}
			}
		}
		want, got := oldCheckFeeDetails(lines), CheckFeeDetails(lines)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("CheckFeeDetails(%q) = %v; want %v", lines, got, want)
		}
		if want == nil {
			clean++
		}
	}
	if clean < 1000 {
		t.Fatalf("only %d uploads passed", clean)
	}
	for _, s := range trickyTexts {
		for _, field := range []string{"sn", "batch", "name"} {
			d := FeeDetail{SN: "1", Name: "n"}
			switch field {
			case "sn":
				d.SN = s
			case "batch":
				d.Batch = s
			case "name":
				d.Name = s
			}
			if want := oldCheckFeeDetails([]FeeDetail{d}) == nil; lineClean(&d) && !want {
				t.Errorf("%s %q: lineClean says clean, the checks refuse it", field, s)
			}
		}
	}
}
