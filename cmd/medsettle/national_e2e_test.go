package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// feeLine is one fee detail of a claim, as the HIS sends it and as the
// same claim's LineItem reaches the gRPC API.
type feeLine struct {
	code, name, cnt, pric, amt string
}

// hisCase is one visit of the end-to-end test.
type hisCase struct {
	name      string
	fixmedins string // the institution's national code (examples/national-config.json)
	inst      string // its institution_id
	person    string
	insutype  string
	medType   string
	inpatient bool
	lines     []feeLine
}

var (
	// outpatientCase: resident K1 at BJ-H3; a six-decimal price and a
	// fractional count.
	outpatientCase = hisCase{name: "outpatient", fixmedins: "H61030000003", inst: "BJ-H3", person: "K1", insutype: "390", medType: "11",
		lines: []feeLine{
			{"A-DRUG", "阿莫西林胶囊", "2.5", "10.123456", "25.31"},
			{"B-DRUG", "头孢克肟片", "3", "7.5", "22.50"},
			{"A-BED", "观察床位费", "1", "80", "80.00"},
			{"C-VIP", "特需门诊", "1", "200", "200.00"},
		}}
	// inpatientCase: employee E1 at QZ-H3; a six-decimal price over the
	// catalog's cap and a fractional count.
	inpatientCase = hisCase{name: "inpatient", fixmedins: "H35050000003", inst: "QZ-H3", person: "E1", insutype: "310", medType: "21", inpatient: true,
		lines: []feeLine{
			{"A-BED", "普通床位费", "10", "80", "800.00"},
			{"A-SURG", "腹腔镜胆囊切除术", "1", "7200", "7200.00"},
			{"A-DRUG", "注射用头孢曲松钠", "40", "15.123456", "604.94"},
			{"B-DRUG", "布洛芬缓释胶囊", "33.3333", "7.5", "250.00"},
			{"B-STENT", "冠脉支架", "1", "9800", "9800.00"},
		}}
)

// settleOutput is 2206/2207/2303/2304/2208/2305's output with every
// figure as the JSON text the gateway wrote.
type settleOutput struct {
	Setlinfo   map[string]json.RawMessage   `json:"setlinfo"`
	Setldetail []map[string]json.RawMessage `json:"setldetail"`
}

func (o settleOutput) str(t *testing.T, field string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(o.Setlinfo[field], &s); err != nil {
		t.Fatalf("setlinfo.%s = %s: not a string", field, o.Setlinfo[field])
	}
	return s
}

// neg is an amount's text negated.
func neg(s string) string {
	switch {
	case s == "0.00":
		return s
	case s[0] == '-':
		return s[1:]
	}
	return "-" + s
}

// sameFigures asserts that every amount of out equals the breakdown's
// (negated when sign is -1), that the amounts with no figure are 0.00,
// and that setldetail lists exactly the funds that paid with the
// breakdown's figures.
func sameFigures(t *testing.T, what string, out settleOutput, b *pb.Breakdown, sign int) {
	t.Helper()
	f := func(s string) string {
		if sign < 0 {
			return neg(s)
		}
		return s
	}
	for _, p := range modelAmounts { // GATEWAY.md's mapping, national_model_test.go
		if p.get == nil {
			if got := string(out.Setlinfo[p.field]); got != "0.00" {
				t.Errorf("%s: setlinfo.%s = %s, want 0.00", what, p.field, got)
			}
		} else if got, want := string(out.Setlinfo[p.field]), f(p.get(b)); got != want {
			t.Errorf("%s: setlinfo.%s = %s, the gRPC API answers %s", what, p.field, got, want)
		}
	}
	var want []string
	for _, fund := range []string{b.GetBasicFund(), b.GetCatastrophic(), b.GetMedicalAid()} {
		if engine.MustMoney(fund).IsPositive() {
			want = append(want, f(fund))
		}
	}
	var got []string
	for _, d := range out.Setldetail {
		got = append(got, string(d["fund_payamt"]))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: setldetail fund_payamt %v, the gRPC breakdown's funds %v", what, got, want)
	}
}

