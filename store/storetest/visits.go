package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// The national gateway's visits and fee details (store.VisitStore): every
// store of the suite implements it.

// visitEnv is a store loaded with the fixtures, as a VisitStore.
type visitEnv struct {
	*env
	vs store.VisitStore
}

func newVisitEnv(t *testing.T, newStore func(t *testing.T) store.Store) *visitEnv {
	t.Helper()
	e := newEnv(t, newStore)
	vs, ok := e.st.(store.VisitStore)
	if !ok {
		t.Fatalf("%T does not implement store.VisitStore", e.st)
	}
	return &visitEnv{e, vs}
}

// outpatientVisit is an outpatient visit of P1 at H1 numbered number.
func outpatientVisit(number string) store.Visit {
	return store.Visit{InstitutionID: hospBudget, PersonID: psnEmployed, Kind: store.VisitKindOutpatient, Number: number,
		Scheme: engine.SchemeEmployee, MedType: "11", Begin: "2025-06-02 09:30:00"}
}

// open opens a visit and fails the test if it cannot.
func (e *visitEnv) open(v store.Visit) store.Visit {
	e.t.Helper()
	got, err := e.vs.OpenVisit(e.ctx, v)
	if err != nil {
		e.t.Fatalf("OpenVisit %s: %v", v.Number, err)
	}
	return got
}

// visit reads a visit and fails the test if it cannot.
func (e *visitEnv) visit(id string) store.Visit {
	e.t.Helper()
	v, err := e.vs.GetVisit(e.ctx, id)
	if err != nil {
		e.t.Fatalf("GetVisit %s: %v", id, err)
	}
	return v
}

// details lists a visit's live lines of batch and fails the test if it cannot.
func (e *visitEnv) details(id, batch string) []store.FeeDetail {
	e.t.Helper()
	ds, err := e.vs.FeeDetails(e.ctx, id, batch)
	if err != nil {
		e.t.Fatalf("FeeDetails %s %q: %v", id, batch, err)
	}
	return ds
}

// put uploads lines and fails the test if it cannot.
func (e *visitEnv) put(id string, lines ...store.FeeDetail) {
	e.t.Helper()
	if err := e.vs.PutFeeDetails(e.ctx, id, lines); err != nil {
		e.t.Fatalf("PutFeeDetails %s: %v", id, err)
	}
}

// sameVisit fails unless got equals want field by field.
func (e *visitEnv) sameVisit(what string, got, want store.Visit) {
	e.t.Helper()
	if d := diff(got, want); len(d) > 0 {
		e.t.Errorf("%s: %v", what, d)
	}
}

// sameDetails fails unless got lists exactly want, in order.
func (e *visitEnv) sameDetails(what string, got, want []store.FeeDetail) {
	e.t.Helper()
	if d := diff(got, want); len(d) > 0 {
		e.t.Errorf("%s: got SNs %v, want %v: %v", what, sns(got), sns(want), d)
	}
}

func sns(ds []store.FeeDetail) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.SN
	}
	return out
}

// detail is a fee-detail line of visitID: code DRUG-A, amount = round(cnt
// × pric) as the gateway requires.
func detail(visitID, batch, sn, cnt, pric string) store.FeeDetail {
	it := item("DRUG-A", cnt, pric)
	return store.FeeDetail{VisitID: visitID, SN: sn, Batch: batch, Code: it.Code, Name: "阿莫西林胶囊 " + sn,
		Quantity: it.Quantity, UnitPrice: it.UnitPrice, Amount: it.Amount, FeeTime: "2025-06-02 10:00:00", MedType: "11"}
}

// wantErr fails unless err is target (errors.Is).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}

// wantInvalid fails unless err is a *engine.ValidationError naming field.
func wantInvalid(t *testing.T, what string, err error, field string) {
	t.Helper()
	var ve *engine.ValidationError
	if !errors.As(err, &ve) || !ve.Has(field) {
		t.Errorf("%s: error %v, want a validation error naming %q", what, err, field)
	}
}

