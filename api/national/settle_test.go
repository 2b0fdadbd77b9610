package national

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// outpatientInput is a 2206/2207 input for visit v of S1 (batch B1)
// with medfee_sumamt sum and extra fields (",\"k\":v" text).
func outpatientInput(v store.Visit, sum, extra string) string {
	return fmt.Sprintf(`{"data":{"psn_no":"%s","mdtrt_cert_type":"02","mdtrt_cert_no":"%s","med_type":"11","medfee_sumamt":%s,`+
		`"psn_setlway":"01","mdtrt_id":"%s","chrg_bchno":"B1","insutype":"310","acct_used_flag":"1","invono":"INV1"%s}}`,
		v.PersonID, v.PersonID, sum, v.ID, extra)
}

// s1Outpatient opens S1's outpatient visit at H1 with 450.00 of details:
// 100.00 of A1, 300.00 of B1 (10% pre self-pay), 50.00 of C1.
func (f *stFixture) s1Outpatient() store.Visit {
	return f.open("H1", "S1", store.VisitKindOutpatient, "11", "B1",
		line("A1", "2", "50", "100"), line("B1", "1", "300", "300"), line("C1", "1", "50", "50"))
}

// The figures of s1Outpatient: in scope 370 (100 + 270), 200 deductible,
// (370 − 200) × 50% = 85.00 from the pool; the personal 365.00 less 50.00
// out of scope from the account (315.00 of 1000.00), 50.00 cash.
const s1OutpatientFigures = `,"fulamt_ownpay_amt":50,"overlmt_selfpay":"0.00","preselfpay_amt":30.00,"inscp_scp_amt":"370"`

// TestOutpatientSettle: 2206 pre-settles and 2207 settles S1's outpatient
// visit; setlinfo and setldetail are exact, equal to what the gRPC API
// answers for the settlement, and the visit is SETTLED by it; a repeated
// 2207 (another msgid, a later time) answers the same settlement, byte
// for byte, and settles nothing more.
func TestOutpatientSettle(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	pre := f.ok("2206", outpatientInput(v, "450", ""))
	if got := field(t, pre, "setlinfo.setl_id"); got != `""` {
		t.Errorf("a pre-settlement's setl_id = %s, want empty", got)
	}
	if f.visit(v.ID).State != store.VisitOpen {
		t.Fatal("2206 changed the visit")
	}
	out := f.ok("2207", outpatientInput(v, "450.00", s1OutpatientFigures))
	settling := f.msgid
	setlID := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	want := `{"setlinfo":{"setl_id":"` + setlID + `","mdtrt_id":"` + v.ID + `","psn_no":"S1","psn_name":"赵六","psn_cert_type":"01",` +
		`"certno":"S1","gend":"","naty":"","brdy":"","age":0,"insutype":"310","psn_type":"","cvlserv_flag":"0",` +
		`"setl_time":"2025-03-04 13:06:07","mdtrt_cert_type":"02","med_type":"11","medfee_sumamt":450.00,"fulamt_ownpay_amt":50.00,` +
		`"overlmt_selfpay":0.00,"preselfpay_amt":30.00,"inscp_scp_amt":370.00,"act_pay_dedc":200.00,"hifp_pay":85.00,` +
		`"pool_prop_selfpay":0.5,"cvlserv_pay":0.00,"hifes_pay":0.00,"hifmi_pay":0.00,"hifob_pay":0.00,"maf_pay":0.00,"oth_pay":0.00,` +
		`"fund_pay_sumamt":85.00,"psn_part_amt":365.00,"acct_pay":315.00,"psn_cash_pay":50.00,"hosp_part_amt":0.00,"balc":685.00,` +
		`"acct_mulaid_pay":0.00,"medins_setl_id":"` + settling + `","clr_optins":"R1","clr_way":"01","clr_type":"11"},` +
		`"setldetail":[{"fund_pay_type":"310100","fund_pay_type_name":"职工基本医疗保险统筹基金","inscp_scp_amt":370.00,` +
		`"crt_payb_lmt_amt":400000.00,"fund_payamt":85.00,"setl_proc_info":"本次计入370.00元；起付线200.00元（本次起付线以下200.00元由个人支付）；` +
		`200.00–10000.00元部分170.00元按50%支付85.00元；年度最高支付限额400000.00元，本次前剩余400000.00元；合计支付85.00元。"}]}`
	if out != want {
		t.Fatalf("2207 answered\n%s\nwant\n%s", out, want)
	}
	// The pre-settlement computed the same figures, unrecorded.
	for _, k := range []string{"medfee_sumamt", "inscp_scp_amt", "hifp_pay", "acct_pay", "psn_cash_pay", "balc", "pool_prop_selfpay"} {
		if a, b := field(t, pre, "setlinfo."+k), field(t, out, "setlinfo."+k); a != b {
			t.Errorf("2206 %s = %s, 2207 %s", k, a, b)
		}
	}
	if a, b := field(t, pre, "setldetail"), field(t, out, "setldetail"); a != b {
		t.Errorf("2206 setldetail %s, 2207 %s", a, b)
	}
	f.sameAsGRPC(out, setlID)
	if got := f.visit(v.ID); got.State != store.VisitSettled || got.SettlementID != setlID {
		t.Fatalf("visit after 2207: %+v", got)
	}
	// A repeated 2207, later, with another msgid.
	f.clock.add(90 * time.Minute)
	before := f.state()
	again := f.ok("2207", outpatientInput(v, "450", ""))
	if again != out {
		t.Fatalf("the repeated 2207 answered\n%s\nthe first\n%s", again, out)
	}
	if after := f.state(); after != before {
		t.Fatalf("the repeated 2207 changed the state:\n%s\n%s", before, after)
	}
	// A pre-settlement of a settled visit is refused.
	if msg := f.refused("H1", "2206", outpatientInput(v, "450", "")); !strings.Contains(msg, "已结算") {
		t.Errorf("2206 of a settled visit: %s", msg)
	}
}

