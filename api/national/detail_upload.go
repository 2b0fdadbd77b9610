package national

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

func init() {
	register("2204", func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
		return uploadDetails(ctx, g, c, input, store.VisitKindOutpatient, "2204")
	})
	register("2301", func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
		return uploadDetails(ctx, g, c, input, store.VisitKindInpatient, "2301")
	})
}

// detailResult is one line of the upload's answer (output.result[]): the
// engine's classification of the line under the person's policy in force
// on the fee date. It is informational; the settlement computes anew.
type detailResult struct {
	FeedetlSn        string      `json:"feedetl_sn"`
	DetItemFeeSumamt Amount      `json:"det_item_fee_sumamt"`
	Cnt              json.Number `json:"cnt"`
	Pric             json.Number `json:"pric"`
	// PricUplmtAmt is the catalog's price cap, 0 when it has none.
	PricUplmtAmt json.Number `json:"pric_uplmt_amt"`
	// SelfpayProp is 0 for A items, the self-pay ratio for B items and 1
	// for C items and codes the catalog does not list.
	SelfpayProp     json.Number `json:"selfpay_prop"`
	FulamtOwnpayAmt Amount      `json:"fulamt_ownpay_amt"`
	OverlmtAmt      Amount      `json:"overlmt_amt"`
	PreselfpayAmt   Amount      `json:"preselfpay_amt"`
	InscpScpAmt     Amount      `json:"inscp_scp_amt"`
	// ChrgitmLv is 01 (甲), 02 (乙) or 03 (丙, and unlisted codes).
	ChrgitmLv      string `json:"chrgitm_lv"`
	MedChrgitmType string `json:"med_chrgitm_type"`
}