// testOpenVisit opens visits: a new one (OPEN, an id of the store's, the
// time it was opened), retries answered with the visit first opened
// whatever they carry, numbers per institution and kind, the caller's own
// id, and every refusal, each leaving nothing behind.
func testOpenVisit(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	before := time.Now().UTC().Add(-time.Second)
	in := outpatientVisit("MZ0001")
	// The caller's state is ignored: a new visit is OPEN, first generation.
	in.State, in.Generation, in.SettlementID, in.ReversedSettlementID, in.Discharge = store.VisitSettled, 7, "ST1", "ST0", "x"
	in.OpenedAt = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	v := e.open(in)
	if len(v.ID) != 30 || !strings.HasPrefix(v.ID, store.VisitIDPrefix) {
		t.Errorf("new visit id %q, want one of store.NewVisitID", v.ID)
	}
	if v.OpenedAt.Before(before) || v.OpenedAt.After(time.Now().Add(time.Second)) || v.OpenedAt.Location() != time.UTC ||
		v.OpenedAt.Nanosecond()%1000 != 0 {
		t.Errorf("OpenedAt %v, want now, UTC, to the microsecond", v.OpenedAt)
	}
	want := outpatientVisit("MZ0001")
	want.ID, want.State, want.OpenedAt = v.ID, store.VisitOpen, v.OpenedAt
	e.sameVisit("OpenVisit", v, want)
	e.sameVisit("GetVisit", e.visit(v.ID), want)

	// A retry answers the visit first opened, whatever else it carries.
	retry := outpatientVisit("MZ0001")
	retry.PersonID, retry.Scheme, retry.MedType, retry.Begin, retry.ID = psnRetired, engine.SchemeResident, "13", "later", store.NewVisitID()
	e.sameVisit("retry with other fields", e.open(retry), want)
	same := in
	same.ID = v.ID
	e.sameVisit("retry with the visit's own id", e.open(same), want)
	bad := outpatientVisit("MZ0001")
	bad.PersonID, bad.MedType = "nobody", strings.Repeat("1", engine.MaxIDLen+1)
	e.sameVisit("retry with an unknown person and a bad med_type", e.open(bad), want)
	if _, err := vs.GetVisit(ctx, retry.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the retry's id was stored: GetVisit %v", err)
	}

	// A number is the institution's, per kind.
	inpatient := outpatientVisit("MZ0001")
	inpatient.Kind, inpatient.MedType = store.VisitKindInpatient, "21"
	vi := e.open(inpatient)
	other := outpatientVisit("MZ0001")
	other.InstitutionID = hospNoBudget
	vo := e.open(other)
	if vi.ID == v.ID || vo.ID == v.ID || vi.ID == vo.ID || vi.Kind != store.VisitKindInpatient || vo.InstitutionID != hospNoBudget {
		t.Errorf("visits of another kind or institution with the same number: %s, %s, %s", v.ID, vi.ID, vo.ID)
	}
	// The caller's own id is kept.
	own := outpatientVisit("MZ0002")
	own.ID = "MD-CALLER-CHOSEN"
	if got := e.open(own); got.ID != own.ID {
		t.Errorf("OpenVisit with id %q stored %q", own.ID, got.ID)
	}

	// Refusals change nothing: the number stays free.
	unknown := outpatientVisit("MZ0003")
	unknown.PersonID = "nobody"
	unknown.ID = store.NewVisitID()
	_, err := vs.OpenVisit(ctx, unknown)
	wantErr(t, "OpenVisit of an unknown person", err, store.ErrNotFound)
	taken := outpatientVisit("MZ0003")
	taken.ID = v.ID
	_, err = vs.OpenVisit(ctx, taken)
	wantErr(t, "OpenVisit with another visit's id", err, store.ErrConflict)
	for _, c := range []struct {
		field string
		edit  func(*store.Visit)
	}{
		{"id", func(v *store.Visit) { v.ID = strings.Repeat("M", store.MaxVisitIDLen+1) }},
		{"institution_id", func(v *store.Visit) { v.InstitutionID = "" }},
		{"institution_id", func(v *store.Visit) { v.InstitutionID = strings.Repeat("H", engine.MaxIDLen+1) }},
		{"person_id", func(v *store.Visit) { v.PersonID = "" }},
		{"number", func(v *store.Visit) { v.Number = "" }},
		{"number", func(v *store.Visit) { v.Number = strings.Repeat("9", engine.MaxIDLen+1) }},
		{"number", func(v *store.Visit) { v.Number = "MZ\xff" }},
		{"number", func(v *store.Visit) { v.Number = "MZ\x00" }},
		{"person_id", func(v *store.Visit) { v.PersonID = "P\n1" }},
		{"id", func(v *store.Visit) { v.ID = "MD\x00" }},
		{"kind", func(v *store.Visit) { v.Kind = store.VisitKindUnspecified }},
		{"kind", func(v *store.Visit) { v.Kind = 3 }},
		{"scheme", func(v *store.Visit) { v.Scheme = engine.SchemeUnspecified }},
		{"med_type", func(v *store.Visit) { v.MedType = strings.Repeat("1", engine.MaxIDLen+1) }},
		{"begin", func(v *store.Visit) { v.Begin = strings.Repeat("2", engine.MaxIDLen+1) }},
		{"med_type", func(v *store.Visit) { v.MedType = "1\x00" }},
	} {
		bad := outpatientVisit("MZ0003")
		c.edit(&bad)
		_, err := vs.OpenVisit(ctx, bad)
		wantInvalid(t, "OpenVisit with a bad "+c.field, err, c.field)
	}
	fresh := e.open(outpatientVisit("MZ0003"))
	if fresh.ID == unknown.ID || fresh.PersonID != psnEmployed || fresh.State != store.VisitOpen {
		t.Errorf("after refusals, MZ0003 opened as %+v", fresh)
	}
	if _, err := vs.GetVisit(ctx, unknown.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the refused visit was stored: GetVisit %v", err)
	}
	_, err = vs.GetVisit(ctx, "MDnone")
	wantErr(t, "GetVisit of an unknown id", err, store.ErrNotFound)
	e.sameVisit("the first visit after all this", e.visit(v.ID), want)
}

