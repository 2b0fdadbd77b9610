package national

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// countingVisits counts the successful calls that change visits, so that a
// test can assert that a refusal changed nothing.
type countingVisits struct {
	store.VisitStore
	writes int
	opened map[string]bool
}

func (c *countingVisits) count(err error) error {
	if err == nil {
		c.writes++
	}
	return err
}

func (c *countingVisits) OpenVisit(ctx context.Context, v store.Visit) (store.Visit, error) {
	got, err := c.VisitStore.OpenVisit(ctx, v)
	if err == nil && !c.opened[got.ID] { // a retry answers a visit opened before
		c.opened[got.ID] = true
		c.writes++
	}
	return got, err
}

func (c *countingVisits) CancelVisit(ctx context.Context, id string) (store.Visit, error) {
	got, err := c.VisitStore.CancelVisit(ctx, id)
	return got, c.count(err)
}

func (c *countingVisits) RecordDischarge(ctx context.Context, id, record string) error {
	return c.count(c.VisitStore.RecordDischarge(ctx, id, record))
}

func (c *countingVisits) PutFeeDetails(ctx context.Context, id string, lines []store.FeeDetail) error {
	return c.count(c.VisitStore.PutFeeDetails(ctx, id, lines))
}

func (c *countingVisits) CancelFeeDetails(ctx context.Context, id, batch, sn string) (int, error) {
	n, err := c.VisitStore.CancelFeeDetails(ctx, id, batch, sn)
	return n, c.count(err)
}

// fixture is a gateway on a memstore with persons P1 (resident, R1), P2
// (employee, R1) and P3 (resident, R2, whose policy rejects unknown
// items), called as institution H1.
type fixture struct {
	t      *testing.T
	st     *memstore.Store
	visits *countingVisits
	g      *Gateway
}