// feedetail is the upload of c's lines to visit mdtrtID in batch bchno,
// numbers as JSON numbers.
func (c hisCase) feedetail(mdtrtID, bchno, day string) map[string]any {
	var rows []map[string]any
	for i, l := range c.lines {
		row := map[string]any{
			"feedetl_sn": fmt.Sprintf("%s%04d", bchno, i+1), "mdtrt_id": mdtrtID, "psn_no": c.person,
			"med_type": c.medType, "fee_ocur_time": day + " 09:30:00", "med_list_codg": l.code, "medins_list_codg": l.name,
			"det_item_fee_sumamt": json.Number(l.amt), "cnt": json.Number(l.cnt), "pric": json.Number(l.pric),
			"bilg_dept_codg": "A03", "bilg_dept_name": "内科", "bilg_dr_codg": "D001", "bilg_dr_name": "王医生",
			"hosp_appr_flag": "1", "rxno": "", "rx_circ_flag": "0", "sin_dos_dscr": "", "used_frqu_dscr": "",
			"prd_days": json.Number("1"), "medc_way_dscr": "", "tcmdrug_used_way": "", "etip_flag": "0", "dscg_tkdrug_flag": "0",
		}
		if !c.inpatient {
			row["chrg_bchno"] = bchno
		}
		rows = append(rows, row)
	}
	return map[string]any{"feedetail": rows}
}

// items are c's lines as the gRPC API's line items.
func (c hisCase) items() []*pb.LineItem {
	var out []*pb.LineItem
	for _, l := range c.lines {
		out = append(out, &pb.LineItem{Code: l.code, Name: l.name, Quantity: l.cnt, UnitPrice: l.pric, Amount: l.amt})
	}
	return out
}

func (c hisCase) visitType() pb.VisitType {
	if c.inpatient {
		return pb.VisitType_VISIT_TYPE_INPATIENT
	}
	return pb.VisitType_VISIT_TYPE_OUTPATIENT
}

// sum is the claim's total.
func (c hisCase) sum() string {
	var s engine.Money
	for _, l := range c.lines {
		s = s.Add(engine.MustMoney(l.amt))
	}
	return s.String()
}

// TestNationalEndToEnd runs an outpatient and an inpatient visit through
// the gateway as a public HIS client does, on both stores: sign in,
// person, visit, upload, pre-settle, settle, retry, reverse, retry, settle
// again, reconcile; every figure equals the gRPC API's for the same claim.
func TestNationalEndToEnd(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string) {
		s := serveGatewayDemo(t, dbURL)
		for _, c := range []hisCase{outpatientCase, inpatientCase} {
			t.Run(c.name, func(t *testing.T) { runHISCase(t, s, c) })
		}
	})
}

