package national

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

func init() { register("3201", reconcile) }

// reconcileInput is the input of 3201 (对总账).
type reconcileInput struct {
	Data *struct {
		Insutype         text   `json:"insutype"`
		ClrType          text   `json:"clr_type"`
		SetlOptins       text   `json:"setl_optins"`
		StmtBegndate     text   `json:"stmt_begndate"`
		StmtEnddate      text   `json:"stmt_enddate"`
		MedfeeSumamt     Number `json:"medfee_sumamt"`
		FundPaySumamt    Number `json:"fund_pay_sumamt"`
		AcctPay          Number `json:"acct_pay"`
		FixmedinsSetlCnt Number `json:"fixmedins_setl_cnt"`
	} `json:"data"`
}

// stmtInfo is the answer of 3201.
type stmtInfo struct {
	SetlOptins   string `json:"setl_optins"`
	StmtRslt     string `json:"stmt_rslt"`
	StmtRsltDscr string `json:"stmt_rslt_dscr"`
}

// reconcileAnswer is the output of 3201.
type reconcileAnswer struct {
	Stmtinfo stmtInfo `json:"stmtinfo"`
}

// visitTypesOfClrType are the visit types a clearing type (清算类别)
// covers: 11 outpatient and chronic outpatient, 21 inpatient.
func visitTypesOfClrType(clrType string) ([]pb.VisitType, bool) {
	switch clrType {
	case "11":
		return []pb.VisitType{pb.VisitType_VISIT_TYPE_OUTPATIENT, pb.VisitType_VISIT_TYPE_CHRONIC_OUTPATIENT}, true
	case "21":
		return []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT}, true
	}
	return nil, false
}

// reconcile compares the HIS's totals of the institution's settlements of
// a scheme and clearing type over a period with the server's, through
// Services.Reconcile (GATEWAY.md "setlinfo and setldetail"):
// stmt_rslt "0" when they agree, "1" with the server's figures when not.
// setl_optins is echoed.
func reconcile(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
	var in reconcileInput
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	d := in.Data
	if d == nil {
		return nil, refuse("input.data 缺失，请按接口规范传入 data")
	}
	scheme, ok := schemeOfInsutype(string(d.Insutype))
	if !ok {
		return nil, refuse("insutype「%s」不支持，请传入 310（职工基本医疗保险）或 390（城乡居民基本医疗保险）", clip(string(d.Insutype), 20))
	}
	types, ok := visitTypesOfClrType(string(d.ClrType))
	if !ok {
		return nil, refuse("clr_type「%s」不支持，请传入 11（门诊）或 21（住院）", clip(string(d.ClrType), 10))
	}
	from, err := stmtDate("stmt_begndate", d.StmtBegndate)
	if err != nil {
		return nil, err
	}
	to, err := stmtDate("stmt_enddate", d.StmtEnddate)
	if err != nil {
		return nil, err
	}
	if to < from {
		return nil, refuse("stmt_enddate %s 早于 stmt_begndate %s，请核对对账起止日期", to, from)
	}
	req := &pb.ReconcileRequest{InstitutionId: c.Cred.InstitutionID, PeriodFrom: from, PeriodTo: to, Scheme: scheme, VisitTypes: types}
	for _, f := range []struct {
		name string
		n    Number
		out  *string
	}{{"medfee_sumamt", d.MedfeeSumamt, &req.Total}, {"fund_pay_sumamt", d.FundPaySumamt, &req.FundTotal}, {"acct_pay", d.AcctPay, &req.Account}} {
		if !f.n.Present {
			return nil, refuse("%s 缺失，请传入本期合计（没有则传 0）", f.name)
		}
		m, err := parseAmount(f.name, f.n)
		if err != nil {
			return nil, err
		}
		*f.out = m.String()
	}
	cnt, err := strconv.ParseInt(d.FixmedinsSetlCnt.Text, 10, 64)
	if !d.FixmedinsSetlCnt.Present || err != nil || cnt < 0 {
		return nil, refuse("fixmedins_setl_cnt「%s」不是结算笔数，请传入不小于 0 的整数", clip(d.FixmedinsSetlCnt.Text, 20))
	}
	req.Count = cnt
	resp, err := g.svc.Reconcile(ctx, req)
	if err != nil {
		return nil, err
	}
	out := stmtInfo{SetlOptins: string(d.SetlOptins), StmtRslt: "0"}
	if !resp.GetMatched() {
		out.StmtRslt = "1"
		out.StmtRsltDscr = fmt.Sprintf("对账不一致：中心结算 %d 笔，医疗费总额 %s 元，基金支付 %s 元，个人账户支付 %s 元；"+
			"机构上传 %d 笔，医疗费总额 %s 元，基金支付 %s 元，个人账户支付 %s 元",
			resp.GetCount(), resp.GetTotal(), resp.GetFundTotal(), resp.GetAccount(), req.Count, req.Total, req.FundTotal, req.Account)
	}
	return reconcileAnswer{Stmtinfo: out}, nil
}

// stmtDates are the forms of a statement date: a date, or a date-time
// whose date counts.
var stmtDates = []string{time.DateOnly, "20060102", time.DateTime, "20060102150405"}

// stmtDate reads a statement date as "YYYY-MM-DD", refusing it naming
// field.
func stmtDate(field string, s text) (string, error) {
	for _, layout := range stmtDates {
		if t, err := time.Parse(layout, string(s)); err == nil {
			return t.Format(time.DateOnly), nil
		}
	}
	return "", refuse("%s「%s」不是日期，请按 yyyy-MM-dd 传入", field, clip(string(s), 30))
}
