package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestNationalGatewayAgreesWithGRPC is a seeded differential test of the
// gateway against the gRPC API, on both stores. It draws two policies for
// each of two regions (resident and employee, the year split between two
// versions), pairs of twin persons (same region, scheme, employment,
// categories, contribution years and opening balance), and a year of
// claims. One twin's claims go through the gateway as a HIS sends them
// (2201/2401, 2204/2301 in one or two uploads and sometimes again,
// 2205/2302 cancellations, 2402, 2206/2303, 2207/2304, retries with the
// same and with a new msgid, 2208/2305 and their retries, settling a
// reopened visit again or cancelling it); the other twin's same claims go
// through gRPC PreSettle/Settle/ReverseSettlement on the same dates, at a
// copy of the institution. Every figure of every answer is compared, as
// exact text, with what the test expects from the twin's gRPC answer
// through GATEWAY.md's tables written out here (not api/national's); the
// four scope amounts and each upload line's answer also with the test's
// own reading of SETTLEMENT.md's catalog table. After each step the
// twins' accumulators and balances are equal; at the end every live
// settlement's first request is replayed (the first answer byte for
// byte), every reversal retried, and 3201 must agree with the sum of the
// live settlements (and differ with a fen more or one settlement more).
//
// MEDSETTLE_SEED replays a seed (every failure names it);
// MEDSETTLE_MODEL_CLAIMS sets the number of claims (default 80 a store).
func TestNationalGatewayAgreesWithGRPC(t *testing.T) {
	seed := modelSeed(t)
	claims := modelClaims(t, 80)
	t.Logf("seed %d (replay: MEDSETTLE_SEED=%d), %d claims a store", seed, seed, claims)
	stores(t, func(t *testing.T, dbURL string) {
		runModel(t, dbURL, seed, claims)
	})
}

// modelInst is an institution of the gateway's config and the copy of it
// (same region and level, no budget) the twins settle at through gRPC.
type modelInst struct {
	fixmedins, id, twinID, region string
	level                         int32
}

// modelInsts are the demo's institutions (examples/demo/registry.json,
// examples/national-config.json) by region.
var modelInsts = map[string][]modelInst{
	"610300": {{"H61030000001", "BJ-H1", "TW-BJ-H1", "610300", 1}, {"H61030000002", "BJ-H2", "TW-BJ-H2", "610300", 2},
		{"H61030000003", "BJ-H3", "TW-BJ-H3", "610300", 3}},
	"350500": {{"H35050000001", "QZ-H1", "TW-QZ-H1", "350500", 1}, {"H35050000002", "QZ-H2", "TW-QZ-H2", "350500", 2},
		{"H35050000003", "QZ-H3", "TW-QZ-H3", "350500", 3}},
}

// modelSchemes are the regions' schemes and GATEWAY.md's insutype of each.
var modelSchemes = map[string]struct {
	scheme   pb.Scheme
	insutype string
}{"610300": {pb.Scheme_SCHEME_RESIDENT, "390"}, "350500": {pb.Scheme_SCHEME_EMPLOYEE, "310"}}

// modelMedTypes are GATEWAY.md's med_type codes of each visit type.
var modelMedTypes = map[pb.VisitType][]string{
	pb.VisitType_VISIT_TYPE_OUTPATIENT:         {"11", "12", "13"},
	pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT: {"14"},
	pb.VisitType_VISIT_TYPE_INPATIENT:          {"21", "22", "23", "24", "26", "28"},
}

// modelFunds are GATEWAY.md's fund_pay_type code table: basic,
// catastrophic and medical aid, by scheme.
var modelFunds = map[pb.Scheme][3][2]string{
	pb.Scheme_SCHEME_EMPLOYEE: {{"310100", "职工基本医疗保险统筹基金"}, {"330100", "职工大额医疗费用补助"}, {"610100", "医疗救助基金"}},
	pb.Scheme_SCHEME_RESIDENT: {{"390100", "城乡居民基本医疗保险基金"}, {"390200", "城乡居民大病医疗保险资金"}, {"610100", "医疗救助基金"}},
}

// modelAmounts are setlinfo's amounts, medfee_sumamt to acct_mulaid_pay,
// as GATEWAY.md maps them to the breakdown (nil: always 0).
var modelAmounts = []struct {
	field string
	get   func(*pb.Breakdown) string
}{
	{"medfee_sumamt", (*pb.Breakdown).GetTotal}, {"fulamt_ownpay_amt", (*pb.Breakdown).GetOutOfScope},
	{"overlmt_selfpay", (*pb.Breakdown).GetOverLimit}, {"preselfpay_amt", (*pb.Breakdown).GetPreSelfPay},
	{"inscp_scp_amt", (*pb.Breakdown).GetInScope}, {"act_pay_dedc", (*pb.Breakdown).GetDeductible},
	{"hifp_pay", (*pb.Breakdown).GetBasicFund}, {"cvlserv_pay", nil}, {"hifes_pay", nil},
	{"hifmi_pay", (*pb.Breakdown).GetCatastrophic}, {"hifob_pay", nil}, {"maf_pay", (*pb.Breakdown).GetMedicalAid},
	{"oth_pay", nil}, {"fund_pay_sumamt", (*pb.Breakdown).GetFundTotal}, {"psn_part_amt", (*pb.Breakdown).GetPersonalTotal},
	{"acct_pay", (*pb.Breakdown).GetAccount}, {"psn_cash_pay", (*pb.Breakdown).GetCash}, {"hosp_part_amt", nil},
	{"acct_mulaid_pay", nil},
}

// twinPair is two persons alike in all but id and name: gw settles
// through the gateway, twin through the gRPC API.
type twinPair struct {
	gw, twin string
	name     string     // gw's name
	person   *pb.Person // gw's record
	insutype string
}

// modelVisit is a visit of the gateway's twin, with its lines as
// uploaded.
type modelVisit struct {
	pair                   *twinPair
	inst                   modelInst
	vt                     pb.VisitType
	mdtrtID, number, bchno string
	medType                string
	lines                  []*modelLine
	seq                    int
	live                   *modelSettlement
	cancelled              bool
}

// inpatient reports whether v is an admission (2401, 2301, 2303/2304).
func (v *modelVisit) inpatient() bool { return v.vt == pb.VisitType_VISIT_TYPE_INPATIENT }

// liveLines are v's lines not cancelled, in upload order.
func (v *modelVisit) liveLines() []*modelLine {
	var out []*modelLine
	for _, l := range v.lines {
		if !l.cancelled {
			out = append(out, l)
		}
	}
	return out
}