func runHISCase(t *testing.T, s *gatewayDemo, c hisCase) {
	ctx := context.Background()
	his := s.his(t, c.fixmedins, nil)
	if c.inpatient {
		// Clients vary: the Guangdong path style (…/<infno>) and inf_time
		// as yyyyMMddHHmmss.
		his.path, his.infTimeLayout = "", "20060102150405"
	}
	today := time.Now().In(shanghaiTZ).Format(time.DateOnly)

	var signin struct {
		Signinoutb struct {
			SignTime string `json:"sign_time"`
			SignNo   string `json:"sign_no"`
		} `json:"signinoutb"`
	}
	his.ok("9001", map[string]any{"signIn": map[string]string{"opter_no": "0001", "mac": "00-16-3E-12-34-56", "ip": "10.1.2.3"}}, &signin)
	if signin.Signinoutb.SignNo == "" {
		t.Fatal("9001 answered no sign_no")
	}

	var person struct {
		Baseinfo struct {
			PsnNo   string `json:"psn_no"`
			PsnName string `json:"psn_name"`
		} `json:"baseinfo"`
		Insuinfo []struct {
			Insutype string      `json:"insutype"`
			Balc     json.Number `json:"balc"`
		} `json:"insuinfo"`
	}
	his.ok("1101", map[string]any{"data": map[string]string{"mdtrt_cert_type": "02", "mdtrt_cert_no": c.person, "card_sn": "",
		"begntime": today + " 08:00:00", "psn_cert_type": "01", "certno": c.person, "psn_name": ""}}, &person)
	if person.Baseinfo.PsnNo != c.person || len(person.Insuinfo) != 1 || person.Insuinfo[0].Insutype != c.insutype {
		t.Fatalf("1101 answered %+v", person)
	}

	mdtrtID := openHISVisit(t, his, c, today)
	bchno := "CB" + time.Now().Format("150405")
	var upload struct {
		Result []struct {
			FeedetlSn        string      `json:"feedetl_sn"`
			DetItemFeeSumamt json.Number `json:"det_item_fee_sumamt"`
			Pric             json.Number `json:"pric"`
			Cnt              json.Number `json:"cnt"`
		} `json:"result"`
	}
	uploadInfno := map[bool]string{false: "2204", true: "2301"}[c.inpatient]
	his.ok(uploadInfno, c.feedetail(mdtrtID, bchno, today), &upload)
	if len(upload.Result) != len(c.lines) {
		t.Fatalf("%s answered %d lines, want %d", uploadInfno, len(upload.Result), len(c.lines))
	}
	for i, r := range upload.Result {
		if string(r.DetItemFeeSumamt) != c.lines[i].amt || !engine.MustPrice(string(r.Pric)).Equal(engine.MustPrice(c.lines[i].pric)) {
			t.Errorf("%s line %d: %+v, want amount %s price %s", uploadInfno, i, r, c.lines[i].amt, c.lines[i].pric)
		}
	}

	data := map[string]any{"psn_no": c.person, "mdtrt_cert_type": "02", "mdtrt_cert_no": c.person,
		"medfee_sumamt": json.Number(c.sum()), "psn_setlway": "01", "mdtrt_id": mdtrtID, "insutype": c.insutype,
		"acct_used_flag": "0", "invono": "", "mid_setl_flag": "0"}
	if !c.inpatient {
		data["med_type"], data["chrg_bchno"] = c.medType, bchno
		delete(data, "mid_setl_flag")
	}
	pre, setl, rev := "2206", "2207", "2208"
	if c.inpatient {
		pre, setl, rev = "2303", "2304", "2305"
	}
	var preOut settleOutput
	his.ok(pre, map[string]any{"data": data}, &preOut)
	want, err := s.grpc.PreSettle(ctx, &pb.SettleRequest{RequestId: "cmp-" + mdtrtID, InstitutionId: c.inst, PersonId: c.person,
		VisitType: c.visitType(), SettleDate: today, Items: c.items()})
	if err != nil {
		t.Fatal(err)
	}
	sameFigures(t, pre, preOut, want.GetSettlement().GetBreakdown(), 1)

	for _, f := range []string{"fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"} {
		data[f] = json.Number(preOut.Setlinfo[f])
	}
	var first settleOutput
	a1 := his.ok(setl, map[string]any{"data": data}, &first)
	settleMsgid := his.lastMsgid
	setlID := first.str(t, "setl_id")
	got, err := s.grpc.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: setlID})
	if err != nil {
		t.Fatal(err)
	}
	if got.GetSettlement().GetState() != pb.SettlementState_SETTLEMENT_STATE_SETTLED || got.GetSettlement().GetPersonId() != c.person ||
		got.GetSettlement().GetInstitutionId() != c.inst || got.GetSettlement().GetVisitType() != c.visitType() {
		t.Fatalf("GetSettlement(%s) = %v", setlID, got.GetSettlement())
	}
	sameFigures(t, setl, first, got.GetSettlement().GetBreakdown(), 1)
	sameFigures(t, setl+" against "+pre, first, want.GetSettlement().GetBreakdown(), 1)
	if first.str(t, "medins_setl_id") != settleMsgid || first.str(t, "mdtrt_id") != mdtrtID || first.str(t, "insutype") != c.insutype {
		t.Errorf("%s setlinfo ids: %s", setl, a1.Output)
	}
	for i, it := range got.GetSettlement().GetItems() {
		if it.GetAmount() != c.lines[i].amt || !engine.MustPrice(it.GetUnitPrice()).Equal(engine.MustPrice(c.lines[i].pric)) {
			t.Errorf("settled item %d: %v, want %+v", i, it, c.lines[i])
		}
	}

	// A retry (a new msgid, as a HIS that lost the answer sends) answers
	// the same settlement.
	a2 := his.ok(setl, map[string]any{"data": data}, nil)
	if string(a2.Output) != string(a1.Output) {
		t.Errorf("%s retried answered\n%s\nnot\n%s", setl, a2.Output, a1.Output)
	}

	var reversal settleOutput
	r1 := his.ok(rev, map[string]any{"data": map[string]string{"setl_id": setlID, "mdtrt_id": mdtrtID, "psn_no": c.person}}, &reversal)
	sameFigures(t, rev, reversal, got.GetSettlement().GetBreakdown(), -1)
	after, err := s.grpc.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: setlID})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetSettlement().GetState() != pb.SettlementState_SETTLEMENT_STATE_REVERSED {
		t.Errorf("after %s the settlement is %v", rev, after.GetSettlement().GetState())
	}
	r2 := his.ok(rev, map[string]any{"data": map[string]string{"setl_id": setlID, "mdtrt_id": mdtrtID, "psn_no": c.person}}, nil)
	if string(r2.Output) != string(r1.Output) {
		t.Errorf("%s retried answered\n%s\nnot\n%s", rev, r2.Output, r1.Output)
	}

	var again settleOutput
	his.ok(setl, map[string]any{"data": data}, &again)
	if id := again.str(t, "setl_id"); id == setlID || id == "" {
		t.Fatalf("%s after the reversal answered setl_id %q, want a new one", setl, id)
	}
	got2, err := s.grpc.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: again.str(t, "setl_id")})
	if err != nil {
		t.Fatal(err)
	}
	sameFigures(t, setl+" again", again, got2.GetSettlement().GetBreakdown(), 1)

	reconcileBoth(t, s, his, c, today)
}

