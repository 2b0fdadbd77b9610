package api

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// Server-side limits on store operations. A store that stops answering (a
// frozen database, a lost network) would otherwise hold a call for as long
// as the client waits, forever for a client without a deadline.
const (
	// DefaultStoreTimeout bounds one unary store operation: a read, a
	// write, a settlement or a reversal (and all the store operations of
	// one settlement service call together).
	DefaultStoreTimeout = 5 * time.Second
	// DefaultLongStoreTimeout bounds the operations whose work grows with
	// the data: a clearing run, a reconciliation and the bulk imports
	// (ImportPersons' PutPersons, EnrollMembers). A DRG run over a million
	// settlements takes seconds (benchmarks/README.md).
	DefaultLongStoreTimeout = 10 * time.Minute
)

// StoreTimeouts are the server-side limits of WithStoreTimeouts. A zero
// field takes its default; a negative one means no limit.
type StoreTimeouts struct {
	// Unary bounds each unary store operation (DefaultStoreTimeout), and
	// all the store operations of one settlement service call together
	// (storeDeadline).
	Unary time.Duration
	// Long bounds each clearing run, reconciliation and bulk import
	// (DefaultLongStoreTimeout).
	Long time.Duration
}

func (t StoreTimeouts) withDefaults() StoreTimeouts {
	if t.Unary == 0 {
		t.Unary = DefaultStoreTimeout
	}
	if t.Long == 0 {
		t.Long = DefaultLongStoreTimeout
	}
	return t
}

// WithStoreTimeouts returns st with every operation bounded: one that does
// not end within its limit fails with an error wrapping
// store.ErrUnavailable, which the API answers UNAVAILABLE ("retry with the
// same request id"). The limit is a context deadline: it ends the
// operation only if the store honours its context, as memstore and pgstore
// do (pgx closes the connection of a query whose context ends). The
// caller's own deadline or cancellation is reported as it is (the API
// answers DEADLINE_EXCEEDED or CANCELLED). NewServer wraps its store with
// the defaults unless given one WithStoreTimeouts made.
func WithStoreTimeouts(st store.Store, limits StoreTimeouts) store.Store {
	if ts := asTimed(st); ts != nil {
		st = ts.Store
	}
	ts := &timedStore{Store: st, limits: limits.withDefaults(), metrics: newMetrics()}
	if vs, ok := st.(store.VisitStore); ok {
		return &timedVisitStore{timedStore: ts, visits: vs}
	}
	return ts
}

// withDefaultStoreTimeouts is what NewServer serves: st as it is if
// WithStoreTimeouts made it, else st with the default limits.
func withDefaultStoreTimeouts(st store.Store) store.Store {
	if asTimed(st) != nil || st == nil {
		return st
	}
	return WithStoreTimeouts(st, StoreTimeouts{})
}

// storeTimeoutError is an operation that ran out of its server-side limit:
// the API answers it as any store.ErrUnavailable, UNAVAILABLE with "retry
// with the same request id", and logs it with the operation and limit.
type storeTimeoutError struct {
	op    string
	limit time.Duration
	err   error
}

func (e *storeTimeoutError) Error() string {
	return fmt.Sprintf("store %s: no answer within %v (%v): %v", e.op, e.limit, e.err, store.ErrUnavailable)
}

// Unwrap is store.ErrUnavailable only: the context error the store
// returned is the server's own limit, not the client's deadline.
func (e *storeTimeoutError) Unwrap() error { return store.ErrUnavailable }

// timedStore bounds the operations of the store it embeds. Every method of
// store.Store is bounded here; TestStoreTimeoutCoversEveryOperation fails
// when store.Store gains one that is not.
type timedStore struct {
	store.Store
	limits  StoreTimeouts
	metrics *metrics // counts failed operations (medsettle.store.errors)
}

// timed runs f with limit as a deadline of its own (timedRun) and counts
// a failure of the store in medsettle.store.errors: every store operation
// of the server passes here, so every one is counted, once.
func timed[T any](ctx context.Context, m *metrics, limit time.Duration, op string, f func(context.Context) (T, error)) (T, error) {
	v, err := timedRun(ctx, limit, op, f)
	m.storeError(ctx, op, err)
	return v, err
}

// timedRun runs f under limit (limitedOp): with a deadline of its own (a
// clockDeadline: no timer unless the store waits on Done) unless ctx ends
// no later than limit, and a failure that came of a store limit running
// out is a storeTimeoutError; the caller's own deadline is reported as
// it is.
func timedRun[T any](ctx context.Context, limit time.Duration, op string, f func(context.Context) (T, error)) (T, error) {
	o, octx := beginLimited(ctx, limit, op)
	defer o.release()
	v, err := f(octx)
	return v, o.fail(err)
}