// modelSettlement is a settlement of the history on both sides.
type modelSettlement struct {
	visit        *modelVisit
	gwID, twinID string
	infno, msgid string
	raw          []byte // the settling request, for replays with its msgid
	output       string // the first answer's output
	answer       modelAnswer
	twin         *pb.Settlement
	reversed     bool
	revData      map[string]any
	revOutput    string
	resettled    bool // the visit was settled again after the reversal
}

// modelAnswer is what the test expects of a settlement answer: setlinfo
// and setldetail field by field.
type modelAnswer struct {
	info map[string]any
	rows []map[string]any
}

// Expected values: a plain string is a JSON string, an int a JSON
// integer; the types below are JSON numbers.
type (
	// jsonMoney is a money figure: a JSON number written exactly so.
	jsonMoney string
	// jsonDecimal is a ratio or a price: a JSON number equal to it.
	jsonDecimal string
	// procInfo is setl_proc_info: a Chinese sentence naming the amount.
	procInfo string
)

// modelRun is one store's run of a seeded history.
type modelRun struct {
	t           seededTB
	ctx         context.Context
	g           *modelGen
	s           *gatewayDemo
	clock       *modelClock
	policies    map[string][]*modelPolicy // by region, in date order
	pairs       []*twinPair
	his         map[string]*hisClient // by fixmedins_code
	visits      []*modelVisit
	settlements []*modelSettlement
	ids         int
	seen        map[string]int // what the history exercised, for the log
}

// runModel runs the seeded history of claims on the store of dbURL.
func runModel(t *testing.T, dbURL string, seed uint64, claims int) {
	start := time.Now()
	m := &modelRun{t: seededTB{TB: t, seed: seed}, ctx: context.Background(),
		g: &modelGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, clock: &modelClock{at: modelDate(0).Add(7 * time.Hour)},
		policies: map[string][]*modelPolicy{}, his: map[string]*hisClient{}, seen: map[string]int{}}
	m.s = startGatewayDemo(t, dbURL, m.clock.now)
	m.setUp(claims)
	type planned struct {
		pair *twinPair
		day  int
	}
	var plan []planned
	for range claims {
		plan = append(plan, planned{m.pairs[m.g.r.IntN(len(m.pairs))], m.g.between(0, 365)})
	}
	sort.SliceStable(plan, func(i, j int) bool { return plan[i].day < plan[j].day })
	for i, c := range plan {
		if at := modelDate(c.day).Add(8 * time.Hour); at.After(m.clock.now()) {
			m.clock.set(at)
		}
		m.claim(c.pair)
		if t.Failed() {
			m.t.Fatalf("stopped after claim %d of %d", i+1, len(plan))
		}
	}
	m.finish()
	t.Logf("seed %d: %d claims, %d settlements in %v; exercised %v", seed, claims, len(m.settlements), time.Since(start), m.seen)
}

// setUp registers the drawn policies, the twins' institutions and the
// twin pairs, and opens the HIS clients.
func (m *modelRun) setUp(claims int) {
	split := modelDate(m.g.between(90, 270))
	var persons []*pb.Person
	for _, region := range []string{"610300", "350500"} {
		sc := modelSchemes[region]
		first := m.g.policy(region, sc.scheme, "M.1", modelDate(0).Format(time.DateOnly), split.AddDate(0, 0, -1).Format(time.DateOnly))
		second := m.g.policy(region, sc.scheme, "M.2", split.Format(time.DateOnly), modelDate(364).Format(time.DateOnly))
		for _, p := range []*modelPolicy{first, second} {
			raw, err := protojson.Marshal(p.p)
			if err != nil {
				m.t.Fatal(err)
			}
			if err := putPolicy(m.ctx, m.s.st, region+" "+p.p.GetVersion(), raw); err != nil {
				m.t.Fatalf("%v\n%s", err, raw)
			}
			m.policies[region] = append(m.policies[region], p)
		}
	}
	n := 4 + claims/10
	for i := range n {
		region := []string{"610300", "350500"}[i%2]
		sc := modelSchemes[region]
		p := m.g.person(region, sc.scheme)
		gw, twin := proto.Clone(p).(*pb.Person), proto.Clone(p).(*pb.Person)
		gw.PersonId, gw.Name = fmt.Sprintf("MG%02d", i), fmt.Sprintf("网关%02d", i)
		twin.PersonId, twin.Name = fmt.Sprintf("MT%02d", i), fmt.Sprintf("孪生%02d", i)
		persons = append(persons, gw, twin)
		m.pairs = append(m.pairs, &twinPair{gw: gw.PersonId, twin: twin.PersonId, name: gw.Name, person: gw, insutype: sc.insutype})
	}
	var doc struct {
		Institutions []json.RawMessage `json:"institutions"`
		Persons      []json.RawMessage `json:"persons"`
	}
	for _, insts := range modelInsts {
		for _, in := range insts {
			raw, err := protojson.Marshal(&pb.Institution{InstitutionId: in.twinID, Name: in.twinID, Region: in.region, Level: in.level})
			if err != nil {
				m.t.Fatal(err)
			}
			doc.Institutions = append(doc.Institutions, raw)
			m.his[in.fixmedins] = m.s.his(m.t, in.fixmedins, m.clock.now)
		}
	}
	for _, p := range persons {
		raw, err := protojson.Marshal(p)
		if err != nil {
			m.t.Fatal(err)
		}
		doc.Persons = append(doc.Persons, raw)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		m.t.Fatal(err)
	}
	if _, _, err := loadRegistry(m.ctx, m.s.st, raw); err != nil {
		m.t.Fatalf("registering the twins: %v", err)
	}
}

// today is the clock's date, Asia/Shanghai.
func (m *modelRun) today() string { return m.clock.now().In(shanghaiTZ).Format(time.DateOnly) }

// nextID is a fresh id with prefix.
func (m *modelRun) nextID(prefix string) string {
	m.ids++
	return fmt.Sprintf("%s-%05d", prefix, m.ids)
}

// policyOn is region's policy in force on date.
func (m *modelRun) policyOn(region, date string) *modelPolicy {
	for _, p := range m.policies[region] {
		if p.p.GetEffectiveFrom() <= date && date <= p.p.GetEffectiveTo() {
			return p
		}
	}
	m.t.Fatalf("no drawn policy of %s on %s", region, date)
	return nil
}

