package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// Audit page sizes.
const (
	// DefaultAuditPage is ListEvents' page size when the request gives none.
	DefaultAuditPage = 100
	// MaxAuditPage is the largest page ListEvents returns; a larger
	// page_size is cut to it.
	MaxAuditPage = store.MaxAuditPage
)

// AuditService serves the audit log (admin only). It has no call that
// changes or removes an event.
type AuditService struct {
	pb.UnimplementedAuditServiceServer
	store store.Store
	log   *slog.Logger
}

// ListEvents lists the audit events the filters select, in append order,
// one page at a time (admin).
func (s *AuditService) ListEvents(ctx context.Context, req *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	resp, err := s.listEvents(ctx, req)
	if err != nil {
		return nil, toStatus(ctx, s.log, "ListEvents", err)
	}
	return resp, nil
}

func (s *AuditService) listEvents(ctx context.Context, req *pb.ListEventsRequest) (*pb.ListEventsResponse, error) {
	if err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	var v engine.Violations
	f := store.AuditFilter{Method: req.GetMethod(), Institution: req.GetInstitutionId(), PersonID: req.GetPersonId(),
		RequestID: req.GetRequestId()}
	for _, fl := range []struct{ name, value string }{
		{"method", f.Method}, {"institution_id", f.Institution}, {"person_id", f.PersonID}, {"request_id", f.RequestID},
	} {
		if len(fl.value) > store.MaxAuditString {
			v.Addf(fl.name, "is %d bytes, more than the %d an event keeps", len(fl.value), store.MaxAuditString)
		}
	}
	f.From = parseAuditTime(&v, "time_from", req.GetTimeFrom())
	f.To = parseAuditTime(&v, "time_to", req.GetTimeTo())
	if req.Code != nil {
		f.Code, f.HasCode = req.GetCode(), true
	}
	size := int(req.GetPageSize())
	switch {
	case size < 0:
		v.Addf("page_size", "must not be negative, got %d", size)
	case size == 0:
		size = DefaultAuditPage
	case size > MaxAuditPage:
		size = MaxAuditPage
	}
	after, ok := decodeAuditToken(req.GetPageToken())
	if !ok {
		v.Addf("page_token", "is not a next_page_token of ListEvents; leave it empty for the first page")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	f.After = after
	// One event more than the page tells whether another page follows.
	f.Limit = size + 1
	events, err := s.store.AuditEvents(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("audit events: %w", err)
	}
	resp := &pb.ListEventsResponse{}
	if len(events) > size {
		events = events[:size]
		resp.NextPageToken = encodeAuditToken(events[size-1].ID)
	}
	for _, e := range events {
		resp.Events = append(resp.Events, auditEventToProto(e))
	}
	return resp, nil
}

// parseAuditTime reads an RFC 3339 time ("" is the zero time).
func parseAuditTime(v *engine.Violations, field, s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if len(s) > 64 {
		v.Addf(field, "is not an RFC 3339 time (%d bytes)", len(s))
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.Addf(field, "is not an RFC 3339 time such as 2026-05-01T08:00:00Z")
	}
	return t
}

// An audit page token is "a" and the last event id listed,
// base64url-encoded: opaque to clients.
func encodeAuditToken(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("a" + strconv.FormatInt(id, 10)))
}

// decodeAuditToken returns the event id to list after (0 for an empty
// token) and whether the token is well formed.
func decodeAuditToken(tok string) (int64, bool) {
	if tok == "" {
		return 0, true
	}
	if len(tok) > 64 {
		return 0, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	num, ok := strings.CutPrefix(string(raw), "a")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// auditEventToProto is an event as ListEvents answers it.
func auditEventToProto(e store.AuditEvent) *pb.AuditEvent {
	return &pb.AuditEvent{
		EventId: strconv.FormatInt(e.ID, 10), Time: e.Time.UTC().Format(time.RFC3339Nano), Role: e.Role,
		CallerInstitutionId: e.CallerInstitution, Method: e.Method, RequestId: e.RequestID, SettlementId: e.SettlementID,
		PersonId: e.PersonID, InstitutionId: e.InstitutionID, Region: e.Region, Scheme: e.Scheme, Version: e.Version,
		RunId: e.RunID, ContractId: e.ContractID, FilingId: e.FilingID, MessageCount: e.MessageCount, Code: e.Code,
		ResultIds: e.ResultIDs,
	}
}
