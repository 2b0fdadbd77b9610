package national

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/medsettle/medsettle/store"
)

// refusedOK posts a signed body of H1 to path with contentType and
// expects HTTP 200, infcode "-1" and an err_msg equal to want; the
// request is recorded with code 3 and nothing else changes.
func (s *served) refusedOK(path, contentType, body, want string) {
	s.t.Helper()
	before := len(s.events())
	code, _, r, raw := s.do(http.MethodPost, path, contentType, s.sign("AK1", secretH1), body)
	if code != http.StatusOK || r.Infcode != "-1" || r.ErrMsg != want || r.Output != nil {
		s.t.Fatalf("HTTP %d %s\nwant 200, err_msg %q", code, raw, want)
	}
	ev := s.events()
	if len(ev) != before+1 || ev[len(ev)-1].Code != 3 || !strings.HasPrefix(ev[len(ev)-1].Method, "national/") {
		s.t.Fatalf("events %+v, want one more national/… event with code 3", ev[before:])
	}
}

// TestEnvelopeRefusals: every malformed or mismatched envelope is
// answered infcode "-1" with a message naming the field, recorded, and
// opens no visit.
func TestEnvelopeRefusals(t *testing.T) {
	s := newServed(t, SchemeXTif)
	cv := &countingVisits{VisitStore: s.st, opened: map[string]bool{}}
	s.g.visits = cv
	open := `{"data":{"psn_no":"P1","insutype":"390","begntime":"2025-03-04 08:00:00","mdtrt_cert_type":"02","mdtrt_cert_no":"P1","ipt_otp_no":"OP-1"}}`
	for _, c := range []struct{ path, body, want string }{
		{nationalPath, envelope("2201", "M1", "H61030000002", open), `fixmedins_code "H61030000002" 与签名凭证的机构 H61030000001 不符：请填写本机构的定点医药机构编号`},
		{nationalPath, envelope("2201", "M1", "", open), "缺少 fixmedins_code：请填写定点医药机构编号"},
		{"/api/2202", envelope("2201", "M1", "H61030000001", open), `路径末段 "2202" 与报文 infno 2201 不一致：请求路径应以交易编号结尾，或使用 /fsi/api/rsfComIfsService/callService`},
		{"/", envelope("2201", "M1", "H61030000001", open), `路径末段 "" 与报文 infno 2201 不一致：请求路径应以交易编号结尾，或使用 /fsi/api/rsfComIfsService/callService`},
		{nationalPath, envelope("9999", "M1", "H61030000001", open), "交易 9999 未开通"},
		{"/x/9999", envelope("9999", "M1", "H61030000001", open), "交易 9999 未开通"},
		{nationalPath, envelope("22010", "M1", "H61030000001", open), `infno "22010" 不是 4 位数字交易编号：请核对`},
		{nationalPath, envelope("", "M1", "H61030000001", open), "缺少 infno：请填写 4 位交易编号"},
		{nationalPath, envelope("2201", "", "H61030000001", open), "缺少 msgid：请填写报文 ID（不超过 30 个字符）"},
		{nationalPath, envelope("2201", strings.Repeat("号", 31), "H61030000001", open), "msgid 长 31 个字符，超过 30：请缩短报文 ID"},
		{nationalPath, `{"infno":"2201",`, "报文不是合法的 JSON（第 16 字节附近）：请检查报文格式"},
		{nationalPath, `[1,2]`, "报文不是一个 JSON 对象：请检查报文格式"},
		{nationalPath, `{"infno":2201,"msgid":"M1"}`, "报文字段 infno 的类型不对：应为字符串"},
		{nationalPath, "{\"infno\":\"2201\",\"msgid\":\"\xff\"}", "报文不是 UTF-8 编码：请以 UTF-8 编码提交"},
		{nationalPath, `{"infno":"2201","msgid":"M1","fixmedins_code":"H61030000001"} {}`, "报文不是合法的 JSON（第 63 字节附近）：请检查报文格式"},
	} {
		s.refusedOK(c.path, "application/json", c.body, c.want)
	}
	if cv.writes != 0 {
		t.Fatalf("%d visit writes after refusals", cv.writes)
	}
	// msgid of exactly 30 characters, a byte-order mark and text/plain
	// are accepted.
	code, _, r, raw := s.do(http.MethodPost, "/prefix/9001", "text/plain; charset=UTF-8", s.sign("AK1", secretH1),
		"\xef\xbb\xbf"+signIn9001(strings.Repeat("号", 30)))
	if code != http.StatusOK || r.Infcode != "0" {
		t.Fatalf("text/plain: HTTP %d %s", code, raw)
	}
}

