package national

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	"github.com/medsettle/medsettle/api"
)

// nationalPath is the national platform's path: the transaction is the
// body's infno. Any other path ends with the infno (the Guangdong style).
const nationalPath = "/fsi/api/rsfComIfsService/callService"

// maxMsgid is the longest msgid, in characters.
const maxMsgid = 30

// ServeHTTP answers one request (GATEWAY.md "Transport"): POST only, a
// JSON or text/plain body (no Content-Type is read as JSON); the signature headers are checked before the
// body is read (HTTP 401 when they fail); the body is read up to its
// limit (HTTP 413 beyond); the envelope is checked (fixmedins_code the
// credential's, infno four digits and the path's, msgid present); then
// the transaction's handler answers, as the credential's institution. An
// authenticated request is recorded in the audit log with its msgid and
// outcome. Every answered transaction is HTTP 200, infcode "0" or "-1".
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	received := g.now()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		g.refuseHTTP(w, http.StatusMethodNotAllowed, received, "只接受 POST 请求：请以 POST 提交报文")
		return
	}
	if msg := checkContentType(r.Header.Get("Content-Type")); msg != "" {
		g.refuseHTTP(w, http.StatusUnsupportedMediaType, received, msg)
		return
	}
	admitted, atOnce := g.admit(r.Context())
	if !admitted {
		w.Header().Set("Retry-After", "1")
		g.refuseHTTP(w, http.StatusServiceUnavailable, received, msgBusy)
		return
	}
	defer g.release()
	auth, fail := g.authenticate(r.Header, received)
	if fail != nil {
		g.refuseAuth(w, r, received, fail)
		return
	}
	// The call, its envelope and its handler's context are made together.
	req := &request{call: Call{Cred: auth.cred, Now: received}}
	c := &req.call
	// The request's limit starts no timer unless something waits on it
	// (api.WithDeadlineByClock): the embedded store never does. It counts
	// from now, read off the system's clock; a request that took its place
	// at once (no wait) counts it from its arrival when the gateway's clock
	// is the system's, the microseconds of the checks above apart, instead
	// of reading the clock again.
	limitFrom := received
	if !atOnce || !g.systemClock {
		limitFrom = time.Now()
	}
	ctx, cancel := api.WithDeadlineByClock(r.Context(), limitFrom.Add(g.timeout))
	defer cancel()
	bp := pooledBuffer()
	raw, err := readBody(w, r, g.maxBody, *bp)
	// raw is reused once the request is answered: what outlives it
	// (audit fields, stored lines) is copied out of it when decoded.
	defer putBuffer(bp, raw)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			g.record(ctx, c, codes.ResourceExhausted)
			g.refuseHTTP(w, http.StatusRequestEntityTooLarge, received,
				fmt.Sprintf("报文超过 %d 字节：请分批上传费用明细", g.maxBody))
			return
		}
		g.log.InfoContext(ctx, "national gateway: request body not read", "institution_id", auth.cred.InstitutionID, "error", err.Error())
		g.refuseHTTP(w, http.StatusBadRequest, received, "报文未能完整接收：请重新提交")
		return
	}
	env, refusal := parseEnvelope(raw, &req.env)
	c.Env = env
	if refusal == nil && env != nil {
		refusal = g.checkEnvelope(r.URL.Path, env, auth.cred)
	}
	if refusal != nil {
		g.finish(ctx, w, c, refusal, nil)
		return
	}
	h, ok := handlers[env.Infno]
	if !ok {
		g.finish(ctx, w, c, refuse("交易 %s 未开通", env.Infno), nil)
		return
	}
	// The csb triple is recorded once the request is accepted for
	// processing: a request refused for its envelope does not burn it
	// (its replay is refused the same way).
	if fail := g.checkCSBReplay(auth, env.Msgid, received); fail != nil {
		g.refuseAuth(w, r, received, fail)
		return
	}
	out, err := g.run(g.principalContext(ctx, auth.cred, &req.ctx), h, c)
	g.finish(ctx, w, c, err, out)
}

// request is what ServeHTTP makes of one request, in one allocation: its
// call, the envelope (the call's Env once it is read) and the handler's
// context (principalContext).
type request struct {
	call Call
	env  Envelope
	ctx  principalCtx
}

