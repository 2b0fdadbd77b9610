package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// BenchmarkVisitCalls is the store's part of a gateway claim on a new
// visit, every call timed: OpenVisit, PutFeeDetails of two lines,
// VisitDetails, SettleVisit (a fixed result) and GetVisit, over 64
// persons.
func BenchmarkVisitCalls(b *testing.B) {
	ctx := context.Background()
	s := memstore.New()
	const persons = 64
	results := make([]engine.Result, persons)
	for i := range persons {
		id := fmt.Sprintf("P%02d", i)
		if err := s.PutPerson(ctx, engine.Person{ID: id, Region: "R1", Scheme: engine.SchemeEmployee}); err != nil {
			b.Fatal(err)
		}
		results[i] = benchResult(id)
	}
	if err := s.PutInstitution(ctx, engine.Institution{ID: "H1", Region: "R1", Level: 3,
		Budgets: []engine.Budget{{Year: 2024, Amount: engine.MustMoney("100000000000")}}}); err != nil {
		b.Fatal(err)
	}
	items := []engine.LineItem{{Code: "X001", Name: "item", Quantity: engine.QuantityOf(1),
		UnitPrice: engine.MustPrice("100"), Amount: engine.MustMoney("100")}}
	lines := []store.FeeDetail{
		{SN: "1", Code: "X001", Name: "item one", FeeTime: "2024-03-01 09:40:00", MedType: "21",
			Quantity: engine.QuantityOf(1), UnitPrice: engine.MustPrice("100"), Amount: engine.MustMoney("100")},
		{SN: "2", Code: "X002", Name: "item two", FeeTime: "2024-03-01 09:41:00", MedType: "21",
			Quantity: engine.QuantityOf(2), UnitPrice: engine.MustPrice("5"), Amount: engine.MustMoney("10")},
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		p := n % persons
		v, err := s.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: fmt.Sprintf("P%02d", p), Kind: store.VisitKindInpatient,
			Number: fmt.Sprintf("IP%09d", n), Scheme: engine.SchemeEmployee, MedType: "21", Begin: "2024-03-01 09:30:00"})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.PutFeeDetails(ctx, v.ID, lines); err != nil {
			b.Fatal(err)
		}
		if v, _, err = s.VisitDetails(ctx, v.ID, ""); err != nil {
			b.Fatal(err)
		}
		claim := engine.Claim{RequestID: fmt.Sprintf("R%d", n), InstitutionID: "H1", PersonID: v.PersonID,
			VisitType: engine.VisitInpatient, SettleDate: engine.Date{Year: 2024, Month: 3, Day: 1}, Items: items}
		res := results[p]
		mark := store.VisitMark{VisitID: v.ID, Generation: v.Generation, DetailsVersion: v.DetailsVersion, Msgid: fmt.Sprintf("H1%018d", n), CertType: "02"}
		if _, err := s.SettleVisit(ctx, claim, func(store.PersonYear) (engine.Result, error) { return res, nil }, mark); err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetVisit(ctx, v.ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGatewayStoreCalls is the store calls of a gateway claim that
// only the gateway makes (not SettleVisit, whose settlement is Settle's),
// on a visit opened in the same iteration: PutFeeDetails of six lines,
// GetVisit, VisitDetails and three AppendAudit.
func BenchmarkGatewayStoreCalls(b *testing.B) {
	ctx := context.Background()
	s := memstore.New()
	const persons = 64
	for i := range persons {
		if err := s.PutPerson(ctx, engine.Person{ID: fmt.Sprintf("P%02d", i), Region: "R1", Scheme: engine.SchemeEmployee}); err != nil {
			b.Fatal(err)
		}
	}
	lines := make([]store.FeeDetail, 6)
	for i := range lines {
		lines[i] = store.FeeDetail{SN: fmt.Sprintf("H1-%03d", i), Code: "XB01AAA0001", Name: "头孢克肟胶囊", FeeTime: "2024-03-01 09:40:00",
			MedType: "21", Quantity: engine.QuantityOf(2), UnitPrice: engine.MustPrice("12.5"), Amount: engine.MustMoney("25")}
	}
	at := time.Date(2024, 3, 1, 9, 40, 0, 0, time.UTC)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		v, err := s.OpenVisit(ctx, store.Visit{InstitutionID: "H1", PersonID: fmt.Sprintf("P%02d", n%persons), Kind: store.VisitKindOutpatient,
			Number: fmt.Sprintf("OP%09d", n), Scheme: engine.SchemeEmployee, MedType: "11", Begin: "2024-03-01 09:30:00"})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.PutFeeDetails(ctx, v.ID, lines); err != nil {
			b.Fatal(err)
		}
		if _, err := s.GetVisit(ctx, v.ID); err != nil {
			b.Fatal(err)
		}
		if _, got, err := s.VisitDetails(ctx, v.ID, ""); err != nil || len(got) != len(lines) {
			b.Fatal(len(got), err)
		}
		for _, m := range [...]string{"/national/2301", "/medsettle.v1.SettlementService/Settle", "/national/2304"} {
			if _, err := s.AppendAudit(ctx, store.AuditEvent{Time: at, Role: "institution", CallerInstitution: "H1", Method: m,
				RequestID: fmt.Sprintf("H1%018d", n), PersonID: v.PersonID, InstitutionID: "H1", Code: 0}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