// claim is one claim of pair: sometimes first the reversal of one of its
// earlier settlements, then a visit opened, uploaded, trimmed, settled,
// retried, and sometimes reversed and settled again.
func (m *modelRun) claim(p *twinPair) {
	g := m.g
	if g.chance(0.15) {
		var older []*modelSettlement
		for _, s := range m.settlements {
			if s.visit.pair == p && !s.reversed && s.visit.live == s {
				older = append(older, s)
			}
		}
		if len(older) > 0 {
			s := older[g.r.IntN(len(older))]
			m.reverse(s)
			switch g.r.IntN(3) {
			case 0:
				m.trim(s.visit)
				m.settle(s.visit)
			case 1:
				m.cancelVisit(s.visit)
			}
		}
	}
	vt := []pb.VisitType{pb.VisitType_VISIT_TYPE_OUTPATIENT, pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT,
		pb.VisitType_VISIT_TYPE_INPATIENT}[g.r.IntN(3)]
	insts := modelInsts[p.person.GetRegion()]
	v := m.openVisit(p, insts[g.r.IntN(len(insts))], vt)
	lines := make([]*modelLine, g.between(1, 21))
	for j := range lines {
		lines[j] = g.line()
	}
	cut := len(lines)
	if len(lines) > 1 && g.chance(0.4) {
		cut = g.between(1, len(lines))
	}
	m.upload(v, lines[:cut], g.chance(0.2))
	if cut < len(lines) {
		m.upload(v, lines[cut:], false)
	}
	switch x := g.r.Float64(); {
	case x < 0.08:
		m.cancelLines(v, "0000")
		fresh := make([]*modelLine, g.between(1, 6))
		for j := range fresh {
			fresh[j] = g.line()
		}
		m.upload(v, fresh, false)
	case x < 0.4:
		for range g.between(1, 4) {
			live := v.liveLines()
			if len(live) < 2 {
				break
			}
			m.cancelLines(v, live[g.r.IntN(len(live))].sn)
		}
	}
	if v.inpatient() && g.chance(0.5) {
		m.discharge(v)
	}
	s := m.settle(v)
	if g.chance(0.2) {
		m.reverse(s)
		if g.chance(0.6) {
			m.trim(v)
			m.settle(v)
		}
	}
}

// trim changes a reopened visit's lines sometimes before it is settled
// again: one line cancelled, or one more uploaded.
func (m *modelRun) trim(v *modelVisit) {
	switch m.g.r.IntN(3) {
	case 0:
		if live := v.liveLines(); len(live) > 1 {
			m.cancelLines(v, live[m.g.r.IntN(len(live))].sn)
		}
	case 1:
		m.upload(v, []*modelLine{m.g.line()}, false)
	}
}

// call is his.ok on the model's clock, one second after the last call.
func (m *modelRun) call(v *modelVisit, infno string, input, out any) hisAnswer {
	m.t.Helper()
	m.clock.tick()
	return m.his[v.inst.fixmedins].ok(infno, input, out)
}

// openVisit opens a visit of p at inst (2201 or 2401, sometimes twice:
// the retry answers the same mdtrt_id).
func (m *modelRun) openVisit(p *twinPair, inst modelInst, vt pb.VisitType) *modelVisit {
	types := modelMedTypes[vt]
	v := &modelVisit{pair: p, inst: inst, vt: vt, medType: types[m.g.r.IntN(len(types))]}
	v.number, v.bchno = m.nextID("NO"), m.nextID("CB")
	day := m.today()
	var ids []string
	for range 1 + m.g.r.IntN(2) {
		if v.inpatient() {
			var out struct {
				Result struct {
					MdtrtID string `json:"mdtrt_id"`
				} `json:"result"`
			}
			m.call(v, "2401", map[string]any{
				"mdtrtinfo": map[string]any{"psn_no": p.gw, "insutype": p.insutype, "coner_name": "", "tel": "",
					"begntime": day + " 08:30:00", "mdtrt_cert_type": "02", "mdtrt_cert_no": p.gw, "med_type": v.medType,
					"ipt_no": v.number, "medrcdno": v.number, "atddr_no": "D001", "chfpdr_name": "王医生", "adm_diag_dscr": "胆囊结石",
					"adm_dept_codg": "A03", "adm_dept_name": "普外科", "adm_bed": "12", "dscg_maindiag_code": "K80.200",
					"dscg_maindiag_name": "胆囊结石"},
				"diseinfo": []map[string]any{{"psn_no": p.gw, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": "1",
					"diag_code": "K80.200", "diag_name": "胆囊结石", "diag_dept": "普外科", "dise_dor_no": "D001",
					"dise_dor_name": "王医生", "diag_time": day + " 08:30:00"}},
			}, &out)
			ids = append(ids, out.Result.MdtrtID)
		} else {
			var out struct {
				Data struct {
					MdtrtID string `json:"mdtrt_id"`
					PsnNo   string `json:"psn_no"`
				} `json:"data"`
			}
			m.call(v, "2201", map[string]any{"data": map[string]string{"psn_no": p.gw, "insutype": p.insutype,
				"begntime": day + " 08:30:00", "mdtrt_cert_type": "02", "mdtrt_cert_no": p.gw, "ipt_otp_no": v.number,
				"atddr_no": "D001", "dr_name": "王医生", "dept_code": "A03", "dept_name": "内科", "caty": "A03", "med_type": v.medType}}, &out)
			if out.Data.PsnNo != p.gw {
				m.t.Errorf("2201 answered psn_no %q, want %q", out.Data.PsnNo, p.gw)
			}
			ids = append(ids, out.Data.MdtrtID)
		}
	}
	if ids[0] == "" || slices.ContainsFunc(ids, func(id string) bool { return id != ids[0] }) {
		m.t.Fatalf("opening visit %s answered mdtrt_id %q", v.number, ids)
	}
	v.mdtrtID = ids[0]
	m.visits = append(m.visits, v)
	return v
}

// uploadFields are GATEWAY.md's fields of an upload's answer per line.
var uploadFields = []string{"feedetl_sn", "det_item_fee_sumamt", "cnt", "pric", "pric_uplmt_amt", "selfpay_prop",
	"fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt", "chrgitm_lv", "med_chrgitm_type"}

