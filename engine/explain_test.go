package engine_test

import (
	"testing"

	"github.com/medsettle/medsettle/engine"
)

func mp(s string) *engine.Money { m := engine.MustMoney(s); return &m }

// TestExplainBasicLayer: a basic layer with a deductible, two bands and a
// cap that cuts, explained in exact figures.
func TestExplainBasicLayer(t *testing.T) {
	l := engine.Layer{Fund: engine.FundBasic, From: engine.MustMoney("100"), Base: engine.MustMoney("12000"),
		Threshold: engine.MustMoney("200"),
		Bands:     []engine.Band{{UpTo: mp("10000"), Ratio: engine.MustRatio("0.85")}, {Ratio: engine.MustRatio("0.875")}},
		Cap:       mp("9000"), Room: engine.MustMoney("9000"), Raw: engine.MustMoney("9280"), Paid: engine.MustMoney("9000")}
	details := []engine.Detail{
		{Fund: engine.FundBasic, Band: 0, Ratio: engine.MustRatio("0.85"), Base: engine.MustMoney("9800"), Amount: engine.MustMoney("8330")},
		{Fund: engine.FundBasic, Band: 1, Ratio: engine.MustRatio("0.875"), Base: engine.MustMoney("2100"), Amount: engine.MustMoney("670")},
	}
	got := engine.ExplainLayer(l, details)
	want := "本年此前累计100.00元；本次计入12000.00元；起付线200.00元（本次起付线以下100.00元由个人支付）；" +
		"200.00–10000.00元部分9800.00元按85%支付8330.00元；10000.00元以上部分2100.00元按87.5%支付670.00元；" +
		"年度最高支付限额9000.00元，本次前剩余9000.00元，超出限额280.00元不予支付；合计支付9000.00元。"
	if got != want {
		t.Errorf("ExplainLayer =\n%s\nwant\n%s", got, want)
	}
	if r := l.TopRatio(); !r.Equal(engine.MustRatio("0.875")) {
		t.Errorf("TopRatio = %s, want 0.875", r)
	}
	if room := l.CapRoom(); !room.Equal(engine.MustMoney("9000")) {
		t.Errorf("CapRoom = %s, want 9000", room)
	}
}

// TestExplainNothingReached: a claim under the threshold reaches no band:
// the ratio is 0, an uncapped layer's room is 0, and the sentence says so.
func TestExplainNothingReached(t *testing.T) {
	l := engine.Layer{Fund: engine.FundBasic, Base: engine.MustMoney("150"), Threshold: engine.MustMoney("200"),
		Bands: []engine.Band{{Ratio: engine.MustRatio("0.9")}}, Room: engine.MustMoney("5")}
	got := engine.ExplainLayer(l, nil)
	want := "本次计入150.00元；起付线200.00元（本次起付线以下150.00元由个人支付）；未进入支付段；合计支付0.00元。"
	if got != want {
		t.Errorf("ExplainLayer = %s, want %s", got, want)
	}
	if !l.TopRatio().IsZero() || !l.CapRoom().IsZero() {
		t.Errorf("TopRatio %s, CapRoom %s: want 0 and 0", l.TopRatio(), l.CapRoom())
	}
}

// TestExplainAidCeiling: medical aid's ceiling payment is named with the
// ceiling and counted in the total.
func TestExplainAidCeiling(t *testing.T) {
	l := engine.Layer{Fund: engine.FundMedicalAid, Base: engine.MustMoney("1000"),
		Bands: []engine.Band{{Ratio: engine.MustRatio("0.7")}}, Raw: engine.MustMoney("700"), Paid: engine.MustMoney("700"),
		Ceiling: mp("100"), CeilingPaid: engine.MustMoney("200")}
	details := []engine.Detail{{Fund: engine.FundMedicalAid, Band: 0, Ratio: engine.MustRatio("0.7"), Base: engine.MustMoney("1000"), Amount: engine.MustMoney("700")}}
	got := engine.ExplainLayer(l, details)
	want := "本次计入1000.00元；0.00元以上部分1000.00元按70%支付700.00元；个人自付超过年度限额100.00元的部分全额救助200.00元；合计支付900.00元。"
	if got != want {
		t.Errorf("ExplainLayer = %s, want %s", got, want)
	}
}

