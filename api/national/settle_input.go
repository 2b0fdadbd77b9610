package national

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/medsettle/medsettle/engine"
)

// settleData is the `data` of 2206/2207 (outpatient) and 2303/2304
// (inpatient): GATEWAY.md "Transactions". invono is informational.
type settleData struct {
	PsnNo           text            `json:"psn_no"`
	MdtrtCertType   text            `json:"mdtrt_cert_type"`
	MdtrtCertNo     text            `json:"mdtrt_cert_no"`
	MedType         text            `json:"med_type"`
	MedfeeSumamt    Number          `json:"medfee_sumamt"`
	PsnSetlway      text            `json:"psn_setlway"`
	MdtrtID         text            `json:"mdtrt_id"`
	ChrgBchno       text            `json:"chrg_bchno"`
	Insutype        text            `json:"insutype"`
	AcctUsedFlag    text            `json:"acct_used_flag"`
	Invono          text            `json:"invono"`
	MidSetlFlag     text            `json:"mid_setl_flag"`
	FulamtOwnpayAmt Number          `json:"fulamt_ownpay_amt"`
	OverlmtSelfpay  Number          `json:"overlmt_selfpay"`
	PreselfpayAmt   Number          `json:"preselfpay_amt"`
	InscpScpAmt     Number          `json:"inscp_scp_amt"`
	ExpContent      json.RawMessage `json:"expContent"`
	ExpContentSnake json.RawMessage `json:"exp_content"`
}

// settleInput is the input of a settling transaction.
type settleInput struct {
	Data *settleData `json:"data"`
}

// expected is one of the four figures a HIS pre-settled with and sends
// back on 2207/2304: present (0 included) it must equal the settlement's.
type expected struct {
	field string
	want  engine.Money
	got   func(engine.Breakdown) engine.Money
}

// expectedFigures reads the four figures present in d, exactly; a
// malformed one is refused naming it.
func expectedFigures(d *settleData) ([]expected, error) {
	fields := []struct {
		name string
		n    Number
		get  func(engine.Breakdown) engine.Money
	}{
		{"fulamt_ownpay_amt", d.FulamtOwnpayAmt, func(b engine.Breakdown) engine.Money { return b.OutOfScope }},
		{"overlmt_selfpay", d.OverlmtSelfpay, func(b engine.Breakdown) engine.Money { return b.OverLimit }},
		{"preselfpay_amt", d.PreselfpayAmt, func(b engine.Breakdown) engine.Money { return b.PreSelfPay }},
		{"inscp_scp_amt", d.InscpScpAmt, func(b engine.Breakdown) engine.Money { return b.InScope }},
	}
	var out []expected
	for _, f := range fields {
		// An empty string is how many HIS clients leave a figure unset:
		// it is not checked, as an absent one is not.
		if !f.n.Present || f.n.Text == "" {
			continue
		}
		m, err := parseAmount(f.name, f.n)
		if err != nil {
			return nil, err
		}
		out = append(out, expected{field: f.name, want: m, got: f.get})
	}
	return out, nil
}

// differences lists, in words, the expected figures res does not have
// ("" when it has them all).
func differences(exp []expected, b engine.Breakdown) string {
	var parts []string
	for _, e := range exp {
		if got := e.got(b); !got.Equal(e.want) {
			parts = append(parts, e.field+" 传入 "+e.want.String()+"，本次结算为 "+got.String())
		}
	}
	return strings.Join(parts, "；")
}

// maxAmount is the largest figure a request may carry (engine.MaxTotal).
var maxAmount = engine.MustMoney(engine.MaxTotal)

// parseAmount reads a money figure of the request exactly (≥ 0, at most
// two decimals), refusing it naming field.
func parseAmount(field string, n Number) (engine.Money, error) {
	m, err := engine.ParseMoney(n.Text)
	if err != nil || m.IsNegative() || m.GreaterThan(maxAmount) {
		return engine.Money{}, refuse("%s「%s」不是金额，请传入不小于 0、至多两位小数的数", field, clip(n.Text, 20))
	}
	return m, nil
}

// drgCodeOf is the DRG group the HIS's grouper sent in expContent.drg_code
// (or exp_content): expContent is an object, or a string holding one.
// Anything else, or none, is "" (ungrouped): the extension is optional
// and never a reason to refuse a settlement.
func drgCodeOf(d *settleData) string {
	for _, raw := range [...]json.RawMessage{d.ExpContent, d.ExpContentSnake} {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			continue // absent: nothing to read (encoding/json would refuse it)
		}
		if raw[0] == '"' {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				continue
			}
			raw = json.RawMessage(s)
		}
		var ext struct {
			DRGCode text `json:"drg_code"`
		}
		if json.Unmarshal(raw, &ext) == nil && strings.TrimSpace(string(ext.DRGCode)) != "" {
			return strings.TrimSpace(string(ext.DRGCode))
		}
	}
	return ""
}
