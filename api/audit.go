package api

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
)

// auditedMethods classifies every RPC of the medsettle services: true for
// a state-changing call, which the audit log records, false for a read
// (PreSettle computes without storing). TestAuditClassifiesEveryRPC fails
// for an RPC missing here; a medsettle method missing here is recorded
// (auditMethod), so that a new RPC is audited until classified.
var auditedMethods = map[string]bool{
	"/medsettle.v1.SettlementService/PreSettle":         false,
	"/medsettle.v1.SettlementService/Settle":            true,
	"/medsettle.v1.SettlementService/ReverseSettlement": true,
	"/medsettle.v1.SettlementService/GetSettlement":     false,
	"/medsettle.v1.SettlementService/GetAccumulators":   false,

	"/medsettle.v1.RegistryService/PutPerson":              true,
	"/medsettle.v1.RegistryService/GetPerson":              false,
	"/medsettle.v1.RegistryService/ImportPersons":          true,
	"/medsettle.v1.RegistryService/PutInstitution":         true,
	"/medsettle.v1.RegistryService/GetInstitution":         false,
	"/medsettle.v1.RegistryService/PutCrossRegionFiling":   true,
	"/medsettle.v1.RegistryService/ListCrossRegionFilings": false,
	"/medsettle.v1.RegistryService/AdjustAccount":          true,

	"/medsettle.v1.PolicyService/PutPolicy":    true,
	"/medsettle.v1.PolicyService/GetPolicy":    false,
	"/medsettle.v1.PolicyService/ListPolicies": false,

	"/medsettle.v1.ClearingService/RunClearing":           true,
	"/medsettle.v1.ClearingService/GetStatement":          false,
	"/medsettle.v1.ClearingService/Reconcile":             false,
	"/medsettle.v1.ClearingService/PutCapitationContract": true,
	"/medsettle.v1.ClearingService/GetCapitationContract": false,
	"/medsettle.v1.ClearingService/EnrollMembers":         true,

	"/medsettle.v1.AuditService/ListEvents": false,

	"/medsettle.v1.ContributionService/Quote":      false,
	"/medsettle.v1.ContributionService/ExportPlan": false,
}

// auditMethod reports whether calls of fullMethod are recorded: the
// state-changing calls, and any medsettle method not classified yet.
func auditMethod(fullMethod string) bool {
	if audited, ok := auditedMethods[fullMethod]; ok {
		return audited
	}
	return !publicService(fullMethod)
}

// auditKeys are the well-known field names whose values an event keeps,
// in auditIDs order.
var auditKeys = [...]protoreflect.Name{"request_id", "settlement_id", "person_id", "institution_id", "region", "scheme",
	"version", "run_id", "contract_id", "filing_id"}

// auditIDs are the values of auditKeys found in a request.
type auditIDs [len(auditKeys)]string

// auditKeyIndex maps a field name to its place in auditIDs.
var auditKeyIndex = func() map[protoreflect.Name]int {
	m := make(map[protoreflect.Name]int, len(auditKeys))
	for i, k := range auditKeys {
		m[k] = i
	}
	return m
}()

// auditResultKeys are the fields of a response whose values are the ids
// a call produced.
var auditResultKeys = map[protoreflect.Name]bool{"settlement_id": true, "run_id": true}

// maxAuditDepth is how deep auditFields looks: the request's own fields
// and those of the messages it holds (PutPersonRequest.person.person_id).
// Lists and maps are not read: their size is the client's.
const maxAuditDepth = 2

// auditFields calls f with each well-known string (or enum, by name)
// field set in m, its own fields before those of nested messages, within
// maxAuditDepth; a value is cut to store.MaxAuditString bytes.
func auditFields(m protoreflect.Message, depth int, f func(name protoreflect.Name, value string)) {
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsList() || fd.IsMap() || !m.Has(fd) {
			continue
		}
		switch fd.Kind() {
		case protoreflect.StringKind:
			f(fd.Name(), cutString(m.Get(fd).String(), store.MaxAuditString))
		case protoreflect.EnumKind:
			if ev := fd.Enum().Values().ByNumber(m.Get(fd).Enum()); ev != nil {
				f(fd.Name(), cutString(string(ev.Name()), store.MaxAuditString))
			}
		}
	}
	if depth+1 >= maxAuditDepth {
		return
	}
	for i := range fields.Len() {
		fd := fields.Get(i)
		if fd.IsList() || fd.IsMap() || fd.Kind() != protoreflect.MessageKind || !m.Has(fd) {
			continue
		}
		auditFields(m.Get(fd).Message(), depth+1, f)
	}
}