// sameAsGRPC asserts that an answer's figures are the gRPC API's for the
// same settlement, field by field.
func (f *stFixture) sameAsGRPC(out, id string) {
	f.t.Helper()
	s := f.grpcSettlement(id)
	b := s.GetBreakdown()
	for k, v := range map[string]string{"medfee_sumamt": b.GetTotal(), "fulamt_ownpay_amt": b.GetOutOfScope(),
		"overlmt_selfpay": b.GetOverLimit(), "preselfpay_amt": b.GetPreSelfPay(), "inscp_scp_amt": b.GetInScope(),
		"act_pay_dedc": b.GetDeductible(), "hifp_pay": b.GetBasicFund(), "hifmi_pay": b.GetCatastrophic(), "maf_pay": b.GetMedicalAid(),
		"fund_pay_sumamt": b.GetFundTotal(), "psn_part_amt": b.GetPersonalTotal(), "acct_pay": b.GetAccount(), "psn_cash_pay": b.GetCash()} {
		got := mon(field(f.t, out, "setlinfo."+k))
		if !got.Equal(mon(v)) {
			f.t.Errorf("setlinfo.%s = %s, the gRPC API says %s", k, got, v)
		}
	}
	// Each setldetail row pays what the fund's detail lines pay.
	// (medical aid's ceiling payment is medical aid's).
	paid := map[string]engine.Money{}
	for _, d := range s.GetDetails() {
		fund := d.GetFund().String()
		if fund == "FUND_AID_CEILING" {
			fund = "FUND_MEDICAL_AID"
		}
		paid[fund] = paid[fund].Add(mon(d.GetAmount()))
	}
	rows := map[string]string{"310100": "FUND_BASIC", "390100": "FUND_BASIC", "330100": "FUND_CATASTROPHIC", "390200": "FUND_CATASTROPHIC",
		"610100": "FUND_MEDICAL_AID"}
	for i := 0; ; i++ {
		code := field(f.t, out, fmt.Sprintf("setldetail.%d.fund_pay_type", i))
		if code == "null" {
			break
		}
		fund := rows[strings.Trim(code, `"`)]
		if got := mon(field(f.t, out, fmt.Sprintf("setldetail.%d.fund_payamt", i))); !got.Equal(paid[fund]) {
			f.t.Errorf("setldetail %s pays %s, the gRPC details of %s %s", code, got, fund, paid[fund])
		}
	}
}