// uploadDetails answers 2204 (outpatient, kind) and 2301 (inpatient): it
// adds fee-detail lines to an OPEN visit of the calling institution, all
// or nothing. One bad line refuses the upload, naming every bad
// feedetl_sn; nothing is stored then.
func uploadDetails(ctx context.Context, g *Gateway, c *Call, input json.RawMessage, kind store.VisitKind, infno string) (any, error) {
	lines, decoded, err := readFeeDetails(input)
	if err != nil {
		return nil, err
	}
	// What is kept of the lines is copied out of them (strings, answers).
	defer putLines(lines)
	// The visit is the first readable line's; every line must name it.
	var first feeDetailLine
	for i := range lines {
		if decoded[i] {
			first = lines[i]
			break
		}
	}
	// The visit's attributes, from the cache when they are there: its
	// state is then left to PutFeeDetails (ErrVisitNotOpen).
	v, read, err := knownVisit(ctx, g, c, first.MdtrtID)
	if err != nil {
		return nil, err
	}
	if err := requireKind(v, kind, infno); err != nil {
		return nil, err
	}
	if read && v.State != store.VisitOpen {
		return nil, notOpen(v, "上传费用明细")
	}
	person, err := g.store.GetPerson(ctx, v.PersonID)
	if err != nil {
		return nil, fmt.Errorf("reading person %q of visit %q: %w", v.PersonID, v.ID, err)
	}
	policies, err := g.store.Policies(ctx, person.Region, person.Scheme)
	if err != nil {
		return nil, fmt.Errorf("reading the policies of %s %s: %w", person.Region, person.Scheme, err)
	}

	var bad []badLine
	var textBuf [512]byte
	var endBuf [4 * 32]int
	texts, ends := textBuf[:0], endBuf[:0]
	out := uploadResults(len(lines))
	details := make([]store.FeeDetail, 0, len(lines))
	seen := make(map[string]bool, len(lines))
	for i := range lines {
		d := &lines[i]
		var l lineCheck
		switch p := idProblem(string(d.FeedetlSn)); {
		case !decoded[i]:
			l.addf("不是费用明细对象或有字段类型不对，请按接口规范传入")
		case p != "":
			l.addf("feedetl_sn %s", p)
		case seen[string(d.FeedetlSn)]:
			l.addf("在本次上传中重复")
		}
		seen[string(d.FeedetlSn)] = true
		if !decoded[i] {
			bad = append(bad, badLine{name: lineName(i, d.FeedetlSn), problems: l.problems})
			continue
		}
		if string(d.MdtrtID) != v.ID {
			l.addf("mdtrt_id 须为 %s（一次上传只能属于一个就诊）", v.ID)
		}
		if string(d.PsnNo) != v.PersonID {
			l.addf("psn_no 须为就诊的人员 %s", clip(v.PersonID, 30))
		}
		fd, it, day := l.toFeeDetail(d, kind == store.VisitKindOutpatient)
		var class engine.LineClass
		var p *engine.Policy
		if !day.IsZero() {
			if p, err = engine.SelectPolicy(policies, person.Region, person.Scheme, day); err != nil {
				l.addf("费用日期 %s 没有在用的医保政策", day)
			} else if _, listed := p.Item(fd.Code); !listed && p.UnknownItem == engine.UnknownItemReject && fd.Code != "" {
				l.addf("med_list_codg %s 不在医保目录中，本地政策不收目录外项目", clip(fd.Code, 30))
			}
		}
		if len(l.problems) > 0 {
			bad = append(bad, badLine{name: lineName(i, d.FeedetlSn), problems: l.problems})
			continue
		}
		class = engine.ClassifyLine(p, it)
		fd.VisitID = v.ID
		details = append(details, fd)
		out = append(out, resultOf(fd, class))
		texts, ends = appendResultTexts(texts, ends, fd, class)
	}
	if len(bad) > 0 {
		if !read {
			// A visit that is not OPEN is refused as such first, as
			// when it was read before its lines were checked.
			if err := stillOpen(ctx, g, v.ID, "上传费用明细"); err != nil {
				return nil, err
			}
		}
		return nil, &Refusal{Msg: badLinesMessage(bad)}
	}
	if err := g.visits.PutFeeDetails(ctx, v.ID, details); err != nil {
		if !read && !errors.Is(err, store.ErrVisitNotOpen) {
			// Whatever else refused the upload, a visit that is not
			// OPEN is refused as such, as when it was read first.
			if serr := stillOpen(ctx, g, v.ID, "上传费用明细"); serr != nil {
				return nil, serr
			}
		}
		var conflict *store.DetailConflictError
		if errors.As(err, &conflict) {
			return nil, refuse("feedetl_sn %s 已上传且内容不同，整批未保存；请先撤销该明细（%s）再上传，或换用新的 feedetl_sn",
				clip(strings.Join(conflict.SNs, "、"), 100), cancelInfnoOf(kind))
		}
		var full *engine.ValidationError
		if errors.As(err, &full) && full.Has("lines") {
			return nil, refuse("就诊 %s 的费用明细将超过上限（至多 %d 条有效明细、累计 %d 条），整批未保存；请撤销不需要的明细，或另行办理就诊",
				v.ID, store.MaxVisitDetails, store.MaxVisitDetailRows)
		}
		return nil, whenNotOpen(ctx, g, v.ID, "上传费用明细", err)
	}
	setResultTexts(out, texts, ends)
	return uploadAnswer{Result: out}, nil
}

// readFeeDetails reads input.feedetail: every line, and whether it could
// be read as a line (one that could not keeps only its feedetl_sn, if that
// can be read, to name it). An upload whose every line plainly reads
// (nearly all) is read in one pass (feeDetailsFast), or else decoded whole
// by encoding/json; any other is read line by line. decoded is read, never
// modified (it may be allDecoded's).
func readFeeDetails(input json.RawMessage) ([]feeDetailLine, []bool, error) {
	if lines, ok := feeDetailsFast(input, engine.MaxItems); ok {
		return lines, allDecoded[:len(lines):len(lines)], nil
	}
	var fast struct {
		Feedetail []*feeDetailLine `json:"feedetail"`
	}
	if n := len(bytes.TrimSpace(input)); n > 0 && json.Unmarshal(input, &fast) == nil &&
		len(fast.Feedetail) > 0 && len(fast.Feedetail) <= engine.MaxItems && !slices.Contains(fast.Feedetail, nil) {
		lines := make([]feeDetailLine, len(fast.Feedetail))
		decoded := make([]bool, len(lines))
		for i, l := range fast.Feedetail {
			lines[i], decoded[i] = *l, true
		}
		return lines, decoded, nil
	}
	return readFeeDetailsByLine(input)
}

// allDecoded says of every line of an upload read in one pass that it was
// read: shared, never modified.
var allDecoded = func() []bool {
	b := make([]bool, engine.MaxItems)
	for i := range b {
		b[i] = true
	}
	return b
}()