// testCancelVisit cancels an OPEN visit, and checks that a cancelled
// visit refuses every change but keeps its details readable.
func testCancelVisit(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	v := e.open(outpatientVisit("MZ1"))
	e.put(v.ID, detail(v.ID, "B1", "1", "2", "3.5"))
	v.DetailsVersion = 1 // the upload
	got, err := vs.CancelVisit(ctx, v.ID)
	if err != nil {
		t.Fatalf("CancelVisit: %v", err)
	}
	want := v
	want.State = store.VisitCancelled
	e.sameVisit("CancelVisit", got, want)
	e.sameVisit("GetVisit after CancelVisit", e.visit(v.ID), want)

	_, err = vs.CancelVisit(ctx, v.ID)
	wantErr(t, "CancelVisit again", err, store.ErrVisitNotOpen)
	err = vs.PutFeeDetails(ctx, v.ID, []store.FeeDetail{detail(v.ID, "B1", "2", "1", "1")})
	wantErr(t, "PutFeeDetails on a cancelled visit", err, store.ErrVisitNotOpen)
	n, err := vs.CancelFeeDetails(ctx, v.ID, "", "")
	wantErr(t, "CancelFeeDetails on a cancelled visit", err, store.ErrVisitNotOpen)
	if n != 0 {
		t.Errorf("CancelFeeDetails on a cancelled visit answered %d", n)
	}
	_, err = vs.MarkVisitSettled(ctx, v.ID, "ST1")
	wantErr(t, "MarkVisitSettled on a cancelled visit", err, store.ErrVisitNotOpen)
	_, err = vs.ReopenVisit(ctx, v.ID, "ST1")
	wantErr(t, "ReopenVisit on a cancelled visit", err, store.ErrVisitNotOpen)
	err = vs.RecordDischarge(ctx, v.ID, "{}")
	wantErr(t, "RecordDischarge on a cancelled visit", err, store.ErrVisitNotOpen)
	e.sameVisit("a cancelled visit after refusals", e.visit(v.ID), want)
	e.sameDetails("details of a cancelled visit", e.details(v.ID, ""), []store.FeeDetail{detail(v.ID, "B1", "1", "2", "3.5")})
	// Its number answers it, cancelled: the caller refuses.
	e.sameVisit("OpenVisit of a cancelled visit's number", e.open(outpatientVisit("MZ1")), want)

	settled := e.open(outpatientVisit("MZ2"))
	if _, err := vs.MarkVisitSettled(ctx, settled.ID, "ST2"); err != nil {
		t.Fatal(err)
	}
	_, err = vs.CancelVisit(ctx, settled.ID)
	wantErr(t, "CancelVisit of a settled visit", err, store.ErrVisitNotOpen)
	if got := e.visit(settled.ID); got.State != store.VisitSettled || got.SettlementID != "ST2" {
		t.Errorf("a settled visit after CancelVisit: %+v", got)
	}
	_, err = vs.CancelVisit(ctx, "MDnone")
	wantErr(t, "CancelVisit of an unknown visit", err, store.ErrNotFound)
}

// testRecordDischarge records discharges: the last wins, on an open or a
// settled visit; refused on a cancelled visit (above), an unknown one, or
// with a record too long.
func testRecordDischarge(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	in := outpatientVisit("ZY1")
	in.Kind, in.MedType = store.VisitKindInpatient, "21"
	v := e.open(in)
	for _, rec := range []string{`{"dscginfo":{"endtime":"2025-06-09"}}`, `{"dscginfo":{"endtime":"2025-06-10"},"diseinfo":[{"diag_code":"J18.9"}]}`} {
		if err := vs.RecordDischarge(ctx, v.ID, rec); err != nil {
			t.Fatalf("RecordDischarge: %v", err)
		}
		want := v
		want.Discharge = rec
		e.sameVisit("after RecordDischarge", e.visit(v.ID), want)
		v = want
	}
	err := vs.RecordDischarge(ctx, v.ID, strings.Repeat("x", store.MaxDischargeLen+1))
	wantInvalid(t, "RecordDischarge too long", err, "discharge")
	err = vs.RecordDischarge(ctx, v.ID, "\xff")
	wantInvalid(t, "RecordDischarge not UTF-8", err, "discharge")
	e.sameVisit("after refused discharges", e.visit(v.ID), v)
	if err := vs.RecordDischarge(ctx, v.ID, strings.Repeat("長", store.MaxDischargeLen/3)); err != nil {
		t.Errorf("RecordDischarge of %d bytes: %v", store.MaxDischargeLen/3*3, err)
	}
	if _, err := vs.MarkVisitSettled(ctx, v.ID, "ST9"); err != nil {
		t.Fatal(err)
	}
	if err := vs.RecordDischarge(ctx, v.ID, "after settlement"); err != nil {
		t.Errorf("RecordDischarge on a settled visit: %v", err)
	}
	if got := e.visit(v.ID); got.Discharge != "after settlement" || got.State != store.VisitSettled || got.SettlementID != "ST9" {
		t.Errorf("a settled visit after RecordDischarge: %+v", got)
	}
	err = vs.RecordDischarge(ctx, "MDnone", "{}")
	wantErr(t, "RecordDischarge of an unknown visit", err, store.ErrNotFound)
}

