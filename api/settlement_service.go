package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/attribute"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// SettlementService serves PreSettle, Settle, ReverseSettlement,
// GetSettlement and GetAccumulators.
type SettlementService struct {
	pb.UnimplementedSettlementServiceServer
	store store.Store
	log   *slog.Logger
	tel   *telemetry
	// clock refuses settle dates in the future (NewServer sets it).
	clock settleClock
}

// PreSettle computes a settlement and records nothing.
func (s *SettlementService) PreSettle(ctx context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	st, err := s.settle(ctx, req, false)
	err = toStatusWithID(ctx, req.GetRequestId(), s.log, "PreSettle", err)
	s.tel.record(ctx, "PreSettle", err)
	if err != nil {
		return nil, err
	}
	return settleResponse(st), nil
}

// Settle commits a settlement, idempotently on (institution, request_id).
func (s *SettlementService) Settle(ctx context.Context, req *pb.SettleRequest) (*pb.SettleResponse, error) {
	st, err := s.settle(ctx, req, true)
	err = toStatusWithID(ctx, req.GetRequestId(), s.log, "Settle", err)
	s.tel.record(ctx, "Settle", err)
	s.tel.metrics.settlement(ctx, req.GetVisitType(), err)
	if err != nil {
		return nil, err
	}
	if fn := settledFrom(ctx); fn != nil {
		fn(st)
	}
	// A retry gets the first answer unchanged, even after a reversal.
	return settleResponse(st.AsFirstAnswered()), nil
}

func (s *SettlementService) settle(ctx context.Context, req *pb.SettleRequest, commit bool) (engine.Settlement, error) {
	// Without an institution id there is no access to decide: the request
	// is malformed, and validation says so along with every other bad field.
	if req.GetInstitutionId() != "" {
		if err := requireInstitution(ctx, req.GetInstitutionId()); err != nil {
			return engine.Settlement{}, err
		}
	}
	claim, err := claimFromProto(req)
	err = s.clock.checkSettleDate(claim.SettleDate, err)
	if err != nil {
		return engine.Settlement{}, s.withCodeViolations(ctx, claim, err)
	}
	inst, err := s.store.GetInstitution(ctx, claim.InstitutionID)
	if err != nil {
		return engine.Settlement{}, err
	}
	// Every policy is read before the store takes the person's lock
	// (settleCall).
	policies, err := s.store.Policies(ctx, "", engine.SchemeUnspecified)
	if err != nil {
		return engine.Settlement{}, err
	}
	// One allocation for what compute reads (the claim included, which a
	// closure would have moved to the heap on its own).
	call := &settleCall{policies: policies, inst: inst, claim: claim, check: settleCheckFrom(ctx)}
	if commit {
		sctx, sp := s.tel.span(ctx, &storeOpSettle, attribute.String("medsettle.institution_id", claim.InstitutionID),
			attribute.String("medsettle.request_id", claim.RequestID))
		compute := call.compute
		var st engine.Settlement
		if mark, ok := visitMarkFrom(ctx); ok {
			vs, isVS := s.store.(store.VisitStore)
			if !isVS {
				err = fmt.Errorf("settle with a visit mark: the store (%T) keeps no visits: %w", s.store, engine.ErrInvariant)
			} else {
				st, err = vs.SettleVisit(sctx, claim, compute, mark)
			}
		} else {
			st, err = s.store.Settle(sctx, claim, compute)
		}
		sp.end(err)
		// Counted once, by the call whose compute the store used: a
		// replay computes nothing.
		if err == nil && call.computed {
			s.tel.metrics.settled(ctx, st)
		}
		return st, err
	}
	snap, err := s.store.Snapshot(ctx, claim.PersonID, claim.InstitutionID, claim.Year())
	if err != nil {
		return engine.Settlement{}, err
	}
	res, err := call.compute(snap)
	if err != nil {
		return engine.Settlement{}, err
	}
	// A preview is recorded nowhere: it has no fingerprint (the hash that
	// tells a retried request from another, which the answer does not
	// carry).
	return engine.Settlement{Claim: claim.Decided(res.CrossRegion), State: engine.StatePreview, Result: res}, nil
}