// readFeeDetailsByLine reads input.feedetail line by line.
func readFeeDetailsByLine(input json.RawMessage) ([]feeDetailLine, []bool, error) {
	var in struct {
		Feedetail []json.RawMessage `json:"feedetail"`
	}
	if err := decodeInput(input, &in); err != nil {
		return nil, nil, err
	}
	switch n := len(in.Feedetail); {
	case n == 0:
		return nil, nil, refuse("input.feedetail 为空，请传入至少一条费用明细")
	case n > engine.MaxItems:
		return nil, nil, refuse("input.feedetail 有 %d 条，一次至多上传 %d 条，请分批上传", n, engine.MaxItems)
	}
	lines := make([]feeDetailLine, len(in.Feedetail))
	decoded := make([]bool, len(lines))
	for i, raw := range in.Feedetail {
		decoded[i] = json.Unmarshal(raw, &lines[i]) == nil && len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{'
		if !decoded[i] {
			// Keep what can be read of a line with a field of the wrong
			// type, to name it.
			var named struct {
				FeedetlSn text `json:"feedetl_sn"`
			}
			_ = json.Unmarshal(raw, &named)
			lines[i] = feeDetailLine{FeedetlSn: named.FeedetlSn}
		}
	}
	return lines, decoded, nil
}

// lineName names the i-th line (from 0) of an upload in a refusal: by its
// feedetl_sn, or by its place when it has none that can be named.
func lineName(i int, sn text) string {
	if idProblem(string(sn)) != "" {
		return fmt.Sprintf("第 %d 条", i+1)
	}
	return "feedetl_sn " + clip(string(sn), 30)
}

// cancelInfnoOf is the transaction that cancels details of a visit kind.
func cancelInfnoOf(k store.VisitKind) string {
	if k == store.VisitKindInpatient {
		return "2302"
	}
	return "2205"
}

// resultOf is a stored line's answer under its classification, but for
// its figures cnt, pric, pric_uplmt_amt and selfpay_prop, which
// appendResultTexts and setResultTexts write.
func resultOf(fd store.FeeDetail, lc engine.LineClass) detailResult {
	r := detailResult{
		FeedetlSn: fd.SN, DetItemFeeSumamt: Amount(fd.Amount), ChrgitmLv: "03",
		FulamtOwnpayAmt: Amount(lc.OutOfScope), OverlmtAmt: Amount(lc.OverLimit),
		PreselfpayAmt: Amount(lc.PreSelfPay), InscpScpAmt: Amount(lc.InScope),
	}
	switch {
	case !lc.Known:
	case lc.Entry.Category == engine.ItemA:
		r.ChrgitmLv = "01"
	case lc.Entry.Category == engine.ItemB:
		r.ChrgitmLv = "02"
	}
	return r
}

// appendResultTexts appends the figures of the next line's answer
// (cnt, pric, pric_uplmt_amt, selfpay_prop, as the engine's String writes
// them) to b, and where each ends to ends: setResultTexts then makes them
// one string, each figure a slice of it.
func appendResultTexts(b []byte, ends []int, fd store.FeeDetail, lc engine.LineClass) ([]byte, []int) {
	b = appendShortest(b, fd.Quantity.Scaled(), 4)
	ends = append(ends, len(b))
	b = appendShortest(b, fd.UnitPrice.Scaled(), 6)
	ends = append(ends, len(b))
	if lc.Entry.PriceCap != nil {
		b = appendShortest(b, lc.Entry.PriceCap.Scaled(), 6)
	} else {
		b = append(b, '0')
	}
	ends = append(ends, len(b))
	switch {
	case !lc.Known:
		b = append(b, '1')
	case lc.Entry.Category == engine.ItemA:
		b = append(b, '0')
	case lc.Entry.Category == engine.ItemB:
		b = appendShortest(b, lc.Entry.SelfPayRatio.Scaled(), 4)
	default:
		b = append(b, '1')
	}
	return b, append(ends, len(b))
}

// setResultTexts sets the figures of out, its lines' texts appended in
// order (appendResultTexts).
func setResultTexts(out []detailResult, b []byte, ends []int) {
	all := string(b)
	start := 0
	for i := range out {
		e := ends[4*i : 4*i+4]
		r := &out[i]
		r.Cnt, r.Pric = json.Number(all[start:e[0]]), json.Number(all[e[0]:e[1]])
		r.PricUplmtAmt, r.SelfpayProp = json.Number(all[e[1]:e[2]]), json.Number(all[e[2]:e[3]])
		start = e[3]
	}
}
