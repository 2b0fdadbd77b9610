package national

import (
	"context"
	"encoding/json"

	"github.com/medsettle/medsettle/store"
)

func init() {
	register("2202", outpatientCancel)
	register("2404", admissionCancel)
}

// visitCancelData is the input.data of 2202 (门诊挂号撤销) and 2404 (入院撤销).
type visitCancelData struct {
	PsnNo   text `json:"psn_no"`
	MdtrtID text `json:"mdtrt_id"`
	// IptOtpNo (2202) must be the visit's when sent.
	IptOtpNo text `json:"ipt_otp_no"`
}

// outpatientCancel answers 2202: it cancels an OPEN outpatient visit.
func outpatientCancel(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
	return cancelVisit(ctx, g, c, input, store.VisitKindOutpatient, "2202")
}

// admissionCancel answers 2404: it cancels an OPEN admission.
func admissionCancel(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
	return cancelVisit(ctx, g, c, input, store.VisitKindInpatient, "2404")
}

// cancelVisit cancels the calling institution's visit of kind k. A visit
// already cancelled answers success again (a retry); a settled one is
// refused until its settlement is reversed.
func cancelVisit(ctx context.Context, g *Gateway, c *Call, input json.RawMessage, k store.VisitKind, infno string) (any, error) {
	var in struct {
		Data *visitCancelData `json:"data"`
	}
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	d := in.Data
	if d == nil {
		return nil, refuse("input.data 缺失，请传入 mdtrt_id 和 psn_no")
	}
	v, err := ownVisit(ctx, g, c, d.MdtrtID, d.PsnNo)
	if err != nil {
		return nil, err
	}
	if err := requireKind(v, k, infno); err != nil {
		return nil, err
	}
	if d.IptOtpNo != "" && string(d.IptOtpNo) != v.Number {
		return nil, refuse("ipt_otp_no %s 不是就诊 %s 的门诊号（%s），请核对", clip(string(d.IptOtpNo), 40), v.ID, v.Number)
	}
	switch v.State {
	case store.VisitCancelled:
		return struct{}{}, nil
	case store.VisitOpen:
	default:
		return nil, notOpen(v, "撤销就诊")
	}
	if _, err := g.visits.CancelVisit(ctx, v.ID); err != nil {
		return nil, whenNotOpen(ctx, g, v.ID, "撤销就诊", err)
	}
	return struct{}{}, nil
}