// upload sends lines to v (2204 or 2301; again: the same upload twice,
// which changes nothing) and checks each line's answer against the
// test's reading of the catalog table under the policy of today.
func (m *modelRun) upload(v *modelVisit, lines []*modelLine, again bool) {
	m.t.Helper()
	day := m.today()
	var rows []map[string]any
	for _, l := range lines {
		v.seq++
		l.sn = fmt.Sprintf("%s-%d", v.bchno, v.seq)
		row := map[string]any{
			"feedetl_sn": l.sn, "mdtrt_id": v.mdtrtID, "psn_no": v.pair.gw, "med_type": v.medType,
			"fee_ocur_time": day + " 09:30:00", "med_list_codg": l.code, "medins_list_codg": l.name,
			"det_item_fee_sumamt": json.Number(l.amt), "cnt": json.Number(l.cnt), "pric": json.Number(l.pric),
			"bilg_dept_codg": "A03", "bilg_dept_name": "内科", "bilg_dr_codg": "D001", "bilg_dr_name": "王医生",
			"hosp_appr_flag": "1", "rxno": "", "rx_circ_flag": "0", "prd_days": json.Number("1"), "etip_flag": "0", "dscg_tkdrug_flag": "0",
		}
		if !v.inpatient() {
			row["chrg_bchno"] = v.bchno
		}
		rows = append(rows, row)
	}
	infno := map[bool]string{false: "2204", true: "2301"}[v.inpatient()]
	var out struct {
		Result []map[string]json.RawMessage `json:"result"`
	}
	a := m.call(v, infno, map[string]any{"feedetail": rows}, &out)
	if again {
		if b := m.call(v, infno, map[string]any{"feedetail": rows}, nil); !bytes.Equal(b.Output, a.Output) {
			m.t.Errorf("%s sent again answered\n%s\nnot\n%s", infno, b.Output, a.Output)
		}
	}
	v.lines = append(v.lines, lines...)
	if len(out.Result) != len(lines) {
		m.t.Fatalf("%s of %d lines answered %d: %s", infno, len(lines), len(out.Result), a.Output)
	}
	pol := m.policyOn(v.pair.person.GetRegion(), day)
	for i, l := range lines {
		it := pol.items[l.code]
		o, over, pre, in := lineScope(it, l)
		lv, prop, capText := "03", "1", "0"
		switch it.cat {
		case pb.ItemCategory_ITEM_CATEGORY_A:
			lv, prop = "01", "0"
		case pb.ItemCategory_ITEM_CATEGORY_B:
			lv, prop = "02", it.ratio
		}
		if it.cap != "" {
			capText = it.cap
		}
		want := map[string]any{"feedetl_sn": l.sn, "det_item_fee_sumamt": jsonMoney(l.amt), "cnt": jsonDecimal(l.cnt),
			"pric": jsonDecimal(l.pric), "pric_uplmt_amt": jsonDecimal(capText), "selfpay_prop": jsonDecimal(prop),
			"fulamt_ownpay_amt": jsonMoney(o.StringFixed(2)), "overlmt_amt": jsonMoney(over.StringFixed(2)),
			"preselfpay_amt": jsonMoney(pre.StringFixed(2)), "inscp_scp_amt": jsonMoney(in.StringFixed(2)),
			"chrgitm_lv": lv, "med_chrgitm_type": ""}
		m.compareObject(fmt.Sprintf("%s line %s (%s %s × %s under %s)", infno, l.sn, l.code, l.cnt, l.pric, pol.p.GetVersion()),
			out.Result[i], want)
	}
}

// cancelLines cancels v's line sn, or every line when sn is "0000"
// (2205 or 2302).
func (m *modelRun) cancelLines(v *modelVisit, sn string) {
	data := map[string]any{"mdtrt_id": v.mdtrtID, "feedetl_sn": sn, "psn_no": v.pair.gw}
	infno := "2302"
	if !v.inpatient() {
		data["chrg_bchno"], infno = v.bchno, "2205"
	}
	m.call(v, infno, map[string]any{"data": data}, nil)
	m.seen["cancel "+infno]++
	for _, l := range v.lines {
		if sn == "0000" || l.sn == sn {
			l.cancelled = true
		}
	}
}

// discharge records an admission's discharge (2402).
func (m *modelRun) discharge(v *modelVisit) {
	day := m.today()
	m.call(v, "2402", map[string]any{
		"dscginfo": map[string]any{"mdtrt_id": v.mdtrtID, "psn_no": v.pair.gw, "insutype": v.pair.insutype,
			"endtime": day + " 10:00:00", "dscg_way": "1", "dscg_dept_codg": "A04", "dscg_dept_name": "普外科"},
		"diseinfo": []map[string]any{{"mdtrt_id": v.mdtrtID, "psn_no": v.pair.gw, "diag_type": "1", "maindiag_flag": "1",
			"diag_srt_no": "1", "diag_code": "K80.200", "diag_name": "胆囊结石"}},
	}, nil)
}

// cancelVisit cancels a reopened visit (2202 or 2404).
func (m *modelRun) cancelVisit(v *modelVisit) {
	if v.inpatient() {
		m.call(v, "2404", map[string]any{"data": map[string]string{"mdtrt_id": v.mdtrtID, "psn_no": v.pair.gw}}, nil)
	} else {
		m.call(v, "2202", map[string]any{"data": map[string]string{"psn_no": v.pair.gw, "mdtrt_id": v.mdtrtID, "ipt_otp_no": v.number}}, nil)
	}
	v.cancelled = true
}

// accumulators are person's accumulators of the model year.
func (m *modelRun) accumulators(person string) *pb.Accumulators {
	m.t.Helper()
	r, err := m.s.grpc.GetAccumulators(m.ctx, &pb.GetAccumulatorsRequest{PersonId: person, Year: modelYear})
	if err != nil {
		m.t.Fatalf("GetAccumulators(%s): %v", person, err)
	}
	return r.GetAccumulators()
}

// sameAccumulators asserts that p's twins have the same accumulators and
// balance.
func (m *modelRun) sameAccumulators(what string, p *twinPair) {
	m.t.Helper()
	a, b := m.accumulators(p.gw), m.accumulators(p.twin)
	a.PersonId, b.PersonId = "", ""
	if !proto.Equal(a, b) {
		m.t.Errorf("after %s the accumulators of %s (gateway) and %s (gRPC) differ:\n%v\n%v", what, p.gw, p.twin, a, b)
	}
}

