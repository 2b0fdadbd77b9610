package national

import (
	"fmt"
	"strings"
	"testing"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// reversal is a 2208/2305 input.
func reversal(setlID string, v store.Visit) string {
	return fmt.Sprintf(`{"data":{"setl_id":"%s","mdtrt_id":"%s","psn_no":"%s"}}`, setlID, v.ID, v.PersonID)
}

// TestReverseOutpatient: 2208 answers the settlement's figures negated
// (balc the balance after the reversal), reopens the visit, and a retry
// answers the same reversal; the next 2207 settles anew with a new
// setl_id; a retry of the first reversal still answers it, before and
// after the second settlement is reversed too; a setl_id not the visit's
// is refused.
func TestReverseOutpatient(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	out := f.ok("2207", outpatientInput(v, "450", s1OutpatientFigures))
	settling := f.msgid
	first := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	rev := f.ok("2208", reversal(first, v))
	for k, want := range map[string]string{
		"setlinfo.medins_setl_id": `"` + settling + `"`,
		"setlinfo.setl_id":        `"` + first + `"`, "setlinfo.medfee_sumamt": "-450.00", "setlinfo.fulamt_ownpay_amt": "-50.00",
		"setlinfo.overlmt_selfpay": "0.00", "setlinfo.preselfpay_amt": "-30.00", "setlinfo.inscp_scp_amt": "-370.00",
		"setlinfo.act_pay_dedc": "-200.00", "setlinfo.hifp_pay": "-85.00", "setlinfo.fund_pay_sumamt": "-85.00",
		"setlinfo.psn_part_amt": "-365.00", "setlinfo.acct_pay": "-315.00", "setlinfo.psn_cash_pay": "-50.00",
		"setlinfo.balc": "1000.00", "setlinfo.pool_prop_selfpay": "0.5", "setlinfo.clr_type": `"11"`,
		"setldetail.0.fund_pay_type": `"310100"`, "setldetail.0.inscp_scp_amt": "-370.00", "setldetail.0.fund_payamt": "-85.00",
		"setldetail.0.crt_payb_lmt_amt": "400000.00", "setldetail.1": "null",
	} {
		if got := field(t, rev, k); got != want {
			t.Errorf("2208 %s = %s, want %s", k, got, want)
		}
	}
	if s := f.grpcSettlement(first); s.GetState() != pb.SettlementState_SETTLEMENT_STATE_REVERSED {
		t.Fatalf("the settlement is %v after 2208", s.GetState())
	}
	got := f.visit(v.ID)
	if got.State != store.VisitOpen || got.Generation != 1 || got.ReversedSettlementID != first {
		t.Fatalf("visit after 2208: %+v", got)
	}
	// A retry answers the first reversal and changes nothing.
	before := f.state()
	if again := f.ok("2208", reversal(first, v)); again != rev {
		t.Fatalf("the retried 2208 answered\n%s\nthe first\n%s", again, rev)
	}
	if after := f.state(); after != before {
		t.Fatalf("the retried 2208 changed the state")
	}
	// Settled anew: a new settlement with the same figures.
	out2 := f.ok("2207", outpatientInput(v, "450", s1OutpatientFigures))
	second := strings.Trim(field(t, out2, "setlinfo.setl_id"), `"`)
	if second == first {
		t.Fatal("the visit settled after its reversal answered the reversed settlement")
	}
	if got := field(t, out2, "setlinfo.hifp_pay"); got != "85.00" {
		t.Errorf("the new settlement pays %s, want 85.00", got)
	}
	f.sameAsGRPC(out2, second)
	// A retry of the first reversal still answers it (balc included: the
	// account paid the second settlement since), changing nothing; a
	// setl_id that is not the visit's is refused; the live one reverses.
	before = f.state()
	if again := f.ok("2208", reversal(first, v)); again != rev {
		t.Errorf("the first 2208 retried after a new settlement answered\n%s\nthe first\n%s", again, rev)
	}
	if after := f.state(); after != before {
		t.Fatalf("the retried 2208 changed the state")
	}
	if msg := f.refused("H1", "2208", reversal("ST0", v)); !strings.Contains(msg, "setl_id ST0 不是就诊") {
		t.Errorf("reversing a setl_id not the visit's: %s", msg)
	}
	rev2 := f.ok("2208", reversal(second, v))
	if again := f.ok("2208", reversal(first, v)); again != rev {
		t.Errorf("the first 2208 retried after the second reversal answered\n%s\nthe first\n%s", again, rev)
	}
	if again := f.ok("2208", reversal(second, v)); again != rev2 {
		t.Errorf("the second 2208 retried answered\n%s\nthe first\n%s", again, rev2)
	}
	if msg := f.refused("H1", "2208", reversal("ST0", v)); !strings.Contains(msg, "请勿重复撤销") {
		t.Errorf("reversing a setl_id not the visit's, the visit reopened: %s", msg)
	}
}

// TestReverseRefusals: 2208/2305 refusals name the field and change
// nothing.
func TestReverseRefusals(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	out := f.ok("2207", outpatientInput(v, "450", ""))
	id := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	open := f.open("H1", "S1", store.VisitKindOutpatient, "11", "B1", line("A1", "1", "10", "10"))
	for _, c := range []struct{ name, inst, infno, input, want string }{
		{"another institution", "H2", "2208", reversal(id, v), "不存在或不是本机构的就诊"},
		{"an outpatient visit on 2305", "H1", "2305", reversal(id, v), "交易 2305 只办理住院"},
		{"another person", "H1", "2208", strings.Replace(reversal(id, v), `"psn_no":"S1"`, `"psn_no":"S2"`, 1), "psn_no S2 不是就诊"},
		{"no setl_id", "H1", "2208", reversal("", v), "setl_id 为空"},
		{"a visit never settled", "H1", "2208", reversal(id, open), "尚未结算"},
		{"no data", "H1", "2208", `{"data":null}`, "input.data 缺失"},
	} {
		if msg := f.refused(c.inst, c.infno, c.input); !strings.Contains(msg, c.want) {
			t.Errorf("%s: err_msg %q does not say %q", c.name, msg, c.want)
		}
	}
}

// inpatientInput is a 2303/2304 input for admission v with medfee_sumamt
// sum and extra fields.
func inpatientInput(v store.Visit, sum, extra string) string {
	return fmt.Sprintf(`{"data":{"psn_no":"%s","mdtrt_cert_type":"02","mdtrt_cert_no":"%s","medfee_sumamt":"%s",`+
		`"psn_setlway":"01","mdtrt_id":"%s","insutype":"310","acct_used_flag":"1","mid_setl_flag":"0","invono":""%s}}`,
		v.PersonID, v.PersonID, sum, v.ID, extra)
}

// TestInpatientSettle: S1's admission (after an outpatient settlement of
// 85.00 from the same cap pool) settles with its exact figures: basic
// (14500 − 1000) × 85% = 11475.00, catastrophic (3025 − 1000) × 60% =
// 1215.00, the account's last 685.00; setldetail rows for 310100 and
// 330100 with what their caps still allowed; the grouper's known drg code
// is kept and an unknown one dropped; 2305 reverses it.
func TestInpatientSettle(t *testing.T) {
	f := newStFixture(t)
	op := f.s1Outpatient()
	f.ok("2207", outpatientInput(op, "450", ""))
	v := f.open("H1", "S1", store.VisitKindInpatient, "21", "", line("A1", "100", "100", "10000"), line("B1", "10", "500", "5000"))
	if msg := f.refused("H1", "2304", inpatientInput(v, "15000", `,"mid_setl_flag":"1"`)); !strings.Contains(msg, "mid_setl_flag 1") {
		t.Errorf("mid_setl_flag 1: %s", msg)
	}
	pre := f.ok("2303", inpatientInput(v, "15000", `,"expContent":"{\"drg_code\":\"ZZ99\"}"`))
	out := f.ok("2304", inpatientInput(v, "15000.00", `,"preselfpay_amt":500,"inscp_scp_amt":14500,"expContent":{"drg_code":"GB11"}`))
	id := strings.Trim(field(t, out, "setlinfo.setl_id"), `"`)
	for k, want := range map[string]string{
		"setlinfo.med_type": `"21"`, "setlinfo.clr_type": `"21"`, "setlinfo.medfee_sumamt": "15000.00",
		"setlinfo.inscp_scp_amt": "14500.00", "setlinfo.act_pay_dedc": "1000.00", "setlinfo.hifp_pay": "11475.00",
		"setlinfo.hifmi_pay": "1215.00", "setlinfo.fund_pay_sumamt": "12690.00", "setlinfo.psn_part_amt": "2310.00",
		"setlinfo.acct_pay": "685.00", "setlinfo.psn_cash_pay": "1625.00", "setlinfo.balc": "0.00", "setlinfo.pool_prop_selfpay": "0.85",
		"setldetail.0.fund_pay_type": `"310100"`, "setldetail.0.inscp_scp_amt": "14500.00", "setldetail.0.crt_payb_lmt_amt": "399915.00",
		"setldetail.0.fund_payamt":   "11475.00",
		"setldetail.1.fund_pay_type": `"330100"`, "setldetail.1.fund_pay_type_name": `"职工大额医疗费用补助"`,
		"setldetail.1.inscp_scp_amt": "3025.00", "setldetail.1.crt_payb_lmt_amt": "300000.00", "setldetail.1.fund_payamt": "1215.00",
		"setldetail.1.setl_proc_info": `"本次计入3025.00元；0.00–1000.00元部分1000.00元按0%支付0.00元；1000.00元以上部分2025.00元按60%支付1215.00元；` +
			`年度最高支付限额300000.00元，本次前剩余300000.00元；合计支付1215.00元。"`,
		"setldetail.2": "null",
	} {
		if got := field(t, out, k); got != want {
			t.Errorf("2304 %s = %s, want %s", k, got, want)
		}
	}
	for _, k := range []string{"setlinfo.hifp_pay", "setlinfo.hifmi_pay", "setlinfo.balc", "setldetail"} {
		if a, b := field(t, pre, k), field(t, out, k); a != b {
			t.Errorf("2303 %s = %s, 2304 %s", k, a, b)
		}
	}
	f.sameAsGRPC(out, id)
	if s := f.grpcSettlement(id); s.GetDrgCode() != "GB11" || s.GetVisitType() != pb.VisitType_VISIT_TYPE_INPATIENT {
		t.Errorf("settled with drg %q as %v", s.GetDrgCode(), s.GetVisitType())
	}
	rev := f.ok("2305", reversal(id, v))
	if got := field(t, rev, "setlinfo.balc"); got != "685.00" {
		t.Errorf("balance after 2305 = %s, want 685.00", got)
	}
	if got := field(t, rev, "setldetail.1.fund_payamt"); got != "-1215.00" {
		t.Errorf("2305 catastrophic row pays %s, want -1215.00", got)
	}
	// Settled anew with an unknown group: ungrouped, not refused.
	again := f.ok("2304", inpatientInput(v, "15000", `,"exp_content":{"drg_code":"ZZ99"}`))
	if s := f.grpcSettlement(strings.Trim(field(t, again, "setlinfo.setl_id"), `"`)); s.GetDrgCode() != "" {
		t.Errorf("an unknown drg code was settled as %q", s.GetDrgCode())
	}
}

// TestReconcile: 3201 agrees with the day's outpatient settlements of
// the scheme and says the server's figures when the HIS's differ;
// inpatient (21) counts none of them.
func TestReconcile(t *testing.T) {
	f := newStFixture(t)
	v := f.s1Outpatient()
	f.ok("2207", outpatientInput(v, "450", ""))
	input := func(insutype, clr, sum, fund, acct string, cnt int) string {
		return fmt.Sprintf(`{"data":{"insutype":"%s","clr_type":"%s","setl_optins":"R1","stmt_begndate":"2025-03-04",`+
			`"stmt_enddate":"2025-03-04 23:59:59","medfee_sumamt":%s,"fund_pay_sumamt":"%s","acct_pay":%s,"fixmedins_setl_cnt":%d}}`,
			insutype, clr, sum, fund, acct, cnt)
	}
	if got := f.ok("3201", input("310", "11", "450", "85", "315.00", 1)); got != `{"stmtinfo":{"setl_optins":"R1","stmt_rslt":"0","stmt_rslt_dscr":""}}` {
		t.Errorf("3201 agreeing: %s", got)
	}
	got := f.ok("3201", input("310", "11", "450", "85", "300", 1))
	want := `{"stmtinfo":{"setl_optins":"R1","stmt_rslt":"1","stmt_rslt_dscr":"对账不一致：中心结算 1 笔，医疗费总额 450.00 元，基金支付 85.00 元，个人账户支付 315.00 元；` +
		`机构上传 1 笔，医疗费总额 450.00 元，基金支付 85.00 元，个人账户支付 300.00 元"}}`
	if got != want {
		t.Errorf("3201 differing:\n%s\nwant\n%s", got, want)
	}
	if got := f.ok("3201", input("310", "21", "0", "0", "0", 0)); field(t, got, "stmtinfo.stmt_rslt") != `"0"` {
		t.Errorf("3201 inpatient: %s", got)
	}
	if got := f.ok("3201", input("390", "11", "0", "0", "0", 0)); field(t, got, "stmtinfo.stmt_rslt") != `"0"` {
		t.Errorf("3201 residents: %s", got)
	}
	for _, c := range []struct{ input, want string }{
		{input("999", "11", "0", "0", "0", 0), "insutype「999」不支持"},
		{input("310", "31", "0", "0", "0", 0), "clr_type「31」不支持"},
		{strings.Replace(input("310", "11", "0", "0", "0", 0), "2025-03-04\"", "2025-13-04\"", 1), "stmt_begndate「2025-13-04」不是日期"},
		{input("310", "11", "0", "0", "0", -1), "fixmedins_setl_cnt「-1」"},
		{input("310", "11", `"x"`, "0", "0", 0), "medfee_sumamt「x」不是金额"},
		{strings.Replace(input("310", "11", "0", "0", "0", 0), "2025-03-04 23:59:59", "2025-03-03", 1), "早于 stmt_begndate"},
	} {
		if msg := f.refused("H1", "3201", c.input); !strings.Contains(msg, c.want) {
			t.Errorf("3201 %s: err_msg %q does not say %q", c.input, msg, c.want)
		}
	}
}
