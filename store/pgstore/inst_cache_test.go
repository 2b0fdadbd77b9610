package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// TestInstitutionCacheFollowsOtherServers: an institution one server has
// read (and cached) is seen changed, budgets included, once another server
// on the same schema puts it; the server that puts it sees its own change
// at once.
func TestInstitutionCacheFollowsOtherServers(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	ctx := context.Background()
	a, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	in := engine.Institution{ID: "H1", Name: "one", Region: "R1", Level: 2,
		Budgets: []engine.Budget{{Year: 2026, Amount: engine.MustMoney("100.00")}}}
	if err := a.PutInstitution(ctx, in); err != nil {
		t.Fatal(err)
	}
	for _, st := range []*pgstore.Store{a, b} {
		got, err := st.GetInstitution(ctx, "H1")
		if err != nil || got.Name != "one" || len(got.Budgets) != 1 || got.Budgets[0].Amount.String() != "100.00" {
			t.Fatalf("first read: %+v, %v", got, err)
		}
		got.Budgets[0].Amount = engine.MustMoney("1") // a caller's change stays its own
	}
	in.Name, in.Budgets = "two", []engine.Budget{{Year: 2026, Amount: engine.MustMoney("250.00")}, {Year: 2027, Amount: engine.MustMoney("1.00")}}
	if err := a.PutInstitution(ctx, in); err != nil {
		t.Fatal(err)
	}
	if got, err := a.GetInstitution(ctx, "H1"); err != nil || got.Name != "two" || len(got.Budgets) != 2 || got.Budgets[0].Amount.String() != "250.00" {
		t.Fatalf("the writer reads %+v, %v", got, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := b.GetInstitution(ctx, "H1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Name == "two" && len(got.Budgets) == 2 && got.Budgets[0].Amount.String() == "250.00" {
			break
		}
		if got.Name != "one" || got.Budgets[0].Amount.String() != "100.00" {
			t.Fatalf("the other server reads %+v", got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other server still reads %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