// TestPropertyLayers: on random claims, every layer agrees with the
// result: the basic layer paid the basic fund, the catastrophic layer the
// catastrophic figure, aid the medical aid; the parts add up to the
// layer's base above the threshold, and the room is what the cap allowed
// (the layer never pays above it).
func TestPropertyLayers(t *testing.T) {
	g := newGen(t)
	for iter := 0; iter < 400; iter++ {
		in := g.input()
		res := g.mustSettle(in)
		for _, l := range res.Layers {
			var paid engine.Money
			switch l.Fund {
			case engine.FundBasic:
				paid = res.Breakdown.BasicFund
			case engine.FundCatastrophic:
				paid = res.Breakdown.Catastrophic
			case engine.FundMedicalAid:
				paid = res.Breakdown.MedicalAid
			default:
				g.fatalf("layer of fund %v", l.Fund)
			}
			if !l.Paid.Add(l.CeilingPaid).Equal(paid) {
				g.fatalf("layer %v paid %s + %s, the breakdown says %s\n%s", l.Fund, l.Paid, l.CeilingPaid, paid, dumpInput(in))
			}
			if l.Cap != nil && l.Paid.GreaterThan(l.Room) {
				g.fatalf("layer %v paid %s above its room %s", l.Fund, l.Paid, l.Room)
			}
			var parts engine.Money
			for _, p := range l.Parts() {
				parts = parts.Add(p.Base)
			}
			above := l.From.Add(l.Base).Max(l.Threshold).Sub(l.From.Max(l.Threshold))
			if !parts.Equal(above) {
				g.fatalf("layer %v: parts add up to %s, the base above the threshold is %s", l.Fund, parts, above)
			}
			if engine.ExplainLayer(l, res.Details) == "" {
				g.fatalf("empty explanation")
			}
		}
		if !res.AccountBalance.Equal(in.Person.AccountBalance) {
			g.fatalf("AccountBalance %s, the person had %s", res.AccountBalance, in.Person.AccountBalance)
		}
	}
}

// TestExplainLayerAllocs: the sentence is written into one buffer: one
// allocation for the string, none for AppendExplainLayer with room.
func TestExplainLayerAllocs(t *testing.T) {
	l := engine.Layer{Fund: engine.FundBasic, From: engine.MustMoney("100"), Base: engine.MustMoney("12000"),
		Threshold: engine.MustMoney("200"),
		Bands:     []engine.Band{{UpTo: mp("10000"), Ratio: engine.MustRatio("0.85")}, {Ratio: engine.MustRatio("0.875")}},
		Cap:       mp("9000"), Room: engine.MustMoney("9000"), Raw: engine.MustMoney("9280"), Paid: engine.MustMoney("9000")}
	details := []engine.Detail{{Fund: engine.FundBasic, Band: 0, Ratio: engine.MustRatio("0.85"), Amount: engine.MustMoney("8330")}}
	if n := testing.AllocsPerRun(100, func() { _ = engine.ExplainLayer(l, details) }); n != 1 {
		t.Errorf("ExplainLayer allocates %v times, want 1", n)
	}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = engine.AppendExplainLayer(buf[:0], l, details) }); n != 0 {
		t.Errorf("AppendExplainLayer allocates %v times, want 0", n)
	}
	if got, want := string(engine.AppendExplainLayer([]byte("x"), l, details)), "x"+engine.ExplainLayer(l, details); got != want {
		t.Errorf("AppendExplainLayer after x = %s, want %s", got, want)
	}
}
