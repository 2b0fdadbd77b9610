package store

import (
	"fmt"

	"github.com/medsettle/medsettle/engine"
)

// CheckPersons refuses persons whose identities a store could not read
// back (engine.ValidateIdentities), naming the entry: both stores call it
// before writing anything, so that a caller that bypasses the API's
// validation can neither store a person no read would accept nor make the
// two stores disagree. Returns a *engine.ValidationError.
func CheckPersons(ps ...engine.Person) error {
	for i, p := range ps {
		path := "person.identities"
		if len(ps) > 1 {
			path = fmt.Sprintf("persons[%d].identities", i)
		}
		if err := engine.ValidateIdentities(path, p.Identities); err != nil {
			return err
		}
	}
	return nil
}
