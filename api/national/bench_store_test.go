package national

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// timedSt is a store that adds up the time and the number of the calls a
// claim makes of it (BenchmarkGatewayClaim -v prints them per claim).
type timedSt struct {
	stStore
	mu sync.Mutex
	d  map[string]time.Duration
	n  map[string]int
}

// rec adds one call of name begun at start.
func (t *timedSt) rec(name string, start time.Time) {
	t.mu.Lock()
	if t.d == nil {
		t.d, t.n = map[string]time.Duration{}, map[string]int{}
	}
	t.d[name] += time.Since(start)
	t.n[name]++
	t.mu.Unlock()
}

// report is the calls per claim of claims, by method.
func (t *timedSt) report(claims int) string {
	var names []string
	for k := range t.d {
		names = append(names, k)
	}
	sort.Strings(names)
	s := ""
	for _, k := range names {
		s += fmt.Sprintf("%-18s %5.2f/claim %8.1fµs/claim\n", k, float64(t.n[k])/float64(claims), float64(t.d[k].Microseconds())/float64(claims))
	}
	return s
}
func (t *timedSt) GetVisit(ctx context.Context, id string) (store.Visit, error) {
	defer t.rec("GetVisit", time.Now())
	return t.stStore.GetVisit(ctx, id)
}
func (t *timedSt) GetPerson(ctx context.Context, id string) (engine.Person, error) {
	defer t.rec("GetPerson", time.Now())
	return t.stStore.GetPerson(ctx, id)
}
func (t *timedSt) GetInstitution(ctx context.Context, id string) (engine.Institution, error) {
	defer t.rec("GetInstitution", time.Now())
	return t.stStore.GetInstitution(ctx, id)
}
func (t *timedSt) Policies(ctx context.Context, r string, s engine.Scheme) ([]*engine.Policy, error) {
	defer t.rec("Policies", time.Now())
	return t.stStore.Policies(ctx, r, s)
}
func (t *timedSt) Snapshot(ctx context.Context, p, i string, y int) (store.PersonYear, error) {
	defer t.rec("Snapshot", time.Now())
	return t.stStore.Snapshot(ctx, p, i, y)
}
func (t *timedSt) Settle(ctx context.Context, c engine.Claim, f store.ComputeFunc) (engine.Settlement, error) {
	defer t.rec("Settle", time.Now())
	return t.stStore.Settle(ctx, c, f)
}
func (t *timedSt) SettleVisit(ctx context.Context, c engine.Claim, f store.ComputeFunc, m store.VisitMark) (engine.Settlement, error) {
	defer t.rec("SettleVisit", time.Now())
	return t.stStore.SettleVisit(ctx, c, f, m)
}
func (t *timedSt) GetSettlement(ctx context.Context, id string) (engine.Settlement, error) {
	defer t.rec("GetSettlement", time.Now())
	return t.stStore.GetSettlement(ctx, id)
}
func (t *timedSt) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	defer t.rec("AppendAudit", time.Now())
	return t.stStore.AppendAudit(ctx, e)
}
func (t *timedSt) AuditEvents(ctx context.Context, f store.AuditFilter) ([]store.AuditEvent, error) {
	defer t.rec("AuditEvents", time.Now())
	return t.stStore.AuditEvents(ctx, f)
}
func (t *timedSt) PutFeeDetails(ctx context.Context, v string, l []store.FeeDetail) error {
	defer t.rec("PutFeeDetails", time.Now())
	return t.stStore.PutFeeDetails(ctx, v, l)
}
func (t *timedSt) FeeDetails(ctx context.Context, v, b string) ([]store.FeeDetail, error) {
	defer t.rec("FeeDetails", time.Now())
	return t.stStore.FeeDetails(ctx, v, b)
}
func (t *timedSt) VisitDetails(ctx context.Context, id, b string) (store.Visit, []store.FeeDetail, error) {
	defer t.rec("VisitDetails", time.Now())
	return t.stStore.VisitDetails(ctx, id, b)
}
func (t *timedSt) MarkVisitSettled(ctx context.Context, id, s string) (store.Visit, error) {
	defer t.rec("MarkVisitSettled", time.Now())
	return t.stStore.MarkVisitSettled(ctx, id, s)
}
func (t *timedSt) OpenVisit(ctx context.Context, v store.Visit) (store.Visit, error) {
	defer t.rec("OpenVisit(untimed)", time.Now())
	return t.stStore.OpenVisit(ctx, v)
}
