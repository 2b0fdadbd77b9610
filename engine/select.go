package engine

import "fmt"

// SelectPolicy picks the policy version of a region and scheme in force on
// a date. Returns an error wrapping ErrNoPolicy when none is.
func SelectPolicy(policies []*Policy, region string, scheme Scheme, d Date) (*Policy, error) {
	for _, p := range policies {
		if p.Region == region && p.Scheme == scheme && p.Covers(d) {
			return p, nil
		}
	}
	return nil, fmt.Errorf("%w: no %s policy of region %s covers %s", ErrNoPolicy, scheme.word(), region, d)
}

// word names the scheme in the engine's own words, for messages.
func (s Scheme) word() string {
	switch s {
	case SchemeEmployee:
		return "employee"
	case SchemeResident:
		return "resident"
	}
	return "unspecified-scheme"
}

// String names the scheme as the API does.
func (s Scheme) String() string {
	switch s {
	case SchemeEmployee:
		return "SCHEME_EMPLOYEE"
	case SchemeResident:
		return "SCHEME_RESIDENT"
	}
	return "SCHEME_UNSPECIFIED"
}

// String names the visit type as the API does.
func (v VisitType) String() string {
	switch v {
	case VisitInpatient:
		return "VISIT_TYPE_INPATIENT"
	case VisitChronicOutpatient:
		return "VISIT_TYPE_CHRONIC_OUTPATIENT"
	case VisitOutpatient:
		return "VISIT_TYPE_OUTPATIENT"
	}
	return "VISIT_TYPE_UNSPECIFIED"
}

// Normal maps an unspecified category to ordinary.
func (c Category) Normal() Category {
	if c == CategoryUnspecified {
		return CategoryOrdinary
	}
	return c
}

// String names the category as the API does.
func (c Category) String() string {
	switch c {
	case CategoryUnspecified:
		return "PERSON_CATEGORY_UNSPECIFIED"
	case CategoryOrdinary:
		return "PERSON_CATEGORY_ORDINARY"
	case CategoryDestitute:
		return "PERSON_CATEGORY_DESTITUTE"
	case CategoryMinimumLiving:
		return "PERSON_CATEGORY_MINIMUM_LIVING"
	case CategoryMonitored:
		return "PERSON_CATEGORY_MONITORED"
	case CategoryPovertyAlleviated:
		return "PERSON_CATEGORY_POVERTY_ALLEVIATED"
	}
	return fmt.Sprintf("PERSON_CATEGORY(%d)", int(c))
}