// testFeeDetails uploads and lists details: upload order, batch filter,
// same content a no-op, other content a conflict naming every SN, all or
// nothing, duplicates within one upload, and every refusal.
func testFeeDetails(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	v := e.open(outpatientVisit("MZ1"))
	id := v.ID
	a1, a2 := detail(id, "B1", "0001", "2", "12.5"), detail(id, "B1", "0002", "1", "3.333333")
	b1, b2 := detail(id, "B2", "0003", "0.5", "88"), detail(id, "B2", "0004", "3", "1")
	// The line's VisitID is the visit's, whatever the caller put there.
	a1wrong := a1
	a1wrong.VisitID = "MDother"
	e.put(id, a1wrong, a2)
	e.put(id, b1)
	e.put(id, b2, a1) // a1 again, same content: a no-op
	e.sameDetails("all details", e.details(id, ""), []store.FeeDetail{a1, a2, b1, b2})
	e.sameDetails("batch B1", e.details(id, "B1"), []store.FeeDetail{a1, a2})
	e.sameDetails("batch B2", e.details(id, "B2"), []store.FeeDetail{b1, b2})
	if got := e.details(id, "B9"); len(got) != 0 {
		t.Errorf("an unknown batch lists %v", sns(got))
	}
	// An empty upload is a no-op.
	e.put(id)
	// Other content under a live SN: refused, naming every such SN, and
	// nothing of the upload is stored (not even its new lines).
	c1 := a1
	c1.Name = "other name"
	c2 := b2
	c2.Amount = c2.Amount.Add(engine.MoneyFromFen(1))
	c3 := a2
	c3.Batch = "B2"
	fresh := detail(id, "B3", "0005", "1", "1")
	err := vs.PutFeeDetails(ctx, id, []store.FeeDetail{fresh, c1, a2, c2, c3, c1})
	var dc *store.DetailConflictError
	if !errors.As(err, &dc) || !errors.Is(err, store.ErrConflict) {
		t.Fatalf("PutFeeDetails with other content: %v, want a *DetailConflictError that is ErrConflict", err)
	}
	if d := diff(dc.SNs, []string{"0001", "0004", "0002"}); len(d) > 0 {
		t.Errorf("conflict names %v, want 0001, 0004, 0002 (each once, in upload order)", dc.SNs)
	}
	e.sameDetails("after a refused upload", e.details(id, ""), []store.FeeDetail{a1, a2, b1, b2})
	// Every field counts.
	for name, edit := range map[string]func(*store.FeeDetail){
		"code": func(d *store.FeeDetail) { d.Code = "DRUG-B" }, "quantity": func(d *store.FeeDetail) { d.Quantity = engine.MustQuantity("2.0001") },
		"price":    func(d *store.FeeDetail) { d.UnitPrice = engine.MustPrice("12.500001") },
		"fee time": func(d *store.FeeDetail) { d.FeeTime = "2025-06-02 10:00:01" }, "med type": func(d *store.FeeDetail) { d.MedType = "12" },
	} {
		c := a1
		edit(&c)
		if err := vs.PutFeeDetails(ctx, id, []store.FeeDetail{c}); !errors.As(err, &dc) || len(dc.SNs) != 1 || dc.SNs[0] != "0001" {
			t.Errorf("PutFeeDetails with another %s: %v, want a conflict on 0001", name, err)
		}
	}
	// Within one upload: the same SN twice with the same content is one
	// line; with other content, a conflict.
	d5 := detail(id, "B3", "0005", "1", "1")
	e.put(id, d5, d5)
	e.sameDetails("a line uploaded twice in one call", e.details(id, "B3"), []store.FeeDetail{d5})
	d6, d6b := detail(id, "B3", "0006", "1", "1"), detail(id, "B3", "0006", "2", "1")
	err = vs.PutFeeDetails(ctx, id, []store.FeeDetail{d6, d6b})
	if !errors.As(err, &dc) || len(dc.SNs) != 1 || dc.SNs[0] != "0006" {
		t.Errorf("one SN twice in one call with other content: %v, want a conflict on 0006", err)
	}
	all := []store.FeeDetail{a1, a2, b1, b2, d5}
	e.sameDetails("after the in-call duplicates", e.details(id, ""), all)

	// Refusals of CheckFeeDetails: nothing of the upload is stored.
	good := detail(id, "B4", "0100", "1", "1")
	for _, c := range []struct {
		field string
		edit  func(*store.FeeDetail)
	}{
		{"lines[1].sn", func(d *store.FeeDetail) { d.SN = "" }},
		{"lines[1].sn", func(d *store.FeeDetail) { d.SN = strings.Repeat("1", engine.MaxIDLen+1) }},
		{"lines[1].batch", func(d *store.FeeDetail) { d.Batch = strings.Repeat("1", engine.MaxIDLen+1) }},
		{"lines[1].code", func(d *store.FeeDetail) { d.Code = strings.Repeat("1", engine.MaxIDLen+1) }},
		{"lines[1].name", func(d *store.FeeDetail) { d.Name = strings.Repeat("名", engine.MaxNameLen+1) }},
		{"lines[1].name", func(d *store.FeeDetail) { d.Name = "\xc3" }},
		{"lines[1].name", func(d *store.FeeDetail) { d.Name = "a\x00b" }},
		{"lines[1].sn", func(d *store.FeeDetail) { d.SN = "0\t1" }},
		{"lines[1].batch", func(d *store.FeeDetail) { d.Batch = "\xff" }},
		{"lines[1].fee_time", func(d *store.FeeDetail) { d.FeeTime = strings.Repeat("1", engine.MaxIDLen+1) }},
		{"lines[1].med_type", func(d *store.FeeDetail) { d.MedType = strings.Repeat("1", engine.MaxIDLen+1) }},
		{"lines[1].quantity", func(d *store.FeeDetail) { d.Quantity = engine.QuantityFromScaled(-1) }},
		{"lines[1].unit_price", func(d *store.FeeDetail) { d.UnitPrice = engine.PriceFromScaled(-1) }},
		{"lines[1].amount", func(d *store.FeeDetail) { d.Amount = engine.MoneyFromFen(-1) }},
	} {
		bad := detail(id, "B4", "0101", "1", "1")
		c.edit(&bad)
		err := vs.PutFeeDetails(ctx, id, []store.FeeDetail{good, bad})
		wantInvalid(t, "PutFeeDetails with a bad "+c.field, err, c.field)
	}
	tooMany := make([]store.FeeDetail, store.MaxVisitDetails+1)
	for i := range tooMany {
		tooMany[i] = detail(id, "B4", fmt.Sprintf("T%05d", i), "1", "1")
	}
	wantInvalid(t, "PutFeeDetails of too many lines", vs.PutFeeDetails(ctx, id, tooMany), "lines")
	e.sameDetails("after refused uploads", e.details(id, ""), all)

	err = vs.PutFeeDetails(ctx, "MDnone", []store.FeeDetail{good})
	wantErr(t, "PutFeeDetails of an unknown visit", err, store.ErrNotFound)
	_, err = vs.FeeDetails(ctx, "MDnone", "")
	wantErr(t, "FeeDetails of an unknown visit", err, store.ErrNotFound)
	_, err = vs.CancelFeeDetails(ctx, "MDnone", "", "")
	wantErr(t, "CancelFeeDetails of an unknown visit", err, store.ErrNotFound)

	// Another visit's lines are its own: the same SNs are independent.
	w := e.open(outpatientVisit("MZ2"))
	w1 := detail(w.ID, "B1", "0001", "9", "9")
	e.put(w.ID, w1)
	e.sameDetails("the other visit", e.details(w.ID, ""), []store.FeeDetail{w1})
	e.sameDetails("the first visit, unchanged", e.details(id, ""), all)

	// The answer is the caller's to change.
	got := e.details(id, "")
	got[0].Name = "changed by the caller"
	e.sameDetails("after the caller changed its answer", e.details(id, ""), all)
}

