package national

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

func init() {
	register("2208", func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
		return reverseVisit(ctx, g, c, input, store.VisitKindOutpatient, "2208")
	})
	register("2305", func(ctx context.Context, g *Gateway, c *Call, input json.RawMessage) (any, error) {
		return reverseVisit(ctx, g, c, input, store.VisitKindInpatient, "2305")
	})
}

// reverseInput is the input of 2208/2305.
type reverseInput struct {
	Data *struct {
		SetlID  text `json:"setl_id"`
		MdtrtID text `json:"mdtrt_id"`
		PsnNo   text `json:"psn_no"`
	} `json:"data"`
}

// reverseVisit reverses the visit's live settlement setl_id through
// Services.ReverseSettlement (request id derived from setl_id) and
// reopens the visit. A retry — the visit OPEN again by the reversal of
// setl_id — answers the first reversal. Any other setl_id (not the
// visit's, a settlement whose visit has since been settled again or
// reversed again, a cancelled visit) is refused: "reversing twice"
// (DECISIONS.md).
func reverseVisit(ctx context.Context, g *Gateway, c *Call, input json.RawMessage, kind store.VisitKind, infno string) (any, error) {
	var in reverseInput
	if err := decodeInput(input, &in); err != nil {
		return nil, err
	}
	if in.Data == nil {
		return nil, refuse("input.data 缺失，请按接口规范传入 data")
	}
	d := in.Data
	if err := requireID("setl_id", d.SetlID); err != nil {
		return nil, err
	}
	v, err := ownVisit(ctx, g, c, d.MdtrtID, d.PsnNo)
	if err != nil {
		return nil, err
	}
	if err := requireKind(v, kind, infno); err != nil {
		return nil, err
	}
	id := string(d.SetlID)
	c.AuditPerson(v.PersonID)
	c.AuditSettlement(id)
	live := v.State == store.VisitSettled && v.SettlementID == id
	retry := v.State == store.VisitOpen && v.ReversedSettlementID == id
	if !live && !retry {
		return nil, notReversible(v, id)
	}
	person, err := g.store.GetPerson(ctx, v.PersonID)
	if err != nil {
		return nil, fmt.Errorf("reading person %q: %w", v.PersonID, err)
	}
	// The settling call's msgid as the visit kept it (SettleVisit), read
	// before the reopening clears it; a retry, the visit reopened already,
	// finds the same msgid in the audit log. mdtrt_cert_type stays empty:
	// 2208/2305 send none, and a retry must answer what the first answer
	// did.
	msgid := v.SettleMsgid
	rid := reverseRequestID(id)
	if _, err := g.svc.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: rid, SettlementId: id,
		Reason: reverseReason(infno)}); err != nil {
		return nil, err
	}
	if live {
		reopened, err := g.visits.ReopenVisit(ctx, v.ID, id)
		switch {
		case err == nil:
			v = reopened
		case errors.Is(err, store.ErrVisitNotOpen):
			// The reversal has committed: a 2207/2304 that ran between it
			// and this reopening found the settlement reversed, reopened
			// the visit itself and settled it anew. The reversal stands
			// and is answered (its retry, the visit having been settled
			// since, is then "reversing twice", as after any new
			// settlement).
		default:
			return nil, whenNotOpen(ctx, g, v.ID, "撤销结算", err)
		}
	}
	st, err := g.store.GetSettlement(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading settlement %q: %w", id, err)
	}
	at, err := committedAt(ctx, g, st.Claim.InstitutionID, pb.SettlementService_ReverseSettlement_FullMethodName, rid, st)
	if err != nil {
		return nil, err
	}
	// The balance after the reversal: read now (a retry reads it again).
	after, err := g.store.GetPerson(ctx, v.PersonID)
	if err != nil {
		return nil, fmt.Errorf("reading person %q: %w", v.PersonID, err)
	}
	// medins_setl_id is the settlement's: the msgid that settled it.
	settleInfno := "2207"
	if kind == store.VisitKindInpatient {
		settleInfno = "2304"
	}
	if msgid == "" {
		if msgid, err = settlingMsgid(ctx, g, c, settleInfno, v.PersonID, st.ID, ""); err != nil {
			return nil, err
		}
	}
	s := settled{ID: st.ID, Result: st.Result, Visit: v, Person: person, VisitType: st.Claim.VisitType,
		MedType: v.MedType, At: at, Msgid: msgid}
	return settleAnswer{Setlinfo: newSetlInfo(s).negated(after.AccountBalance),
		Setldetail: negatedDetails(newSetlDetails(st.Result, person.Scheme))}, nil
}

// notReversible refuses a setl_id the visit cannot reverse, saying why.
func notReversible(v store.Visit, id string) *Refusal {
	switch {
	case v.State == store.VisitCancelled:
		return notOpen(v, "撤销结算")
	case v.State == store.VisitSettled:
		return refuse("setl_id %s 不是就诊 %s 当前的结算（当前结算为 %s），不能撤销；请传入当前结算的 setl_id", clip(id, 40), v.ID, v.SettlementID)
	case v.ReversedSettlementID != "":
		return refuse("setl_id %s 不是就诊 %s 当前的结算：该就诊未结算（最近撤销的结算为 %s），请勿重复撤销", clip(id, 40), v.ID, v.ReversedSettlementID)
	}
	return refuse("就诊 %s 尚未结算，setl_id %s 无可撤销的结算，请核对 setl_id", v.ID, clip(id, 40))
}