// requestIDs reads the well-known ids of a request; the first value found
// of each name wins.
func requestIDs(req any) auditIDs {
	if m, ok := req.(*pb.SettleRequest); ok && m != nil {
		return settleRequestIDs(m)
	}
	return reflectedRequestIDs(req)
}

// reflectedRequestIDs is requestIDs of any message, by reflection.
func reflectedRequestIDs(req any) auditIDs {
	var ids auditIDs
	m, ok := req.(proto.Message)
	if !ok || m == nil {
		return ids
	}
	auditFields(m.ProtoReflect(), 0, func(name protoreflect.Name, value string) {
		if i, ok := auditKeyIndex[name]; ok && ids[i] == "" {
			ids[i] = value
		}
	})
	return ids
}

// resultIDs appends the ids a response carries to ids (without repeats,
// at most store.MaxAuditResultIDs).
func resultIDs(ids []string, resp any) []string {
	if m, ok := resp.(*pb.SettleResponse); ok && m != nil {
		return settleResultIDs(ids, m)
	}
	return reflectedResultIDs(ids, resp)
}

// reflectedResultIDs is resultIDs of any message, by reflection.
func reflectedResultIDs(ids []string, resp any) []string {
	m, ok := resp.(proto.Message)
	if !ok || m == nil {
		return ids
	}
	auditFields(m.ProtoReflect(), 0, func(name protoreflect.Name, value string) {
		if auditResultKeys[name] && value != "" && len(ids) < store.MaxAuditResultIDs && !slices.Contains(ids, value) {
			ids = append(ids, value)
		}
	})
	return ids
}

// cutString cuts s to at most n bytes, at a UTF-8 boundary.
func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// auditor appends the events of the audit interceptors.
type auditor struct {
	store store.Store
	log   *slog.Logger
	now   func() time.Time
}

// newAuditor records to st with the time from now (time.Now when nil).
func newAuditor(st store.Store, log *slog.Logger, now func() time.Time) *auditor {
	if now == nil {
		now = time.Now
	}
	return &auditor{store: st, log: log, now: now}
}

// record appends the event of a call that ended with err. The call's
// answer does not depend on it: an event that cannot be appended (the
// change, if any, is committed) is logged at ERROR level with every field,
// so that it can be restored from the log (DECISIONS.md "An audit trail").
// The append does not end with the client's cancellation; the store
// timeout bounds it.
func (a *auditor) record(ctx context.Context, method string, p Principal, ids auditIDs, count int64, results []string, err error) {
	e := store.AuditEvent{
		Time: a.now(), Role: roleName(p.Role), CallerInstitution: cutString(p.Institution, store.MaxAuditString), Method: method,
		RequestID: ids[0], SettlementID: ids[1], PersonID: ids[2], InstitutionID: ids[3], Region: ids[4], Scheme: ids[5],
		Version: ids[6], RunID: ids[7], ContractID: ids[8], FilingID: ids[9],
		MessageCount: count, Code: int32(status.Code(err)), ResultIDs: results,
	}
	if _, aerr := a.store.AppendAudit(context.WithoutCancel(ctx), e); aerr != nil {
		a.log.ErrorContext(ctx, "AUDIT EVENT LOST: the call's answer stands, but the audit log does not hold it",
			"error", aerr, "method", e.Method, "time", e.Time, "role", e.Role, "caller_institution", e.CallerInstitution,
			"request_id", e.RequestID, "settlement_id", e.SettlementID, "person_id", e.PersonID,
			"institution_id", e.InstitutionID, "region", e.Region, "scheme", e.Scheme, "version", e.Version,
			"run_id", e.RunID, "contract_id", e.ContractID, "filing_id", e.FilingID,
			"message_count", e.MessageCount, "code", e.Code, "result_ids", e.ResultIDs)
	}
}

// roleName is the role as an event names it.
func roleName(r Role) string {
	switch r {
	case RoleAdmin:
		return "admin"
	case RoleClearing:
		return "clearing"
	case RoleInstitution:
		return "institution"
	}
	return "none"
}

// errPanicked is the outcome recorded for a handler that panicked (the
// recover interceptor answers it INTERNAL).
var errPanicked = status.Error(codes.Internal, "internal error")

