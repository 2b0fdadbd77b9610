package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// counter is an engine.Clearer that counts cases; onAdd runs for each.
type counter struct {
	mu    sync.Mutex
	n     int64
	onAdd func(n int64)
}

func (c *counter) Begin(engine.RunInputs) error { return nil }

func (c *counter) Add(engine.ClearingCase) (*engine.CaseLine, error) {
	c.mu.Lock()
	c.n++
	n := c.n
	c.mu.Unlock()
	if c.onAdd != nil {
		c.onAdd(n)
	}
	return nil, nil
}

func (c *counter) Finish() (engine.ClearingRun, error) {
	return engine.ClearingRun{Settlements: c.n}, nil
}

func loadFixture(t *testing.T) (*memstore.Store, context.Context) {
	t.Helper()
	ctx := context.Background()
	s := memstore.New()
	if err := s.PutPerson(ctx, engine.Person{ID: "P1", Region: "R1", Scheme: engine.SchemeEmployee, AccountBalance: engine.MustMoney("100.00")}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutInstitution(ctx, engine.Institution{ID: "H1", Region: "R1", Level: 3,
		Budgets: []engine.Budget{{Year: 2024, Amount: engine.MustMoney("1000.00")}}}); err != nil {
		t.Fatal(err)
	}
	return s, ctx
}

func loaded(i int) engine.Settlement {
	day := engine.Date{Year: 2024, Month: time.Month(1 + i%12), Day: 1 + i%28}
	return engine.Settlement{
		Claim: engine.Claim{RequestID: fmt.Sprintf("L%06d", i), InstitutionID: "H1", PersonID: "P1",
			VisitType: engine.VisitInpatient, SettleDate: day, DRGCode: "G1"},
		Result: engine.Result{PolicyRegion: "R1", PolicyScheme: engine.SchemeEmployee, Breakdown: engine.Breakdown{
			Total: engine.MustMoney("100.00"), BasicFund: engine.MustMoney("60.00"),
			FundTotal: engine.MustMoney("60.00"), PersonalTotal: engine.MustMoney("40.00"),
			Account: engine.MustMoney("10.00"), Cash: engine.MustMoney("30.00")}},
	}
}

// TestLoadSettlements loads a history, runs a clearing over it with
// periodic progress, and cancels one in the middle.
func TestLoadSettlements(t *testing.T) {
	s, ctx := loadFixture(t)
	const n = 25000
	sts := make([]engine.Settlement, n)
	for i := range sts {
		sts[i] = loaded(i)
	}
	if err := s.LoadSettlements(ctx, sts); err != nil {
		t.Fatalf("LoadSettlements: %v", err)
	}
	// Nothing else changed.
	py, err := s.Snapshot(ctx, "P1", "H1", 2024)
	if err != nil || !py.BudgetUsed.IsZero() || !py.Person.AccountBalance.Equal(engine.MustMoney("100")) ||
		!py.Accumulators.Equal(engine.NewAccumulators("P1", 2024)) {
		t.Errorf("LoadSettlements changed the state: %+v, %v", py, err)
	}
	// The request key is registered: a retry answers the loaded settlement,
	// which got an id.
	again, err := s.Settle(ctx, sts[6].Claim, func(store.PersonYear) (engine.Result, error) {
		return engine.Result{}, errors.New("compute called for a loaded request")
	})
	if err != nil || !strings.HasPrefix(again.ID, store.SettlementIDPrefix) || len(again.ID) != 34 {
		t.Errorf("Settle of a loaded request: %+v, %v", again.ID, err)
	}
	st, err := s.GetSettlement(ctx, again.ID)
	if err != nil || st.Claim.RequestID != "L000006" || st.State != engine.StateSettled || st.Fingerprint != st.Claim.Fingerprint() {
		t.Errorf("a loaded settlement: %+v, %v", st, err)
	}

	sel := store.Selection{Kind: engine.ClearingDRG, Region: "R1", Scheme: engine.SchemeEmployee, Year: 2024,
		From: engine.Date{Year: 2024, Month: time.January, Day: 1}, To: engine.Date{Year: 2024, Month: time.December, Day: 31}}
	var calls [][2]int64
	run, err := s.RunClearing(ctx, sel, &counter{}, func(p, total int64) { calls = append(calls, [2]int64{p, total}) })
	if err != nil || run.Settlements != n {
		t.Fatalf("RunClearing: %d settlements, %v", run.Settlements, err)
	}
	want := [][2]int64{{0, n}, {10000, n}, {20000, n}, {n, n}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("progress %v, want %v", calls, want)
	}

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	c := &counter{onAdd: func(k int64) {
		if k == 5000 {
			cancel()
		}
	}}
	if _, err := s.RunClearing(cctx, sel, c, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled run: %v, want context.Canceled", err)
	}
	if c.n >= n {
		t.Errorf("a run cancelled at case 5000 went on to case %d", c.n)
	}
	if _, err := s.GetClearingRun(ctx, run.RunID); err != nil {
		t.Errorf("the earlier draft after a cancelled run: %v", err)
	}
}

// TestLoadSettlementsRefuses checks that a refused load stores nothing and
// that given ids are kept free of assigned ones.
func TestLoadSettlementsRefuses(t *testing.T) {
	s, ctx := loadFixture(t)
	given := loaded(1)
	given.ID = "ST000000000002"
	if err := s.LoadSettlements(ctx, []engine.Settlement{given}); err != nil {
		t.Fatalf("LoadSettlements with an id: %v", err)
	}
	settle := func(i int) string {
		t.Helper()
		r := loaded(i).Result
		st, err := s.Settle(ctx, loaded(i).Claim, func(store.PersonYear) (engine.Result, error) { return r, nil })
		if err != nil {
			t.Fatalf("Settle: %v", err)
		}
		return st.ID
	}
	a, b := settle(100), settle(101)
	if a == b || a == given.ID || b == given.ID || !strings.HasPrefix(a, store.SettlementIDPrefix) || len(a) != 34 {
		t.Errorf("settled ids %s and %s beside the loaded %s", a, b, given.ID)
	}
	// A loaded id that is not one store.NewSettlementID makes.
	if st, err := s.GetSettlement(ctx, given.ID); err != nil || st.Claim.RequestID != given.Claim.RequestID {
		t.Errorf("the settlement loaded as %s: %+v, %v", given.ID, st, err)
	}

	fresh := loaded(200)
	for _, tc := range []struct {
		what  string
		batch []engine.Settlement
		want  error
	}{
		{"a request key used", []engine.Settlement{fresh, loaded(1)}, store.ErrConflict},
		{"a request key twice", []engine.Settlement{fresh, fresh}, store.ErrConflict},
		{"an id taken", []engine.Settlement{fresh, func() engine.Settlement { x := loaded(201); x.ID = b; return x }()}, store.ErrConflict},
		{"an unknown person", []engine.Settlement{fresh, func() engine.Settlement { x := loaded(202); x.Claim.PersonID = "nobody"; return x }()}, store.ErrNotFound},
		{"a reversed settlement", []engine.Settlement{fresh, func() engine.Settlement { x := loaded(203); x.State = engine.StateReversed; return x }()}, engine.ErrInvalid},
	} {
		if err := s.LoadSettlements(ctx, tc.batch); !errors.Is(err, tc.want) {
			t.Errorf("LoadSettlements with %s: %v, want %v", tc.what, err, tc.want)
		}
		// The valid one's request key is free: a Settle of it computes.
		errFree := errors.New("computed: the request key is free")
		if _, err := s.Settle(ctx, fresh.Claim, func(store.PersonYear) (engine.Result, error) { return engine.Result{}, errFree }); !errors.Is(err, errFree) {
			t.Errorf("LoadSettlements with %s stored the valid one: %v", tc.what, err)
		}
	}
}
