package engine

import (
	"fmt"
	"math/big"

	"github.com/shopspring/decimal"
)

// CapitationContract is a capitation (按人头包干) contract: a lead
// institution is paid rate per member for the year and keeps or shares
// the difference with what its members' care actually cost the fund.
type CapitationContract struct {
	ContractID    string
	InstitutionID string // the lead institution
	Year          int
	Members       []string // person ids
	Rate          decimal.Decimal
	VisitTypes    []VisitType
	// Shares split a surplus among the parties (e.g. county, township,
	// village 0.4, 0.4, 0.2); they add up to 1.
	Shares             []CapitationShare
	OverspendShare     decimal.Decimal
	OverspendTolerance decimal.Decimal
}

// CapitationShare is one party's share of a surplus.
type CapitationShare struct {
	Party string
	Share decimal.Decimal
}

// CapitationResult is the clearing of one contract.
type CapitationResult struct {
	ContractID string
	Members    int
	Budget     decimal.Decimal // K = members × rate
	Actual     decimal.Decimal // A: basic fund paid for members' settlements of the visit types
	// Surplus = K − A when A ≤ K, split into PartyShares (to the fen,
	// adding up exactly).
	Surplus     decimal.Decimal
	PartyShares []CapitationShare // Share holds the amount
	// Deficit = A − K when A > K: the fund covers FundCovers =
	// round(overspend_share × min(D, overspend_tolerance × K)), the
	// contract bears the rest.
	Deficit       decimal.Decimal
	FundCovers    decimal.Decimal
	ContractBears decimal.Decimal
}

// ClearCapitation clears a contract whose members' settlements drew
// actual from the basic fund. Returns ErrInvariant when the shares do not
// add up to 1 (ValidateContract refuses such contracts).
func ClearCapitation(c *CapitationContract, actual decimal.Decimal) (CapitationResult, error) {
	k := Round2(c.Rate.Mul(decimal.NewFromInt(int64(len(c.Members)))))
	r := CapitationResult{ContractID: c.ContractID, Members: len(c.Members), Budget: k, Actual: actual}
	if actual.GreaterThan(k) {
		r.Deficit = actual.Sub(k)
		r.FundCovers = Round2(c.OverspendShare.Mul(minDec(r.Deficit, c.OverspendTolerance.Mul(k))))
		r.ContractBears = r.Deficit.Sub(r.FundCovers)
		return r, nil
	}
	r.Surplus = k.Sub(actual)
	shares := make([]Share, len(c.Shares))
	for i, s := range c.Shares {
		shares[i] = Share{Key: s.Party, Exact: new(big.Rat).Mul(s.Share.Rat(), r.Surplus.Rat())}
	}
	amounts, err := AllocateFen(r.Surplus, shares)
	if err != nil {
		return CapitationResult{}, fmt.Errorf("contract %q: %w", c.ContractID, err)
	}
	for i, s := range c.Shares {
		r.PartyShares = append(r.PartyShares, CapitationShare{Party: s.Party, Share: amounts[i]})
	}
	return r, nil
}

// ValidateContract checks a capitation contract. Returns a
// *ValidationError listing every problem.
func ValidateContract(c *CapitationContract) error {
	var v Violations
	CheckID(&v, "contract.contract_id", c.ContractID)
	CheckID(&v, "contract.institution_id", c.InstitutionID)
	if c.Year < MinYear || c.Year > MaxYear {
		v.Addf("contract.year", "must be a calendar year, got %d", c.Year)
	}
	seen := make(map[string]bool, len(c.Members))
	for i, m := range c.Members {
		path := fmt.Sprintf("contract.members[%d]", i)
		CheckID(&v, path, m)
		if seen[m] {
			v.Addf(path, "%q is enrolled twice", m)
		}
		seen[m] = true
	}
	if c.Rate.IsNegative() {
		v.Addf("contract.rate", "must not be negative")
	}
	if len(c.VisitTypes) == 0 {
		v.Addf("contract.visit_types", "list the visit types the contract covers")
	}
	total := decimal.Zero
	parties := map[string]bool{}
	for i, s := range c.Shares {
		path := fmt.Sprintf("contract.shares[%d]", i)
		CheckID(&v, path+".party", s.Party)
		if parties[s.Party] {
			v.Addf(path+".party", "%q appears twice", s.Party)
		}
		parties[s.Party] = true
		if s.Share.IsNegative() || s.Share.GreaterThan(one) {
			v.Addf(path+".share", "must be in [0, 1], got %s", s.Share)
		}
		total = total.Add(s.Share)
	}
	if !total.Equal(one) {
		v.Addf("contract.shares", "add up to %s; they must add up to 1", total)
	}
	for _, f := range []struct {
		field string
		r     decimal.Decimal
	}{{"contract.overspend_share", c.OverspendShare}, {"contract.overspend_tolerance", c.OverspendTolerance}} {
		if f.r.IsNegative() || f.r.GreaterThan(one) {
			v.Addf(f.field, "must be in [0, 1], got %s", f.r)
		}
	}
	return v.Err()
}
