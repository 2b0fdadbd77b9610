package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// hisClient posts national-interface requests the way the public HIS
// clients do (liwerAKM/YbRefund, ringls/NYB, S-117-John/nhis-web,
// binzhe12123/Medical): the envelope's fields in the platform's names,
// msgid = fixmedins_code + yyyyMMddHHmmss + 4 digits, inf_time as
// "yyyy-MM-dd HH:mm:ss", money and counts as JSON numbers, and the x-tif
// headers: timestamp in Unix seconds, nonce = hex(milliseconds) + "-" +
// hex(a random 24-bit number), signature = hex(SHA-256(timestamp + secret
// + nonce + timestamp)). It is written from GATEWAY.md and those clients,
// apart from api/national's own code.
type hisClient struct {
	t             testing.TB
	url           string // the gateway's base URL
	path          string // the national path, or "" for the Guangdong style (…/<infno>)
	code, name    string // fixmedins_code and fixmedins_name
	key, secret   string
	area          string
	now           func() time.Time
	http          *http.Client
	seq           int
	noSign        bool
	lastMsgid     string
	infTimeLayout string // inf_time's layout; "" for "yyyy-MM-dd HH:mm:ss"
}

// hisEnvelope is the request envelope, field for field as the clients
// send it (fixmedins_soft_fcty is one of the extra fields some add).
type hisEnvelope struct {
	Infno            string `json:"infno"`
	Msgid            string `json:"msgid"`
	MdtrtareaAdmvs   string `json:"mdtrtarea_admvs"`
	InsuplcAdmdvs    string `json:"insuplc_admdvs"`
	RecerSysCode     string `json:"recer_sys_code"`
	DevNo            string `json:"dev_no"`
	DevSafeInfo      string `json:"dev_safe_info"`
	Cainfo           string `json:"cainfo"`
	Signtype         string `json:"signtype"`
	Infver           string `json:"infver"`
	OpterType        string `json:"opter_type"`
	Opter            string `json:"opter"`
	OpterName        string `json:"opter_name"`
	InfTime          string `json:"inf_time"`
	FixmedinsCode    string `json:"fixmedins_code"`
	FixmedinsName    string `json:"fixmedins_name"`
	SignNo           string `json:"sign_no"`
	FixmedinsSoftFct string `json:"fixmedins_soft_fcty"`
	Input            any    `json:"input"`
}

// hisAnswer is a response envelope as a client reads it.
type hisAnswer struct {
	Status      int             `json:"-"`
	Raw         string          `json:"-"`
	Infcode     json.RawMessage `json:"infcode"`
	InfRefmsgid string          `json:"inf_refmsgid"`
	RefmsgTime  string          `json:"refmsg_time"`
	RespondTime string          `json:"respond_time"`
	ErrMsg      string          `json:"err_msg"`
	WarnMsg     string          `json:"warn_msg"`
	Output      json.RawMessage `json:"output"`
}

// code is infcode as a string whether it came as "0" or 0.
func (a hisAnswer) code() string {
	var s string
	if json.Unmarshal(a.Infcode, &s) == nil {
		return s
	}
	return string(a.Infcode)
}

// msgid is the next message id: fixmedins_code + yyyyMMddHHmmss + 4 digits.
func (c *hisClient) msgid() string {
	c.seq++
	return c.code + c.now().In(shanghaiTZ).Format("20060102150405") + fmt.Sprintf("%04d", c.seq%10000)
}

// shanghaiTZ is the HIS's wall clock.
var shanghaiTZ = time.FixedZone("CST", 8*3600)

// headers are the x-tif headers of a request signed now.
func (c *hisClient) headers() http.Header {
	now := c.now()
	ts := strconv.FormatInt(now.Unix(), 10)
	r, err := rand.Int(rand.Reader, big.NewInt(0xFFFFFF))
	if err != nil {
		c.t.Fatal(err)
	}
	nonce := strconv.FormatInt(now.UnixMilli(), 16) + "-" + r.Text(16) + "-" + strconv.Itoa(c.seq)
	sum := sha256.Sum256([]byte(ts + c.secret + nonce + ts))
	h := http.Header{}
	h.Set("x-tif-paasid", c.key)
	h.Set("x-tif-timestamp", ts)
	h.Set("x-tif-nonce", nonce)
	h.Set("x-tif-signature", hex.EncodeToString(sum[:]))
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Accept", "application/json")
	return h
}

// body is the envelope of infno with input, and the msgid it carries.
func (c *hisClient) body(infno string, input any) ([]byte, string) {
	msgid := c.msgid()
	layout := c.infTimeLayout
	if layout == "" {
		layout = time.DateTime
	}
	env := hisEnvelope{Infno: infno, Msgid: msgid, MdtrtareaAdmvs: c.area, InsuplcAdmdvs: c.area, RecerSysCode: "FSI_LOCAL",
		Signtype: "SM2", Infver: "V1.0", OpterType: "1", Opter: "0001", OpterName: "收费员",
		InfTime: c.now().In(shanghaiTZ).Format(layout), FixmedinsCode: c.code, FixmedinsName: c.name,
		FixmedinsSoftFct: "HIS", Input: input}
	raw, err := json.Marshal(env)
	if err != nil {
		c.t.Fatal(err)
	}
	return raw, msgid
}

// call posts infno with input and reads the answer; it fails the test
// only when the answer is not an envelope.
func (c *hisClient) call(infno string, input any) hisAnswer {
	c.t.Helper()
	raw, msgid := c.body(infno, input)
	c.lastMsgid = msgid
	return c.post(infno, raw)
}

// post posts a prepared body for infno.
func (c *hisClient) post(infno string, raw []byte) hisAnswer {
	c.t.Helper()
	path := c.path
	if path == "" {
		path = "/hsa/hgs/" + infno
	}
	req, err := http.NewRequest(http.MethodPost, c.url+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header = c.headers()
	if c.noSign {
		for _, k := range []string{"x-tif-paasid", "x-tif-timestamp", "x-tif-nonce", "x-tif-signature"} {
			req.Header.Del(k)
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s: %v", infno, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	var a hisAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		c.t.Fatalf("%s: answer %q is not an envelope: %v", infno, b, err)
	}
	a.Status, a.Raw = resp.StatusCode, string(b)
	return a
}

// ok calls infno and fails the test unless it succeeds; it decodes the
// output into out (when not nil).
func (c *hisClient) ok(infno string, input, out any) hisAnswer {
	c.t.Helper()
	a := c.call(infno, input)
	if a.Status != http.StatusOK || a.code() != "0" || a.ErrMsg != "" {
		c.t.Fatalf("%s: HTTP %d %s", infno, a.Status, a.Raw)
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(a.Output))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			c.t.Fatalf("%s: output %s: %v", infno, a.Output, err)
		}
	}
	return a
}
