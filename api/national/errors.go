package national

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// msgBusy is the answer to an overloaded server or store: the HIS retries.
const msgBusy = "系统繁忙，请稍后重试"

// msgInternal is the answer to anything unexpected (logged in full).
const msgInternal = "内部错误，请联系医保系统运维人员并提供 msgid"

// failure is the one mapping of a handler's error to an answer: err_msg
// (Chinese, naming the field and what to do) and the gRPC code its audit
// event records.
//
//   - a *Refusal: its message, INVALID_ARGUMENT;
//   - a gRPC status error of Services: INVALID_ARGUMENT names the fields of
//     its BadRequest violations by their national names (fieldName);
//     NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS and PERMISSION_DENIED
//     say what is missing or refused; RESOURCE_EXHAUSTED, UNAVAILABLE and
//     DEADLINE_EXCEEDED "系统繁忙，请稍后重试"; others are internal;
//   - the store's errors: ErrNotFound, ErrVisitNotOpen, *DetailConflictError
//     (naming every feedetl_sn), ErrConflict, ErrUnavailable;
//   - the request's own deadline: busy;
//   - anything else: "内部错误", logged at ERROR with the msgid.
func (g *Gateway) failure(ctx context.Context, c *Call, err error) (string, codes.Code) {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Msg, codes.InvalidArgument
	}
	if st, ok := status.FromError(err); ok && st.Code() != codes.OK && st.Code() != codes.Unknown {
		if msg, ok := statusMessage(st); ok {
			return msg, st.Code()
		}
		g.logInternal(ctx, c, err)
		return msgInternal, codes.Internal
	}
	var conflict *store.DetailConflictError
	switch {
	case errors.As(err, &conflict):
		return fmt.Sprintf("费用明细流水号 feedetl_sn %s 已上传过且内容不同：请先撤销该明细（2205/2302）再上传，或使用新的流水号",
			strings.Join(conflict.SNs, "、")), codes.AlreadyExists
	case errors.Is(err, store.ErrVisitNotOpen):
		return "就诊（mdtrt_id）已结算或已撤销，不能再变更：已结算的请先冲正结算（2208/2305）", codes.FailedPrecondition
	case errors.Is(err, store.ErrNotFound):
		return "就诊（mdtrt_id）或人员（psn_no）不存在：请核对编号", codes.NotFound
	case errors.Is(err, store.ErrConflict):
		return "与已办理的业务冲突：请核对后使用新的 msgid 重新提交", codes.AlreadyExists
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return msgBusy, codes.Unavailable
	}
	g.logInternal(ctx, c, err)
	return msgInternal, codes.Internal
}

// logInternal logs an unexpected error in full with the request's ids.
func (g *Gateway) logInternal(ctx context.Context, c *Call, err error) {
	attrs := []any{"error", err.Error()}
	if c != nil && c.Env != nil {
		attrs = append(attrs, "infno", c.Env.Infno, "msgid", c.Env.Msgid)
	}
	if c != nil && c.Cred != nil {
		attrs = append(attrs, "institution_id", c.Cred.InstitutionID)
	}
	g.log.ErrorContext(ctx, "national gateway: internal error", attrs...)
}

// statusMessage is the answer to a Services status error (false: an
// internal error).
func statusMessage(st *status.Status) (string, bool) {
	desc := st.Message()
	switch st.Code() {
	case codes.InvalidArgument:
		return invalidMessage(st), true
	case codes.NotFound:
		return notFoundMessage(desc), true
	case codes.FailedPrecondition:
		return preconditionMessage(desc), true
	case codes.AlreadyExists:
		return "重复的请求：该业务编号已用于内容不同的请求（" + desc + "）；新的业务请使用新的编号", true
	case codes.PermissionDenied:
		return "无权办理：所涉记录属于其他定点医药机构，或不在本机构权限内", true
	case codes.ResourceExhausted, codes.Unavailable, codes.DeadlineExceeded, codes.Aborted:
		return msgBusy, true
	}
	return "", false
}

