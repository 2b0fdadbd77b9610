package national

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
)

// The secrets of the served fixture: a test asserts they never reach the
// log.
const (
	secretH1 = "s3cret-of-H1-do-not-log-0001"
	secretH2 = "s3cret-of-H2-do-not-log-0002"
)

// servedNow is the served fixture's clock at start: 2025-03-04 13:06:07
// in Asia/Shanghai.
var servedNow = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// served is a Gateway over HTTP (httptest, in-process) on a memstore
// behind api.Local, with institutions H1 (key AK1) and H2 (key AK2) and
// persons P1 (resident) and P2 (employee, with identities).
type served struct {
	t     *testing.T
	st    *memstore.Store
	g     *Gateway
	clock *testClock
	logs  *syncBuffer
	seq   int
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func servedConfig(scheme string) Config {
	return Config{Scheme: scheme, Area: "610300", Institutions: []Credential{
		{FixmedinsCode: "H61030000001", InstitutionID: "H1", Key: "AK1", Secret: secretH1},
		{FixmedinsCode: "H61030000002", InstitutionID: "H2", Key: "AK2", Secret: secretH2},
	}}
}

func newServed(t *testing.T, scheme string, opts ...Option) *served {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	for _, p := range []engine.Person{
		{ID: "P1", Name: "张三", Region: "610300", Scheme: engine.SchemeResident},
		{ID: "P2", Name: "李四", Region: "610302", Scheme: engine.SchemeEmployee, Category: engine.CategoryMonitored,
			AccountBalance: engine.MustMoney("1234.5"),
			Identities: []engine.Identity{
				{Category: engine.CategoryDestitute, ValidFrom: engine.Date{Year: 2025, Month: 1, Day: 1}, ValidTo: engine.Date{Year: 2025, Month: 3, Day: 4}},
				{Category: engine.CategoryMinimumLiving, ValidFrom: engine.Date{Year: 2025, Month: 3, Day: 5}, ValidTo: engine.Date{Year: 2025, Month: 12, Day: 31}},
				{Category: engine.CategoryPovertyAlleviated, ValidFrom: engine.Date{Year: 2024, Month: 1, Day: 1}, ValidTo: engine.Date{Year: 2025, Month: 3, Day: 3}},
			}},
	} {
		if err := st.PutPerson(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	clock := &testClock{t: servedNow}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, _, local := api.NewServerWithLocal(api.Config{Store: st, Log: log, Now: clock.now})
	g, err := New(servedConfig(scheme), local, st, st, append([]Option{WithClock(clock.now), WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &served{t: t, st: st, g: g, clock: clock, logs: logs}
}

// tifHeaders signs as key with secret at ts, with nonce: written apart
// from auth.go, from the rule in GATEWAY.md.
func tifHeaders(key, secret, ts, nonce string) http.Header {
	sum := sha256.Sum256([]byte(ts + secret + nonce + ts))
	h := http.Header{}
	h.Set("x-tif-paasid", key)
	h.Set("x-tif-timestamp", ts)
	h.Set("x-tif-nonce", nonce)
	h.Set("x-tif-signature", fmt.Sprintf("%x", sum))
	return h
}

// csbHeaders signs as key with secret at ts: written apart from auth.go.
func csbHeaders(key, secret, ts string) http.Header {
	params := map[string]string{"_api_name": "hssServives", "_api_version": "1.0.0", "_api_access_key": key, "_api_timestamp": ts}
	var names []string
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	var pairs []string
	for _, k := range names {
		pairs = append(pairs, k+"="+params[k])
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(strings.Join(pairs, "&")))
	h := http.Header{}
	for k, v := range params {
		h.Set(k, v)
	}
	h.Set("_api_signature", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return h
}

// envelope is a request body of institution code for infno with input.
func envelope(infno, msgid, fixmedins, input string) string {
	return fmt.Sprintf(`{"infno":"%s","msgid":"%s","mdtrtarea_admvs":"610300","insuplc_admdvs":"610300","recer_sys_code":"FSI_LOCAL",`+
		`"dev_no":"","dev_safe_info":"","cainfo":"","signtype":"SM3","infver":"V1.0","opter_type":"1","opter":"001","opter_name":"收费员",`+
		`"inf_time":"2025-03-04 13:06:07","fixmedins_code":"%s","fixmedins_name":"第一医院","sign_no":"","fixmedins_soft_fcty":"x","input":%s}`,
		infno, msgid, fixmedins, input)
}

// do posts body to path with headers through a real HTTP server (so that
// header names travel as a client sends them).
func (s *served) do(method, path, contentType string, h http.Header, body string) (int, http.Header, Response, string) {
	s.t.Helper()
	srv := httptest.NewServer(s.g)
	defer srv.Close()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	var r Response
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		s.t.Fatalf("answer %q is not an envelope: %v", buf.String(), err)
	}
	return resp.StatusCode, resp.Header, r, buf.String()
}

// post posts a signed transaction of H1 (x-tif or csb, as the gateway's
// scheme) to the national path, with a fresh nonce.
func (s *served) post(infno, input string) (int, Response, string) {
	s.t.Helper()
	s.seq++
	code, _, r, raw := s.do(http.MethodPost, nationalPath, "application/json", s.sign("AK1", secretH1),
		envelope(infno, "H61030000001202503041306070"+strconv.Itoa(s.seq%10), "H61030000001", input))
	return code, r, raw
}

// sign signs as key/secret at the clock's time with a fresh nonce.
func (s *served) sign(key, secret string) http.Header {
	s.seq++
	ts := strconv.FormatInt(s.clock.now().Unix(), 10)
	if s.g.cfg.Scheme == SchemeCSB {
		return csbHeaders(key, secret, ts)
	}
	return tifHeaders(key, secret, ts, "nonce-"+strconv.Itoa(s.seq))
}

// events are the audit events so far.
func (s *served) events() []store.AuditEvent {
	s.t.Helper()
	ev, err := s.st.AuditEvents(context.Background(), store.AuditFilter{})
	if err != nil {
		s.t.Fatal(err)
	}
	return ev
}

// TestDispatch answers 9001 on both path styles, and names the answer's
// envelope fields exactly.
func TestDispatch(t *testing.T) {
	s := newServed(t, SchemeXTif)
	for _, path := range []string{nationalPath, "/hsa/api/9001", "/9001"} {
		code, h, r, raw := s.do(http.MethodPost, path, "application/json", s.sign("AK1", secretH1),
			envelope("9001", "H610300000012025030413060701", "H61030000001", `{"signIn":{"opter_no":"001","mac":"00:11:22:33:44:55","ip":"10.0.0.8"}}`))
		if code != http.StatusOK || r.Infcode != "0" || r.ErrMsg != "" {
			t.Fatalf("%s: HTTP %d %s", path, code, raw)
		}
		if ct := h.Get("Content-Type"); ct != "application/json;charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		if len(r.InfRefmsgid) != 30 || !strings.HasPrefix(r.InfRefmsgid, "61030020250304130607") {
			t.Fatalf("inf_refmsgid %q: want 610300 + 20250304130607 + 10 digits", r.InfRefmsgid)
		}
		if r.RefmsgTime != "20250304130607890" || r.RespondTime != "20250304130607890" {
			t.Fatalf("refmsg_time %q respond_time %q, want 20250304130607890", r.RefmsgTime, r.RespondTime)
		}
	}
}
