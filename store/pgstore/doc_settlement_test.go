package pgstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// updateGolden rewrites the golden files of the current format (go test
// -run TestGolden -update-golden). The files of the untagged format are
// written only when missing: they are the bytes rows already stored carry.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden")

// goldenClaim, goldenResult and goldenAccumulators are the values the
// golden files hold.
func goldenClaim() engine.Claim {
	return engine.Claim{RequestID: "R1", InstitutionID: "H1", PersonID: "P1", VisitType: engine.VisitInpatient,
		SettleDate: engine.Date{Year: 2026, Month: 3, Day: 15}, CrossRegion: engine.CrossRegionLocal, DRGCode: "GB11",
		UsePersonalAccount: true, Items: []engine.LineItem{
			{Code: "X001", Name: "青霉素", Quantity: engine.MustQuantity("2"), UnitPrice: engine.MustPrice("50.00"), Amount: engine.MustMoney("100.00")},
			{Code: "X002", Name: "CT", Quantity: engine.MustQuantity("1"), UnitPrice: engine.MustPrice("200.50"), Amount: engine.MustMoney("200.50")},
		}}
}

func goldenResult() engine.Result {
	delta := engine.NewAccumulators("P1", 2026)
	delta.InpatientCount = 1
	delta.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{engine.VisitInpatient: {InScope: engine.MustMoney("255.00"), DeductiblePaid: engine.MustMoney("50.00")}}
	delta.PoolUsed = map[string]engine.Money{"main": engine.MustMoney("140.00")}
	delta.CatastrophicBase, delta.CatastrophicPaid = engine.MustMoney("20.00"), engine.MustMoney("10.00")
	delta.AidBase, delta.AidPaid, delta.AidOutOfPocket = engine.MustMoney("10.00"), engine.MustMoney("5.00"), engine.MustMoney("5.00")
	limit := engine.MustMoney("1000000")
	return engine.Result{PolicyVersion: "2026.1", PolicyRegion: "110000", PolicyScheme: engine.SchemeEmployee,
		CrossRegion: engine.CrossRegionLocal,
		Breakdown: engine.Breakdown{Total: engine.MustMoney("300.50"), OutOfScope: engine.MustMoney("20.50"), OverLimit: engine.MustMoney("10.00"), PreSelfPay: engine.MustMoney("15.00"),
			InScope: engine.MustMoney("255.00"), Deductible: engine.MustMoney("50.00"), BasicFund: engine.MustMoney("140.00"), OverCap: engine.MustMoney("0"), Catastrophic: engine.MustMoney("10.00"),
			MedicalAid: engine.MustMoney("6.00"), FundTotal: engine.MustMoney("156.00"), PersonalTotal: engine.MustMoney("144.50"), Account: engine.MustMoney("44.50"), Cash: engine.MustMoney("100.00")},
		Details: []engine.Detail{
			{Fund: engine.FundBasic, Band: 1, Ratio: engine.MustRatio("0.5"), Base: engine.MustMoney("100.00"), Amount: engine.MustMoney("50.00")},
			{Fund: engine.FundBasic, Band: 2, Ratio: engine.MustRatio("0.9"), Base: engine.MustMoney("100.00"), Amount: engine.MustMoney("90.00")},
			{Fund: engine.FundCatastrophic, Band: 1, Ratio: engine.MustRatio("0.5"), Base: engine.MustMoney("20.00"), Amount: engine.MustMoney("10.00")},
			{Fund: engine.FundMedicalAid, Band: 1, Ratio: engine.MustRatio("0.5"), Base: engine.MustMoney("10.00"), Amount: engine.MustMoney("5.00")},
			{Fund: engine.FundAidCeiling, Band: 1, Ratio: engine.MustRatio("1"), Base: engine.MustMoney("1.00"), Amount: engine.MustMoney("1.00")},
		},
		Delta:       delta,
		Budget:      &engine.BudgetStatus{Year: 2026, Limit: limit, Used: engine.MustMoney("140.00"), State: engine.BudgetWithin},
		BudgetLimit: &limit, WarnRatio: engine.MustRatio("0.9")}
}

// goldenEarlyResult is goldenResult as recorded before results named their
// policy region, scheme and cross-region state.
func goldenEarlyResult() engine.Result {
	r := goldenResult()
	r.PolicyRegion, r.PolicyScheme, r.CrossRegion = "", engine.SchemeUnspecified, engine.CrossRegionUnspecified
	return r
}

