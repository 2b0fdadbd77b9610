package national

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"strings"
	"sync"
	"unicode/utf8"
)

// One-pass reading of the requests nearly every HIS sends.
//
// encoding/json reads a body twice (checkValid, then the decoding) and
// through reflection; the gateway used to read the envelope so, then its
// input again. The fast readers below read the envelope, 2301/2204's fee
// details and the settling transactions' data in one pass over the body,
// calling the same UnmarshalJSON methods (text, Number) on the same
// literal bytes as encoding/json does. They handle only what is plainly
// read: keys without escapes that name a field exactly (or no field even
// when folded), values of the field's type, no duplicated section, no
// deep nesting. Anything else (and any syntax error) makes them give up,
// leaving their target as they found it; the caller then reads the body
// with encoding/json, whose answer (and refusal) stands. So a body the
// fast reader accepts decodes exactly as encoding/json decodes it
// (TestFastDecodeMatches, FuzzFastDecode).

// maxFastDepth is the deepest nesting the fast readers skip over; deeper
// bodies go to encoding/json (whose own limit is 10,000).
const maxFastDepth = 64

// scanner reads one JSON text from b. The string values of the object
// being read are gathered (pend, in pooled space) and made one string
// when it is done (flush), each field a slice of it: one allocation per
// object rather than one per field (the lines of an upload share one
// unless their slice grew while they were read).
type scanner struct {
	b     []byte
	i     int
	depth int

	sp *scanSpace
}

// scanSpace holds a scanner's pending values; they are pooled.
type scanSpace struct {
	vals []byte
	refs []pendingValue
}

var scanSpaces = sync.Pool{New: func() any {
	return &scanSpace{vals: make([]byte, 0, 512), refs: make([]pendingValue, 0, 24)}
}}

// newScanner is a scanner of b with pooled space for its pending values;
// release returns it.
func newScanner(b []byte) scanner {
	return scanner{b: b, sp: scanSpaces.Get().(*scanSpace)}
}

// maxPooledVals and maxPooledRefs bound the scan space kept in the pool: a
// request with a huge value or very many fields leaves its space to the
// collector rather than to every later request.
const (
	maxPooledVals = 64 << 10
	maxPooledRefs = 1024
)

// release returns the scanner's space to the pool, keeping no pointer.
func (s *scanner) release() {
	sp := s.sp
	s.sp = nil
	if cap(sp.vals) > maxPooledVals || cap(sp.refs) > maxPooledRefs {
		return
	}
	clear(sp.refs[:cap(sp.refs)])
	sp.vals, sp.refs = sp.vals[:0], sp.refs[:0]
	scanSpaces.Put(sp)
}

// pendingValue is a field whose value is vals[start:end] once flushed.
type pendingValue struct {
	dst        *string
	start, end int
}

// pend sets *dst to v at the next flush (in order: a later value of the
// same field wins, as with encoding/json).
func (s *scanner) pend(dst *string, v []byte) {
	sp := s.sp
	start := len(sp.vals)
	sp.vals = append(sp.vals, v...)
	sp.refs = append(sp.refs, pendingValue{dst, start, len(sp.vals)})
}

// pendString is pend of a string.
func (s *scanner) pendString(dst *string, v string) {
	sp := s.sp
	start := len(sp.vals)
	sp.vals = append(sp.vals, v...)
	sp.refs = append(sp.refs, pendingValue{dst, start, len(sp.vals)})
}

// flush sets the pending fields, from one string.
func (s *scanner) flush() {
	sp := s.sp
	if len(sp.refs) == 0 {
		return
	}
	all := string(sp.vals)
	for _, r := range sp.refs {
		*r.dst = all[r.start:r.end]
	}
	sp.vals, sp.refs = sp.vals[:0], sp.refs[:0]
}

// ws skips white space.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.ws()
	return s.i == len(s.b)
}

// str reads a string literal at s.i: its bytes with the quotes, and
// whether it holds no escape. Plain bytes are skipped eight at a time.
func (s *scanner) str() (lit []byte, plain, ok bool) {
	start := s.i
	if start >= len(s.b) || s.b[start] != '"' {
		return nil, false, false
	}
	plain = true
	b := s.b
	for i := start + 1; ; i++ {
		for i+8 <= len(b) {
			if m := strSpecial(binary.LittleEndian.Uint64(b[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3 // the first special byte
				break
			}
			i += 8
		}
		if i >= len(b) {
			return nil, false, false
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return b[start:s.i], plain, true
		case c < 0x20:
			return nil, false, false
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return nil, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return nil, false, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return nil, false, false
					}
				}
				i += 4
			default:
				return nil, false, false
			}
		}
	}
}

