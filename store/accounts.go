package store

import (
	"errors"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// ErrInsufficientBalance means a debit is larger than the person's
// account balance; nothing was changed.
var ErrInsufficientBalance = errors.New("debit above the account balance")

// Adjustment is an administrator's credit or debit of a person's personal
// account (AdjustAccount). Its request id is a key of its own namespace:
// it meets only other adjustments' ids, never a settlement's.
type Adjustment struct {
	RequestID string
	PersonID  string
	// Credit and Debit are the amounts added and taken: exactly one is
	// non-zero, both ≥ 0 with at most two decimals (the API checks).
	Credit, Debit engine.Money
	Reason        string
	// By is who asked (the principal as a tokens file names it).
	By string

	// Set by the store when it records the adjustment.

	// At is when the adjustment was recorded (the store's clock, UTC, to
	// the microsecond).
	At time.Time
	// Person is the person as the adjustment left them: the answer of the
	// first call, and of every retry.
	Person engine.Person
}

// Delta is what the adjustment adds to the balance: credit − debit.
func (a Adjustment) Delta() engine.Money { return a.Credit.Sub(a.Debit) }

// SameRequest reports whether b asks for what a asked: the same person,
// amounts and reason (who asked and when are not compared).
func (a Adjustment) SameRequest(b Adjustment) bool {
	return a.RequestID == b.RequestID && a.PersonID == b.PersonID && a.Credit.Equal(b.Credit) &&
		a.Debit.Equal(b.Debit) && a.Reason == b.Reason
}