// invalidMessage names the fields of an INVALID_ARGUMENT by their national
// names, with the server's reason for each.
func invalidMessage(st *status.Status) string {
	var parts []string
	for _, d := range st.Details() {
		br, ok := d.(*errdetails.BadRequest)
		if !ok {
			continue
		}
		for _, v := range br.GetFieldViolations() {
			parts = append(parts, fieldName(v.GetField())+"："+v.GetDescription())
		}
	}
	if len(parts) == 0 {
		return "参数有误（" + st.Message() + "）：请改正后重新提交"
	}
	return "参数有误，" + strings.Join(parts, "；") + "：请改正后重新提交"
}

// nationalFields are the national names of the gRPC API's request fields.
var nationalFields = map[string]string{
	"person_id":            "psn_no",
	"institution_id":       "fixmedins_code",
	"settlement_id":        "setl_id",
	"request_id":           "msgid",
	"visit_type":           "med_type",
	"settle_date":          "结算日期",
	"drg_code":             "drg_code",
	"scheme":               "insutype",
	"use_personal_account": "acct_used_flag",
	"region":               "insuplc_admdvs",
	"code":                 "med_list_codg",
	"name":                 "medins_list_codg",
	"quantity":             "cnt",
	"unit_price":           "pric",
	"amount":               "det_item_fee_sumamt",
	"items":                "feedetail",
	"period_start":         "stmt_begndate",
	"period_end":           "stmt_enddate",
}

// itemField matches a line item's field: items[3].amount.
var itemField = regexp.MustCompile(`^items\[(\d+)\]\.?(.*)$`)

// fieldName is a gRPC request field as the HIS knows it: "person_id" →
// "psn_no", "items[2].amount" → "第 3 条明细的 det_item_fee_sumamt".
// Names without a national counterpart are kept.
func fieldName(f string) string {
	if m := itemField.FindStringSubmatch(f); m != nil {
		var n int
		fmt.Sscan(m[1], &n)
		name := "明细"
		if m[2] != "" {
			name = fieldName(m[2])
		}
		return fmt.Sprintf("第 %d 条明细的 %s", n+1, name)
	}
	if n, ok := nationalFields[f]; ok {
		return n
	}
	return f
}

// notFoundMessage says what was not found.
func notFoundMessage(desc string) string {
	switch {
	case strings.Contains(desc, "person"):
		return "人员不存在：请核对 psn_no（人员编号）"
	case strings.Contains(desc, "settlement"):
		return "结算记录不存在：请核对 setl_id（结算 ID）"
	case strings.Contains(desc, "institution"):
		return "定点医药机构未在医保系统登记：请联系医保经办机构"
	case strings.Contains(desc, "polic"):
		return "参保地当期没有医保政策：请联系医保经办机构"
	}
	return "未找到所需记录（" + desc + "）：请核对编号"
}

// preconditionMessage says why the server could not act.
func preconditionMessage(desc string) string {
	switch {
	case strings.Contains(desc, api.ErrSettleCheck.Error()):
		return "结算金额与预结算不一致（" + strings.TrimSuffix(strings.TrimSuffix(desc, api.ErrSettleCheck.Error()), ": ") +
			"）：请重新预结算后再结算"
	case strings.Contains(desc, engine.ErrAlreadyReversed.Error()):
		return "该结算已冲正，不能再次冲正：请核对 setl_id"
	case strings.Contains(desc, engine.ErrNoPolicy.Error()):
		return "参保地当期没有医保政策，不能结算：请联系医保经办机构"
	case strings.Contains(desc, engine.ErrNotCovered.Error()):
		return "人员当前不在参保享受期，不能结算：请核对参保状态，或按自费结算"
	case strings.Contains(desc, store.ErrInsufficientBalance.Error()):
		return "个人账户余额不足：请以 acct_used_flag 为 0（不使用个人账户）重新结算"
	case strings.Contains(desc, engine.ErrCrossRegion.Error()):
		return "异地就医备案不符（" + desc + "）：请核对参保地与备案"
	}
	return "不能办理（" + desc + "）：请核对后重新提交"
}
