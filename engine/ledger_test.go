package engine

import "testing"

// TestChangesReverseUndoesSettle: a settlement's changes followed by its
// reversal's leave accumulators, account and budget as they were, and each
// figure moves the way SETTLEMENT.md says.
func TestChangesReverseUndoesSettle(t *testing.T) {
	d := MustMoney
	claim := Claim{PersonID: "P1", InstitutionID: "H1", SettleDate: Date{Year: 2026, Month: 3, Day: 1}}
	delta := NewAccumulators("P1", 2026)
	delta.InpatientCount = 1
	delta.VisitTypes = map[VisitType]VisitAccumulator{VisitInpatient: {InScope: d("100"), DeductiblePaid: d("10")}}
	delta.PoolUsed = map[string]Money{"main": d("60")}
	delta.CatastrophicBase, delta.CatastrophicPaid = d("5"), d("2")
	delta.AidBase, delta.AidPaid, delta.AidOutOfPocket = d("3"), d("1"), d("2")
	res := Result{Delta: delta, Breakdown: Breakdown{Account: d("7.50"), BasicFund: d("60")}}
	st := Settlement{Claim: claim, Result: res}

	set := SettleChanges(claim, res)
	if set.State != StateSettled || !set.Account.Equal(d("-7.50")) || !set.Budget.Equal(d("60")) || set.Year != 2026 {
		t.Fatalf("settle changes %+v", set)
	}
	acc := NewAccumulators("P1", 2026)
	acc.VisitTypes = map[VisitType]VisitAccumulator{VisitOutpatient: {InScope: d("1")}}
	after := set.ApplyAccumulators(acc)
	if !after.Equal(acc.Apply(delta, +1)) {
		t.Fatalf("settle applies %+v", after)
	}
	rev := ReverseChanges(st)
	if rev.State != StateReversed || !rev.Account.Equal(d("7.50")) || !rev.Budget.Equal(d("-60")) {
		t.Fatalf("reverse changes %+v", rev)
	}
	if back := rev.ApplyAccumulators(after); !back.Equal(acc) {
		t.Fatalf("reverse leaves %+v, want %+v", back, acc)
	}
	if b := rev.ApplyAccount(set.ApplyAccount(d("20"))); !b.Equal(d("20")) {
		t.Fatalf("account %s", b)
	}
	if u := rev.ApplyBudget(set.ApplyBudget(d("5"))); !u.Equal(d("5")) {
		t.Fatalf("budget %s", u)
	}
}