// settle pre-settles and settles v through the gateway, and the same
// claim of the twin through gRPC, comparing every answer; it sometimes
// retries the settlement with the same msgid and with a new one.
func (m *modelRun) settle(v *modelVisit) *modelSettlement {
	m.t.Helper()
	p, g := v.pair, m.g
	live := v.liveLines()
	var items []*pb.LineItem
	sum := decimal.Zero
	for _, l := range live {
		items = append(items, &pb.LineItem{Code: l.code, Name: l.name, Quantity: l.cnt, UnitPrice: l.pric, Amount: l.amt})
		sum = sum.Add(decimal.RequireFromString(l.amt))
	}
	acct := g.chance(0.5)
	data := map[string]any{"psn_no": p.gw, "mdtrt_cert_type": "02", "mdtrt_cert_no": p.gw, "medfee_sumamt": json.Number(sum.StringFixed(2)),
		"psn_setlway": "01", "mdtrt_id": v.mdtrtID, "insutype": p.insutype, "acct_used_flag": map[bool]string{false: "0", true: "1"}[acct],
		"invono": ""}
	pre, setl := "2206", "2207"
	if v.inpatient() {
		pre, setl = "2303", "2304"
		data["mid_setl_flag"] = "0"
	} else {
		data["med_type"], data["chrg_bchno"] = v.medType, v.bchno
	}
	day := m.today()
	what := fmt.Sprintf("%s of %s (%v, med_type %s, %d lines, acct %v, %s at %s)", setl, v.mdtrtID, v.vt, v.medType, len(live), acct, p.gw, v.inst.id)

	accBefore := m.accumulators(p.twin)
	twinReq := &pb.SettleRequest{RequestId: m.nextID("twin"), InstitutionId: v.inst.twinID, PersonId: p.twin, VisitType: v.vt,
		SettleDate: day, UsePersonalAccount: acct, Items: items}
	preview, err := m.s.grpc.PreSettle(m.ctx, twinReq)
	if err != nil {
		m.t.Fatalf("%s: gRPC PreSettle of the twin: %v", what, err)
	}
	m.checkScope(what, v, live, preview.GetSettlement().GetBreakdown(), day)

	var preOut settleOutput
	preAns := m.call(v, pre, map[string]any{"data": data}, &preOut)
	balc := decimal.RequireFromString(accBefore.GetAccountBalance()).Sub(decimal.RequireFromString(preview.GetSettlement().GetBreakdown().GetAccount()))
	want := m.expect(v, preview.GetSettlement(), accBefore, day)
	want.info["setl_id"], want.info["setl_time"], want.info["mdtrt_cert_type"] = "", m.clock.now().Format(time.DateTime), "02"
	want.info["balc"], want.info["medins_setl_id"] = jsonMoney(balc.StringFixed(2)), m.his[v.inst.fixmedins].lastMsgid
	m.compareAnswer(pre+" of "+what, preAns.Output, want)

	for _, f := range []string{"fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"} {
		if g.chance(0.8) {
			data[f] = json.Number(preOut.Setlinfo[f])
		}
	}
	his := m.his[v.inst.fixmedins]
	m.clock.tick()
	raw, msgid := his.body(setl, map[string]any{"data": data})
	a := his.post(setl, raw)
	if a.Status != http.StatusOK || a.code() != "0" {
		m.t.Fatalf("%s: HTTP %d %s", what, a.Status, a.Raw)
	}
	setlTime := m.clock.now().Format(time.DateTime)
	twinReq.RequestId = m.nextID("twin")
	res, err := m.s.grpc.Settle(m.ctx, twinReq)
	if err != nil {
		m.t.Fatalf("%s: gRPC Settle of the twin: %v", what, err)
	}
	if !proto.Equal(res.GetSettlement().GetBreakdown(), preview.GetSettlement().GetBreakdown()) {
		m.t.Errorf("%s: the twin's Settle %v differs from its PreSettle %v", what, res.GetSettlement().GetBreakdown(), preview.GetSettlement().GetBreakdown())
	}
	var out settleOutput
	if err := json.Unmarshal(a.Output, &out); err != nil {
		m.t.Fatalf("%s: %s: %v", what, a.Output, err)
	}
	var setlID string
	if err := json.Unmarshal(out.Setlinfo["setl_id"], &setlID); err != nil {
		m.t.Fatalf("%s: setl_id %s: %v", what, out.Setlinfo["setl_id"], err)
	}
	s := &modelSettlement{visit: v, gwID: setlID, twinID: res.GetSettlement().GetSettlementId(), infno: setl, msgid: msgid,
		raw: raw, output: string(a.Output), twin: res.GetSettlement()}
	s.answer = m.expect(v, res.GetSettlement(), accBefore, day)
	s.answer.info["setl_id"], s.answer.info["setl_time"], s.answer.info["mdtrt_cert_type"] = setlID, setlTime, "02"
	s.answer.info["balc"], s.answer.info["medins_setl_id"] = jsonMoney(m.accumulators(p.twin).GetAccountBalance()), msgid
	if setlID == "" || setlID == s.twinID {
		m.t.Errorf("%s answered setl_id %q", what, setlID)
	}
	m.compareAnswer(what, a.Output, s.answer)
	m.sameAccumulators(what, p)
	m.count(v, res.GetSettlement(), acct)
	m.settlements = append(m.settlements, s)
	if old := v.live; old != nil {
		m.t.Fatalf("%s: visit %s already has live settlement %s", what, v.mdtrtID, old.gwID)
	}
	for _, old := range m.settlements {
		if old.visit == v && old.reversed {
			old.resettled = true
		}
	}
	v.live = s

	if g.chance(0.3) {
		m.clock.tick()
		m.seen["retry same msgid"]++
		if b := his.post(setl, raw); b.Status != http.StatusOK || string(b.Output) != s.output {
			m.t.Errorf("%s resent with its msgid %s answered HTTP %d\n%s\nnot\n%s", what, msgid, b.Status, b.Output, s.output)
		}
	}
	if g.chance(0.3) {
		m.seen["retry new msgid"]++
		if b := m.call(v, setl, map[string]any{"data": data}, nil); string(b.Output) != s.output {
			m.t.Errorf("%s resent with a new msgid answered\n%s\nnot\n%s", what, b.Output, s.output)
		}
	}
	m.sameAccumulators(what+" and its retries", p)
	return s
}

// count notes what a settlement exercised.
func (m *modelRun) count(v *modelVisit, st *pb.Settlement, acct bool) {
	b := st.GetBreakdown()
	m.seen[v.vt.String()]++
	for name, amount := range map[string]string{"deductible": b.GetDeductible(), "basic": b.GetBasicFund(), "over_cap": b.GetOverCap(),
		"catastrophic": b.GetCatastrophic(), "aid": b.GetMedicalAid(), "account": b.GetAccount(), "over_limit": b.GetOverLimit(),
		"pre_self_pay": b.GetPreSelfPay(), "out_of_scope": b.GetOutOfScope()} {
		if decimal.RequireFromString(amount).IsPositive() {
			m.seen[name]++
		}
	}
	for _, d := range st.GetDetails() {
		if d.GetFund() == pb.Fund_FUND_AID_CEILING {
			m.seen["aid_ceiling"]++
		}
		if d.GetBand() > 0 {
			m.seen["band>0 "+d.GetFund().String()]++
		}
	}
	if acct {
		m.seen["acct_used_flag 1"]++
	}
}

// checkScope asserts that the twin's four scope amounts and total are
// the sums of the test's own split of the live lines under the policy of
// day.
func (m *modelRun) checkScope(what string, v *modelVisit, live []*modelLine, b *pb.Breakdown, day string) {
	pol := m.policyOn(v.pair.person.GetRegion(), day)
	var total, out, over, pre, in decimal.Decimal
	for _, l := range live {
		o, ov, p, i := lineScope(pol.items[l.code], l)
		total = total.Add(decimal.RequireFromString(l.amt))
		out, over, pre, in = out.Add(o), over.Add(ov), pre.Add(p), in.Add(i)
	}
	got := []string{b.GetTotal(), b.GetOutOfScope(), b.GetOverLimit(), b.GetPreSelfPay(), b.GetInScope()}
	want := []string{total.StringFixed(2), out.StringFixed(2), over.StringFixed(2), pre.StringFixed(2), in.StringFixed(2)}
	if !slices.Equal(got, want) {
		m.t.Errorf("%s: the gRPC API splits the claim into total/out/over/pre/in %v, the catalog table gives %v", what, got, want)
	}
}

