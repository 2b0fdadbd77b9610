package engine

import (
	"cmp"
	"slices"
)

// CompareIdentities orders identities canonically: by valid_from, then
// category, then valid_to. Persons are stored and answered with their
// identities in this order.
func CompareIdentities(a, b Identity) int {
	if c := a.ValidFrom.Compare(b.ValidFrom); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Category, b.Category); c != 0 {
		return c
	}
	return a.ValidTo.Compare(b.ValidTo)
}

// SortedIdentities returns ids in canonical order (CompareIdentities):
// ids itself when it is in order already, else a sorted copy (ids is
// never modified).
func SortedIdentities(ids []Identity) []Identity {
	if slices.IsSortedFunc(ids, CompareIdentities) {
		return ids
	}
	out := slices.Clone(ids)
	slices.SortStableFunc(out, CompareIdentities)
	return out
}
