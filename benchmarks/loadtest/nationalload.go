package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/medsettle/medsettle/api/national"
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
// Its replay cache holds every nonce the run can send in its ten minutes
// (replayCapacity), so a long run is not refused 系统繁忙 once the
// default capacity is used up.
func writeNationalConfig(dir string, gatewayTime time.Duration) (string, error) {
	cfg := fmt.Sprintf(`{"scheme":"x-tif","area":"350500","replay_capacity":%d,"institutions":[{"fixmedins_code":%q,"institution_id":%q,"key":%q,"secret":%q}]}`,
		replayCapacity(gatewayTime), gatewayFixmedins, gatewayInst, gatewayKey, gatewaySecret)
	path := filepath.Join(dir, "national-config.json")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return "", fmt.Errorf("national config: %w", err)
	}
	return path, nil
}

// hisLoad is the HTTP client of the gateway row: one keep-alive
// HTTP/1.1 connection per worker, every request signed as a HIS signs it
// (x-tif: SHA-256 of timestamp + secret + nonce + timestamp, a fresh nonce
// and the current timestamp each). It costs what a lean HIS client costs:
// a claim's bodies are appended from parts built once (no formatting, the
// visit's ids quoted once), each request is written whole in one write
// (request line, headers, body) from the worker's buffer and its answer
// read into the worker's buffer, whole in one read when it arrives whole
// (Content-Length), with raw system calls on Linux (rawio_linux.go), the
// signature computed on the stack, nothing allocated per claim; the
// requests on the wire are those net/http's client sends.
type hisLoad struct {
	addr    string
	timeout time.Duration // of one request's exchange (requestTimeout)
	seq     atomic.Uint64 // nonces
	msg     atomic.Uint64 // msgids
}

func newHISLoad(addr string, concurrency int) *hisLoad {
	return &hisLoad{addr: addr, timeout: requestTimeout}
}

// requestTimeout bounds one request's exchange (as http.Client.Timeout
// did).
const requestTimeout = 10 * time.Second

// envelopeTail is the envelope's fixed middle, between msgid and inf_time.
const envelopeTail = `","mdtrtarea_admvs":"350500","insuplc_admdvs":"350500","recer_sys_code":"FSI_LOCAL","dev_no":"","dev_safe_info":"",` +
	`"cainfo":"","signtype":"SM2","infver":"V1.0","opter_type":"1","opter":"0001","opter_name":"loadtest","inf_time":"`

// envelope appends the envelope of infno around input to b, at now (the
// worker's clock strings, s).
func (h *hisLoad) envelope(b []byte, infno string, now time.Time, input []byte, s *scratch) []byte {
	b = h.envelopeStart(b, infno, now, s)
	b = append(b, input...)
	return append(b, '}')
}

// envelopeStart appends the envelope of infno up to its input to b, at
// now: the input and a closing brace are to follow.
func (h *hisLoad) envelopeStart(b []byte, infno string, now time.Time, s *scratch) []byte {
	n := h.msg.Add(1)
	s.tick(now)
	b = append(b, `{"infno":"`...)
	b = append(b, infno...)
	b = append(b, `","msgid":"`+gatewayFixmedins...)
	b = append(b, s.stamp[:]...)
	// Four base-36 characters after the second (30 in all, the longest
	// msgid): 1,679,616 distinct msgids a second, as a HIS keeps its
	// msgids distinct.
	const digits36 = "0123456789abcdefghijklmnopqrstuvwxyz"
	k := n % (36 * 36 * 36 * 36)
	b = append(b, digits36[k/(36*36*36)], digits36[k/(36*36)%36], digits36[k/36%36], digits36[k%36])
	b = append(b, envelopeTail...)
	b = append(b, s.dateTime[:]...)
	return append(b, `","fixmedins_code":"`+gatewayFixmedins+`","fixmedins_name":"QZ-H3","sign_no":"","input":`...)
}

// cstZone is China Standard Time.
var cstZone = time.FixedZone("CST", 8*3600)