// Unary records a state-changing unary call after its handler returns
// (or panics: recorded INTERNAL, and the panic goes on to recoverUnary).
// It runs after authentication: a call refused for its credentials is not
// recorded (it has no principal, and changed nothing).
func (a *auditor) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if !auditMethod(info.FullMethod) {
		return handler(ctx, req)
	}
	defer func() {
		if r := recover(); r != nil {
			a.record(ctx, info.FullMethod, principalFrom(ctx), requestIDs(req), 0, nil, errPanicked)
			panic(r)
		}
	}()
	resp, err := handler(ctx, req)
	var results []string
	if err == nil {
		results = resultIDs(nil, resp)
	}
	a.record(ctx, info.FullMethod, principalFrom(ctx), requestIDs(req), 0, results, err)
	return resp, err
}

// Stream records a state-changing streaming call after its handler
// returns (or panics, as Unary): the ids common to every message the client sent (an id that
// differs between messages is left out), how many it sent (client
// streams), and the ids of the messages the server sent.
func (a *auditor) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if !auditMethod(info.FullMethod) {
		return handler(srv, ss)
	}
	rec := &streamRecord{}
	defer func() {
		if r := recover(); r != nil {
			ids, count, results := rec.result()
			if !info.IsClientStream {
				count = 0
			}
			a.record(ss.Context(), info.FullMethod, principalFrom(ss.Context()), ids, count, results, errPanicked)
			panic(r)
		}
	}()
	err := handler(srv, &auditStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), streamRecordKey{}, rec), rec: rec})
	ids, count, results := rec.result()
	if !info.IsClientStream {
		count = 0
	}
	a.record(ss.Context(), info.FullMethod, principalFrom(ss.Context()), ids, count, results, err)
	return err
}

// streamRecord is what a stream's messages tell its event.
type streamRecord struct {
	mu      sync.Mutex
	count   int64
	ids     auditIDs
	mixed   [len(auditKeys)]bool
	results []string
}

// received notes one message the client sent.
func (r *streamRecord) received(m any) {
	ids := requestIDs(m)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.count++
	for i, v := range ids {
		switch {
		case r.mixed[i]:
		case r.count == 1:
			r.ids[i] = v
		case r.ids[i] != v:
			r.ids[i], r.mixed[i] = "", true
		}
	}
}

// sent notes one message the server sent.
func (r *streamRecord) sent(m any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = resultIDs(r.results, m)
}

func (r *streamRecord) result() (auditIDs, int64, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids, r.count, slices.Clone(r.results)
}

type streamRecordKey struct{}

// auditStream is the stream the audit interceptor hands on: it carries
// the record in its context, and notes the messages sent. The messages
// received reach it raw (the guard decodes them below it), so the record
// learns them from auditRecvStream, inside the guard.
type auditStream struct {
	grpc.ServerStream
	ctx context.Context
	rec *streamRecord
}

func (s *auditStream) Context() context.Context { return s.ctx }

// SendMsg notes the ids of a message sent.
func (s *auditStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if err == nil {
		s.rec.sent(m)
	}
	return err
}

// auditRecvStream notes each message decoded for the handler in the
// record of the call's context.
type auditRecvStream struct {
	grpc.ServerStream
	rec *streamRecord
}

// RecvMsg notes the message received.
func (s *auditRecvStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.rec.received(m)
	}
	return err
}

// auditRegistrar registers services with their stream handlers wrapped
// so that the decoded messages reach the audit record; it sits inside the
// guard (next is the guardedRegistrar).
type auditRegistrar struct {
	next interface {
		grpc.ServiceRegistrar
		GetServiceInfo() map[string]grpc.ServiceInfo
	}
}

// RegisterService registers sd with its stream handlers wrapped.
func (r auditRegistrar) RegisterService(sd *grpc.ServiceDesc, impl any) {
	out := *sd
	out.Streams = make([]grpc.StreamDesc, len(sd.Streams))
	for i, s := range sd.Streams {
		h := s.Handler
		s.Handler = func(srv any, ss grpc.ServerStream) error {
			if rec, ok := ss.Context().Value(streamRecordKey{}).(*streamRecord); ok {
				ss = &auditRecvStream{ServerStream: ss, rec: rec}
			}
			return h(srv, ss)
		}
		out.Streams[i] = s
	}
	r.next.RegisterService(&out, impl)
}

// GetServiceInfo is the server's.
func (r auditRegistrar) GetServiceInfo() map[string]grpc.ServiceInfo {
	return r.next.GetServiceInfo()
}
