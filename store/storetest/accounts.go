package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// testOpeningBalances: account_balance is taken when a person is first
// registered; PutPerson and PutPersons of an existing person never change
// the live balance, whichever way it moved (a settlement, an adjustment).
func testOpeningBalances(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	ctx := e.ctx
	s := e.mustSettle(inpatient("OB-1", hospBudget, psnEmployed, day2024, "2000.00"))
	live := e.start[psnEmployed].AccountBalance.Sub(s.Result.Breakdown.Account)
	if _, err := e.st.AdjustAccount(ctx, store.Adjustment{RequestID: "OB-ADJ", PersonID: psnEmployed, Credit: dec("10.00"), Reason: "r", By: "admin"}); err != nil {
		t.Fatalf("AdjustAccount: %v", err)
	}
	live = live.Add(dec("10.00"))

	again := e.start[psnEmployed]
	again.Name = "Zhang San (again)"
	if err := e.st.PutPerson(ctx, again); err != nil {
		t.Fatal(err)
	}
	newcomer := engine.Person{ID: "OB-NEW", Name: "new", Region: region, Scheme: engine.SchemeResident, AccountBalance: dec("42.00")}
	batch := []engine.Person{again, newcomer, e.start[psnRetired]}
	batch[0].AccountBalance = dec("0")
	if err := e.st.PutPersons(ctx, batch); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{psnEmployed: live.String(), "OB-NEW": "42.00", psnRetired: "800.00"} {
		got, err := e.st.GetPerson(ctx, id)
		if err != nil {
			t.Fatalf("GetPerson %s: %v", id, err)
		}
		if !got.AccountBalance.Equal(dec(want)) {
			t.Errorf("%s: balance %s, want %s", id, got.AccountBalance, want)
		}
		if id == psnEmployed && got.Name != again.Name {
			t.Errorf("%s: name %q, want %q (the other fields are replaced)", id, got.Name, again.Name)
		}
	}
	snap := e.snap(psnEmployed, hospBudget, 2024)
	if !snap.Person.AccountBalance.Equal(live) {
		t.Errorf("Snapshot balance %s, want %s", snap.Person.AccountBalance, live)
	}
}

// testAdjustAccount: a credit and a debit move the balance and are
// recorded; a retry gets the first answer and changes nothing; another
// body under the id is ErrConflict; a debit above the balance is
// ErrInsufficientBalance and changes nothing; an unknown person is
// ErrNotFound; adjustment ids do not meet settlement request ids.
func testAdjustAccount(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	ctx := e.ctx
	balance := func() string {
		t.Helper()
		p, err := e.st.GetPerson(ctx, psnPoor)
		if err != nil {
			t.Fatal(err)
		}
		return p.AccountBalance.String()
	}
	credit := store.Adjustment{RequestID: "ADJ-1", PersonID: psnPoor, Credit: dec("50.5"), Reason: "correction", By: "admin"}
	first, err := e.st.AdjustAccount(ctx, credit)
	if err != nil {
		t.Fatalf("credit: %v", err)
	}
	if got := first.Person.AccountBalance.String(); got != "200.50" {
		t.Errorf("credit answered balance %s, want 200.50", got)
	}
	if first.At.IsZero() || first.By != "admin" || first.RequestID != "ADJ-1" || !first.Credit.Equal(dec("50.50")) || !first.Debit.IsZero() {
		t.Errorf("recorded adjustment %+v", first)
	}
	if b := balance(); b != "200.50" {
		t.Fatalf("balance after credit %s, want 200.50", b)
	}

	// A retry, even after the balance moved, answers the first answer.
	debit := store.Adjustment{RequestID: "ADJ-2", PersonID: psnPoor, Debit: dec("0.50"), Reason: "fee", By: "admin"}
	if _, err := e.st.AdjustAccount(ctx, debit); err != nil {
		t.Fatalf("debit: %v", err)
	}
	retry, err := e.st.AdjustAccount(ctx, credit)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if d := diff(retry, first); len(d) > 0 || !retry.At.Equal(first.At) {
		t.Errorf("retry answered %+v, want the first answer %+v: %v", retry, first, d)
	}
	if b := balance(); b != "200.00" {
		t.Errorf("balance after retry %s, want 200.00", b)
	}

	// Another body under a used id.
	for _, other := range []store.Adjustment{
		{RequestID: "ADJ-1", PersonID: psnPoor, Credit: dec("50.51"), Reason: "correction"},
		{RequestID: "ADJ-1", PersonID: psnPoor, Credit: dec("50.50"), Reason: "other"},
		{RequestID: "ADJ-1", PersonID: psnPoor, Debit: dec("50.50"), Reason: "correction"},
		{RequestID: "ADJ-1", PersonID: psnRetired, Credit: dec("50.50"), Reason: "correction"},
	} {
		if _, err := e.st.AdjustAccount(ctx, other); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%+v: err %v, want ErrConflict", other, err)
		}
	}

	// A debit above the balance changes nothing, and leaves its id unused.
	before := e.world()
	over := store.Adjustment{RequestID: "ADJ-3", PersonID: psnPoor, Debit: dec("200.01"), Reason: "too much", By: "admin"}
	if _, err := e.st.AdjustAccount(ctx, over); !errors.Is(err, store.ErrInsufficientBalance) {
		t.Errorf("debit above the balance: err %v, want ErrInsufficientBalance", err)
	}
	e.unchanged("a debit above the balance", before)
	over.Debit = dec("200.00")
	if a, err := e.st.AdjustAccount(ctx, over); err != nil || !a.Person.AccountBalance.IsZero() {
		t.Errorf("debit of the whole balance: %+v, %v", a.Person, err)
	}

	// Unknown person.
	if _, err := e.st.AdjustAccount(ctx, store.Adjustment{RequestID: "ADJ-4", PersonID: "NOBODY", Credit: dec("1"), Reason: "r"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown person: err %v, want ErrNotFound", err)
	}

	// Namespaces: a settlement's request id is free for an adjustment, and
	// the other way round.
	e.mustSettle(inpatient("SHARED-ID", hospBudget, psnEmployed, day2024, "100.00"))
	if _, err := e.st.AdjustAccount(ctx, store.Adjustment{RequestID: "SHARED-ID", PersonID: psnEmployed, Credit: dec("1"), Reason: "r"}); err != nil {
		t.Errorf("adjustment under a settlement's request id: %v", err)
	}
	if _, err := e.settle(inpatient("ADJ-2", hospBudget, psnEmployed, day2024, "100.00")); err != nil {
		t.Errorf("settlement under an adjustment's request id: %v", err)
	}
}

// testAdjustAccountConcurrent: debits of one person run under the
// person's lock: of 20 debits of 10.00 from 150.00, exactly 15 succeed.
func testAdjustAccountConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newEnv(t, newStore)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, short := 0, 0
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.st.AdjustAccount(context.Background(), store.Adjustment{RequestID: fmt.Sprintf("C-%d", i), PersonID: psnPoor,
				Debit: dec("10.00"), Reason: "r", By: "admin"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, store.ErrInsufficientBalance):
				short++
			default:
				t.Errorf("debit %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if ok != 15 || short != 5 {
		t.Errorf("%d debits succeeded and %d were short, want 15 and 5", ok, short)
	}
	p, err := e.st.GetPerson(e.ctx, psnPoor)
	if err != nil || !p.AccountBalance.IsZero() {
		t.Errorf("balance %s (%v), want 0", p.AccountBalance, err)
	}
}
