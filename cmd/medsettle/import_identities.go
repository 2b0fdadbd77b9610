package main

import (
	"fmt"
	"strings"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// identitiesExample is a valid identities cell, for messages.
const identitiesExample = "MINIMUM_LIVING:2026-01-01:2026-12-31;MONITORED:2026-07-01:2026-12-31"

// identitiesFromCSV reads the identities column of persons.csv: entries
// CATEGORY:FROM:TO separated by ";" (empty entries, as after a trailing
// ";", are skipped), the category short or full as the category column
// takes it, the dates as written. It checks the shape and the category
// name; the server checks the rest (real dates, their order, overlaps,
// ORDINARY). Both name an entry by its 0-based index among the non-empty
// entries of the cell: identities[1] is the second.
func identitiesFromCSV(cell string) ([]*pb.Identity, error) {
	var out []*pb.Identity
	for _, entry := range strings.Split(cell, ";") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		name := fmt.Sprintf("identities[%d]", len(out))
		parts := strings.Split(entry, ":")
		if len(parts) != 3 || strings.TrimSpace(parts[0]) == "" {
			return nil, fmt.Errorf("%s %q is not CATEGORY:FROM:TO; write the entries like %q", name, entry, identitiesExample)
		}
		cat, err := enumValue(name+".category", "PERSON_CATEGORY_", parts[0], pb.PersonCategory_value)
		if err != nil {
			return nil, fmt.Errorf("%w: use DESTITUTE, MINIMUM_LIVING, MONITORED or POVERTY_ALLEVIATED", err)
		}
		out = append(out, &pb.Identity{Category: pb.PersonCategory(cat),
			ValidFrom: strings.TrimSpace(parts[1]), ValidTo: strings.TrimSpace(parts[2])})
	}
	return out, nil
}