// TestStalePreSettlementRefused: 2207 whose pre-settled figures are not
// what the server computes is refused and nothing is committed (no
// settlement, the visit OPEN, the accumulators and balance as they were);
// the same 2207 with the right figures then settles.
func TestStalePreSettlementRefused(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	for _, extra := range []string{
		`,"inscp_scp_amt":"371.00"`, `,"preselfpay_amt":0`, `,"fulamt_ownpay_amt":"0"`, `,"overlmt_selfpay":1`,
	} {
		msg := f.refused("H1", "2207", outpatientInput(v, "450", extra))
		if !strings.Contains(msg, "预结算结果已变化") {
			t.Errorf("%s: %s", extra, msg)
		}
	}
	msg := f.refused("H1", "2207", outpatientInput(v, "450", `,"inscp_scp_amt":"371.00"`))
	if want := "inscp_scp_amt 传入 371.00，本次结算为 370.00"; !strings.Contains(msg, want) {
		t.Errorf("err_msg %q does not say %q", msg, want)
	}
	// The catalog changes between 2206 and 2207: B1 becomes 20% self-pay.
	pre := f.ok("2206", outpatientInput(v, "450", ""))
	p := stPolicy(engine.SchemeEmployee)
	p.Version = "v2"
	p.Catalog[1].SelfPayRatio = engine.MustRatio("0.2")
	ctx := context.Background()
	old := stPolicy(engine.SchemeEmployee)
	old.EffectiveTo = engine.Date{Year: 2025, Month: 3, Day: 3}
	if err := f.st.PutPolicy(ctx, old.Index()); err != nil {
		t.Fatal(err)
	}
	p.EffectiveFrom = engine.Date{Year: 2025, Month: 3, Day: 4}
	if err := f.st.PutPolicy(ctx, p.Index()); err != nil {
		t.Fatal(err)
	}
	stale := fmt.Sprintf(`,"fulamt_ownpay_amt":%s,"overlmt_selfpay":%s,"preselfpay_amt":%s,"inscp_scp_amt":%s`,
		field(t, pre, "setlinfo.fulamt_ownpay_amt"), field(t, pre, "setlinfo.overlmt_selfpay"),
		field(t, pre, "setlinfo.preselfpay_amt"), field(t, pre, "setlinfo.inscp_scp_amt"))
	msg = f.refused("H1", "2207", outpatientInput(v, "450", stale))
	if want := "preselfpay_amt 传入 30.00，本次结算为 60.00"; !strings.Contains(msg, want) {
		t.Errorf("err_msg %q does not say %q", msg, want)
	}
	out := f.ok("2207", outpatientInput(v, "450", `,"preselfpay_amt":60,"inscp_scp_amt":340`))
	if got := field(t, out, "setlinfo.inscp_scp_amt"); got != "340.00" {
		t.Errorf("inscp_scp_amt %s, want 340.00", got)
	}
}

// TestSettleRefusals: every refusal of a settling transaction names the
// field and changes nothing.
func TestSettleRefusals(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	other := f.open("H2", "S1", store.VisitKindOutpatient, "11", "B1", line("A1", "1", "10", "10"))
	cancelled := f.open("H1", "S1", store.VisitKindOutpatient, "11", "B1", line("A1", "1", "10", "10"))
	if _, err := f.st.CancelVisit(context.Background(), cancelled.ID); err != nil {
		t.Fatal(err)
	}
	empty := f.open("H1", "S1", store.VisitKindOutpatient, "11", "B1")
	inpatient := f.open("H1", "S1", store.VisitKindInpatient, "21", "", line("A1", "1", "10", "10"))
	good := outpatientInput(v, "450", "")
	for _, c := range []struct {
		name, infno, input, want string
	}{
		{"medfee_sumamt not the details' sum", "2207", outpatientInput(v, "449.99", ""), "medfee_sumamt 449.99 与就诊"},
		{"medfee_sumamt missing", "2207", strings.Replace(good, `"medfee_sumamt":450,`, "", 1), "medfee_sumamt 缺失"},
		{"medfee_sumamt not money", "2206", outpatientInput(v, `"4.5.0"`, ""), "medfee_sumamt「4.5.0」不是金额"},
		{"a figure not money", "2207", outpatientInput(v, "450", `,"inscp_scp_amt":"-1"`), "inscp_scp_amt「-1」不是金额"},
		{"psn_setlway 02", "2207", strings.Replace(good, `"psn_setlway":"01"`, `"psn_setlway":"02"`, 1), "psn_setlway「02」不支持"},
		{"insutype not the person's", "2207", strings.Replace(good, `"insutype":"310"`, `"insutype":"390"`, 1), "insutype 390 不是人员 S1 的险种"},
		{"insutype unknown", "2206", strings.Replace(good, `"insutype":"310"`, `"insutype":"999"`, 1), "insutype「999」不支持"},
		{"med_type unsupported", "2207", strings.Replace(good, `"med_type":"11"`, `"med_type":"99"`, 1), "med_type「99」不支持"},
		{"med_type inpatient on 2207", "2207", strings.Replace(good, `"med_type":"11"`, `"med_type":"21"`, 1), "med_type「21」不支持门诊结算"},
		{"acct_used_flag 2", "2207", strings.Replace(good, `"acct_used_flag":"1"`, `"acct_used_flag":"2"`, 1), "acct_used_flag「2」"},
		{"chrg_bchno missing", "2207", strings.Replace(good, `"chrg_bchno":"B1",`, "", 1), "chrg_bchno 为空"},
		{"another batch", "2207", strings.Replace(good, `"chrg_bchno":"B1"`, `"chrg_bchno":"B9"`, 1), "收费批次 B9 没有未撤销的费用明细"},
		{"unknown person", "2207", strings.Replace(good, `"psn_no":"S1"`, `"psn_no":"S9"`, 1), "psn_no S9 不是就诊"},
		{"the visit's person is another", "2207", strings.Replace(good, `"psn_no":"S1"`, `"psn_no":"S2"`, 1), "psn_no S2 不是就诊"},
		{"unknown visit", "2207", strings.Replace(good, v.ID, "MD000", 1), "mdtrt_id MD000 不存在"},
		{"another institution's visit", "2207", outpatientInput(other, "10", ""), "不存在或不是本机构的就诊"},
		{"a cancelled visit", "2207", outpatientInput(cancelled, "10", ""), "已撤销"},
		{"no live details", "2207", outpatientInput(empty, "0", ""), "没有未撤销的费用明细"},
		{"an admission on 2207", "2207", outpatientInput(inpatient, "10", ""), "交易 2207 只办理门诊"},
		{"no data", "2207", `{}`, "input.data 缺失"},
		{"input not JSON", "2207", `[1,2]`, "input"},
		{"medfee_sumamt not a number", "2207", outpatientInput(v, "true", ""), "input.data.medfee_sumamt 类型不对"},
		{"psn_no not a string", "2207", strings.Replace(good, `"psn_no":"S1"`, `"psn_no":{}`, 1), "input.data.psn_no 类型不对"},
	} {
		msg := f.refused("H1", c.infno, c.input)
		if !strings.Contains(msg, c.want) {
			t.Errorf("%s: err_msg %q does not say %q", c.name, msg, c.want)
		}
	}
	f.ok("2207", good) // the visit still settles
}

