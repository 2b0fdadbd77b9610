package national

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// outputJSON is an answer's output as compact JSON.
func outputJSON(t *testing.T, raw string) string {
	t.Helper()
	var env struct {
		Output json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal([]byte(raw), &env); err != nil {
		t.Fatal(err)
	}
	return string(env.Output)
}

// TestSignIn9001 answers exactly: the Asia/Shanghai sign_time and a
// 30-digit sign_no starting with it, new on each sign-in.
func TestSignIn9001(t *testing.T) {
	s := newServed(t, SchemeXTif)
	code, r, raw := s.post("9001", `{"signIn":{"opter_no":"001","mac":"00-11-22-33-44-55","ip":"10.1.2.3"}}`)
	if code != http.StatusOK || r.Infcode != "0" {
		t.Fatalf("HTTP %d %s", code, raw)
	}
	var out signInOutput
	if err := json.Unmarshal([]byte(outputJSON(t, raw)), &out); err != nil {
		t.Fatal(err)
	}
	no := out.Signinoutb.SignNo
	if out.Signinoutb.SignTime != "2025-03-04 13:06:07" || len(no) != 30 || !strings.HasPrefix(no, "20250304130607") || !digits(no, 30) {
		t.Fatalf("signinoutb %+v", out.Signinoutb)
	}
	if want := `{"signinoutb":{"sign_time":"2025-03-04 13:06:07","sign_no":"` + no + `"}}`; outputJSON(t, raw) != want {
		t.Fatalf("output %s, want %s", outputJSON(t, raw), want)
	}
	_, _, raw2 := s.post("9001", `{"signIn":{"opter_no":"001"}}`)
	if strings.Contains(raw2, no) {
		t.Fatal("a second sign-in answered the same sign_no")
	}
	for input, want := range map[string]string{
		`{}`:                     "缺少 input.signIn：请传入 signIn{opter_no, mac, ip}",
		`null`:                   "input 为空，请按接口规范传入 input",
		`{"signIn":{"mac":"x"}}`: "signIn.opter_no 为空，请传入正确的 signIn.opter_no",
		`{"signIn":{"opter_no":"1","ip":"` + strings.Repeat("9", 65) + `"}}`: "signIn.ip 长 65 个字符，超过 64：请核对",
		`{"signIn":"x"}`: "input.signIn 类型不对（string），请按接口规范传入",
	} {
		code, r, raw := s.post("9001", input)
		if code != http.StatusOK || r.Infcode != "-1" || r.ErrMsg != want {
			t.Fatalf("%s: HTTP %d %s\nwant %q", input, code, raw, want)
		}
	}
}

// TestPerson1101 answers a person exactly: baseinfo, one insuinfo row,
// the identities held today (Asia/Shanghai), the undated one without
// dates.
func TestPerson1101(t *testing.T) {
	s := newServed(t, SchemeXTif)
	const p2Today = `{"baseinfo":{"psn_no":"P2","psn_cert_type":"01","certno":"P2","psn_name":"李四","gend":"","naty":"","brdy":"","age":0},` +
		`"insuinfo":[{"balc":1234.50,"insutype":"310","psn_type":"","psn_insu_stas":"1","psn_insu_date":"","paus_insu_date":"","cvlserv_flag":"0","insuplc_admdvs":"610302","emp_name":""}],` +
		`"idetinfo":[{"psn_idet_type":"2305","psn_type_lv":"","memo":"","begntime":"","endtime":""},` +
		`{"psn_idet_type":"2304","psn_type_lv":"","memo":"","begntime":"2025-01-01 00:00:00","endtime":"2025-03-04 23:59:59"}]}`
	for _, input := range []string{
		`{"data":{"mdtrt_cert_type":"02","mdtrt_cert_no":"P2","card_sn":"","begntime":"2025-03-04 13:00:00","psn_cert_type":"01","certno":"P2","psn_name":"李四"}}`,
		`{"data":{"mdtrt_cert_type":"02","mdtrt_cert_no":"","certno":"P2"}}`,
		`{"data":{"mdtrt_cert_type":"03","mdtrt_cert_no":"CARD-UNKNOWN","certno":"P2"}}`,
	} {
		code, r, raw := s.post("1101", input)
		if code != http.StatusOK || r.Infcode != "0" || outputJSON(t, raw) != p2Today {
			t.Fatalf("%s: HTTP %d\n%s\nwant output %s", input, code, raw, p2Today)
		}
	}
	// 2025-03-04 17:00 UTC is already 2025-03-05 in Asia/Shanghai: the
	// destitute identity has ended, the minimum-living one begun.
	s.clock.add(12 * time.Hour)
	_, _, raw := s.post("1101", `{"data":{"mdtrt_cert_no":"P2"}}`)
	want := `[{"psn_idet_type":"2305","psn_type_lv":"","memo":"","begntime":"","endtime":""},` +
		`{"psn_idet_type":"2303","psn_type_lv":"","memo":"","begntime":"2025-03-05 00:00:00","endtime":"2025-12-31 23:59:59"}]`
	if !strings.Contains(outputJSON(t, raw), `"idetinfo":`+want+`}`) {
		t.Fatalf("on 2025-03-05: %s\nwant idetinfo %s", raw, want)
	}
	// A resident with no identity: an empty list, balance 0.00.
	_, _, raw = s.post("1101", `{"data":{"mdtrt_cert_no":"P1"}}`)
	if o := outputJSON(t, raw); !strings.Contains(o, `"idetinfo":[]`) || !strings.Contains(o, `"balc":0.00,"insutype":"390"`) {
		t.Fatalf("P1: %s", o)
	}
	before := len(s.events())
	for input, want := range map[string]string{
		`{"data":{"mdtrt_cert_no":"NOBODY"}}`:       "人员不存在：mdtrt_cert_no / certno 未找到参保人员，请核对证件号码",
		`{"data":{"mdtrt_cert_no":"","certno":""}}`: "缺少 mdtrt_cert_no 和 certno：请传入就诊凭证编号或证件号码（人员编号）",
		`{}`: "缺少 input.data：请传入 data{mdtrt_cert_type, mdtrt_cert_no, certno, …}",
		`{"data":{"mdtrt_cert_no":"` + strings.Repeat("x", 200) + `"}}`:               "mdtrt_cert_no 须为 1 至 64 个字符且不含控制字符，请传入正确的 mdtrt_cert_no",
		`{"data":{"mdtrt_cert_no":"P2","certno":"` + strings.Repeat("x", 200) + `"}}`: "certno 须为 1 至 64 个字符且不含控制字符，请传入正确的 certno",
	} {
		code, r, raw := s.post("1101", input)
		if code != http.StatusOK || r.Infcode != "-1" || r.ErrMsg != want {
			t.Fatalf("%s: HTTP %d %s\nwant %q", input, code, raw, want)
		}
	}
	if n := len(s.events()); n != before+5 {
		t.Fatalf("%d events, want %d: one per refused request", n, before+5)
	}
}
