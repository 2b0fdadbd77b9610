package national

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// feeLine is one feedetail line of visit id and person psn.
func feeLine(id, psn, sn, code, cnt, pric, amount string) string {
	return fmt.Sprintf(`{"feedetl_sn":"%s","mdtrt_id":"%s","psn_no":"%s","chrg_bchno":"B1","med_type":"11","fee_ocur_time":"2025-03-04 09:00:00",`+
		`"med_list_codg":"%s","medins_list_codg":"院内%s","det_item_fee_sumamt":%s,"cnt":%s,"pric":%s,"rxno":"R1","expContent":{"x":1}}`,
		sn, id, psn, code, code, amount, cnt, pric)
}

func upload(lines ...string) string { return `{"feedetail":[` + strings.Join(lines, ",") + `]}` }

func TestUploadOutpatient(t *testing.T) {
	f := newFixture(t)
	id := f.open()
	in := upload(
		feeLine(id, "P1", "1", "A1", "3", "12", "36.00"),
		feeLine(id, "P1", "2", "B1", `"2.5"`, `"4.123456"`, `"10.31"`),
		feeLine(id, "P1", "3", "B2", "7", "1.5", "10.5"),
		feeLine(id, "P1", "4", "C1", "1", "99.99", "99.99"),
		feeLine(id, "P1", "5", "ZZ9", "1.25", "8", "10"),
	)
	out := f.ok("H1", "2204", in)
	want := `{"result":[` +
		`{"feedetl_sn":"1","det_item_fee_sumamt":36.00,"cnt":3,"pric":12,"pric_uplmt_amt":10.5,"selfpay_prop":0,"fulamt_ownpay_amt":0.00,"overlmt_amt":4.50,"preselfpay_amt":0.00,"inscp_scp_amt":31.50,"chrgitm_lv":"01","med_chrgitm_type":""},` +
		`{"feedetl_sn":"2","det_item_fee_sumamt":10.31,"cnt":2.5,"pric":4.123456,"pric_uplmt_amt":3.333333,"selfpay_prop":0.1,"fulamt_ownpay_amt":0.00,"overlmt_amt":1.98,"preselfpay_amt":0.83,"inscp_scp_amt":7.50,"chrgitm_lv":"02","med_chrgitm_type":""},` +
		`{"feedetl_sn":"3","det_item_fee_sumamt":10.50,"cnt":7,"pric":1.5,"pric_uplmt_amt":0,"selfpay_prop":0.15,"fulamt_ownpay_amt":0.00,"overlmt_amt":0.00,"preselfpay_amt":1.58,"inscp_scp_amt":8.92,"chrgitm_lv":"02","med_chrgitm_type":""},` +
		`{"feedetl_sn":"4","det_item_fee_sumamt":99.99,"cnt":1,"pric":99.99,"pric_uplmt_amt":0,"selfpay_prop":1,"fulamt_ownpay_amt":99.99,"overlmt_amt":0.00,"preselfpay_amt":0.00,"inscp_scp_amt":0.00,"chrgitm_lv":"03","med_chrgitm_type":""},` +
		`{"feedetl_sn":"5","det_item_fee_sumamt":10.00,"cnt":1.25,"pric":8,"pric_uplmt_amt":0,"selfpay_prop":1,"fulamt_ownpay_amt":10.00,"overlmt_amt":0.00,"preselfpay_amt":0.00,"inscp_scp_amt":0.00,"chrgitm_lv":"03","med_chrgitm_type":""}]}`
	if out != want {
		t.Errorf("2204 answered\n%s\nwant\n%s", out, want)
	}
	st := f.state(id)
	if len(st.Details) != 5 {
		t.Fatalf("%d lines stored, want 5", len(st.Details))
	}
	wantLine := store.FeeDetail{VisitID: id, SN: "2", Batch: "B1", Code: "B1", Name: "院内B1", Quantity: engine.MustQuantity("2.5"),
		UnitPrice: engine.MustPrice("4.123456"), Amount: engine.MustMoney("10.31"), FeeTime: "2025-03-04 09:00:00", MedType: "11"}
	if !reflect.DeepEqual(st.Details[1], wantLine) {
		t.Errorf("stored %+v, want %+v", st.Details[1], wantLine)
	}
	// A retry is a no-op answering the same.
	if again := f.ok("H1", "2204", in); again != want {
		t.Errorf("retry answered %s", again)
	}
	f.unchanged(id, st)

	// The same SN with other content is refused, naming it; nothing changes.
	f.refused("H1", "2204", upload(feeLine(id, "P1", "6", "A1", "1", "1", "1"), feeLine(id, "P1", "2", "B1", "1", "4", "4")),
		"feedetl_sn 2 已上传且内容不同", "2205")
	f.unchanged(id, st)
}

