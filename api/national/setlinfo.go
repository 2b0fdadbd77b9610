package national

import (
	"time"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// setlInfo is a settlement as the interface answers it (GATEWAY.md
// "setlinfo and setldetail"), in that order. Fields the registry does not
// hold are "" or 0.
type setlInfo struct {
	SetlID          string `json:"setl_id"`
	MdtrtID         string `json:"mdtrt_id"`
	PsnNo           string `json:"psn_no"`
	PsnName         string `json:"psn_name"`
	PsnCertType     string `json:"psn_cert_type"`
	Certno          string `json:"certno"`
	Gend            string `json:"gend"`
	Naty            string `json:"naty"`
	Brdy            string `json:"brdy"`
	Age             int    `json:"age"`
	Insutype        string `json:"insutype"`
	PsnType         string `json:"psn_type"`
	CvlservFlag     string `json:"cvlserv_flag"`
	SetlTime        string `json:"setl_time"`
	MdtrtCertType   string `json:"mdtrt_cert_type"`
	MedType         string `json:"med_type"`
	MedfeeSumamt    Amount `json:"medfee_sumamt"`
	FulamtOwnpayAmt Amount `json:"fulamt_ownpay_amt"`
	OverlmtSelfpay  Amount `json:"overlmt_selfpay"`
	PreselfpayAmt   Amount `json:"preselfpay_amt"`
	InscpScpAmt     Amount `json:"inscp_scp_amt"`
	ActPayDedc      Amount `json:"act_pay_dedc"`
	HifpPay         Amount `json:"hifp_pay"`
	PoolPropSelfpay Ratio  `json:"pool_prop_selfpay"`
	CvlservPay      Amount `json:"cvlserv_pay"`
	HifesPay        Amount `json:"hifes_pay"`
	HifmiPay        Amount `json:"hifmi_pay"`
	HifobPay        Amount `json:"hifob_pay"`
	MafPay          Amount `json:"maf_pay"`
	OthPay          Amount `json:"oth_pay"`
	FundPaySumamt   Amount `json:"fund_pay_sumamt"`
	PsnPartAmt      Amount `json:"psn_part_amt"`
	AcctPay         Amount `json:"acct_pay"`
	PsnCashPay      Amount `json:"psn_cash_pay"`
	HospPartAmt     Amount `json:"hosp_part_amt"`
	Balc            Amount `json:"balc"`
	AcctMulaidPay   Amount `json:"acct_mulaid_pay"`
	MedinsSetlID    string `json:"medins_setl_id"`
	ClrOptins       string `json:"clr_optins"`
	ClrWay          string `json:"clr_way"`
	ClrType         string `json:"clr_type"`
}

// Ratio is a ratio in an answer: a JSON number, exactly ("0.85", "0").
type Ratio engine.Ratio

// MarshalJSON implements json.Marshaler.
func (r Ratio) MarshalJSON() ([]byte, error) { return []byte(engine.Ratio(r).String()), nil }

// settled is what a settlement's answer is made of: the settlement (or a
// preview's result), its visit and person, and the request's echoes.
type settled struct {
	ID     string
	Result engine.Result
	Visit  store.Visit
	Person engine.Person
	// VisitType is the claim's; MedType and CertType are echoed.
	VisitType         engine.VisitType
	MedType, CertType string
	// At is the commit time (a preview: the call's time); Msgid the
	// answering call's.
	At    time.Time
	Msgid string
}

// newSetlInfo is the setlinfo of a settlement: its figures as the gRPC
// API answers them, balc the account balance right after it.
func newSetlInfo(s settled) setlInfo {
	b := s.Result.Breakdown
	info := setlInfo{
		SetlID: s.ID, MdtrtID: s.Visit.ID, PsnNo: s.Person.ID, PsnName: s.Person.Name, PsnCertType: "01",
		Certno: s.Person.ID, Insutype: insutypeOfScheme(s.Person.Scheme), CvlservFlag: "0",
		SetlTime: shanghaiDateTime(s.At), MdtrtCertType: s.CertType, MedType: s.MedType,
		MedfeeSumamt: Amount(b.Total), FulamtOwnpayAmt: Amount(b.OutOfScope), OverlmtSelfpay: Amount(b.OverLimit),
		PreselfpayAmt: Amount(b.PreSelfPay), InscpScpAmt: Amount(b.InScope), ActPayDedc: Amount(b.Deductible),
		HifpPay: Amount(b.BasicFund), PoolPropSelfpay: Ratio(topBasicRatio(s.Result)), HifmiPay: Amount(b.Catastrophic),
		MafPay: Amount(b.MedicalAid), FundPaySumamt: Amount(b.FundTotal), PsnPartAmt: Amount(b.PersonalTotal),
		AcctPay: Amount(b.Account), PsnCashPay: Amount(b.Cash),
		Balc:         Amount(s.Result.AccountBalance.Sub(b.Account)),
		MedinsSetlID: s.Msgid, ClrOptins: s.Person.Region, ClrWay: "01", ClrType: clrTypeOf(s.VisitType),
	}
	return info
}

// negated is the setlinfo of a settlement's reversal: every amount from
// medfee_sumamt to acct_mulaid_pay negated, except balc, the balance after
// the reversal.
func (i setlInfo) negated(balc engine.Money) setlInfo {
	for _, a := range []*Amount{&i.MedfeeSumamt, &i.FulamtOwnpayAmt, &i.OverlmtSelfpay, &i.PreselfpayAmt, &i.InscpScpAmt,
		&i.ActPayDedc, &i.HifpPay, &i.CvlservPay, &i.HifesPay, &i.HifmiPay, &i.HifobPay, &i.MafPay, &i.OthPay,
		&i.FundPaySumamt, &i.PsnPartAmt, &i.AcctPay, &i.PsnCashPay, &i.HospPartAmt, &i.AcctMulaidPay} {
		*a = Amount(engine.Money(*a).Neg())
	}
	i.Balc = Amount(balc)
	return i
}

// topBasicRatio is the basic ratio of the highest band the claim reached
// (0 when none): from the basic layer, or from the detail lines of a
// settlement recorded without layers.
func topBasicRatio(r engine.Result) engine.Ratio {
	if l, ok := r.LayerOf(engine.FundBasic); ok {
		return l.TopRatio()
	}
	var top engine.Ratio
	band := -1
	for _, d := range r.Details {
		if d.Fund == engine.FundBasic && d.Band > band {
			band, top = d.Band, d.Ratio
		}
	}
	return top
}

// clrTypeOf is the clearing type (清算类别) of a visit type: 21 inpatient,
// 11 outpatient and chronic outpatient.
func clrTypeOf(vt engine.VisitType) string {
	if vt == engine.VisitInpatient {
		return "21"
	}
	return "11"
}

// insutypeOfScheme is the insutype of an engine scheme.
func insutypeOfScheme(s engine.Scheme) string {
	switch s {
	case engine.SchemeEmployee:
		return "310"
	case engine.SchemeResident:
		return "390"
	}
	return ""
}