// timeoutError reports whether err is what a store answers when its
// context ends.
func timeoutError(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, store.ErrUnavailable)
}

// storeDeadline gives the calls of the settlement service one store
// deadline each (the unary limit, from the start of the call) instead of
// one per store operation: a settlement's three or four store operations
// (institution, policies, settle, snapshot) share one deadline (a
// clockDeadline, armed only if the store waits on it), which timedRun then
// does not duplicate. Every operation stays bounded by the
// unary limit, and all of them together are too; the audit event is
// appended under its own (audit.go). The settlement service has no long
// operation (TestSettlementServiceHasNoLongStoreOperation).
func storeDeadline(st store.Store) grpc.UnaryServerInterceptor {
	ts := asTimed(st)
	if ts == nil || ts.limits.Unary < 0 {
		return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
			return handler(ctx, req)
		}
	}
	limit := ts.limits.Unary
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if !strings.HasPrefix(info.FullMethod, settlementServicePrefix) {
			return handler(ctx, req)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= limit {
			return handler(ctx, req)
		}
		sctx := newStoreLimit(ctx, time.Now().Add(limit))
		defer sctx.stop()
		return handler(sctx, req)
	}
}

// settlementServicePrefix starts the full method names of the settlement
// service.
const settlementServicePrefix = "/medsettle.v1.SettlementService/"

// timedErr is timed for an operation without a result.
func timedErr(ctx context.Context, m *metrics, limit time.Duration, op string, f func(context.Context) error) error {
	_, err := timed(ctx, m, limit, op, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

// PutPerson is bounded by the unary limit.
func (s *timedStore) PutPerson(ctx context.Context, p engine.Person) error {
	return timedErr(ctx, s.metrics, s.limits.Unary, "PutPerson", func(ctx context.Context) error { return s.Store.PutPerson(ctx, p) })
}

// PutPersons is bounded by the long limit (a bulk import).
func (s *timedStore) PutPersons(ctx context.Context, ps []engine.Person) error {
	return timedErr(ctx, s.metrics, s.limits.Long, "PutPersons", func(ctx context.Context) error { return s.Store.PutPersons(ctx, ps) })
}

// GetPerson is bounded by the unary limit.
func (s *timedStore) GetPerson(ctx context.Context, id string) (engine.Person, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "GetPerson", func(ctx context.Context) (engine.Person, error) { return s.Store.GetPerson(ctx, id) })
}

// EachPerson is bounded by the long limit (it reads a region's persons
// and calls fn for each: an ExportPlan of a million residents).
func (s *timedStore) EachPerson(ctx context.Context, region string, scheme engine.Scheme, fn func(engine.Person) error) error {
	return timedErr(ctx, s.metrics, s.limits.Long, "EachPerson", func(ctx context.Context) error {
		return s.Store.EachPerson(ctx, region, scheme, fn)
	})
}

// PutInstitution is bounded by the unary limit.
func (s *timedStore) PutInstitution(ctx context.Context, in engine.Institution) error {
	return timedErr(ctx, s.metrics, s.limits.Unary, "PutInstitution", func(ctx context.Context) error { return s.Store.PutInstitution(ctx, in) })
}

// GetInstitution is bounded by the unary limit.
func (s *timedStore) GetInstitution(ctx context.Context, id string) (engine.Institution, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "GetInstitution", func(ctx context.Context) (engine.Institution, error) {
		return s.Store.GetInstitution(ctx, id)
	})
}

// PutFiling is bounded by the unary limit.
func (s *timedStore) PutFiling(ctx context.Context, f engine.Filing) error {
	return timedErr(ctx, s.metrics, s.limits.Unary, "PutFiling", func(ctx context.Context) error { return s.Store.PutFiling(ctx, f) })
}

// AdjustAccount is bounded by the unary limit.
func (s *timedStore) AdjustAccount(ctx context.Context, a store.Adjustment) (store.Adjustment, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "AdjustAccount", func(ctx context.Context) (store.Adjustment, error) {
		return s.Store.AdjustAccount(ctx, a)
	})
}

// Filings is bounded by the unary limit.
func (s *timedStore) Filings(ctx context.Context, personID string) ([]engine.Filing, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "Filings", func(ctx context.Context) ([]engine.Filing, error) { return s.Store.Filings(ctx, personID) })
}

// PutPolicy is bounded by the unary limit.
func (s *timedStore) PutPolicy(ctx context.Context, p *engine.Policy) error {
	return timedErr(ctx, s.metrics, s.limits.Unary, "PutPolicy", func(ctx context.Context) error { return s.Store.PutPolicy(ctx, p) })
}

