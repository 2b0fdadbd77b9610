package api

import (
	"context"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// PutCrossRegionFiling creates or replaces a cross-region filing (admin).
// A malformed filing, or one for the person's own insured region, is
// INVALID_ARGUMENT naming every bad field; an unknown person NOT_FOUND.
func (s *RegistryService) PutCrossRegionFiling(ctx context.Context, req *pb.PutCrossRegionFilingRequest) (*pb.PutCrossRegionFilingResponse, error) {
	f, err := s.putFiling(ctx, req.GetFiling())
	if err != nil {
		return nil, toStatus(ctx, s.log, "PutCrossRegionFiling", err)
	}
	return &pb.PutCrossRegionFilingResponse{Filing: filingToProto(f)}, nil
}

func (s *RegistryService) putFiling(ctx context.Context, in *pb.CrossRegionFiling) (engine.Filing, error) {
	if err := requireAdmin(ctx); err != nil {
		return engine.Filing{}, err
	}
	var p parser
	f := p.filing("filing", in)
	if p.v.Len() > 0 {
		// Bad fields win over an unknown person; the person's region is
		// checked too when the person can be read, so that every bad
		// field is named at once.
		if f.PersonID != "" {
			if person, err := s.store.GetPerson(ctx, f.PersonID); err == nil {
				p.v.MergeNew(engine.ValidateFiling(f, person))
			}
		}
		return engine.Filing{}, p.v.Err()
	}
	// The store checks the filing against the person under the person's
	// lock (the region may change meanwhile).
	return f, s.store.PutFiling(ctx, f)
}

// ListCrossRegionFilings lists a person's cross-region filings by
// valid_from, then filing_id: administrators, clearing and every
// institution, as persons are readable.
func (s *RegistryService) ListCrossRegionFilings(ctx context.Context, req *pb.ListCrossRegionFilingsRequest) (*pb.ListCrossRegionFilingsResponse, error) {
	fs, err := s.listFilings(ctx, req.GetPersonId())
	if err != nil {
		return nil, toStatus(ctx, s.log, "ListCrossRegionFilings", err)
	}
	out := &pb.ListCrossRegionFilingsResponse{}
	for _, f := range fs {
		out.Filings = append(out.Filings, filingToProto(f))
	}
	return out, nil
}

func (s *RegistryService) listFilings(ctx context.Context, personID string) ([]engine.Filing, error) {
	if err := requireReader(ctx); err != nil {
		return nil, err
	}
	var v engine.Violations
	engine.CheckID(&v, "person_id", personID)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.store.Filings(ctx, personID)
}

// filing checks and maps a filing; problems go to p.v under path.
func (p *parser) filing(path string, in *pb.CrossRegionFiling) engine.Filing {
	if in == nil {
		p.v.Addf(path, "is required")
		return engine.Filing{}
	}
	f := engine.Filing{ID: in.GetFilingId(), PersonID: in.GetPersonId(), Region: in.GetRegion()}
	if in.GetValidFrom() != "" {
		f.ValidFrom = p.date(path+".valid_from", in.GetValidFrom())
	}
	if in.GetValidTo() != "" {
		f.ValidTo = p.date(path+".valid_to", in.GetValidTo())
	}
	// Missing dates, ids, the region and the order of the dates; a date
	// that did not parse is not reported again.
	p.v.MergeNew(engine.ValidateFiling(f, engine.Person{}))
	return f
}

func filingToProto(f engine.Filing) *pb.CrossRegionFiling {
	return &pb.CrossRegionFiling{FilingId: f.ID, PersonId: f.PersonID, Region: f.Region,
		ValidFrom: f.ValidFrom.String(), ValidTo: f.ValidTo.String()}
}