// post sends one signed body and reads the answer into s.answer; it is an
// error unless the answer is infcode "0". A request on a kept-alive
// connection that the server closed before any answer is sent again once
// on a new connection (as net/http's client does for a connection the
// server closed); a timeout is an error, never resent.
func (h *hisLoad) post(ctx context.Context, body []byte, s *scratch) error {
	s.req = append(s.bodyStart(), body...)
	return h.send(ctx, time.Now(), s)
}

// headRoom is the room left before a request's body in s.req for its
// request line and headers (about 300 bytes), so that a body is built
// where it is sent from and the head is copied in front of it.
const headRoom = 512

// bodyStart is s.req emptied to its head room, a body to be appended.
func (s *scratch) bodyStart() []byte {
	if cap(s.req) < headRoom+8<<10 {
		s.req = make([]byte, headRoom, headRoom+8<<10)
	}
	return s.req[:headRoom]
}

// send signs the body built in s.req after its head room at now, sends
// it and reads the answer into s.answer, as post.
func (h *hisLoad) send(ctx context.Context, now time.Time, s *scratch) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var buf [headRoom]byte
	head := h.head(buf[:0], len(s.req)-headRoom, now)
	if len(head) > headRoom {
		return fmt.Errorf("a request head of %d bytes", len(head))
	}
	start := headRoom - copy(s.req[headRoom-len(head):headRoom], head)
	s.out = s.req[start:]
	var status int
	for attempt := 0; ; attempt++ {
		reused := s.conn != nil
		if !reused {
			c, err := (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext(ctx, "tcp", h.addr)
			if err != nil {
				return err
			}
			s.attach(c)
		}
		s.watch(ctx)
		var keep, answered bool
		var err error
		status, keep, answered, err = s.exchange(ctx, now, h.timeout)
		if err == nil {
			if !keep {
				s.closeConn()
			}
			break
		}
		s.closeConn()
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		// Only a request the server closed a kept-alive connection on,
		// unanswered, is sent again (its nonce was not read); one that
		// timed out was read and is counted as failed, not resent.
		var ne net.Error
		if !reused || answered || attempt > 0 || (errors.As(err, &ne) && ne.Timeout()) {
			return err
		}
		now = time.Now()
	}
	b := s.answer
	if status != http.StatusOK {
		return fmt.Errorf("HTTP %d: %s", status, errMsgOf(b))
	}
	// infcode is the gateway's first field; anywhere else is checked too.
	if !bytes.HasPrefix(b, []byte(`{"infcode":"0"`)) && !bytes.Contains(b, []byte(`"infcode":"0"`)) {
		return errors.New(errMsgOf(b))
	}
	return nil
}

// head appends the request line and headers of a body of n bytes to b,
// signed at now: the timestamp in seconds, a new nonce, and the
// signature.
func (h *hisLoad) head(b []byte, n int, now time.Time) []byte {
	var buf [128]byte
	ts := strconv.AppendInt(buf[:0], now.Unix(), 10)
	nts := len(ts)
	tn := append(ts, runID...)
	tn = append(tn, '-')
	tn = strconv.AppendUint(tn, h.seq.Add(1), 36)
	var in [256]byte
	m := append(in[:0], tn[:nts]...)
	m = append(m, gatewaySecret...)
	m = append(m, tn[nts:]...)
	m = append(m, tn[:nts]...)
	sum := sha256.Sum256(m)

	b = append(b, "POST "+gatewayPath+" HTTP/1.1\r\nHost: "...)
	b = append(b, h.addr...)
	b = append(b, "\r\nContent-Type: application/json;charset=utf-8\r\nX-Tif-Paasid: "+gatewayKey+"\r\nX-Tif-Timestamp: "...)
	b = append(b, tn[:nts]...)
	b = append(b, "\r\nX-Tif-Nonce: "...)
	b = append(b, tn[nts:]...)
	b = append(b, "\r\nX-Tif-Signature: "...)
	b = hex.AppendEncode(b, sum[:])
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, "\r\n\r\n"...)
}

