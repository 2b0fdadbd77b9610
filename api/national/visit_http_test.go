package national

import (
	"context"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/engine"
)

// TestVisitOverHTTP: an outpatient visit, an upload and a cancellation
// through ServeHTTP, signed as H1: the envelopes carry the handlers'
// answers as written (two-decimal amounts, exact numbers, {} for nothing).
func TestVisitOverHTTP(t *testing.T) {
	s := newServed(t, "x-tif")
	p := &engine.Policy{Region: "610300", Scheme: engine.SchemeResident, Version: "v1",
		EffectiveFrom: engine.Date{Year: 2025, Month: 1, Day: 1}, EffectiveTo: engine.Date{Year: 2025, Month: 12, Day: 31},
		UnknownItem: engine.UnknownItemSelfPay,
		Catalog:     []engine.CatalogEntry{{Code: "B1", Category: engine.ItemB, SelfPayRatio: engine.MustRatio("0.2")}}}
	if err := s.st.PutPolicy(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	_, r, raw := s.post("2201", open2201)
	if r.Infcode != "0" {
		t.Fatalf("2201: %s", raw)
	}
	id := mdtrtID(t, raw[strings.Index(raw, `"output":`)+len(`"output":`):strings.LastIndex(raw, "}")])

	_, r, raw = s.post("2204", upload(feeLine(id, "P1", "1", "B1", "3", "0.333333", "1.00")))
	if want := `"output":{"result":[{"feedetl_sn":"1","det_item_fee_sumamt":1.00,"cnt":3,"pric":0.333333,"pric_uplmt_amt":0,"selfpay_prop":0.2,` +
		`"fulamt_ownpay_amt":0.00,"overlmt_amt":0.00,"preselfpay_amt":0.20,"inscp_scp_amt":0.80,"chrgitm_lv":"02","med_chrgitm_type":""}]}`; r.Infcode != "0" || !strings.Contains(raw, want) {
		t.Errorf("2204 answered %s\nwant it to hold %s", raw, want)
	}

	_, r, raw = s.post("2204", upload(feeLine(id, "P1", "2", "B1", "-1", "1", "1")))
	if r.Infcode != "-1" || !strings.Contains(r.ErrMsg, "cnt -1 为负数") {
		t.Errorf("a negative cnt answered %s", raw)
	}
	_, r, raw = s.post("2205", `{"data":{"mdtrt_id":"`+id+`","psn_no":"P1","chrg_bchno":"0000","feedetl_sn":"0000"}}`)
	if r.Infcode != "0" || !strings.Contains(raw, `"output":{}`) {
		t.Errorf("2205 answered %s", raw)
	}
	if d, err := s.st.FeeDetails(context.Background(), id, ""); err != nil || len(d) != 0 {
		t.Errorf("after 2205: %v, %v", d, err)
	}
}
