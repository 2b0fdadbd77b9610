package memstore

import (
	"slices"

	"github.com/medsettle/medsettle/engine"
)

// clonePerson is p with its own copy of the identities, so that the store
// and its callers never share a slice. A person without identities costs
// nothing.
func clonePerson(p engine.Person) engine.Person {
	if len(p.Identities) == 0 {
		p.Identities = nil
	} else {
		p.Identities = slices.Clone(p.Identities)
	}
	return p
}