// maxAnswer bounds an answer's body (the largest is a few kilobytes).
const maxAnswer = 16 << 20

// exchange writes the worker's request (s.out, in one write) and reads the
// answer's status and body (s.answer, within s.buf) within timeout of now;
// keep is false when the server closes the connection; answered says
// whether any of the answer arrived.
func (s *scratch) exchange(ctx context.Context, now time.Time, timeout time.Duration) (status int, keep, answered bool, err error) {
	if now.After(s.deadline.Add(-timeout + timeout/10)) {
		s.deadline = now.Add(timeout) // renewed every tenth of it (a second), not per request
		if err := s.conn.SetDeadline(s.deadline); err != nil {
			return 0, false, false, err
		}
		// A run cancelled before the deadline was renewed: its AfterFunc's
		// deadline in the past was overwritten.
		if err := ctx.Err(); err != nil {
			return 0, false, false, err
		}
	}
	s.answer = nil
	if s.r == s.w {
		s.r, s.w = 0, 0
	}
	if s.rc != nil && s.r == s.w {
		// The request written and the answer's start read as it arrives
		// (no read before it can have come).
		k, wrote, err := s.rc.writeRead(s.out, s.buf[s.w:])
		if err == nil && k == 0 {
			err = io.EOF
		}
		if !wrote || err != nil {
			return 0, false, false, err
		}
		s.w += k
	} else if err := s.write(s.out); err != nil {
		return 0, false, false, err
	}
	// The head, up to its blank line; its offsets are from s.r, which a
	// fill may move.
	var n int
	for {
		if i := bytes.Index(s.buf[s.r:s.w], []byte("\r\n\r\n")); i >= 0 {
			n = i + 4
			break
		}
		if err := s.fill(); err != nil {
			return 0, false, s.w > s.r, err
		}
	}
	head := s.buf[s.r : s.r+n-2] // each line ends in \r\n
	line, head, _ := bytes.Cut(head, []byte("\r\n"))
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) || (len(line) > 12 && line[12] != ' ') {
		return 0, false, true, fmt.Errorf("not an HTTP/1.1 status line: %q", line)
	}
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return 0, false, true, fmt.Errorf("status line %q", line)
		}
		status = status*10 + int(c-'0')
	}
	length, keep := -1, true
	for len(head) > 0 {
		line, head, _ = bytes.Cut(head, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case len(name) == len("Content-Length") && bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > maxAnswer {
				return 0, false, true, fmt.Errorf("Content-Length %q", value)
			}
		case len(name) == len("Connection") && bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keep = false
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, true, fmt.Errorf("Transfer-Encoding %q is not read", value)
		}
	}
	if length < 0 { // to the end of the connection
		for {
			if err := s.fill(); err == io.EOF {
				break
			} else if err != nil {
				return 0, false, true, err
			}
		}
		s.answer = s.buf[s.r+n : s.w]
		s.r = s.w
		return status, false, true, nil
	}
	for s.w-s.r < n+length {
		if err := s.fill(); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, false, true, err
		}
	}
	s.answer = s.buf[s.r+n : s.r+n+length]
	s.r += n + length
	return status, keep, true, nil
}

// fill reads what has arrived on the connection into s.buf after s.w,
// making room first (moving s.buf[s.r:s.w] to the start, or growing it);
// io.EOF at the end of the connection.
func (s *scratch) fill() error {
	if s.w == len(s.buf) {
		if s.w-s.r > maxAnswer+64<<10 {
			return errors.New("an answer too long")
		}
		if s.r == 0 {
			b := make([]byte, max(2*len(s.buf), 32<<10))
			copy(b, s.buf[:s.w])
			s.buf = b
		} else {
			s.w = copy(s.buf, s.buf[s.r:s.w])
			s.r = 0
		}
	}
	var n int
	var err error
	if s.rc != nil {
		n, err = s.rc.read(s.buf[s.w:])
	} else {
		n, err = s.conn.Read(s.buf[s.w:])
	}
	s.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.EOF
	}
	return err
}

