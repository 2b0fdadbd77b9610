package pgstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
)

// The stored documents of a settlement (settlements.claim and .result) and
// of a person's year (the accumulators). Field names are the Go field
// names the untagged engine structs were written with, so every row
// already stored reads back; figures are quoted strings in their
// shortest exact form ("700", "12.5": the engine types' text, as
// shopspring/decimal wrote it before); enums are the numbers of the
// enumCodes mappings. Adding a field: give it a new name, tag it
// doc:"optional" if rows without it exist, and keep the old ones.

// storedClaim is the stored document of a settled claim.
type storedClaim struct {
	V                  int              `json:"v,omitempty" doc:"optional"`
	RequestID          string           `json:"RequestID"`
	InstitutionID      string           `json:"InstitutionID"`
	PersonID           string           `json:"PersonID"`
	VisitType          int              `json:"VisitType"`
	SettleDate         storedDate       `json:"SettleDate"`
	CrossRegion        int              `json:"CrossRegion"`
	DRGCode            string           `json:"DRGCode"`
	UsePersonalAccount bool             `json:"UsePersonalAccount"`
	Items              []storedLineItem `json:"Items"`
}

// storedDate is a calendar date.
type storedDate struct {
	Year  int `json:"Year"`
	Month int `json:"Month"`
	Day   int `json:"Day"`
}

// storedLineItem is one line of a stored claim.
type storedLineItem struct {
	Code      string          `json:"Code"`
	Name      string          `json:"Name"`
	Quantity  engine.Quantity `json:"Quantity"`
	UnitPrice engine.Price    `json:"UnitPrice"`
	Amount    engine.Money    `json:"Amount"`
}

// storedResult is the stored document of a settlement's result. The policy
// region, scheme and cross-region state are optional: results recorded
// before they existed have none (zero: unspecified).
type storedResult struct {
	V             int                 `json:"v,omitempty" doc:"optional"`
	PolicyVersion string              `json:"PolicyVersion"`
	PolicyRegion  string              `json:"PolicyRegion" doc:"optional"`
	PolicyScheme  int                 `json:"PolicyScheme" doc:"optional"`
	CrossRegion   int                 `json:"CrossRegion" doc:"optional"`
	Breakdown     storedBreakdown     `json:"Breakdown"`
	Details       []storedDetail      `json:"Details"`
	Delta         storedAccumulators  `json:"Delta"`
	Budget        *storedBudgetStatus `json:"Budget"`
	BudgetLimit   *engine.Money       `json:"BudgetLimit"`
	WarnRatio     engine.Ratio        `json:"WarnRatio"`
	// Layers and AccountBalance are optional: results recorded before
	// they existed have none (doc_layers.go).
	Layers         []storedLayer `json:"Layers,omitempty" doc:"optional"`
	AccountBalance *engine.Money `json:"AccountBalance,omitempty" doc:"optional"`
}

// storedBreakdown is the split of a stored settlement's bill.
type storedBreakdown struct {
	Total         engine.Money `json:"Total"`
	OutOfScope    engine.Money `json:"OutOfScope"`
	OverLimit     engine.Money `json:"OverLimit"`
	PreSelfPay    engine.Money `json:"PreSelfPay"`
	InScope       engine.Money `json:"InScope"`
	Deductible    engine.Money `json:"Deductible"`
	BasicFund     engine.Money `json:"BasicFund"`
	OverCap       engine.Money `json:"OverCap"`
	Catastrophic  engine.Money `json:"Catastrophic"`
	MedicalAid    engine.Money `json:"MedicalAid"`
	FundTotal     engine.Money `json:"FundTotal"`
	PersonalTotal engine.Money `json:"PersonalTotal"`
	Account       engine.Money `json:"Account"`
	Cash          engine.Money `json:"Cash"`
}

// storedDetail is one detail line of a stored result.
type storedDetail struct {
	Fund   int          `json:"Fund"`
	Band   int          `json:"Band"`
	Ratio  engine.Ratio `json:"Ratio"`
	Base   engine.Money `json:"Base"`
	Amount engine.Money `json:"Amount"`
}

// storedBudgetStatus is the budget status a stored result answered.
type storedBudgetStatus struct {
	Year  int          `json:"Year"`
	Limit engine.Money `json:"Limit"`
	Used  engine.Money `json:"Used"`
	State int          `json:"State"`
}

// storedAccumulators is the stored document of a person's running totals
// for a year (person_years.accumulators), and of a result's delta. Visit
// types are keyed by their stored number.
type storedAccumulators struct {
	V                int                     `json:"v,omitempty" doc:"optional"`
	PersonID         string                  `json:"PersonID"`
	Year             int                     `json:"Year"`
	InpatientCount   int                     `json:"InpatientCount"`
	VisitTypes       map[int]storedVisit     `json:"VisitTypes"`
	PoolUsed         map[string]engine.Money `json:"PoolUsed"`
	CatastrophicBase engine.Money            `json:"CatastrophicBase"`
	CatastrophicPaid engine.Money            `json:"CatastrophicPaid"`
	AidBase          engine.Money            `json:"AidBase"`
	AidPaid          engine.Money            `json:"AidPaid"`
	AidOutOfPocket   engine.Money            `json:"AidOutOfPocket"`
}

