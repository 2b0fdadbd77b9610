package national

import (
	"context"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc/codes"

	"github.com/medsettle/medsettle/store"
)

// callAudit is what a handler tells the request's audit event.
type callAudit struct {
	personID     string
	settlementID string
	results      []string
	// resultRoom is results' first room: a call names one result at most,
	// nearly always.
	resultRoom [1]string
}

// AuditPerson names the person a transaction is about in its audit event
// (psn_no).
func (c *Call) AuditPerson(personID string) { c.audit.personID = cut(personID, store.MaxAuditString) }

// AuditSettlement names the settlement a transaction reads or reverses in
// its audit event (setl_id).
func (c *Call) AuditSettlement(settlementID string) {
	c.audit.settlementID = cut(settlementID, store.MaxAuditString)
}

// AuditResult adds ids a transaction produced (mdtrt_id, setl_id,
// sign_no) to its audit event, at most store.MaxAuditResultIDs.
func (c *Call) AuditResult(ids ...string) {
	for _, id := range ids {
		if id != "" && len(c.audit.results) < store.MaxAuditResultIDs && !slices.Contains(c.audit.results, id) {
			if c.audit.results == nil {
				c.audit.results = c.audit.resultRoom[:0]
			}
			c.audit.results = append(c.audit.results, cut(id, store.MaxAuditString))
		}
	}
}

// auditMethodPrefix starts the method of a gateway request's audit event:
// "national/2207". AuditService.ListEvents finds them by method, by
// institution, and by msgid (as request_id).
const auditMethodPrefix = "national/"

// record appends the audit event of an authenticated request: its
// transaction (the envelope's infno, "national/invalid" when the envelope
// has none that is four digits), its msgid as request id, the institution
// as caller and institution, the ids the handler named, and the outcome as
// a gRPC code (0 answered infcode "0"; otherwise the failure's, see
// failure). The answer does not depend on it: an event that cannot be
// appended is logged at ERROR level with every field.
func (g *Gateway) record(ctx context.Context, c *Call, code codes.Code) {
	g.recordAt(ctx, c, code, g.now())
}

// recordAt is record of an event at time at (the clock read as the
// request was answered).
func (g *Gateway) recordAt(ctx context.Context, c *Call, code codes.Code, at time.Time) {
	method := auditMethodPrefix + "invalid"
	if c.Env != nil && digits(c.Env.Infno, 4) {
		method = auditMethod(c.Env.Infno)
	}
	e := store.AuditEvent{
		Time: at, Role: "institution", CallerInstitution: cut(c.Cred.InstitutionID, store.MaxAuditString),
		Method: method, InstitutionID: cut(c.Cred.InstitutionID, store.MaxAuditString),
		PersonID: c.audit.personID, SettlementID: c.audit.settlementID, Code: int32(code), ResultIDs: c.audit.results,
	}
	if c.Env != nil {
		e.RequestID = cut(c.Env.Msgid, store.MaxAuditString)
	}
	if _, err := g.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		g.log.ErrorContext(ctx, "AUDIT EVENT LOST: the gateway's answer stands, but the audit log does not hold it",
			"error", err, "method", e.Method, "time", e.Time, "caller_institution", e.CallerInstitution,
			"request_id", e.RequestID, "person_id", e.PersonID, "settlement_id", e.SettlementID,
			"code", e.Code, "result_ids", e.ResultIDs)
	}
}

// auditMethods are the audit methods of the transactions served, made
// once, on first use (after every init function has registered its
// transactions).
var auditMethods = sync.OnceValue(func() map[string]string {
	m := make(map[string]string, len(handlers))
	for infno := range handlers {
		m[infno] = auditMethodPrefix + infno
	}
	return m
})

// auditMethod is "national/<infno>".
func auditMethod(infno string) string {
	if m, ok := auditMethods()[infno]; ok {
		return m
	}
	return auditMethodPrefix + infno
}

// cut cuts s to at most n bytes, at a UTF-8 boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
