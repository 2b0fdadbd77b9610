package main

import (
	"fmt"
	"strings"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// scope is a region, scheme and year as `clear` and `plan` take them.
type scope struct {
	region string
	scheme pb.Scheme
	year   int32
}

// scopeFlags checks those of --region, --scheme and --year that were set
// and returns their values with a problem for each bad one.
func scopeFlags(set map[string]bool, region, scheme string, year int) (scope, []string) {
	var sc scope
	var problems []string
	if set["region"] {
		if sc.region = strings.TrimSpace(region); sc.region == "" {
			problems = append(problems, "--region is empty")
		}
	}
	if set["scheme"] {
		v, err := enumValue("--scheme", "SCHEME_", scheme, pb.Scheme_value)
		if err != nil || v == 0 {
			problems = append(problems, fmt.Sprintf("--scheme %q must be employee or resident", scheme))
		}
		sc.scheme = pb.Scheme(v)
	}
	if set["year"] {
		if year < 1900 || year > 9999 {
			problems = append(problems, fmt.Sprintf("--year %d is not a year", year))
		}
		sc.year = int32(year)
	}
	return sc, problems
}
