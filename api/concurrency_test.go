package api

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestThousandConcurrentSettlements sends 1,200 settlements (and a retry
// of every fifth) from 48 goroutines over 6 persons and 2 hospitals, on
// every store: afterwards every accumulator equals the sum of its
// settlements' contributions, no deductible is charged twice and each
// hospital's budget usage is exact.
func TestThousandConcurrentSettlements(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			if s := os.Getenv("MEDSETTLE_SEED"); s != "" {
				seed, _ = strconv.ParseUint(s, 10, 64)
			}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("seed %d: rerun with MEDSETTLE_SEED=%d", seed, seed)
				}
			})
			thousandSettlements(t, kind, seed)
		})
	}
}

func thousandSettlements(t *testing.T, kind storeKind, seed uint64) {
	ts := startServerOn(t, newStore(t, kind), map[string]string{
		adminToken: "admin", institutionToken("QZ-H3"): "institution:QZ-H3", institutionToken("QZ-H2"): "institution:QZ-H2",
	})
	raw, err := os.ReadFile("../examples/policies/350500-employee-2026.1.json")
	must(t, err)
	var pol pb.Policy
	unmarshalInto(t, raw, &pol)
	r := grpcReplayer{ts}
	must(t, r.putPolicy(&pol))
	hospitals := []string{"QZ-H3", "QZ-H2"}
	for i, h := range hospitals {
		must(t, r.putInstitution(&pb.Institution{InstitutionId: h, Name: h, Region: "350500", Level: int32(3 - i),
			Budgets: []*pb.Budget{{Year: 2026, Amount: "1000000"}}}))
	}
	persons := []string{"P1", "P2", "P3", "P4", "P5", "P6"}
	for _, p := range persons {
		must(t, r.putPerson(&pb.Person{PersonId: p, Name: p, Region: "350500", Scheme: pb.Scheme_SCHEME_EMPLOYEE,
			Employment: pb.Employment_EMPLOYMENT_EMPLOYED, ContributionYears: 30, AccountBalance: "100000.00"}))
	}
	const workers, perWorker = 48, 25
	rng := rand.New(rand.NewPCG(seed, 1))
	reqs := make([]*pb.SettleRequest, workers*perWorker)
	for i := range reqs {
		amount := decimal.NewFromInt(int64(800 + rng.IntN(3000))).Add(decimal.New(int64(rng.IntN(100)), -2))
		reqs[i] = claim(fmt.Sprintf("t-%04d", i), hospitals[rng.IntN(2)], persons[rng.IntN(len(persons))], amount.String())
		reqs[i].Items[0].Amount = amount.StringFixed(2)
	}
	var mu sync.Mutex
	got := map[string]*pb.Settlement{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range perWorker {
				i := w*perWorker + k
				sends := []*pb.SettleRequest{reqs[i]}
				if i%5 == 0 {
					sends = append(sends, reqs[(i+7*perWorker)%len(reqs)]) // a retry racing its original
				}
				for _, req := range sends {
					ctx, cancel := as(institutionToken(req.GetInstitutionId()))
					resp, err := ts.settlement.Settle(ctx, req)
					cancel()
					if err != nil {
						t.Errorf("%s: %v", req.GetRequestId(), err)
						return
					}
					s := resp.GetSettlement()
					mu.Lock()
					if prev, ok := got[req.GetRequestId()]; ok && prev.GetSettlementId() != s.GetSettlementId() {
						t.Errorf("%s settled twice: %s and %s", req.GetRequestId(), prev.GetSettlementId(), s.GetSettlementId())
					}
					got[req.GetRequestId()] = s
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(got) != len(reqs) {
		t.Fatalf("%d settlements for %d requests", len(got), len(reqs))
	}
	ctx, cancel := as(adminToken)
	defer cancel()
	usage := map[string]decimal.Decimal{}
	for _, p := range persons {
		var basic, inScope, account decimal.Decimal
		var deductibles []string
		for _, s := range got {
			if s.GetPersonId() != p {
				continue
			}
			b := s.GetBreakdown()
			basic = basic.Add(decimal.RequireFromString(b.GetBasicFund()))
			inScope = inScope.Add(decimal.RequireFromString(b.GetInScope()))
			account = account.Add(decimal.RequireFromString(b.GetAccount()))
			usage[s.GetInstitutionId()] = usage[s.GetInstitutionId()].Add(decimal.RequireFromString(b.GetBasicFund()))
			if b.GetDeductible() != "0.00" {
				deductibles = append(deductibles, b.GetDeductible())
			}
		}
		// Each person's first two admissions pay the 700 (level 3) or 500
		// (level 2) entry and the 500 or 300 one; every later one pays 0.
		if len(deductibles) != 2 {
			t.Errorf("%s paid deductibles %v; want exactly two non-zero", p, deductibles)
		}
		resp, err := ts.settlement.GetAccumulators(ctx, &pb.GetAccumulatorsRequest{PersonId: p, Year: 2026})
		must(t, err)
		a := resp.GetAccumulators()
		count := 0
		for _, s := range got {
			if s.GetPersonId() == p {
				count++
			}
		}
		if int(a.GetInpatientCount()) != count || a.GetPoolUsed()["basic"] != basic.StringFixed(2) ||
			a.GetVisitTypes()[0].GetInScope() != inScope.StringFixed(2) ||
			a.GetAccountBalance() != decimal.NewFromInt(100000).Sub(account).StringFixed(2) {
			t.Errorf("%s: accumulators %v; settlements: %d, basic %s, in scope %s, account %s", p, a, count, basic, inScope, account)
		}
	}
	// The exact usage: a pre-settlement of an out-of-scope item adds nothing.
	for _, h := range hospitals {
		hctx, hcancel := as(institutionToken(h))
		req := claim("usage-probe", h, persons[0], "1")
		req.Items[0].Code = "C-VIP"
		resp, err := ts.settlement.PreSettle(hctx, req)
		hcancel()
		must(t, err)
		if used := resp.GetSettlement().GetBudget().GetUsed(); used != usage[h].StringFixed(2) {
			t.Errorf("%s budget usage %s, settlements paid %s", h, used, usage[h].StringFixed(2))
		}
	}
	ids := make([]string, 0, len(got))
	for _, s := range got {
		ids = append(ids, s.GetSettlementId())
	}
	sort.Strings(ids)
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Errorf("settlement id %s given to two requests", ids[i])
		}
	}
}