// TestHTTPRefusals: a method other than POST (405), a content type other
// than JSON or text in UTF-8 (415; none at all is read as JSON), a body
// over the limit (413): each with an envelope, none changing anything.
func TestHTTPRefusals(t *testing.T) {
	s := newServed(t, SchemeXTif, WithMaxBodyBytes(1000))
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		code, h, r, raw := s.do(m, nationalPath, "application/json", s.sign("AK1", secretH1), "")
		if code != http.StatusMethodNotAllowed || r.Infcode != "-1" || r.ErrMsg != "只接受 POST 请求：请以 POST 提交报文" || h.Get("Allow") != "POST" {
			t.Fatalf("%s: HTTP %d %s", m, code, raw)
		}
	}
	for ct, want := range map[string]string{
		"application/xml":                   "Content-Type 须为 application/json 或 text/plain（UTF-8 编码）",
		"application/json; charset=GBK":     "Content-Type 须为 application/json 或 text/plain（UTF-8 编码），不支持 charset=GBK",
		"application/x-www-form-urlencoded": "Content-Type 须为 application/json 或 text/plain（UTF-8 编码）",
	} {
		code, _, r, raw := s.do(http.MethodPost, nationalPath, ct, s.sign("AK1", secretH1), signIn9001("M1"))
		if code != http.StatusUnsupportedMediaType || r.Infcode != "-1" || r.ErrMsg != want {
			t.Fatalf("Content-Type %q: HTTP %d %s", ct, code, raw)
		}
	}
	// No Content-Type at all is read as JSON (many HIS clients send none).
	if code, _, r, raw := s.do(http.MethodPost, nationalPath, "", s.sign("AK1", secretH1), signIn9001("M0")); code != http.StatusOK || r.Infcode != "0" {
		t.Fatalf("no Content-Type: HTTP %d %s", code, raw)
	}
	big := envelope("9001", "M1", "H61030000001", `{"signIn":{"opter_no":"001","mac":"`+strings.Repeat("a", 1000)+`"}}`)
	code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", s.sign("AK1", secretH1), big)
	if code != http.StatusRequestEntityTooLarge || r.Infcode != "-1" || r.ErrMsg != "报文超过 1000 字节：请分批上传费用明细" {
		t.Fatalf("oversize: HTTP %d %s", code, raw)
	}
	ev := s.events()
	if len(ev) != 2 || ev[0].Method != "national/9001" || ev[0].Code != 0 ||
		ev[1].Method != "national/invalid" || ev[1].Code != 8 || ev[1].CallerInstitution != "H1" {
		t.Fatalf("events %+v, want the sign-in without Content-Type's and the oversize request's (national/invalid, RESOURCE_EXHAUSTED)", ev)
	}
	// A body of exactly the limit is read.
	exact := signIn9001("M2")
	exact = exact[:len(exact)-1] + strings.Repeat(" ", 1000-len(exact)) + "}"
	if code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", s.sign("AK1", secretH1), exact); code != http.StatusOK || r.Infcode != "0" {
		t.Fatalf("body of exactly the limit: HTTP %d %s", code, raw)
	}
}

// TestAuditEventPerRequest: an answered request is recorded with its
// transaction, msgid, institution, outcome and result ids, where
// AuditService.ListEvents finds it (method, institution, request_id).
func TestAuditEventPerRequest(t *testing.T) {
	s := newServed(t, SchemeXTif)
	_, _, r, _ := s.do(http.MethodPost, nationalPath, "application/json", s.sign("AK1", secretH1), signIn9001("H6103000000120250304130607"))
	out := r.Output.(map[string]any)["signinoutb"].(map[string]any)
	ev, err := s.st.AuditEvents(t.Context(), store.AuditFilter{Method: "national/9001", Institution: "H1", RequestID: "H6103000000120250304130607"})
	if err != nil {
		t.Fatal(err)
	}
	want := store.AuditEvent{ID: ev[0].ID, Time: servedNow.Truncate(0), Role: "institution", CallerInstitution: "H1", Method: "national/9001",
		RequestID: "H6103000000120250304130607", InstitutionID: "H1", ResultIDs: []string{out["sign_no"].(string)}}
	if len(ev) != 1 || !equalEvent(ev[0], want) {
		t.Fatalf("events %+v, want [%+v]", ev, want)
	}
}

func equalEvent(a, b store.AuditEvent) bool {
	return a.ID == b.ID && a.Time.Equal(b.Time) && a.Role == b.Role && a.CallerInstitution == b.CallerInstitution &&
		a.Method == b.Method && a.RequestID == b.RequestID && a.InstitutionID == b.InstitutionID && a.PersonID == b.PersonID &&
		a.SettlementID == b.SettlementID && a.Code == b.Code && strings.Join(a.ResultIDs, ",") == strings.Join(b.ResultIDs, ",")
}

// TestSecretsNeverLogged drives every kind of request, failure and
// internal error, and finds neither secret nor any signature in the log.
func TestSecretsNeverLogged(t *testing.T) {
	s := newServed(t, SchemeXTif)
	var sigs []string
	sign := func(key, secret string) map[string][]string {
		h := s.sign(key, secret)
		sigs = append(sigs, h.Get("x-tif-signature"))
		return h
	}
	s.do(http.MethodPost, nationalPath, "application/json", sign("AK1", secretH1), signIn9001("M1"))
	s.do(http.MethodPost, nationalPath, "application/json", sign("AK1", secretH2), signIn9001("M2"))
	s.do(http.MethodPost, nationalPath, "application/json", sign("AK2", secretH2), signIn9001("M3"))
	s.do(http.MethodPost, nationalPath, "application/json", sign("AK1", secretH1), `{"infno":"1101"`)
	s.do(http.MethodPost, nationalPath, "application/json", sign("AK1", secretH1), envelope("1101", "M4", "H61030000001", `{"data":{"mdtrt_cert_no":"P1"}}`))
	register("0999", func(_ context.Context, _ *Gateway, _ *Call, _ json.RawMessage) (any, error) {
		return nil, errors.New("boom with a cause the log keeps")
	})
	defer delete(handlers, "0999")
	_, _, r, _ := s.do(http.MethodPost, nationalPath, "application/json", sign("AK1", secretH1), envelope("0999", "M5", "H61030000001", `{}`))
	if r.ErrMsg != msgInternal {
		t.Fatalf("internal error answered %q", r.ErrMsg)
	}
	logs := s.logs.String()
	if !strings.Contains(logs, "boom with a cause the log keeps") || !strings.Contains(logs, `"msgid":"M5"`) {
		t.Fatalf("the internal error is not logged in full with its msgid:\n%s", logs)
	}
	for _, secret := range append([]string{secretH1, secretH2}, sigs...) {
		if strings.Contains(logs, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, logs)
		}
	}
}