func cap6(s string) *engine.Price { p := engine.MustPrice(s); return &p }

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	for _, p := range []engine.Person{
		{ID: "P1", Name: "张三", Region: "R1", Scheme: engine.SchemeResident},
		{ID: "P2", Name: "李四", Region: "R1", Scheme: engine.SchemeEmployee},
		{ID: "P3", Name: "王五", Region: "R2", Scheme: engine.SchemeResident},
	} {
		if err := st.PutPerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	catalog := []engine.CatalogEntry{
		{Code: "A1", Category: engine.ItemA, PriceCap: cap6("10.5")},
		{Code: "B1", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.1"), PriceCap: cap6("3.333333")},
		{Code: "B2", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.15")},
		{Code: "C1", Category: engine.ItemC, SelfPayRatio: engine.RatioOne},
	}
	from, to := engine.Date{Year: 2024, Month: 1, Day: 1}, engine.Date{Year: 2030, Month: 12, Day: 31}
	for _, p := range []*engine.Policy{
		{Region: "R1", Scheme: engine.SchemeResident, Version: "v1", EffectiveFrom: from, EffectiveTo: to, UnknownItem: engine.UnknownItemSelfPay, Catalog: catalog},
		{Region: "R1", Scheme: engine.SchemeEmployee, Version: "v1", EffectiveFrom: from, EffectiveTo: to, UnknownItem: engine.UnknownItemSelfPay, Catalog: catalog},
		{Region: "R2", Scheme: engine.SchemeResident, Version: "v1", EffectiveFrom: from, EffectiveTo: to, UnknownItem: engine.UnknownItemReject, Catalog: catalog},
	} {
		if err := st.PutPolicy(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	cv := &countingVisits{VisitStore: st, opened: map[string]bool{}}
	return &fixture{t: t, st: st, visits: cv, g: &Gateway{store: st, visits: cv}}
}

// call answers one transaction as institution inst, directly through its
// handler.
func (f *fixture) call(inst, infno, input string) (any, error) {
	f.t.Helper()
	h, ok := handlers[infno]
	if !ok {
		f.t.Fatalf("infno %s is not registered", infno)
	}
	c := &Call{Env: &Envelope{Infno: infno, Msgid: "M1", FixmedinsCode: "N" + inst},
		Cred: &Credential{FixmedinsCode: "N" + inst, InstitutionID: inst},
		Now:  time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}
	return h(context.Background(), f.g, c, json.RawMessage(input))
}

// ok calls and returns the output as JSON, failing on an error.
func (f *fixture) ok(inst, infno, input string) string {
	f.t.Helper()
	out, err := f.call(inst, infno, input)
	if err != nil {
		f.t.Fatalf("%s: %v", infno, err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

// refused calls, expects a Refusal containing every one of want, and
// checks that nothing was written.
func (f *fixture) refused(inst, infno, input string, want ...string) string {
	f.t.Helper()
	before := f.visits.writes
	out, err := f.call(inst, infno, input)
	var r *Refusal
	if !errors.As(err, &r) {
		f.t.Fatalf("%s: got %v, %v; want a refusal", infno, out, err)
	}
	for _, w := range want {
		if !strings.Contains(r.Msg, w) {
			f.t.Errorf("%s: refusal %q does not say %q", infno, r.Msg, w)
		}
	}
	if n := len([]rune(r.Msg)); n > maxErrMsg {
		f.t.Errorf("%s: refusal has %d characters: %q", infno, n, r.Msg)
	}
	if f.visits.writes != before {
		f.t.Errorf("%s: a refusal wrote to the visit store", infno)
	}
	return r.Msg
}

// visitState is a visit and its live lines, to compare before and after.
type visitState struct {
	V       store.Visit
	Details []store.FeeDetail
}

func (f *fixture) state(id string) visitState {
	f.t.Helper()
	v, err := f.st.GetVisit(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	d, err := f.st.FeeDetails(context.Background(), id, "")
	if err != nil {
		f.t.Fatal(err)
	}
	return visitState{v, d}
}

func (f *fixture) unchanged(id string, before visitState) {
	f.t.Helper()
	if after := f.state(id); !reflect.DeepEqual(before, after) {
		f.t.Errorf("visit %s changed:\nbefore %+v\nafter  %+v", id, before, after)
	}
}

// mdtrtID reads the mdtrt_id out of a 2201 or 2401 answer.
func mdtrtID(t *testing.T, out string) string {
	t.Helper()
	var o struct {
		Data struct {
			MdtrtID string `json:"mdtrt_id"`
		} `json:"data"`
		Result struct {
			MdtrtID string `json:"mdtrt_id"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	id := o.Data.MdtrtID + o.Result.MdtrtID
	if !strings.HasPrefix(id, "MD") {
		t.Fatalf("no mdtrt_id in %s", out)
	}
	return id
}

const open2201 = `{"data":{"psn_no":"P1","insutype":"390","begntime":"2025-03-04 08:00:00","mdtrt_cert_type":"02","mdtrt_cert_no":"P1","ipt_otp_no":"OP-1","atddr_no":"D1","dr_name":"医生","dept_code":"K1","dept_name":"内科","caty":"A03"}}`

// open opens P1's outpatient visit OP-1 at H1.
func (f *fixture) open() string {
	f.t.Helper()
	return mdtrtID(f.t, f.ok("H1", "2201", open2201))
}

const admit2401 = `{"mdtrtinfo":{"psn_no":"P1","insutype":"390","coner_name":"x","begntime":"20250304080000","mdtrt_cert_type":"02","mdtrt_cert_no":"P1","med_type":"21","ipt_no":"IP-1","geso_val":null,"expContent":""},"diseinfo":[{"psn_no":"P1","diag_type":"1","diag_code":"J18.9"}]}`

// admit admits P1 as IP-1 at H1.
func (f *fixture) admit() string {
	f.t.Helper()
	return mdtrtID(f.t, f.ok("H1", "2401", admit2401))
}

func TestOutpatientOpen(t *testing.T) {
	f := newFixture(t)
	out := f.ok("H1", "2201", open2201)
	id := mdtrtID(t, out)
	if want := `{"data":{"ipt_otp_no":"OP-1","mdtrt_id":"` + id + `","psn_no":"P1"}}`; out != want {
		t.Errorf("2201 answered %s, want %s", out, want)
	}
	v := f.state(id).V
	want := store.Visit{ID: id, InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindOutpatient, Number: "OP-1",
		Scheme: engine.SchemeResident, MedType: "11", Begin: "2025-03-04 08:00:00", State: store.VisitOpen, OpenedAt: v.OpenedAt}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("stored %+v, want %+v", v, want)
	}
	// A retry answers the same visit, whatever else it says.
	if again := f.ok("H1", "2201", strings.Replace(open2201, "08:00:00", "09:00:00", 1)); again != out {
		t.Errorf("retry answered %s, want %s", again, out)
	}
	// Another institution's number OP-1 is another visit.
	if other := mdtrtID(t, f.ok("H2", "2201", open2201)); other == id {
		t.Errorf("H2's OP-1 is H1's visit %s", id)
	}
	// med_type, when sent, is kept; 14 is chronic outpatient care.
	id14 := mdtrtID(t, f.ok("H1", "2201", strings.Replace(open2201, `"ipt_otp_no":"OP-1"`, `"ipt_otp_no":"OP-2","med_type":"14"`, 1)))
	if mt := f.state(id14).V.MedType; mt != "14" {
		t.Errorf("med_type stored %q, want 14", mt)
	}
	// The yyyyMMddHHmmss form is accepted too; a number as psn_no is read as its text.
	f.ok("H1", "2201", `{"data":{"psn_no":"P2","insutype":310,"begntime":"20250304080000","ipt_otp_no":"OP-3"}}`)
}

func TestOutpatientOpenRefusals(t *testing.T) {
	f := newFixture(t)
	with := func(old, new string) string { return strings.Replace(open2201, old, new, 1) }
	f.refused("H1", "2201", with(`"psn_no":"P1"`, `"psn_no":"P9"`), "psn_no P9 不存在", "1101")
	if msg := f.refused("H1", "2201", with(`"insutype":"390"`, `"insutype":"310"`)); msg != "insutype 310 不是人员 P1 的险种（其 insutype 为 390），请按 1101 返回的 insutype 传入" {
		t.Errorf("insutype refused with %q", msg)
	}
	if msg := f.refused("H1", "2201", with(`"psn_no":"P1"`, `"psn_no":"P9"`)); msg != "psn_no P9 不存在，请先用 1101 查询人员并传入其 psn_no" {
		t.Errorf("unknown person refused with %q", msg)
	}
	f.refused("H1", "2201", with(`"insutype":"390"`, `"insutype":"320"`), "insutype「320」不支持")
	f.refused("H1", "2201", with(`"ipt_otp_no":"OP-1"`, `"ipt_otp_no":"OP-1","med_type":"21"`), "med_type「21」不支持门诊挂号", "2401")
	f.refused("H1", "2201", with(`"ipt_otp_no":"OP-1"`, `"ipt_otp_no":"OP-1","med_type":"99"`), "med_type「99」")
	f.refused("H1", "2201", with(`"ipt_otp_no":"OP-1"`, `"ipt_otp_no":""`), "ipt_otp_no 为空")
	f.refused("H1", "2201", with(`"ipt_otp_no":"OP-1"`, `"ipt_otp_no":"`+strings.Repeat("9", 65)+`"`), "ipt_otp_no 须为 1 至 64 个字符")
	f.refused("H1", "2201", with(`"begntime":"2025-03-04 08:00:00"`, `"begntime":"2025/03/04"`), "begntime「2025/03/04」不是日期时间")
	f.refused("H1", "2201", `{"data":{"psn_no":{"x":1}}}`, "input")
	f.refused("H1", "2201", `{}`, "input.data 缺失")
	f.refused("H1", "2201", `null`, "input 为空")
	f.refused("H1", "2201", `[1,2]`, "input")

	id := f.open()
	// OP-1 again for another person: the number is taken.
	f.refused("H1", "2201", with(`"psn_no":"P1","insutype":"390"`, `"psn_no":"P2","insutype":"310"`), "ipt_otp_no OP-1 已用于另一人员的就诊 "+id)
	// A cancelled visit's number cannot open it again.
	f.ok("H1", "2202", `{"data":{"psn_no":"P1","mdtrt_id":"`+id+`","ipt_otp_no":"OP-1"}}`)
	f.refused("H1", "2201", open2201, "就诊 "+id+" 已撤销", "新的 ipt_otp_no")
}

func TestOutpatientCancel(t *testing.T) {
	f := newFixture(t)
	id := f.open()
	in := `{"data":{"psn_no":"P1","mdtrt_id":"` + id + `","ipt_otp_no":"OP-1"}}`
	before := f.state(id)
	if msg := f.refused("H2", "2202", in); msg != "mdtrt_id "+id+" 不存在或不是本机构的就诊，请核对 mdtrt_id" {
		t.Errorf("another institution's visit refused with %q", msg)
	}
	f.refused("H1", "2202", strings.Replace(in, `"P1"`, `"P2"`, 1), "psn_no P2 不是就诊 "+id+" 的人员")
	f.refused("H1", "2202", strings.Replace(in, `"OP-1"`, `"OP-9"`, 1), "ipt_otp_no OP-9 不是就诊")
	f.refused("H1", "2202", strings.Replace(in, id, "MD0000000000000000000000000000", 1), "mdtrt_id MD0000000000000000000000000000 不存在")
	f.refused("H1", "2404", `{"data":{"psn_no":"P1","mdtrt_id":"`+id+`"}}`, "是门诊（2201）就诊，交易 2404 只办理住院（2401）就诊")
	f.unchanged(id, before)

	if out := f.ok("H1", "2202", in); out != `{}` {
		t.Errorf("2202 answered %s, want {}", out)
	}
	if st := f.state(id).V.State; st != store.VisitCancelled {
		t.Errorf("state %v after 2202, want CANCELLED", st)
	}
	// A retry answers success again and changes nothing.
	writes := f.visits.writes
	if out := f.ok("H1", "2202", in); out != `{}` || f.visits.writes != writes {
		t.Errorf("retry answered %s with %d writes", out, f.visits.writes-writes)
	}
}

func TestCancelSettledVisit(t *testing.T) {
	f := newFixture(t)
	id := f.open()
	if _, err := f.st.MarkVisitSettled(context.Background(), id, "ST1"); err != nil {
		t.Fatal(err)
	}
	before := f.state(id)
	f.refused("H1", "2202", `{"data":{"psn_no":"P1","mdtrt_id":"`+id+`"}}`, "就诊 "+id+" 已结算（setl_id ST1）", "先冲正结算（2208/2305）")
	f.unchanged(id, before)

	aid := f.admit()
	if _, err := f.st.MarkVisitSettled(context.Background(), aid, "ST2"); err != nil {
		t.Fatal(err)
	}
	before = f.state(aid)
	f.refused("H1", "2404", `{"data":{"psn_no":"P1","mdtrt_id":"`+aid+`"}}`, "已结算（setl_id ST2）")
	f.unchanged(aid, before)
}

func TestAdmission(t *testing.T) {
	f := newFixture(t)
	out := f.ok("H1", "2401", admit2401)
	id := mdtrtID(t, out)
	if want := `{"result":{"mdtrt_id":"` + id + `"}}`; out != want {
		t.Errorf("2401 answered %s, want %s", out, want)
	}
	v := f.state(id).V
	want := store.Visit{ID: id, InstitutionID: "H1", PersonID: "P1", Kind: store.VisitKindInpatient, Number: "IP-1",
		Scheme: engine.SchemeResident, MedType: "21", Begin: "20250304080000", State: store.VisitOpen, OpenedAt: v.OpenedAt}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("stored %+v, want %+v", v, want)
	}
	if again := f.ok("H1", "2401", admit2401); again != out {
		t.Errorf("retry answered %s, want %s", again, out)
	}
	// The same number as an outpatient number is another visit.
	if o := mdtrtID(t, f.ok("H1", "2201", strings.Replace(open2201, "OP-1", "IP-1", 1))); o == id {
		t.Error("outpatient IP-1 answered the admission")
	}

	with := func(old, new string) string { return strings.Replace(admit2401, old, new, 1) }
	f.refused("H1", "2401", with(`"med_type":"21"`, `"med_type":"11"`), "med_type「11」不支持入院办理")
	f.refused("H1", "2401", with(`"med_type":"21"`, `"med_type":"25"`), "med_type「25」不支持入院办理")
	f.refused("H1", "2401", with(`,"med_type":"21"`, ``), "med_type「」不支持")
	f.refused("H1", "2401", with(`"insutype":"390"`, `"insutype":"310"`), "insutype 310 不是人员 P1 的险种")
	f.refused("H1", "2401", with(`"psn_no":"P1"`, `"psn_no":"P404"`), "psn_no P404 不存在")
	f.refused("H1", "2401", with(`"ipt_no":"IP-1"`, `"ipt_no":null`), "ipt_no 为空")
	f.refused("H1", "2401", `{"diseinfo":[]}`, "input.mdtrtinfo 缺失")
}

func TestAdmissionCancel(t *testing.T) {
	f := newFixture(t)
	id := f.admit()
	in := `{"data":{"mdtrt_id":"` + id + `","psn_no":"P1"}}`
	before := f.state(id)
	f.refused("H2", "2404", in, "不存在或不是本机构的就诊")
	f.refused("H1", "2202", in, "是住院（2401）就诊，交易 2202 只办理门诊（2201）就诊")
	f.unchanged(id, before)
	if out := f.ok("H1", "2404", in); out != `{}` {
		t.Errorf("2404 answered %s", out)
	}
	if st := f.state(id).V.State; st != store.VisitCancelled {
		t.Errorf("state %v, want CANCELLED", st)
	}
	f.ok("H1", "2404", in) // a retry
	// A cancelled admission takes no discharge.
	f.refused("H1", "2402", `{"dscginfo":{"mdtrt_id":"`+id+`","psn_no":"P1","insutype":"390","endtime":"2025-03-09 10:00:00"}}`, "就诊 "+id+" 已撤销，不能办理出院")
}

func TestDischarge(t *testing.T) {
	f := newFixture(t)
	id := f.admit()
	dscg := `{"mdtrt_id":"` + id + `","psn_no":"P1","insutype":"390","endtime":"2025-03-09 10:00:00","dscg_way":"1","fetts":null}`
	in := `{"dscginfo": ` + strings.ReplaceAll(dscg, `,"`, `, "`) + `,"diseinfo":[{"diag_code":"J18.9","diag_srt_no":1}]}`
	if out := f.ok("H1", "2402", in); out != `{}` {
		t.Errorf("2402 answered %s", out)
	}
	if got := f.state(id).V.Discharge; got != dscg {
		t.Errorf("recorded %q, want %q", got, dscg)
	}
	before := f.state(id)
	f.refused("H1", "2402", strings.Replace(in, `"insutype":"390"`, `"insutype":"310"`, 1), "insutype 310 不是就诊 "+id+" 的险种（390）")
	f.refused("H1", "2402", strings.Replace(in, `"endtime":"2025-03-09 10:00:00"`, `"endtime":"明天"`, 1), "endtime「明天」不是日期时间")
	f.refused("H2", "2402", in, "不存在或不是本机构的就诊")
	f.refused("H1", "2402", `{"dscginfo":"x"}`, "dscginfo 不是出院信息对象")
	f.refused("H1", "2402", `{"diseinfo":[]}`, "input.dscginfo 缺失")
	f.refused("H1", "2402", `{"dscginfo":{"mdtrt_id":"`+id+`","psn_no":"P1","endtime":"2025-03-09 10:00:00","memo":"`+strings.Repeat("x", store.MaxDischargeLen)+`"}}`, "dscginfo 超过 65536 字节")
	oid := f.open()
	f.refused("H1", "2402", `{"dscginfo":{"mdtrt_id":"`+oid+`","psn_no":"P1","endtime":"2025-03-09 10:00:00"}}`, "交易 2402 只办理住院")
	f.unchanged(id, before)

	// A settled admission still takes its discharge record (the last wins).
	if _, err := f.st.MarkVisitSettled(context.Background(), id, "ST1"); err != nil {
		t.Fatal(err)
	}
	f.ok("H1", "2402", `{"dscginfo":{"mdtrt_id":"`+id+`","psn_no":"P1","endtime":"20250310100000"}}`)
	if got := f.state(id).V.Discharge; got != `{"mdtrt_id":"`+id+`","psn_no":"P1","endtime":"20250310100000"}` {
		t.Errorf("recorded %q", got)
	}
}
