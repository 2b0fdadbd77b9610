package memstore_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// heapVisits is how many visits BenchmarkVisitBookGC's store holds.
const heapVisits = 200_000

// heapBook is BenchmarkVisitBookGC's store, made once per test binary
// (heapBookOnce), with the live heap's size and its bytes the garbage
// collector scans, before and after it was filled.
var (
	heapBookOnce                  sync.Once
	heapBook                      *memstore.Store
	heapBefore, heapAfter         uint64
	heapScanBefore, heapScanAfter uint64
	heapBookSetupErr              error
)

// heapScanBytes is the live heap's size and the part of it the garbage
// collector scans (runtime/metrics /gc/scan/heap:bytes), after a GC.
func heapScanBytes() (live, scan uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	sample := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() == metrics.KindUint64 {
		scan = sample[0].Value.Uint64()
	}
	return ms.HeapAlloc, scan
}

// fillHeapBook opens heapVisits visits over 1,000 persons, uploads two
// fee-detail lines to every other one and settles every fourth one with
// SettleVisit.
func fillHeapBook() (*memstore.Store, error) {
	ctx := context.Background()
	s := memstore.New()
	const persons = 1000
	for i := 0; i < persons; i++ {
		if err := s.PutPerson(ctx, engine.Person{ID: fmt.Sprintf("P%05d", i), Region: "R1", Scheme: engine.SchemeEmployee}); err != nil {
			return nil, err
		}
	}
	if err := s.PutInstitution(ctx, engine.Institution{ID: "H1", Region: "R1", Level: 3,
		Budgets: []engine.Budget{{Year: 2024, Amount: engine.MustMoney("100000000000")}}}); err != nil {
		return nil, err
	}
	results := make([]engine.Result, persons)
	for i := range results {
		results[i] = benchResult(fmt.Sprintf("P%05d", i))
	}
	items := []engine.LineItem{{Code: "X001", Name: "item", Quantity: engine.QuantityOf(1),
		UnitPrice: engine.MustPrice("100"), Amount: engine.MustMoney("100")}}
	for i := 0; i < heapVisits; i++ {
		p := i % persons
		v, err := s.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: fmt.Sprintf("P%05d", p), Kind: store.VisitKindOutpatient,
			Number: fmt.Sprintf("OP%09d", i), Scheme: engine.SchemeEmployee, MedType: "11", Begin: "2024-03-01 09:30:00"})
		if err != nil {
			return nil, err
		}
		if i%2 == 0 {
			lines := []store.FeeDetail{
				{SN: fmt.Sprintf("%d-1", i), Batch: "B1", Code: "X001", Name: "item one", FeeTime: "2024-03-01 09:40:00", MedType: "11",
					Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("100"), Amount: engine.MustMoney("100")},
				{SN: fmt.Sprintf("%d-2", i), Batch: "B1", Code: "X002", Name: "item two", FeeTime: "2024-03-01 09:41:00", MedType: "11",
					Quantity: engine.QuantityOf(2), UnitPrice: engine.MustPrice("5"), Amount: engine.MustMoney("10")},
			}
			if err := s.PutFeeDetails(ctx, v.ID, lines); err != nil {
				return nil, err
			}
			v.DetailsVersion++
		}
		if i%4 == 0 {
			claim := engine.Claim{RequestID: fmt.Sprintf("R%d", i), InstitutionID: "H1", PersonID: v.PersonID,
				VisitType: engine.VisitOutpatient, SettleDate: engine.Date{Year: 2024, Month: 3, Day: 1}, Items: items}
			res := results[p]
			mark := store.VisitMark{VisitID: v.ID, DetailsVersion: v.DetailsVersion, Msgid: fmt.Sprintf("H1%018d", i), CertType: "02"}
			if _, err := s.SettleVisit(ctx, claim, func(store.PersonYear) (engine.Result, error) { return res, nil }, mark); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// BenchmarkVisitBookGC is a full garbage collection of a heap holding a
// store of 200,000 visits (fillHeapBook): ns/op is the collection's time
// and gc-cpu-ms/op the CPU time the runtime counts the collector's
// (/cpu/classes/gc/total), and the other metrics the live heap and the
// bytes of it the collector scans that the store added.
func BenchmarkVisitBookGC(b *testing.B) {
	heapBookOnce.Do(func() {
		heapBefore, heapScanBefore = heapScanBytes()
		heapBook, heapBookSetupErr = fillHeapBook()
		heapAfter, heapScanAfter = heapScanBytes()
	})
	if heapBookSetupErr != nil {
		b.Fatal(heapBookSetupErr)
	}
	cpu := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(cpu)
	gcBefore := cpu[0].Value.Float64()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
	}
	b.StopTimer()
	metrics.Read(cpu)
	b.ReportMetric((cpu[0].Value.Float64()-gcBefore)*1e3/float64(b.N), "gc-cpu-ms/op")
	b.ReportMetric(float64(heapAfter-heapBefore)/(1<<20), "live-MB")
	b.ReportMetric(float64(heapScanAfter-heapScanBefore)/(1<<20), "scan-MB")
	runtime.KeepAlive(heapBook)
}
