package api

import (
	"fmt"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// FuzzPersonIdentities maps persons with up to three fuzzed identities
// (a category value and two date strings each): the parser must not
// panic; it must name exactly the entries' fields that an independent
// check finds wrong (category, each date, the order of the dates, an
// overlap of one category); and a person it accepts has its identities in
// canonical order, carrying the values sent.
func FuzzPersonIdentities(f *testing.F) {
	f.Add(int32(3), "2026-01-01", "2026-12-31", int32(4), "2026-07-01", "2026-12-31", int32(0), "", "")
	f.Add(int32(4), "2026-01-01", "2026-06-30", int32(4), "2026-06-30", "2026-12-31", int32(2), "2026-02-30", "x")
	f.Add(int32(1), "2026-05-01", "2026-04-30", int32(99), "", "2026-01-01", int32(5), "1899-12-31", "9999-12-31")
	f.Add(int32(2), "2026-01-01", "2026-01-01", int32(2), "2026-01-02", "2026-01-02", int32(2), "2025-12-31", "2026-01-01")
	f.Fuzz(func(t *testing.T, c0 int32, f0, t0 string, c1 int32, f1, t1 string, c2 int32, f2, t2 string) {
		in := residentWith("FZ",
			pbIdentity(pb.PersonCategory(c0), f0, t0), pbIdentity(pb.PersonCategory(c1), f1, t1), pbIdentity(pb.PersonCategory(c2), f2, t2))
		var p parser
		out := p.person("person", in)
		want := modelIdentityViolations(in.GetIdentities())
		err := p.v.Err()
		if err == nil {
			if len(want) > 0 {
				t.Fatalf("accepted %v; the model finds %v wrong", in.GetIdentities(), want)
			}
			if len(out.Identities) != 3 {
				t.Fatalf("accepted 3 identities, mapped %d", len(out.Identities))
			}
			for i := 1; i < len(out.Identities); i++ {
				if engine.CompareIdentities(out.Identities[i-1], out.Identities[i]) > 0 {
					t.Fatalf("identities not in canonical order: %+v", out.Identities)
				}
			}
			sent := map[string]int{}
			for _, id := range in.GetIdentities() {
				sent[fmt.Sprintf("%d %s %s", id.GetCategory(), id.GetValidFrom(), id.GetValidTo())]++
			}
			for _, id := range out.Identities {
				sent[fmt.Sprintf("%d %s %s", id.Category, id.ValidFrom, id.ValidTo)]--
			}
			for k, n := range sent {
				if n != 0 {
					t.Fatalf("mapped identities differ from those sent at %q: %+v", k, out.Identities)
				}
			}
			return
		}
		got := violations(t, err, "person.identities")
		for f := range want {
			if !got[f] {
				t.Errorf("%v: %s is wrong but not named (named %v)", in.GetIdentities(), f, got)
			}
		}
		for f := range got {
			if !want[f] {
				t.Errorf("%v: %s named but the model finds it right (wrong: %v)", in.GetIdentities(), f, want)
			}
		}
	})
}

// modelIdentityViolations is the set of fields the rules make wrong,
// worked out without the engine: a category outside DESTITUTE..
// POVERTY_ALLEVIATED (2..5), a date that is missing or not a date of 1900
// or later, valid_to before valid_from, an entry sharing a day with an
// earlier entry of its category.
func modelIdentityViolations(ids []*pb.Identity) map[string]bool {
	out := map[string]bool{}
	type span struct {
		cat      int32
		from, to string
		ok       bool
	}
	var seen []span
	for i, id := range ids {
		path := fmt.Sprintf("person.identities[%d]", i)
		c := int32(id.GetCategory())
		catOK := c >= 2 && c <= 5
		if !catOK {
			out[path+".category"] = true
		}
		from, fromOK := goodDate(id.GetValidFrom())
		to, toOK := goodDate(id.GetValidTo())
		if !fromOK {
			out[path+".valid_from"] = true
		}
		if !toOK {
			out[path+".valid_to"] = true
		}
		ordered := fromOK && toOK && !to.Before(from)
		if fromOK && toOK && to.Before(from) {
			out[path+".valid_to"] = true
		}
		// Dates compare as YYYY-MM-DD text once both parse.
		cur := span{c, from.Format("2006-01-02"), to.Format("2006-01-02"), catOK && ordered}
		for _, o := range seen {
			if cur.ok && o.ok && o.cat == cur.cat && strings.Compare(cur.from, o.to) <= 0 && strings.Compare(o.from, cur.to) <= 0 {
				out[path] = true
				break
			}
		}
		seen = append(seen, cur)
	}
	return out
}