// institutionPrincipal is the principal a credential's requests call the
// services as.
func institutionPrincipal(cred *Credential) api.Principal {
	return api.Principal{Role: api.RoleInstitution, Institution: cred.InstitutionID}
}

// principalContext is ctx carrying cred's principal for the services, as
// api.WithPrincipal(ctx, institutionPrincipal(cred)) does (in pc): its values are
// those made once for the credential (Gateway.principals), looked up
// before ctx's, so that a request makes one context instead of two and
// boxes nothing.
func (g *Gateway) principalContext(ctx context.Context, cred *Credential, pc *principalCtx) context.Context {
	vals, ok := g.principals[cred]
	if !ok {
		return api.WithPrincipal(ctx, institutionPrincipal(cred))
	}
	*pc = principalCtx{Context: ctx, vals: vals}
	return pc
}

// principalCtx is a request's context with a credential's principal:
// Value answers from vals (api.WithPrincipal on context.Background, which
// holds nothing else) first, then from the request's context, whose
// deadline and cancellation it keeps.
type principalCtx struct {
	context.Context
	vals context.Context
}

// Value implements context.Context.
func (c *principalCtx) Value(key any) any {
	if v := c.vals.Value(key); v != nil {
		return v
	}
	return c.Context.Value(key)
}

// readBody reads a request's body up to max bytes (an
// *http.MaxBytesError beyond), appending to b (a pooled buffer), or to a
// buffer sized by its Content-Length when b is too small for it (one
// allocation, where io.ReadAll grows its buffer from 512 bytes).
func readBody(w http.ResponseWriter, r *http.Request, max int64, b []byte) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, max)
	if cl := r.ContentLength; cl > 0 && cl < max && int(cl) >= cap(b) {
		// Room to read the end without growing; a large declared length
		// is not trusted for more than maxPooledBuffer before it arrives.
		b = make([]byte, 0, min(int(cl)+1, maxPooledBuffer))
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// run calls a handler; a panic is an internal error, logged with its
// stack.
func (g *Gateway) run(ctx context.Context, h handler, c *Call) (out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			g.log.ErrorContext(ctx, "national gateway: panic", "infno", c.Env.Infno, "msgid", c.Env.Msgid,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			out, err = nil, errPanicked
		}
	}()
	return h(ctx, g, c, c.Env.Input)
}

// errPanicked is the error of a handler that panicked.
var errPanicked = errors.New("handler panicked")

// finish answers a transaction (HTTP 200): output if err is nil, else the
// failure's message; and records it in the audit log first, at the
// answer's respond_time.
func (g *Gateway) finish(ctx context.Context, w http.ResponseWriter, c *Call, err error, out any) {
	code, msg := codes.OK, ""
	if err != nil {
		msg, code = g.failure(ctx, c, err)
	}
	bp := pooledBuffer()
	// One reading of the clock is the answer's respond_time and its audit
	// event's time.
	answered := g.now()
	body, ok := g.appendAnswerAt(*bp, c.Now, answered, msg, out)
	if r, pooled := out.(pooledOutput); pooled {
		r.release() // written: nothing uses it any more
	}
	if !ok {
		code = codes.Internal
	}
	g.recordAt(ctx, c, code, answered)
	write(w, http.StatusOK, body)
	putBuffer(bp, body)
}

// pooledOutput is a handler's output taken from a pool: finish gives it
// back once the answer is written.
type pooledOutput interface {
	release()
}

// refuseAuth answers a request whose credentials fail: HTTP 401 (503 when
// the replay cache is full). Nothing is recorded in the audit log (as for
// a gRPC call without credentials); the log notes it without secrets.
func (g *Gateway) refuseAuth(w http.ResponseWriter, r *http.Request, received time.Time, fail *authFailure) {
	if fail.busy {
		w.Header().Set("Retry-After", "1")
		g.log.WarnContext(r.Context(), "national gateway: replay cache full", "remote", r.RemoteAddr)
		g.refuseHTTP(w, http.StatusServiceUnavailable, received, fail.Msg)
		return
	}
	g.log.InfoContext(r.Context(), "national gateway: authentication refused", "remote", r.RemoteAddr, "reason", fail.Msg)
	g.refuseHTTP(w, http.StatusUnauthorized, received, fail.Msg)
}

