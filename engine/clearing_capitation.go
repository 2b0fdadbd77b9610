package engine

import (
	"errors"
	"fmt"
	"math/big"
)

// CapitationContract is a capitation (按人头包干) contract (CLEARING.md):
// a lead institution is paid a rate per member per year for each
// component of care, and keeps a surplus (shared among the parties) or
// bears part of an overspend.
type CapitationContract struct {
	ContractID    string
	InstitutionID string // the lead institution
	Region        string
	Scheme        Scheme
	Year          int
	// Components are the care the contract covers: a rate per member per
	// year for the care of their visit types; no visit type is in two.
	Components []CapitationComponent
	// Shares split a surplus among the parties (e.g. county, township,
	// village 0.4, 0.4, 0.2); they add up to 1.
	Shares             []CapitationShare
	OverspendShare     Ratio
	OverspendTolerance Ratio
	// Members is the number of persons enrolled (output only).
	Members int64
}

// CapitationComponent is one component of a capitation contract.
type CapitationComponent struct {
	Name       string
	Rate       Money
	VisitTypes []VisitType
}

// ErrContractInUse means a contract with enrolled members cannot change
// its region, scheme or year.
var ErrContractInUse = errors.New("the contract has members enrolled")

// CapitationShare is one party's share of a surplus.
type CapitationShare struct {
	Party string
	Share Ratio
}

// ClearCapitation clears a contract whose members drew actual[i] from the
// basic fund for the visit types of component i (CLEARING.md): K_c =
// members × rate_c, K = Σ K_c, A = Σ A_c; a surplus K − A is split by the
// shares to the fen (largest remainder, ties to the smaller party name);
// a deficit D is covered by the fund up to round(overspend_share × min(D,
// overspend_tolerance × K)), the rest borne by the contract. Returns
// ErrInvariant when actual does not match the components or the shares do
// not add up to 1 (ValidateContract refuses such contracts).
func ClearCapitation(c *CapitationContract, members int64, actual []Money) (CapitationClearing, error) {
	if len(actual) != len(c.Components) {
		return CapitationClearing{}, fmt.Errorf("%w: %d actual figures for %d components", ErrInvariant, len(actual), len(c.Components))
	}
	if members < 0 {
		return CapitationClearing{}, fmt.Errorf("%w: %d members", ErrInvariant, members)
	}
	r := CapitationClearing{ContractID: c.ContractID, Members: members}
	var budget, act sumFen
	for i, comp := range c.Components {
		k, ok := comp.Rate.MulInt(members)
		if !ok {
			return CapitationClearing{}, fmt.Errorf("%w: component %q: %d members × %s leaves the range of money",
				ErrInvariant, comp.Name, members, comp.Rate)
		}
		r.Components = append(r.Components, ComponentClearing{Name: comp.Name, Budget: k, Actual: actual[i]})
		budget.add(k)
		act.add(actual[i])
	}
	var err error
	if r.Budget, err = budget.value("the contract's budget"); err != nil {
		return CapitationClearing{}, err
	}
	if r.Actual, err = act.value("the contract's actual cost"); err != nil {
		return CapitationClearing{}, err
	}
	if r.Actual.GreaterThan(r.Budget) {
		r.Deficit = r.Actual.Sub(r.Budget)
		covers, ok := mulRatioOfMin(c.OverspendShare, r.Deficit, c.OverspendTolerance, r.Budget)
		if !ok {
			return CapitationClearing{}, fmt.Errorf("%w: the fund's cover leaves the range of money", ErrInvariant)
		}
		r.FundCovers = covers
		r.ContractBears = r.Deficit.Sub(r.FundCovers)
		return r, nil
	}
	r.Surplus = r.Budget.Sub(r.Actual)
	shares := make([]Share, len(c.Shares))
	for i, s := range c.Shares {
		shares[i] = Share{Key: s.Party, Exact: new(big.Rat).Mul(s.Share.Rat(), r.Surplus.Rat())}
	}
	amounts, err := AllocateFen(r.Surplus, shares)
	if err != nil {
		return CapitationClearing{}, fmt.Errorf("contract %q: %w", c.ContractID, err)
	}
	for i, s := range c.Shares {
		r.Shares = append(r.Shares, PartyAmount{Party: s.Party, Amount: amounts[i]})
	}
	return r, nil
}

// PaidTotal is the fund's whole cost for the members: K + fund_covers.
func (r CapitationClearing) PaidTotal() Money { return r.Budget.Add(r.FundCovers) }

// ComponentOf returns the index of the component covering visit type v,
// or -1.
func (c *CapitationContract) ComponentOf(v VisitType) int {
	for i, comp := range c.Components {
		for _, t := range comp.VisitTypes {
			if t == v {
				return i
			}
		}
	}
	return -1
}

// VisitTypes lists the visit types of all components.
func (c *CapitationContract) VisitTypes() []VisitType {
	var out []VisitType
	for _, comp := range c.Components {
		out = append(out, comp.VisitTypes...)
	}
	return out
}

