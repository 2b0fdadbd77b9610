package api

import (
	"context"
	"errors"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// The operator's metrics (docs/METRICS.md lists them with their labels and
// Prometheus names). Label values come from small fixed sets: no person,
// institution or request id is ever a label.
const (
	metricSettlements       = "medsettle.settlements"
	metricFundPaid          = "medsettle.fund.paid"
	metricBudgetStates      = "medsettle.settlements.budget"
	metricStoreErrors       = "medsettle.store.errors"
	metricClearingProcessed = "medsettle.clearing.processed"
	metricClearingTotal     = "medsettle.clearing.total"
	metricClearingRuns      = "medsettle.clearing.runs"
)

// Fund layers, the values of the fund label of medsettle.fund.paid.
const (
	FundLabelBasic        = "basic"
	FundLabelCatastrophic = "catastrophic"
	FundLabelMedicalAid   = "medical_aid"
	FundLabelAccount      = "account"
	FundLabelCash         = "cash"
)

// Store error kinds, the values of the kind label of medsettle.store.errors.
const (
	StoreErrorUnavailable = "unavailable"
	StoreErrorConflict    = "conflict"
	StoreErrorNotFound    = "not_found"
	StoreErrorInternal    = "internal"
)

// metrics holds the instruments an operator scrapes. Like telemetry's,
// they use the global meter provider and do nothing until cmd installs
// one.
type metrics struct {
	settlements metric.Int64Counter
	fundPaid    metric.Int64Counter
	budget      metric.Int64Counter
	storeErrors metric.Int64Counter
	processed   metric.Int64Gauge
	total       metric.Int64Gauge
	runs        metric.Int64Counter
}

// newMetrics creates the instruments on the global meter provider. An
// instrument that cannot be created stays a no-op.
func newMetrics() *metrics {
	meter := otel.Meter(instrumentationName)
	m := &metrics{}
	m.settlements, _ = meter.Int64Counter(metricSettlements,
		metric.WithDescription("Settle calls by outcome (gRPC status code) and visit type"), metric.WithUnit("{settlement}"))
	m.fundPaid, _ = meter.Int64Counter(metricFundPaid,
		metric.WithDescription("Amounts paid by newly committed settlements per fund layer, in fen (0.01 yuan); reversals are not subtracted"),
		metric.WithUnit("fen"))
	m.budget, _ = meter.Int64Counter(metricBudgetStates,
		metric.WithDescription("Newly committed settlements by the institution's budget state with the settlement counted (none: no budget for the year)"),
		metric.WithUnit("{settlement}"))
	m.storeErrors, _ = meter.Int64Counter(metricStoreErrors,
		metric.WithDescription("Store operations that failed, by operation and kind"), metric.WithUnit("{error}"))
	m.processed, _ = meter.Int64Gauge(metricClearingProcessed,
		metric.WithDescription("Settlements processed so far by the running clearing run of a kind (0 when none runs)"), metric.WithUnit("{settlement}"))
	m.total, _ = meter.Int64Gauge(metricClearingTotal,
		metric.WithDescription("Settlements the running clearing run of a kind reads in all (0 when none runs)"), metric.WithUnit("{settlement}"))
	m.runs, _ = meter.Int64Counter(metricClearingRuns,
		metric.WithDescription("Clearing runs by kind and outcome (gRPC status code)"), metric.WithUnit("{run}"))
	return m
}

// settlement counts one Settle call by its answer (a status error or nil)
// and the visit type the request gave.
func (m *metrics) settlement(ctx context.Context, visit pb.VisitType, err error) {
	if !m.settlements.Enabled(ctx) {
		return
	}
	m.settlements.Add(ctx, 1, metric.WithAttributes(
		attribute.String("code", status.Code(err).String()), attribute.String("visit_type", visitTypeLabel(visit))))
}

// settled counts the fund amounts and the budget state of a settlement
// the store has just committed for the first time.
func (m *metrics) settled(ctx context.Context, st engine.Settlement) {
	if m.fundPaid.Enabled(ctx) {
		b := st.Result.Breakdown
		for i, amount := range [len(fundLabels)]engine.Money{b.BasicFund, b.Catastrophic, b.MedicalAid, b.Account, b.Cash} {
			// Always added, zero included, so that every layer's series
			// exists from the first settlement on.
			m.fundPaid.Add(ctx, amount.Fen(), fundLabels[i]...)
		}
	}
	if m.budget.Enabled(ctx) {
		state := "none"
		if st.Result.Budget != nil {
			state = budgetStateLabel(st.Result.Budget.State)
		}
		m.budget.Add(ctx, 1, metric.WithAttributes(attribute.String("state", state)))
	}
}

// fundLabels are the fund labels of medsettle.fund.paid, built once, in
// the order settled adds them.
var fundLabels = [...][]metric.AddOption{
	fundLabel(FundLabelBasic), fundLabel(FundLabelCatastrophic), fundLabel(FundLabelMedicalAid),
	fundLabel(FundLabelAccount), fundLabel(FundLabelCash),
}

func fundLabel(fund string) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String("fund", fund)))}
}

