package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The gateway row's institution: QZ-H3 (level 3, region 350500), where
// the gRPC rows settle the same claim for the same persons.
const (
	gatewayFixmedins = "H35050000003"
	gatewayInst      = "QZ-H3"
	gatewayKey       = "loadtest-QZ-H3"
	gatewayPath      = "/fsi/api/rsfComIfsService/callService"
	// gatewayClaimTotal is the sum of claimItems (medfee_sumamt).
	gatewayClaimTotal = "31110.00"
)

// gatewaySecret is this run's secret of gatewayKey (a random one: the
// config file lives in the run's temporary directory).
var gatewaySecret = "loadtest-" + nonce() + nonce() + nonce()

// writeNationalConfig writes the gateway's config (x-tif, QZ-H3's
// credential) into dir.
func writeNationalConfig(dir string) (string, error) {
	cfg := fmt.Sprintf(`{"scheme":"x-tif","area":"350500","institutions":[{"fixmedins_code":%q,"institution_id":%q,"key":%q,"secret":%q}]}`,
		gatewayFixmedins, gatewayInst, gatewayKey, gatewaySecret)
	path := filepath.Join(dir, "national-config.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", fmt.Errorf("national config: %w", err)
	}
	return path, nil
}

// hisLoad is the HTTP client of the gateway row: one keep-alive
// connection per worker, every request signed as a HIS signs it (x-tif:
// SHA-256 of timestamp + secret + nonce + timestamp, a fresh nonce each).
type hisLoad struct {
	url    string
	client *http.Client
	seq    atomic.Uint64
}

