package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// PolicyService serves the versioned policies.
type PolicyService struct {
	pb.UnimplementedPolicyServiceServer
	store store.Store
	log   *slog.Logger
}

// PutPolicy validates a whole policy, listing every problem, and stores it (admin).
func (s *PolicyService) PutPolicy(ctx context.Context, req *pb.PutPolicyRequest) (*pb.PutPolicyResponse, error) {
	p, err := s.putPolicy(ctx, req.GetPolicy())
	if err != nil {
		return nil, toStatus(ctx, s.log, "PutPolicy", err)
	}
	return &pb.PutPolicyResponse{Policy: policyToProto(p)}, nil
}

func (s *PolicyService) putPolicy(ctx context.Context, in *pb.Policy) (*engine.Policy, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	p, err := readPolicy(in)
	if err != nil {
		return nil, s.withOverlap(ctx, p, err)
	}
	p = p.Index()
	// The store checks the overlap again, atomically with the write.
	return p, s.store.PutPolicy(ctx, p)
}

// withOverlap adds to a bad policy's violations an overlap with the
// stored versions, so that every problem is listed at once. It needs the
// region, scheme and dates to have been read.
func (s *PolicyService) withOverlap(ctx context.Context, p *engine.Policy, invalid error) error {
	var ve *engine.ValidationError
	if !errors.As(invalid, &ve) {
		return invalid
	}
	for _, f := range []string{"policy", "policy.region", "policy.scheme", "policy.effective_from", "policy.effective_to"} {
		if ve.Has(f) {
			return invalid
		}
	}
	stored, err := s.store.Policies(ctx, p.Region, p.Scheme)
	if err != nil {
		return invalid
	}
	var v engine.Violations
	v.Merge(invalid)
	v.Merge(engine.CheckOverlap(p, stored))
	return v.Err()
}

// GetPolicy reads one version, or the latest when version is empty.
func (s *PolicyService) GetPolicy(ctx context.Context, req *pb.GetPolicyRequest) (*pb.GetPolicyResponse, error) {
	p, err := s.getPolicy(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "GetPolicy", err)
	}
	return &pb.GetPolicyResponse{Policy: policyToProto(p)}, nil
}

func (s *PolicyService) getPolicy(ctx context.Context, req *pb.GetPolicyRequest) (*engine.Policy, error) {
	if err := requireReader(ctx); err != nil {
		return nil, err
	}
	var v engine.Violations
	engine.CheckID(&v, "region", req.GetRegion())
	checkScheme(&v, req.GetScheme())
	if err := v.Err(); err != nil {
		return nil, err
	}
	list, err := s.store.Policies(ctx, req.GetRegion(), engine.Scheme(req.GetScheme()))
	if err != nil {
		return nil, err
	}
	var found *engine.Policy
	for _, p := range list {
		if req.GetVersion() == "" || p.Version == req.GetVersion() {
			found = p // the list is ordered by effective_from: the last match is the latest
		}
	}
	if found == nil {
		return nil, fmt.Errorf("policy of region %q, %s, version %q: %w", req.GetRegion(), req.GetScheme(), req.GetVersion(), store.ErrNotFound)
	}
	return found, nil
}

// ListPolicies lists policies, optionally of one region and scheme.
func (s *PolicyService) ListPolicies(ctx context.Context, req *pb.ListPoliciesRequest) (*pb.ListPoliciesResponse, error) {
	list, err := s.listPolicies(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "ListPolicies", err)
	}
	out := &pb.ListPoliciesResponse{}
	for _, p := range list {
		out.Policies = append(out.Policies, policyToProto(p))
	}
	return out, nil
}

func (s *PolicyService) listPolicies(ctx context.Context, req *pb.ListPoliciesRequest) ([]*engine.Policy, error) {
	if err := requireReader(ctx); err != nil {
		return nil, err
	}
	var v engine.Violations
	if req.GetRegion() != "" {
		engine.CheckID(&v, "region", req.GetRegion())
	}
	if sc := req.GetScheme(); sc != pb.Scheme_SCHEME_UNSPECIFIED {
		checkScheme(&v, sc)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.store.Policies(ctx, req.GetRegion(), engine.Scheme(req.GetScheme()))
}

// checkScheme records a violation unless scheme is one of the two schemes.
func checkScheme(v *engine.Violations, scheme pb.Scheme) {
	if scheme != pb.Scheme_SCHEME_EMPLOYEE && scheme != pb.Scheme_SCHEME_RESIDENT {
		v.Addf("scheme", "must be SCHEME_EMPLOYEE or SCHEME_RESIDENT")
	}
}