// testCancelFeeDetails cancels lines one by one, by batch and all at once,
// and uploads cancelled SNs again, with new content, at the end of the
// upload order.
func testCancelFeeDetails(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	id := e.open(outpatientVisit("MZ1")).ID
	a1, a2, a3 := detail(id, "B1", "1", "1", "1"), detail(id, "B1", "2", "2", "2"), detail(id, "B1", "3", "3", "3")
	b1, b2 := detail(id, "B2", "4", "4", "4"), detail(id, "B2", "5", "5", "5")
	e.put(id, a1, a2, a3, b1, b2)
	cancel := func(batch, sn string, want int) {
		t.Helper()
		n, err := vs.CancelFeeDetails(ctx, id, batch, sn)
		if err != nil || n != want {
			t.Errorf("CancelFeeDetails(%q, %q) = %d, %v; want %d", batch, sn, n, err, want)
		}
	}
	cancel("", "2", 1)
	e.sameDetails("after cancelling 2", e.details(id, ""), []store.FeeDetail{a1, a3, b1, b2})
	cancel("", "2", 0)      // no longer live
	cancel("B2", "1", 0)    // not in that batch
	cancel("B9", "", 0)     // no such batch
	cancel("", "nobody", 0) // no such SN
	e.sameDetails("after cancelling nothing", e.details(id, ""), []store.FeeDetail{a1, a3, b1, b2})
	cancel("B1", "3", 1)
	cancel("B2", "", 2)
	e.sameDetails("after cancelling batch B2", e.details(id, ""), []store.FeeDetail{a1})
	// A cancelled SN takes any content again, after the live lines.
	a2new := detail(id, "B2", "2", "7", "0.000001")
	e.put(id, b1, a2new)
	e.sameDetails("after uploading 4 and 2 again", e.details(id, ""), []store.FeeDetail{a1, b1, a2new})
	e.sameDetails("batch B2 after uploading again", e.details(id, "B2"), []store.FeeDetail{b1, a2new})
	cancel("", "", 3)
	if got := e.details(id, ""); len(got) != 0 {
		t.Errorf("after cancelling all: %v", sns(got))
	}
	cancel("", "", 0)
	e.put(id, a1)
	e.sameDetails("after uploading 1 again", e.details(id, ""), []store.FeeDetail{a1})
}

// testFeeDetailFigures checks that figures come back exactly as stored:
// six-decimal prices, four-decimal quantities, amounts to the fen, the
// smallest and largest values, zeros.
func testFeeDetailFigures(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	id := e.open(outpatientVisit("MZ1")).ID
	var lines []store.FeeDetail
	for i, f := range []struct{ q, p, a string }{
		{"1", "0.000001", "0.00"},
		{"0.0001", "1", "0.00"},
		{"12345.6789", "98765.432101", "1219326311.13"},
		{"3", "3.333333", "10.00"},
		{"0", "0", "0"},
		{"1", "1000000000000", "1000000000000.00"},
		{"0.3333", "0.015", "0.01"},
		{"999999.9999", "0.999999", "999998.90"},
	} {
		lines = append(lines, store.FeeDetail{VisitID: id, SN: fmt.Sprint(i), Batch: "B", Code: "X", Name: "精确 " + f.p,
			Quantity: engine.MustQuantity(f.q), UnitPrice: engine.MustPrice(f.p), Amount: engine.MustMoney(f.a)})
	}
	e.put(id, lines...)
	got := e.details(id, "")
	e.sameDetails("figures", got, lines)
	for i, d := range got {
		if i < len(lines) && (d.Quantity.String() != lines[i].Quantity.String() || d.UnitPrice.String() != lines[i].UnitPrice.String() ||
			d.Amount.String() != lines[i].Amount.String()) {
			t.Errorf("line %d: %s × %s = %s, want %s × %s = %s", i, d.Quantity, d.UnitPrice, d.Amount,
				lines[i].Quantity, lines[i].UnitPrice, lines[i].Amount)
		}
	}
	// The same figures again are the same content.
	e.put(id, lines...)
	e.sameDetails("figures uploaded again", e.details(id, ""), lines)
}

