package engine

// Breakdown is the split of a bill (national interface names in comments).
type Breakdown struct {
	Total         Money // medfee_sumamt
	OutOfScope    Money // fulamt_ownpay_amt
	OverLimit     Money // overlmt_selfpay
	PreSelfPay    Money // preselfpay_amt
	InScope       Money // inscp_scp_amt
	Deductible    Money // act_pay_dedc
	BasicFund     Money // hifp_pay
	OverCap       Money
	Catastrophic  Money // hifmi_pay
	MedicalAid    Money // maf_pay
	FundTotal     Money // fund_pay_sumamt
	PersonalTotal Money // psn_part_amt
	Account       Money // acct_pay
	Cash          Money // psn_cash_pay
}

// Detail is one band of one fund (结算明细).
type Detail struct {
	Fund   Fund
	Band   int
	Ratio  Ratio
	Base   Money
	Amount Money
}

// BudgetStatus is an institution's budget usage after a settlement.
type BudgetStatus struct {
	Year  int
	Limit Money
	Used  Money
	State BudgetState
}

// NewBudgetStatus classifies budget usage: EXCEEDED above the limit, WARNING
// at or above warn × limit, else WITHIN.
func NewBudgetStatus(year int, limit, used Money, warn Ratio) BudgetStatus {
	st := BudgetWithin
	switch {
	case used.GreaterThan(limit):
		st = BudgetExceeded
	case reachesShare(used, limit, warn):
		st = BudgetWarning
	}
	return BudgetStatus{Year: year, Limit: limit, Used: used, State: st}
}

// Result is what Settle computes for a claim: the figures returned to the
// hospital and the changes to apply to state.
type Result struct {
	PolicyVersion string
	// PolicyRegion and PolicyScheme name the policy the settlement used
	// (the person's insured region and scheme then): DRG clearing reads
	// the settlements of one region and scheme.
	PolicyRegion string
	PolicyScheme Scheme
	// CrossRegion is where the care was given as the server decided it
	// from its records: LOCAL, REGISTERED or UNREGISTERED (unspecified in
	// results recorded before the server decided it: the claim's own
	// value, unspecified meaning LOCAL, was used then).
	CrossRegion CrossRegion
	Breakdown   Breakdown
	// Details are the non-zero detail lines: basic bands ascending, then
	// catastrophic, medical aid and the aid ceiling.
	Details []Detail
	// Layers are the fund layers the settlement applied (basic,
	// catastrophic, medical aid, as far as the policy has them), with
	// what their caps allowed before the claim: the national interface's
	// setldetail reads them. Results recorded before they existed have
	// none.
	Layers []Layer
	// AccountBalance is the person's account balance the settlement read,
	// before its own payment (Breakdown.Account): the balance after it is
	// AccountBalance − Account (the national interface's balc).
	AccountBalance Money
	// Delta is what this settlement adds to the person's accumulators.
	Delta Accumulators
	// Budget is the institution's budget status with this settlement
	// counted; nil when the institution has no budget for the year.
	Budget *BudgetStatus
	// BudgetLimit and WarnRatio let a store recompute Budget from the usage
	// it commits (nil limit: no budget).
	BudgetLimit *Money
	WarnRatio   Ratio
}

// Settlement is a recorded (or previewed) settlement.
type Settlement struct {
	ID             string
	Claim          Claim
	Fingerprint    string
	State          SettlementState
	Result         Result
	ReversalReason string
	// ReversalRequestID is the request id of the reversal, when reversed.
	ReversalRequestID string
	// BalanceAfterReversal is the person's account balance right after
	// the reversal committed: the balance the store read under the
	// person's lock plus what the reversal gave back to the account
	// (ReverseChanges' Account). Set only on reversed settlements, and
	// nil on those reversed before stores kept it (the national
	// interface's balc then falls back to the balance now).
	BalanceAfterReversal *Money
}

// AsFirstAnswered is the settlement as Settle answered it when it was
// recorded: settled, with no reversal. A retried Settle answers this, so
// the retry gets the first result unchanged (SETTLEMENT.md) even when the
// settlement was reversed in between; GetSettlement shows the state now.
func (s Settlement) AsFirstAnswered() Settlement {
	s.State = StateSettled
	s.ReversalReason = ""
	s.ReversalRequestID = ""
	s.BalanceAfterReversal = nil
	return s
}

// AccountDelta is what the settlement took from the personal account.
func (s Settlement) AccountDelta() Money { return s.Result.Breakdown.Account }
