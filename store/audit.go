package store

import (
	"context"
	"time"
)

// Audit limits: the store keeps what the API gives it, bounded here.
const (
	// MaxAuditString is the longest string of an AuditEvent, in bytes;
	// the API cuts longer ones (at a UTF-8 boundary) before appending.
	MaxAuditString = 128
	// MaxAuditResultIDs is the most result ids an event keeps.
	MaxAuditResultIDs = 16
	// MaxAuditPage is the most events one AuditEvents call returns.
	MaxAuditPage = 1000
)

// AuditEvent is one state-changing call as it ended: who (the role and
// institution of the caller, never a credential), when, what (the method
// and the key ids of the request) and the outcome (the gRPC code and the
// ids the call produced).
type AuditEvent struct {
	// ID is assigned by AppendAudit: increasing in append order, > 0.
	ID int64
	// Time is when the call ended (the server's clock), stored in UTC to
	// the microsecond.
	Time time.Time
	// Role is "admin", "clearing" or "institution".
	Role string
	// CallerInstitution is the institution of an institution caller.
	CallerInstitution string
	// Method is the full gRPC method name.
	Method string
	// The key ids of the request ("" when the request has none).
	RequestID, SettlementID, PersonID, InstitutionID string
	Region, Scheme, Version                          string
	RunID, ContractID, FilingID                      string
	// MessageCount is how many messages a client stream sent.
	MessageCount int64
	// Code is the gRPC status code the call ended with.
	Code int32
	// ResultIDs are the ids the call produced (at most MaxAuditResultIDs).
	ResultIDs []string
}

// AuditFilter selects events for AuditEvents. Zero fields match every
// event.
type AuditFilter struct {
	// Method matches AuditEvent.Method exactly.
	Method string
	// Institution matches CallerInstitution or InstitutionID.
	Institution string
	// PersonID and RequestID match the event's.
	PersonID, RequestID string
	// From (inclusive) and To (exclusive) bound Time; zero: unbounded.
	// Both are compared truncated to the microsecond, as times are kept.
	From, To time.Time
	// Code matches AuditEvent.Code when HasCode.
	Code    int32
	HasCode bool
	// After lists only events with a greater ID (paging).
	After int64
	// Limit is the most events returned: 1 to MaxAuditPage (others:
	// MaxAuditPage).
	Limit int
}

// Match reports whether e passes the filter (After and Limit aside).
func (f AuditFilter) Match(e AuditEvent) bool {
	switch {
	case f.Method != "" && e.Method != f.Method,
		f.Institution != "" && e.CallerInstitution != f.Institution && e.InstitutionID != f.Institution,
		f.PersonID != "" && e.PersonID != f.PersonID,
		f.RequestID != "" && e.RequestID != f.RequestID,
		!f.From.IsZero() && e.Time.Before(f.From.Truncate(time.Microsecond)),
		!f.To.IsZero() && !e.Time.Before(f.To.Truncate(time.Microsecond)),
		f.HasCode && e.Code != f.Code:
		return false
	}
	return true
}

// PageLimit is Limit within 1 to MaxAuditPage.
func (f AuditFilter) PageLimit() int {
	if f.Limit <= 0 || f.Limit > MaxAuditPage {
		return MaxAuditPage
	}
	return f.Limit
}

// AuditStore is the append-only audit log. It has no way to change or
// remove an event; PostgreSQL refuses UPDATE and DELETE on its table too.
type AuditStore interface {
	// AppendAudit appends e (its ID ignored) with the next id and returns
	// that id. The time is kept in UTC to the microsecond.
	AppendAudit(ctx context.Context, e AuditEvent) (int64, error)
	// AuditEvents lists the events f selects with an ID above f.After, in
	// append (ID) order, at most f.PageLimit() of them.
	AuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}