// strSpecial marks the bytes of v (eight bytes of a string literal, the
// first the lowest) that end or escape it or are control characters (a
// quote, a backslash, a byte below 0x20) with their high bit: 0 when
// there is none. The lowest mark is the first such byte (a byte above it
// may be marked that is not one).
func strSpecial(v uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs := v^(ones*'"'), v^(ones*'\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (v-ones*0x20)&^v) & highs
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number reads a number literal at s.i (JSON's grammar).
func (s *scanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return true
}

// word reads the literal w (true, false, null) at s.i.
func (s *scanner) word(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

// value reads any value at s.i (after white space) and returns its bytes.
func (s *scanner) value() ([]byte, bool) {
	s.ws()
	start := s.i
	if start >= len(s.b) {
		return nil, false
	}
	ok := false
	switch c := s.b[start]; {
	case c == '"':
		_, _, ok = s.str()
	case c == '{':
		ok = s.object(func([]byte) bool { _, ok := s.value(); return ok })
	case c == '[':
		ok = s.array(func() bool { _, ok := s.value(); return ok })
	case c == 't':
		ok = s.word("true")
	case c == 'f':
		ok = s.word("false")
	case c == 'n':
		ok = s.word("null")
	case c == '-' || isDigit(c):
		ok = s.number()
	}
	if !ok {
		return nil, false
	}
	return s.b[start:s.i], true
}

// isNull reports whether the value at s.i (after white space) is null,
// reading it if so.
func (s *scanner) isNull() bool {
	s.ws()
	return s.i < len(s.b) && s.b[s.i] == 'n' && s.word("null")
}

// object reads an object at s.i (after white space), calling member with
// each key (without its quotes; a key with an escape gives up) once the
// scanner is at the key's value, which member must read.
func (s *scanner) object(member func(key []byte) bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return false
	}
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		s.ws()
		key, plain, ok := s.str()
		if !ok || !plain {
			return false
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		if !member(key[1 : len(key)-1]) {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// array reads an array at s.i (after white space), calling elem at each
// element, which elem must read.
func (s *scanner) array(elem func() bool) bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return false
	}
	if s.depth++; s.depth > maxFastDepth {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !elem() {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

// text reads a text value as text.UnmarshalJSON reads its literal (null
// "", a string, a number's literal text), pending; anything else gives up
// (encoding/json names the field).
func (s *scanner) text(t *text) bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		lit, plain, ok := s.str()
		if !ok {
			return false
		}
		if in := lit[1 : len(lit)-1]; plain && utf8.Valid(in) {
			s.pend((*string)(t), in)
			return true
		}
		v, err := unquote(lit)
		if err != nil {
			return false
		}
		s.pendString((*string)(t), v)
		return true
	case c == 'n':
		if !s.word("null") {
			return false
		}
		s.pend((*string)(t), nil)
		return true
	case c == '-' || isDigit(c):
		start := s.i
		if !s.number() {
			return false
		}
		s.pend((*string)(t), s.b[start:s.i])
		return true
	}
	return false
}

// numberField reads a Number value as Number.UnmarshalJSON reads its
// literal (null unset, a string trimmed, a number's literal text),
// pending; anything else gives up.
func (s *scanner) numberField(n *Number) bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		lit, plain, ok := s.str()
		if !ok {
			return false
		}
		n.Present = true
		if in := lit[1 : len(lit)-1]; plain && utf8.Valid(in) {
			s.pend(&n.Text, bytes.TrimSpace(in))
			return true
		}
		v, err := unquote(lit)
		if err != nil {
			return false
		}
		s.pendString(&n.Text, strings.TrimSpace(v))
		return true
	case c == 'n':
		if !s.word("null") {
			return false
		}
		n.Present = false
		s.pend(&n.Text, nil)
		return true
	case c == '-' || isDigit(c):
		start := s.i
		if !s.number() {
			return false
		}
		n.Present = true
		s.pend(&n.Text, s.b[start:s.i])
		return true
	}
	return false
}

// stringField reads a string field: a string (as encoding/json reads
// it), pending, or null (which leaves it as it is, as encoding/json does).
func (s *scanner) stringField(p *string) bool {
	if s.isNull() {
		return true
	}
	lit, plain, ok := s.str()
	if !ok {
		return false
	}
	if in := lit[1 : len(lit)-1]; plain && utf8.Valid(in) {
		s.pend(p, in)
		return true
	}
	v, err := unquote(lit)
	s.pendString(p, v)
	return err == nil
}

// raw reads a json.RawMessage field: the value's bytes, copied (as
// RawMessage.UnmarshalJSON does; null is the bytes null).
func (s *scanner) raw(m *json.RawMessage) bool {
	lit, ok := s.value()
	if ok {
		*m = append((*m)[:0], lit...)
	}
	return ok
}

// skip reads the value of a key that names no field: it gives up when
// the key names one of fields but for its case (encoding/json matches
// names case-insensitively), or is not plain ASCII.
func (s *scanner) skip(key []byte, fields []string) bool {
	for _, c := range key {
		if c >= 0x80 {
			return false
		}
	}
	for _, f := range fields {
		if asciiEqualFold(key, f) {
			return false
		}
	}
	_, ok := s.value()
	return ok
}

// asciiEqualFold reports whether ASCII k and f are equal but for case.
func asciiEqualFold(k []byte, f string) bool {
	if len(k) != len(f) {
		return false
	}
	for i := range k {
		a, b := k[i], f[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

// envelopeFields are Envelope's JSON names.
var envelopeFields = []string{"infno", "msgid", "mdtrtarea_admvs", "insuplc_admdvs", "recer_sys_code", "dev_no",
	"dev_safe_info", "cainfo", "signtype", "infver", "opter_type", "opter", "opter_name", "inf_time",
	"fixmedins_code", "fixmedins_name", "sign_no", "input"}

// decodeFast reads an envelope in one pass (its input kept as bytes of
// b, not copied); false leaves env as it was.
func (env *Envelope) decodeFast(b []byte) bool {
	saved := *env
	s := newScanner(b)
	defer s.release()
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "infno":
			return s.stringField(&env.Infno)
		case "msgid":
			// Its own string: the audit log keeps it.
			if s.isNull() {
				return true
			}
			lit, _, ok := s.str()
			if !ok {
				return false
			}
			v, err := unquote(lit)
			env.Msgid = v
			return err == nil
		case "mdtrtarea_admvs":
			return s.stringField(&env.MdtrtareaAdmvs)
		case "insuplc_admdvs":
			return s.stringField(&env.InsuplcAdmdvs)
		case "recer_sys_code":
			return s.stringField(&env.RecerSysCode)
		case "dev_no":
			return s.stringField(&env.DevNo)
		case "dev_safe_info":
			return s.stringField(&env.DevSafeInfo)
		case "cainfo":
			return s.stringField(&env.Cainfo)
		case "signtype":
			return s.stringField(&env.Signtype)
		case "infver":
			return s.stringField(&env.Infver)
		case "opter_type":
			return s.stringField(&env.OpterType)
		case "opter":
			return s.stringField(&env.Opter)
		case "opter_name":
			return s.stringField(&env.OpterName)
		case "inf_time":
			return s.stringField(&env.InfTime)
		case "fixmedins_code":
			return s.stringField(&env.FixmedinsCode)
		case "fixmedins_name":
			return s.stringField(&env.FixmedinsName)
		case "sign_no":
			return s.stringField(&env.SignNo)
		case "input":
			v, ok := s.value()
			env.Input = v
			return ok
		}
		return s.skip(key, envelopeFields)
	})
	if !ok || !s.end() {
		*env = saved
		return false
	}
	s.flush()
	return true
}

// feeDetailFields are feeDetailLine's JSON names.
var feeDetailFields = []string{"feedetl_sn", "mdtrt_id", "psn_no", "chrg_bchno", "med_type", "fee_ocur_time",
	"med_list_codg", "medins_list_codg", "det_item_fee_sumamt", "cnt", "pric"}

// decodeFast reads one fee-detail line object at s.
func (l *feeDetailLine) decodeFast(s *scanner) bool {
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "feedetl_sn":
			return s.text(&l.FeedetlSn)
		case "mdtrt_id":
			return s.text(&l.MdtrtID)
		case "psn_no":
			return s.text(&l.PsnNo)
		case "chrg_bchno":
			return s.text(&l.ChrgBchno)
		case "med_type":
			return s.text(&l.MedType)
		case "fee_ocur_time":
			return s.text(&l.FeeOcurTime)
		case "med_list_codg":
			return s.text(&l.MedListCodg)
		case "medins_list_codg":
			return s.text(&l.MedinsListCodg)
		case "det_item_fee_sumamt":
			return s.numberField(&l.DetItemFeeSumamt)
		case "cnt":
			return s.numberField(&l.Cnt)
		case "pric":
			return s.numberField(&l.Pric)
		}
		return s.skip(key, feeDetailFields)
	})
}