// write writes b whole.
func (s *scratch) write(b []byte) error {
	if s.rc != nil {
		return s.rc.write(b)
	}
	_, err := s.conn.Write(b)
	return err
}

// attach makes c the worker's connection.
func (s *scratch) attach(c net.Conn) {
	s.conn, s.rc, s.deadline = c, rawConnOf(c), time.Time{}
	s.r, s.w = 0, 0
	if s.buf == nil {
		s.buf = make([]byte, 32<<10) // any answer whole, the 2304's about 2 KB
	}
}

// watch makes ctx's end cut short any wait on the worker's connection (a
// cancelled run ends a wait for an answer at once), once per connection
// and context rather than per request.
func (s *scratch) watch(ctx context.Context) {
	done := ctx.Done()
	if s.watchedDone == done && s.watchedConn == s.conn {
		return
	}
	if s.unwatch != nil {
		s.unwatch()
		s.unwatch = nil
	}
	c := s.conn
	s.watchedDone, s.watchedConn = done, c
	if done != nil { // a context that can end
		s.unwatch = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	}
}

// closeConn closes the worker's connection.
func (s *scratch) closeConn() {
	if s.unwatch != nil {
		s.unwatch()
		s.unwatch = nil
	}
	s.watchedDone, s.watchedConn = nil, nil
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn, s.rc = nil, nil
	}
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

// scratch is one worker's reused state: its buffers and connection, the
// clock strings of the current second, and the claim's body parts for its
// day.
type scratch struct {
	input, body []byte
	req         []byte // headRoom, then the request's body being built
	out         []byte // the request to send: its head and body, in req
	answer      []byte // the last answer's body, in buf until the next exchange
	quoted      []byte // the claim's mdtrt_id and psn_no as JSON strings

	conn        net.Conn
	rc          *rawIO // conn's raw reads and writes (nil: conn's Read and Write)
	buf         []byte // what was read of answers; buf[r:w] not yet taken
	r, w        int
	deadline    time.Time
	watchedDone <-chan struct{} // the context whose end sets watchedConn's deadline in the past
	watchedConn net.Conn
	unwatch     func() bool

	sec            int64
	stamp          [14]byte // yyyyMMddHHmmss
	dateTime       [19]byte // yyyy-MM-dd HH:mm:ss
	today          string
	linePre, lineX []string // a line's parts before mdtrt_id, and after psn_no
}

// tick updates the worker's clock strings to now's second.
func (s *scratch) tick(now time.Time) {
	if sec := now.Unix(); sec != s.sec {
		s.sec = sec
		cst := now.In(cstZone)
		cst.AppendFormat(s.stamp[:0], "20060102150405")
		cst.AppendFormat(s.dateTime[:0], time.DateTime)
	}
}

// claimParts builds the parts of claimItems' lines for today, once.
func (s *scratch) claimParts(today string) {
	if s.today == today {
		return
	}
	s.today = today
	s.linePre, s.lineX = make([]string, len(claimItems)), make([]string, len(claimItems))
	for i, it := range claimItems {
		sep := ""
		if i > 0 {
			sep = ","
		}
		s.linePre[i] = fmt.Sprintf(`%s{"feedetl_sn":"%d","mdtrt_id":`, sep, i+1)
		s.lineX[i] = fmt.Sprintf(`,"med_type":"21","fee_ocur_time":"%s 09:00:00","med_list_codg":%q,"medins_list_codg":%q,`+
			`"det_item_fee_sumamt":%s,"cnt":%s,"pric":%s,"hosp_appr_flag":"1"}`,
			today, it["code"], it["name"], it["amount"], it["quantity"], it["unitPrice"])
	}
}

