package national

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

func init() { register("2201", outpatientOpen) }

// outpatientOpenData is 2201's input.data (门诊挂号).
type outpatientOpenData struct {
	PsnNo         text `json:"psn_no"`
	Insutype      text `json:"insutype"`
	Begntime      text `json:"begntime"`
	MdtrtCertType text `json:"mdtrt_cert_type"`
	MdtrtCertNo   text `json:"mdtrt_cert_no"`
	IptOtpNo      text `json:"ipt_otp_no"`
	// MedType is not in every client's 2201; "11" (普通门诊) when absent.
	MedType  text `json:"med_type"`
	AtddrNo  text `json:"atddr_no"`
	DrName   text `json:"dr_name"`
	DeptCode text `json:"dept_code"`
	DeptName text `json:"dept_name"`
	Caty     text `json:"caty"`
}

// defaultOutpatientMedType is the med_type of a 2201 that sends none:
// 11, ordinary outpatient care (普通门诊).
const defaultOutpatientMedType = "11"

// outpatientOpen answers 2201: it opens an outpatient visit of the person
// psn_no under insutype, idempotent on ipt_otp_no (a retry answers the
// same mdtrt_id).
func outpatientOpen(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
	var in struct {
		Data *outpatientOpenData `json:"data"`
	}
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	d := in.Data
	if d == nil {
		return nil, refuse("input.data 缺失，请传入挂号信息 data")
	}
	medType := string(d.MedType)
	if medType == "" {
		medType = defaultOutpatientMedType
	}
	if vt, ok := visitTypeOfMedType(medType); !ok || engine.VisitType(vt) == engine.VisitInpatient {
		return nil, refuse("med_type「%s」不支持门诊挂号，请传入 11、12、13 或 14（住院请用 2401）", clip(medType, 20))
	}
	v, err := openVisit(ctx, g, c, store.Visit{
		PersonID: string(d.PsnNo), Kind: store.VisitKindOutpatient, Number: string(d.IptOtpNo),
		MedType: medType, Begin: string(d.Begntime),
	}, d.Insutype, "ipt_otp_no")
	if err != nil {
		return nil, err
	}
	return map[string]any{"data": map[string]string{"mdtrt_id": v.ID, "psn_no": v.PersonID, "ipt_otp_no": v.Number}}, nil
}

// openVisit checks and opens visit v (2201, 2401) of the calling
// institution under insutype; numberField names v.Number in the request.
// A retry with the same number answers the visit first opened; a number
// already used for another person's visit, or for a visit since
// cancelled, is refused.
func openVisit(ctx context.Context, g *Gateway, c *Call, v store.Visit, insutype text, numberField string) (store.Visit, error) {
	if err := requireID(numberField, text(v.Number)); err != nil {
		return store.Visit{}, err
	}
	if err := requireTime("begntime", text(v.Begin)); err != nil {
		return store.Visit{}, err
	}
	p, err := personFor(ctx, g, text(v.PersonID), insutype)
	if err != nil {
		return store.Visit{}, err
	}
	v.InstitutionID, v.Scheme = c.Cred.InstitutionID, p.Scheme // OpenVisit issues the id
	got, err := g.visits.OpenVisit(ctx, v)
	if errors.Is(err, store.ErrNotFound) {
		return store.Visit{}, refuse("psn_no %s 不存在，请先用 1101 查询人员并传入其 psn_no", clip(v.PersonID, 40))
	}
	if err != nil {
		return store.Visit{}, fmt.Errorf("opening visit %s %q: %w", numberField, v.Number, err)
	}
	g.visitAttrs.keep(got)
	switch {
	case got.PersonID != v.PersonID:
		return store.Visit{}, refuse("%s %s 已用于另一人员的就诊 %s，请换用新的 %s", numberField, clip(v.Number, 40), got.ID, numberField)
	case got.State == store.VisitCancelled:
		return store.Visit{}, refuse("%s %s 的就诊 %s 已撤销，请换用新的 %s 重新办理", numberField, clip(v.Number, 40), got.ID, numberField)
	}
	return got, nil
}