// feeDetailsFast reads input {"feedetail":[line…]} in one pass: the
// lines, or false when input is not that plainly (an empty, null or
// absent feedetail included), for readFeeDetailsByLine to read and judge.
func feeDetailsFast(input []byte, max int) ([]feeDetailLine, bool) {
	s := newScanner(input)
	defer s.release()
	var lines []feeDetailLine
	seen := false
	ok := s.object(func(key []byte) bool {
		if string(key) != "feedetail" {
			return s.skip(key, []string{"feedetail"})
		}
		if seen {
			return false
		}
		seen = true
		if lines == nil {
			lines = pooledLines()
		}
		return s.array(func() bool {
			if len(lines) == max {
				return false
			}
			if len(lines) == cap(lines) {
				s.flush() // before lines move
			}
			lines = append(lines, feeDetailLine{})
			return lines[len(lines)-1].decodeFast(&s)
		})
	})
	if !ok || !s.end() || len(lines) == 0 {
		putLines(lines)
		return nil, false
	}
	s.flush()
	return lines, true
}

// pooledLineCount is the room of a pooled slice of lines: an upload of
// more grows its own.
const pooledLineCount = 8

// lineArrays are the pooled room of uploads' lines.
var lineArrays = sync.Pool{New: func() any { return new([pooledLineCount]feeDetailLine) }}