// testVisitSettlement moves a visit OPEN → SETTLED → OPEN → SETTLED, with
// retries and refusals at each step, and checks that details change only
// while it is OPEN.
func testVisitSettlement(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	v := e.open(outpatientVisit("MZ1"))
	id := v.ID
	d1 := detail(id, "B1", "1", "1", "10")
	e.put(id, d1)
	v.DetailsVersion = 1 // the upload

	_, err := vs.ReopenVisit(ctx, id, "ST1")
	wantErr(t, "ReopenVisit of a visit never settled", err, store.ErrVisitNotOpen)
	_, err = vs.MarkVisitSettled(ctx, id, "")
	wantInvalid(t, "MarkVisitSettled without a settlement id", err, "settlement_id")
	_, err = vs.ReopenVisit(ctx, id, "")
	wantInvalid(t, "ReopenVisit without a settlement id", err, "settlement_id")
	e.sameVisit("after refusals of an open visit", e.visit(id), v)

	settled := v
	settled.State, settled.SettlementID = store.VisitSettled, "ST1"
	for _, what := range []string{"MarkVisitSettled", "MarkVisitSettled again (a retry)"} {
		got, err := vs.MarkVisitSettled(ctx, id, "ST1")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		e.sameVisit(what, got, settled)
	}
	e.sameVisit("GetVisit of a settled visit", e.visit(id), settled)
	_, err = vs.MarkVisitSettled(ctx, id, "ST2")
	wantErr(t, "MarkVisitSettled by another settlement", err, store.ErrVisitNotOpen)
	_, err = vs.ReopenVisit(ctx, id, "ST2")
	wantErr(t, "ReopenVisit for another settlement", err, store.ErrVisitNotOpen)
	err = vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "B1", "2", "1", "1")})
	wantErr(t, "PutFeeDetails while settled", err, store.ErrVisitNotOpen)
	err = vs.PutFeeDetails(ctx, id, []store.FeeDetail{d1})
	wantErr(t, "PutFeeDetails of a stored line while settled", err, store.ErrVisitNotOpen)
	_, err = vs.CancelFeeDetails(ctx, id, "", "1")
	wantErr(t, "CancelFeeDetails while settled", err, store.ErrVisitNotOpen)
	e.sameVisit("after refusals of a settled visit", e.visit(id), settled)
	e.sameDetails("details after refusals of a settled visit", e.details(id, ""), []store.FeeDetail{d1})

	reopened := v
	reopened.Generation, reopened.ReversedSettlementID = 1, "ST1"
	for _, what := range []string{"ReopenVisit", "ReopenVisit again (a retry)"} {
		got, err := vs.ReopenVisit(ctx, id, "ST1")
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		e.sameVisit(what, got, reopened)
	}
	_, err = vs.MarkVisitSettled(ctx, id, "ST1")
	wantErr(t, "MarkVisitSettled by the reversed settlement", err, store.ErrConflict)
	_, err = vs.ReopenVisit(ctx, id, "ST0")
	wantErr(t, "ReopenVisit for a settlement that never held it", err, store.ErrVisitNotOpen)
	e.sameVisit("after refusals of a reopened visit", e.visit(id), reopened)

	// Open again: details change, and the visit settles anew.
	d2 := detail(id, "B1", "2", "1", "1")
	e.put(id, d2)
	if n, err := vs.CancelFeeDetails(ctx, id, "", "1"); n != 1 || err != nil {
		t.Errorf("CancelFeeDetails after reopening: %d, %v", n, err)
	}
	e.sameDetails("details after reopening", e.details(id, ""), []store.FeeDetail{d2})
	again := reopened
	again.State, again.SettlementID = store.VisitSettled, "ST3"
	again.DetailsVersion = 3 // and the upload and cancellation after reopening
	got, err := vs.MarkVisitSettled(ctx, id, "ST3")
	if err != nil {
		t.Fatal(err)
	}
	e.sameVisit("MarkVisitSettled after reopening", got, again)
	_, err = vs.ReopenVisit(ctx, id, "ST1")
	wantErr(t, "ReopenVisit for the first settlement once settled by another", err, store.ErrVisitNotOpen)
	got, err = vs.ReopenVisit(ctx, id, "ST3")
	if err != nil {
		t.Fatal(err)
	}
	twice := v
	twice.Generation, twice.ReversedSettlementID, twice.DetailsVersion = 2, "ST3", 3
	e.sameVisit("the second ReopenVisit", got, twice)
	if got, err := vs.CancelVisit(ctx, id); err != nil || got.State != store.VisitCancelled || got.Generation != 2 {
		t.Errorf("CancelVisit of a reopened visit: %+v, %v", got, err)
	}

	for _, call := range []func() error{
		func() error { _, err := vs.MarkVisitSettled(ctx, "MDnone", "ST1"); return err },
		func() error { _, err := vs.ReopenVisit(ctx, "MDnone", "ST1"); return err },
	} {
		wantErr(t, "a transition of an unknown visit", call(), store.ErrNotFound)
	}
}

