package national

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Answer formats (Asia/Shanghai).
const (
	// respTimeLayout is refmsg_time and respond_time: yyyyMMddHHmmssSSS.
	respTimeLayout = "20060102150405.000"
	// refmsgidTimeLayout is the time in inf_refmsgid: yyyyMMddHHmmss.
	refmsgidTimeLayout = "20060102150405"
	// refmsgidSerials is the range of inf_refmsgid's 10-digit serial.
	refmsgidSerials = 10_000_000_000
)

// refmsgidSource numbers the answers: inf_refmsgid is the area code, the
// answer's time to the second and a 10-digit serial that counts up from a
// random start (so that a restart within the same second does not repeat
// one).
type refmsgidSource struct {
	next atomic.Uint64
}

func newRefmsgidSource() *refmsgidSource {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &refmsgidSource{}
	s.next.Store(binary.BigEndian.Uint64(b[:]) % refmsgidSerials)
	return s
}

// id is the next inf_refmsgid of area at t.
func (s *refmsgidSource) id(area string, t time.Time) string {
	var buf [64]byte
	return string(s.appendID(buf[:0], area, t))
}

// appendID appends the next inf_refmsgid of area at t to b.
func (s *refmsgidSource) appendID(b []byte, area string, t time.Time) []byte {
	n := s.next.Add(1) % refmsgidSerials
	var digits [20]byte
	serial := strconv.AppendUint(digits[:0], n, 10)
	b = append(b, area...)
	b = appendSecond(b, t)
	for range 10 - len(serial) {
		b = append(b, '0')
	}
	return append(b, serial...)
}

// respTime is t as refmsg_time and respond_time.
func respTime(t time.Time) string {
	var buf [24]byte
	return string(appendRespTime(buf[:0], t))
}

// cutChars cuts s to at most n characters.
func cutChars(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	return s[:i]
}

// answer is an envelope ready to write: infcode "0" and output when
// errMsg is empty, else "-1" with errMsg (cut to maxErrMsg characters)
// and no output. ok is false when output could not be encoded: the body
// is then the answer "内部错误". The envelope is written by
// Response.appendJSON (encoding/json when that gives up).
func (g *Gateway) answer(received time.Time, errMsg string, output any) (body []byte, ok bool) {
	return g.appendAnswer(make([]byte, 0, answerSize), received, errMsg, output)
}

// appendAnswer is answer appended to dst (a pooled buffer: pooledBuffer),
// answered now (appendAnswerAt).
func (g *Gateway) appendAnswer(dst []byte, received time.Time, errMsg string, output any) (body []byte, ok bool) {
	return g.appendAnswerAt(dst, received, g.now(), errMsg, output)
}

// appendAnswerAt is answer appended to dst (a pooled buffer:
// pooledBuffer), its respond_time answered (the clock read as the answer
// is made). Its inf_refmsgid and times are written from the stack (no
// string is made of them) unless the output needs encoding/json's
// Response.
func (g *Gateway) appendAnswerAt(dst []byte, received, answered time.Time, errMsg string, output any) (body []byte, ok bool) {
	var idBuf [64]byte
	var id []byte
	if g.refmsgid != nil && g.cfg != nil {
		id = g.refmsgid.appendID(idBuf[:0], g.cfg.Area, received)
	}
	var refBuf, respBuf [24]byte
	refmsgTime := appendRespTime(refBuf[:0], received)
	infcode := "0"
	if errMsg != "" {
		infcode, errMsg, output = "-1", cutChars(errMsg, maxErrMsg), nil
	}
	respondTime := appendRespTime(respBuf[:0], answered)
	// The conversions below do not outlive the call (appendEnvelope keeps
	// nothing): short ones are made on the stack.
	b := appendEnvelope(dst, infcode, string(id), string(refmsgTime), string(respondTime), errMsg, "")
	if body, ok := appendOutput(b, output); ok {
		return body, true
	}
	resp := Response{Infcode: infcode, InfRefmsgid: string(id), RefmsgTime: string(refmsgTime),
		RespondTime: string(respondTime), ErrMsg: errMsg, Output: output}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(resp); err != nil {
		g.log.Error("national gateway: answer not encodable", "error", err.Error())
		buf.Reset()
		resp.Infcode, resp.ErrMsg, resp.Output = "-1", msgInternal, nil
		_ = json.NewEncoder(&buf).Encode(resp)
		return buf.Bytes(), false
	}
	return buf.Bytes(), true
}

// answerSize is the capacity an answer's buffer starts with: a settling
// transaction's answer (or a six-line upload's) fits.
const answerSize = 2048

// maxPooledBuffer is the largest buffer kept for reuse (request bodies
// and answers): a larger one is left to the collector.
const maxPooledBuffer = 64 << 10

// buffers are the request bodies' and answers' buffers, reused.
var buffers = sync.Pool{New: func() any { b := make([]byte, 0, answerSize); return &b }}

// pooledBuffer is an empty buffer from the pool; putBuffer returns it.
func pooledBuffer() *[]byte {
	bp := buffers.Get().(*[]byte)
	*bp = (*bp)[:0]
	return bp
}

// putBuffer returns b's space (bp's, perhaps grown) to the pool, unless
// it grew beyond maxPooledBuffer. Nothing may use b afterwards.
func putBuffer(bp *[]byte, b []byte) {
	if cap(b) <= maxPooledBuffer {
		*bp = b[:0]
		buffers.Put(bp)
	}
}

// The constant headers of every answer: shared, never modified, so that
// an answer does not allocate them anew.
var (
	hdrJSON    = []string{"application/json;charset=utf-8"}
	hdrNosniff = []string{"nosniff"}
	hdrNoStore = []string{"no-store"}
)

// contentLengths are the Content-Length values of the answers shorter
// than maxCachedLength bytes, each made on first use and shared as the
// constant headers are.
var contentLengths [maxCachedLength]atomic.Pointer[[]string]

// maxCachedLength bounds contentLengths: nearly every answer is shorter.
const maxCachedLength = 8 << 10

// contentLength is the Content-Length header value of a body of n bytes:
// a shared slice, never modified.
func contentLength(n int) []string {
	if n < 0 || n >= maxCachedLength {
		return []string{strconv.Itoa(n)}
	}
	if v := contentLengths[n].Load(); v != nil {
		return *v
	}
	v := []string{strconv.Itoa(n)}
	contentLengths[n].Store(&v)
	return v
}

// write sends an answer's body with httpStatus.
func write(w http.ResponseWriter, httpStatus int, body []byte) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = contentLength(len(body))
	h["X-Content-Type-Options"] = hdrNosniff
	h["Cache-Control"] = hdrNoStore
	w.WriteHeader(httpStatus)
	_, _ = w.Write(body)
}

// refuseHTTP answers a request refused before its transaction: httpStatus
// with an envelope carrying errMsg.
func (g *Gateway) refuseHTTP(w http.ResponseWriter, httpStatus int, received time.Time, errMsg string) {
	bp := pooledBuffer()
	body, _ := g.appendAnswer(*bp, received, errMsg, nil)
	write(w, httpStatus, body)
	putBuffer(bp, body)
}
