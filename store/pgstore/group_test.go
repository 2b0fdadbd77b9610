package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// groupFixture is a store with persons GA (balance 2.00), GB (balance
// 0.00) and GC, and institution GH with a budget in 2026.
func groupFixture(t *testing.T, opts pgstore.Options) *pgstore.Store {
	t.Helper()
	url := pgtest.URL(t)
	ctx := context.Background()
	opts.Schema = pgtest.Schema(t, url)
	if opts.MaxConns == 0 {
		opts.MaxConns = 40
	}
	st, err := pgstore.Open(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	for id, balance := range map[string]string{"GA": "2.00", "GB": "0.00", "GC": "5.00"} {
		p := engine.Person{ID: id, Name: id, Region: "R", Scheme: engine.SchemeEmployee, AccountBalance: engine.MustMoney(balance)}
		if err := st.PutPerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	in := engine.Institution{ID: "GH", Name: "GH", Region: "R", Level: 1, Budgets: []engine.Budget{{Year: 2026, Amount: engine.MustMoney("1000.00")}}}
	if err := st.PutInstitution(ctx, in); err != nil {
		t.Fatal(err)
	}
	return st
}

// groupClaim is a claim of person at GH in 2026 for amount.
func groupClaim(req, person, amount string) engine.Claim {
	a := engine.MustMoney(amount)
	return engine.Claim{RequestID: req, InstitutionID: "GH", PersonID: person, VisitType: engine.VisitInpatient,
		SettleDate: engine.Date{Year: 2026, Month: time.March, Day: 1},
		Items:      []engine.LineItem{{Code: "A", Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice(amount), Amount: a}}}
}

// chained computes a result that depends on everything a predecessor
// changes: the fund pays the claim's amount plus the person's inpatient
// count so far less 1.00, and the remaining 1.00 comes from the account
// while the balance allows. The budget status reports the usage passed.
func chained(c engine.Claim) store.ComputeFunc {
	return func(py store.PersonYear) (engine.Result, error) {
		one := engine.Yuan(1)
		total := c.Items[0].Amount.Add(engine.Yuan(int64(py.Accumulators.InpatientCount)))
		b := engine.Breakdown{Total: total, InScope: total, BasicFund: total.Sub(one), FundTotal: total.Sub(one), PersonalTotal: one, Cash: one}
		if !py.Person.AccountBalance.LessThan(one) {
			b.Account, b.Cash = one, engine.Money{}
		}
		delta := engine.NewAccumulators(py.Person.ID, 2026)
		delta.InpatientCount = 1
		limit := engine.MustMoney("1000.00")
		return engine.Result{Breakdown: b, Delta: delta, BudgetLimit: &limit, WarnRatio: engine.MustRatio("0.9")}, nil
	}
}

// refuse is a compute that fails.
var errRefuse = errors.New("refused")

func refuse(store.PersonYear) (engine.Result, error) { return engine.Result{}, errRefuse }

// TestGroupSettlesLikeOneByOne settles one group holding two claims of
// one person, a claim compute refuses, a claim of an unknown person, a
// retry and a conflicting reuse of a request id of the group, a claim
// whose request id was recorded before and one of another person. Each
// call gets its own answer; the good ones, and the final state, are
// exactly what settling the same good claims one by one gives.
func TestGroupSettlesLikeOneByOne(t *testing.T) {
	ctx := context.Background()
	grouped, single := groupFixture(t, pgstore.Options{}), groupFixture(t, pgstore.Options{MaxBatch: 1})
	before := groupClaim("g-0", "GA", "7.00")
	for _, st := range []*pgstore.Store{grouped, single} {
		if _, err := st.Settle(ctx, before, chained(before)); err != nil {
			t.Fatal(err)
		}
	}
	a1, a2 := groupClaim("g-1", "GA", "10.00"), groupClaim("g-2", "GA", "20.00")
	b1, c1 := groupClaim("g-3", "GB", "30.00"), groupClaim("g-4", "GC", "40.00")
	claims := []engine.Claim{
		a1,                             // 0 settles
		groupClaim("g-5", "GA", "1"),   // 1 refused by compute
		groupClaim("g-6", "GX", "1"),   // 2 unknown person
		a2,                             // 3 settles after a1
		a1,                             // 4 retry of 0
		groupClaim("g-1", "GB", "99"),  // 5 conflict with 0
		b1,                             // 6 settles
		before,                         // 7 retry of a settlement recorded before
		groupClaim("g-0", "GC", "1.5"), // 8 conflict with it
		c1,                             // 9 settles
	}
	computes := make([]store.ComputeFunc, len(claims))
	for i, c := range claims {
		computes[i] = chained(c)
	}
	computes[1] = refuse
	groups0, n0, _ := pgstore.GroupStats(grouped)
	sts, errs := pgstore.SettleAsGroup(ctx, grouped, claims, computes)
	if groups, n, failed := pgstore.GroupStats(grouped); groups-groups0 != 1 || n-n0 != int64(len(claims)) || failed != 0 {
		t.Fatalf("group stats: %d groups of %d claims, %d failed; want 1 of %d, 0 failed", groups-groups0, n-n0, failed, len(claims))
	}
	wantErr := map[int]error{1: errRefuse, 2: store.ErrNotFound, 5: store.ErrConflict, 8: store.ErrConflict}
	for i := range claims {
		if w := wantErr[i]; w != nil {
			if !errors.Is(errs[i], w) {
				t.Errorf("claim %d (%s): %v, want %v", i, claims[i].RequestID, errs[i], w)
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("claim %d (%s): %v", i, claims[i].RequestID, errs[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if sts[4].ID != sts[0].ID || sts[7].Claim.RequestID != "g-0" {
		t.Errorf("retries answered %s and %s, want %s and the recorded g-0", sts[4].ID, sts[7].ID, sts[0].ID)
	}
	for _, i := range []int{0, 3, 6, 9} {
		want, err := single.Settle(ctx, claims[i], chained(claims[i]))
		if err != nil {
			t.Fatal(err)
		}
		got := sts[i]
		if !got.Result.Breakdown.Total.Equal(want.Result.Breakdown.Total) || !got.Result.Breakdown.Account.Equal(want.Result.Breakdown.Account) ||
			!got.Result.Budget.Used.Equal(want.Result.Budget.Used) {
			t.Errorf("claim %d (%s): grouped total %s account %s budget used %s; one by one %s, %s, %s", i, claims[i].RequestID,
				got.Result.Breakdown.Total, got.Result.Breakdown.Account, got.Result.Budget.Used,
				want.Result.Breakdown.Total, want.Result.Breakdown.Account, want.Result.Budget.Used)
		}
		rec, err := grouped.GetSettlement(ctx, got.ID)
		if err != nil || !rec.Result.Breakdown.Total.Equal(got.Result.Breakdown.Total) {
			t.Errorf("claim %d recorded as %+v (%v)", i, rec.Result.Breakdown, err)
		}
	}
	for _, id := range []string{"GA", "GB", "GC"} {
		g, err1 := grouped.Snapshot(ctx, id, "GH", 2026)
		s, err2 := single.Snapshot(ctx, id, "GH", 2026)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatal(err)
		}
		if g.Accumulators.InpatientCount != s.Accumulators.InpatientCount || !g.Person.AccountBalance.Equal(s.Person.AccountBalance) ||
			!g.BudgetUsed.Equal(s.BudgetUsed) {
			t.Errorf("%s grouped: count %d balance %s budget %s; one by one: %d, %s, %s", id,
				g.Accumulators.InpatientCount, g.Person.AccountBalance, g.BudgetUsed,
				s.Accumulators.InpatientCount, s.Person.AccountBalance, s.BudgetUsed)
		}
	}
	// The refused claim left its request id free.
	if _, err := grouped.Settle(ctx, claims[1], chained(claims[1])); err != nil {
		t.Errorf("the refused claim, sent again: %v", err)
	}
}

// TestGroupFailureSettlesOneByOne fails a group's transaction as a whole
// (after its writes): nothing of it stays, and each claim is settled again
// by itself, so that the good ones commit and the bad one fails alone.
func TestGroupFailureSettlesOneByOne(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	failures := 0
	pgstore.FailGroups(st, func() error { failures++; return errors.New("injected: serialization failure") })
	claims := []engine.Claim{groupClaim("f-1", "GA", "10"), groupClaim("f-2", "GB", "5"), groupClaim("f-3", "GA", "3"), groupClaim("f-4", "GX", "1")}
	computes := []store.ComputeFunc{chained(claims[0]), refuse, chained(claims[2]), chained(claims[3])}
	sts, errs := pgstore.SettleAsGroup(ctx, st, claims, computes)
	if _, _, failed := pgstore.GroupStats(st); failed != 1 || failures != 1 {
		t.Fatalf("%d groups failed (%d injected), want 1", failed, failures)
	}
	if errs[0] != nil || errs[2] != nil || !errors.Is(errs[1], errRefuse) || !errors.Is(errs[3], store.ErrNotFound) {
		t.Fatalf("answers after the fallback: %v", errs)
	}
	// GA's two claims settled one after the other, in either order: the
	// later one counts the earlier stay.
	if got := sts[0].Result.Breakdown.Total.Add(sts[2].Result.Breakdown.Total).String(); got != "14.00" {
		t.Errorf("GA's claims of 10 and 3: totals %s and %s, want 14 together (one counts the other's stay)",
			sts[0].Result.Breakdown.Total, sts[2].Result.Breakdown.Total)
	}
	a, err := st.Snapshot(ctx, "GA", "GH", 2026)
	if err != nil {
		t.Fatal(err)
	}
	if a.Accumulators.InpatientCount != 2 || a.Person.AccountBalance.String() != "0.00" || a.BudgetUsed.String() != "12.00" {
		t.Errorf("GA after the fallback: count %d balance %s budget %s; want 2, 0, 12", a.Accumulators.InpatientCount, a.Person.AccountBalance, a.BudgetUsed)
	}
}

// TestGroupSameRequestTogether sends one request id many times at once,
// all with the same claim, and another request id many times with two
// different claims: each request settles once, every caller of the
// winning claim gets that settlement, and the others ErrConflict.
func TestGroupSameRequestTogether(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	same := groupClaim("s-1", "GA", "10")
	other1, other2 := groupClaim("s-2", "GB", "10"), groupClaim("s-2", "GC", "11")
	const n = 48
	sts, errs := make([]engine.Settlement, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		c := same
		switch i % 3 {
		case 1:
			c = other1
		case 2:
			c = other2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			sts[i], errs[i] = st.Settle(ctx, c, chained(c))
		}()
	}
	close(start)
	wg.Wait()
	ids := map[string]map[string]bool{}
	winner := ""
	for i := 0; i < n; i++ {
		switch {
		case i%3 == 0 && errs[i] != nil:
			t.Errorf("call %d of s-1: %v", i, errs[i])
		case i%3 != 0 && errs[i] != nil:
			if !errors.Is(errs[i], store.ErrConflict) {
				t.Errorf("call %d of s-2: %v, want a settlement or ErrConflict", i, errs[i])
			}
		default:
			if ids[sts[i].Claim.RequestID] == nil {
				ids[sts[i].Claim.RequestID] = map[string]bool{}
			}
			ids[sts[i].Claim.RequestID][sts[i].ID] = true
			if i%3 != 0 {
				if winner != "" && winner != sts[i].Claim.PersonID {
					t.Errorf("s-2 settled for %s and for %s", winner, sts[i].Claim.PersonID)
				}
				winner = sts[i].Claim.PersonID
			}
		}
	}
	for req, set := range ids {
		if len(set) != 1 {
			t.Errorf("request %s answered with %d settlements, want 1", req, len(set))
		}
	}
	if winner == "" {
		t.Fatal("neither claim of s-2 settled")
	}
	for _, p := range []string{"GA", "GB", "GC"} {
		s, err := st.Snapshot(ctx, p, "GH", 2026)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if p == "GA" || p == winner {
			want = 1
		}
		if s.Accumulators.InpatientCount != want {
			t.Errorf("%s settled %d times, want %d", p, s.Accumulators.InpatientCount, want)
		}
	}
	t.Log(fmt.Sprint(pgstore.GroupStats(st)))
}

// TestGroupPoisonClaim puts in a group a claim PostgreSQL itself refuses
// (a NUL byte in its request id): the group's transaction fails, and the
// fallback settles the others while the poison fails alone.
func TestGroupPoisonClaim(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	claims := []engine.Claim{groupClaim("p-1", "GA", "10"), groupClaim("p\x002", "GB", "5"), groupClaim("p-3", "GC", "3")}
	computes := []store.ComputeFunc{chained(claims[0]), chained(claims[1]), chained(claims[2])}
	_, errs := pgstore.SettleAsGroup(ctx, st, claims, computes)
	if _, _, failed := pgstore.GroupStats(st); failed != 1 {
		t.Errorf("%d groups failed, want 1", failed)
	}
	if errs[0] != nil || errs[2] != nil || errs[1] == nil {
		t.Fatalf("answers: %v; want only the poison to fail", errs)
	}
	for _, p := range []string{"GA", "GB", "GC"} {
		s, err := st.Snapshot(ctx, p, "GH", 2026)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"GA": 1, "GC": 1}[p]; s.Accumulators.InpatientCount != want {
			t.Errorf("%s settled %d times, want %d", p, s.Accumulators.InpatientCount, want)
		}
	}
}

// TestGroupComputePanics: a compute that panics fails its own claim, in a
// group or alone, with an invariant error, and leaves its neighbours and
// the store be.
func TestGroupComputePanics(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	boom := func(store.PersonYear) (engine.Result, error) { panic("boom") }
	claims := []engine.Claim{groupClaim("x-1", "GA", "10"), groupClaim("x-2", "GB", "5")}
	_, errs := pgstore.SettleAsGroup(ctx, st, claims, []store.ComputeFunc{chained(claims[0]), boom})
	if errs[0] != nil || !errors.Is(errs[1], engine.ErrInvariant) {
		t.Fatalf("a group with a panicking compute: %v; want the second alone to fail with ErrInvariant", errs)
	}
	if _, err := st.Settle(ctx, groupClaim("x-3", "GC", "1"), boom); !errors.Is(err, engine.ErrInvariant) {
		t.Errorf("a lone Settle whose compute panics: %v, want ErrInvariant", err)
	}
	if _, err := st.Settle(ctx, claims[1], chained(claims[1])); err != nil {
		t.Errorf("the store after the panics: %v", err)
	}
}

// TestGroupDoesNotWaitForALongLock holds one person's row in another
// transaction (as a long import would) while a group settles a claim of
// that person and one of another: the other person's settlement commits
// while the lock is still held, and the held person's once it is released.
func TestGroupDoesNotWaitForALongLock(t *testing.T) {
	ctx := context.Background()
	st := groupFixture(t, pgstore.Options{})
	tx, err := st.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, fmt.Sprintf(`SELECT 1 FROM %s.persons WHERE person_id = 'GA' FOR UPDATE`, st.Schema())); err != nil {
		t.Fatal(err)
	}
	claims := []engine.Claim{groupClaim("l-1", "GA", "10"), groupClaim("l-2", "GB", "5")}
	done := make(chan []error, 1)
	go func() {
		_, errs := pgstore.SettleAsGroup(ctx, st, claims, []store.ComputeFunc{chained(claims[0]), chained(claims[1])})
		done <- errs
	}()
	deadline := time.Now().Add(3 * time.Second)
	for {
		s, err := st.Snapshot(ctx, "GB", "GH", 2026)
		if err != nil {
			t.Fatal(err)
		}
		if s.Accumulators.InpatientCount == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("GB's claim waited for the lock another transaction holds on GA")
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case errs := <-done:
		t.Fatalf("the group answered GA's claim while GA was locked: %v", errs)
	default:
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if errs := <-done; errs[0] != nil || errs[1] != nil {
		t.Fatalf("answers: %v", errs)
	}
}
