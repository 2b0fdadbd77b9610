package engine

// Changes is the one plan of what a settlement or a reversal changes in
// state: a store applies it and decides nothing. A new accumulator is added
// to Accumulators (and to Accumulators.Apply), and every store follows.
type Changes struct {
	// PersonID, InstitutionID and Year name the rows changed.
	PersonID      string
	InstitutionID string
	Year          int
	// Accumulators is added to the person's accumulators for Year; its
	// maps are read, never modified.
	Accumulators Accumulators
	// Account is added to the person's account balance (negative when the
	// settlement pays from the account).
	Account Money
	// Budget is added to the institution's budget usage for Year.
	Budget Money
	// State is the settlement's state after the change.
	State SettlementState
}

// SettleChanges is what recording the settlement of claim with result res
// changes: its delta added to the accumulators, the account payment taken
// from the balance, the basic fund added to the budget usage, and the
// state SETTLED. The changes' accumulators share res.Delta's maps, which
// neither is to modify: stores only read them (ApplyAccumulators makes
// new maps).
func SettleChanges(claim Claim, res Result) Changes {
	return Changes{
		PersonID:      claim.PersonID,
		InstitutionID: claim.InstitutionID,
		Year:          claim.Year(),
		Accumulators:  res.Delta,
		Account:       res.Breakdown.Account.Neg(),
		Budget:        res.Breakdown.BasicFund,
		State:         StateSettled,
	}
}

// ReverseChanges is what reversing a recorded settlement changes: exactly
// the negation of SettleChanges, with the state REVERSED.
func ReverseChanges(st Settlement) Changes {
	ch := SettleChanges(st.Claim, st.Result).negate()
	ch.State = StateReversed
	return ch
}

// negate returns the changes that undo ch (the state is left as it is).
func (ch Changes) negate() Changes {
	out := ch
	out.Accumulators = NewAccumulators(ch.Accumulators.PersonID, ch.Accumulators.Year).Apply(ch.Accumulators, -1)
	out.Account = ch.Account.Neg()
	out.Budget = ch.Budget.Neg()
	return out
}

// ApplyAccumulators returns acc with the changes added; acc is not modified.
func (ch Changes) ApplyAccumulators(acc Accumulators) Accumulators {
	return acc.Apply(ch.Accumulators, +1)
}

// ApplyAccount returns an account balance with the changes added.
func (ch Changes) ApplyAccount(balance Money) Money {
	return balance.Add(ch.Account)
}

// ApplyBudget returns a budget usage with the changes added.
func (ch Changes) ApplyBudget(used Money) Money {
	return used.Add(ch.Budget)
}