// openHISVisit opens c's visit (2201 or 2401), twice: the retry answers
// the same mdtrt_id.
func openHISVisit(t *testing.T, his *hisClient, c hisCase, today string) string {
	t.Helper()
	number := fmt.Sprintf("%s-%s-%d", c.name, c.person, time.Now().UnixNano())
	var ids [2]string
	for i := range ids {
		if c.inpatient {
			var out struct {
				Result struct {
					MdtrtID string `json:"mdtrt_id"`
				} `json:"result"`
			}
			his.ok("2401", map[string]any{
				"mdtrtinfo": map[string]any{"psn_no": c.person, "insutype": c.insutype, "coner_name": "", "tel": "",
					"begntime": today + " 08:30:00", "mdtrt_cert_type": "02", "mdtrt_cert_no": c.person, "med_type": c.medType,
					"ipt_no": number, "medrcdno": number, "atddr_no": "D001", "chfpdr_name": "王医生", "adm_diag_dscr": "胆囊结石",
					"adm_dept_codg": "A03", "adm_dept_name": "普外科", "adm_bed": "12", "dscg_maindiag_code": "K80.200",
					"dscg_maindiag_name": "胆囊结石", "main_cond_dscr": "", "dise_codg": "", "dise_name": "", "oprn_oprt_code": "",
					"oprn_oprt_name": "", "fpsc_no": "", "matn_type": "", "birctrl_type": "", "latechb_flag": "", "geso_val": json.Number("0"),
					"fetts": json.Number("0"), "fetus_cnt": json.Number("0"), "pret_flag": "", "birctrl_matn_date": "", "dise_type_code": ""},
				"diseinfo": []map[string]any{{"psn_no": c.person, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": "1",
					"diag_code": "K80.200", "diag_name": "胆囊结石", "adm_cond": "", "diag_dept": "普外科", "dise_dor_no": "D001",
					"dise_dor_name": "王医生", "diag_time": today + " 08:30:00"}},
			}, &out)
			ids[i] = out.Result.MdtrtID
		} else {
			var out struct {
				Data struct {
					MdtrtID string `json:"mdtrt_id"`
				} `json:"data"`
			}
			his.ok("2201", map[string]any{"data": map[string]string{"psn_no": c.person, "insutype": c.insutype,
				"begntime": today + " 08:30:00", "mdtrt_cert_type": "02", "mdtrt_cert_no": c.person, "ipt_otp_no": number,
				"atddr_no": "D001", "dr_name": "王医生", "dept_code": "A03", "dept_name": "内科", "caty": "A03", "med_type": c.medType}}, &out)
			ids[i] = out.Data.MdtrtID
		}
	}
	if ids[0] == "" || ids[0] != ids[1] {
		t.Fatalf("opening the visit twice answered mdtrt_id %q then %q", ids[0], ids[1])
	}
	return ids[0]
}

