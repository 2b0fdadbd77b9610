package main

import (
	"fmt"
	"time"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// Region, scheme and year of the plan: the demo's resident policy of
// 610300, whose contribution section is seed 003's (380; destitute full,
// minimum living 340, monitored 190).
const (
	planRegion = "610300"
	planYear   = 2026
)

// personID is the i-th generated resident's id, zero-padded so that the
// plan's byte order is the generation order.
func personID(i int) string { return fmt.Sprintf("PB%07d", i) }

// identity is one dated identity of the generator.
type identity struct {
	category engine.Category
	from, to string
}

// identitiesOf is resident i's identities, a fixed mix like a county's
// registry (身份 from civil affairs and rural revitalisation): of every
// 20 residents one destitute all year, two minimum living (one of them
// also monitored), two monitored until June, one destitute from May to
// August only (not held on January 1), one poverty-alleviated (no
// subsidy); the rest none.
func identitiesOf(i int) []identity {
	year := fmt.Sprint(planYear)
	switch i % 20 {
	case 0:
		return []identity{{engine.CategoryDestitute, year + "-01-01", year + "-12-31"}}
	case 1:
		return []identity{{engine.CategoryMinimumLiving, year + "-01-01", year + "-12-31"}, {engine.CategoryMonitored, "2025-07-01", year + "-06-30"}}
	case 2:
		return []identity{{engine.CategoryMinimumLiving, "2025-01-01", year + "-12-31"}}
	case 3, 4:
		return []identity{{engine.CategoryMonitored, "2025-07-01", year + "-06-30"}}
	case 5:
		return []identity{{engine.CategoryDestitute, year + "-05-01", year + "-08-31"}}
	case 6:
		return []identity{{engine.CategoryPovertyAlleviated, "2024-01-01", "2028-12-31"}}
	}
	return nil
}

// personOf is resident i as ImportPersons takes it.
func personOf(i int) *pb.Person {
	p := &pb.Person{PersonId: personID(i), Name: "Plan Bench " + fmt.Sprint(i), Region: planRegion,
		Scheme: pb.Scheme_SCHEME_RESIDENT, ContributionYears: 5, AccountBalance: "0.00"}
	for _, id := range identitiesOf(i) {
		p.Identities = append(p.Identities, &pb.Identity{Category: pb.PersonCategory(id.category), ValidFrom: id.from, ValidTo: id.to})
	}
	return p
}

// seedContribution is seed 003's contribution section, as the demo
// policy has it.
func seedContribution() *engine.Contribution {
	return &engine.Contribution{Amount: engine.MustMoney("380"), Subsidies: []engine.Subsidy{
		{Category: engine.CategoryDestitute, Full: true},
		{Category: engine.CategoryMinimumLiving, Amount: engine.MustMoney("340")},
		{Category: engine.CategoryMonitored, Amount: engine.MustMoney("190")},
	}}
}

// expectedTotals is the plan of the n generated residents on January 1,
// computed here with the engine, to check the server's summary.
func expectedTotals(n int) (engine.PlanTotals, error) {
	c := seedContribution()
	asOf := engine.Date{Year: planYear, Month: time.January, Day: 1}
	var t engine.PlanTotals
	for i := range n {
		p := engine.Person{ID: personID(i), Region: planRegion, Scheme: engine.SchemeResident}
		for _, id := range identitiesOf(i) {
			from, err1 := engine.ParseDate(id.from)
			to, err2 := engine.ParseDate(id.to)
			if err1 != nil || err2 != nil {
				return t, fmt.Errorf("identity of %s: %v %v", p.ID, err1, err2)
			}
			p.Identities = append(p.Identities, engine.Identity{Category: id.category, ValidFrom: from, ValidTo: to})
		}
		if err := t.Add(c.Quote(p, asOf)); err != nil {
			return t, err
		}
	}
	return t, nil
}
