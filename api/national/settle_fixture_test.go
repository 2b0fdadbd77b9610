package national

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// stNow is the settlement fixture's clock at start: 2025-03-04 13:06:07
// in Asia/Shanghai.
var stNow = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

// stFixture is a gateway on a memstore behind the real services
// (api.Local), with institutions H1 and H2 (region R1, level 3), persons
// S1 (employee, account 1000.00), S2 (resident) and S3 (resident on the
// minimum living allowance), and a policy per
// scheme: outpatient (annual, deductible 200, 50% to 10000 then 60%),
// inpatient (per visit, deductible 1000 then 800, 85% to 30000 then 90%),
// one cap pool of 400000, and catastrophic insurance of inpatient care
// (nothing to 1000, then 60%, capped at 300000 a year); medical aid of
// minimum living allowance (70%, 10000 a year); DRG group GB11.
type stFixture struct {
	t     *testing.T
	st    stStore
	g     *Gateway
	local *api.Local
	clock *testClock
	seq   int
	// opened are the visits the fixture opened, in order.
	opened []string
	// msgid is the last msgid ok sent.
	msgid string
}

func mon(s string) engine.Money   { return engine.MustMoney(s) }
func monp(s string) *engine.Money { m := engine.MustMoney(s); return &m }

func stPolicy(scheme engine.Scheme) *engine.Policy {
	return &engine.Policy{Region: "R1", Scheme: scheme, Version: "v1",
		EffectiveFrom: engine.Date{Year: 2025, Month: 1, Day: 1}, EffectiveTo: engine.Date{Year: 2025, Month: 12, Day: 31},
		UnknownItem: engine.UnknownItemSelfPay,
		Catalog: []engine.CatalogEntry{
			{Code: "A1", Category: engine.ItemA},
			{Code: "B1", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.1")},
			{Code: "C1", Category: engine.ItemC, SelfPayRatio: engine.RatioOne},
		},
		Benefits: []engine.Benefit{
			{VisitType: engine.VisitOutpatient, Accumulation: engine.AccumulationAnnual,
				Deductibles: []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{mon("200")}}},
				Rates: []engine.RateRow{{Level: 3, Schedule: engine.Schedule{Bands: []engine.Band{
					{UpTo: monp("10000"), Ratio: engine.MustRatio("0.5")}, {Ratio: engine.MustRatio("0.6")}}}}},
				CapPool: "main"},
			{VisitType: engine.VisitInpatient, Accumulation: engine.AccumulationPerVisit,
				Deductibles: []engine.DeductibleRow{{Level: 3, Amounts: []engine.Money{mon("1000"), mon("800")}}},
				Rates: []engine.RateRow{{Level: 3, Schedule: engine.Schedule{Bands: []engine.Band{
					{UpTo: monp("30000"), Ratio: engine.MustRatio("0.85")}, {Ratio: engine.MustRatio("0.9")}}}}},
				CapPool: "main"},
		},
		CapPools: []engine.CapPool{{Name: "main", Rows: []engine.CapPoolRow{{MinYears: 0, Amount: mon("400000")}}}},
		Catastrophic: &engine.Catastrophic{VisitTypes: []engine.VisitType{engine.VisitInpatient},
			Normal: engine.Schedule{Bands: []engine.Band{{UpTo: monp("1000"), Ratio: engine.Ratio{}}, {Ratio: engine.MustRatio("0.6")}},
				AnnualCap: monp("300000")}},
		DRG: &engine.DRG{Groups: []engine.DRGGroup{{Code: "GB11", BasePoints: engine.MustPoints("1"), AverageCost: mon("10000")}}},
		MedicalAid: []engine.AidRule{{Category: engine.CategoryMinimumLiving,
			Schedule: engine.Schedule{Bands: []engine.Band{{Ratio: engine.MustRatio("0.7")}}, AnnualCap: monp("10000")}}},
	}
}

// stStore is a store with visits: memstore, or pgstore (settle_pg_test.go).
type stStore interface {
	store.Store
	store.VisitStore
}

func newStFixture(t *testing.T) *stFixture {
	t.Helper()
	return newStFixtureOn(t, memstore.New())
}

