package national

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

func init() { register("2402", discharge) }

// dischargeInfo is what 2402's input.dscginfo (出院办理) is checked by; the
// whole object is recorded as received.
type dischargeInfo struct {
	MdtrtID  text `json:"mdtrt_id"`
	PsnNo    text `json:"psn_no"`
	Insutype text `json:"insutype"`
	Endtime  text `json:"endtime"`
}

// discharge answers 2402: it records the discharge of an admission (the
// last record wins). It is not required before settling; a cancelled
// admission is refused.
func discharge(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
	var in struct {
		Dscginfo json.RawMessage `json:"dscginfo"`
	}
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	var d dischargeInfo
	if len(in.Dscginfo) == 0 || bytes.Equal(in.Dscginfo, []byte("null")) {
		return nil, refuse("input.dscginfo 缺失，请传入出院信息 dscginfo")
	}
	if err := decodeInput(in.Dscginfo, &d); err != nil {
		return nil, refuse("input.dscginfo 不是出院信息对象，请按接口规范传入")
	}
	v, err := ownVisit(ctx, g, c, d.MdtrtID, d.PsnNo)
	if err != nil {
		return nil, err
	}
	if err := requireKind(v, store.VisitKindInpatient, "2402"); err != nil {
		return nil, err
	}
	if d.Insutype != "" && d.Insutype != text(insutypeOf(pbSchemeOf(v.Scheme))) {
		return nil, refuse("insutype %s 不是就诊 %s 的险种（%s），请传入入院时的 insutype", clip(string(d.Insutype), 20), v.ID, insutypeOf(pbSchemeOf(v.Scheme)))
	}
	if err := requireTime("endtime", d.Endtime); err != nil {
		return nil, err
	}
	if v.State == store.VisitCancelled {
		return nil, notOpen(v, "办理出院")
	}
	var rec bytes.Buffer
	if err := json.Compact(&rec, in.Dscginfo); err != nil {
		return nil, fmt.Errorf("compacting dscginfo: %w", err)
	}
	if rec.Len() > store.MaxDischargeLen {
		return nil, refuse("dscginfo 超过 %d 字节，请精简后重传", store.MaxDischargeLen)
	}
	if err := g.visits.RecordDischarge(ctx, v.ID, rec.String()); err != nil {
		if errors.Is(err, engine.ErrInvalid) {
			return nil, refuse("dscginfo 须为不超过 %d 字节的 UTF-8 文本，请精简后重传", store.MaxDischargeLen)
		}
		if errors.Is(err, store.ErrVisitNotOpen) || errors.Is(err, store.ErrNotFound) {
			return nil, whenNotOpen(ctx, g, v.ID, "办理出院", err)
		}
		return nil, fmt.Errorf("recording the discharge of visit %q: %w", v.ID, err)
	}
	return struct{}{}, nil
}

// pbSchemeOf is an engine scheme as the API's enum.
func pbSchemeOf(s engine.Scheme) pb.Scheme { return pb.Scheme(s) }