// storeError counts a failed store operation when err is a store failure
// rather than the settlement's own refusal (a validation error, an
// uncovered claim) or the caller's cancellation.
func (m *metrics) storeError(ctx context.Context, op string, err error) {
	if kind := storeErrorKind(err); kind != "" {
		m.storeErrors.Add(ctx, 1, metric.WithAttributes(attribute.String("op", op), attribute.String("kind", kind)))
	}
}

// progress wraps a clearing run's store.Progress so that the gauges of
// the run's kind follow it; clearingRun sets them back to 0.
func (m *metrics) progress(ctx context.Context, kind engine.ClearingKind, report store.Progress) store.Progress {
	attrs := metric.WithAttributes(attribute.String("kind", clearingKindLabel(kind)))
	return func(processed, total int64) {
		m.processed.Record(ctx, processed, attrs)
		m.total.Record(ctx, total, attrs)
		report(processed, total)
	}
}

// clearingRun counts a finished clearing run by kind and answer and sets
// the kind's gauges back to 0: no run of that kind is running.
func (m *metrics) clearingRun(ctx context.Context, kind engine.ClearingKind, err error) {
	attrs := metric.WithAttributes(attribute.String("kind", clearingKindLabel(kind)))
	m.processed.Record(ctx, 0, attrs)
	m.total.Record(ctx, 0, attrs)
	m.runs.Add(ctx, 1, metric.WithAttributes(attribute.String("kind", clearingKindLabel(kind)),
		attribute.String("code", status.Code(err).String())))
}

// visitTypeLabel names a visit type as a label: "inpatient",
// "chronic_outpatient", "outpatient", "unspecified", or "invalid" for a
// number outside the enum (so that a caller cannot mint label values).
func visitTypeLabel(v pb.VisitType) string {
	if _, ok := pb.VisitType_name[int32(v)]; !ok {
		return "invalid"
	}
	return strings.ToLower(strings.TrimPrefix(v.String(), "VISIT_TYPE_"))
}

// budgetStateLabel names a budget state as a label: "within", "warning",
// "exceeded" or "unspecified".
func budgetStateLabel(s engine.BudgetState) string {
	if _, ok := pb.BudgetState_name[int32(s)]; !ok {
		return "invalid"
	}
	return strings.ToLower(strings.TrimPrefix(pb.BudgetState(s).String(), "BUDGET_STATE_"))
}

// clearingKindLabel names a clearing kind as a label: "drg", "budget",
// "capitation" or "unspecified".
func clearingKindLabel(k engine.ClearingKind) string {
	return strings.ToLower(strings.TrimPrefix(k.String(), "CLEARING_KIND_"))
}

// storeErrorKind classifies an error a store operation returned: "" when
// it is no store failure (nil, the caller's cancellation or deadline, the
// engine refusing the claim), else one of the StoreError kinds.
func storeErrorKind(err error) string {
	if err == nil {
		// Before the targets of errors.As below, which escape: a
		// successful operation allocates nothing here.
		return ""
	}
	var ve *engine.ValidationError
	var mismatch *engine.CrossRegionMismatch
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return StoreErrorUnavailable
	case errors.Is(err, store.ErrConflict):
		return StoreErrorConflict
	case errors.Is(err, store.ErrNotFound):
		return StoreErrorNotFound
	case errors.Is(err, engine.ErrInvariant):
		return StoreErrorInternal
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ve), errors.As(err, &mismatch),
		errors.Is(err, engine.ErrNoPolicy), errors.Is(err, engine.ErrNotCovered), errors.Is(err, engine.ErrAlreadyReversed),
		errors.Is(err, engine.ErrForbidden), errors.Is(err, engine.ErrCrossRegion), errors.Is(err, engine.ErrFinalExists),
		errors.Is(err, engine.ErrNoClearingRules), errors.Is(err, engine.ErrContractInUse),
		errors.Is(err, store.ErrInsufficientBalance):
		return ""
	}
	if _, ok := status.FromError(err); ok {
		return "" // answered by the api layer, not the store
	}
	return StoreErrorInternal
}
