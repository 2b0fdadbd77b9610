package national

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// feeDetailLine is one line of 2204's or 2301's input.feedetail (费用明细);
// the other fields (prescription, doctors, departments…) are accepted and
// not kept.
type feeDetailLine struct {
	FeedetlSn        text   `json:"feedetl_sn"`
	MdtrtID          text   `json:"mdtrt_id"`
	PsnNo            text   `json:"psn_no"`
	ChrgBchno        text   `json:"chrg_bchno"`
	MedType          text   `json:"med_type"`
	FeeOcurTime      text   `json:"fee_ocur_time"`
	MedListCodg      text   `json:"med_list_codg"`
	MedinsListCodg   text   `json:"medins_list_codg"`
	DetItemFeeSumamt Number `json:"det_item_fee_sumamt"`
	Cnt              Number `json:"cnt"`
	Pric             Number `json:"pric"`
}

// lineCheck collects what is wrong with one line, in Chinese, naming the
// fields.
type lineCheck struct {
	problems []string
}

func (l *lineCheck) addf(format string, a ...any) {
	l.problems = append(l.problems, fmt.Sprintf(format, a...))
}

// toFeeDetail checks a line's own fields (not its visit, policy or
// uniqueness) and maps it to the stored line and the engine's line item,
// with the same validation as the gRPC API's LineItem: code an id, name
// at most MaxNameLen characters, quantity > 0 with four decimals, unit
// price ≥ 0 with six, amount = round(quantity × unit price, 2). batch
// says whether chrg_bchno is required (2204) or not kept (2301).
func (l *lineCheck) toFeeDetail(d *feeDetailLine, batch bool) (store.FeeDetail, engine.LineItem, engine.Date) {
	fd := store.FeeDetail{SN: string(d.FeedetlSn), Code: string(d.MedListCodg), Name: string(d.MedinsListCodg),
		FeeTime: string(d.FeeOcurTime), MedType: string(d.MedType)}
	if batch {
		fd.Batch = string(d.ChrgBchno)
		if p := idProblem(fd.Batch); p != "" {
			l.addf("chrg_bchno %s", p)
		}
	}
	if p := idProblem(fd.Code); p != "" {
		l.addf("med_list_codg %s", p)
	}
	var v engine.Violations
	engine.CheckText(&v, "name", fd.Name, engine.MaxNameLen)
	if v.Len() > 0 {
		l.addf("medins_list_codg 须不超过 %d 个字符", engine.MaxNameLen)
	}
	if fd.MedType != "" {
		if _, ok := visitTypeOfMedType(fd.MedType); !ok {
			l.addf("med_type「%s」不支持", clip(fd.MedType, 10))
		}
	}
	day, ok := parseHISTime(fd.FeeTime)
	if !ok {
		l.addf("fee_ocur_time「%s」须为 yyyy-MM-dd HH:mm:ss", clip(fd.FeeTime, 20))
	}
	it, numbersOK := l.numbers(d)
	if numbersOK {
		var nv engine.Violations
		engine.CheckItemNumbersAt(&nv, engine.Path("item"), it)
		if nv.Len() > 0 {
			want, fits := it.UnitPrice.MulQuantity(it.Quantity)
			if fits && it.Amount.Fen() >= 0 {
				l.addf("det_item_fee_sumamt %s 不等于 cnt %s × pric %s 的两位舍入 %s", it.Amount, it.Quantity, it.UnitPrice, want)
			} else {
				l.addf("det_item_fee_sumamt 超过上限 %s 元", engine.MaxMoney)
			}
		}
	}
	it.Code, it.Name = fd.Code, fd.Name
	fd.Quantity, fd.UnitPrice, fd.Amount = it.Quantity, it.UnitPrice, it.Amount
	return fd, it, day
}

// numbers reads cnt, pric and det_item_fee_sumamt exactly; ok is false
// when one is missing or out of range (the arithmetic is then not checked).
func (l *lineCheck) numbers(d *feeDetailLine) (it engine.LineItem, ok bool) {
	before := len(l.problems)
	switch {
	case !d.Cnt.Present:
		l.addf("cnt 缺失")
	case strings.HasPrefix(d.Cnt.Text, "-"):
		l.addf("cnt %s 为负数：退费请撤销明细（2205/2302）后重传，不能上传负数量", clip(d.Cnt.Text, 20))
	default:
		q, err := engine.ParseQuantity(d.Cnt.Text)
		var v engine.Violations
		if err == nil {
			engine.CheckQuantityAt(&v, engine.Path("cnt"), q)
		}
		if err != nil || v.Len() > 0 {
			l.addf("cnt「%s」须大于 0、不超过 1000000、至多 %d 位小数", clip(d.Cnt.Text, 20), engine.MaxQuantityPlaces)
		}
		it.Quantity = q
	}
	if !d.Pric.Present {
		l.addf("pric 缺失")
	} else if p, err := engine.ParsePrice(d.Pric.Text); err != nil {
		l.addf("pric「%s」须不小于 0、至多 %d 位小数", clip(d.Pric.Text, 20), engine.MaxPricePlaces)
	} else {
		it.UnitPrice = p
	}
	if !d.DetItemFeeSumamt.Present {
		l.addf("det_item_fee_sumamt 缺失")
	} else if m, err := engine.ParseMoney(d.DetItemFeeSumamt.Text); err != nil {
		l.addf("det_item_fee_sumamt「%s」须不小于 0、至多 2 位小数", clip(d.DetItemFeeSumamt.Text, 20))
	} else {
		it.Amount = m
	}
	return it, len(l.problems) == before
}

// badLine is a line refused and why.
type badLine struct {
	name     string // "feedetl_sn X", or "第 N 条" when it has none
	problems []string
}

// maxErrMsg is the most characters of an err_msg (GATEWAY.md "Envelope").
const maxErrMsg = 200

// badLinesMessage refuses an upload: it names every bad line (as many as
// 200 characters hold, then how many more), then what is wrong with each.
func badLinesMessage(bad []badLine) string {
	var b strings.Builder
	fmt.Fprintf(&b, "费用明细 %d 条有误，整批未保存，请改正后重传：", len(bad))
	names := make([]string, len(bad))
	for i, l := range bad {
		names[i] = l.name
	}
	b.WriteString(strings.Join(names, "、"))
	for _, l := range bad {
		b.WriteString("；")
		b.WriteString(l.name)
		b.WriteString(" ")
		b.WriteString(strings.Join(l.problems, "，"))
	}
	msg := b.String()
	if utf8.RuneCountInString(msg) <= maxErrMsg {
		return msg
	}
	return string([]rune(msg)[:maxErrMsg-1]) + "…"
}