func goldenAccumulators() engine.Accumulators {
	a := engine.NewAccumulators("P1", 2026)
	a.InpatientCount = 2
	a.VisitTypes = map[engine.VisitType]engine.VisitAccumulator{
		engine.VisitInpatient:  {InScope: engine.MustMoney("500.00"), DeductiblePaid: engine.MustMoney("100.00")},
		engine.VisitOutpatient: {InScope: engine.MustMoney("30.50"), DeductiblePaid: engine.MustMoney("0")},
	}
	a.PoolUsed = map[string]engine.Money{"main": engine.MustMoney("300.00"), "chronic": engine.MustMoney("12.34")}
	a.CatastrophicBase, a.CatastrophicPaid = engine.MustMoney("40.00"), engine.MustMoney("20.00")
	a.AidBase, a.AidPaid, a.AidOutOfPocket = engine.MustMoney("20.00"), engine.MustMoney("12.00"), engine.MustMoney("8.00")
	return a
}

// golden reads a golden file, writing it first when update says so.
func golden(t *testing.T, name string, write func() ([]byte, error), update bool) []byte {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if _, err := os.Stat(path); update || errors.Is(err, os.ErrNotExist) && *updateGolden {
		b, err := write()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b, []byte("\n"))
}

// same fails unless got and want are the same values (decimals by value).
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s decodes to\n%s\nwant\n%s", what, g, w)
	}
}

// untagged is how documents were written before they had a schema: the
// JSON of the engine structs.
func untagged(v any) func() ([]byte, error) { return func() ([]byte, error) { return json.Marshal(v) } }

// withoutKeys is an untagged document with some top-level keys removed.
func withoutKeys(v any, keys ...string) func() ([]byte, error) {
	return func() ([]byte, error) {
		b, _ := json.Marshal(v)
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		for _, k := range keys {
			delete(m, k)
		}
		return json.Marshal(m)
	}
}

