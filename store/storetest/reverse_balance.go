package storetest

import (
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// testReverseBalanceAfter: a reversal keeps the person's account balance
// right after it (engine.Settlement.BalanceAfterReversal): Reverse answers
// it, GetSettlement reads it back, a replayed Reverse answers the same, and
// neither an AdjustAccount nor a settlement after it changes what is read
// back. A settlement not reversed carries none.
func testReverseBalanceAfter(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	st := e.mustSettle(inpatient("req-1", hospBudget, psnEmployed, day2024, "7000"))
	if !st.Result.Breakdown.Account.IsPositive() {
		t.Fatalf("fixture: account %s, want > 0", st.Result.Breakdown.Account)
	}
	if st.BalanceAfterReversal != nil {
		t.Errorf("Settle answered a balance after reversal %s", st.BalanceAfterReversal)
	}
	if got := e.get(st.ID).BalanceAfterReversal; got != nil {
		t.Errorf("a settlement not reversed reads a balance after reversal %s", got)
	}
	other := e.mustSettle(inpatient("req-2", hospBudget, psnRetired, day2024, "6000"))

	before := e.snap(psnEmployed, hospBudget, 2024).Person.AccountBalance
	want := before.Add(st.Result.Breakdown.Account)
	r := store.Reversal{RequestID: "rev-1", SettlementID: st.ID, Reason: "wrong patient", Institution: hospBudget}
	rev, err := e.st.Reverse(e.ctx, r)
	if err != nil {
		t.Fatalf("Reverse: %v", err)
	}
	if rev.BalanceAfterReversal == nil || !rev.BalanceAfterReversal.Equal(want) {
		t.Fatalf("Reverse answered a balance after reversal %s, want %s (the balance %s plus the account's %s)",
			fmtMoneyPtr(rev.BalanceAfterReversal), want, before, st.Result.Breakdown.Account)
	}
	if now := e.snap(psnEmployed, hospBudget, 2024).Person.AccountBalance; !now.Equal(want) {
		t.Errorf("the balance after Reverse is %s, want %s", now, want)
	}
	sameSettlement(t, "GetSettlement after Reverse", e.get(st.ID), rev)

	// The account moves: an adjustment, then a settlement with the account.
	if _, err := e.st.AdjustAccount(e.ctx, store.Adjustment{RequestID: "ADJ-1", PersonID: psnEmployed, Credit: dec("10.00"),
		Reason: "correction", By: "admin"}); err != nil {
		t.Fatalf("AdjustAccount: %v", err)
	}
	sameSettlement(t, "GetSettlement after an AdjustAccount", e.get(st.ID), rev)
	moved := e.mustSettle(inpatient("req-3", hospBudget, psnEmployed, day2024, "7000"))
	if !moved.Result.Breakdown.Account.IsPositive() {
		t.Fatalf("fixture: the second settlement's account %s, want > 0", moved.Result.Breakdown.Account)
	}
	if now := e.snap(psnEmployed, hospBudget, 2024).Person.AccountBalance; now.Equal(want) {
		t.Fatalf("fixture: the balance did not move (%s)", now)
	}
	sameSettlement(t, "GetSettlement after the account moved", e.get(st.ID), rev)

	// A replayed Reverse answers the first reversal, balance and all.
	state := e.world()
	again, err := e.st.Reverse(e.ctx, r)
	if err != nil {
		t.Fatalf("replayed Reverse: %v", err)
	}
	sameSettlement(t, "replayed Reverse", again, rev)
	e.unchanged("replayed Reverse", state)

	// Settlements not reversed carry none, before and after another's
	// reversal.
	for _, s := range []engine.Settlement{other, moved} {
		if got := e.get(s.ID).BalanceAfterReversal; got != nil {
			t.Errorf("settlement %s, not reversed, reads a balance after reversal %s", s.ID, got)
		}
	}
}

// fmtMoneyPtr is a figure or "none".
func fmtMoneyPtr(m *engine.Money) string {
	if m == nil {
		return "none"
	}
	return m.String()
}