// storedVisit is the running in-scope cost of one visit type.
type storedVisit struct {
	InScope        engine.Money `json:"InScope"`
	DeductiblePaid engine.Money `json:"DeductiblePaid"`
}

// encodeClaim is the stored document of a claim.
func encodeClaim(c engine.Claim) ([]byte, error) {
	vt, err1 := visitTypeCodes.code(c.VisitType)
	cr, err2 := crossRegionCodes.code(c.CrossRegion)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("encode claim %q: %w", c.RequestID, err)
	}
	d := storedClaim{V: docVersion, RequestID: c.RequestID, InstitutionID: c.InstitutionID, PersonID: c.PersonID,
		VisitType: vt, SettleDate: storedDate{c.SettleDate.Year, int(c.SettleDate.Month), c.SettleDate.Day},
		CrossRegion: cr, DRGCode: c.DRGCode, UsePersonalAccount: c.UsePersonalAccount}
	for _, it := range c.Items {
		d.Items = append(d.Items, storedLineItem(it))
	}
	return d.appendJSON(make([]byte, 0, d.sizeHint())), nil
}

// decodeClaim reads a stored claim document (any version).
func decodeClaim(doc []byte) (engine.Claim, error) {
	var d storedClaim
	if err := decodeDoc("claim", doc, &d); err != nil {
		return engine.Claim{}, err
	}
	vt, err1 := visitTypeCodes.value(d.VisitType)
	cr, err2 := crossRegionCodes.value(d.CrossRegion)
	if err := errors.Join(err1, err2); err != nil {
		return engine.Claim{}, fmt.Errorf("claim: %w", err)
	}
	c := engine.Claim{RequestID: d.RequestID, InstitutionID: d.InstitutionID, PersonID: d.PersonID, VisitType: vt,
		SettleDate:  engine.Date{Year: d.SettleDate.Year, Month: time.Month(d.SettleDate.Month), Day: d.SettleDate.Day},
		CrossRegion: cr, DRGCode: d.DRGCode, UsePersonalAccount: d.UsePersonalAccount}
	for _, it := range d.Items {
		c.Items = append(c.Items, engine.LineItem(it))
	}
	return c, nil
}

// toStoredAccumulators is the stored form of accumulators.
func toStoredAccumulators(a engine.Accumulators) (storedAccumulators, error) {
	d := storedAccumulators{V: docVersion, PersonID: a.PersonID, Year: a.Year, InpatientCount: a.InpatientCount,
		PoolUsed: a.PoolUsed, CatastrophicBase: a.CatastrophicBase, CatastrophicPaid: a.CatastrophicPaid,
		AidBase: a.AidBase, AidPaid: a.AidPaid, AidOutOfPocket: a.AidOutOfPocket}
	if a.VisitTypes != nil {
		d.VisitTypes = make(map[int]storedVisit, len(a.VisitTypes))
		for v, va := range a.VisitTypes {
			n, err := visitTypeCodes.code(v)
			if err != nil {
				return storedAccumulators{}, err
			}
			d.VisitTypes[n] = storedVisit(va)
		}
	}
	return d, nil
}

// accumulators is the engine form of stored accumulators.
func (d storedAccumulators) accumulators() (engine.Accumulators, error) {
	a := engine.Accumulators{PersonID: d.PersonID, Year: d.Year, InpatientCount: d.InpatientCount,
		PoolUsed: d.PoolUsed, CatastrophicBase: d.CatastrophicBase, CatastrophicPaid: d.CatastrophicPaid,
		AidBase: d.AidBase, AidPaid: d.AidPaid, AidOutOfPocket: d.AidOutOfPocket}
	if d.VisitTypes != nil {
		a.VisitTypes = make(map[engine.VisitType]engine.VisitAccumulator, len(d.VisitTypes))
		for n, va := range d.VisitTypes {
			v, err := visitTypeCodes.value(n)
			if err != nil {
				return engine.Accumulators{}, err
			}
			a.VisitTypes[v] = engine.VisitAccumulator(va)
		}
	}
	return a, nil
}

// encodeAccumulators is the stored document of a person's running totals.
func encodeAccumulators(a engine.Accumulators) ([]byte, error) {
	d, err := toStoredAccumulators(a)
	if err != nil {
		return nil, fmt.Errorf("encode accumulators of %q/%d: %w", a.PersonID, a.Year, err)
	}
	return d.appendJSON(make([]byte, 0, d.sizeHint())), nil
}