// expect is the answer GATEWAY.md's tables make of the twin's settlement
// st of visit v on day, acc the twin's accumulators before it; setl_id,
// setl_time, mdtrt_cert_type, balc and medins_setl_id are the caller's.
func (m *modelRun) expect(v *modelVisit, st *pb.Settlement, acc *pb.Accumulators, day string) modelAnswer {
	p := v.pair
	b := st.GetBreakdown()
	info := map[string]any{
		"mdtrt_id": v.mdtrtID, "psn_no": p.gw, "psn_name": p.name, "psn_cert_type": "01", "certno": p.gw,
		"gend": "", "naty": "", "brdy": "", "age": 0, "insutype": p.insutype, "psn_type": "", "cvlserv_flag": "0",
		"med_type": v.medType, "pool_prop_selfpay": jsonDecimal(m.reachedRatio(v, b, acc, day)),
		"clr_optins": p.person.GetRegion(), "clr_way": "01", "clr_type": map[bool]string{false: "11", true: "21"}[v.inpatient()],
	}
	for _, a := range modelAmounts {
		info[a.field] = jsonMoney("0.00")
		if a.get != nil {
			info[a.field] = jsonMoney(a.get(b))
		}
	}
	dec := decimal.RequireFromString
	orZero := func(s string) decimal.Decimal {
		if s == "" {
			return decimal.Zero
		}
		return dec(s)
	}
	room := func(capText string, used string) string {
		if capText == "" {
			return "0.00"
		}
		return decimal.Max(decimal.Zero, dec(capText).Sub(orZero(used))).StringFixed(2)
	}
	pol := m.policyOn(p.person.GetRegion(), day)
	held := heldOn(p.person, day)
	in, basic, cat, preSelf := dec(b.GetInScope()), dec(b.GetBasicFund()), dec(b.GetCatastrophic()), dec(b.GetPreSelfPay())
	codes := modelFunds[p.person.GetScheme()]
	var rows []map[string]any
	row := func(i int, base decimal.Decimal, room, paid string) {
		rows = append(rows, map[string]any{"fund_pay_type": codes[i][0], "fund_pay_type_name": codes[i][1],
			"inscp_scp_amt": jsonMoney(base.StringFixed(2)), "crt_payb_lmt_amt": jsonMoney(room), "fund_payamt": jsonMoney(paid),
			"setl_proc_info": procInfo(paid)})
	}
	if basic.IsPositive() {
		r := "0.00"
		for _, bf := range pol.p.GetBenefits() {
			if bf.GetVisitType() == v.vt && bf.GetCapPool() != "" {
				r = room(poolCap(pol.p, bf.GetCapPool(), p.person.GetContributionYears()), acc.GetPoolUsed()[bf.GetCapPool()])
			}
		}
		row(0, in, r, b.GetBasicFund())
	}
	if cat.IsPositive() {
		c := pol.p.GetCatastrophic()
		sched := c.GetNormal()
		for _, sc := range c.GetSpecialCategories() {
			if held[sc] {
				sched = c.GetSpecial()
			}
		}
		base := in.Sub(basic)
		if c.GetIncludePreSelfPay() {
			base = base.Add(preSelf)
		}
		row(1, base, room(sched.GetAnnualCap(), acc.GetCatastrophicPaid()), b.GetCatastrophic())
	}
	if dec(b.GetMedicalAid()).IsPositive() {
		var rule *pb.MedicalAid
		for _, r := range pol.p.GetMedicalAid() {
			if held[r.GetCategory()] {
				rule = r
				break
			}
		}
		if rule == nil {
			m.t.Errorf("%s: medical aid %s paid to a person holding no aid category on %s", st.GetSettlementId(), b.GetMedicalAid(), day)
			rule = &pb.MedicalAid{}
		}
		base := in.Sub(basic).Sub(cat)
		if rule.GetIncludePreSelfPay() {
			base = base.Add(preSelf)
		}
		row(2, base, room(rule.GetSchedule().GetAnnualCap(), acc.GetAidPaid()), b.GetMedicalAid())
	}
	return modelAnswer{info: info, rows: rows}
}

// poolCap is the cap of pool for contribution years: the row with the
// largest min_years ≤ years.
func poolCap(p *pb.Policy, pool string, years int32) string {
	best, capText := int32(-1), ""
	for _, cp := range p.GetCapPools() {
		if cp.GetName() != pool {
			continue
		}
		for _, r := range cp.GetRows() {
			if r.GetMinYears() <= years && r.GetMinYears() > best {
				best, capText = r.GetMinYears(), r.GetAmount()
			}
		}
	}
	return capText
}

// reachedRatio is pool_prop_selfpay: the basic ratio of the highest
// band the claim reached, 0 when none. The fund's part of the running
// in-scope amount is [C0 + deductible, C0 + in_scope] (C0 the visit
// type's in-scope this year before the claim under ANNUAL, 0 under
// PER_VISIT; SETTLEMENT.md "Layer 1"), on the bands of the rate row of
// the institution's level and the person's employment (the exact status
// winning over a row for everyone). Reached means that part overlaps the
// band, whether or not a cap left the band anything to pay.
func (m *modelRun) reachedRatio(v *modelVisit, b *pb.Breakdown, acc *pb.Accumulators, day string) string {
	pol := m.policyOn(v.pair.person.GetRegion(), day)
	var bf *pb.Benefit
	for _, x := range pol.p.GetBenefits() {
		if x.GetVisitType() == v.vt {
			bf = x
		}
	}
	if bf == nil {
		return "0"
	}
	var sched *pb.Schedule
	for _, r := range bf.GetRates() {
		if r.GetLevel() != v.inst.level {
			continue
		}
		if r.GetEmployment() == v.pair.person.GetEmployment() || (r.GetEmployment() == pb.Employment_EMPLOYMENT_UNSPECIFIED && sched == nil) {
			sched = r.GetSchedule()
		}
	}
	c0 := decimal.Zero
	if bf.GetAccumulation() == pb.Accumulation_ACCUMULATION_ANNUAL {
		for _, a := range acc.GetVisitTypes() {
			if a.GetVisitType() == v.vt {
				c0 = decimal.RequireFromString(a.GetInScope())
			}
		}
	}
	start := c0.Add(decimal.RequireFromString(b.GetDeductible()))
	end := c0.Add(decimal.RequireFromString(b.GetInScope()))
	ratio, lower := "0", decimal.Zero
	for _, band := range sched.GetBands() {
		lo, hi := decimal.Max(lower, start), end
		if band.GetUpTo() != "" {
			up := decimal.RequireFromString(band.GetUpTo())
			hi, lower = decimal.Min(up, end), up
		}
		if hi.GreaterThan(lo) {
			ratio = band.GetRatio()
		}
	}
	return ratio
}