// reconcileBoth asks the gRPC API for the institution's figures of today,
// then 3201 with them (agree) and with one settlement more (differ).
func reconcileBoth(t *testing.T, s *gatewayDemo, his *hisClient, c hisCase, today string) {
	t.Helper()
	scheme := map[string]pb.Scheme{"310": pb.Scheme_SCHEME_EMPLOYEE, "390": pb.Scheme_SCHEME_RESIDENT}[c.insutype]
	clr := "11"
	vts := []pb.VisitType{pb.VisitType_VISIT_TYPE_OUTPATIENT, pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT}
	if c.inpatient {
		clr, vts = "21", []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT}
	}
	r, err := s.clear.Reconcile(context.Background(), &pb.ReconcileRequest{InstitutionId: c.inst, PeriodFrom: today, PeriodTo: today,
		Scheme: scheme, VisitTypes: vts, Total: "0", FundTotal: "0", Account: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetCount() != 1 {
		t.Errorf("the gRPC Reconcile counts %d settlements, want the one live settlement", r.GetCount())
	}
	for _, tc := range []struct {
		count int64
		want  string
	}{{r.GetCount(), "0"}, {r.GetCount() + 1, "1"}} {
		var out reconcileAnswer
		his.ok("3201", map[string]any{"data": map[string]any{"insutype": c.insutype, "clr_type": clr, "setl_optins": "610300",
			"stmt_begndate": today, "stmt_enddate": today, "medfee_sumamt": json.Number(r.GetTotal()),
			"fund_pay_sumamt": json.Number(r.GetFundTotal()), "acct_pay": json.Number(r.GetAccount()),
			"fixmedins_setl_cnt": json.Number(fmt.Sprint(tc.count))}}, &out)
		if out.Stmtinfo.StmtRslt != tc.want || out.Stmtinfo.SetlOptins != "610300" || (tc.want == "0") != (out.Stmtinfo.StmtRsltDscr == "") {
			t.Errorf("3201 with %d settlements: %+v, want stmt_rslt %s", tc.count, out.Stmtinfo, tc.want)
		}
	}
}

// TestNationalSameMsgidSettlesOnce sends the same 2207 (outpatient) and
// the same 2304 (inpatient) request, msgid and all, twice in a row and
// then twice at once, on both stores: every answer's output is the first
// one's byte for byte (GATEWAY.md: a repeated 2207/2304 answers the live
// settlement unchanged, whatever its msgid) and the claim is settled once:
// one settlement in the gRPC Reconcile of the day, the person's in-scope
// accumulator and account moved by that one settlement only.
func TestNationalSameMsgidSettlesOnce(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string) {
		s := startGatewayDemo(t, dbURL, nil)
		for _, c := range []hisCase{outpatientCase, inpatientCase} {
			t.Run(c.name, func(t *testing.T) {
				for i, concurrent := range []bool{false, true} {
					sameMsgidSettlesOnce(t, s, c, concurrent, int64(i+1))
				}
			})
		}
	})
}

