package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// ContributionService quotes residents' yearly contributions after
// subsidy and exports the collection plan handed to the tax bureau
// (API.md "Contributions"; admin and clearing callers). Both calls only
// read.
type ContributionService struct {
	pb.UnimplementedContributionServiceServer
	store store.Store
	log   *slog.Logger
}

// Errors of ContributionService that toStatus answers FAILED_PRECONDITION.
var (
	// errNoContribution: the policy in force on January 1 of the year has
	// no contribution section.
	errNoContribution = errors.New("no contribution section")
	// errPlanRange: a plan's totals leave what the API can state (persons
	// in an int32, amounts in the range of money).
	errPlanRange = errors.New("the plan's totals leave the range the API can state")
)

// Quote answers what one person owes for a year (admin, clearing).
func (s *ContributionService) Quote(ctx context.Context, req *pb.QuoteRequest) (*pb.QuoteResponse, error) {
	resp, err := s.quote(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "Quote", err)
	}
	return resp, nil
}

func (s *ContributionService) quote(ctx context.Context, req *pb.QuoteRequest) (*pb.QuoteResponse, error) {
	if err := requireClearing(ctx); err != nil {
		return nil, err
	}
	var p parser
	engine.CheckID(&p.v, "person_id", req.GetPersonId())
	asOf := p.contributionDate(req.GetYear(), req.GetAsOf())
	if err := p.v.Err(); err != nil {
		return nil, err
	}
	person, err := s.store.GetPerson(ctx, req.GetPersonId())
	if err != nil {
		return nil, err
	}
	pol, err := s.contributionPolicy(ctx, person.Region, person.Scheme, req.GetYear())
	if err != nil {
		return nil, err
	}
	q := pol.Contribution.Quote(person, asOf)
	out := &pb.QuoteResponse{PersonId: person.ID, Year: req.GetYear(), BasisCategory: pb.PersonCategory(q.Basis), PolicyVersion: pol.Version}
	var t moneyTexts
	t.add(&out.Contribution, q.Contribution)
	t.add(&out.Subsidy, q.Subsidy)
	t.add(&out.Payable, q.Payable)
	t.flush()
	return out, nil
}

// ExportPlan streams one row per person of the region and scheme, by
// person id, then the totals (admin, clearing). The persons are read one
// at a time from one snapshot of the store (store.EachPerson), never all
// held at once; a client that goes away ends the walk.
func (s *ContributionService) ExportPlan(req *pb.ExportPlanRequest, stream pb.ContributionService_ExportPlanServer) error {
	ctx := stream.Context()
	if err := s.exportPlan(ctx, req, stream); err != nil {
		return toStatus(ctx, s.log, "ExportPlan", err)
	}
	return nil
}

func (s *ContributionService) exportPlan(ctx context.Context, req *pb.ExportPlanRequest, stream pb.ContributionService_ExportPlanServer) error {
	if err := requireClearing(ctx); err != nil {
		return err
	}
	var p parser
	engine.CheckID(&p.v, "region", req.GetRegion())
	checkScheme(&p.v, req.GetScheme())
	asOf := p.contributionDate(req.GetYear(), req.GetAsOf())
	if err := p.v.Err(); err != nil {
		return err
	}
	scheme := engine.Scheme(req.GetScheme())
	pol, err := s.contributionPolicy(ctx, req.GetRegion(), scheme, req.GetYear())
	if err != nil {
		return err
	}
	w := newPlanWriter(ctx, pol.Contribution, asOf, stream.Send)
	if err := s.store.EachPerson(ctx, req.GetRegion(), scheme, w.add); err != nil {
		return fmt.Errorf("plan of region %s, %s, %d: %w", req.GetRegion(), scheme, req.GetYear(), err)
	}
	return w.finish()
}

// contributionDate reads the year and as_of of a Quote or ExportPlan
// request and returns the date whose identities count: as_of, or
// January 1 of year when it is empty. as_of may be any date (a plan for
// next year is made with this year's identities).
func (p *parser) contributionDate(year int32, asOf string) engine.Date {
	yearOK := p.year("year", year)
	if asOf != "" {
		return p.date("as_of", asOf)
	}
	if !yearOK {
		return engine.Date{}
	}
	return engine.Date{Year: int(year), Month: time.January, Day: 1}
}

// contributionPolicy is the policy of region and scheme in force on
// January 1 of year (collection runs before the year starts), which must
// have a contribution section.
func (s *ContributionService) contributionPolicy(ctx context.Context, region string, scheme engine.Scheme, year int32) (*engine.Policy, error) {
	jan1 := engine.Date{Year: int(year), Month: time.January, Day: 1}
	list, err := s.store.Policies(ctx, region, scheme)
	if err != nil {
		return nil, err
	}
	pol, err := engine.SelectPolicy(list, region, scheme, jan1)
	if err != nil {
		return nil, fmt.Errorf("the contribution for %d is set by the policy in force on %s: %w", year, jan1, err)
	}
	if pol.Contribution == nil {
		return nil, fmt.Errorf("policy %s of region %s, %s, in force on %s, has %w: add one (amount and subsidies) to it with PolicyService.PutPolicy",
			pol.Version, region, scheme, jan1, errNoContribution)
	}
	return pol, nil
}
