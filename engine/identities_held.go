package engine

// This file is which of a person's categories count on a settle date
// (SETTLEMENT.md "Identities"): the undated Category holds on every date,
// a dated identity between its dates, and several may hold at once.

// aidRuleFor is the medical aid rule of a claim settled on d: the first
// rule of the policy's list whose category the person holds on d (the
// policy lists the most generous first), so that a person holding several
// categories is aided once. Nil when the person holds none of them.
func aidRuleFor(p *Policy, person Person, d Date) *AidRule {
	for i := range p.MedicalAid {
		if person.HoldsCategory(p.MedicalAid[i].Category, d) {
			return &p.MedicalAid[i]
		}
	}
	return nil
}

// specialFor reports whether catastrophic insurance uses the special
// schedule on d: the policy has one and the person holds a category of
// special_categories on d. A person who holds no category on d is
// ordinary, and takes the special schedule when CategoryOrdinary is
// listed (as a person whose only category is ORDINARY always did).
func specialFor(cat *Catastrophic, person Person, d Date) bool {
	if cat == nil || cat.Special == nil {
		return false
	}
	ordinaryListed := false
	for _, c := range cat.SpecialCategories {
		if c.Normal() == CategoryOrdinary {
			ordinaryListed = true
			continue
		}
		if person.HoldsCategory(c, d) {
			return true
		}
	}
	return ordinaryListed && !person.HoldsAnyCategory(d)
}

// HoldsAnyCategory reports whether the person holds a category other than
// ordinary on d: a dated identity whose dates hold d, or the undated
// Category.
func (p Person) HoldsAnyCategory(d Date) bool {
	if p.Category.Normal() != CategoryOrdinary {
		return true
	}
	for _, id := range p.Identities {
		if id.Category.Normal() != CategoryOrdinary && id.Holds(d) {
			return true
		}
	}
	return false
}