// pooledLines is an empty slice of lines with pooled room; putLines
// returns it.
func pooledLines() []feeDetailLine {
	return lineArrays.Get().(*[pooledLineCount]feeDetailLine)[:0]
}

// putLines returns the room of lines to the pool, cleared, when it is a
// pooled size (a slice that grew beyond it is left to the collector).
// Nothing may use lines afterwards.
func putLines(lines []feeDetailLine) {
	if cap(lines) != pooledLineCount {
		return
	}
	a := (*[pooledLineCount]feeDetailLine)(lines[:pooledLineCount])
	clear(a[:])
	lineArrays.Put(a)
}

// settleDataFields are settleData's JSON names.
var settleDataFields = []string{"psn_no", "mdtrt_cert_type", "mdtrt_cert_no", "med_type", "medfee_sumamt",
	"psn_setlway", "mdtrt_id", "chrg_bchno", "insutype", "acct_used_flag", "invono", "mid_setl_flag",
	"fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "expContent", "exp_content"}

// decodeFast reads a settling transaction's input in one pass; false
// leaves in as it was (decodeInput then reads it with encoding/json).
func (in *settleInput) decodeFast(b []byte) bool {
	saved := *in
	s := newScanner(b)
	defer s.release()
	seen := false
	ok := s.object(func(key []byte) bool {
		if string(key) != "data" {
			return s.skip(key, []string{"data"})
		}
		if seen {
			return false
		}
		seen = true
		if s.isNull() {
			in.Data = nil
			return true
		}
		d := new(settleData)
		in.Data = d
		return s.object(func(key []byte) bool {
			switch string(key) {
			case "psn_no":
				return s.text(&d.PsnNo)
			case "mdtrt_cert_type":
				return s.text(&d.MdtrtCertType)
			case "mdtrt_cert_no":
				return s.text(&d.MdtrtCertNo)
			case "med_type":
				return s.text(&d.MedType)
			case "medfee_sumamt":
				return s.numberField(&d.MedfeeSumamt)
			case "psn_setlway":
				return s.text(&d.PsnSetlway)
			case "mdtrt_id":
				return s.text(&d.MdtrtID)
			case "chrg_bchno":
				return s.text(&d.ChrgBchno)
			case "insutype":
				return s.text(&d.Insutype)
			case "acct_used_flag":
				return s.text(&d.AcctUsedFlag)
			case "invono":
				return s.text(&d.Invono)
			case "mid_setl_flag":
				return s.text(&d.MidSetlFlag)
			case "fulamt_ownpay_amt":
				return s.numberField(&d.FulamtOwnpayAmt)
			case "overlmt_selfpay":
				return s.numberField(&d.OverlmtSelfpay)
			case "preselfpay_amt":
				return s.numberField(&d.PreselfpayAmt)
			case "inscp_scp_amt":
				return s.numberField(&d.InscpScpAmt)
			case "expContent":
				return s.raw(&d.ExpContent)
			case "exp_content":
				return s.raw(&d.ExpContentSnake)
			}
			return s.skip(key, settleDataFields)
		})
	})
	if !ok || !s.end() {
		*in = saved
		return false
	}
	s.flush()
	return true
}

// fastDecoder is an input that reads itself in one pass when it plainly
// can (decodeInput tries it first).
type fastDecoder interface {
	// decodeFast reads b; false leaves the receiver as it was.
	decodeFast(b []byte) bool
}
