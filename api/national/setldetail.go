package national

import (
	"github.com/medsettle/medsettle/engine"
)

// setlDetail is one fund that paid a settlement (GATEWAY.md "setlinfo
// and setldetail").
type setlDetail struct {
	FundPayType     string `json:"fund_pay_type"`
	FundPayTypeName string `json:"fund_pay_type_name"`
	InscpScpAmt     Amount `json:"inscp_scp_amt"`
	CrtPaybLmtAmt   Amount `json:"crt_payb_lmt_amt"`
	FundPayamt      Amount `json:"fund_payamt"`
	SetlProcInfo    string `json:"setl_proc_info"`
}

// fundPayType is the national code and name (基金支付类型) of a fund of a
// scheme.
func fundPayType(f engine.Fund, s engine.Scheme) (code, name string) {
	switch {
	case f == engine.FundBasic && s == engine.SchemeEmployee:
		return "310100", "职工基本医疗保险统筹基金"
	case f == engine.FundBasic:
		return "390100", "城乡居民基本医疗保险基金"
	case f == engine.FundCatastrophic && s == engine.SchemeEmployee:
		return "330100", "职工大额医疗费用补助"
	case f == engine.FundCatastrophic:
		return "390200", "城乡居民大病医疗保险资金"
	}
	return "610100", "医疗救助基金"
}

// newSetlDetails lists the funds that paid a settlement of a person of
// scheme, in the order basic, catastrophic, medical aid: the layer's
// base, what its annual cap still allowed before the claim, what it paid
// and how (engine.ExplainLayer).
func newSetlDetails(r engine.Result, scheme engine.Scheme) []setlDetail {
	return appendSetlDetails(make([]setlDetail, 0, 3), r, scheme)
}

// appendSetlDetails is newSetlDetails appended to out (never nil: an
// empty list is written [], not null).
func appendSetlDetails(out []setlDetail, r engine.Result, scheme engine.Scheme) []setlDetail {
	b := r.Breakdown
	for _, f := range []struct {
		fund engine.Fund
		paid engine.Money
	}{{engine.FundBasic, b.BasicFund}, {engine.FundCatastrophic, b.Catastrophic}, {engine.FundMedicalAid, b.MedicalAid}} {
		if !f.paid.IsPositive() {
			continue
		}
		code, name := fundPayType(f.fund, scheme)
		row := setlDetail{FundPayType: code, FundPayTypeName: name, FundPayamt: Amount(f.paid)}
		if l, ok := r.LayerOf(f.fund); ok {
			row.InscpScpAmt, row.CrtPaybLmtAmt = Amount(l.Base), Amount(l.CapRoom())
			row.SetlProcInfo = engine.ExplainLayer(l, r.Details)
		} else {
			// A settlement recorded before layers: the bases of its lines.
			var base engine.Money
			for _, d := range r.Details {
				if d.Fund == f.fund {
					base = base.Add(d.Base)
				}
			}
			row.InscpScpAmt = Amount(base)
		}
		out = append(out, row)
	}
	return out
}

// negatedDetails are the setldetail of a reversal: inscp_scp_amt and
// fund_payamt negated.
func negatedDetails(rows []setlDetail) []setlDetail {
	out := make([]setlDetail, len(rows))
	for i, r := range rows {
		r.InscpScpAmt = Amount(engine.Money(r.InscpScpAmt).Neg())
		r.FundPayamt = Amount(engine.Money(r.FundPayamt).Neg())
		out[i] = r
	}
	return out
}