// settleCall is what a settlement's compute reads: every policy (read
// before the store takes the person's lock: a ComputeFunc must not call
// the store, which may need a connection the locked transaction is
// holding; the list comes from a cache), the institution, the claim and
// the call's settle check; computed is set once compute has returned a
// result without error (the store used it: not a replay).
type settleCall struct {
	policies []*engine.Policy
	inst     engine.Institution
	claim    engine.Claim
	check    SettleCheck
	computed bool
}

// compute is the call's store.ComputeFunc.
func (c *settleCall) compute(st store.PersonYear) (engine.Result, error) {
	policy, err := engine.SelectPolicy(c.policies, st.Person.Region, st.Person.Scheme, c.claim.SettleDate)
	if err != nil {
		return engine.Result{}, err
	}
	res, err := engine.Settle(engine.Input{
		Policy: policy, Person: st.Person, Institution: c.inst, Claim: c.claim,
		Accumulators: st.Accumulators, BudgetUsed: st.BudgetUsed, Filings: st.Filings,
		ClaimValidated: true, // by claimFromProto
	})
	if err == nil && c.check != nil {
		err = c.check(res)
	}
	c.computed = c.computed || err == nil
	return res, err
}

// ReverseSettlement undoes a settlement once, for the institution that made it.
func (s *SettlementService) ReverseSettlement(ctx context.Context, req *pb.ReverseSettlementRequest) (*pb.ReverseSettlementResponse, error) {
	st, err := s.reverse(ctx, req)
	err = toStatusWithID(ctx, req.GetRequestId(), s.log, "ReverseSettlement", err)
	s.tel.record(ctx, "ReverseSettlement", err)
	if err != nil {
		return nil, err
	}
	return &pb.ReverseSettlementResponse{Settlement: settlementToProto(st)}, nil
}

func (s *SettlementService) reverse(ctx context.Context, req *pb.ReverseSettlementRequest) (engine.Settlement, error) {
	p := principalFrom(ctx)
	if p.Role != RoleAdmin && p.Role != RoleInstitution {
		return engine.Settlement{}, requireInstitution(ctx, "")
	}
	var v engine.Violations
	engine.CheckID(&v, "request_id", req.GetRequestId())
	engine.CheckID(&v, "settlement_id", req.GetSettlementId())
	engine.CheckText(&v, "reason", req.GetReason(), engine.MaxReasonLen)
	if err := v.Err(); err != nil {
		return engine.Settlement{}, err
	}
	sctx, sp := s.tel.span(ctx, &storeOpReverse, attribute.String("medsettle.settlement_id", req.GetSettlementId()))
	st, err := s.store.Reverse(sctx, store.Reversal{
		RequestID: req.GetRequestId(), SettlementID: req.GetSettlementId(), Reason: req.GetReason(), Institution: p.Institution,
	})
	sp.end(err)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return engine.Settlement{}, noSuchSettlement(req.GetSettlementId())
	case errors.Is(err, engine.ErrForbidden):
		return engine.Settlement{}, notYourSettlement(req.GetSettlementId())
	}
	return st, err
}

// GetSettlement reads a settlement: administrators, clearing and the
// institution that made it. Another institution gets PERMISSION_DENIED
// (API.md's errors), in words that do not name the owner.
func (s *SettlementService) GetSettlement(ctx context.Context, req *pb.GetSettlementRequest) (*pb.GetSettlementResponse, error) {
	st, err := s.getSettlement(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "GetSettlement", err)
	}
	out := settlementToProto(st)
	out.Items = itemsToProto(st.Claim.Items)
	return &pb.GetSettlementResponse{Settlement: out}, nil
}

