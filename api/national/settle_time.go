package national

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/medsettle/medsettle/engine"
	"github.com/medsettle/medsettle/store"
)

// firstSuccess is the first call of method with requestID by institution
// that succeeded, from the audit log (ok false when there is none).
func firstSuccess(ctx context.Context, g *Gateway, institution, method, requestID string) (store.AuditEvent, bool, error) {
	evs, err := g.store.AuditEvents(ctx, store.AuditFilter{Method: method, Institution: institution, RequestID: requestID,
		HasCode: true, Code: int32(codes.OK), Limit: 1})
	if err != nil {
		return store.AuditEvent{}, false, fmt.Errorf("reading the audit log of %s: %w", requestID, err)
	}
	if len(evs) == 0 {
		return store.AuditEvent{}, false, nil
	}
	return evs[0], true, nil
}

// committedAt is when st was committed (or reversed, for the reversal's
// method): the time of the first successful call of method with its
// request id that produced it, as the audit log recorded it, so that every
// reading answers the same setl_time. The audit event is appended as the
// call ends, after the commit; should it be lost (an audit append that
// failed is logged, DECISIONS.md "An audit trail"), the settle date at
// 00:00:00 Asia/Shanghai is answered, the same every time.
func committedAt(ctx context.Context, g *Gateway, institution, method, requestID string, st engine.Settlement) (time.Time, error) {
	ev, ok, err := firstSuccess(ctx, g, institution, method, requestID)
	if err != nil {
		return time.Time{}, err
	}
	if ok && slices.Contains(ev.ResultIDs, st.ID) {
		return ev.Time, nil
	}
	d := st.Claim.SettleDate
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, shanghai), nil
}

// settlingMsgid is the msgid of the transaction that committed settlement
// id (medins_setl_id): the first successful infno call about the person
// whose audit event names the settlement among its results; fallback when
// none does (a settlement made over gRPC, or an audit event lost).
func settlingMsgid(ctx context.Context, g *Gateway, c *Call, infno, personID, id, fallback string) (string, error) {
	evs, err := g.store.AuditEvents(ctx, store.AuditFilter{Method: auditMethodPrefix + infno, Institution: c.Cred.InstitutionID,
		PersonID: personID, HasCode: true, Code: int32(codes.OK), Limit: store.MaxAuditPage})
	if err != nil {
		return "", fmt.Errorf("reading the audit log of person %q: %w", personID, err)
	}
	for _, e := range evs {
		if slices.Contains(e.ResultIDs, id) {
			return e.RequestID, nil
		}
	}
	return fallback, nil
}
