package engine_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestCheckIDCountsCharacters: API.md limits ids to 64 characters, so 64
// Chinese characters (192 bytes) fit and 65 do not; control characters,
// which no HIS id contains and PostgreSQL cannot store (NUL), are refused.
func TestCheckIDCountsCharacters(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want string // "" when valid, else a word of the violation
	}{
		{"ZY2026-000123", ""},
		{strings.Repeat("住", engine.MaxIDLen), ""},
		{strings.Repeat("x", engine.MaxIDLen), ""},
		{strings.Repeat("住", engine.MaxIDLen+1), "65 characters long"},
		{strings.Repeat("x", engine.MaxIDLen+1), "65 characters long"},
		{strings.Repeat("x", 4*engine.MaxIDLen+1), "257 bytes long"},
		{"", "required"},
		{"ZY\xff", "UTF-8"},
		{"ZY\x00001", "U+0000"},
		{"ZY\t1", "U+0009"},
		{"ZY\u00851", "U+0085"},
	} {
		var v engine.Violations
		engine.CheckID(&v, "request_id", tc.id)
		err := v.Err()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckID(%q) = %v, want valid", tc.id, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckID(%q) = %v, want a violation saying %q", tc.id, err, tc.want)
		}
	}
	// Free text: newlines and tabs are fine, NUL is not; 500 characters of
	// Chinese fit a reason of 500.
	for text, ok := range map[string]bool{
		"患者信息录入错误\n\t重新结算":                         true,
		strings.Repeat("错", engine.MaxReasonLen):   true,
		strings.Repeat("错", engine.MaxReasonLen+1): false,
		"bad\x00": false,
	} {
		var v engine.Violations
		engine.CheckText(&v, "reason", text, engine.MaxReasonLen)
		if got := v.Err() == nil; got != ok {
			t.Errorf("CheckText(%.20q) valid = %v, want %v (%v)", text, got, ok, v.Err())
		}
	}
}

// TestTotalsBounded: a claim's total may be at most MaxTotal (10^12 yuan,
// like one line), and no settlement may carry a figure above it: the
// institution's budget usage or a running total of the person's year. Each
// is INVALID_ARGUMENT (a *ValidationError) naming "items" with the figure.
func TestTotalsBounded(t *testing.T) {
	d := engine.MustMoney
	line := func(amount string) engine.LineItem {
		return engine.LineItem{Code: "A1", Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice(amount), Amount: d(amount)}
	}
	refused := func(t *testing.T, err error, field string, says ...string) {
		t.Helper()
		var ve *engine.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, engine.ErrInvalid) || !ve.Has(field) {
			t.Fatalf("got %v, want a *ValidationError naming %s", err, field)
		}
		for _, s := range says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%q does not say %q", err, s)
			}
		}
	}

	// Exactly 10^12 in two lines settles; one fen more is refused.
	in := crossInput("R1")
	in.Claim.Items = []engine.LineItem{line("600000000000.00"), line("400000000000.00")}
	res, err := engine.Settle(in)
	if err != nil {
		t.Fatalf("a total of exactly %s: %v", engine.MaxTotal, err)
	}
	if !res.Breakdown.Total.Equal(d(engine.MaxTotal)) {
		t.Fatalf("total %s", res.Breakdown.Total)
	}
	in.Claim.Items[1] = line("400000000000.01")
	_, err = engine.Settle(in)
	refused(t, err, "items", "add up to 1000000000000.01", "at most 1000000000000 yuan")
	if err := engine.ValidateClaim(in.Claim); err == nil {
		t.Errorf("ValidateClaim accepted a total above the bound")
	}

	// One line above 10^12 names the line's amount (the API's money parser
	// refuses it first; the engine on its own refuses it too).
	in.Claim.Items = []engine.LineItem{{Code: "A1", Quantity: engine.MustQuantity("1000"), UnitPrice: engine.MustPrice("1000000000000"), Amount: d("1000000000000000")}}
	_, err = engine.Settle(in)
	refused(t, err, "items[0].amount", "at most 1000000000000 yuan")

	// A running total of the person's year would pass the bound.
	in = crossInput("R1")
	in.Accumulators.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{
		engine.VisitInpatient: {InScope: d("999999995000.00"), DeductiblePaid: d("700")},
	}
	_, err = engine.Settle(in)
	refused(t, err, "items", `person "P1"'s 2024 in-scope cost of VISIT_TYPE_INPATIENT to 1000000005000.00`)
	// Up to the bound it settles.
	in.Accumulators.VisitTypes[engine.VisitInpatient] = engine.VisitAccumulator{InScope: d("999999990000.00"), DeductiblePaid: d("700")}
	if _, err := engine.Settle(in); err != nil {
		t.Errorf("a year brought to exactly the bound: %v", err)
	}

	// The institution's budget usage would pass the bound.
	in = crossInput("R1")
	in.Institution.Budgets = []engine.Budget{{Year: 2024, Amount: d("1000000")}}
	in.BudgetUsed = d("999999999000.00")
	_, err = engine.Settle(in)
	refused(t, err, "items", `institution "H1"'s budget usage of 2024 to 1000000006800.00`)
	in.BudgetUsed = d("999999992200.00")
	if res, err := engine.Settle(in); err != nil || !res.Budget.Used.Equal(d(engine.MaxTotal)) {
		t.Errorf("budget usage brought to exactly the bound: %v, %v", res.Budget, err)
	}
}

// TestValidClaimAllocatesNothing: validating a valid claim builds no
// field path (FieldPath turns into text only for a violation), and the
// paths of violations read as before: "items[2].amount".
func TestValidClaimAllocatesNothing(t *testing.T) {
	g := newGen(t)
	for range 20 {
		c := g.input().Claim
		if err := engine.ValidateClaim(c); err != nil {
			g.fatalf("a generated claim is invalid: %v", err)
		}
		if n := testing.AllocsPerRun(20, func() { _ = engine.ValidateClaim(c) }); n != 0 {
			g.fatalf("ValidateClaim of a valid %d-line claim allocates %v times", len(c.Items), n)
		}
	}
	c := g.input().Claim
	for len(c.Items) < 3 {
		c.Items = append(c.Items, c.Items[0])
	}
	c.Items[2].Amount = c.Items[2].Amount.Add(engine.MoneyFromFen(1))
	c.Items[1].Code = ""
	c.Items[0].Quantity = engine.Quantity{}
	err := engine.ValidateClaim(c)
	var ve *engine.ValidationError
	if !errors.As(err, &ve) || !ve.Has("items[2].amount") || !ve.Has("items[1].code") || !ve.Has("items[0].quantity") {
		t.Fatalf("violations %v, want items[2].amount, items[1].code and items[0].quantity", err)
	}
	for _, tc := range []struct {
		p    engine.FieldPath
		want string
	}{
		{engine.Path("request_id"), "request_id"},
		{engine.IndexPath("items", 12, "unit_price"), "items[12].unit_price"},
		{engine.IndexPath("items", 3, ""), "items[3]"},
		{engine.IndexPath("items", 3, "").With("amount"), "items[3].amount"},
		{engine.Path("filing").With("region"), "filing.region"},
		{engine.IndexPath("policy.catalog", 0, "price_cap").With("x"), "policy.catalog[0].price_cap.x"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v renders %q, want %q", tc.p, got, tc.want)
		}
	}
}
