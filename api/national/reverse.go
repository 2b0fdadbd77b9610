package national

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/medsettle/medsettle/engine"
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
// reopens the visit. A retry answers the first reversal (GATEWAY.md:
// "2208/2305 are idempotent on setl_id"), whatever has happened to the
// visit since: the visit OPEN again by the reversal of setl_id (the
// reversal replayed), or a settlement of the visit that the gateway's own
// reversal reversed, the visit settled again, reversed again or cancelled
// since (ownReversal; nothing is called or changed). Anything else (a
// setl_id that is not a settlement of the visit, one reversed by another
// request, a visit never settled) is refused: "reversing twice"
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
	reopened := v.State == store.VisitOpen && v.ReversedSettlementID == id
	rid := reverseRequestID(id)
	if !live && !reopened {
		st, err := ownReversal(ctx, g, v, id, infno)
		if err != nil {
			return nil, err
		}
		return answerReversal(ctx, g, c, v, st, kind, "")
	}
	// The settling call's msgid as the visit kept it (SettleVisit), read
	// before the reopening clears it; a retry, the visit reopened already,
	// finds the same msgid in the audit log. mdtrt_cert_type stays empty:
	// 2208/2305 send none, and a retry must answer what the first answer
	// did.
	msgid := ""
	if live {
		msgid = v.SettleMsgid
	}
	if _, err := g.svc.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: rid, SettlementId: id,
		Reason: reverseReason(infno)}); err != nil {
		return nil, err
	}
	if live {
		open, err := g.visits.ReopenVisit(ctx, v.ID, id)
		switch {
		case err == nil:
			v = open
		case errors.Is(err, store.ErrVisitNotOpen):
			// The reversal has committed: a 2207/2304 that ran between it
			// and this reopening found the settlement reversed, reopened
			// the visit itself and settled it anew. The reversal stands
			// and is answered (and so is its retry, as after any new
			// settlement: ownReversal).
		default:
			return nil, whenNotOpen(ctx, g, v.ID, "撤销结算", err)
		}
	}
	st, err := g.store.GetSettlement(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading settlement %q: %w", id, err)
	}
	return answerReversal(ctx, g, c, v, st, kind, msgid)
}

// ownReversal is settlement id of visit v when the gateway's own reversal
// of it (reverseRequestID, with the reason of infno's reversals) reversed
// it: a retry of that reversal, answered whatever the visit has become
// since. Anything else is refused as notReversible says: a setl_id that is
// not a settlement of v (settlesVisit), one not reversed, or reversed by
// another request (a gRPC ReverseSettlement, or the reversal of a
// settlement whose visit was cancelled before it could be marked:
// "reversing twice").
func ownReversal(ctx context.Context, g *Gateway, v store.Visit, id, infno string) (engine.Settlement, error) {
	st, err := g.store.GetSettlement(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return engine.Settlement{}, notReversible(v, id)
	case err != nil:
		return engine.Settlement{}, fmt.Errorf("reading settlement %q: %w", id, err)
	}
	if !settlesVisit(v, st) || st.State != engine.StateReversed ||
		st.ReversalRequestID != reverseRequestID(id) || st.ReversalReason != reverseReason(infno) {
		return engine.Settlement{}, notReversible(v, id)
	}
	return st, nil
}

// answerReversal is the answer of the reversal of settlement st of visit
// v, the same on every reading: its figures negated, setl_time when the
// reversal committed (committedAt), medins_setl_id the msgid that settled
// it (msgid, else from the audit log) and balc the balance right after
// the reversal as the store kept it (engine.Settlement.BalanceAfterReversal);
// a settlement reversed before stores kept it has none, and balc is then
// the balance now (DECISIONS.md).
func answerReversal(ctx context.Context, g *Gateway, c *Call, v store.Visit, st engine.Settlement, kind store.VisitKind, msgid string) (any, error) {
	at, err := committedAt(ctx, g, st.Claim.InstitutionID, pb.SettlementService_ReverseSettlement_FullMethodName,
		reverseRequestID(st.ID), st)
	if err != nil {
		return nil, err
	}
	person, err := g.store.GetPerson(ctx, v.PersonID)
	if err != nil {
		return nil, fmt.Errorf("reading person %q: %w", v.PersonID, err)
	}
	balc := person.AccountBalance
	if st.BalanceAfterReversal != nil {
		balc = *st.BalanceAfterReversal
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
	return settleAnswer{Setlinfo: newSetlInfo(s).negated(balc),
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
