package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store"
	"github.com/medsettle/medsettle/store/memstore"
	"github.com/medsettle/medsettle/store/pgstore"
	"github.com/medsettle/medsettle/store/pgstore/pgtest"
)

// The audit operations in TestStoreTimeoutCoversEveryOperation.
func init() {
	storeOps["AppendAudit"] = struct {
		long bool
		call func(ctx context.Context, st store.Store) error
	}{false, func(ctx context.Context, st store.Store) error {
		_, err := st.AppendAudit(ctx, store.AuditEvent{Method: "/x"})
		return err
	}}
	storeOps["AuditEvents"] = struct {
		long bool
		call func(ctx context.Context, st store.Store) error
	}{false, func(ctx context.Context, st store.Store) error {
		_, err := st.AuditEvents(ctx, store.AuditFilter{})
		return err
	}}
}

func (f *frozenStore) AppendAudit(ctx context.Context, e store.AuditEvent) (int64, error) {
	if err := f.wait(ctx); err != nil {
		return 0, err
	}
	return f.Store.AppendAudit(ctx, e)
}

func (f *frozenStore) AuditEvents(ctx context.Context, fl store.AuditFilter) ([]store.AuditEvent, error) {
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	return f.Store.AuditEvents(ctx, fl)
}

// listEvents reads every event the request selects, page after page, as
// admin.
func listEvents(t *testing.T, conn *grpc.ClientConn, req *pb.ListEventsRequest) []*pb.AuditEvent {
	t.Helper()
	ctx, cancel := as(adminToken)
	defer cancel()
	cl := pb.NewAuditServiceClient(conn)
	var out []*pb.AuditEvent
	for range 1000 {
		resp, err := cl.ListEvents(ctx, req)
		must(t, err)
		out = append(out, resp.GetEvents()...)
		if resp.GetNextPageToken() == "" {
			return out
		}
		req.PageToken = resp.GetNextPageToken()
	}
	t.Fatal("ListEvents pages without end")
	return nil
}

// TestAuditClassifiesEveryRPC checks that every RPC of every medsettle
// service (from the descriptors) is classified as state-changing or not.
func TestAuditClassifiesEveryRPC(t *testing.T) {
	for _, name := range rpcNames(t) {
		if _, ok := auditedMethods[name]; !ok {
			t.Errorf("%s is not in auditedMethods (audit.go): say whether it changes state", name)
		}
	}
}

// auditWant is what TestAuditRecordsStateChangingCalls expects of one
// event; empty fields are not checked.
type auditWant struct {
	method                                    string
	role, caller                              string
	code                                      codes.Code
	requestID, settlementID, personID, instID string
	region, scheme, version, runID            string
	contractID, filingID                      string
	count                                     int64
	results                                   bool
	resultID                                  string
}

