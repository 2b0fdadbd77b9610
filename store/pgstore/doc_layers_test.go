package pgstore

import (
	"reflect"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestResultLayersRoundTrip: a result's layers and the account balance
// it read are stored and read back exactly; a result without them (as
// recorded before they existed) reads back without them.
func TestResultLayersRoundTrip(t *testing.T) {
	r := layeredResult()
	doc, err := encodeResult(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeResult(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Layers, r.Layers) || !got.AccountBalance.Equal(r.AccountBalance) {
		t.Errorf("read back layers %+v balance %s, want %+v %s", got.Layers, got.AccountBalance, r.Layers, r.AccountBalance)
	}
	plain, err := encodeResult(goldenResult())
	if err != nil {
		t.Fatal(err)
	}
	back, err := decodeResult(plain)
	if err != nil {
		t.Fatal(err)
	}
	if back.Layers != nil || !back.AccountBalance.IsZero() {
		t.Errorf("a result without layers read back with %+v, balance %s", back.Layers, back.AccountBalance)
	}
}

// layeredResult is the golden result with two fund layers (one with a
// cap and two bands, one with a ceiling) and the account balance it read.
func layeredResult() engine.Result {
	r := goldenResult()
	capAmount, ceiling, upTo := engine.MustMoney("400000"), engine.MustMoney("5000"), engine.MustMoney("10000")
	r.Layers = []engine.Layer{
		{Fund: engine.FundBasic, From: engine.MustMoney("100"), Base: engine.MustMoney("255"), Threshold: engine.MustMoney("200"),
			Bands: []engine.Band{{UpTo: &upTo, Ratio: engine.MustRatio("0.5")}, {Ratio: engine.MustRatio("0.9")}},
			Cap:   &capAmount, Room: engine.MustMoney("399000"), Raw: engine.MustMoney("140"), Paid: engine.MustMoney("140")},
		{Fund: engine.FundMedicalAid, Base: engine.MustMoney("10"), Bands: []engine.Band{{Ratio: engine.MustRatio("0.5")}},
			Raw: engine.MustMoney("5"), Paid: engine.MustMoney("5"), Ceiling: &ceiling, CeilingPaid: engine.MustMoney("1")},
	}
	r.AccountBalance = engine.MustMoney("1234.56")
	return r
}
