package api

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// ParsePolicyJSON reads a policy file (protojson of medsettle.v1.Policy)
// and validates it as PutPolicy does.
func ParsePolicyJSON(raw []byte) (*engine.Policy, error) {
	var p pb.Policy
	if err := protojson.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("not a medsettle.v1.Policy in protojson: %w", err)
	}
	return policyFromProto(&p)
}

// ParsePersonJSON reads one person (protojson of medsettle.v1.Person).
func ParsePersonJSON(raw []byte) (engine.Person, error) {
	var in pb.Person
	if err := protojson.Unmarshal(raw, &in); err != nil {
		return engine.Person{}, fmt.Errorf("not a medsettle.v1.Person in protojson: %w", err)
	}
	var p parser
	out := p.person("person", &in)
	return out, p.v.Err()
}

// ParseInstitutionJSON reads one institution (protojson of medsettle.v1.Institution).
func ParseInstitutionJSON(raw []byte) (engine.Institution, error) {
	var in pb.Institution
	if err := protojson.Unmarshal(raw, &in); err != nil {
		return engine.Institution{}, fmt.Errorf("not a medsettle.v1.Institution in protojson: %w", err)
	}
	var p parser
	out := p.institution("institution", &in)
	return out, p.v.Err()
}
