package api

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/memstore"
)

// localServer serves a memstore over gRPC (the clearing test roles) and
// returns the server's Local beside it.
func localServer(t *testing.T, now func() time.Time) (*clearingTS, *Local) {
	t.Helper()
	roles := map[string]string{adminToken: "admin", clearingToken: "clearing"}
	for _, id := range []string{"H1", "H2"} {
		roles[institutionToken(id)] = "institution:" + id
	}
	tokens, err := NewTokens(roles)
	must(t, err)
	st := memstore.New()
	srv, _, local := NewServerWithLocal(Config{Store: st, Tokens: tokens, Log: discard, Now: now})
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
	c := &clearingTS{testServer: ts, t: t, clearing: pb.NewClearingServiceClient(conn)}
	c.putPolicy(clearingPolicy(clearingRegion, pb.Scheme_SCHEME_EMPLOYEE, true))
	c.institution("H1", clearingRegion, 3, "")
	c.institution("H2", clearingRegion, 3, "")
	c.person("P1", clearingRegion, employee)
	return c, local
}

func localAs(inst string) context.Context {
	return WithPrincipal(context.Background(), Principal{Role: RoleInstitution, Institution: inst})
}

// TestLocalAnswersAsGRPC: a PreSettle through Local answers exactly what
// the same request answers over gRPC, and a Settle through Local is
// recorded in the audit log as a gRPC Settle of that institution is.
func TestLocalAnswersAsGRPC(t *testing.T) {
	at := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	c, local := localServer(t, func() time.Time { return at })
	req := claimOf("loc-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "20")
	h1, cancel := as(institutionToken("H1"))
	defer cancel()
	viaGRPC, err := c.settlement.PreSettle(h1, req)
	must(t, err)
	viaLocal, err := local.PreSettle(localAs("H1"), req)
	must(t, err)
	if !proto.Equal(viaGRPC, viaLocal) {
		t.Fatalf("PreSettle through Local %v, over gRPC %v", viaLocal, viaGRPC)
	}
	before := len(listEvents(t, c.conn, &pb.ListEventsRequest{}))
	s, err := local.Settle(localAs("H1"), req)
	must(t, err)
	id := s.GetSettlement().GetSettlementId()
	events := listEvents(t, c.conn, &pb.ListEventsRequest{})
	if len(events) != before+1 {
		t.Fatalf("%d events after a local Settle, want %d", len(events), before+1)
	}
	e := events[len(events)-1]
	want := &pb.AuditEvent{EventId: e.GetEventId(), Time: "2027-01-02T03:04:05Z", Role: "institution", CallerInstitutionId: "H1",
		Method: "/medsettle.v1.SettlementService/Settle", RequestId: "loc-1", PersonId: "P1", InstitutionId: "H1",
		Code: 0, ResultIds: []string{id}}
	if !proto.Equal(e, want) {
		t.Fatalf("event %v, want %v", e, want)
	}
	// The same settlement read over gRPC.
	got, err := c.settlement.GetSettlement(h1, &pb.GetSettlementRequest{SettlementId: id})
	must(t, err)
	got.GetSettlement().Items = nil // Settle does not echo the items
	if !proto.Equal(got.GetSettlement(), s.GetSettlement()) {
		t.Fatalf("GetSettlement %v, Settle answered %v", got.GetSettlement(), s.GetSettlement())
	}
}

// TestLocalAccess: a Local call has exactly its principal's rights, and
// none without one; every error is a gRPC status error.
func TestLocalAccess(t *testing.T) {
	c, local := localServer(t, testNow)
	req := claimOf("acc-1", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "0")
	s, err := local.Settle(localAs("H1"), req)
	must(t, err)
	id := s.GetSettlement().GetSettlementId()
	before := len(listEvents(t, c.conn, &pb.ListEventsRequest{}))

	// Another institution may not read H1's settlement,
	_, err = local.GetSettlement(localAs("H2"), &pb.GetSettlementRequest{SettlementId: id})
	if st, ok := status.FromError(err); !ok || st.Code() != codes.PermissionDenied {
		t.Fatalf("H2 reading H1's settlement: %v, want a PERMISSION_DENIED status", err)
	}
	// nor reverse it, nor settle in H1's name.
	_, err = local.ReverseSettlement(localAs("H2"), &pb.ReverseSettlementRequest{RequestId: "rev-1", SettlementId: id})
	if st, ok := status.FromError(err); !ok || st.Code() != codes.PermissionDenied {
		t.Fatalf("H2 reversing H1's settlement: %v, want a PERMISSION_DENIED status", err)
	}
	_, err = local.Settle(localAs("H2"), claimOf("acc-2", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "0"))
	if st, ok := status.FromError(err); !ok || st.Code() != codes.PermissionDenied {
		t.Fatalf("H2 settling as H1: %v, want a PERMISSION_DENIED status", err)
	}
	// Without a principal: refused as a call without credentials.
	_, err = local.GetPerson(context.Background(), &pb.GetPersonRequest{PersonId: "P1"})
	if st, ok := status.FromError(err); !ok || st.Code() != codes.Unauthenticated {
		t.Fatalf("GetPerson without a principal: %v, want an UNAUTHENTICATED status", err)
	}
	// Invalid input: INVALID_ARGUMENT with the field violations.
	bad := claimOf("acc-3", "H1", "P1", inpatient, "2026-03-01", "G1", "100", "0")
	bad.Items[0].Amount = "99"
	_, err = local.PreSettle(localAs("H1"), bad)
	st, _ := status.FromError(err)
	if st.Code() != codes.InvalidArgument {
		t.Fatalf("PreSettle of a wrong amount: %v", err)
	}
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	if len(fields) != 1 || fields[0] != "items[0].amount" {
		t.Fatalf("violations %q, want [items[0].amount]", fields)
	}
	// The refused state-changing calls were recorded, as over gRPC.
	events := listEvents(t, c.conn, &pb.ListEventsRequest{})
	var codesSeen []codes.Code
	for _, e := range events[before:] {
		codesSeen = append(codesSeen, codes.Code(e.GetCode()))
	}
	if len(codesSeen) != 2 || codesSeen[0] != codes.PermissionDenied || codesSeen[1] != codes.PermissionDenied {
		t.Fatalf("events after the refusals: codes %v, want [PermissionDenied PermissionDenied]", codesSeen)
	}
	// The settlement is untouched.
	got, err := local.GetSettlement(localAs("H1"), &pb.GetSettlementRequest{SettlementId: id})
	must(t, err)
	got.GetSettlement().Items = nil // Settle does not echo the items
	if !proto.Equal(got.GetSettlement(), s.GetSettlement()) {
		t.Fatalf("after the refusals %v, want %v", got.GetSettlement(), s.GetSettlement())
	}
}

// TestLocalMessageLimits: a Local request is checked against its type's
// limits as a gRPC message is, before it is decoded.
func TestLocalMessageLimits(t *testing.T) {
	_, local := localServer(t, testNow)
	long := make([]byte, 10000)
	for i := range long {
		long[i] = 'x'
	}
	_, err := local.GetPerson(localAs("H1"), &pb.GetPersonRequest{PersonId: string(long)})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("GetPerson of a 10,000-byte id: %v, want INVALID_ARGUMENT", err)
	}
}
