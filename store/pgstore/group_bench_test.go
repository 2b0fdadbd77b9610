package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// BenchmarkGroupCommit settles from 64 goroutines at the store, each
// settlement followed by its audit event as the API appends it, with group
// commit off (batch 1) and on, over 2,000 persons and over 5. Set
// MEDSETTLE_BENCH_DATABASE_URL to a durable server (fsync on) to measure
// what a deployment sees; the test cluster runs with fsync off.
func BenchmarkGroupCommit(b *testing.B) {
	url := os.Getenv("MEDSETTLE_BENCH_DATABASE_URL")
	if url == "" {
		url = pgtest.URL(b)
	}
	for _, persons := range []int{2000, 5} {
		for _, cfg := range []struct{ batch, batches int }{{1, 1}, {64, 1}, {64, 2}, {64, 3}} {
			b.Run(fmt.Sprintf("persons=%d/batch=%d/batches=%d", persons, cfg.batch, cfg.batches), func(b *testing.B) {
				benchGroup(b, url, persons, cfg.batch, cfg.batches)
			})
		}
	}
}

func benchGroup(b *testing.B, url string, persons, batch, batches int) {
	ctx := context.Background()
	st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: pgtest.Schema(b, url), MaxConns: 80, MaxBatch: batch, Batches: batches})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ps := make([]engine.Person, persons)
	for i := range ps {
		ps[i] = engine.Person{ID: fmt.Sprintf("P%04d", i), Name: "p", Region: "R", Scheme: engine.SchemeEmployee}
	}
	if err := st.PutPersons(ctx, ps); err != nil {
		b.Fatal(err)
	}
	if err := st.PutInstitution(ctx, engine.Institution{ID: "H", Name: "H", Region: "R", Level: 1}); err != nil {
		b.Fatal(err)
	}
	one := engine.Yuan(1)
	compute := func(py store.PersonYear) (engine.Result, error) {
		return engine.Result{
			Breakdown: engine.Breakdown{Total: one, InScope: one, BasicFund: one, FundTotal: one},
			Delta:     engine.NewAccumulators(py.Person.ID, 2026),
		}, nil
	}
	noAudit := os.Getenv("MEDSETTLE_BENCH_NO_AUDIT") != ""
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				c := engine.Claim{RequestID: fmt.Sprintf("r%d", i), InstitutionID: "H", PersonID: ps[int(i)%persons].ID,
					VisitType: engine.VisitInpatient, SettleDate: engine.Date{Year: 2026, Month: time.March, Day: 1},
					Items: []engine.LineItem{{Code: "A", Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("1"), Amount: one}}}
				s, err := st.Settle(ctx, c, compute)
				if err != nil {
					b.Error(err)
					return
				}
				if noAudit {
					continue
				}
				if _, err := st.AppendAudit(ctx, store.AuditEvent{Time: time.Now(), Role: "institution", Method: "Settle",
					RequestID: c.RequestID, SettlementID: s.ID, PersonID: c.PersonID, InstitutionID: "H"}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "settles/s")
	if groups, n, _ := pgstore.GroupStats(st); groups > 0 {
		b.ReportMetric(float64(n)/float64(groups), "claims/group")
		b.ReportMetric(float64(n)/float64(b.N), "grouped/settles")
	}
}
