// Package store is the persistence contract of medsettle. Every
// implementation (memstore, the embedded default; pgstore, PostgreSQL)
// keeps the promises of "State and its guarantees" in SETTLEMENT.md and
// passes the conformance suite in storetest.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/medsettle/medsettle/engine"
)

// Store errors. Implementations translate their driver's errors into these
// once, at their boundary.
var (
	// ErrNotFound means the person, institution, policy or settlement does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a request id was used before for another request.
	ErrConflict = errors.New("request id already used for another request")
	// ErrUnavailable means the backing database cannot be reached; the
	// request may be retried with the same request id.
	ErrUnavailable = errors.New("store unavailable")
)

// PersonYear is what a settlement reads, consistently, while it holds the
// person's lock: the person (with the account balance), the person's
// accumulators for the claim's year, the institution's budget usage and
// the person's cross-region filings.
type PersonYear struct {
	Person       engine.Person
	Accumulators engine.Accumulators
	BudgetUsed   engine.Money
	// Filings are all the person's cross-region filings, ordered as
	// Filings lists them.
	Filings []engine.Filing
}

// ComputeFunc computes a settlement from the state read under the person's
// lock. It must be pure: it must not modify the PersonYear it is given (its
// accumulators' maps may be the store's own) and must not call the store
// (the store may be holding the connection it would need). The store may
// call it and then discard the result.
type ComputeFunc func(PersonYear) (engine.Result, error)

// Reversal asks to undo a settlement.
type Reversal struct {
	RequestID    string
	SettlementID string
	Reason       string
	// Institution is the calling institution, or "" for an administrator.
	Institution string
}

// Allowed returns engine.ErrForbidden unless the caller may reverse st: an
// administrator, or the institution that settled it. The error does not
// name that institution: the caller is not to learn it.
func (r Reversal) Allowed(st engine.Settlement) error {
	if r.Institution != "" && r.Institution != st.Claim.InstitutionID {
		return fmt.Errorf("settlement %q: %w", st.ID, engine.ErrForbidden)
	}
	return nil
}