// Policies is bounded by the unary limit.
func (s *timedStore) Policies(ctx context.Context, region string, scheme engine.Scheme) ([]*engine.Policy, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "Policies", func(ctx context.Context) ([]*engine.Policy, error) {
		return s.Store.Policies(ctx, region, scheme)
	})
}

// Snapshot is bounded by the unary limit.
func (s *timedStore) Snapshot(ctx context.Context, personID, institutionID string, year int) (store.PersonYear, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "Snapshot", func(ctx context.Context) (store.PersonYear, error) {
		return s.Store.Snapshot(ctx, personID, institutionID, year)
	})
}

// Settle is bounded by the unary limit.
// It is timed without its closure (limitedOp: the settlement is not
// copied through timed's frames).
func (s *timedStore) Settle(ctx context.Context, claim engine.Claim, compute store.ComputeFunc) (st engine.Settlement, err error) {
	o, octx := beginLimited(ctx, s.limits.Unary, "Settle")
	defer o.release()
	st, err = s.Store.Settle(octx, claim, compute)
	err = o.fail(err)
	s.metrics.storeError(ctx, "Settle", err)
	return st, err
}

// Reverse is bounded by the unary limit.
func (s *timedStore) Reverse(ctx context.Context, r store.Reversal) (engine.Settlement, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "Reverse", func(ctx context.Context) (engine.Settlement, error) { return s.Store.Reverse(ctx, r) })
}

// GetSettlement is bounded by the unary limit.
func (s *timedStore) GetSettlement(ctx context.Context, id string) (engine.Settlement, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "GetSettlement", func(ctx context.Context) (engine.Settlement, error) {
		return s.Store.GetSettlement(ctx, id)
	})
}

// RunClearing is bounded by the long limit.
func (s *timedStore) RunClearing(ctx context.Context, sel store.Selection, c engine.Clearer, progress store.Progress) (engine.ClearingRun, error) {
	return timed(ctx, s.metrics, s.limits.Long, "RunClearing", func(ctx context.Context) (engine.ClearingRun, error) {
		return s.Store.RunClearing(ctx, sel, c, progress)
	})
}

// GetClearingRun is bounded by the unary limit.
func (s *timedStore) GetClearingRun(ctx context.Context, runID string) (engine.ClearingRun, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "GetClearingRun", func(ctx context.Context) (engine.ClearingRun, error) {
		return s.Store.GetClearingRun(ctx, runID)
	})
}

// StatementCases is bounded by the unary limit (one page).
func (s *timedStore) StatementCases(ctx context.Context, runID, institutionID, after string, limit int) ([]engine.CaseLine, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "StatementCases", func(ctx context.Context) ([]engine.CaseLine, error) {
		return s.Store.StatementCases(ctx, runID, institutionID, after, limit)
	})
}

// PutContract is bounded by the unary limit.
func (s *timedStore) PutContract(ctx context.Context, c engine.CapitationContract) error {
	return timedErr(ctx, s.metrics, s.limits.Unary, "PutContract", func(ctx context.Context) error { return s.Store.PutContract(ctx, c) })
}

// GetContract is bounded by the unary limit.
func (s *timedStore) GetContract(ctx context.Context, id string) (engine.CapitationContract, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "GetContract", func(ctx context.Context) (engine.CapitationContract, error) {
		return s.Store.GetContract(ctx, id)
	})
}

// enrolled is EnrollMembers' result.
type enrolled struct {
	n        int64
	rejected []store.EnrollRejection
}

// EnrollMembers is bounded by the long limit (a bulk import).
func (s *timedStore) EnrollMembers(ctx context.Context, contractID string, personIDs []string) (int64, []store.EnrollRejection, error) {
	r, err := timed(ctx, s.metrics, s.limits.Long, "EnrollMembers", func(ctx context.Context) (enrolled, error) {
		n, rejected, err := s.Store.EnrollMembers(ctx, contractID, personIDs)
		return enrolled{n, rejected}, err
	})
	return r.n, r.rejected, err
}

// Reconcile is bounded by the long limit (it reads a period's settlements).
func (s *timedStore) Reconcile(ctx context.Context, q store.ReconcileQuery) (store.ReconcileResult, error) {
	return timed(ctx, s.metrics, s.limits.Long, "Reconcile", func(ctx context.Context) (store.ReconcileResult, error) {
		return s.Store.Reconcile(ctx, q)
	})
}

// AppendAudit is bounded by the unary limit.
func (s *timedStore) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "AppendAudit", func(ctx context.Context) (int64, error) { return s.Store.AppendAudit(ctx, e) })
}

// AuditEvents is bounded by the unary limit (one page).
func (s *timedStore) AuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "AuditEvents", func(ctx context.Context) ([]store.AuditEvent, error) {
		return s.Store.AuditEvents(ctx, f)
	})
}

