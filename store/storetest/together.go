package storetest

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// Settlements that arrive together (which a store may commit together, as
// pgstore's group commit does) must end exactly as if they had been
// settled one after another in the order the store applied them, and a
// claim that fails must fail alone.

// testConcurrentEqualsSequential settles many claims of three persons from
// many goroutines at once, notes the order in which the store applied each
// person's claims (compute runs under the person's lock: the last call for
// a request is the one that counted), replays them one by one in that
// order on a fresh store, and compares every result and the final state.
func testConcurrentEqualsSequential(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	rng := rand.New(rand.NewSource(seed(t)))
	const n = 256
	claims := make([]engine.Claim, n)
	for j := range claims {
		claims[j] = randomClaim(rng, j)
	}
	var seq atomic.Int64
	var mu sync.Mutex
	last := map[string]int64{} // request key → sequence of its last compute
	results := make([]outcome, n)
	var next atomic.Int64
	runWorkers(func(int) {
		for {
			j := int(next.Add(1)) - 1
			if j >= n {
				return
			}
			c := claims[j]
			compute := e.compute(c)
			results[j].st, results[j].err = e.st.Settle(e.ctx, c, func(py store.PersonYear) (engine.Result, error) {
				s := seq.Add(1)
				mu.Lock()
				last[c.InstitutionID+"/"+c.RequestID] = s
				mu.Unlock()
				return compute(py)
			})
		}
	})
	order := make([]int, 0, n)
	for j, r := range results {
		if r.err != nil {
			// randomClaim's claims are all valid; any error is the store's.
			t.Fatalf("Settle %s: %v", claims[j].RequestID, r.err)
		}
		order = append(order, j)
	}
	sort.Slice(order, func(a, b int) bool {
		ca, cb := claims[order[a]], claims[order[b]]
		return last[ca.InstitutionID+"/"+ca.RequestID] < last[cb.InstitutionID+"/"+cb.RequestID]
	})
	seqEnv := newEnv(t, newStore)
	for _, j := range order {
		want := seqEnv.mustSettle(claims[j])
		got := results[j].st
		// The budget status counts what committed before: concurrent
		// settlements may leave each other out (store.Store).
		got.Result.Budget, want.Result.Budget = nil, nil
		if d := diff(got.Result, want.Result); len(d) > 0 {
			t.Errorf("claim %s settled concurrently differs from its sequential replay: %v", claims[j].RequestID, d)
		}
	}
	after, replayed := e.world(), seqEnv.world()
	for k, w := range replayed {
		if d := diff(after[k], w); len(d) > 0 {
			t.Errorf("state of %s after concurrent settlements differs from the sequential replay: %v", k, d)
		}
	}
}

// testFailuresStayAlone sends, at the same moment, good claims of two
// persons together with claims that must fail (compute's error, an unknown
// person, a request id already used for another claim) and retries of a
// good claim, round after round. Every call gets its own answer: the good
// ones settle, each bad one gets its own error and changes nothing, and
// retries answer the one settlement.
func testFailuresStayAlone(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	errRefused := errors.New("refused by compute")
	type call struct {
		claim   engine.Claim
		compute store.ComputeFunc
		want    error // nil: settles
		retryOf int   // index+1 of the call this one retries, or 0
	}
	for round := 0; round < 8; round++ {
		id := func(s string) string { return fmt.Sprintf("r%d-%s", round, s) }
		good1 := inpatient(id("good-1"), hospNoBudget, psnEmployed, day2024, "2000")
		good2 := inpatient(id("good-2"), hospNoBudget, psnRetired, day2024, "3000")
		good3 := inpatient(id("good-3"), hospNoBudget, psnEmployed, day2024, "1500")
		bad := inpatient(id("bad"), hospNoBudget, psnEmployed, day2024, "2500")
		unknown := inpatient(id("unknown"), hospNoBudget, "P-none", day2024, "2500")
		// The same request id as good-2 (in this round, at the same
		// institution) for another claim: one of the two settles, the
		// other is a conflict.
		twin := inpatient(id("good-2"), hospNoBudget, psnPoor, day2024, "999")
		calls := []call{
			{claim: good1, compute: e.compute(good1)},
			{claim: bad, compute: func(store.PersonYear) (engine.Result, error) { return engine.Result{}, errRefused }, want: errRefused},
			{claim: good2, compute: e.compute(good2)},
			{claim: unknown, compute: e.compute(unknown), want: store.ErrNotFound},
			{claim: good1, compute: e.compute(good1), retryOf: 1},
			{claim: twin, compute: e.compute(twin), want: store.ErrConflict},
			{claim: good3, compute: e.compute(good3)},
			{claim: good2, compute: e.compute(good2), retryOf: 3},
		}
		out := make([]outcome, len(calls))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				out[i].st, out[i].err = e.st.Settle(e.ctx, c.claim, c.compute)
			}()
		}
		close(start)
		wg.Wait()
		// good-2 and its twin race for the key: whichever the store took
		// first settles, the other (and a retry of the loser) conflicts.
		if out[2].err != nil && out[5].err == nil {
			calls[2].want, calls[5].want, calls[7].want = store.ErrConflict, nil, store.ErrConflict
		}
		for i, c := range calls {
			got := out[i]
			switch {
			case c.want != nil:
				if !errors.Is(got.err, c.want) {
					t.Errorf("round %d: %s for %s: %v, want %v", round, c.claim.RequestID, c.claim.PersonID, got.err, c.want)
				}
			case got.err != nil:
				t.Errorf("round %d: %s for %s failed beside failing neighbours: %v", round, c.claim.RequestID, c.claim.PersonID, got.err)
			case c.retryOf > 0 && out[c.retryOf-1].err == nil:
				sameFigures(t, fmt.Sprintf("round %d: retry of %s", round, c.claim.RequestID), got.st, out[c.retryOf-1].st)
			}
		}
		for i, c := range calls {
			if c.want != nil || out[i].err != nil || c.retryOf > 0 {
				continue
			}
			if rec := e.get(out[i].st.ID); rec.Claim.PersonID != c.claim.PersonID {
				t.Errorf("round %d: %s recorded for %s, want %s", round, c.claim.RequestID, rec.Claim.PersonID, c.claim.PersonID)
			}
		}
		// The refused claim left no key behind: it settles now.
		if _, err := e.settle(bad); err != nil {
			t.Errorf("round %d: the refused request, sent again with a working compute: %v", round, err)
		}
	}
}