// negatedAnswer is a reversal's answer of a settlement's: every amount
// of setlinfo from medfee_sumamt to acct_mulaid_pay negated except balc,
// and setldetail's inscp_scp_amt and fund_payamt.
func negatedAnswer(a modelAnswer) modelAnswer {
	out := modelAnswer{info: map[string]any{}}
	for k, v := range a.info {
		out.info[k] = v
	}
	for _, f := range modelAmounts {
		out.info[f.field] = jsonMoney(neg(string(a.info[f.field].(jsonMoney))))
	}
	for _, r := range a.rows {
		nr := map[string]any{}
		for k, v := range r {
			nr[k] = v
		}
		for _, f := range []string{"inscp_scp_amt", "fund_payamt"} {
			nr[f] = jsonMoney(neg(string(r[f].(jsonMoney))))
		}
		out.rows = append(out.rows, nr)
	}
	return out
}

// reverse reverses s through the gateway (2208 or 2305) and the twin's
// through gRPC, compares, and sometimes retries the reversal.
func (m *modelRun) reverse(s *modelSettlement) {
	m.t.Helper()
	v, p := s.visit, s.visit.pair
	infno := map[bool]string{false: "2208", true: "2305"}[v.inpatient()]
	s.revData = map[string]any{"data": map[string]string{"setl_id": s.gwID, "mdtrt_id": v.mdtrtID, "psn_no": p.gw}}
	a := m.call(v, infno, s.revData, nil)
	at := m.clock.now().Format(time.DateTime)
	res, err := m.s.grpc.ReverseSettlement(m.ctx, &pb.ReverseSettlementRequest{RequestId: m.nextID("twin-rev"), SettlementId: s.twinID, Reason: "model"})
	if err != nil {
		m.t.Fatalf("reversing the twin's %s: %v", s.twinID, err)
	}
	if !proto.Equal(res.GetSettlement().GetBreakdown(), s.twin.GetBreakdown()) {
		m.t.Errorf("the twin's reversal answers %v, its settlement was %v", res.GetSettlement().GetBreakdown(), s.twin.GetBreakdown())
	}
	want := negatedAnswer(s.answer)
	want.info["setl_time"], want.info["mdtrt_cert_type"] = at, ""
	want.info["balc"] = jsonMoney(m.accumulators(p.twin).GetAccountBalance())
	what := fmt.Sprintf("%s of %s (%s, settled by %s)", infno, s.gwID, v.mdtrtID, s.msgid)
	m.compareAnswer(what, a.Output, want)
	s.reversed, s.revOutput, v.live = true, string(a.Output), nil
	m.seen["reversal"]++
	m.sameAccumulators(what, p)
	if m.g.chance(0.3) {
		if b := m.call(v, infno, s.revData, nil); string(b.Output) != s.revOutput {
			m.t.Errorf("%s retried answered\n%s\nnot\n%s", what, b.Output, s.revOutput)
		}
	}
}

// compareAnswer compares a settlement answer's output with want.
func (m *modelRun) compareAnswer(what string, output json.RawMessage, want modelAnswer) {
	m.t.Helper()
	var got struct {
		Setlinfo   map[string]json.RawMessage   `json:"setlinfo"`
		Setldetail []map[string]json.RawMessage `json:"setldetail"`
	}
	if err := json.Unmarshal(output, &got); err != nil {
		m.t.Fatalf("%s: output %s: %v", what, output, err)
	}
	m.compareObject(what+": setlinfo", got.Setlinfo, want.info)
	if len(got.Setldetail) != len(want.rows) {
		m.t.Errorf("%s: setldetail has %d rows, want %d (%v)\n%s", what, len(got.Setldetail), len(want.rows), want.rows, output)
		return
	}
	for i := range want.rows {
		m.compareObject(fmt.Sprintf("%s: setldetail[%d]", what, i), got.Setldetail[i], want.rows[i])
	}
}

// compareObject compares a JSON object's fields with want's, and its
// field names with want's names.
func (m *modelRun) compareObject(what string, got map[string]json.RawMessage, want map[string]any) {
	m.t.Helper()
	var gotKeys, wantKeys []string
	for k := range got {
		gotKeys = append(gotKeys, k)
	}
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(gotKeys)
	sort.Strings(wantKeys)
	if !slices.Equal(gotKeys, wantKeys) {
		m.t.Errorf("%s: fields %v, want %v", what, gotKeys, wantKeys)
	}
	for _, k := range wantKeys {
		raw, ok := got[k]
		if !ok {
			continue
		}
		if msg := jsonMismatch(raw, want[k]); msg != "" {
			m.t.Errorf("%s: %s = %s, %s", what, k, raw, msg)
		}
	}
}

// jsonMismatch says how raw differs from want ("" when it does not).
func jsonMismatch(raw json.RawMessage, want any) string {
	switch w := want.(type) {
	case string:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != w {
			return fmt.Sprintf("want the string %q", w)
		}
	case int:
		if string(raw) != fmt.Sprint(w) {
			return fmt.Sprintf("want the integer %d", w)
		}
	case jsonMoney:
		if string(raw) != string(w) {
			return fmt.Sprintf("want the number %s", w)
		}
	case jsonDecimal:
		d, err := decimal.NewFromString(string(raw))
		if err != nil || strings.HasPrefix(string(raw), `"`) || !d.Equal(decimal.RequireFromString(string(w))) {
			return fmt.Sprintf("want a number equal to %s", w)
		}
	case procInfo:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || !hasHan(s) || !strings.Contains(s, strings.TrimPrefix(string(w), "-")) {
			return fmt.Sprintf("want a Chinese account naming %s", strings.TrimPrefix(string(w), "-"))
		}
	default:
		return fmt.Sprintf("(the test has no rule for %T)", want)
	}
	return ""
}

