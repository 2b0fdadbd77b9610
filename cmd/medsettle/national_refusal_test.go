package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
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

		// V: open with its details uploaded; VS: settled, reversed over
		// gRPC and settled again; VC: cancelled.
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
		// Reversed over gRPC, not by the gateway's 2208: a 2208 of it is
		// reversing twice, not a retry (a retry of the gateway's own
		// reversal is answered: TestNationalReversalRetryAnswersFirstReversal).
		if _, err := s.grpc.ReverseSettlement(context.Background(), &pb.ReverseSettlementRequest{RequestId: "grpc-rev-" + first,
			SettlementId: first, Reason: "refusal test"}); err != nil {
			t.Fatal(err)
		}
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
		// A key the config does not list (signed with BJ-H3's secret), and
		// BJ-H3's credential sending BJ-H2's fixmedins_code.
		unknownKey, wrongCode := *his, *his
		unknownKey.key, wrongCode.code = "demo-NOBODY", "H61030000002"
		nobody := map[string]any{"data": map[string]string{"psn_no": "NOBODY9", "insutype": "390", "begntime": today + " 08:30:00",
			"mdtrt_cert_type": "02", "mdtrt_cert_no": "NOBODY9", "ipt_otp_no": "R-nobody", "med_type": "11"}}
		noVisit := "MD0000000000000000000000000404"
		noVisitSettle := settleData(noVisit, "B1")

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
			{"unregistered key", &unknownKey, "2204", "", c.feedetail(v, "B6", today), http.StatusUnauthorized, []string{"x-tif-paasid"}},
			{"fixmedins_code not the credential's", &wrongCode, "2204", "", c.feedetail(v, "B7", today), http.StatusOK,
				[]string{"fixmedins_code", "H61030000002"}},
			{"unknown person", his, "2201", "", nobody, http.StatusOK, []string{"psn_no", "NOBODY9"}},
			{"unknown visit (upload)", his, "2204", "", c.feedetail(noVisit, "B8", today), http.StatusOK, []string{"mdtrt_id", noVisit}},
			{"unknown visit (settle)", his, "2207", "", map[string]any{"data": noVisitSettle}, http.StatusOK, []string{"mdtrt_id", noVisit}},
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

// TestNationalSignatureBeforeBody sends, to the binary's own server
// (serve --demo --national-listen …), requests whose bodies are
// malformed, truncated, empty or over the 4 MiB limit, unsigned, signed
// with a wrong secret, or signed with a key the config does not list:
// each is answered HTTP 401 with an envelope naming the header, never a
// JSON error or 413, because the signature is checked before the body is
// read. The same bodies correctly signed get the body's own answers (a
// JSON error, 413), so the 401s are the signature's.
func TestNationalSignatureBeforeBody(t *testing.T) {
	s := serveGatewayDemo(t, "")
	his := s.his(t, "H61030000003", nil)
	env, _ := his.body("9001", map[string]any{"signIn": map[string]string{"opter_no": "1"}})
	oversized := append([]byte(`{"infno":"9001","msgid":"M1","fixmedins_code":"H61030000003","input":{"pad":"`),
		bytes.Repeat([]byte("x"), 4<<20+4096)...)
	oversized = append(oversized, `"}}`...)
	bodies := []struct {
		name string
		body []byte
		// signed is the answer to the body correctly signed.
		signedStatus int
		signedMsg    string
	}{
		{"malformed", []byte("{infno: 9001, 这不是 JSON"), http.StatusOK, "JSON"},
		{"truncated", env[:len(env)/2], http.StatusOK, "JSON"},
		{"empty", nil, http.StatusOK, "JSON"},
		{"oversized", oversized, http.StatusRequestEntityTooLarge, "4194304"},
	}
	wrongSecret, unknownKey := *his, *his
	wrongSecret.secret, unknownKey.key = "not-the-secret", "demo-NOBODY"
	for _, b := range bodies {
		for _, tc := range []struct {
			name    string
			headers http.Header
			want    string // in err_msg
		}{
			{"unsigned", http.Header{"Content-Type": {"application/json"}}, "x-tif"},
			{"wrong secret", wrongSecret.headers(), "x-tif-signature"},
			{"unregistered key", unknownKey.headers(), "x-tif-paasid"},
		} {
			t.Run(b.name+"/"+tc.name, func(t *testing.T) {
				a := postRawBody(t, s.gw+his.path, tc.headers, b.body)
				if a.Status != http.StatusUnauthorized || a.code() != "-1" || !hasHan(a.ErrMsg) || !strings.Contains(a.ErrMsg, tc.want) {
					t.Fatalf("HTTP %d %s: want HTTP 401, infcode -1 and err_msg naming %s", a.Status, a.Raw, tc.want)
				}
			})
		}
		t.Run(b.name+"/signed", func(t *testing.T) {
			a := postRawBody(t, s.gw+his.path, his.headers(), b.body)
			t.Logf("HTTP %d err_msg %s", a.Status, a.ErrMsg)
			if a.Status != b.signedStatus || a.code() != "-1" || !strings.Contains(a.ErrMsg, b.signedMsg) {
				t.Fatalf("HTTP %d %s: want HTTP %d, infcode -1 and err_msg naming %q", a.Status, a.Raw, b.signedStatus, b.signedMsg)
			}
		})
	}
}

// postRawBody posts body to url with headers over a connection of its
// own, writing the body while it reads the answer (a server that answers
// before reading the body may close the connection before it is all
// written), and reads the answer as an envelope.
func postRawBody(t *testing.T, url string, headers http.Header, body []byte) hisAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = headers
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	go func() { _ = req.Write(conn) }() // fails once the server closes: the answer counts
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var a hisAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("HTTP %d answer %q is not an envelope: %v", resp.StatusCode, raw, err)
	}
	a.Status, a.Raw = resp.StatusCode, string(raw)
	return a
}