func TestUploadRefusals(t *testing.T) {
	f := newFixture(t)
	id := f.open()
	f.ok("H1", "2204", upload(feeLine(id, "P1", "1", "A1", "1", "2", "2")))
	before := f.state(id)
	ok := feeLine(id, "P1", "9", "A1", "1", "2", "2")

	// Every bad line is named, with what is wrong; the good one is not stored.
	msg := f.refused("H1", "2204", upload(ok,
		feeLine(id, "P1", "10", "A1", "3", "4.5", "13.60"),
		feeLine(id, "P1", "11", "A1", "-1", "2", "2"),
		feeLine(id, "P2", "12", "A1", "1", "2", "2"),
		feeLine(id, "P1", "9", "A1", "1", "2", "2"),
	), "费用明细 4 条有误", "feedetl_sn 10、feedetl_sn 11、feedetl_sn 12、feedetl_sn 9",
		"det_item_fee_sumamt 13.60 不等于 cnt 3 × pric 4.5 的两位舍入 13.50",
		"cnt -1 为负数：退费请撤销明细")
	if strings.Contains(msg, "feedetl_sn 9、") {
		t.Errorf("the first line 9 is good: %s", msg)
	}
	f.unchanged(id, before)

	f.refused("H1", "2204", upload(feeLine(id, "P2", "12", "A1", "1", "2", "2")), "feedetl_sn 12 psn_no 须为就诊的人员 P1")
	if msg := f.refused("H1", "2204", upload(ok, feeLine(id, "P1", "7", "A1", "-2", "2", "4"))); msg != "费用明细 1 条有误，整批未保存，请改正后重传：feedetl_sn 7；feedetl_sn 7 cnt -2 为负数：退费请撤销明细（2205/2302）后重传，不能上传负数量" {
		t.Errorf("negative cnt refused with %q", msg)
	}
	if msg := f.refused("H1", "2204", upload(feeLine(id, "P1", "7", "A1", "2", "4.5", "9.01"))); msg != "费用明细 1 条有误，整批未保存，请改正后重传：feedetl_sn 7；feedetl_sn 7 det_item_fee_sumamt 9.01 不等于 cnt 2 × pric 4.5 的两位舍入 9.00" {
		t.Errorf("amount refused with %q", msg)
	}
	f.refused("H1", "2204", upload(feeLine(id, "P1", "13", "A1", "1.00001", "2", "2")), "cnt「1.00001」须大于 0")
	f.refused("H1", "2204", upload(feeLine(id, "P1", "13", "A1", "0", "2", "0")), "cnt「0」须大于 0")
	f.refused("H1", "2204", upload(feeLine(id, "P1", "13", "A1", "1", "2.0000001", "2")), "pric「2.0000001」须不小于 0")
	f.refused("H1", "2204", upload(feeLine(id, "P1", "13", "A1", "1", "2", "2.001")), "det_item_fee_sumamt「2.001」")
	f.refused("H1", "2204", upload(strings.Replace(feeLine(id, "P1", "13", "A1", "1", "2", "2"), `"2025-03-04 09:00:00"`, `"2019-03-04 09:00:00"`, 1)),
		"费用日期 2019-03-04 没有在用的医保政策")
	f.refused("H1", "2204", upload(strings.Replace(feeLine(id, "P1", "13", "A1", "1", "2", "2"), `"chrg_bchno":"B1"`, `"chrg_bchno":""`, 1)), "chrg_bchno 为空")
	f.refused("H1", "2204", upload(strings.Replace(feeLine(id, "P1", "13", "A1", "1", "2", "2"), `,"cnt":1`, ``, 1)), "cnt 缺失")
	f.refused("H1", "2204", upload(feeLine(id, "P1", "", "A1", "1", "2", "2")), "第 1 条", "feedetl_sn 为空")
	f.refused("H1", "2204", upload(ok, `"x"`), "第 2 条 不是费用明细对象")
	f.refused("H1", "2204", upload(ok, strings.Replace(ok, `"cnt":1`, `"cnt":{"v":1}`, 1)), "费用明细 1 条有误", "feedetl_sn 9 不是费用明细对象或有字段类型不对")
	f.refused("H1", "2204", `{"feedetail":[]}`, "input.feedetail 为空")
	f.refused("H1", "2204", upload(strings.Repeat(ok+",", engine.MaxItems)+ok), "一次至多上传 2000 条")
	f.refused("H2", "2204", upload(ok), "mdtrt_id "+id+" 不存在或不是本机构的就诊")
	f.refused("H1", "2204", upload(feeLine("MD404", "P1", "9", "A1", "1", "2", "2")), "mdtrt_id MD404 不存在")
	f.refused("H1", "2301", upload(ok), "交易 2301 只办理住院")
	f.unchanged(id, before)

	// Many bad lines: the message stays within 200 characters.
	var many []string
	for i := 0; i < 50; i++ {
		many = append(many, feeLine(id, "P1", fmt.Sprintf("SN%03d", i), "A1", "-1", "1", "1"))
	}
	f.refused("H1", "2204", upload(many...), "费用明细 50 条有误", "feedetl_sn SN000")

	// A settled or cancelled visit takes no details.
	if _, err := f.st.MarkVisitSettled(context.Background(), id, "ST1"); err != nil {
		t.Fatal(err)
	}
	before = f.state(id)
	f.refused("H1", "2204", upload(ok), "已结算（setl_id ST1），不能上传费用明细")
	f.refused("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","feedetl_sn":"0000"}}`, "已结算（setl_id ST1），不能撤销费用明细")
	f.unchanged(id, before)
	id2 := mdtrtID(t, f.ok("H1", "2201", strings.Replace(open2201, "OP-1", "OP-2", 1)))
	f.ok("H1", "2202", `{"data":{"mdtrt_id":"`+id2+`","psn_no":"P1"}}`)
	f.refused("H1", "2204", upload(feeLine(id2, "P1", "1", "A1", "1", "2", "2")), "就诊 "+id2+" 已撤销，不能上传费用明细")
}

func TestUploadUnknownItemReject(t *testing.T) {
	f := newFixture(t)
	id := mdtrtID(t, f.ok("H1", "2201", strings.Replace(open2201, `"psn_no":"P1"`, `"psn_no":"P3"`, 1)))
	before := f.state(id)
	f.refused("H1", "2204", upload(feeLine(id, "P3", "1", "A1", "1", "2", "2"), feeLine(id, "P3", "2", "ZZ9", "1", "2", "2")),
		"费用明细 1 条有误", "feedetl_sn 2 med_list_codg ZZ9 不在医保目录中")
	f.unchanged(id, before)
	f.ok("H1", "2204", upload(feeLine(id, "P3", "1", "A1", "1", "2", "2")))
}

func TestUploadInpatientAndCancel(t *testing.T) {
	f := newFixture(t)
	id := f.admit()
	line := func(sn, code string) string {
		return strings.Replace(feeLine(id, "P1", sn, code, "2", "3", "6"), `"fee_ocur_time":"2025-03-04 09:00:00"`, `"fee_ocur_time":"20250305101010"`, 1)
	}
	out := f.ok("H1", "2301", upload(line("1", "A1"), line("2", "C1"), line("3", "A1")))
	if !strings.HasPrefix(out, `{"result":[{"feedetl_sn":"1","det_item_fee_sumamt":6.00,"cnt":2,"pric":3,`) {
		t.Errorf("2301 answered %s", out)
	}
	st := f.state(id)
	if len(st.Details) != 3 || st.Details[0].Batch != "" || st.Details[0].FeeTime != "20250305101010" {
		t.Fatalf("stored %+v", st.Details)
	}
	f.refused("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","feedetl_sn":"1"}}`, "交易 2205 只办理门诊")
	f.refused("H1", "2302", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P2","feedetl_sn":"1"}}`, "psn_no P2 不是就诊")
	f.unchanged(id, st)

	if out := f.ok("H1", "2302", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","feedetl_sn":"2"}}`); out != `{}` {
		t.Errorf("2302 answered %s", out)
	}
	if got := f.state(id).Details; len(got) != 2 || got[0].SN != "1" || got[1].SN != "3" {
		t.Errorf("after cancelling 2: %+v", got)
	}
	f.ok("H1", "2302", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","feedetl_sn":"2"}}`) // a retry
	// A cancelled SN may be uploaded again with other content.
	f.ok("H1", "2301", upload(strings.Replace(line("2", "B1"), `"det_item_fee_sumamt":6,"cnt":2`, `"det_item_fee_sumamt":3,"cnt":1`, 1)))
	if out := f.ok("H1", "2302", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","feedetl_sn":"0000"}}`); out != `{}` {
		t.Errorf("2302 0000 answered %s", out)
	}
	if got := f.state(id).Details; len(got) != 0 {
		t.Errorf("after cancelling all: %+v", got)
	}
}

func TestCancelOutpatientDetailsByBatch(t *testing.T) {
	f := newFixture(t)
	id := f.open()
	b2 := strings.Replace(feeLine(id, "P1", "2", "A1", "1", "2", "2"), `"chrg_bchno":"B1"`, `"chrg_bchno":"B2"`, 1)
	f.ok("H1", "2204", upload(feeLine(id, "P1", "1", "A1", "1", "2", "2"), b2, feeLine(id, "P1", "3", "A1", "1", "2", "2")))
	// Jiangsu clients send no feedetl_sn: chrg_bchno alone cancels its batch.
	f.ok("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","chrg_bchno":"B1"}}`)
	if got := f.state(id).Details; len(got) != 1 || got[0].SN != "2" {
		t.Errorf("after cancelling batch B1: %+v", got)
	}
	f.ok("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","chrg_bchno":"0000"}}`)
	if got := f.state(id).Details; len(got) != 0 {
		t.Errorf("after chrg_bchno 0000: %+v", got)
	}
	f.refused("H1", "2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","feedetl_sn":"`+strings.Repeat("x", 65)+`"}}`, "feedetl_sn 须为 1 至 64 个字符")
}