func (s *SettlementService) getSettlement(ctx context.Context, req *pb.GetSettlementRequest) (engine.Settlement, error) {
	var v engine.Violations
	engine.CheckID(&v, "settlement_id", req.GetSettlementId())
	if err := v.Err(); err != nil {
		return engine.Settlement{}, err
	}
	if err := requireReader(ctx); err != nil {
		return engine.Settlement{}, err
	}
	// The owner is known only once the settlement is read.
	st, err := s.store.GetSettlement(ctx, req.GetSettlementId())
	if errors.Is(err, store.ErrNotFound) {
		return engine.Settlement{}, noSuchSettlement(req.GetSettlementId())
	}
	if err != nil {
		return engine.Settlement{}, err
	}
	if p := principalFrom(ctx); p.Role == RoleInstitution && p.Institution != st.Claim.InstitutionID {
		return engine.Settlement{}, notYourSettlement(req.GetSettlementId())
	}
	return st, nil
}

// noSuchSettlement answers a settlement id that was never used.
func noSuchSettlement(id string) error {
	return fmt.Errorf("settlement %q: %w", id, store.ErrNotFound)
}

// notYourSettlement answers an institution about another institution's
// settlement: PERMISSION_DENIED, as API.md's errors and the public vectors
// give it, in words that never name the institution that made it. Ids
// are random (store.NewSettlementID), so telling this answer from
// NOT_FOUND tells a prober nothing it could not guess (DECISIONS.md).
func notYourSettlement(id string) error {
	return fmt.Errorf("settlement %q was made by another institution; only that institution or an administrator may use it: %w", id, engine.ErrForbidden)
}

// GetAccumulators reads a person's accumulators for a year; every role may.
func (s *SettlementService) GetAccumulators(ctx context.Context, req *pb.GetAccumulatorsRequest) (*pb.GetAccumulatorsResponse, error) {
	acc, err := s.getAccumulators(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "GetAccumulators", err)
	}
	return &pb.GetAccumulatorsResponse{Accumulators: acc}, nil
}

func (s *SettlementService) getAccumulators(ctx context.Context, req *pb.GetAccumulatorsRequest) (*pb.Accumulators, error) {
	if err := requireReader(ctx); err != nil {
		return nil, err
	}
	var v engine.Violations
	engine.CheckID(&v, "person_id", req.GetPersonId())
	if req.GetYear() < engine.MinYear || req.GetYear() > engine.MaxYear {
		v.Addf("year", "must be a calendar year, got %d", req.GetYear())
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	snap, err := s.store.Snapshot(ctx, req.GetPersonId(), "", int(req.GetYear()))
	if err != nil {
		return nil, err
	}
	return accumulatorsToProto(snap.Accumulators, engine.FormatMoney(snap.Person.AccountBalance)), nil
}

// withCodeViolations adds to a malformed claim's violations those of the
// codes against the policy (unknown drg_code, unknown items where the
// policy rejects them), so that BadRequest names every bad field at once.
// It needs the person and the date to have been read; when they were not,
// or the person or policy cannot be found, invalid is returned as it is.
func (s *SettlementService) withCodeViolations(ctx context.Context, claim engine.Claim, invalid error) error {
	var ve *engine.ValidationError
	if !errors.As(invalid, &ve) || claim.SettleDate.IsZero() || ve.Has("person_id") {
		return invalid
	}
	person, err := s.store.GetPerson(ctx, claim.PersonID)
	if err != nil {
		return invalid
	}
	policies, err := s.store.Policies(ctx, person.Region, person.Scheme)
	if err != nil {
		return invalid
	}
	policy, err := engine.SelectPolicy(policies, person.Region, person.Scheme, claim.SettleDate)
	if err != nil {
		return invalid
	}
	var v engine.Violations
	v.Merge(invalid)
	v.MergeNew(engine.CheckCodes(policy, claim))
	return v.Err()
}