// decodeAccumulators reads a stored accumulators document (any version)
// and asserts its invariants (engine.CheckAccumulators).
func decodeAccumulators(doc []byte) (engine.Accumulators, error) {
	var d storedAccumulators
	if err := decodeDoc("accumulators", doc, &d); err != nil {
		return engine.Accumulators{}, err
	}
	a, err := d.accumulators()
	if err != nil {
		return engine.Accumulators{}, fmt.Errorf("accumulators: %w", err)
	}
	if err := engine.CheckAccumulators(a); err != nil {
		return engine.Accumulators{}, err
	}
	return a, nil
}

// encodeResult is the stored document of a settlement's result.
func encodeResult(r engine.Result) ([]byte, error) {
	scheme, err1 := schemeCodes.code(r.PolicyScheme)
	cross, err2 := crossRegionCodes.code(r.CrossRegion)
	delta, err3 := toStoredAccumulators(r.Delta)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	delta.V = 0 // versioned with the result it is part of: no "v" of its own
	d := storedResult{V: docVersion, PolicyVersion: r.PolicyVersion, PolicyRegion: r.PolicyRegion, PolicyScheme: scheme,
		CrossRegion: cross, Breakdown: storedBreakdown(r.Breakdown), Delta: delta, BudgetLimit: r.BudgetLimit, WarnRatio: r.WarnRatio}
	for _, det := range r.Details {
		f, err := fundCodes.code(det.Fund)
		if err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		d.Details = append(d.Details, storedDetail{Fund: f, Band: det.Band, Ratio: det.Ratio, Base: det.Base, Amount: det.Amount})
	}
	layers, err := toStoredLayers(r.Layers)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	d.Layers = layers
	if !r.AccountBalance.IsZero() {
		bal := r.AccountBalance
		d.AccountBalance = &bal
	}
	if r.Budget != nil {
		st, err := budgetStateCodes.code(r.Budget.State)
		if err != nil {
			return nil, fmt.Errorf("encode result: %w", err)
		}
		d.Budget = &storedBudgetStatus{Year: r.Budget.Year, Limit: r.Budget.Limit, Used: r.Budget.Used, State: st}
	}
	return d.appendJSON(make([]byte, 0, d.sizeHint())), nil
}

// decodeResult reads a stored result document (any version) and asserts
// the identities of SETTLEMENT.md on it (engine.CheckResult, or
// engine.CheckBreakdown when it has no detail lines).
func decodeResult(doc []byte) (engine.Result, error) {
	var d storedResult
	if err := decodeDoc("result", doc, &d); err != nil {
		return engine.Result{}, err
	}
	scheme, err1 := schemeCodes.value(d.PolicyScheme)
	cross, err2 := crossRegionCodes.value(d.CrossRegion)
	delta, err3 := d.Delta.accumulators()
	if err := errors.Join(err1, err2, err3); err != nil {
		return engine.Result{}, fmt.Errorf("result: %w", err)
	}
	r := engine.Result{PolicyVersion: d.PolicyVersion, PolicyRegion: d.PolicyRegion, PolicyScheme: scheme, CrossRegion: cross,
		Breakdown: engine.Breakdown(d.Breakdown), Delta: delta, BudgetLimit: d.BudgetLimit, WarnRatio: d.WarnRatio}
	for _, det := range d.Details {
		f, err := fundCodes.value(det.Fund)
		if err != nil {
			return engine.Result{}, fmt.Errorf("result: %w", err)
		}
		r.Details = append(r.Details, engine.Detail{Fund: f, Band: det.Band, Ratio: det.Ratio, Base: det.Base, Amount: det.Amount})
	}
	layers, err := fromStoredLayers(d.Layers)
	if err != nil {
		return engine.Result{}, fmt.Errorf("result: %w", err)
	}
	r.Layers = layers
	if d.AccountBalance != nil {
		r.AccountBalance = *d.AccountBalance
	}
	if d.Budget != nil {
		st, err := budgetStateCodes.value(d.Budget.State)
		if err != nil {
			return engine.Result{}, fmt.Errorf("result: %w", err)
		}
		r.Budget = &engine.BudgetStatus{Year: d.Budget.Year, Limit: d.Budget.Limit, Used: d.Budget.Used, State: st}
	}
	// The breakdown must add up; the detail lines too, when the result has
	// any (a settlement loaded from another system may carry none).
	check := engine.CheckBreakdown
	if len(r.Details) > 0 {
		check = func(engine.Breakdown) error { return engine.CheckResult(r) }
	}
	if err := check(r.Breakdown); err != nil {
		return engine.Result{}, err
	}
	if err := engine.CheckAccumulators(r.Delta); err != nil {
		return engine.Result{}, fmt.Errorf("result delta: %w", err)
	}
	return r, nil
}
