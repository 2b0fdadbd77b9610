package engine

// CheckIdentities records a violation for every problem of a person's
// dated identities, under path ("person.identities"): more than
// MaxIdentities of them; a category that is not one a person holds
// (DESTITUTE, MINIMUM_LIVING, MONITORED, POVERTY_ALLEVIATED: unspecified
// and ordinary mean "no category" and are no identity); a missing date
// (a zero Date: the caller reports a date that did not parse itself, and
// merges these with Violations.MergeNew); valid_to before valid_from; and
// an entry that overlaps an earlier entry of the same category (one
// period of a category is one entry: merge them).
func CheckIdentities(v *Violations, path string, ids []Identity) {
	if !CheckIdentityCount(v, path, len(ids)) {
		return
	}
	for i, id := range ids {
		if !id.Category.isHeld() {
			v.AddAtf(IndexPath(path, i, "category"), "must be a category a person holds: PERSON_CATEGORY_DESTITUTE, _MINIMUM_LIVING, _MONITORED or _POVERTY_ALLEVIATED (got %s)", id.Category)
		}
		if id.ValidFrom.IsZero() {
			v.AddAtf(IndexPath(path, i, "valid_from"), "is required (YYYY-MM-DD)")
		}
		if id.ValidTo.IsZero() {
			v.AddAtf(IndexPath(path, i, "valid_to"), "is required (YYYY-MM-DD)")
		}
		if !id.ValidFrom.IsZero() && !id.ValidTo.IsZero() && id.ValidTo.Compare(id.ValidFrom) < 0 {
			v.AddAtf(IndexPath(path, i, "valid_to"), "%s is before valid_from %s: an identity ends on or after the day it starts", id.ValidTo, id.ValidFrom)
		}
		for j := range i {
			if o := ids[j]; o.Category == id.Category && id.Category.isHeld() && id.overlaps(o) {
				v.AddAtf(IndexPath(path, i, ""), "%s from %s to %s overlaps identities[%d] (%s to %s) of the same category: give one period once, as one entry",
					id.Category, id.ValidFrom, id.ValidTo, j, o.ValidFrom, o.ValidTo)
				break
			}
		}
	}
}

// CheckIdentityCount records a violation under path when a person has n
// identities, more than MaxIdentities, and reports whether n is allowed.
func CheckIdentityCount(v *Violations, path string, n int) bool {
	if n <= MaxIdentities {
		return true
	}
	v.Addf(path, "has %d identities; a person holds at most %d (over all years): drop the ones that ended long ago",
		n, MaxIdentities)
	return false
}

// ValidateIdentities checks a person's identities as CheckIdentities does,
// under path (the API's is "person.identities"). Returns a
// *ValidationError listing every problem, or nil.
func ValidateIdentities(path string, ids []Identity) error {
	var v Violations
	CheckIdentities(&v, path, ids)
	return v.Err()
}

// isHeld reports whether c is a category a person can hold as an identity.
func (c Category) isHeld() bool {
	return c >= CategoryDestitute && c <= CategoryPovertyAlleviated
}

// overlaps reports whether two well-formed identities share a date.
func (id Identity) overlaps(o Identity) bool {
	if id.ValidFrom.IsZero() || id.ValidTo.IsZero() || o.ValidFrom.IsZero() || o.ValidTo.IsZero() ||
		id.ValidTo.Compare(id.ValidFrom) < 0 || o.ValidTo.Compare(o.ValidFrom) < 0 {
		return false
	}
	return id.ValidFrom.Compare(o.ValidTo) <= 0 && o.ValidFrom.Compare(id.ValidTo) <= 0
}
