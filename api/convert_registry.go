package api

import (
	"fmt"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// personFromProto checks and maps a person; problems go to p.v under path.
func (p *parser) person(path string, in *pb.Person) engine.Person {
	if in == nil {
		p.v.Addf(path, "is required")
		return engine.Person{}
	}
	engine.CheckID(&p.v, path+".person_id", in.GetPersonId())
	engine.CheckText(&p.v, path+".name", in.GetName(), engine.MaxNameLen)
	engine.CheckID(&p.v, path+".region", in.GetRegion())
	if in.GetScheme() != pb.Scheme_SCHEME_EMPLOYEE && in.GetScheme() != pb.Scheme_SCHEME_RESIDENT {
		p.v.Addf(path+".scheme", "must be SCHEME_EMPLOYEE or SCHEME_RESIDENT")
	}
	p.enum(path+".employment", int32(in.GetEmployment()), pb.Employment_name)
	if in.GetScheme() == pb.Scheme_SCHEME_RESIDENT && in.GetEmployment() != pb.Employment_EMPLOYMENT_UNSPECIFIED {
		p.v.Addf(path+".employment", "residents have no employment status; leave it unspecified")
	}
	p.enum(path+".category", int32(in.GetCategory()), pb.PersonCategory_name)
	if in.GetContributionYears() < 0 || in.GetContributionYears() > 100 {
		p.v.Addf(path+".contribution_years", "must be from 0 to 100, got %d", in.GetContributionYears())
	}
	return engine.Person{
		Identities:        p.identities(path+".identities", in.GetIdentities()),
		ID:                in.GetPersonId(),
		Name:              in.GetName(),
		Region:            in.GetRegion(),
		Scheme:            engine.Scheme(in.GetScheme()),
		Employment:        engine.Employment(in.GetEmployment()),
		Category:          engine.Category(in.GetCategory()),
		ContributionYears: int(in.GetContributionYears()),
		AccountBalance:    p.moneyOrZero(path+".account_balance", in.GetAccountBalance()),
	}
}

// personToProto maps a person, its identities in canonical order
// (engine.CompareIdentities: by valid_from, category, valid_to).
func personToProto(in engine.Person) *pb.Person {
	return &pb.Person{
		Identities:        identitiesToProto(in.Identities),
		PersonId:          in.ID,
		Name:              in.Name,
		Region:            in.Region,
		Scheme:            pb.Scheme(in.Scheme),
		Employment:        pb.Employment(in.Employment),
		Category:          pb.PersonCategory(in.Category),
		ContributionYears: int32(in.ContributionYears),
		AccountBalance:    engine.FormatMoney(in.AccountBalance),
	}
}

func (p *parser) institution(path string, in *pb.Institution) engine.Institution {
	if in == nil {
		p.v.Addf(path, "is required")
		return engine.Institution{}
	}
	engine.CheckID(&p.v, path+".institution_id", in.GetInstitutionId())
	engine.CheckText(&p.v, path+".name", in.GetName(), engine.MaxNameLen)
	engine.CheckID(&p.v, path+".region", in.GetRegion())
	if in.GetLevel() < 1 || in.GetLevel() > 3 {
		p.v.Addf(path+".level", "must be from 1 to 3, got %d", in.GetLevel())
	}
	out := engine.Institution{ID: in.GetInstitutionId(), Name: in.GetName(), Region: in.GetRegion(), Level: int(in.GetLevel())}
	if len(in.GetBudgets()) > engine.MaxRows {
		p.v.Addf(path+".budgets", "has %d rows; at most %d are allowed", len(in.GetBudgets()), engine.MaxRows)
		return out
	}
	years := map[int32]bool{}
	for i, b := range in.GetBudgets() {
		bp := fmt.Sprintf("%s.budgets[%d]", path, i)
		if b.GetYear() < engine.MinYear || b.GetYear() > engine.MaxYear {
			p.v.Addf(bp+".year", "must be a calendar year, got %d", b.GetYear())
		}
		if years[b.GetYear()] {
			p.v.Addf(bp+".year", "%d has two budgets", b.GetYear())
		}
		years[b.GetYear()] = true
		out.Budgets = append(out.Budgets, engine.Budget{Year: int(b.GetYear()), Amount: p.money(bp+".amount", b.GetAmount())})
	}
	return out
}

func institutionToProto(in engine.Institution) *pb.Institution {
	out := &pb.Institution{InstitutionId: in.ID, Name: in.Name, Region: in.Region, Level: int32(in.Level)}
	for _, b := range in.Budgets {
		out.Budgets = append(out.Budgets, &pb.Budget{Year: int32(b.Year), Amount: engine.FormatMoney(b.Amount)})
	}
	return out
}
