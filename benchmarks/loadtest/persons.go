package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// personPrefix starts the imported persons' ids: LT0 … LT1999.
const personPrefix = "LT"

// writePersonsCSV writes n persons for `medsettle import persons`:
// employees of 350500 shaped like the demo's B0–B4 (employed, nine years
// of contributions, an empty personal account), so that every row settles
// the same claim for the same kind of person.
func writePersonsCSV(dir string, n int) (string, error) {
	var b strings.Builder
	b.WriteString("person_id,name,region,scheme,employment,category,contribution_years,account_balance\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s%d,Load Test %d,350500,EMPLOYEE,EMPLOYED,,9,0.00\n", personPrefix, i, i)
	}
	path := filepath.Join(dir, "persons.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", fmt.Errorf("persons CSV: %w", err)
	}
	return path, nil
}
