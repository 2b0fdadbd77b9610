package storetest

import (
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestDiffComparesFigures: diff compares the engine's figures (structs
// whose one field is unexported) by value; skipping them as it skips
// other unexported fields would make every two settlements alike.
func TestDiffComparesFigures(t *testing.T) {
	a := engine.Result{Breakdown: engine.Breakdown{Total: dec("1.00")}, WarnRatio: ratio("0.9"),
		Details: []engine.Detail{{Ratio: ratio("0.5"), Amount: dec("2")}}, BudgetLimit: decp("7")}
	b := a
	b.Details = []engine.Detail{{Ratio: ratio("0.5"), Amount: dec("2.00")}}
	b.BudgetLimit = decp("7.00")
	if d := diff(a, b); len(d) > 0 {
		t.Errorf("equal results differ: %v", d)
	}
	for what, change := range map[string]func(r *engine.Result){
		"total":        func(r *engine.Result) { r.Breakdown.Total = dec("1.01") },
		"warn ratio":   func(r *engine.Result) { r.WarnRatio = ratio("0.8") },
		"detail":       func(r *engine.Result) { r.Details = []engine.Detail{{Ratio: ratio("0.5"), Amount: dec("2.01")}} },
		"budget limit": func(r *engine.Result) { r.BudgetLimit = decp("8") },
	} {
		c := a
		change(&c)
		if d := diff(a, c); len(d) != 1 {
			t.Errorf("%s changed: diff %v, want one difference", what, d)
		}
	}
}
