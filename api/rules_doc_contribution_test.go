package api

import (
	"context"
	"encoding/json"
	"sort"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// docPlan is one expected plan of a "contribution" example of
// docs/RULES.md: the identities held on asOf ("" for January 1 of the
// example's year), the rows by person id and the totals, in the protojson
// form of medsettle.v1.PlanRow and PlanTotals.
type docPlan struct {
	AsOf   string            `json:"asOf"`
	Rows   []json.RawMessage `json:"rows"`
	Totals json.RawMessage   `json:"totals"`
}

// runDocContribution checks a "contribution" example: its one policy's
// contribution section and its persons, read as the API reads them, make
// each expected plan exactly as ExportPlan sends it (the plan's writer,
// over the persons in id order).
func runDocContribution(t *testing.T, ex docExample) {
	t.Helper()
	if len(ex.Policies) != 1 || ex.Year == 0 {
		t.Fatal("a contribution example has one policy and a year")
	}
	var pp pb.Policy
	must(t, protojson.Unmarshal(ex.Policies[0], &pp))
	pol, err := policyFromProto(&pp)
	must(t, err)
	jan1 := engine.Date{Year: ex.Year, Month: 1, Day: 1}
	if pol.Contribution == nil || !pol.Covers(jan1) {
		t.Fatalf("the example's policy has no contribution section or is not in force on %s", jan1)
	}
	var persons []engine.Person
	for _, raw := range ex.Persons {
		var in pb.Person
		must(t, protojson.Unmarshal(raw, &in))
		var p parser
		person := p.person("person", &in)
		must(t, p.v.Err())
		persons = append(persons, person)
	}
	sort.Slice(persons, func(i, j int) bool { return persons[i].ID < persons[j].ID })

	var plans []docPlan
	docStrictExpect(t, ex.Expect, &plans)
	if len(plans) == 0 {
		t.Fatal("a contribution example without plans checks nothing")
	}
	for _, want := range plans {
		asOf := jan1
		if want.AsOf != "" {
			d, err := engine.ParseDate(want.AsOf)
			must(t, err)
			asOf = d
		}
		var got []*pb.ExportPlanResponse
		w := newPlanWriter(context.Background(), pol.Contribution, asOf, func(m *pb.ExportPlanResponse) error {
			got = append(got, proto.Clone(m).(*pb.ExportPlanResponse))
			return nil
		})
		for _, p := range persons {
			must(t, w.add(p))
		}
		must(t, w.finish())
		if len(got) != len(want.Rows)+1 {
			t.Fatalf("as of %s: %d rows, the doc lists %d", asOf, len(got)-1, len(want.Rows))
		}
		for i, raw := range want.Rows {
			var row pb.PlanRow
			must(t, protojson.Unmarshal(raw, &row))
			if !proto.Equal(got[i].GetRow(), &row) {
				t.Errorf("as of %s: row %d is %v, the doc says %v", asOf, i, got[i].GetRow(), &row)
			}
		}
		var totals pb.PlanTotals
		must(t, protojson.Unmarshal(want.Totals, &totals))
		if g := got[len(got)-1].GetTotals(); !proto.Equal(g, &totals) {
			t.Errorf("as of %s: totals %v, the doc says %v", asOf, g, &totals)
		}
	}
}