// TestAuditRecordsStateChangingCalls makes every state-changing call (and
// failed ones, and reads) on both stores and reads the log: one event per
// state-changing call, in order, with who, what and the outcome; no event
// for a read; no credential in any event.
func TestAuditRecordsStateChangingCalls(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "100000")
		c.person("P1", clearingRegion, employee)
		admin, cancel := as(adminToken)
		defer cancel()
		h1, cancel1 := as(institutionToken("H1"))
		defer cancel1()
		clr, cancel2 := as(clearingToken)
		defer cancel2()

		// Reads first: none is recorded.
		before := len(listEvents(t, c.conn, &pb.ListEventsRequest{}))
		_, err := c.settlement.PreSettle(h1, claimOf("au-pre", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "0"))
		must(t, err)
		_, err = c.registry.GetPerson(h1, &pb.GetPersonRequest{PersonId: "P1"})
		must(t, err)
		_, err = c.policy.ListPolicies(h1, &pb.ListPoliciesRequest{})
		must(t, err)
		_, err = c.registry.GetPerson(h1, &pb.GetPersonRequest{PersonId: "nobody"})
		if status.Code(err) != codes.NotFound {
			t.Fatalf("GetPerson nobody: %v", err)
		}
		if n := len(listEvents(t, c.conn, &pb.ListEventsRequest{})); n != before {
			t.Fatalf("reads recorded: %d events, %d before", n, before)
		}

		settled, err := c.settlement.Settle(h1, claimOf("au-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "0"))
		must(t, err)
		sid := settled.GetSettlement().GetSettlementId()
		_, err = c.settlement.Settle(h1, claimOf("au-2", "H1", "NOBODY", inpatient, "2026-03-01", "G1", "100", "0"))
		if status.Code(err) != codes.NotFound {
			t.Fatalf("Settle of nobody: %v", err)
		}
		_, err = c.settlement.ReverseSettlement(h1, &pb.ReverseSettlementRequest{RequestId: "au-rv", SettlementId: sid, Reason: "test"})
		must(t, err)
		_, err = c.registry.PutPerson(h1, &pb.PutPersonRequest{Person: &pb.Person{PersonId: "P9", Name: "x", Region: clearingRegion,
			Scheme: pb.Scheme_SCHEME_RESIDENT, AccountBalance: "0"}})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("PutPerson as an institution: %v", err)
		}
		_, err = c.registry.PutCrossRegionFiling(admin, &pb.PutCrossRegionFilingRequest{Filing: &pb.CrossRegionFiling{
			FilingId: "F1", PersonId: "P1", Region: "R9", ValidFrom: "2026-01-01", ValidTo: "2026-12-31"}})
		must(t, err)
		imp, err := c.registry.ImportPersons(admin)
		must(t, err)
		for _, id := range []string{"I1", "I2", "I3"} {
			must(t, imp.Send(&pb.ImportPersonsRequest{Person: &pb.Person{PersonId: id, Name: id, Region: clearingRegion,
				Scheme: pb.Scheme_SCHEME_RESIDENT, AccountBalance: "0"}}))
		}
		_, err = imp.CloseAndRecv()
		must(t, err)
		_, err = c.clearing.PutCapitationContract(clr, &pb.PutCapitationContractRequest{Contract: capitationContract("K1", "H1")})
		must(t, err)
		enr, err := c.clearing.EnrollMembers(clr)
		must(t, err)
		for _, id := range []string{"I1", "I2"} {
			must(t, enr.Send(&pb.EnrollMembersRequest{ContractId: "K1", PersonId: id}))
		}
		_, err = enr.CloseAndRecv()
		must(t, err)
		run, err := c.run(clearingToken, drgRun("100000"))
		must(t, err)
		_, err = c.registry.AdjustAccount(admin, &pb.AdjustAccountRequest{RequestId: "au-adj", PersonId: "P1", Credit: "10.00", Reason: "test"})
		must(t, err)
		_, err = c.policy.PutPolicy(admin, &pb.PutPolicyRequest{Policy: &pb.Policy{Region: "R7", Version: "bad"}})
		if status.Code(err) != codes.InvalidArgument {
			t.Fatalf("PutPolicy of a bad policy: %v", err)
		}

		wants := []auditWant{
			{method: "SettlementService/Settle", role: "institution", caller: "H1", requestID: "au-1", personID: "P1", instID: "H1",
				resultID: sid, results: true},
			{method: "SettlementService/Settle", role: "institution", caller: "H1", code: codes.NotFound, requestID: "au-2", personID: "NOBODY"},
			{method: "SettlementService/ReverseSettlement", role: "institution", caller: "H1", requestID: "au-rv", settlementID: sid, resultID: sid, results: true},
			{method: "RegistryService/PutPerson", role: "institution", caller: "H1", code: codes.PermissionDenied, personID: "P9",
				region: clearingRegion, scheme: "SCHEME_RESIDENT"},
			{method: "RegistryService/PutCrossRegionFiling", role: "admin", filingID: "F1", personID: "P1", region: "R9"},
			{method: "RegistryService/ImportPersons", role: "admin", count: 3, region: clearingRegion},
			{method: "ClearingService/PutCapitationContract", role: "clearing", contractID: "K1", instID: "H1"},
			{method: "ClearingService/EnrollMembers", role: "clearing", contractID: "K1", count: 2},
			{method: "ClearingService/RunClearing", role: "clearing", region: clearingRegion, scheme: "SCHEME_EMPLOYEE",
				runID: run.summary.GetRunId(), results: true},
			{method: "RegistryService/AdjustAccount", role: "admin", requestID: "au-adj", personID: "P1"},
			{method: "PolicyService/PutPolicy", role: "admin", code: codes.InvalidArgument, region: "R7", version: "bad"},
		}
		all := listEvents(t, c.conn, &pb.ListEventsRequest{})
		got := all[before:]
		if len(got) != len(wants) {
			for _, e := range got {
				t.Logf("%v", e)
			}
			t.Fatalf("%d events, want %d", len(got), len(wants))
		}
		for i, w := range wants {
			e := got[i]
			check := func(field, got, want string) {
				if want != "" && got != want {
					t.Errorf("event %d (%s): %s %q, want %q", i, w.method, field, got, want)
				}
			}
			check("method", e.GetMethod(), "/medsettle.v1."+w.method)
			check("role", e.GetRole(), w.role)
			check("caller", e.GetCallerInstitutionId(), w.caller)
			check("request_id", e.GetRequestId(), w.requestID)
			check("settlement_id", e.GetSettlementId(), w.settlementID)
			check("person_id", e.GetPersonId(), w.personID)
			check("institution_id", e.GetInstitutionId(), w.instID)
			check("region", e.GetRegion(), w.region)
			check("scheme", e.GetScheme(), w.scheme)
			check("version", e.GetVersion(), w.version)
			check("contract_id", e.GetContractId(), w.contractID)
			check("filing_id", e.GetFilingId(), w.filingID)
			if w.runID != "" && !reflect.DeepEqual(e.GetResultIds(), []string{w.runID}) {
				t.Errorf("event %d (%s): result ids %v, want the run id %s", i, w.method, e.GetResultIds(), w.runID)
			}
			if codes.Code(e.GetCode()) != w.code {
				t.Errorf("event %d (%s): code %v, want %v", i, w.method, codes.Code(e.GetCode()), w.code)
			}
			if e.GetMessageCount() != w.count {
				t.Errorf("event %d (%s): message count %d, want %d", i, w.method, e.GetMessageCount(), w.count)
			}
			if w.results != (len(e.GetResultIds()) > 0) {
				t.Errorf("event %d (%s): result ids %v", i, w.method, e.GetResultIds())
			}
			if w.resultID != "" && !reflect.DeepEqual(e.GetResultIds(), []string{w.resultID}) {
				t.Errorf("event %d (%s): result ids %v, want %s", i, w.method, e.GetResultIds(), w.resultID)
			}
			if e.GetTime() != testNow().Format(time.RFC3339Nano) {
				t.Errorf("event %d (%s): time %s, want the server's clock %s", i, w.method, e.GetTime(), testNow().Format(time.RFC3339Nano))
			}
			if i > 0 && e.GetEventId() == got[i-1].GetEventId() {
				t.Errorf("event %d: id %s repeated", i, e.GetEventId())
			}
			if s := e.String(); strings.Contains(s, "token") {
				t.Errorf("event %d holds a credential: %s", i, s)
			}
		}
	})
}