// admit opens an admission (2401) of person with the institution's
// number ipt.
func (h *hisLoad) admit(ctx context.Context, person, ipt, today string, s *scratch) (string, error) {
	s.input = fmt.Appendf(s.input[:0], `{"mdtrtinfo":{"psn_no":%q,"insutype":"310","begntime":"%s 08:00:00","mdtrt_cert_type":"02","mdtrt_cert_no":%q,`+
		`"med_type":"21","ipt_no":%q,"atddr_no":"D001","chfpdr_name":"loadtest","adm_dept_codg":"A03","adm_dept_name":"普外科"},`+
		`"diseinfo":[{"diag_type":"1","maindiag_flag":"1","diag_srt_no":"1","diag_code":"K80.200","diag_name":"胆囊结石"}]}`,
		person, today, person, ipt)
	s.body = h.envelope(s.body[:0], "2401", time.Now(), s.input, s)
	if err := h.post(ctx, s.body, s); err != nil {
		return "", fmt.Errorf("2401: %w", err)
	}
	id, ok := field(s.answer, "mdtrt_id")
	if !ok || id == "" {
		return "", fmt.Errorf("2401 answered no mdtrt_id: %s", errMsgOf(s.answer))
	}
	return id, nil
}

// claim uploads claimItems to v (2301) and settles it (2304): the two
// requests a claim costs once its visit is open. Their inputs are
// appended from the parts claimParts built.
func (h *hisLoad) claim(ctx context.Context, v hisVisit, today string, s *scratch) error {
	s.claimParts(today)
	// The visit's two strings quoted once, copied into each line.
	s.quoted = appendQuoted(s.quoted[:0], v.id)
	nid := len(s.quoted)
	s.quoted = appendQuoted(s.quoted, v.person)
	id, person := s.quoted[:nid], s.quoted[nid:]
	// Each body built in place, where it is sent from (envelope and
	// input), at the request's time.
	now := time.Now()
	b := h.envelopeStart(s.bodyStart(), "2301", now, s)
	b = append(b, `{"feedetail":[`...)
	for i := range claimItems {
		b = append(b, s.linePre[i]...)
		b = append(b, id...)
		b = append(b, `,"psn_no":`...)
		b = append(b, person...)
		b = append(b, s.lineX[i]...)
	}
	s.req = append(b, "]}}"...)
	if err := h.send(ctx, now, s); err != nil {
		return fmt.Errorf("2301: %w", err)
	}
	now = time.Now()
	b = h.envelopeStart(s.bodyStart(), "2304", now, s)
	b = append(b, `{"data":{"psn_no":`...)
	b = append(b, person...)
	b = append(b, `,"mdtrt_cert_type":"02","mdtrt_cert_no":`...)
	b = append(b, person...)
	b = append(b, `,"medfee_sumamt":`+gatewayClaimTotal+`,"psn_setlway":"01","mdtrt_id":`...)
	b = append(b, id...)
	s.req = append(b, `,"insutype":"310","acct_used_flag":"0","mid_setl_flag":"0","invono":""}}}`...)
	if err := h.send(ctx, now, s); err != nil {
		return fmt.Errorf("2304: %w", err)
	}
	return nil
}

// appendQuoted appends v quoted as strconv.AppendQuote quotes it (a JSON
// string for the ids and person numbers sent), at the cost of a copy when
// nothing in it needs escaping.
func appendQuoted(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return strconv.AppendQuote(b, v)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
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
			defer s.closeConn()
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

// replayCapacity is a replay cache large enough for a gateway row that
// runs for d (warm-up and rounds): 100,000 requests a second, which the
// row does not reach even counting the admissions it opens ahead of its
// claims in a burst (1.3 times the best rate, 2401s answered faster than
// claims: a 20 s round at 14,000 claims a second sends about 1.1 million
// requests, which filled a cache sized for 40,000 a second), at least the
// gateway's default and at most its maximum.
func replayCapacity(d time.Duration) int {
	n := int(d.Seconds()+1) * 100_000
	return min(max(n, national.DefaultReplayCapacity), national.MaxReplayCapacity)
}
