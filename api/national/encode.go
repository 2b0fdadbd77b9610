package national

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/internal/jsonquote"
)

// Answers are written without reflection where they are frequent: the
// envelope (Response), the settling transactions' output (settleAnswer)
// and the upload's (uploadAnswer) append themselves to one buffer, byte
// for byte as encoding/json's Encoder (SetEscapeHTML false) writes them
// (TestAppendJSONMatches fills every field and compares). Any other
// output is written by encoding/json.

// jsonAppender is an output that appends itself as encoding/json would
// write it; false when encoding/json would fail (the answer is then
// written by encoding/json, which fails the same way).
type jsonAppender interface {
	appendJSON(b []byte) ([]byte, bool)
}

// appendString appends s as a JSON string, as encoding/json writes it
// with HTML escaping off (jsonquote.Append).
func appendString(b []byte, s string) []byte { return jsonquote.Append(b, s, false) }

// appendNumber appends a json.Number as encoding/json writes it ("" as 0);
// ok turns false when n is not a JSON number (encoding/json refuses it).
func appendNumber(b []byte, n json.Number, ok bool) ([]byte, bool) {
	if n == "" {
		return append(b, '0'), ok
	}
	s := scanner{b: []byte(n)}
	if !s.number() || s.i != len(s.b) {
		return append(b, '0'), false
	}
	return append(b, n...), ok
}

// appendJSON appends an Amount (MarshalJSON's bytes).
func (a Amount) appendJSON(b []byte) []byte { return engine.Money(a).AppendFixed(b) }

// appendJSON appends a Ratio (MarshalJSON's bytes).
func (r Ratio) appendJSON(b []byte) []byte { return append(b, engine.Ratio(r).String()...) }