// testVisitDetailLimits fills a visit to MaxVisitDetails live lines and
// to MaxVisitDetailRows lines given, and checks the refusals beyond.
func testVisitDetailLimits(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	id := e.open(outpatientVisit("MZ1")).ID
	upload := func(round int) []store.FeeDetail {
		lines := make([]store.FeeDetail, store.MaxVisitDetails)
		for i := range lines {
			lines[i] = detail(id, "B", fmt.Sprintf("%d-%04d", round, i), "1", "0.01")
		}
		return lines
	}
	full := upload(0)
	e.put(id, full...)
	one := detail(id, "B", "extra", "1", "1")
	wantInvalid(t, "a line beyond MaxVisitDetails live lines", vs.PutFeeDetails(ctx, id, []store.FeeDetail{one}), "lines")
	e.put(id, full[17]) // a no-op still passes
	if got := e.details(id, ""); len(got) != store.MaxVisitDetails {
		t.Fatalf("%d live lines, want %d", len(got), store.MaxVisitDetails)
	}
	if _, err := vs.CancelFeeDetails(ctx, id, "", full[0].SN); err != nil {
		t.Fatal(err)
	}
	e.put(id, one)
	// Rows given, cancelled ones included, are bounded too.
	rounds := store.MaxVisitDetailRows / store.MaxVisitDetails
	for r := 1; r < rounds; r++ {
		if n, err := vs.CancelFeeDetails(ctx, id, "", ""); err != nil || n != store.MaxVisitDetails {
			t.Fatalf("round %d: cancelled %d, %v", r, n, err)
		}
		lines := upload(r)
		if r == rounds-1 {
			lines = lines[:len(lines)-1] // one line was uploaded alone above
		}
		e.put(id, lines...)
	}
	if _, err := vs.CancelFeeDetails(ctx, id, "", ""); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, "a line beyond MaxVisitDetailRows", vs.PutFeeDetails(ctx, id, []store.FeeDetail{one}), "lines")
	if got := e.details(id, ""); len(got) != 0 {
		t.Errorf("after the refusal: %d live lines", len(got))
	}
}