// auditClock is a clock a test moves.
type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *auditClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// auditServer serves st with the clearing test roles, the given clock and
// log.
func auditServer(t *testing.T, st store.Store, now func() time.Time, log *slog.Logger) *clearingTS {
	t.Helper()
	roles := map[string]string{adminToken: "admin", clearingToken: "clearing"}
	for _, id := range []string{"H1", "H2"} {
		roles[institutionToken(id)] = "institution:" + id
	}
	tokens, err := NewTokens(roles)
	must(t, err)
	srv, _ := NewServer(Config{Store: st, Tokens: tokens, Log: log, Now: now})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
	})
	ts := &testServer{conn: conn, store: st, settlement: pb.NewSettlementServiceClient(conn),
		registry: pb.NewRegistryServiceClient(conn), policy: pb.NewPolicyServiceClient(conn)}
	return &clearingTS{testServer: ts, t: t, clearing: pb.NewClearingServiceClient(conn)}
}

// TestListEventsFiltersAndPaging fills the log with calls at known times
// and reads it with every filter and in pages.
func TestListEventsFiltersAndPaging(t *testing.T) {
	base := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	clock := &auditClock{t: base}
	c := auditServer(t, memstore.New(), clock.now, discard)
	c.putPolicy(clearingPolicy(clearingRegion, pb.Scheme_SCHEME_EMPLOYEE, true)) // event 1, 08:00
	for i, inst := range []string{"H1", "H2"} {
		clock.set(base.Add(time.Duration(i+1) * time.Hour)) // 09:00, 10:00
		c.institution(inst, clearingRegion, 3, "")
	}
	clock.set(base.Add(3 * time.Hour)) // 11:00
	for _, p := range []string{"P1", "P2", "P3"} {
		c.person(p, clearingRegion, employee)
	}
	clock.set(base.Add(4 * time.Hour)) // 12:00
	h1, cancel := as(institutionToken("H1"))
	defer cancel()
	h2, cancel2 := as(institutionToken("H2"))
	defer cancel2()
	_, err := c.settlement.Settle(h1, claimOf("f-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "0"))
	must(t, err)
	_, err = c.settlement.Settle(h2, claimOf("f-2", "H2", "P2", inpatient, "2026-03-01", "G1", "100", "0"))
	must(t, err)
	_, err = c.settlement.Settle(h1, claimOf("f-3", "H1", "NOBODY", inpatient, "2026-03-01", "G1", "100", "0"))
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Settle of nobody: %v", err)
	}

	all := listEvents(t, c.conn, &pb.ListEventsRequest{})
	if len(all) != 9 {
		t.Fatalf("%d events, want 9: %v", len(all), all)
	}
	methods := func(events []*pb.AuditEvent) string {
		var s []string
		for _, e := range events {
			s = append(s, e.GetMethod()[strings.LastIndex(e.GetMethod(), "/")+1:]+":"+e.GetRequestId()+e.GetPersonId()+e.GetInstitutionId())
		}
		return strings.Join(s, " ")
	}
	notFound := int32(codes.NotFound)
	ok := int32(codes.OK)
	for _, tc := range []struct {
		name string
		req  *pb.ListEventsRequest
		want string
	}{
		{"method", &pb.ListEventsRequest{Method: "/medsettle.v1.RegistryService/PutInstitution"}, "PutInstitution:H1 PutInstitution:H2"},
		{"institution", &pb.ListEventsRequest{InstitutionId: "H2"}, "PutInstitution:H2 Settle:f-2P2H2"},
		{"person", &pb.ListEventsRequest{PersonId: "P1"}, "PutPerson:P1 Settle:f-1P1H1"},
		{"request", &pb.ListEventsRequest{RequestId: "f-3"}, "Settle:f-3NOBODYH1"},
		{"code", &pb.ListEventsRequest{Code: &notFound}, "Settle:f-3NOBODYH1"},
		{"code OK and method", &pb.ListEventsRequest{Code: &ok, Method: "/medsettle.v1.SettlementService/Settle"}, "Settle:f-1P1H1 Settle:f-2P2H2"},
		{"time", &pb.ListEventsRequest{TimeFrom: "2026-06-01T10:00:00Z", TimeTo: "2026-06-01T12:00:00Z"},
			"PutInstitution:H2 PutPerson:P1 PutPerson:P2 PutPerson:P3"},
		{"time in another zone", &pb.ListEventsRequest{TimeFrom: "2026-06-01T20:00:00+08:00"}, "Settle:f-1P1H1 Settle:f-2P2H2 Settle:f-3NOBODYH1"},
		{"nothing", &pb.ListEventsRequest{PersonId: "P1", InstitutionId: "H2"}, ""},
	} {
		if got := methods(listEvents(t, c.conn, tc.req)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}

	// Pages of 4: 4, 4, 1, in append order, the last without a token.
	ctx, cancelA := as(adminToken)
	defer cancelA()
	cl := pb.NewAuditServiceClient(c.conn)
	var paged []*pb.AuditEvent
	var sizes []int
	req := &pb.ListEventsRequest{PageSize: 4}
	for {
		resp, err := cl.ListEvents(ctx, req)
		must(t, err)
		sizes = append(sizes, len(resp.GetEvents()))
		paged = append(paged, resp.GetEvents()...)
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	if !reflect.DeepEqual(sizes, []int{4, 4, 1}) || methods(paged) != methods(all) {
		t.Errorf("pages of %v: %s, want 4, 4, 1 of %s", sizes, methods(paged), methods(all))
	}
	// Exactly a page: no token to an empty page.
	resp, err := cl.ListEvents(ctx, &pb.ListEventsRequest{PageSize: 9})
	must(t, err)
	if len(resp.GetEvents()) != 9 || resp.GetNextPageToken() != "" {
		t.Errorf("page of 9 of 9: %d events, token %q", len(resp.GetEvents()), resp.GetNextPageToken())
	}
	for _, bad := range []*pb.ListEventsRequest{
		{PageSize: -1}, {PageToken: "not-a-token"}, {PageToken: "YTA"}, {TimeFrom: "yesterday"},
		{PersonId: strings.Repeat("p", store.MaxAuditString+1)},
	} {
		if _, err := cl.ListEvents(ctx, bad); status.Code(err) != codes.InvalidArgument {
			t.Errorf("ListEvents(%v): %v, want INVALID_ARGUMENT", bad, err)
		}
	}
	// Reading the log records nothing.
	if n := len(listEvents(t, c.conn, &pb.ListEventsRequest{})); n != 9 {
		t.Errorf("%d events after reading the log, want 9", n)
	}
}

// TestListEventsAdminOnly: every other role is PERMISSION_DENIED, and the
// refusal itself is not an event (ListEvents is a read).
func TestListEventsAdminOnly(t *testing.T) {
	c := auditServer(t, memstore.New(), testNow, discard)
	cl := pb.NewAuditServiceClient(c.conn)
	for _, tok := range []string{clearingToken, institutionToken("H1")} {
		ctx, cancel := as(tok)
		_, err := cl.ListEvents(ctx, &pb.ListEventsRequest{})
		cancel()
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("ListEvents as %s: %v, want PERMISSION_DENIED", tok, err)
		}
	}
	if got := listEvents(t, c.conn, &pb.ListEventsRequest{}); len(got) != 0 {
		t.Errorf("events: %v", got)
	}
}

// TestAuditLogCannotBeAlteredThroughTheAPI: AuditService has ListEvents
// and nothing else, the store contract of the log appends and lists only,
// and no RPC of any service removes or changes an event (every call
// leaves the earlier events as they were).
func TestAuditLogCannotBeAlteredThroughTheAPI(t *testing.T) {
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(pb.AuditService_ServiceDesc.ServiceName))
	must(t, err)
	sd := d.(protoreflect.ServiceDescriptor)
	if sd.Methods().Len() != 1 || sd.Methods().Get(0).Name() != "ListEvents" {
		t.Errorf("AuditService has %d methods; only ListEvents may be there", sd.Methods().Len())
	}
	at := reflect.TypeFor[store.AuditStore]()
	var ops []string
	for i := range at.NumMethod() {
		ops = append(ops, at.Method(i).Name)
	}
	if !reflect.DeepEqual(ops, []string{"AppendAudit", "AuditEvents"}) {
		t.Errorf("store.AuditStore has %v: the log has no update or delete", ops)
	}
	// Calls after an event leave it as it was.
	c := clearingServer(t, memKind)
	first := listEvents(t, c.conn, &pb.ListEventsRequest{})
	c.institution("H1", clearingRegion, 3, "")
	c.person("P1", clearingRegion, employee)
	c.putPolicy(clearingPolicy(clearingRegion, pb.Scheme_SCHEME_EMPLOYEE, true))
	after := listEvents(t, c.conn, &pb.ListEventsRequest{})
	if len(after) != len(first)+3 {
		t.Fatalf("%d events, want %d", len(after), len(first)+3)
	}
	for i := range first {
		if !reflect.DeepEqual(first[i].String(), after[i].String()) {
			t.Errorf("event %d changed: %v → %v", i, first[i], after[i])
		}
	}
}

// failingAudit is a store whose audit log cannot be appended to.
type failingAudit struct{ store.Store }

func (failingAudit) AppendAudit(context.Context, store.AuditEvent) (int64, error) {
	return 0, errors.New("audit table unreachable")
}

// syncBuffer is a bytes.Buffer for a logger written from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestAuditAppendFailureAnswersTheCall: when the event cannot be appended
// after the change committed, the call is answered as it went and the
// event is logged at ERROR level with its fields (DECISIONS.md).
func TestAuditAppendFailureAnswersTheCall(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	c := auditServer(t, failingAudit{memstore.New()}, testNow, log)
	c.putPolicy(clearingPolicy(clearingRegion, pb.Scheme_SCHEME_EMPLOYEE, true))
	c.institution("H1", clearingRegion, 3, "")
	c.person("P1", clearingRegion, employee)
	h1, cancel := as(institutionToken("H1"))
	defer cancel()
	resp, err := c.settlement.Settle(h1, claimOf("lost-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "0"))
	if err != nil {
		t.Fatalf("Settle with the audit log down: %v, want the settlement", err)
	}
	sid := resp.GetSettlement().GetSettlementId()
	out := buf.String()
	var line string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "AUDIT EVENT LOST") && strings.Contains(l, "lost-1") {
			line = l
		}
	}
	if line == "" || !strings.Contains(line, "level=ERROR") || !strings.Contains(line, sid) ||
		!strings.Contains(line, "audit table unreachable") || !strings.Contains(line, "caller_institution=H1") {
		t.Errorf("no ERROR line with the lost event of lost-1 (%s):\n%s", sid, out)
	}
	if strings.Contains(out, institutionToken("H1")) {
		t.Errorf("the log holds a token:\n%s", out)
	}
}

// TestAuditFieldsAreBounded: a request's ids are kept to
// store.MaxAuditString bytes, cut at a UTF-8 boundary; lists are not read.
func TestAuditFieldsAreBounded(t *testing.T) {
	long := strings.Repeat("医", 100) // 300 bytes
	ids := requestIDs(&pb.PutPersonRequest{Person: &pb.Person{PersonId: long, Region: "R"}})
	if len(ids[2]) > store.MaxAuditString || !utf8.ValidString(ids[2]) || !strings.HasPrefix(long, ids[2]) || len(ids[2]) < store.MaxAuditString-3 {
		t.Errorf("person id of %d bytes kept as %d bytes (valid UTF-8: %v)", len(long), len(ids[2]), utf8.ValidString(ids[2]))
	}
	if ids[4] != "R" {
		t.Errorf("region %q", ids[4])
	}
	// The ids of line items (a list) are not read; the request's own are.
	req := claimOf("r", "H", "P", inpatient, "2026-01-01", "G1", "1", "0")
	ids = requestIDs(req)
	if ids[0] != "r" || ids[2] != "P" || ids[3] != "H" {
		t.Errorf("settle request ids %v", ids)
	}
	if got := resultIDs(nil, &pb.SettleResponse{Settlement: &pb.Settlement{SettlementId: "ST1", RequestId: "r"}}); !reflect.DeepEqual(got, []string{"ST1"}) {
		t.Errorf("result ids %v", got)
	}
}

// TestAuditLogSurvivesRestart serves a PostgreSQL schema, makes calls,
// stops the server and serves the same schema from a new store: the
// events are there, and new ones follow them.
func TestAuditLogSurvivesRestart(t *testing.T) {
	url := pgtest.URL(t)
	schema := pgtest.Schema(t, url)
	open := func() store.Store {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := pgstore.Open(ctx, url, pgstore.Options{Schema: schema, Log: discard})
		must(t, err)
		return st
	}
	first := open()
	c := auditServer(t, first, testNow, discard)
	c.putPolicy(clearingPolicy(clearingRegion, pb.Scheme_SCHEME_EMPLOYEE, true))
	c.institution("H1", clearingRegion, 3, "")
	before := listEvents(t, c.conn, &pb.ListEventsRequest{})
	if len(before) != 2 {
		t.Fatalf("%d events before the restart, want 2", len(before))
	}
	first.(*pgstore.Store).Close()

	second := open()
	t.Cleanup(second.(*pgstore.Store).Close)
	c2 := auditServer(t, second, testNow, discard)
	c2.person("P1", clearingRegion, employee)
	after := listEvents(t, c2.conn, &pb.ListEventsRequest{})
	if len(after) != 3 {
		t.Fatalf("%d events after the restart, want 3", len(after))
	}
	for i := range before {
		if before[i].String() != after[i].String() {
			t.Errorf("event %d: %v before the restart, %v after", i, before[i], after[i])
		}
	}
	if after[2].GetMethod() != "/medsettle.v1.RegistryService/PutPerson" {
		t.Errorf("the new event: %v", after[2])
	}
}

// TestAuditRecordsPanics: a handler that panics is recorded INTERNAL, and
// the panic goes on to the recover interceptor.
func TestAuditRecordsPanics(t *testing.T) {
	st := memstore.New()
	a := newAuditor(st, discard, testNow)
	ctx := context.WithValue(context.Background(), principalKey{}, Principal{Role: RoleInstitution, Institution: "H1"})
	info := &grpc.UnaryServerInfo{FullMethod: "/medsettle.v1.SettlementService/Settle"}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the handler's panic", r)
			}
		}()
		_, _ = a.Unary(ctx, &pb.SettleRequest{RequestId: "pn-1"}, info, func(context.Context, any) (any, error) { panic("boom") })
	}()
	sinfo := &grpc.StreamServerInfo{FullMethod: "/medsettle.v1.RegistryService/ImportPersons", IsClientStream: true}
	func() {
		defer func() { _ = recover() }()
		_ = a.Stream(nil, panicStream{ctx: ctx}, sinfo, func(any, grpc.ServerStream) error { panic("boom") })
	}()
	events, err := st.AuditEvents(context.Background(), store.AuditFilter{})
	must(t, err)
	if len(events) != 2 || events[0].RequestID != "pn-1" || events[0].Code != int32(codes.Internal) || events[0].CallerInstitution != "H1" ||
		events[1].Method != sinfo.FullMethod || events[1].Code != int32(codes.Internal) {
		t.Errorf("events %+v, want Settle pn-1 and ImportPersons, INTERNAL", events)
	}
}

// panicStream is a server stream with a context and nothing else.
type panicStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s panicStream) Context() context.Context { return s.ctx }

// TestAuditSkipsCallsWithoutCredentials: a state-changing call refused
// for its credentials (none, or an unknown token) is not an event: it
// names no principal and changed nothing (DECISIONS.md).
func TestAuditSkipsCallsWithoutCredentials(t *testing.T) {
	c := auditServer(t, memstore.New(), testNow, discard)
	for _, tok := range []string{"", "not-a-token-at-all-xxxx"} {
		ctx, cancel := as(tok)
		_, err := c.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: &pb.Person{PersonId: "P1", Name: "x", Region: "R",
			Scheme: pb.Scheme_SCHEME_RESIDENT, AccountBalance: "0"}})
		cancel()
		if status.Code(err) != codes.Unauthenticated {
			t.Fatalf("PutPerson with token %q: %v", tok, err)
		}
	}
	if got := listEvents(t, c.conn, &pb.ListEventsRequest{}); len(got) != 0 {
		t.Errorf("events: %v", got)
	}
}