// Store persists the registry, the policies and the settlements. Values
// passed in and returned are copies the caller owns, except the policies
// Policies returns, which are shared and must not be modified.
//
// Budget usage: a settlement's Result.Budget counts the settlement itself
// and every settlement of the institution and year committed before it.
// Two settlements committing at the same moment may each leave the other
// out (PostgreSQL spreads usage over rows so that one hospital's
// settlements do not queue behind one row); the usage stored is always the
// exact sum.
type Store interface {
	// PutPerson creates or replaces a person. p.AccountBalance is the
	// opening balance: it is taken when the person is new; a person
	// already stored keeps the live balance (only settlements, reversals
	// and AdjustAccount move it). Under the person's lock, so that it
	// never interleaves with a settlement. Returns a
	// *engine.ValidationError, and stores nothing, if its identities are
	// not valid (CheckPersons).
	PutPerson(ctx context.Context, p engine.Person) error
	// PutPersons creates or replaces many persons in one atomic step (bulk
	// import): a concurrent reader or settlement sees all of them or none.
	// The entries apply in order, as PutPerson would: a later entry with
	// the same id wins, and the balance of a person is an opening balance
	// only (that of the first entry of a new person). Returns a
	// *engine.ValidationError, and stores none of them, if an entry's
	// identities are not valid (CheckPersons).
	PutPersons(ctx context.Context, ps []engine.Person) error
	// AdjustAccount credits or debits a person's account balance
	// (a.Credit − a.Debit) under the person's lock, and records the
	// adjustment with the store's time and the person it left (returned,
	// with At and Person set), keyed by a.RequestID among adjustments
	// alone. A retry (Adjustment.SameRequest) returns the recorded
	// adjustment unchanged and changes nothing. Returns ErrConflict if the
	// id was used for another adjustment, ErrNotFound if the person does
	// not exist, ErrInsufficientBalance if the debit is above the balance;
	// on any error nothing changes.
	AdjustAccount(ctx context.Context, a Adjustment) (Adjustment, error)
	// GetPerson reads a person. Returns ErrNotFound if there is none.
	GetPerson(ctx context.Context, id string) (engine.Person, error)
	// EachPerson calls fn with every person of region and scheme ("" and
	// SchemeUnspecified match all) in person id byte order, all read from
	// one consistent snapshot, without holding them all in memory at once
	// (a region may have millions). fn's error stops the walk and is
	// returned as it is; so is ctx's.
	EachPerson(ctx context.Context, region string, scheme engine.Scheme, fn func(engine.Person) error) error
	// PutInstitution creates or replaces an institution.
	PutInstitution(ctx context.Context, in engine.Institution) error
	// GetInstitution reads an institution. Returns ErrNotFound if there is none.
	GetInstitution(ctx context.Context, id string) (engine.Institution, error)

	// PutFiling creates or replaces (by filing id, whichever person it
	// was for) a cross-region filing, under the lock of the person it is
	// for, so that it never interleaves with that person's settlements or
	// registration.
	// Returns ErrNotFound if the person does not exist; a
	// *engine.ValidationError if engine.ValidateFiling refuses it against
	// the person as stored (the person's own insured region, dates out of
	// order), or if it is a new filing of a person who already has
	// engine.MaxFilings; on any error nothing changes.
	PutFiling(ctx context.Context, f engine.Filing) error
	// Filings lists a person's cross-region filings by valid_from, then
	// filing id (byte order). Returns ErrNotFound if the person does not
	// exist.
	Filings(ctx context.Context, personID string) ([]engine.Filing, error)

	// PutPolicy stores a validated policy, replacing the same region,
	// scheme and version. Returns a *engine.ValidationError if its validity
	// overlaps another version (checked atomically with the write).
	PutPolicy(ctx context.Context, p *engine.Policy) error
	// Policies lists the policies of a region and scheme ("" and
	// SchemeUnspecified match all), ordered by region, scheme and
	// effective_from. The returned policies are indexed and shared: callers
	// must not modify them.
	Policies(ctx context.Context, region string, scheme engine.Scheme) ([]*engine.Policy, error)

	// Snapshot reads, consistently, what a settlement of person at
	// institution in year would read, without locking or changing anything:
	// PreSettle and GetAccumulators use it. A year with no settlement reads
	// as zero accumulators. Returns ErrNotFound if the person does not exist.
	Snapshot(ctx context.Context, personID, institutionID string, year int) (PersonYear, error)
	// Settle records a settlement atomically: under the person's lock it
	// reads the state, calls compute, and writes the settlement, the new
	// accumulators, account balance and budget usage together, keyed by
	// (institution, request id). The claim is recorded as settled,
	// claim.Decided(result's CrossRegion), with that claim's Fingerprint.
	// A retry of the same claim (engine.Claim.SameRequest of the recorded
	// fingerprint) returns the recorded settlement without calling
	// compute. Returns ErrConflict if the request id was used for another
	// request, ErrNotFound if the person does not exist, or compute's
	// error; on any error nothing changes.
	//
	// A store may commit settlements arriving together in one
	// transaction (pgstore's group commit): each is then computed against
	// the state its predecessors left, answered on its own, and never
	// before it is committed; the failure of one never fails another.
	// compute may run on another goroutine than the caller's.
	Settle(ctx context.Context, claim engine.Claim, compute ComputeFunc) (engine.Settlement, error)
	// Reverse undoes a settlement: it subtracts exactly what the settlement
	// added to the accumulators, account balance and budget usage and marks
	// it reversed, keyed by (the settling institution, request id). The
	// reversed settlement carries BalanceAfterReversal: the person's
	// account balance read under the person's lock plus what the reversal
	// gave back, written in the reversal's transaction and read back by
	// GetSettlement unchanged whatever the account does later. A retry
	// returns the reversed settlement as recorded. Returns ErrNotFound if there is no
	// such settlement, engine.ErrForbidden if the caller is another
	// institution, engine.ErrAlreadyReversed if it was reversed by another
	// request, ErrConflict if the request id was used for another request.
	Reverse(ctx context.Context, r Reversal) (engine.Settlement, error)
	// GetSettlement reads a settlement. Returns ErrNotFound if there is none.
	GetSettlement(ctx context.Context, id string) (engine.Settlement, error)

	ClearingStore
	AuditStore
}
