// Package examples ships the example policies and the demo registry that
// `medsettle serve --demo` loads, embedded in the binary.
package examples

import "embed"

// FS holds policies/*.json (protojson of medsettle.v1.Policy),
// demo/registry.json ({"institutions": [...], "persons": [...]}), which
// `serve --demo` loads, and demo/clearing.json, the hospitals, patients,
// settlements, reversals and capitation contract that `medsettle demo
// settle` sends through the API (README.md).
//
//go:embed policies/*.json demo/registry.json demo/clearing.json
var FS embed.FS
