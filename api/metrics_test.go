package api

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// withMeterReader installs a meter provider with a manual reader for the
// test and restores the previous one after it.
func withMeterReader(t *testing.T) *sdkmetric.ManualReader {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	otel.SetMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)))
	t.Cleanup(resetTelemetry)
	return reader
}

// int64Point is the value of the int64 sum or gauge point of metric name
// whose attributes include want, and whether there is one.
func int64Point(t *testing.T, reader *sdkmetric.ManualReader, name string, want map[string]string) (int64, bool) {
	t.Helper()
	var rm metricdata.ResourceMetrics
	must(t, reader.Collect(context.Background(), &rm))
	matches := func(set attribute.Set) bool {
		for k, v := range want {
			if got, ok := set.Value(attribute.Key(k)); !ok || got.AsString() != v {
				return false
			}
		}
		return true
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					if matches(dp.Attributes) {
						return dp.Value, true
					}
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					if matches(dp.Attributes) {
						return dp.Value, true
					}
				}
			}
		}
	}
	return 0, false
}

// wantPoint checks the value of one point.
func wantPoint(t *testing.T, reader *sdkmetric.ManualReader, name string, labels map[string]string, want int64) {
	t.Helper()
	got, ok := int64Point(t, reader, name, labels)
	if !ok {
		t.Errorf("no point %s%v", name, labels)
	} else if got != want {
		t.Errorf("%s%v = %d, want %d", name, labels, got, want)
	}
}

// TestMetricsBudgetStatesAndClearing: settlements are counted by the
// institution's budget state; a clearing run by kind and outcome, its
// progress gauges back at 0 once it ended.
func TestMetricsBudgetStatesAndClearing(t *testing.T) {
	reader := withMeterReader(t)
	c := clearingServer(t, memKind)
	c.institution("B1", clearingRegion, 2, "1000000")
	c.institution("B4", clearingRegion, 2, "1000000")
	c.person("P1", clearingRegion, employee)
	c.person("P4", clearingRegion, employee)
	within := c.settle(claimOf("b1a", "B1", "P1", inpatient, "2026-01-10", "", "600000", "0"))
	exceeded := c.settle(claimOf("b4", "B4", "P4", inpatient, "2026-05-10", "", "1150000", "0"))
	if within.GetBudget().GetState() != pb.BudgetState_BUDGET_STATE_WITHIN ||
		exceeded.GetBudget().GetState() != pb.BudgetState_BUDGET_STATE_EXCEEDED {
		t.Fatalf("budget states %v and %v", within.GetBudget(), exceeded.GetBudget())
	}
	wantPoint(t, reader, metricBudgetStates, map[string]string{"state": "within"}, 1)
	wantPoint(t, reader, metricBudgetStates, map[string]string{"state": "exceeded"}, 1)
	wantPoint(t, reader, metricFundPaid, map[string]string{"fund": FundLabelBasic}, 175000000) // 600,000 + 1,150,000 yuan
	wantPoint(t, reader, metricSettlements, map[string]string{"code": "OK", "visit_type": "inpatient"}, 2)

	c.mustRun(budgetRun())
	wantPoint(t, reader, metricClearingRuns, map[string]string{"kind": "budget", "code": "OK"}, 1)
	wantPoint(t, reader, metricClearingProcessed, map[string]string{"kind": "budget"}, 0)
	wantPoint(t, reader, metricClearingTotal, map[string]string{"kind": "budget"}, 0)
	bad := budgetRun()
	bad.Year = 1
	_, err := c.run(clearingToken, bad)
	wantCode(t, err, codes.InvalidArgument)
	wantPoint(t, reader, metricClearingRuns, map[string]string{"kind": "budget", "code": "InvalidArgument"}, 1)
}

// TestMetricsStoreErrorsOfEveryOperation: a failed store operation is
// counted by its operation and kind whichever RPC made it (here a read:
// GetCapitationContract of an unknown contract), once.
func TestMetricsStoreErrorsOfEveryOperation(t *testing.T) {
	reader := withMeterReader(t)
	c := clearingServer(t, memKind)
	ctx, cancel := as(clearingToken)
	defer cancel()
	for range 2 {
		_, err := c.clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: "NOPE"})
		wantCode(t, err, codes.NotFound)
	}
	wantPoint(t, reader, metricStoreErrors, map[string]string{"op": "GetContract", "kind": "not_found"}, 2)
}

// TestMetricsClearingProgress: while a run reports, its kind's gauges hold
// the last report, and the run's own progress still gets every report.
func TestMetricsClearingProgress(t *testing.T) {
	reader := withMeterReader(t)
	m := newMetrics()
	var got []string
	report := m.progress(context.Background(), engine.ClearingDRG, func(p, total int64) { got = append(got, fmt.Sprint(p, "/", total)) })
	report(0, 10)
	report(3, 10)
	wantPoint(t, reader, metricClearingProcessed, map[string]string{"kind": "drg"}, 3)
	wantPoint(t, reader, metricClearingTotal, map[string]string{"kind": "drg"}, 10)
	if fmt.Sprint(got) != "[0/10 3/10]" {
		t.Errorf("reports passed on: %v", got)
	}
	m.clearingRun(context.Background(), engine.ClearingDRG, status.Error(codes.Canceled, "request cancelled"))
	wantPoint(t, reader, metricClearingProcessed, map[string]string{"kind": "drg"}, 0)
	wantPoint(t, reader, metricClearingRuns, map[string]string{"kind": "drg", "code": "Canceled"}, 1)
}

// TestStoreErrorKind: store failures by kind; the engine refusing a claim
// or the caller giving up is no store error.
func TestStoreErrorKind(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("settle: %w", store.ErrUnavailable), StoreErrorUnavailable},
		{fmt.Errorf("settle: %w", store.ErrConflict), StoreErrorConflict},
		{fmt.Errorf("person E9: %w", store.ErrNotFound), StoreErrorNotFound},
		{fmt.Errorf("row: %w", engine.ErrInvariant), StoreErrorInternal},
		{errors.New("pq: something odd"), StoreErrorInternal},
		{context.Canceled, ""},
		{fmt.Errorf("run: %w", context.DeadlineExceeded), ""},
		{engine.ErrNotCovered, ""},
		{fmt.Errorf("compute: %w", engine.ErrNoPolicy), ""},
		{store.ErrInsufficientBalance, ""},
		{status.Error(codes.InvalidArgument, "bad"), ""},
	} {
		if got := storeErrorKind(c.err); got != c.want {
			t.Errorf("storeErrorKind(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// TestMetricLabels: label values come from fixed sets, whatever number a
// caller sends.
func TestMetricLabels(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{visitTypeLabel(pb.VisitType_VISIT_TYPE_INPATIENT), "inpatient"},
		{visitTypeLabel(pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT), "chronic_outpatient"},
		{visitTypeLabel(pb.VisitType_VISIT_TYPE_UNSPECIFIED), "unspecified"},
		{visitTypeLabel(pb.VisitType(42)), "invalid"},
		{budgetStateLabel(engine.BudgetWarning), "warning"},
		{budgetStateLabel(engine.BudgetState(9)), "invalid"},
		{clearingKindLabel(engine.ClearingCapitation), "capitation"},
		{clearingKindLabel(engine.ClearingKind(9)), "unspecified"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