// sameMsgidSettlesOnce settles a new visit of c with one request sent
// twice (at once when concurrent); settled is how many visits of c's
// institution are settled today with it.
func sameMsgidSettlesOnce(t *testing.T, s *gatewayDemo, c hisCase, concurrent bool, settled int64) {
	t.Helper()
	ctx := context.Background()
	his := s.his(t, c.fixmedins, nil)
	today := time.Now().In(shanghaiTZ).Format(time.DateOnly)
	year := int32(time.Now().In(shanghaiTZ).Year())
	before, err := s.grpc.GetAccumulators(ctx, &pb.GetAccumulatorsRequest{PersonId: c.person, Year: year})
	if err != nil {
		t.Fatal(err)
	}
	mdtrtID := openHISVisit(t, his, c, today)
	bchno := fmt.Sprintf("SM%d", settled)
	his.ok(map[bool]string{false: "2204", true: "2301"}[c.inpatient], c.feedetail(mdtrtID, bchno, today), nil)
	data := map[string]any{"psn_no": c.person, "mdtrt_cert_type": "02", "mdtrt_cert_no": c.person,
		"medfee_sumamt": json.Number(c.sum()), "psn_setlway": "01", "mdtrt_id": mdtrtID, "insutype": c.insutype,
		"acct_used_flag": "1", "invono": ""}
	infno := "2304"
	if !c.inpatient {
		infno, data["med_type"], data["chrg_bchno"] = "2207", c.medType, bchno
	}
	raw, msgid := his.body(infno, map[string]any{"data": data})
	var answers [2]hisAnswer
	if concurrent {
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() { answers[i] = his.post(infno, raw) })
		}
		wg.Wait()
	} else {
		for i := range answers {
			answers[i] = his.post(infno, raw)
		}
	}
	for i, a := range answers {
		if a.Status != http.StatusOK || a.code() != "0" {
			t.Fatalf("%s (concurrent %v) sent %d: HTTP %d %s", infno, concurrent, i+1, a.Status, a.Raw)
		}
	}
	if !bytes.Equal(answers[0].Output, answers[1].Output) {
		t.Errorf("%s with msgid %s twice (concurrent %v) answered\n%s\nthen\n%s", infno, msgid, concurrent, answers[0].Output, answers[1].Output)
	}
	var out settleOutput
	if err := json.Unmarshal(answers[0].Output, &out); err != nil {
		t.Fatal(err)
	}
	if got := out.str(t, "medins_setl_id"); got != msgid {
		t.Errorf("medins_setl_id %q, want the msgid %s", got, msgid)
	}
	got, err := s.grpc.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: out.str(t, "setl_id")})
	if err != nil {
		t.Fatal(err)
	}
	b := got.GetSettlement().GetBreakdown()
	if got.GetSettlement().GetState() != pb.SettlementState_SETTLEMENT_STATE_SETTLED {
		t.Errorf("settlement %s is %v", out.str(t, "setl_id"), got.GetSettlement().GetState())
	}
	sameFigures(t, infno, out, b, 1)

	// Once: the day's settlements at the institution, the in-scope
	// accumulator and the account.
	scheme := map[string]pb.Scheme{"310": pb.Scheme_SCHEME_EMPLOYEE, "390": pb.Scheme_SCHEME_RESIDENT}[c.insutype]
	r, err := s.clear.Reconcile(ctx, &pb.ReconcileRequest{InstitutionId: c.inst, PeriodFrom: today, PeriodTo: today, Scheme: scheme,
		Total: "0", FundTotal: "0", Account: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if r.GetCount() != settled {
		t.Errorf("%s at %s today: %d settlements, want %d", c.inst, today, r.GetCount(), settled)
	}
	after, err := s.grpc.GetAccumulators(ctx, &pb.GetAccumulatorsRequest{PersonId: c.person, Year: year})
	if err != nil {
		t.Fatal(err)
	}
	inScope := func(a *pb.Accumulators) engine.Money {
		for _, vt := range a.GetVisitTypes() {
			if vt.GetVisitType() == c.visitType() {
				return engine.MustMoney(vt.GetInScope())
			}
		}
		return engine.Money{}
	}
	if want := inScope(before.GetAccumulators()).Add(engine.MustMoney(b.GetInScope())); !inScope(after.GetAccumulators()).Equal(want) {
		t.Errorf("%v in-scope this year %s, want %s: the claim counted once", c.visitType(), inScope(after.GetAccumulators()), want)
	}
	wantBalance := engine.MustMoney(before.GetAccumulators().GetAccountBalance()).Sub(engine.MustMoney(b.GetAccount()))
	if got := engine.MustMoney(after.GetAccumulators().GetAccountBalance()); !got.Equal(wantBalance) {
		t.Errorf("account balance %s, want %s: the account paid once", got, wantBalance)
	}
}

// TestNationalReversalRetryAnswersFirstReversal retries a 2305 after the
// person's account moved, after the visit was settled again, and after
// the visit was cancelled: GATEWAY.md says 2208/2305 "are idempotent on
// setl_id: a retry answers the first reversal", byte for byte (balc, the
// balance right after the reversal, included).
func TestNationalReversalRetryAnswersFirstReversal(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string) {
		s := startGatewayDemo(t, dbURL, nil)
		c := inpatientCase
		c.person = "E3" // the demo employee with an account
		his := s.his(t, c.fixmedins, nil)
		today := time.Now().In(shanghaiTZ).Format(time.DateOnly)
		visit := func() string {
			id := openHISVisit(t, his, c, today)
			his.ok("2301", c.feedetail(id, "RV", today), nil)
			return id
		}
		settle := func(mdtrtID string) string {
			var out settleOutput
			his.ok("2304", map[string]any{"data": map[string]any{"psn_no": c.person, "mdtrt_cert_type": "02", "mdtrt_cert_no": c.person,
				"medfee_sumamt": json.Number(c.sum()), "psn_setlway": "01", "mdtrt_id": mdtrtID, "insutype": c.insutype,
				"acct_used_flag": "1", "mid_setl_flag": "0"}}, &out)
			return out.str(t, "setl_id")
		}
		reverse := func(setlID, mdtrtID string) hisAnswer {
			return his.call("2305", map[string]any{"data": map[string]string{"setl_id": setlID, "mdtrt_id": mdtrtID, "psn_no": c.person}})
		}
		for _, tc := range []struct {
			name  string
			since func(mdtrtID string)
		}{
			{"the account moved since", func(string) { settle(visit()) }},
			{"the visit settled again", func(mdtrtID string) { settle(mdtrtID) }},
			{"the visit cancelled", func(mdtrtID string) {
				his.ok("2404", map[string]any{"data": map[string]string{"mdtrt_id": mdtrtID, "psn_no": c.person}}, nil)
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				mdtrtID := visit()
				setlID := settle(mdtrtID)
				first := reverse(setlID, mdtrtID)
				if first.code() != "0" {
					t.Fatalf("2305: %s", first.Raw)
				}
				tc.since(mdtrtID)
				if again := reverse(setlID, mdtrtID); again.code() != "0" || !bytes.Equal(again.Output, first.Output) {
					t.Errorf("2305 of %s retried after %s answered infcode %s %s, not the first reversal (differing: %s)", setlID, tc.name,
						again.code(), again.ErrMsg, outputDiff(again.Output, first.Output))
				}
			})
		}
	})
}

// outputDiff names the setlinfo fields of two settlement answers' outputs
// that differ, with both values.
func outputDiff(a, b json.RawMessage) string {
	var x, y struct {
		Setlinfo map[string]json.RawMessage `json:"setlinfo"`
	}
	_ = json.Unmarshal(a, &x)
	_ = json.Unmarshal(b, &y)
	if len(x.Setlinfo) == 0 {
		return "no setlinfo"
	}
	var out []string
	for k, v := range y.Setlinfo {
		if string(x.Setlinfo[k]) != string(v) {
			out = append(out, fmt.Sprintf("%s %s, first %s", k, x.Setlinfo[k], v))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// reconcileAnswer is the output of 3201 that the tests read: its
// stmtinfo.
type reconcileAnswer struct {
	Stmtinfo struct {
		SetlOptins   string `json:"setl_optins"`
		StmtRslt     string `json:"stmt_rslt"`
		StmtRsltDscr string `json:"stmt_rslt_dscr"`
	} `json:"stmtinfo"`
}