// TestGoldenClaim: the stored claim documents of every format decode to
// the exact claim, and the current format is written byte for byte.
func TestGoldenClaim(t *testing.T) {
	want := goldenClaim()
	for _, name := range []string{"claim_untagged.json", "claim_v1.json"} {
		w := untagged(want)
		if name == "claim_v1.json" {
			w = func() ([]byte, error) { return encodeClaim(want) }
		}
		doc := golden(t, name, w, *updateGolden && name == "claim_v1.json")
		got, err := decodeClaim(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		same(t, name, got, want)
	}
	enc, err := encodeClaim(want)
	if err != nil {
		t.Fatal(err)
	}
	if doc := golden(t, "claim_v1.json", nil, false); !bytes.Equal(enc, doc) {
		t.Errorf("a claim is written as\n%s\nthe golden file has\n%s", enc, doc)
	}
}

// TestGoldenResult: the stored result documents of every format (untagged
// before and after results named their policy and cross-region state, and
// the current) decode to the exact result; the current format is written
// byte for byte.
func TestGoldenResult(t *testing.T) {
	cases := []struct {
		name  string
		want  engine.Result
		write func() ([]byte, error)
	}{
		{"result_untagged_early.json", goldenEarlyResult(), withoutKeys(goldenResult(), "PolicyRegion", "PolicyScheme", "CrossRegion")},
		{"result_untagged.json", goldenResult(), untagged(goldenResult())},
		{"result_v1.json", goldenResult(), func() ([]byte, error) { return encodeResult(goldenResult()) }},
	}
	for _, c := range cases {
		doc := golden(t, c.name, c.write, *updateGolden && strings.HasSuffix(c.name, "_v1.json"))
		got, err := decodeResult(doc)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		same(t, c.name, got, c.want)
	}
	enc, err := encodeResult(goldenResult())
	if err != nil {
		t.Fatal(err)
	}
	if doc := golden(t, "result_v1.json", nil, false); !bytes.Equal(enc, doc) {
		t.Errorf("a result is written as\n%s\nthe golden file has\n%s", enc, doc)
	}
}

// TestGoldenAccumulators: the stored accumulators of every format decode
// to the exact totals; the current format is written byte for byte.
func TestGoldenAccumulators(t *testing.T) {
	want := goldenAccumulators()
	for _, name := range []string{"accumulators_untagged.json", "accumulators_v1.json"} {
		w := untagged(want)
		if name == "accumulators_v1.json" {
			w = func() ([]byte, error) { return encodeAccumulators(want) }
		}
		doc := golden(t, name, w, *updateGolden && name == "accumulators_v1.json")
		got, err := decodeAccumulators(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		same(t, name, got, want)
	}
	enc, err := encodeAccumulators(want)
	if err != nil {
		t.Fatal(err)
	}
	if doc := golden(t, "accumulators_v1.json", nil, false); !bytes.Equal(enc, doc) {
		t.Errorf("accumulators are written as\n%s\nthe golden file has\n%s", enc, doc)
	}
}

// edit is a golden document with one change made to its JSON.
func edit(t *testing.T, name string, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(golden(t, name, nil, false), &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStoredDocumentRefused: a stored document missing a field it needs, of
// an unknown version, with an unknown enum number, or breaking an
// invariant is refused as engine.ErrInvariant, never read as zero.
func TestStoredDocumentRefused(t *testing.T) {
	cases := []struct {
		name   string
		decode func([]byte) error
		doc    []byte
	}{
		{"result without Breakdown", decodeResultErr, edit(t, "result_untagged.json", func(m map[string]any) { delete(m, "Breakdown") })},
		{"result without Breakdown.PersonalTotal", decodeResultErr, edit(t, "result_v1.json", func(m map[string]any) {
			delete(m["Breakdown"].(map[string]any), "PersonalTotal")
		})},
		{"result without Delta.AidPaid", decodeResultErr, edit(t, "result_v1.json", func(m map[string]any) {
			delete(m["Delta"].(map[string]any), "AidPaid")
		})},
		{"result of version 2", decodeResultErr, edit(t, "result_v1.json", func(m map[string]any) { m["v"] = 2 })},
		{"result with an unknown fund", decodeResultErr, edit(t, "result_v1.json", func(m map[string]any) {
			m["Details"].([]any)[0].(map[string]any)["Fund"] = 9
		})},
		{"result whose parts do not add up", decodeResultErr, edit(t, "result_v1.json", func(m map[string]any) {
			m["Breakdown"].(map[string]any)["PersonalTotal"] = "144.49"
		})},
		{"claim without Items", decodeClaimErr, edit(t, "claim_untagged.json", func(m map[string]any) { delete(m, "Items") })},
		{"claim without an item's Amount", decodeClaimErr, edit(t, "claim_v1.json", func(m map[string]any) {
			delete(m["Items"].([]any)[1].(map[string]any), "Amount")
		})},
		{"claim with an unknown visit type", decodeClaimErr, edit(t, "claim_v1.json", func(m map[string]any) { m["VisitType"] = 7 })},
		{"accumulators without AidBase", decodeAccumulatorsErr, edit(t, "accumulators_untagged.json", func(m map[string]any) { delete(m, "AidBase") })},
		{"accumulators with a negative total", decodeAccumulatorsErr, edit(t, "accumulators_v1.json", func(m map[string]any) { m["CatastrophicPaid"] = "-0.01" })},
		{"accumulators with a negative pool", decodeAccumulatorsErr, edit(t, "accumulators_v1.json", func(m map[string]any) {
			m["PoolUsed"].(map[string]any)["main"] = "-1"
		})},
		{"accumulators with an unknown visit type", decodeAccumulatorsErr, edit(t, "accumulators_v1.json", func(m map[string]any) {
			m["VisitTypes"].(map[string]any)["9"] = map[string]any{"InScope": "1", "DeductiblePaid": "0"}
		})},
		{"accumulators not JSON", decodeAccumulatorsErr, []byte("{")},
		{"result with an amount of three decimals", decodeResultErr, edit(t, "result_v1.json", func(m map[string]any) {
			m["Breakdown"].(map[string]any)["Cash"] = "100.001"
		})},
		{"claim with a price of seven decimals", decodeClaimErr, edit(t, "claim_v1.json", func(m map[string]any) {
			m["Items"].([]any)[0].(map[string]any)["UnitPrice"] = "50.0000001"
		})},
		{"claim with a quantity that is not a string", decodeClaimErr, edit(t, "claim_v1.json", func(m map[string]any) {
			m["Items"].([]any)[0].(map[string]any)["Quantity"] = 2
		})},
		{"accumulators with an amount in an exponent", decodeAccumulatorsErr, edit(t, "accumulators_v1.json", func(m map[string]any) {
			m["AidBase"] = "2e1"
		})},
	}
	for _, c := range cases {
		if err := c.decode(c.doc); !errors.Is(err, engine.ErrInvariant) {
			t.Errorf("%s: %v, want engine.ErrInvariant", c.name, err)
		}
	}
}

func decodeResultErr(b []byte) error       { _, err := decodeResult(b); return err }
func decodeClaimErr(b []byte) error        { _, err := decodeClaim(b); return err }
func decodeAccumulatorsErr(b []byte) error { _, err := decodeAccumulators(b); return err }

// TestStoredFiguresByValue: a stored figure is read by value, whatever
// trailing zeros it was written with ("300.500", "100.00", a quantity
// "2.0000"), and a null amount reads as zero, as shopspring/decimal read
// them.
func TestStoredFiguresByValue(t *testing.T) {
	res := edit(t, "result_v1.json", func(m map[string]any) {
		b := m["Breakdown"].(map[string]any)
		b["Total"], b["Cash"], b["OverCap"] = "300.500", "100.00", nil
		m["WarnRatio"] = "0.9000"
	})
	got, err := decodeResult(res)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "result with trailing zeros", got, goldenResult())
	claim := edit(t, "claim_v1.json", func(m map[string]any) {
		it := m["Items"].([]any)[0].(map[string]any)
		it["Quantity"], it["UnitPrice"], it["Amount"] = "2.0000", "50.000000", "100.00"
	})
	gotClaim, err := decodeClaim(claim)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "claim with trailing zeros", gotClaim, goldenClaim())
}
