package engine_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// fingerprintRef is Claim.Fingerprint as it was written with fmt (stores
// keep these digests): figures in their shortest form, money included.
func fingerprintRef(c engine.Claim) string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	cr := c.CrossRegion
	if cr == engine.CrossRegionUnspecified {
		cr = engine.CrossRegionLocal
	}
	field(c.RequestID)
	field(c.InstitutionID)
	field(c.PersonID)
	fmt.Fprintf(h, "%d;%s;%d;%t;", c.VisitType, c.SettleDate, cr, c.UsePersonalAccount)
	field(c.DRGCode)
	fmt.Fprintf(h, "%d;", len(c.Items))
	for _, it := range c.Items {
		field(it.Code)
		field(it.Name)
		amount, _ := it.Amount.MarshalText()
		field(it.Quantity.String())
		field(it.UnitPrice.String())
		field(string(amount))
	}
	_, _ = io.WriteString(h, "end")
	return hex.EncodeToString(h.Sum(nil))
}

// TestFingerprintUnchanged: Fingerprint gives the digests stores have
// recorded, for random claims and odd ones (negative figures, Chinese
// names, dates far out, every cross-region state).
func TestFingerprintUnchanged(t *testing.T) {
	g := newGen(t)
	for i := range 300 {
		c := g.input().Claim
		c.CrossRegion = engine.CrossRegion(i % 5)
		switch i % 7 {
		case 1:
			c.Items[0].Name = strings.Repeat("阿司匹林", 1+g.intn(20))
			c.DRGCode = "ES31"
		case 2:
			c.Items[0].Amount = engine.MoneyFromFen(-g.r.Int64N(1e15))
			c.Items[0].Quantity = engine.QuantityFromScaled(-1)
		case 3:
			c.SettleDate = engine.Date{Year: []int{0, 12, 999, 10000, -3}[g.intn(5)], Month: 13, Day: 100}
		case 4:
			c.Items = nil
		case 5: // texts longer than Fingerprint's buffer
			c.RequestID = strings.Repeat("r", 500+g.intn(600))
			c.Items[len(c.Items)-1].Name = strings.Repeat("名", 100+g.intn(1000))
		}
		if got, want := c.Fingerprint(), fingerprintRef(c); got != want {
			g.fatalf("Fingerprint of %+v = %s, want %s", c, got, want)
		}
		if !c.SameRequest(c.Fingerprint()) {
			g.fatalf("a claim is not the same request as itself")
		}
	}
	for _, d := range []engine.Date{{Year: 2026, Month: 3, Day: 9}, {Year: 5, Month: 1, Day: 1}, {Year: -12, Month: 0, Day: 0}, {Year: 12345, Month: 100, Day: 7}} {
		if got, want := d.String(), fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day); got != want {
			t.Errorf("Date%+v renders %q, want %q", d, got, want)
		}
	}
}
