package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// refusalWorld is the state a refusal must leave as it was: every visit's
// record and live details, and each institution's settlements.
type refusalWorld struct {
	Visits      []store.Visit
	Details     [][]store.FeeDetail
	Settlements []string
}

func snapshotWorld(t *testing.T, s *gatewayDemo, visitIDs []string, insts []string) refusalWorld {
	t.Helper()
	ctx := context.Background()
	visits := s.st.(store.VisitStore)
	var w refusalWorld
	for _, id := range visitIDs {
		v, err := visits.GetVisit(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		d, err := visits.FeeDetails(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		w.Visits, w.Details = append(w.Visits, v), append(w.Details, d)
	}
	today := time.Now().In(shanghaiTZ).Format(time.DateOnly)
	for _, inst := range insts {
		for _, sc := range []pb.Scheme{pb.Scheme_SCHEME_RESIDENT, pb.Scheme_SCHEME_EMPLOYEE} {
			r, err := s.clear.Reconcile(ctx, &pb.ReconcileRequest{InstitutionId: inst, PeriodFrom: today, PeriodTo: today, Scheme: sc,
				VisitTypes: []pb.VisitType{pb.VisitType_VISIT_TYPE_OUTPATIENT, pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT, pb.VisitType_VISIT_TYPE_INPATIENT},
				Total:      "0", FundTotal: "0", Account: "0"})
			if err != nil {
				t.Fatal(err)
			}
			w.Settlements = append(w.Settlements, fmt.Sprintf("%s %v: %d %s %s %s", inst, sc, r.GetCount(), r.GetTotal(), r.GetFundTotal(), r.GetAccount()))
		}
	}
	return w
}

// hasHan reports whether s holds Chinese.
func hasHan(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}

// TestNationalRefusals sends issue 12's bad input through HTTP on both
// stores: each is refused (HTTP 401 for authentication, else infcode
// "-1") with a Chinese err_msg naming the field, and changes nothing.
func TestNationalRefusals(t *testing.T) {
	stores(t, func(t *testing.T, dbURL string) {
		s := startGatewayDemo(t, dbURL, nil)
		c := outpatientCase
		his := s.his(t, c.fixmedins, nil)
		other := s.his(t, "H61030000002", nil)
		today := time.Now().In(shanghaiTZ).Format(time.DateOnly)

		// V: open with its details uploaded; VS: settled, reversed and
		// settled again; VC: cancelled.
		v := openHISVisit(t, his, c, today)
		his.ok("2204", c.feedetail(v, "B1", today), nil)
		settleData := func(mdtrtID, bchno string) map[string]any {
			return map[string]any{"psn_no": c.person, "mdtrt_cert_type": "02", "mdtrt_cert_no": c.person, "med_type": c.medType,
				"medfee_sumamt": json.Number(c.sum()), "psn_setlway": "01", "mdtrt_id": mdtrtID, "chrg_bchno": bchno,
				"insutype": c.insutype, "acct_used_flag": "0"}
		}
		vs := openHISVisit(t, his, c, today)
		his.ok("2204", c.feedetail(vs, "B2", today), nil)
		var s1 settleOutput
		his.ok("2207", map[string]any{"data": settleData(vs, "B2")}, &s1)
		first := s1.str(t, "setl_id")
		his.ok("2208", map[string]any{"data": map[string]string{"setl_id": first, "mdtrt_id": vs, "psn_no": c.person}}, nil)
		his.ok("2207", map[string]any{"data": settleData(vs, "B2")}, nil)
		vc := openHISVisit(t, his, c, today)
		his.ok("2202", map[string]any{"data": map[string]string{"psn_no": c.person, "mdtrt_id": vc, "ipt_otp_no": ""}}, nil)

		badLine := c.feedetail(v, "B3", today)
		badLine["feedetail"].([]map[string]any)[0]["det_item_fee_sumamt"] = json.Number("25.30")
		wrongSum := settleData(v, "B1")
		wrongSum["medfee_sumamt"] = json.Number("300.00")
		stale := settleData(v, "B1")
		stale["inscp_scp_amt"] = json.Number("1.00")
		otherScheme := map[string]any{"data": map[string]string{"psn_no": c.person, "insutype": "310", "begntime": today + " 08:30:00",
			"mdtrt_cert_type": "02", "mdtrt_cert_no": c.person, "ipt_otp_no": "R-insutype", "med_type": "11"}}
		medType := map[string]any{"data": map[string]string{"psn_no": c.person, "insutype": "390", "begntime": today + " 08:30:00",
			"mdtrt_cert_type": "02", "mdtrt_cert_no": c.person, "ipt_otp_no": "R-medtype", "med_type": "99"}}
		setlway := settleData(v, "B1")
		setlway["psn_setlway"] = "02"

		for _, tc := range []struct {
			name   string
			client *hisClient
			infno  string
			path   string // "" for the client's own
			input  any
			status int
			want   []string // in err_msg
		}{
			{"unsigned", his, "9001", "", map[string]any{"signIn": map[string]string{"opter_no": "1"}}, http.StatusUnauthorized, []string{"x-tif"}},
			{"unknown infno", his, "9999", "", map[string]any{}, http.StatusOK, []string{"9999", "未开通"}},
			{"path and body infno disagree", his, "2201", "/hsa/hgs/2204", medType, http.StatusOK, []string{"infno", "2204", "2201"}},
			{"a visit of another institution", other, "2204", "", c.feedetail(v, "B4", today), http.StatusOK, []string{"mdtrt_id"}},
			{"amount not cnt × pric", his, "2204", "", badLine, http.StatusOK, []string{"det_item_fee_sumamt", "B30001"}},
			{"medfee_sumamt not the details' sum", his, "2206", "", map[string]any{"data": wrongSum}, http.StatusOK, []string{"medfee_sumamt", c.sum()}},
			{"stale pre-settlement", his, "2207", "", map[string]any{"data": stale}, http.StatusOK, []string{"inscp_scp_amt", "1.00"}},
			{"insutype not the person's scheme", his, "2201", "", otherScheme, http.StatusOK, []string{"insutype", "310"}},
			{"unsupported med_type", his, "2201", "", medType, http.StatusOK, []string{"med_type", "99"}},
			{"unsupported psn_setlway", his, "2207", "", map[string]any{"data": setlway}, http.StatusOK, []string{"psn_setlway", "02"}},
			{"reversing twice", his, "2208", "", map[string]any{"data": map[string]string{"setl_id": first, "mdtrt_id": vs, "psn_no": c.person}},
				http.StatusOK, []string{"setl_id"}},
			{"a cancelled visit", his, "2204", "", c.feedetail(vc, "B5", today), http.StatusOK, []string{vc, "已撤销"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := snapshotWorld(t, s, []string{v, vs, vc}, []string{"BJ-H3", "BJ-H2"})
				cl := *tc.client
				cl.t, cl.noSign = t, tc.name == "unsigned"
				if tc.path != "" {
					cl.path = tc.path
				}
				raw, _ := cl.body(tc.infno, tc.input)
				a := cl.post(tc.infno, raw)
				if a.Status != tc.status || a.code() != "-1" || !hasHan(a.ErrMsg) || len([]rune(a.ErrMsg)) > 200 {
					t.Fatalf("HTTP %d %s: want HTTP %d, infcode -1 and a Chinese err_msg", a.Status, a.Raw, tc.status)
				}
				t.Logf("HTTP %d err_msg %s", a.Status, a.ErrMsg)
				for _, w := range tc.want {
					if !strings.Contains(a.ErrMsg, w) {
						t.Errorf("err_msg %q does not name %q", a.ErrMsg, w)
					}
				}
				if after := snapshotWorld(t, s, []string{v, vs, vc}, []string{"BJ-H3", "BJ-H2"}); !reflect.DeepEqual(after, before) {
					t.Errorf("the refusal changed\n%+v\ninto\n%+v", before, after)
				}
			})
		}
	})
}
