package national

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/api"
	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

func invalid(fields ...string) error {
	st := status.New(codes.InvalidArgument, "invalid argument")
	br := &errdetails.BadRequest{}
	for _, f := range fields {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: f, Description: "is wrong"})
	}
	st, err := st.WithDetails(br)
	if err != nil {
		panic(err)
	}
	return st.Err()
}

// TestFailureMapping: the one mapping of errors to err_msg and the audit
// code, for each kind of error a handler meets.
func TestFailureMapping(t *testing.T) {
	var logs bytes.Buffer
	g := &Gateway{log: slog.New(slog.NewTextHandler(&logs, nil))}
	c := &Call{Env: &Envelope{Infno: "2207", Msgid: "MSG-42"}, Cred: &Credential{InstitutionID: "H1"}}
	for i, tc := range []struct {
		err  error
		msg  string
		code codes.Code
	}{
		{refuse("med_type 99 不支持"), "med_type 99 不支持", codes.InvalidArgument},
		{fmt.Errorf("wrapped: %w", refuse("x")), "x", codes.InvalidArgument},
		{invalid("person_id", "items[2].amount", "items[0]", "settle_date"),
			"参数有误，psn_no：is wrong；第 3 条明细的 det_item_fee_sumamt：is wrong；第 1 条明细的 明细：is wrong；结算日期：is wrong：请改正后重新提交", codes.InvalidArgument},
		{status.Error(codes.InvalidArgument, "bad"), "参数有误（bad）：请改正后重新提交", codes.InvalidArgument},
		{status.Error(codes.NotFound, `person "P9" not found`), "人员不存在：请核对 psn_no（人员编号）", codes.NotFound},
		{status.Error(codes.NotFound, `settlement "S9": not found`), "结算记录不存在：请核对 setl_id（结算 ID）", codes.NotFound},
		{status.Error(codes.NotFound, "x"), "未找到所需记录（x）：请核对编号", codes.NotFound},
		{status.Error(codes.FailedPrecondition, engine.ErrAlreadyReversed.Error()), "该结算已冲正，不能再次冲正：请核对 setl_id", codes.FailedPrecondition},
		{status.Error(codes.FailedPrecondition, "hifp_pay 10.00 ≠ 12.00: "+api.ErrSettleCheck.Error()),
			"结算金额与预结算不一致（hifp_pay 10.00 ≠ 12.00）：请重新预结算后再结算", codes.FailedPrecondition},
		{status.Error(codes.FailedPrecondition, store.ErrInsufficientBalance.Error()+"; nothing was changed"),
			"个人账户余额不足：请以 acct_used_flag 为 0（不使用个人账户）重新结算", codes.FailedPrecondition},
		{status.Error(codes.AlreadyExists, "request id already used"), "重复的请求：该业务编号已用于内容不同的请求（request id already used）；新的业务请使用新的编号", codes.AlreadyExists},
		{status.Error(codes.PermissionDenied, "no"), "无权办理：所涉记录属于其他定点医药机构，或不在本机构权限内", codes.PermissionDenied},
		{status.Error(codes.Unavailable, "busy"), msgBusy, codes.Unavailable},
		{status.Error(codes.ResourceExhausted, "busy"), msgBusy, codes.ResourceExhausted},
		{status.Error(codes.DeadlineExceeded, "late"), msgBusy, codes.DeadlineExceeded},
		{fmt.Errorf("put: %w", &store.DetailConflictError{SNs: []string{"1", "7"}}),
			"费用明细流水号 feedetl_sn 1、7 已上传过且内容不同：请先撤销该明细（2205/2302）再上传，或使用新的流水号", codes.AlreadyExists},
		{fmt.Errorf("cancel: %w", store.ErrVisitNotOpen), "就诊（mdtrt_id）已结算或已撤销，不能再变更：已结算的请先冲正结算（2208/2305）", codes.FailedPrecondition},
		{fmt.Errorf("get: %w", store.ErrNotFound), "就诊（mdtrt_id）或人员（psn_no）不存在：请核对编号", codes.NotFound},
		{fmt.Errorf("put: %w", store.ErrUnavailable), msgBusy, codes.Unavailable},
		{context.DeadlineExceeded, msgBusy, codes.Unavailable},
	} {
		msg, code := g.failure(context.Background(), c, tc.err)
		if msg != tc.msg || code != tc.code {
			t.Errorf("%d: %v → %q %s, want %q %s", i, tc.err, msg, code, tc.msg, tc.code)
		}
	}
	if logs.Len() != 0 {
		t.Fatalf("expected failures were logged: %s", logs.String())
	}
	for _, err := range []error{errors.New("disk on fire"), status.Error(codes.Internal, "disk on fire"), status.Error(codes.Unauthenticated, "disk on fire")} {
		logs.Reset()
		msg, code := g.failure(context.Background(), c, err)
		if msg != msgInternal || code != codes.Internal || !strings.Contains(logs.String(), "disk on fire") || !strings.Contains(logs.String(), "msgid=MSG-42") {
			t.Fatalf("%v → %q %s, log %s", err, msg, code, logs.String())
		}
	}
}

// TestErrMsgCut: err_msg is cut to 200 characters.
func TestErrMsgCut(t *testing.T) {
	s := newServed(t, SchemeXTif)
	register("0998", func(context.Context, *Gateway, *Call, json.RawMessage) (any, error) {
		return nil, refuse("%s", strings.Repeat("错", 250))
	})
	defer delete(handlers, "0998")
	_, r, _ := s.post("0998", `{}`)
	if r.ErrMsg != strings.Repeat("错", 200) {
		t.Fatalf("err_msg of %d characters", len([]rune(r.ErrMsg)))
	}
}
