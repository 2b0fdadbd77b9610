package storetest

import (
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// testSettleVisitRaces races SettleVisit with uploads, cancellations and
// plain settlements of the same persons, for two rounds of 24 visits: no
// deadlock, no error but ErrVisitNotOpen, and every visit settled by the
// call that won it at the details version that call read.
func testSettleVisitRaces(t *testing.T, newStore func(t *testing.T) store.Store) {
	const rounds = 2
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	persons := []string{psnEmployed, psnRetired, psnPoor}
	var other atomic.Int64
	for round := range rounds {
		const nv = 24
		visits := make([]store.Visit, nv)
		for i := range visits {
			v := outpatientVisit(fmt.Sprintf("ST%d-%d", round, i))
			v.PersonID = persons[i%len(persons)]
			visits[i] = e.open(v)
			e.put(visits[i].ID, detail(visits[i].ID, "B", "0", "1", "1"))
		}
		type won struct {
			st   engine.Settlement
			mark store.VisitMark
		}
		wins := make([]won, nv)
		var wg sync.WaitGroup
		start := make(chan struct{})
		stop := make(chan struct{})
		var settlersLeft sync.WaitGroup
		for i := range visits {
			wg.Add(1)
			settlersLeft.Add(1)
			go func() {
				defer wg.Done()
				defer settlersLeft.Done()
				<-start
				id := visits[i].ID
				for attempt := 0; ; attempt++ {
					v, _, err := vs.VisitDetails(ctx, id, "")
					if err != nil {
						t.Errorf("VisitDetails: %v", err)
						return
					}
					mark := markOf(v, "M")
					c := inpatient(fmt.Sprintf("SV-%s-%d", id, attempt), hospNoBudget, v.PersonID, settleVisitDay, "1")
					st, err := vs.SettleVisit(ctx, c, e.compute(c), mark)
					if err == nil {
						wins[i] = won{st, mark}
						return
					}
					if !errors.Is(err, store.ErrVisitNotOpen) {
						t.Errorf("SettleVisit %s: %v", id, err)
						return
					}
					if attempt > 500 {
						t.Errorf("SettleVisit %s: never settled: %v", id, err)
						return
					}
				}
			}()
		}
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r := rand.New(rand.NewSource(int64(g*1000 + round)))
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					id := visits[r.Intn(nv)].ID
					var err error
					switch r.Intn(3) {
					case 0, 1:
						err = vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "B", fmt.Sprintf("g%d-%d", g, k), "1", "1")})
					case 2:
						_, err = vs.CancelFeeDetails(ctx, id, "", fmt.Sprintf("g%d-%d", g, k-1))
					}
					if err != nil && !errors.Is(err, store.ErrVisitNotOpen) {
						t.Errorf("upload/cancel %s: %v", id, err)
						return
					}
				}
			}()
		}
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					c := inpatient(fmt.Sprintf("PLAIN-%d-%d-%d", round, g, k), hospNoBudget, persons[(g+k)%3], settleVisitDay, "1")
					if _, err := e.st.Settle(ctx, c, e.compute(c)); err != nil {
						other.Add(1)
						t.Errorf("plain Settle: %v", err)
						return
					}
				}
			}()
		}
		go func() { settlersLeft.Wait(); close(stop) }()
		close(start)
		wg.Wait()
		for i, v := range visits {
			got := e.visit(v.ID)
			w := wins[i]
			if got.State != store.VisitSettled || got.SettlementID != w.st.ID || got.DetailsVersion != w.mark.DetailsVersion {
				t.Errorf("round %d visit %s: %v by %s version %d; want settled by %s at version %d", round, v.ID, got.State, got.SettlementID, got.DetailsVersion, w.st.ID, w.mark.DetailsVersion)
			}
		}
	}
}
