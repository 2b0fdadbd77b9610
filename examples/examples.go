// Package examples ships the example policies and the demo registry that
// `medsettle serve --demo` loads, embedded in the binary.
package examples

import "embed"

// FS holds policies/*.json (protojson of medsettle.v1.Policy),
// demo/registry.json ({"institutions": [...], "persons": [...]}), which
// `serve --demo` loads, and demo/clearing.json and demo/members.csv, the
// hospitals, patients, settlements, reversal, capitation contract and its
// members that `medsettle demo settle` sends through the API (README.md).
//
//go:embed policies/*.json demo/registry.json demo/clearing.json demo/members.csv
var FS embed.FS