// newStFixtureOn is the fixture on st, empty.
func newStFixtureOn(t *testing.T, st stStore) *stFixture {
	t.Helper()
	ctx := context.Background()
	for _, p := range []engine.Person{
		{ID: "S1", Name: "赵六", Region: "R1", Scheme: engine.SchemeEmployee, ContributionYears: 10, AccountBalance: mon("1000")},
		{ID: "S2", Name: "钱七", Region: "R1", Scheme: engine.SchemeResident},
		{ID: "S3", Name: "孙八", Region: "R1", Scheme: engine.SchemeResident, Category: engine.CategoryMinimumLiving},
	} {
		if err := st.PutPerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"H1", "H2"} {
		if err := st.PutInstitution(ctx, engine.Institution{ID: id, Name: id, Region: "R1", Level: 3}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []engine.Scheme{engine.SchemeEmployee, engine.SchemeResident} {
		if err := st.PutPolicy(ctx, stPolicy(s).Index()); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{t: stNow}
	// The store records settlements and visits on the same clock.
	if c, ok := st.(store.Clocked); ok {
		c.SetClock(clock.now)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, _, local := api.NewServerWithLocal(api.Config{Store: st, Log: log, Now: clock.now})
	g, err := New(servedConfig(SchemeXTif), local, st, st, WithClock(clock.now), WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	return &stFixture{t: t, st: st, g: g, local: local, clock: clock}
}

// tx answers one transaction of institution inst as the gateway does once
// the request is authenticated (the principal in the context, the
// handler, the answer and its audit event), and returns the answer.
func (f *stFixture) tx(inst, infno, msgid, input string) (Response, string) {
	f.t.Helper()
	h, ok := handlers[infno]
	if !ok {
		f.t.Fatalf("infno %s is not registered", infno)
	}
	cred := &f.g.cfg.Institutions[0]
	if inst == "H2" {
		cred = &f.g.cfg.Institutions[1]
	}
	c := &Call{Cred: cred, Now: f.clock.now(), Env: &Envelope{Infno: infno, Msgid: msgid, FixmedinsCode: cred.FixmedinsCode,
		Input: json.RawMessage(input)}}
	ctx := context.Background()
	hctx := api.WithPrincipal(ctx, api.Principal{Role: api.RoleInstitution, Institution: cred.InstitutionID})
	out, err := f.g.run(hctx, h, c)
	w := httptest.NewRecorder()
	f.g.finish(ctx, w, c, err, out)
	var r Response
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil {
		f.t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	var raw struct {
		Output json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		f.t.Fatal(err)
	}
	return r, string(raw.Output)
}

// ok answers a transaction of H1 that must succeed and returns its output
// as JSON text.
func (f *stFixture) ok(infno, input string) string {
	f.t.Helper()
	f.seq++
	f.msgid = fmt.Sprintf("H1-%s-%04d", infno, f.seq)
	r, out := f.tx("H1", infno, f.msgid, input)
	if r.Infcode != "0" {
		f.t.Fatalf("%s %s: infcode %s: %s", infno, input, r.Infcode, r.ErrMsg)
	}
	return out
}

// refused answers a transaction of inst that must be refused, asserts
// that nothing changed (visits, details, settlements, accumulators and
// balances of both persons), and returns err_msg.
func (f *stFixture) refused(inst, infno, input string) string {
	f.t.Helper()
	before := f.state()
	f.seq++
	r, _ := f.tx(inst, infno, fmt.Sprintf("%s-%s-%04d", inst, infno, f.seq), input)
	if r.Infcode != "-1" || r.ErrMsg == "" {
		f.t.Fatalf("%s %s: infcode %s, err_msg %q: want a refusal", infno, input, r.Infcode, r.ErrMsg)
	}
	if after := f.state(); after != before {
		f.t.Fatalf("%s refused, but the state changed:\nbefore %s\nafter  %s", infno, before, after)
	}
	return r.ErrMsg
}

// state is everything a settling transaction may change, as text.
func (f *stFixture) state() string {
	f.t.Helper()
	ctx := context.Background()
	out := ""
	for _, id := range []string{"S1", "S2"} {
		snap, err := f.st.Snapshot(ctx, id, "H1", 2025)
		if err != nil {
			f.t.Fatal(err)
		}
		out += fmt.Sprintf("%s balance %s acc %+v; ", id, snap.Person.AccountBalance, snap.Accumulators)
	}
	for _, v := range f.visitIDs() {
		vis, err := f.st.GetVisit(ctx, v)
		if err != nil {
			f.t.Fatal(err)
		}
		vis.OpenedAt = time.Time{}
		lines, err := f.st.FeeDetails(ctx, v, "")
		if err != nil {
			f.t.Fatal(err)
		}
		out += fmt.Sprintf("visit %+v lines %d; ", vis, len(lines))
		if vis.SettlementID != "" {
			s, err := f.st.GetSettlement(ctx, vis.SettlementID)
			if err != nil {
				f.t.Fatal(err)
			}
			out += fmt.Sprintf("settlement %s %v; ", s.ID, s.State)
		}
	}
	n, err := f.st.AuditEvents(ctx, store.AuditFilter{Method: pb.SettlementService_Settle_FullMethodName, HasCode: true, Code: 0})
	if err != nil {
		f.t.Fatal(err)
	}
	return out + fmt.Sprintf("settles %d", len(n))
}

// visitIDs are the visits the fixture opened.
func (f *stFixture) visitIDs() []string { return f.opened }

// open opens a visit of inst for person of kind with med_type and
// uploads lines into batch.
func (f *stFixture) open(inst, person string, kind store.VisitKind, medType, batch string, lines ...store.FeeDetail) store.Visit {
	f.t.Helper()
	ctx := context.Background()
	p, err := f.st.GetPerson(ctx, person)
	if err != nil {
		f.t.Fatal(err)
	}
	f.seq++
	v, err := f.st.OpenVisit(ctx, store.Visit{InstitutionID: inst, PersonID: person, Kind: kind, Number: fmt.Sprintf("N%d", f.seq),
		Scheme: p.Scheme, MedType: medType, Begin: "2025-03-04 08:00:00"})
	if err != nil {
		f.t.Fatal(err)
	}
	f.opened = append(f.opened, v.ID)
	for i := range lines {
		lines[i].VisitID, lines[i].Batch = v.ID, batch
		if lines[i].SN == "" {
			lines[i].SN = fmt.Sprintf("%d", i+1)
		}
	}
	if len(lines) > 0 {
		if err := f.st.PutFeeDetails(ctx, v.ID, lines); err != nil {
			f.t.Fatal(err)
		}
	}
	return v
}

// line is a fee detail of code: quantity × price = amount.
func line(code, qty, price, amount string) store.FeeDetail {
	return store.FeeDetail{Code: code, Name: "院内" + code, Quantity: engine.MustQuantity(qty), UnitPrice: engine.MustPrice(price),
		Amount: mon(amount), FeeTime: "2025-03-04 09:00:00", MedType: "11"}
}

// grpcSettlement is the settlement as the gRPC API answers it.
func (f *stFixture) grpcSettlement(id string) *pb.Settlement {
	f.t.Helper()
	ctx := api.WithPrincipal(context.Background(), api.Principal{Role: api.RoleInstitution, Institution: "H1"})
	resp, err := f.local.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: id})
	if err != nil {
		f.t.Fatal(err)
	}
	return resp.GetSettlement()
}

// visit reads a visit.
func (f *stFixture) visit(id string) store.Visit {
	f.t.Helper()
	v, err := f.st.GetVisit(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// field reads a JSON path ("setlinfo.hifp_pay", "setldetail.0.fund_payamt")
// of an answer as its literal JSON text ("null" past a list's end).
func field(t *testing.T, out, path string) string {
	t.Helper()
	var cur any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&cur); err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			var i int
			fmt.Sscan(k, &i)
			if i >= len(c) {
				return "null"
			}
			cur = c[i]
		default:
			t.Fatalf("%s: %s is not an object", path, k)
		}
	}
	b, _ := json.Marshal(cur)
	return string(b)
}
