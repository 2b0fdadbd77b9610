package engine

import (
	"errors"
	"fmt"
)

// ErrCrossRegion means a claim's cross_region disagrees with the records:
// care at a home institution declared cross-region, or a filing the
// records do not have (or ignore one they have). The error names what the
// records say.
var ErrCrossRegion = errors.New("cross_region disagrees with the records")

// MaxFilings is the most cross-region filings one person may have; a
// filing is replaced by putting another with its id.
const MaxFilings = 256

// Filing is a cross-region filing (异地就医备案): the person is registered
// for care at institutions whose region is Region, from ValidFrom to
// ValidTo inclusive.
type Filing struct {
	ID        string
	PersonID  string
	Region    string
	ValidFrom Date
	ValidTo   Date
}

// Holds reports whether the filing registers care in region on d: the
// region equals the filing's exactly and d is in [ValidFrom, ValidTo].
func (f Filing) Holds(region string, d Date) bool {
	return f.Region == region && f.ValidFrom.Compare(d) <= 0 && d.Compare(f.ValidTo) <= 0
}

// CheckFiling records a violation for every malformed field of a filing,
// under path ("filing"): ids, the region, both dates, and valid_to not
// before valid_from.
func CheckFiling(v *Violations, path string, f Filing) {
	CheckID(v, path+".filing_id", f.ID)
	CheckID(v, path+".person_id", f.PersonID)
	CheckID(v, path+".region", f.Region)
	if f.ValidFrom.IsZero() {
		v.Addf(path+".valid_from", "is required (YYYY-MM-DD)")
	}
	if f.ValidTo.IsZero() {
		v.Addf(path+".valid_to", "is required (YYYY-MM-DD)")
	}
	if !f.ValidFrom.IsZero() && !f.ValidTo.IsZero() && f.ValidTo.Compare(f.ValidFrom) < 0 {
		v.Addf(path+".valid_to", "%s is before valid_from %s", f.ValidTo, f.ValidFrom)
	}
}

// ValidateFiling checks a filing against the person it is for: every
// field as CheckFiling does, and a region other than the person's insured
// region (a filing is for care elsewhere). Returns a *ValidationError
// naming the fields under "filing", or nil.
func ValidateFiling(f Filing, person Person) error {
	var v Violations
	CheckFiling(&v, "filing", f)
	if f.Region != "" && f.Region == person.Region {
		v.Addf("filing.region", "%s is the insured region of person %q; a filing registers care outside it", f.Region, person.ID)
	}
	return v.Err()
}

// CheckFilingCount refuses a new filing (not one that replaces a filing of
// the person) of a person who has n filings already, when n has reached
// MaxFilings. Returns a *ValidationError naming "filing.filing_id", or nil.
func CheckFilingCount(personID string, n int, replaces bool) error {
	if replaces || n < MaxFilings {
		return nil
	}
	return invalidf("filing.filing_id", "person %q already has %d cross-region filings, the most a person may have; replace one by putting a filing with its id",
		personID, MaxFilings)
}

// String names the cross-region state as the API does.
func (c CrossRegion) String() string {
	switch c {
	case CrossRegionLocal:
		return "CROSS_REGION_LOCAL"
	case CrossRegionRegistered:
		return "CROSS_REGION_REGISTERED"
	case CrossRegionUnregistered:
		return "CROSS_REGION_UNREGISTERED"
	}
	return "CROSS_REGION_UNSPECIFIED"
}

// CrossRegionDecision is what the records say about where care is given,
// and why.
type CrossRegionDecision struct {
	State CrossRegion
	// Filing is the id of the filing that registers the care (REGISTERED).
	Filing string
	// Reason says, in words, which records decided.
	Reason string
}

// DecideCrossRegion decides from the records (SETTLEMENT.md, "Cross-region
// care"): LOCAL when the institution's region is the person's insured
// region; REGISTERED when one of the person's filings is for exactly the
// institution's region and holds on d (the first such filing in the order
// given is named); UNREGISTERED otherwise. Filings of other persons are
// ignored.
func DecideCrossRegion(person Person, inst Institution, filings []Filing, d Date) CrossRegionDecision {
	state, fi := decideCrossRegion(person, inst, filings, d)
	switch state {
	case CrossRegionLocal:
		return CrossRegionDecision{State: CrossRegionLocal,
			Reason: fmt.Sprintf("institution %q is in person %q's insured region %s", inst.ID, person.ID, person.Region)}
	case CrossRegionRegistered:
		f := filings[fi]
		return CrossRegionDecision{State: CrossRegionRegistered, Filing: f.ID,
			Reason: fmt.Sprintf("institution %q is in region %s, outside person %q's insured region %s, and filing %q for %s holds from %s to %s",
				inst.ID, inst.Region, person.ID, person.Region, f.ID, f.Region, f.ValidFrom, f.ValidTo)}
	}
	return CrossRegionDecision{State: CrossRegionUnregistered,
		Reason: fmt.Sprintf("institution %q is in region %s, outside person %q's insured region %s, and no filing of the person for %s holds on %s",
			inst.ID, inst.Region, person.ID, person.Region, inst.Region, d)}
}

// decideCrossRegion is DecideCrossRegion's state, and the index of the
// filing that registers the care (REGISTERED), without the words: Settle
// needs the words only when a claim disagrees.
func decideCrossRegion(person Person, inst Institution, filings []Filing, d Date) (CrossRegion, int) {
	if inst.Region == person.Region {
		return CrossRegionLocal, -1
	}
	for i, f := range filings {
		if f.PersonID == person.ID && f.Holds(inst.Region, d) {
			return CrossRegionRegistered, i
		}
	}
	return CrossRegionUnregistered, -1
}

// CheckCrossRegion checks a claim's declared cross_region against the
// decision: unspecified agrees with anything (it means "as the records
// say"); any other value must equal it. Returns an error wrapping
// *CrossRegionMismatch (wrapping ErrCrossRegion) that names what the
// records say.
func CheckCrossRegion(declared CrossRegion, d CrossRegionDecision) error {
	if declared == CrossRegionUnspecified || declared == d.State {
		return nil
	}
	return &CrossRegionMismatch{Declared: declared, Decided: d.State, Reason: d.Reason}
}

// CrossRegionMismatch is the error of a claim whose declared cross-region
// state the records contradict. It wraps ErrCrossRegion; its text speaks
// the engine's words, and callers (the API) may phrase it their own way
// from its fields.
type CrossRegionMismatch struct {
	// Declared is what the claim says, Decided what the records say.
	Declared, Decided CrossRegion
	// Reason is why the records say so.
	Reason string
}

// Error says what the claim declares and what the records say.
func (e *CrossRegionMismatch) Error() string {
	return fmt.Sprintf("%v: the claim declares %s care, the records say %s care: %s",
		ErrCrossRegion, e.Declared.word(), e.Decided.word(), e.Reason)
}

// Unwrap returns ErrCrossRegion.
func (e *CrossRegionMismatch) Unwrap() error { return ErrCrossRegion }

// word names the cross-region state in the engine's own words.
func (c CrossRegion) word() string {
	switch c {
	case CrossRegionLocal:
		return "local"
	case CrossRegionRegistered:
		return "registered cross-region"
	case CrossRegionUnregistered:
		return "unregistered cross-region"
	}
	return "unspecified"
}