// admit takes one of the gateway's places, waiting at most its queue
// wait, and reports whether it did and whether it took one at once,
// without waiting; release gives it back.
func (g *Gateway) admit(ctx context.Context) (admitted, atOnce bool) {
	select {
	case g.slots <- struct{}{}:
		return true, true
	default:
	}
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return true, false
	case <-t.C:
	case <-ctx.Done():
	}
	return false, false
}

// release gives back the place admit took.
func (g *Gateway) release() { <-g.slots }

// checkContentType accepts application/json and text/plain, in UTF-8 (a
// charset other than UTF-8 is refused), and no Content-Type at all (read
// as JSON: many HIS clients send none); it returns why not, or "".
func checkContentType(ct string) string {
	const want = "Content-Type 须为 application/json 或 text/plain（UTF-8 编码）"
	switch ct {
	case "", "application/json", "application/json;charset=utf-8", "application/json; charset=utf-8",
		"application/json;charset=UTF-8", "application/json; charset=UTF-8":
		return "" // none (read as JSON), and the common forms without parsing
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && mt != "text/plain") {
		return want
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return want + "，不支持 charset=" + cutChars(cs, 20)
	}
	return ""
}

// parseEnvelope reads a request body into env (a zero Envelope): UTF-8
// JSON, one object, in one pass when it plainly can (Envelope.decodeFast;
// its input then shares raw's bytes), else with encoding/json. env is
// returned when it could be read, nil with the refusal when not.
func parseEnvelope(raw []byte, env *Envelope) (*Envelope, *Refusal) {
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")) // a byte-order mark some clients send
	if !utf8.Valid(raw) {
		return nil, refuse("报文不是 UTF-8 编码：请以 UTF-8 编码提交")
	}
	if env.decodeFast(raw) {
		return env, nil
	}
	if err := json.Unmarshal(raw, env); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, refuse("报文不是合法的 JSON（第 %d 字节附近）：请检查报文格式", se.Offset)
		case errors.As(err, &te) && te.Field != "":
			return nil, refuse("报文字段 %s 的类型不对：应为%s", cutChars(te.Field, 40), jsonKind(te.Type.Kind().String()))
		}
		return nil, refuse("报文不是一个 JSON 对象：请检查报文格式")
	}
	return env, nil
}

// jsonKind names a Go kind as a JSON type in Chinese.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "字符串"
	case "struct", "map":
		return "对象"
	case "slice":
		return "数组"
	}
	return "合适的类型"
}

// checkEnvelope checks the envelope's required fields against the
// credential and the path.
func (g *Gateway) checkEnvelope(path string, env *Envelope, cred *Credential) *Refusal {
	switch n := utf8.RuneCountInString(env.Msgid); {
	case n == 0:
		return refuse("缺少 msgid：请填写报文 ID（不超过 %d 个字符）", maxMsgid)
	case n > maxMsgid:
		return refuse("msgid 长 %d 个字符，超过 %d：请缩短报文 ID", n, maxMsgid)
	}
	switch {
	case env.Infno == "":
		return refuse("缺少 infno：请填写 4 位交易编号")
	case !digits(env.Infno, 4):
		return refuse("infno %q 不是 4 位数字交易编号：请核对", cutChars(env.Infno, 20))
	case env.FixmedinsCode == "":
		return refuse("缺少 fixmedins_code：请填写定点医药机构编号")
	case env.FixmedinsCode != cred.FixmedinsCode:
		return refuse("fixmedins_code %q 与签名凭证的机构 %s 不符：请填写本机构的定点医药机构编号", cutChars(env.FixmedinsCode, 30), cred.FixmedinsCode)
	}
	if path != nationalPath {
		last := path[strings.LastIndexByte(path, '/')+1:]
		if last != env.Infno {
			return refuse("路径末段 %q 与报文 infno %s 不一致：请求路径应以交易编号结尾，或使用 %s", cutChars(last, 20), env.Infno, nationalPath)
		}
	}
	return nil
}