// ValidateContract checks a capitation contract's terms. Returns a
// *ValidationError listing every problem.
func ValidateContract(c *CapitationContract) error {
	var v Violations
	CheckID(&v, "contract.contract_id", c.ContractID)
	CheckID(&v, "contract.institution_id", c.InstitutionID)
	CheckID(&v, "contract.region", c.Region)
	if c.Scheme != SchemeEmployee && c.Scheme != SchemeResident {
		v.Addf("contract.scheme", "must be SCHEME_EMPLOYEE or SCHEME_RESIDENT")
	}
	if c.Year < MinYear || c.Year > MaxYear {
		v.Addf("contract.year", "must be a calendar year, got %d", c.Year)
	}
	if len(c.Components) == 0 {
		v.Addf("contract.components", "list at least one component (a rate per member and the visit types it covers)")
	}
	if len(c.Components) > MaxRows {
		v.Addf("contract.components", "at most %d components, got %d", MaxRows, len(c.Components))
	}
	names := map[string]bool{}
	covered := map[VisitType]string{}
	for i, comp := range c.Components {
		path := fmt.Sprintf("contract.components[%d]", i)
		CheckText(&v, path+".name", comp.Name, MaxNameLen)
		if comp.Name == "" {
			v.Addf(path+".name", "is required")
		}
		if names[comp.Name] {
			v.Addf(path+".name", "%q appears twice", comp.Name)
		}
		names[comp.Name] = true
		if comp.Rate.IsNegative() {
			v.Addf(path+".rate", "must be money ≥ 0, got %s", comp.Rate)
		}
		if len(comp.VisitTypes) == 0 {
			v.Addf(path+".visit_types", "list the visit types this component covers")
		}
		for j, t := range comp.VisitTypes {
			vpath := fmt.Sprintf("%s.visit_types[%d]", path, j)
			if t < VisitInpatient || t > VisitOutpatient {
				v.Addf(vpath, "must be a visit type")
				continue
			}
			if other, ok := covered[t]; ok {
				v.Addf(vpath, "%s is covered by component %q already: no visit type is in two components", t, other)
				continue
			}
			covered[t] = comp.Name
		}
	}
	if len(c.Shares) == 0 {
		v.Addf("contract.shares", "list the parties that share a surplus; the shares add up to 1")
	}
	if len(c.Shares) > MaxRows {
		v.Addf("contract.shares", "at most %d parties, got %d", MaxRows, len(c.Shares))
	}
	var total Ratio
	parties := map[string]bool{}
	for i, s := range c.Shares {
		path := fmt.Sprintf("contract.shares[%d]", i)
		CheckID(&v, path+".party", s.Party)
		if parties[s.Party] {
			v.Addf(path+".party", "%q appears twice", s.Party)
		}
		parties[s.Party] = true
		if s.Share.IsNegative() || s.Share.GreaterThan(RatioOne) {
			v.Addf(path+".share", "must be in [0, 1], got %s", s.Share)
		}
		total = total.Add(s.Share)
	}
	if len(c.Shares) > 0 && !total.Equal(RatioOne) {
		v.Addf("contract.shares", "add up to %s; they must add up to 1", total)
	}
	for _, f := range []struct {
		field string
		r     Ratio
	}{{"contract.overspend_share", c.OverspendShare}, {"contract.overspend_tolerance", c.OverspendTolerance}} {
		if f.r.IsNegative() || f.r.GreaterThan(RatioOne) {
			v.Addf(f.field, "must be in [0, 1], got %s", f.r)
		}
	}
	return v.Err()
}

// NewCapitationClearer returns the Clearer of a capitation run of
// contract c (CLEARING.md). Begin receives the number of members; Add
// adds a case's basic fund to the actual A_c of the component covering
// its visit type (a case of no component is ErrInvariant); Finish clears
// the contract with ClearCapitation: the summary's Budget is K, PaidTotal
// K + fund_covers, Settlements the cases counted, Capitation the rest.
func NewCapitationClearer(c *CapitationContract) Clearer {
	return &capitationClearer{c: c}
}

// capitationClearer is the CAPITATION Clearer.
type capitationClearer struct {
	c       *CapitationContract
	state   runState
	members int64
	byVisit map[VisitType]int
	actual  []sumFen // by component
	count   int64
}

// Begin implements Clearer.
func (c *capitationClearer) Begin(in RunInputs) error {
	if err := c.state.step("Begin", stateNew, stateBegun); err != nil {
		return err
	}
	if c.c == nil {
		return fmt.Errorf("capitation clearing: %w", ErrNoClearingRules)
	}
	if in.Members < 0 {
		return fmt.Errorf("%w: contract %q has %d members", ErrInvariant, c.c.ContractID, in.Members)
	}
	c.members = in.Members
	c.actual = make([]sumFen, len(c.c.Components))
	c.byVisit = map[VisitType]int{}
	for _, v := range c.c.VisitTypes() {
		if _, dup := c.byVisit[v]; !dup {
			c.byVisit[v] = c.c.ComponentOf(v)
		}
	}
	return nil
}

// Add implements Clearer. It returns no case line.
func (c *capitationClearer) Add(k ClearingCase) (*CaseLine, error) {
	if c.state != stateBegun {
		return nil, c.state.step("Add", stateBegun, stateBegun)
	}
	i, ok := c.byVisit[k.VisitType]
	if !ok {
		return nil, fmt.Errorf("%w: settlement %q is a %s visit, which no component of contract %q covers",
			ErrInvariant, k.SettlementID, k.VisitType, c.c.ContractID)
	}
	c.actual[i].add(k.BasicFund)
	c.count++
	return nil, nil
}

// Finish implements Clearer.
func (c *capitationClearer) Finish() (ClearingRun, error) {
	if err := c.state.step("Finish", stateBegun, stateFinished); err != nil {
		return ClearingRun{}, err
	}
	actual := make([]Money, len(c.actual))
	for i := range c.actual {
		a, err := c.actual[i].value("capitation clearing: a component's actual cost")
		if err != nil {
			return ClearingRun{}, err
		}
		actual[i] = a
	}
	cc, err := ClearCapitation(c.c, c.members, actual)
	if err != nil {
		return ClearingRun{}, fmt.Errorf("capitation clearing: %w", err)
	}
	return ClearingRun{
		Kind: ClearingCapitation, Settlements: c.count,
		Budget: cc.Budget, PaidTotal: cc.PaidTotal(), Capitation: &cc,
	}, nil
}
