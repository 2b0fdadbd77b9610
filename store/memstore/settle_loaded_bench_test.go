package memstore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// loadedPersons and loadedSettlements are the size of the store
// BenchmarkMemstoreSettleLoaded settles into: about what `make loadtest`
// leaves, so that its maps are large and mostly out of the cache.
const (
	loadedPersons     = 2000
	loadedSettlements = 300_000
)

// loadedStore is the store of BenchmarkMemstoreSettleLoaded, filled once
// per process (filling takes seconds; the benchmark function runs several
// times), with its settlements' request ids counted by loadedSeq.
var (
	loadedOnce    sync.Once
	loadedStoreV  *memstore.Store
	loadedSeq     atomic.Int64
	loadedItems   []engine.LineItem
	loadedResults []engine.Result
)

// loadedSettle settles the next request, as the server does: Settle, then
// the call's audit event.
func loadedSettle(ctx context.Context, s *memstore.Store) error {
	n := loadedSeq.Add(1)
	p := int(n % loadedPersons)
	rid := strconv.FormatInt(n, 10)
	pid := fmt.Sprintf("P%04d", p)
	claim := engine.Claim{RequestID: rid, InstitutionID: "H1", PersonID: pid,
		VisitType: engine.VisitInpatient, SettleDate: engine.Date{Year: 2024, Month: 3, Day: 1}, Items: loadedItems}
	res := loadedResults[p]
	st, err := s.Settle(ctx, claim, func(store.PersonYear) (engine.Result, error) { return res, nil })
	if err != nil {
		return err
	}
	_, err = s.AppendAudit(ctx, store.AuditEvent{Time: time.Unix(1700000000, 0), Role: "institution", CallerInstitution: "H1",
		Method: "/medsettle.v1.SettlementService/Settle", RequestID: rid, SettlementID: st.ID, PersonID: pid, InstitutionID: "H1"})
	return err
}

func loadedStore(b *testing.B) *memstore.Store {
	loadedOnce.Do(func() {
		ctx := context.Background()
		s := memstore.New()
		ps := make([]engine.Person, loadedPersons)
		loadedResults = make([]engine.Result, loadedPersons)
		for i := range ps {
			ps[i] = engine.Person{ID: fmt.Sprintf("P%04d", i), Region: "R1", Scheme: engine.SchemeEmployee}
			loadedResults[i] = benchResult(ps[i].ID)
		}
		if err := s.PutPersons(ctx, ps); err != nil {
			b.Fatal(err)
		}
		if err := s.PutInstitution(ctx, engine.Institution{ID: "H1", Region: "R1", Level: 3,
			Budgets: []engine.Budget{{Year: 2024, Amount: engine.MustMoney("1000000")}}}); err != nil {
			b.Fatal(err)
		}
		loadedItems = make([]engine.LineItem, 6)
		for i := range loadedItems {
			loadedItems[i] = engine.LineItem{Code: fmt.Sprintf("X%03d", i), Name: "item", Quantity: engine.QuantityOf(1),
				UnitPrice: engine.MustPrice("100"), Amount: engine.MustMoney("100")}
		}
		var wg sync.WaitGroup
		var failed atomic.Value
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for loadedSeq.Load() < loadedSettlements {
					if err := loadedSettle(ctx, s); err != nil {
						failed.Store(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, _ := failed.Load().(error); err != nil {
			b.Fatal(err)
		}
		loadedStoreV = s
	})
	if loadedStoreV == nil {
		b.Fatal("the loaded store failed to fill")
	}
	return loadedStoreV
}

// BenchmarkMemstoreSettleLoaded is BenchmarkMemstoreSettle as the server
// runs it under load: over 2,000 persons, into a store that already holds
// 300,000 settlements and their audit events, each Settle followed by its
// audit event (the compute is a fixed result).
func BenchmarkMemstoreSettleLoaded(b *testing.B) {
	ctx := context.Background()
	s := loadedStore(b)
	b.ReportAllocs()
	b.ResetTimer()
	reportCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := loadedSettle(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
