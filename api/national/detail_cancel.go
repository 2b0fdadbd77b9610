package national

import (
	"context"
	"encoding/json"

	"github.com/medsettle/medsettle/store"
)

func init() {
	register("2205", func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
		return cancelDetails(ctx, g, c, input, store.VisitKindOutpatient, "2205")
	})
	register("2302", func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
		return cancelDetails(ctx, g, c, input, store.VisitKindInpatient, "2302")
	})
}

// allDetails is the feedetl_sn (and, as Jiangsu clients send it, the
// chrg_bchno) that means every live line.
const allDetails = "0000"

// detailCancelData is the input.data of 2205 and 2302 (费用明细撤销).
type detailCancelData struct {
	MdtrtID   text `json:"mdtrt_id"`
	ChrgBchno text `json:"chrg_bchno"`
	FeedetlSn text `json:"feedetl_sn"`
	PsnNo     text `json:"psn_no"`
}

// cancelDetails answers 2205 (outpatient, kind) and 2302 (inpatient): it
// cancels live lines of an OPEN visit of the calling institution — the
// line feedetl_sn, or every line when it is "0000" or absent; for 2205
// only in batch chrg_bchno, or in every batch when it is "0000" or absent.
// Cancelling lines that are not live (a retry) answers success and
// changes nothing.
func cancelDetails(ctx context.Context, g *Gateway, c *Call, input json.RawMessage, kind store.VisitKind, infno string) (any, error) {
	var in struct {
		Data *detailCancelData `json:"data"`
	}
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	d := in.Data
	if d == nil {
		return nil, refuse("input.data 缺失，请传入 mdtrt_id、psn_no 和 feedetl_sn")
	}
	if err := requireID("psn_no", d.PsnNo); err != nil {
		return nil, err
	}
	// The visit's attributes, from the cache when they are there: its
	// state is then left to CancelFeeDetails (ErrVisitNotOpen).
	v, read, err := knownVisit(ctx, g, c, d.MdtrtID)
	if err != nil {
		return nil, err
	}
	if err := personOf(v, d.PsnNo); err != nil {
		return nil, err
	}
	if err := requireKind(v, kind, infno); err != nil {
		return nil, err
	}
	batch, sn := string(d.ChrgBchno), string(d.FeedetlSn)
	if batch == allDetails || kind == store.VisitKindInpatient {
		batch = ""
	}
	if sn == allDetails {
		sn = ""
	}
	for _, f := range []struct{ name, v string }{{"chrg_bchno", batch}, {"feedetl_sn", sn}} {
		if f.v != "" {
			if err := requireID(f.name, text(f.v)); err != nil {
				return nil, err
			}
		}
	}
	if read && v.State != store.VisitOpen {
		return nil, notOpen(v, "撤销费用明细")
	}
	if _, err := g.visits.CancelFeeDetails(ctx, v.ID, batch, sn); err != nil {
		return nil, whenNotOpen(ctx, g, v.ID, "撤销费用明细", err)
	}
	return struct{}{}, nil
}