// finish checks the history's end state: every live settlement's first
// request replayed with its msgid answers the first answer byte for
// byte; every reversal retried answers the first reversal;
// the twins' accumulators, balances and settlements agree; 1101's balc is
// the twin's balance; 3201 agrees with the sums of the live settlements
// and differs from them with a fen more or one settlement more.
func (m *modelRun) finish() {
	m.t.Helper()
	m.clock.set(modelDate(364).Add(20 * time.Hour))
	for _, s := range m.settlements {
		v := s.visit
		if !s.reversed {
			m.clock.tick()
			if a := m.his[v.inst.fixmedins].post(s.infno, s.raw); a.Status != http.StatusOK || string(a.Output) != s.output {
				m.t.Errorf("%s of %s replayed at the end with its msgid %s answered HTTP %d %s\n%s\nnot\n%s", s.infno, s.gwID, s.msgid,
					a.Status, a.ErrMsg, a.Output, s.output)
			}
		} else {
			// A retry answers the first reversal, balc included, whatever
			// the visit became since (settled again, cancelled).
			infno := map[bool]string{false: "2208", true: "2305"}[v.inpatient()]
			if a := m.call(v, infno, s.revData, nil); string(a.Output) != s.revOutput {
				m.t.Errorf("%s of %s retried at the end answered %s\n%s\nnot\n%s", infno, s.gwID, a.ErrMsg, a.Output, s.revOutput)
			}
		}
		got, err := m.s.grpc.GetSettlement(m.ctx, &pb.GetSettlementRequest{SettlementId: s.gwID})
		if err != nil {
			m.t.Fatalf("GetSettlement(%s): %v", s.gwID, err)
		}
		twin, err := m.s.grpc.GetSettlement(m.ctx, &pb.GetSettlementRequest{SettlementId: s.twinID})
		if err != nil {
			m.t.Fatalf("GetSettlement(%s): %v", s.twinID, err)
		}
		wantState := pb.SettlementState_SETTLEMENT_STATE_SETTLED
		if s.reversed {
			wantState = pb.SettlementState_SETTLEMENT_STATE_REVERSED
		}
		if got.GetSettlement().GetState() != wantState || twin.GetSettlement().GetState() != wantState ||
			!proto.Equal(got.GetSettlement().GetBreakdown(), twin.GetSettlement().GetBreakdown()) ||
			got.GetSettlement().GetSettleDate() != twin.GetSettlement().GetSettleDate() || got.GetSettlement().GetInstitutionId() != v.inst.id {
			m.t.Errorf("settlement %s (gateway) is %v, its twin %s %v; want both %v", s.gwID, got.GetSettlement(), s.twinID, twin.GetSettlement(), wantState)
		}
	}
	for _, p := range m.pairs {
		m.sameAccumulators("the history", p)
		balance := m.accumulators(p.twin).GetAccountBalance()
		var person struct {
			Insuinfo []struct {
				Balc json.Number `json:"balc"`
			} `json:"insuinfo"`
		}
		v := &modelVisit{inst: modelInsts[p.person.GetRegion()][0]}
		m.call(v, "1101", map[string]any{"data": map[string]string{"mdtrt_cert_type": "02", "mdtrt_cert_no": p.gw, "card_sn": "",
			"begntime": m.today() + " 08:00:00", "psn_cert_type": "01", "certno": p.gw, "psn_name": ""}}, &person)
		if len(person.Insuinfo) != 1 || string(person.Insuinfo[0].Balc) != balance {
			m.t.Errorf("1101 of %s answered insuinfo %+v, want balc %s", p.gw, person.Insuinfo, balance)
		}
	}
	m.reconcile()
}

// reconcile sends 3201 for every institution and clearing type over the
// year: the sums of the live settlements agree; a fen more, or one
// settlement more, differ. The twins' copies of the institutions answer
// the same sums through gRPC Reconcile.
func (m *modelRun) reconcile() {
	m.t.Helper()
	from, to := modelDate(0).Format(time.DateOnly), modelDate(364).Format(time.DateOnly)
	for _, region := range []string{"610300", "350500"} {
		for _, inst := range modelInsts[region] {
			for _, clr := range []string{"11", "21"} {
				var count int64
				total, fund, account := decimal.Zero, decimal.Zero, decimal.Zero
				for _, s := range m.settlements {
					if s.reversed || s.visit.inst != inst || (clr == "21") != s.visit.inpatient() {
						continue
					}
					b := s.twin.GetBreakdown()
					count++
					total = total.Add(decimal.RequireFromString(b.GetTotal()))
					fund = fund.Add(decimal.RequireFromString(b.GetFundTotal()))
					account = account.Add(decimal.RequireFromString(b.GetAccount()))
				}
				v := &modelVisit{inst: inst}
				for _, tc := range []struct {
					what  string
					count int64
					total decimal.Decimal
					want  string
				}{{"the live settlements' sums", count, total, "0"}, {"a fen more", count, total.Add(decimal.New(1, -2)), "1"},
					{"one settlement more", count + 1, total, "1"}} {
					var out reconcileAnswer
					m.call(v, "3201", map[string]any{"data": map[string]any{"insutype": modelSchemes[region].insutype, "clr_type": clr,
						"setl_optins": region, "stmt_begndate": from, "stmt_enddate": to, "medfee_sumamt": json.Number(tc.total.StringFixed(2)),
						"fund_pay_sumamt": json.Number(fund.StringFixed(2)), "acct_pay": json.Number(account.StringFixed(2)),
						"fixmedins_setl_cnt": json.Number(fmt.Sprint(tc.count))}}, &out)
					if out.Stmtinfo.StmtRslt != tc.want || out.Stmtinfo.SetlOptins != region || (tc.want == "0") != (out.Stmtinfo.StmtRsltDscr == "") {
						m.t.Errorf("3201 of %s clr_type %s with %s (%d, %s, %s, %s): %+v, want stmt_rslt %s", inst.id, clr, tc.what,
							tc.count, tc.total.StringFixed(2), fund.StringFixed(2), account.StringFixed(2), out.Stmtinfo, tc.want)
					}
				}
				vts := []pb.VisitType{pb.VisitType_VISIT_TYPE_OUTPATIENT, pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT}
				if clr == "21" {
					vts = []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT}
				}
				r, err := m.s.clear.Reconcile(m.ctx, &pb.ReconcileRequest{InstitutionId: inst.twinID, PeriodFrom: from, PeriodTo: to,
					Scheme: modelSchemes[region].scheme, VisitTypes: vts, Count: count, Total: total.StringFixed(2),
					FundTotal: fund.StringFixed(2), Account: account.StringFixed(2)})
				if err != nil {
					m.t.Fatalf("Reconcile(%s): %v", inst.twinID, err)
				}
				if !r.GetMatched() || r.GetCount() != count || r.GetTotal() != total.StringFixed(2) {
					m.t.Errorf("gRPC Reconcile of %s clr %s answered %v, want matched with %d, %s", inst.twinID, clr, r, count, total.StringFixed(2))
				}
			}
		}
	}
}
