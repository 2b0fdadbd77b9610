package national

import (
	"context"
	"encoding/json"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

func init() { register("2401", admission) }

// admissionInfo is 2401's input.mdtrtinfo (入院办理); the other fields
// (contacts, diagnoses, beds…) are accepted and not kept, nor is diseinfo.
type admissionInfo struct {
	PsnNo         text `json:"psn_no"`
	Insutype      text `json:"insutype"`
	Begntime      text `json:"begntime"`
	MdtrtCertType text `json:"mdtrt_cert_type"`
	MdtrtCertNo   text `json:"mdtrt_cert_no"`
	MedType       text `json:"med_type"`
	IptNo         text `json:"ipt_no"`
}

// admission answers 2401: it opens an inpatient visit (an admission) of
// the person psn_no under insutype with an inpatient med_type, idempotent
// on ipt_no.
func admission(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
	var in struct {
		Mdtrtinfo *admissionInfo `json:"mdtrtinfo"`
	}
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	d := in.Mdtrtinfo
	if d == nil {
		return nil, refuse("input.mdtrtinfo 缺失，请传入入院信息 mdtrtinfo")
	}
	if vt, ok := visitTypeOfMedType(string(d.MedType)); !ok || engine.VisitType(vt) != engine.VisitInpatient {
		return nil, refuse("med_type「%s」不支持入院办理，请传入 21、22、23、24、26 或 28", clip(string(d.MedType), 20))
	}
	v, err := openVisit(ctx, g, c, store.Visit{
		PersonID: string(d.PsnNo), Kind: store.VisitKindInpatient, Number: string(d.IptNo),
		MedType: string(d.MedType), Begin: string(d.Begntime),
	}, d.Insutype, "ipt_no")
	if err != nil {
		return nil, err
	}
	return map[string]any{"result": map[string]string{"mdtrt_id": v.ID}}, nil
}
