package national

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSignatureVectors: fixed vectors computed outside Go (Python's
// hashlib and hmac), and the implementation against the test's own.
func TestSignatureVectors(t *testing.T) {
	if got, want := tifSignature("1700000000", "demo-secret-0123456789", "n-0001"),
		"a227c92544d5acc612ba26151b9774a5a1a9d94e8a2b6d30f6d6a7147cbc2a03"; got != want {
		t.Fatalf("x-tif signature %s, want %s", got, want)
	}
	if got, want := csbSignature("demo-secret-0123456789", "AK1", "hssServives", "1700000000000", "1.0.0"),
		"z/Q/XkER2mCNuASyYhjtqoe3RJs="; got != want {
		t.Fatalf("csb signature %s, want %s", got, want)
	}
	for i, c := range []struct{ key, secret, ts, nonce string }{
		{"AK1", secretH1, "1741064767", "a"},
		{"密钥", "0123456789abcdef!@#$%^&*()", "1741064767123", strings.Repeat("n", 64)},
	} {
		if got, want := tifSignature(c.ts, c.secret, c.nonce), tifHeaders(c.key, c.secret, c.ts, c.nonce).Get("x-tif-signature"); got != want {
			t.Errorf("%d: x-tif %s, the test's rule %s", i, got, want)
		}
		if got, want := csbSignature(c.secret, c.key, "hssServives", c.ts, "1.0.0"), csbHeaders(c.key, c.secret, c.ts).Get("_api_signature"); got != want {
			t.Errorf("%d: csb %s, the test's rule %s", i, got, want)
		}
	}
}

// signIn9001 is a valid 9001 body of H1.
func signIn9001(msgid string) string {
	return envelope("9001", msgid, "H61030000001", `{"signIn":{"opter_no":"001","mac":"","ip":""}}`)
}

// refused401 posts and expects HTTP 401 with an envelope naming want,
// and nothing recorded in the audit log.
func (s *served) refused401(h http.Header, body, want string) {
	s.t.Helper()
	before := len(s.events())
	code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", h, body)
	if code != http.StatusUnauthorized || r.Infcode != "-1" || !strings.Contains(r.ErrMsg, want) || r.Output != nil {
		s.t.Fatalf("HTTP %d %s, want 401 with err_msg containing %q", code, raw, want)
	}
	if n := len(s.events()); n != before {
		s.t.Fatalf("%d audit events after a refused authentication, want %d", n, before)
	}
}

// accepted posts and expects infcode "0".
func (s *served) accepted(h http.Header, body string) {
	s.t.Helper()
	code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", h, body)
	if code != http.StatusOK || r.Infcode != "0" {
		s.t.Fatalf("HTTP %d %s, want 200 infcode 0", code, raw)
	}
}

// TestTifTimestampWindow: 300 s either way is accepted, 301 s refused, in
// seconds and in 13-digit milliseconds.
func TestTifTimestampWindow(t *testing.T) {
	s := newServed(t, SchemeXTif)
	now := servedNow.Unix()
	for i, c := range []struct {
		ts string
		ok bool
	}{
		{strconv.FormatInt(now-300, 10), true},
		{strconv.FormatInt(now+300, 10), true},
		{strconv.FormatInt(now-301, 10), false},
		{strconv.FormatInt(now+301, 10), false},
		{strconv.FormatInt(servedNow.UnixMilli(), 10), true},
		{strconv.FormatInt(servedNow.UnixMilli()-300_000, 10), true},
		{strconv.FormatInt(servedNow.UnixMilli()-300_891, 10), false},
		{strconv.FormatInt(servedNow.UnixMilli()+301_000, 10), false},
		{"0", false},
	} {
		h := tifHeaders("AK1", secretH1, c.ts, "window-"+strconv.Itoa(i))
		if c.ok {
			s.accepted(h, signIn9001("M"+strconv.Itoa(i)))
		} else {
			s.refused401(h, signIn9001("M"+strconv.Itoa(i)), "与服务器时间相差超过 300 秒")
		}
	}
	for _, ts := range []string{"", "17410647671234", "1741064767.5", "-1741064767", "１７４１０６４７６７"} {
		h := tifHeaders("AK1", secretH1, ts, "bad-ts-"+ts)
		want := "不是时间戳"
		if ts == "" {
			want = "缺少请求头 x-tif-timestamp"
		} else if strings.ContainsRune(ts, '１') {
			want = "非法字符"
		}
		s.refused401(h, signIn9001("M1"), want)
	}
}

// TestTifRefusals: unknown key, wrong secret, tampered headers, missing
// and repeated headers.
func TestTifRefusals(t *testing.T) {
	s := newServed(t, SchemeXTif)
	ts := strconv.FormatInt(servedNow.Unix(), 10)
	s.refused401(tifHeaders("AK9", secretH1, ts, "n1"), signIn9001("M1"), "x-tif-paasid 未登记")
	s.refused401(tifHeaders("AK1", secretH2, ts, "n2"), signIn9001("M1"), "签名不符")
	s.refused401(tifHeaders("AK1", secretH1+"x", ts, "n3"), signIn9001("M1"), "签名不符")
	h := tifHeaders("AK1", secretH1, ts, "n4")
	h.Set("x-tif-nonce", "n5") // signed for n4
	s.refused401(h, signIn9001("M1"), "签名不符")
	h = tifHeaders("AK1", secretH1, ts, "n6")
	h.Set("x-tif-signature", strings.ToUpper(h.Get("x-tif-signature"))) // lowercase hex only
	s.refused401(h, signIn9001("M1"), "签名不符")
	for _, name := range []string{"x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature"} {
		h := tifHeaders("AK1", secretH1, ts, "n7")
		h.Del(name)
		s.refused401(h, signIn9001("M1"), "缺少请求头 "+name)
	}
	h = tifHeaders("AK1", secretH1, ts, "n8")
	h.Add("x-tif-nonce", "n9")
	s.refused401(h, signIn9001("M1"), "出现多次")
	s.refused401(tifHeaders("AK1", secretH1, ts, strings.Repeat("n", 129)), signIn9001("M1"), "超过 128 字节")
	// H2's credential for H1's fixmedins_code is not an authentication
	// failure but a refusal (HTTP 200, recorded).
	code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", tifHeaders("AK2", secretH2, ts, "n10"), signIn9001("M1"))
	if code != http.StatusOK || r.Infcode != "-1" || !strings.Contains(r.ErrMsg, "fixmedins_code \"H61030000001\" 与签名凭证的机构 H61030000002 不符") {
		t.Fatalf("H2 signing for H1: HTTP %d %s", code, raw)
	}
	// After all of it, a good request still passes.
	s.accepted(tifHeaders("AK1", secretH1, ts, "n11"), signIn9001("M2"))
}

// TestTifNonceReplay: a nonce is refused a second time within ten
// minutes, whatever the timestamp; another key's same nonce is its own;
// after ten minutes (and a fresh timestamp) it passes again.
func TestTifNonceReplay(t *testing.T) {
	s := newServed(t, SchemeXTif)
	ts := strconv.FormatInt(servedNow.Unix(), 10)
	s.accepted(tifHeaders("AK1", secretH1, ts, "once"), signIn9001("M1"))
	s.refused401(tifHeaders("AK1", secretH1, ts, "once"), signIn9001("M2"), "x-tif-nonce 在 10 分钟内已使用过")
	s.clock.add(4 * time.Minute)
	ts2 := strconv.FormatInt(s.clock.now().Unix(), 10)
	s.refused401(tifHeaders("AK1", secretH1, ts2, "once"), signIn9001("M3"), "x-tif-nonce 在 10 分钟内已使用过")
	code, _, r, _ := s.do(http.MethodPost, nationalPath, "application/json", tifHeaders("AK2", secretH2, ts2, "once"),
		envelope("9001", "M4", "H61030000002", `{"signIn":{"opter_no":"1"}}`))
	if code != http.StatusOK || r.Infcode != "0" {
		t.Fatalf("H2's nonce \"once\": HTTP %d %+v", code, r)
	}
	s.clock.add(6*time.Minute + time.Second)
	ts3 := strconv.FormatInt(s.clock.now().Unix(), 10)
	s.refused401(tifHeaders("AK1", secretH1, ts3, "once"), signIn9001("M5"), "已使用过") // 10 min 1 s: still within a bucket's span
	s.clock.add(time.Minute)
	ts4 := strconv.FormatInt(s.clock.now().Unix(), 10)
	s.accepted(tifHeaders("AK1", secretH1, ts4, "once"), signIn9001("M6"))
}

// TestReplayCacheFull: when the cache is full, new nonces are refused
// (HTTP 503), remembered ones still refused as replays, and room comes
// back as they age out.
func TestReplayCacheFull(t *testing.T) {
	s := newServed(t, SchemeXTif, WithReplayCapacity(2))
	ts := strconv.FormatInt(servedNow.Unix(), 10)
	s.accepted(tifHeaders("AK1", secretH1, ts, "a"), signIn9001("M1"))
	s.accepted(tifHeaders("AK1", secretH1, ts, "b"), signIn9001("M2"))
	code, h, r, raw := s.do(http.MethodPost, nationalPath, "application/json", tifHeaders("AK1", secretH1, ts, "c"), signIn9001("M3"))
	if code != http.StatusServiceUnavailable || r.Infcode != "-1" || !strings.Contains(r.ErrMsg, "系统繁忙") || h.Get("Retry-After") == "" {
		t.Fatalf("full cache: HTTP %d %s", code, raw)
	}
	s.refused401(tifHeaders("AK1", secretH1, ts, "a"), signIn9001("M4"), "已使用过")
	// The operator is told how to make room, once a minute at most.
	if code, _, _, _ := s.do(http.MethodPost, nationalPath, "application/json", tifHeaders("AK1", secretH1, ts, "d"), signIn9001("M3")); code != http.StatusServiceUnavailable {
		t.Fatalf("full cache, again: HTTP %d", code)
	}
	if n := strings.Count(s.logs.String(), "raise replay_capacity"); n != 1 {
		t.Fatalf("the full cache was logged %d times, want once:\n%s", n, s.logs.String())
	}
	s.clock.add(12 * time.Minute)
	ts = strconv.FormatInt(s.clock.now().Unix(), 10)
	s.accepted(tifHeaders("AK1", secretH1, ts, "c"), signIn9001("M5"))
}

// TestCSB: the csb scheme's signature, window and replay of (key,
// timestamp, msgid).
func TestCSB(t *testing.T) {
	s := newServed(t, SchemeCSB)
	ts := strconv.FormatInt(servedNow.UnixMilli(), 10)
	s.accepted(csbHeaders("AK1", secretH1, ts), signIn9001("M1"))
	s.refused401(csbHeaders("AK1", secretH1, ts), signIn9001("M1"), "重复的请求")
	s.accepted(csbHeaders("AK1", secretH1, ts), signIn9001("M2")) // another msgid
	s.refused401(csbHeaders("AK1", secretH2, ts), signIn9001("M3"), "签名不符（_api_signature）")
	s.refused401(csbHeaders("AK3", secretH1, ts), signIn9001("M3"), "_api_access_key 未登记")
	h := csbHeaders("AK1", secretH1, ts)
	h.Set("_api_version", "2.0.0") // not what was signed
	s.refused401(h, signIn9001("M3"), "签名不符")
	old := strconv.FormatInt(servedNow.Add(-301*time.Second).Unix(), 10)
	s.refused401(csbHeaders("AK1", secretH1, old), signIn9001("M3"), "相差超过 300 秒")
	for _, name := range []string{"_api_name", "_api_version", "_api_access_key", "_api_timestamp", "_api_signature"} {
		h := csbHeaders("AK1", secretH1, ts)
		h.Del(name)
		s.refused401(h, signIn9001("M3"), "缺少请求头 "+name)
	}
	// A request refused for its envelope does not burn its triple: once
	// corrected, the same signed headers and msgid are accepted, and
	// then their replay is refused.
	h = csbHeaders("AK1", secretH1, ts)
	code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", h,
		envelope("9001", "M4", "H61030000002", `{"signIn":{"opter_no":"001","mac":"","ip":""}}`))
	if code != http.StatusOK || r.Infcode != "-1" || !strings.Contains(r.ErrMsg, "fixmedins_code") {
		t.Fatalf("wrong fixmedins_code: HTTP %d %s", code, raw)
	}
	s.accepted(h, signIn9001("M4"))
	s.refused401(h, signIn9001("M4"), "重复的请求")
	// x-tif headers mean nothing to a csb gateway.
	s.refused401(tifHeaders("AK1", secretH1, ts, "n"), signIn9001("M3"), "缺少请求头 _api_access_key")
}
