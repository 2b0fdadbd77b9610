// Package examples ships the example policies and the demo registry that
// `medsettle serve --demo` loads, embedded in the binary.
package examples

import "embed"

// FS holds policies/*.json (protojson of medsettle.v1.Policy) and
// demo/registry.json ({"institutions": [...], "persons": [...]}).
//
//go:embed policies/*.json demo/registry.json
var FS embed.FS