// appendJSON appends a settling transaction's output.
func (a settleAnswer) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"setlinfo":`...)
	b, ok := a.Setlinfo.appendJSON(b)
	b = append(b, `,"setldetail":`...)
	if a.Setldetail == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range a.Setldetail {
			if i > 0 {
				b = append(b, ',')
			}
			var dok bool
			b, dok = a.Setldetail[i].appendJSON(b)
			ok = ok && dok
		}
		b = append(b, ']')
	}
	return append(b, '}'), ok
}

// uploadAnswer is the output of 2204 and 2301: the classified lines.
type uploadAnswer struct {
	Result []detailResult `json:"result"`
}

// pooledAnswerLines is the room of a pooled upload answer's lines: a
// larger answer has its own.
const pooledAnswerLines = 8

// answerRows are the pooled room of uploads' answers, reused once written
// (finish, release).
var answerRows = sync.Pool{New: func() any { return new([pooledAnswerLines]detailResult) }}

// uploadResults is an empty (never nil) slice with room for n answer
// lines, pooled when n is at most pooledAnswerLines.
func uploadResults(n int) []detailResult {
	if n > pooledAnswerLines {
		return make([]detailResult, 0, n)
	}
	return answerRows.Get().(*[pooledAnswerLines]detailResult)[:0]
}

// release gives a written answer's pooled room back, cleared; nothing
// may use the answer afterwards.
func (a uploadAnswer) release() {
	if cap(a.Result) != pooledAnswerLines {
		return
	}
	rows := (*[pooledAnswerLines]detailResult)(a.Result[:pooledAnswerLines])
	clear(rows[:])
	answerRows.Put(rows)
}

// appendJSON appends an upload's output.
func (a uploadAnswer) appendJSON(b []byte) ([]byte, bool) {
	b = append(b, `{"result":`...)
	ok := true
	if a.Result == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range a.Result {
			if i > 0 {
				b = append(b, ',')
			}
			var lok bool
			b, lok = a.Result[i].appendJSON(b)
			ok = ok && lok
		}
		b = append(b, ']')
	}
	return append(b, '}'), ok
}

// appendJSON appends the answer's envelope, its output by its own
// appendJSON when it has one, else by encoding/json; false when the
// output cannot be written.
func (r *Response) appendJSON(b []byte) ([]byte, bool) {
	b = appendEnvelope(b, r.Infcode, r.InfRefmsgid, r.RefmsgTime, r.RespondTime, r.ErrMsg, r.WarnMsg)
	return appendOutput(b, r.Output)
}

// appendEnvelope appends a Response's fields before its output, up to
// `"output":`.
func appendEnvelope(b []byte, infcode, refmsgid, refmsgTime, respondTime, errMsg, warnMsg string) []byte {
	b = append(b, `{"infcode":`...)
	b = appendString(b, infcode)
	b = append(b, `,"inf_refmsgid":`...)
	b = appendString(b, refmsgid)
	b = append(b, `,"refmsg_time":`...)
	b = appendString(b, refmsgTime)
	b = append(b, `,"respond_time":`...)
	b = appendString(b, respondTime)
	b = append(b, `,"err_msg":`...)
	b = appendString(b, errMsg)
	b = append(b, `,"warn_msg":`...)
	b = appendString(b, warnMsg)
	return append(b, `,"output":`...)
}

// appendOutput appends a Response's output (after appendEnvelope) and
// closes it: by the output's own appendJSON when it has one, else by
// encoding/json; false when it cannot be written.
func appendOutput(b []byte, output any) ([]byte, bool) {
	switch out := output.(type) {
	case nil:
		b = append(b, "null"...)
	case jsonAppender:
		var ok bool
		if b, ok = out.appendJSON(b); !ok {
			return b, false
		}
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return b, false
		}
		b = append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
	}
	return append(b, '}', '\n'), true
}

// appendJSON appends s as encoding/json writes it.
func (s *setlInfo) appendJSON(b []byte) ([]byte, bool) {
	ok := true
	b = append(b, `{"setl_id":`...)
	b = appendString(b, s.SetlID)
	b = append(b, `,"mdtrt_id":`...)
	b = appendString(b, s.MdtrtID)
	b = append(b, `,"psn_no":`...)
	b = appendString(b, s.PsnNo)
	b = append(b, `,"psn_name":`...)
	b = appendString(b, s.PsnName)
	b = append(b, `,"psn_cert_type":`...)
	b = appendString(b, s.PsnCertType)
	b = append(b, `,"certno":`...)
	b = appendString(b, s.Certno)
	b = append(b, `,"gend":`...)
	b = appendString(b, s.Gend)
	b = append(b, `,"naty":`...)
	b = appendString(b, s.Naty)
	b = append(b, `,"brdy":`...)
	b = appendString(b, s.Brdy)
	b = append(b, `,"age":`...)
	b = strconv.AppendInt(b, int64(s.Age), 10)
	b = append(b, `,"insutype":`...)
	b = appendString(b, s.Insutype)
	b = append(b, `,"psn_type":`...)
	b = appendString(b, s.PsnType)
	b = append(b, `,"cvlserv_flag":`...)
	b = appendString(b, s.CvlservFlag)
	b = append(b, `,"setl_time":`...)
	b = appendString(b, s.SetlTime)
	b = append(b, `,"mdtrt_cert_type":`...)
	b = appendString(b, s.MdtrtCertType)
	b = append(b, `,"med_type":`...)
	b = appendString(b, s.MedType)
	b = append(b, `,"medfee_sumamt":`...)
	b = s.MedfeeSumamt.appendJSON(b)
	b = append(b, `,"fulamt_ownpay_amt":`...)
	b = s.FulamtOwnpayAmt.appendJSON(b)
	b = append(b, `,"overlmt_selfpay":`...)
	b = s.OverlmtSelfpay.appendJSON(b)
	b = append(b, `,"preselfpay_amt":`...)
	b = s.PreselfpayAmt.appendJSON(b)
	b = append(b, `,"inscp_scp_amt":`...)
	b = s.InscpScpAmt.appendJSON(b)
	b = append(b, `,"act_pay_dedc":`...)
	b = s.ActPayDedc.appendJSON(b)
	b = append(b, `,"hifp_pay":`...)
	b = s.HifpPay.appendJSON(b)
	b = append(b, `,"pool_prop_selfpay":`...)
	b = s.PoolPropSelfpay.appendJSON(b)
	b = append(b, `,"cvlserv_pay":`...)
	b = s.CvlservPay.appendJSON(b)
	b = append(b, `,"hifes_pay":`...)
	b = s.HifesPay.appendJSON(b)
	b = append(b, `,"hifmi_pay":`...)
	b = s.HifmiPay.appendJSON(b)
	b = append(b, `,"hifob_pay":`...)
	b = s.HifobPay.appendJSON(b)
	b = append(b, `,"maf_pay":`...)
	b = s.MafPay.appendJSON(b)
	b = append(b, `,"oth_pay":`...)
	b = s.OthPay.appendJSON(b)
	b = append(b, `,"fund_pay_sumamt":`...)
	b = s.FundPaySumamt.appendJSON(b)
	b = append(b, `,"psn_part_amt":`...)
	b = s.PsnPartAmt.appendJSON(b)
	b = append(b, `,"acct_pay":`...)
	b = s.AcctPay.appendJSON(b)
	b = append(b, `,"psn_cash_pay":`...)
	b = s.PsnCashPay.appendJSON(b)
	b = append(b, `,"hosp_part_amt":`...)
	b = s.HospPartAmt.appendJSON(b)
	b = append(b, `,"balc":`...)
	b = s.Balc.appendJSON(b)
	b = append(b, `,"acct_mulaid_pay":`...)
	b = s.AcctMulaidPay.appendJSON(b)
	b = append(b, `,"medins_setl_id":`...)
	b = appendString(b, s.MedinsSetlID)
	b = append(b, `,"clr_optins":`...)
	b = appendString(b, s.ClrOptins)
	b = append(b, `,"clr_way":`...)
	b = appendString(b, s.ClrWay)
	b = append(b, `,"clr_type":`...)
	b = appendString(b, s.ClrType)
	return append(b, '}'), ok
}

// appendJSON appends s as encoding/json writes it.
func (s *setlDetail) appendJSON(b []byte) ([]byte, bool) {
	ok := true
	b = append(b, `{"fund_pay_type":`...)
	b = appendString(b, s.FundPayType)
	b = append(b, `,"fund_pay_type_name":`...)
	b = appendString(b, s.FundPayTypeName)
	b = append(b, `,"inscp_scp_amt":`...)
	b = s.InscpScpAmt.appendJSON(b)
	b = append(b, `,"crt_payb_lmt_amt":`...)
	b = s.CrtPaybLmtAmt.appendJSON(b)
	b = append(b, `,"fund_payamt":`...)
	b = s.FundPayamt.appendJSON(b)
	b = append(b, `,"setl_proc_info":`...)
	b = appendString(b, s.SetlProcInfo)
	return append(b, '}'), ok
}

// appendJSON appends d as encoding/json writes it.
func (d *detailResult) appendJSON(b []byte) ([]byte, bool) {
	ok := true
	b = append(b, `{"feedetl_sn":`...)
	b = appendString(b, d.FeedetlSn)
	b = append(b, `,"det_item_fee_sumamt":`...)
	b = d.DetItemFeeSumamt.appendJSON(b)
	b = append(b, `,"cnt":`...)
	b, ok = appendNumber(b, d.Cnt, ok)
	b = append(b, `,"pric":`...)
	b, ok = appendNumber(b, d.Pric, ok)
	b = append(b, `,"pric_uplmt_amt":`...)
	b, ok = appendNumber(b, d.PricUplmtAmt, ok)
	b = append(b, `,"selfpay_prop":`...)
	b, ok = appendNumber(b, d.SelfpayProp, ok)
	b = append(b, `,"fulamt_ownpay_amt":`...)
	b = d.FulamtOwnpayAmt.appendJSON(b)
	b = append(b, `,"overlmt_amt":`...)
	b = d.OverlmtAmt.appendJSON(b)
	b = append(b, `,"preselfpay_amt":`...)
	b = d.PreselfpayAmt.appendJSON(b)
	b = append(b, `,"inscp_scp_amt":`...)
	b = d.InscpScpAmt.appendJSON(b)
	b = append(b, `,"chrgitm_lv":`...)
	b = appendString(b, d.ChrgitmLv)
	b = append(b, `,"med_chrgitm_type":`...)
	b = appendString(b, d.MedChrgitmType)
	return append(b, '}'), ok
}