// TestResidentWithMedicalAid: a resident on minimum living allowance
// settles S1's bill through the residents' funds: 390100 pays 85.00 and
// medical aid (610100) 70% of the 285.00 left in scope, 199.50, with its
// cap's room; no account.
func TestResidentWithMedicalAid(t *testing.T) {
	f := newStFixture(t)
	v := f.open("H1", "S3", store.VisitKindOutpatient, "11", "B1",
		line("A1", "2", "50", "100"), line("B1", "1", "300", "300"), line("C1", "1", "50", "50"))
	in := strings.Replace(outpatientInput(v, "450", ""), `"insutype":"310"`, `"insutype":"390"`, 1)
	out := f.ok("2207", in)
	for k, want := range map[string]string{
		"setlinfo.insutype": `"390"`, "setlinfo.hifp_pay": "85.00", "setlinfo.maf_pay": "199.50", "setlinfo.fund_pay_sumamt": "284.50",
		"setlinfo.acct_pay": "0.00", "setlinfo.psn_cash_pay": "165.50", "setlinfo.balc": "0.00",
		"setldetail.0.fund_pay_type": `"390100"`, "setldetail.0.fund_pay_type_name": `"城乡居民基本医疗保险基金"`,
		"setldetail.1.fund_pay_type": `"610100"`, "setldetail.1.fund_pay_type_name": `"医疗救助基金"`,
		"setldetail.1.inscp_scp_amt": "285.00", "setldetail.1.crt_payb_lmt_amt": "10000.00", "setldetail.1.fund_payamt": "199.50",
		"setldetail.1.setl_proc_info": `"本次计入285.00元；0.00元以上部分285.00元按70%支付199.50元；年度最高支付限额10000.00元，本次前剩余10000.00元；合计支付199.50元。"`,
		"setldetail.2":                "null",
	} {
		if got := field(t, out, k); got != want {
			t.Errorf("%s = %s, want %s", k, got, want)
		}
	}
	f.sameAsGRPC(out, strings.Trim(field(t, out, "setlinfo.setl_id"), `"`))
}

// TestEmptyFiguresAreUnset: a figure sent as "" (how many HIS clients leave
// it unset) is not checked, as an absent one is not; "0" is checked.
func TestEmptyFiguresAreUnset(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	if msg := f.refused("H1", "2207", outpatientInput(v, "450", `,"fulamt_ownpay_amt":"0"`)); !strings.Contains(msg, "fulamt_ownpay_amt 传入 0.00，本次结算为 50.00") {
		t.Fatalf("a stale 0 was not refused: %s", msg)
	}
	out := f.ok("2207", outpatientInput(v, "450", `,"fulamt_ownpay_amt":"","overlmt_selfpay":"","preselfpay_amt":"","inscp_scp_amt":""`))
	if got := field(t, out, "setlinfo.fulamt_ownpay_amt"); got != "50.00" {
		t.Errorf("fulamt_ownpay_amt %s, want 50.00", got)
	}
}