// testVisitsConcurrent runs visit calls from many goroutines at once:
// opening one number, uploading distinct SNs to one visit, uploading one
// SN with different content, settling one visit by different settlements,
// and reopening it.
func testVisitsConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs

	opened := make([]store.Visit, workers)
	errs := make([]error, workers)
	runWorkers(func(g int) {
		v := outpatientVisit("MZ-RACE")
		v.ID = fmt.Sprintf("MD-RACE-%02d", g)
		opened[g], errs[g] = vs.OpenVisit(ctx, v)
	})
	for g := range opened {
		if errs[g] != nil || opened[g].ID != opened[0].ID {
			t.Errorf("worker %d opened %q (%v), worker 0 %q", g, opened[g].ID, errs[g], opened[0].ID)
		}
	}
	id := opened[0].ID

	const perWorker = 12
	runWorkers(func(g int) {
		for k := 0; k < perWorker; k += 3 {
			lines := []store.FeeDetail{
				detail(id, fmt.Sprint(g%4), fmt.Sprintf("%02d-%02d", g, k), "1", "1"),
				detail(id, fmt.Sprint(g%4), fmt.Sprintf("%02d-%02d", g, k+1), "1", "1"),
				detail(id, fmt.Sprint(g%4), fmt.Sprintf("%02d-%02d", g, k+2), "1", "1"),
			}
			errs[g] = errors.Join(errs[g], vs.PutFeeDetails(ctx, id, lines))
		}
	})
	for g, err := range errs {
		if err != nil {
			t.Errorf("worker %d: PutFeeDetails: %v", g, err)
		}
	}
	got := e.details(id, "")
	if len(got) != workers*perWorker {
		t.Errorf("%d lines stored, want %d", len(got), workers*perWorker)
	}
	next := map[int]int{} // each worker's lines in its own order
	for _, d := range got {
		var g, k int
		if _, err := fmt.Sscanf(d.SN, "%d-%d", &g, &k); err != nil || k != next[g] {
			t.Errorf("line %s out of its worker's order (next %d)", d.SN, next[g])
			continue
		}
		next[g]++
	}

	// One SN with different content from every worker: one wins.
	wins := make([]bool, workers)
	runWorkers(func(g int) {
		err := vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "X", "contested", fmt.Sprint(g+1), "1")})
		switch {
		case err == nil:
			wins[g] = true
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("worker %d: contested upload: %v", g, err)
		}
	})
	if n := count(wins); n != 1 {
		t.Errorf("%d workers uploaded the contested SN, want 1", n)
	}
	if x := e.details(id, "X"); len(x) != 1 {
		t.Errorf("contested SN stored %d times", len(x))
	}

	// Settling by different settlements: exactly one wins, every other
	// call is refused; then parallel retries and reopenings.
	results := make([]store.Visit, workers)
	runWorkers(func(g int) {
		results[g], errs[g] = vs.MarkVisitSettled(ctx, id, fmt.Sprintf("ST-%02d", g))
		if errs[g] != nil && !errors.Is(errs[g], store.ErrVisitNotOpen) {
			t.Errorf("worker %d: MarkVisitSettled: %v", g, errs[g])
		}
	})
	winner := -1
	for g := range results {
		if errs[g] == nil {
			if winner >= 0 {
				t.Errorf("workers %d and %d both settled the visit", winner, g)
			}
			winner = g
		}
	}
	if winner < 0 {
		t.Fatal("no worker settled the visit")
	}
	st := fmt.Sprintf("ST-%02d", winner)
	if v := e.visit(id); v.State != store.VisitSettled || v.SettlementID != st {
		t.Fatalf("settled visit: %+v, want SETTLED by %s", v, st)
	}
	// Reopenings and uploads at once: every reopening answers the
	// reopened visit (generation 1); an upload lands if it comes after
	// the first reopening, and is refused as not open before.
	runWorkers(func(g int) {
		if g%2 == 0 {
			results[g], errs[g] = vs.ReopenVisit(ctx, id, st)
			return
		}
		errs[g] = vs.PutFeeDetails(ctx, id, []store.FeeDetail{detail(id, "Y", fmt.Sprint(g), "1", "1")})
		if errs[g] != nil && !errors.Is(errs[g], store.ErrVisitNotOpen) {
			t.Errorf("worker %d: PutFeeDetails while reopening: %v", g, errs[g])
		}
	})
	landed := map[string]bool{}
	for g := 0; g < workers; g++ {
		switch {
		case g%2 == 0 && (errs[g] != nil || results[g].Generation != 1 || results[g].ReversedSettlementID != st || results[g].State != store.VisitOpen):
			t.Errorf("worker %d: ReopenVisit: %+v, %v", g, results[g], errs[g])
		case g%2 == 1 && errs[g] == nil:
			landed[fmt.Sprint(g)] = true
		}
	}
	if v := e.visit(id); v.Generation != 1 || v.State != store.VisitOpen {
		t.Errorf("after parallel reopenings: %+v, want OPEN, generation 1", v)
	}
	y := e.details(id, "Y")
	if len(y) != len(landed) {
		t.Errorf("uploads while reopening: %d answered success, %d stored", len(landed), len(y))
	}
	for _, d := range y {
		if !landed[d.SN] {
			t.Errorf("line %s stored, its upload refused", d.SN)
		}
	}
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// testVisitKeysNotStorable asks for visits, batches and SNs by keys no
// store can hold (invalid UTF-8, a NUL): they name nothing, and no call
// fails otherwise; a settlement id or discharge record such as these is
// refused.
func testVisitKeysNotStorable(t *testing.T, newStore func(t *testing.T) store.Store) {
	e := newVisitEnv(t, newStore)
	ctx, vs := e.ctx, e.vs
	v := e.open(outpatientVisit("MZ1"))
	d := detail(v.ID, "B1", "1", "1", "1")
	e.put(v.ID, d)
	v.DetailsVersion = 1 // the upload
	for _, id := range []string{"MD\x00", "\xff", v.ID + "\x00", ""} {
		_, err := vs.GetVisit(ctx, id)
		wantErr(t, fmt.Sprintf("GetVisit(%q)", id), err, store.ErrNotFound)
		_, err = vs.CancelVisit(ctx, id)
		wantErr(t, fmt.Sprintf("CancelVisit(%q)", id), err, store.ErrNotFound)
		_, err = vs.MarkVisitSettled(ctx, id, "ST1")
		wantErr(t, fmt.Sprintf("MarkVisitSettled(%q)", id), err, store.ErrNotFound)
		_, err = vs.ReopenVisit(ctx, id, "ST1")
		wantErr(t, fmt.Sprintf("ReopenVisit(%q)", id), err, store.ErrNotFound)
		wantErr(t, fmt.Sprintf("RecordDischarge(%q)", id), vs.RecordDischarge(ctx, id, "{}"), store.ErrNotFound)
		wantErr(t, fmt.Sprintf("PutFeeDetails(%q)", id), vs.PutFeeDetails(ctx, id, []store.FeeDetail{d}), store.ErrNotFound)
		_, err = vs.CancelFeeDetails(ctx, id, "", "")
		wantErr(t, fmt.Sprintf("CancelFeeDetails(%q)", id), err, store.ErrNotFound)
		_, err = vs.FeeDetails(ctx, id, "")
		wantErr(t, fmt.Sprintf("FeeDetails(%q)", id), err, store.ErrNotFound)
	}
	for _, k := range []string{"B1\x00", "\xff", "\x00"} {
		if got, err := vs.FeeDetails(ctx, v.ID, k); err != nil || len(got) != 0 {
			t.Errorf("FeeDetails of batch %q: %v, %v; want none", k, sns(got), err)
		}
		for _, c := range [][2]string{{k, ""}, {"", k}, {"B1", k}} {
			if n, err := vs.CancelFeeDetails(ctx, v.ID, c[0], c[1]); n != 0 || err != nil {
				t.Errorf("CancelFeeDetails(%q, %q) = %d, %v; want 0", c[0], c[1], n, err)
			}
		}
	}
	for _, id := range []string{"ST\x00", "\xff", "ST\n1", strings.Repeat("S", engine.MaxIDLen+1)} {
		_, err := vs.MarkVisitSettled(ctx, v.ID, id)
		wantInvalid(t, fmt.Sprintf("MarkVisitSettled by %q", id), err, "settlement_id")
		_, err = vs.ReopenVisit(ctx, v.ID, id)
		wantInvalid(t, fmt.Sprintf("ReopenVisit for %q", id), err, "settlement_id")
	}
	wantInvalid(t, "RecordDischarge with a NUL", vs.RecordDischarge(ctx, v.ID, "{\x00}"), "discharge")
	e.sameVisit("after all this", e.visit(v.ID), v)
	e.sameDetails("details after all this", e.details(v.ID, ""), []store.FeeDetail{d})
}