// asTimed is the timedStore st is (with or without its visits), or nil.
func asTimed(st store.Store) *timedStore {
	switch ts := st.(type) {
	case *timedStore:
		return ts
	case *timedVisitStore:
		return ts.timedStore
	}
	return nil
}

// timedVisitStore is the timedStore of a store that keeps the national
// gateway's visits (store.VisitStore): it bounds each visit operation by
// the unary limit as well, so that the gateway's visit calls get the same
// per-operation limit as its settlements. WithStoreTimeouts returns one
// exactly when the store it bounds is a VisitStore.
type timedVisitStore struct {
	*timedStore
	visits store.VisitStore
}

var _ store.VisitStore = (*timedVisitStore)(nil)

// OpenVisit is bounded by the unary limit.
func (s *timedVisitStore) OpenVisit(ctx context.Context, v store.Visit) (store.Visit, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "OpenVisit", func(ctx context.Context) (store.Visit, error) { return s.visits.OpenVisit(ctx, v) })
}

// GetVisit is bounded by the unary limit.
func (s *timedVisitStore) GetVisit(ctx context.Context, id string) (store.Visit, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "GetVisit", func(ctx context.Context) (store.Visit, error) { return s.visits.GetVisit(ctx, id) })
}

// CancelVisit is bounded by the unary limit.
func (s *timedVisitStore) CancelVisit(ctx context.Context, id string) (store.Visit, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "CancelVisit", func(ctx context.Context) (store.Visit, error) { return s.visits.CancelVisit(ctx, id) })
}

// RecordDischarge is bounded by the unary limit.
func (s *timedVisitStore) RecordDischarge(ctx context.Context, id, record string) error {
	return timedErr(ctx, s.metrics, s.limits.Unary, "RecordDischarge", func(ctx context.Context) error {
		return s.visits.RecordDischarge(ctx, id, record)
	})
}

// PutFeeDetails is bounded by the unary limit.
func (s *timedVisitStore) PutFeeDetails(ctx context.Context, visitID string, lines []store.FeeDetail) error {
	return timedErr(ctx, s.metrics, s.limits.Unary, "PutFeeDetails", func(ctx context.Context) error {
		return s.visits.PutFeeDetails(ctx, visitID, lines)
	})
}

// CancelFeeDetails is bounded by the unary limit.
func (s *timedVisitStore) CancelFeeDetails(ctx context.Context, visitID, batch, sn string) (int, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "CancelFeeDetails", func(ctx context.Context) (int, error) {
		return s.visits.CancelFeeDetails(ctx, visitID, batch, sn)
	})
}

// FeeDetails is bounded by the unary limit.
func (s *timedVisitStore) FeeDetails(ctx context.Context, visitID, batch string) ([]store.FeeDetail, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "FeeDetails", func(ctx context.Context) ([]store.FeeDetail, error) {
		return s.visits.FeeDetails(ctx, visitID, batch)
	})
}

// VisitDetails is bounded by the unary limit.
func (s *timedVisitStore) VisitDetails(ctx context.Context, id, batch string) (store.Visit, []store.FeeDetail, error) {
	type visitDetails struct {
		v  store.Visit
		ds []store.FeeDetail
	}
	got, err := timed(ctx, s.metrics, s.limits.Unary, "VisitDetails", func(ctx context.Context) (visitDetails, error) {
		v, ds, err := s.visits.VisitDetails(ctx, id, batch)
		return visitDetails{v, ds}, err
	})
	return got.v, got.ds, err
}

// MarkVisitSettled is bounded by the unary limit.
func (s *timedVisitStore) MarkVisitSettled(ctx context.Context, id, settlementID string) (store.Visit, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "MarkVisitSettled", func(ctx context.Context) (store.Visit, error) {
		return s.visits.MarkVisitSettled(ctx, id, settlementID)
	})
}

// SettleVisit is bounded by the unary limit, as Settle is.
func (s *timedVisitStore) SettleVisit(ctx context.Context, claim engine.Claim, compute store.ComputeFunc, mark store.VisitMark) (st engine.Settlement, err error) {
	o, octx := beginLimited(ctx, s.limits.Unary, "SettleVisit")
	defer o.release()
	st, err = s.visits.SettleVisit(octx, claim, compute, mark)
	err = o.fail(err)
	s.metrics.storeError(ctx, "SettleVisit", err)
	return st, err
}

// ReopenVisit is bounded by the unary limit.
func (s *timedVisitStore) ReopenVisit(ctx context.Context, id, settlementID string) (store.Visit, error) {
	return timed(ctx, s.metrics, s.limits.Unary, "ReopenVisit", func(ctx context.Context) (store.Visit, error) {
		return s.visits.ReopenVisit(ctx, id, settlementID)
	})
}