func newHISLoad(addr string, concurrency int) *hisLoad {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency * 2,
		MaxIdleConnsPerHost: concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &hisLoad{url: "http://" + addr + gatewayPath, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// envelope appends the envelope of infno around input to b.
func (h *hisLoad) envelope(b []byte, infno string, now time.Time, input []byte) []byte {
	n := h.seq.Add(1)
	cst := now.In(cstZone)
	b = append(b, `{"infno":"`...)
	b = append(b, infno...)
	b = append(b, `","msgid":"`+gatewayFixmedins...)
	b = cst.AppendFormat(b, "20060102150405")
	b = fmt.Appendf(b, "%04d", n%10000)
	b = append(b, `","mdtrtarea_admvs":"350500","insuplc_admdvs":"350500","recer_sys_code":"FSI_LOCAL","dev_no":"","dev_safe_info":"",`+
		`"cainfo":"","signtype":"SM2","infver":"V1.0","opter_type":"1","opter":"0001","opter_name":"loadtest","inf_time":"`...)
	b = cst.AppendFormat(b, time.DateTime)
	b = append(b, `","fixmedins_code":"`+gatewayFixmedins+`","fixmedins_name":"QZ-H3","sign_no":"","input":`...)
	b = append(b, input...)
	return append(b, '}')
}

// cstZone is China Standard Time.
var cstZone = time.FixedZone("CST", 8*3600)

// post sends one signed body and reads the answer into buf; it is an
// error unless the answer is infcode "0".
func (h *hisLoad) post(ctx context.Context, body []byte, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	nonce := runID + "-" + strconv.FormatUint(h.seq.Add(1), 36)
	sum := sha256.Sum256([]byte(ts + gatewaySecret + nonce + ts))
	req.Header = http.Header{
		"Content-Type":    {"application/json;charset=utf-8"},
		"X-Tif-Paasid":    {gatewayKey},
		"X-Tif-Timestamp": {ts},
		"X-Tif-Nonce":     {nonce},
		"X-Tif-Signature": {hex.EncodeToString(sum[:])},
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, errMsgOf(buf.Bytes()))
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"infcode":"0"`)) {
		return errors.New(errMsgOf(buf.Bytes()))
	}
	return nil
}

// errMsgOf is an answer's err_msg (or its start when there is none).
func errMsgOf(b []byte) string {
	if v, ok := field(b, "err_msg"); ok && v != "" {
		return "infcode -1: " + v
	}
	return string(b[:min(len(b), 120)])
}

// field is the string value of the first "name":"…" in a JSON answer
// (enough for ids and messages without escapes).
func field(b []byte, name string) (string, bool) {
	key := []byte(`"` + name + `":"`)
	i := bytes.Index(b, key)
	if i < 0 {
		return "", false
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", false
	}
	return string(rest[:j]), true
}

// hisVisit is an admission opened for one claim.
type hisVisit struct{ id, person string }

// scratch is one worker's reused buffers.
type scratch struct {
	input, body []byte
	answer      bytes.Buffer
}

// admit opens an admission (2401) of person with the institution's
// number ipt.
func (h *hisLoad) admit(ctx context.Context, person, ipt, today string, s *scratch) (string, error) {
	s.input = fmt.Appendf(s.input[:0], `{"mdtrtinfo":{"psn_no":%q,"insutype":"310","begntime":"%s 08:00:00","mdtrt_cert_type":"02","mdtrt_cert_no":%q,`+
		`"med_type":"21","ipt_no":%q,"atddr_no":"D001","chfpdr_name":"loadtest","adm_dept_codg":"A03","adm_dept_name":"普外科"},`+
		`"diseinfo":[{"diag_type":"1","maindiag_flag":"1","diag_srt_no":"1","diag_code":"K80.200","diag_name":"胆囊结石"}]}`,
		person, today, person, ipt)
	s.body = h.envelope(s.body[:0], "2401", time.Now(), s.input)
	if err := h.post(ctx, s.body, &s.answer); err != nil {
		return "", fmt.Errorf("2401: %w", err)
	}
	id, ok := field(s.answer.Bytes(), "mdtrt_id")
	if !ok || id == "" {
		return "", fmt.Errorf("2401 answered no mdtrt_id: %s", errMsgOf(s.answer.Bytes()))
	}
	return id, nil
}

// claim uploads claimItems to v (2301) and settles it (2304): the two
// requests a claim costs once its visit is open.
func (h *hisLoad) claim(ctx context.Context, v hisVisit, today string, s *scratch) error {
	s.input = append(s.input[:0], `{"feedetail":[`...)
	for i, it := range claimItems {
		if i > 0 {
			s.input = append(s.input, ',')
		}
		s.input = fmt.Appendf(s.input, `{"feedetl_sn":"%d","mdtrt_id":%q,"psn_no":%q,"med_type":"21","fee_ocur_time":"%s 09:00:00",`+
			`"med_list_codg":%q,"medins_list_codg":%q,"det_item_fee_sumamt":%s,"cnt":%s,"pric":%s,"hosp_appr_flag":"1"}`,
			i+1, v.id, v.person, today, it["code"], it["name"], it["amount"], it["quantity"], it["unitPrice"])
	}
	s.input = append(s.input, "]}"...)
	s.body = h.envelope(s.body[:0], "2301", time.Now(), s.input)
	if err := h.post(ctx, s.body, &s.answer); err != nil {
		return fmt.Errorf("2301: %w", err)
	}
	s.input = fmt.Appendf(s.input[:0], `{"data":{"psn_no":%q,"mdtrt_cert_type":"02","mdtrt_cert_no":%q,"medfee_sumamt":%s,"psn_setlway":"01",`+
		`"mdtrt_id":%q,"insutype":"310","acct_used_flag":"0","mid_setl_flag":"0","invono":""}}`,
		v.person, v.person, gatewayClaimTotal, v.id)
	s.body = h.envelope(s.body[:0], "2304", time.Now(), s.input)
	if err := h.post(ctx, s.body, &s.answer); err != nil {
		return fmt.Errorf("2304: %w", err)
	}
	return nil
}

// openVisits opens n admissions for the persons of who, round robin,
// with concurrency workers, numbered <prefix>-<i>.
func (h *hisLoad) openVisits(ctx context.Context, who people, prefix string, n, concurrency int) ([]hisVisit, error) {
	today := time.Now().In(cstZone).Format(time.DateOnly)
	out := make([]hisVisit, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, concurrency)
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s scratch
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				person := who.prefix + strconv.Itoa(i%who.n)
				id, err := h.admit(ctx, person, prefix+"-"+strconv.Itoa(i), today, &s)
				if err != nil {
					errc <- err
					return
				}
				out[i] = hisVisit{id: id, person: person}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("opening %d admissions: %w", n, err)
	}
	return out, ctx.Err()
}
