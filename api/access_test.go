package api

import (
	"context"
	"errors"
	"io"
	"sort"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
	"github.com/medsettle/medsettle/store/memstore"
)

// The callers of the access table: every role, the institution that owns
// what a call names (H1) and another one (H2), no token and a bad one.
const (
	callerAdmin    = "admin"
	callerClearing = "clearing"
	callerOwn      = "own institution"
	callerOther    = "other institution"
	callerNone     = "no token"
	callerBad      = "bad token"
)

var accessCallers = []string{callerAdmin, callerClearing, callerOwn, callerOther, callerNone, callerBad}

var callerTokens = map[string]string{
	callerAdmin: adminToken, callerClearing: clearingToken, callerOwn: institutionToken("H1"),
	callerOther: institutionToken("H2"), callerNone: "", callerBad: "not-a-token-at-all-xxxx",
}

// accessRule is how one RPC answers each caller: want lists the codes that
// are not OK (absent: OK); a call without valid credentials is always
// UNAUTHENTICATED.
type accessRule struct {
	call func(ctx context.Context) error
	want map[string]codes.Code
}

// rpcNames lists the full method names of every RPC of every service of
// protoPackage, from the generated file descriptors.
func rpcNames(t *testing.T) []string {
	t.Helper()
	var names []string
	protoregistry.GlobalFiles.RangeFilesByPackage(protoPackage, func(fd protoreflect.FileDescriptor) bool {
		for i := range fd.Services().Len() {
			sd := fd.Services().Get(i)
			for j := range sd.Methods().Len() {
				names = append(names, "/"+string(sd.FullName())+"/"+string(sd.Methods().Get(j).Name()))
			}
		}
		return true
	})
	if len(names) == 0 {
		t.Fatalf("no services registered for package %s", protoPackage)
	}
	sort.Strings(names)
	return names
}

// TestAccess calls every RPC of every medsettle service (enumerated from
// the proto descriptors: an RPC without a rule here fails the test) as
// every kind of caller, and checks who is let in. An institution is refused
// what names another institution (PERMISSION_DENIED), and cannot tell
// another institution's settlement from a missing one (NOT_FOUND).
func TestAccess(t *testing.T) {
	c := clearingServerOn(t, memstore.New())
	settled := drgExample(c)
	fin := drgRun("100000")
	fin.Final = true
	run := c.mustRun(fin)
	_, err := c.putContract(adminToken, capitationContract("K1", "H1"))
	must(t, err)
	// A resident whose policy has a contribution section, for ContributionService.
	must(t, grpcReplayer{c.testServer}.putPolicy(contributionPolicy(contributionRegion, seed003Section())))
	must(t, grpcReplayer{c.testServer}.putPerson(&pb.Person{PersonId: "ACC-R", Name: "x", Region: contributionRegion, Scheme: resident,
		Category: catMinimum, AccountBalance: "0"}))
	own := settled["c1"]      // H1's, read
	reversed := settled["c2"] // H1's, reversed
	if own.GetInstitutionId() != "H1" || reversed.GetInstitutionId() != "H1" {
		t.Fatalf("fixture: c1 and c2 are not H1's: %v, %v", own, reversed)
	}

	denied := func(callers ...string) map[string]codes.Code {
		m := map[string]codes.Code{}
		for _, c := range callers {
			m[c] = codes.PermissionDenied
		}
		return m
	}
	adminOnly := denied(callerClearing, callerOwn, callerOther)
	clearingOnly := denied(callerOwn, callerOther)
	institutionOnly := denied(callerClearing, callerOther)
	clear := pb.NewClearingServiceClient(c.conn)
	rules := map[string]accessRule{
		"/medsettle.v1.SettlementService/PreSettle": {func(ctx context.Context) error {
			_, err := c.settlement.PreSettle(ctx, claimOf("acc-pre", "H1", "P1", inpatient, "2026-05-01", "G1", "100", "0"))
			return err
		}, institutionOnly},
		// Admin settles first, then H1 retries the same request.
		"/medsettle.v1.SettlementService/Settle": {func(ctx context.Context) error {
			_, err := c.settlement.Settle(ctx, claimOf("acc-settle", "H1", "P1", inpatient, "2026-05-01", "G1", "100", "0"))
			return err
		}, institutionOnly},
		// Admin reverses, then H1 retries the same reversal.
		"/medsettle.v1.SettlementService/ReverseSettlement": {func(ctx context.Context) error {
			_, err := c.settlement.ReverseSettlement(ctx, &pb.ReverseSettlementRequest{RequestId: "acc-rv", SettlementId: reversed.GetSettlementId(), Reason: "test"})
			return err
		}, map[string]codes.Code{callerClearing: codes.PermissionDenied, callerOther: codes.PermissionDenied}},
		"/medsettle.v1.SettlementService/GetSettlement": {func(ctx context.Context) error {
			_, err := c.settlement.GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: own.GetSettlementId()})
			return err
		}, map[string]codes.Code{callerOther: codes.PermissionDenied}},
		"/medsettle.v1.SettlementService/GetAccumulators": {func(ctx context.Context) error {
			_, err := c.settlement.GetAccumulators(ctx, &pb.GetAccumulatorsRequest{PersonId: "P1", Year: 2026})
			return err
		}, nil},

		"/medsettle.v1.RegistryService/PutPerson": {func(ctx context.Context) error {
			_, err := c.registry.PutPerson(ctx, &pb.PutPersonRequest{Person: &pb.Person{PersonId: "ACC-P", Name: "x", Region: clearingRegion,
				Scheme: pb.Scheme_SCHEME_RESIDENT, AccountBalance: "0"}})
			return err
		}, adminOnly},
		"/medsettle.v1.RegistryService/GetPerson": {func(ctx context.Context) error {
			_, err := c.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "P1"})
			return err
		}, nil},
		"/medsettle.v1.RegistryService/ImportPersons": {func(ctx context.Context) error {
			stream, err := c.registry.ImportPersons(ctx)
			if err != nil {
				return err
			}
			p := &pb.Person{PersonId: "ACC-I", Name: "x", Region: clearingRegion, Scheme: pb.Scheme_SCHEME_RESIDENT, AccountBalance: "0"}
			if err := stream.Send(&pb.ImportPersonsRequest{Person: p}); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			_, err = stream.CloseAndRecv()
			return err
		}, adminOnly},
		"/medsettle.v1.RegistryService/PutInstitution": {func(ctx context.Context) error {
			_, err := c.registry.PutInstitution(ctx, &pb.PutInstitutionRequest{Institution: &pb.Institution{InstitutionId: "ACC-H", Name: "x",
				Region: clearingRegion, Level: 1}})
			return err
		}, adminOnly},
		"/medsettle.v1.RegistryService/GetInstitution": {func(ctx context.Context) error {
			_, err := c.registry.GetInstitution(ctx, &pb.GetInstitutionRequest{InstitutionId: "H1"})
			return err
		}, denied(callerOther)},
		"/medsettle.v1.RegistryService/PutCrossRegionFiling": {func(ctx context.Context) error {
			_, err := c.registry.PutCrossRegionFiling(ctx, &pb.PutCrossRegionFilingRequest{Filing: &pb.CrossRegionFiling{
				FilingId: "ACC-F", PersonId: "P1", Region: "R9", ValidFrom: "2026-01-01", ValidTo: "2026-12-31"}})
			return err
		}, adminOnly},
		"/medsettle.v1.RegistryService/AdjustAccount": {func(ctx context.Context) error {
			_, err := c.registry.AdjustAccount(ctx, &pb.AdjustAccountRequest{RequestId: "ACC-ADJ", PersonId: "P1", Credit: "1.00", Reason: "access"})
			return err
		}, adminOnly},
		"/medsettle.v1.RegistryService/ListCrossRegionFilings": {func(ctx context.Context) error {
			_, err := c.registry.ListCrossRegionFilings(ctx, &pb.ListCrossRegionFilingsRequest{PersonId: "P1"})
			return err
		}, nil},

		"/medsettle.v1.PolicyService/PutPolicy": {func(ctx context.Context) error {
			_, err := c.policy.PutPolicy(ctx, &pb.PutPolicyRequest{Policy: clearingPolicy("R9", pb.Scheme_SCHEME_EMPLOYEE, false)})
			return err
		}, adminOnly},
		"/medsettle.v1.PolicyService/GetPolicy": {func(ctx context.Context) error {
			_, err := c.policy.GetPolicy(ctx, &pb.GetPolicyRequest{Region: clearingRegion, Scheme: pb.Scheme_SCHEME_EMPLOYEE})
			return err
		}, nil},
		"/medsettle.v1.PolicyService/ListPolicies": {func(ctx context.Context) error {
			_, err := c.policy.ListPolicies(ctx, &pb.ListPoliciesRequest{})
			return err
		}, nil},

		"/medsettle.v1.ClearingService/RunClearing": {func(ctx context.Context) error {
			_, err := readRun(ctx, clear, drgRun("100000"))
			return err
		}, clearingOnly},
		"/medsettle.v1.ClearingService/GetStatement": {func(ctx context.Context) error {
			_, err := clear.GetStatement(ctx, &pb.GetStatementRequest{RunId: run.GetRunId(), InstitutionId: "H1"})
			return err
		}, denied(callerOther)},
		"/medsettle.v1.ClearingService/Reconcile": {func(ctx context.Context) error {
			_, err := clear.Reconcile(ctx, &pb.ReconcileRequest{InstitutionId: "H1", PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31",
				Total: "0", FundTotal: "0", Account: "0"})
			return err
		}, denied(callerOther)},
		"/medsettle.v1.ClearingService/PutCapitationContract": {func(ctx context.Context) error {
			_, err := clear.PutCapitationContract(ctx, &pb.PutCapitationContractRequest{Contract: capitationContract("K1", "H1")})
			return err
		}, clearingOnly},
		"/medsettle.v1.ClearingService/GetCapitationContract": {func(ctx context.Context) error {
			_, err := clear.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: "K1"})
			return err
		}, clearingOnly},
		"/medsettle.v1.ClearingService/EnrollMembers": {func(ctx context.Context) error {
			stream, err := clear.EnrollMembers(ctx)
			if err != nil {
				return err
			}
			if err := stream.Send(&pb.EnrollMembersRequest{ContractId: "K1", PersonId: "P1"}); err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			_, err = stream.CloseAndRecv()
			return err
		}, clearingOnly},

		"/medsettle.v1.ContributionService/Quote": {func(ctx context.Context) error {
			_, err := pb.NewContributionServiceClient(c.conn).Quote(ctx, &pb.QuoteRequest{PersonId: "ACC-R", Year: 2026})
			return err
		}, clearingOnly},
		"/medsettle.v1.ContributionService/ExportPlan": {func(ctx context.Context) error {
			_, err := readPlan(ctx, pb.NewContributionServiceClient(c.conn), &pb.ExportPlanRequest{Region: contributionRegion, Scheme: resident, Year: 2026})
			return err
		}, clearingOnly},

		"/medsettle.v1.AuditService/ListEvents": {func(ctx context.Context) error {
			_, err := pb.NewAuditServiceClient(c.conn).ListEvents(ctx, &pb.ListEventsRequest{})
			return err
		}, adminOnly},
	}

	names := rpcNames(t)
	for _, name := range names {
		if _, ok := rules[name]; !ok {
			t.Errorf("%s has no access rule in TestAccess: add one (who may call it, who may not)", name)
		}
	}
	for name := range rules {
		if i := sort.SearchStrings(names, name); i == len(names) || names[i] != name {
			t.Errorf("TestAccess has a rule for %s, which no service of %s declares", name, protoPackage)
		}
	}
	for _, name := range names {
		rule, ok := rules[name]
		if !ok {
			continue
		}
		for _, caller := range accessCallers {
			want, ok := rule.want[caller]
			if !ok {
				want = codes.OK
			}
			if caller == callerNone || caller == callerBad {
				want = codes.Unauthenticated
			}
			ctx, cancel := as(callerTokens[caller])
			err := rule.call(ctx)
			cancel()
			if got := status.Code(err); got != want {
				t.Errorf("%s as %s: %v, want %v", name, caller, err, want)
			}
		}
	}
}

// TestForeignSettlementNamesNoOwner checks what an institution learns of
// another institution's settlement from GetSettlement and
// ReverseSettlement: PERMISSION_DENIED (API.md's errors and the public
// vector p1-idempotency-reversal-account), a message that does not name
// the institution that made it, and nothing changed; a missing id is
// NOT_FOUND.
func TestForeignSettlementNamesNoOwner(t *testing.T) {
	for _, kind := range storeKinds {
		t.Run(string(kind), func(t *testing.T) {
			c := clearingServerOn(t, newStore(t, kind))
			c.institution("H1", clearingRegion, 3, "")
			c.institution("H2", clearingRegion, 2, "")
			c.person("P1", clearingRegion, employee)
			foreign := c.settle(claimOf("lk-1", "H1", "P1", inpatient, "2026-02-01", "G1", "100", "0")).GetSettlementId()
			missing := foreign[:len(foreign)-1] + "x"
			if strings.HasSuffix(foreign, "x") {
				missing = foreign[:len(foreign)-1] + "y"
			}
			h2, cancel := as(institutionToken("H2"))
			defer cancel()
			calls := map[string]func(id string) error{
				"GetSettlement": func(id string) error {
					_, err := c.settlement.GetSettlement(h2, &pb.GetSettlementRequest{SettlementId: id})
					return err
				},
				"ReverseSettlement": func(id string) error {
					_, err := c.settlement.ReverseSettlement(h2, &pb.ReverseSettlementRequest{RequestId: "lk-rv", SettlementId: id, Reason: "x"})
					return err
				},
			}
			for name, call := range calls {
				a, b := status.Convert(call(foreign)), status.Convert(call(missing))
				if a.Code() != codes.PermissionDenied || b.Code() != codes.NotFound {
					t.Errorf("%s: foreign %v, missing %v; want PERMISSION_DENIED and NOT_FOUND", name, a, b)
				}
				if strings.Contains(a.Message(), "H1") || strings.Contains(a.Message(), "H2") {
					t.Errorf("%s: the answer names an institution: %q", name, a.Message())
				}
			}
			admin, cancelAdmin := as(adminToken)
			defer cancelAdmin()
			got, err := c.settlement.GetSettlement(admin, &pb.GetSettlementRequest{SettlementId: foreign})
			must(t, err)
			if got.GetSettlement().GetState() != pb.SettlementState_SETTLEMENT_STATE_SETTLED {
				t.Errorf("a refused reversal changed the settlement: %v", got.GetSettlement().GetState())
			}
			// The owner still reads and reverses it.
			h1, cancel1 := as(institutionToken("H1"))
			defer cancel1()
			_, err = c.settlement.GetSettlement(h1, &pb.GetSettlementRequest{SettlementId: foreign})
			must(t, err)
			_, err = c.settlement.ReverseSettlement(h1, &pb.ReverseSettlementRequest{RequestId: "lk-rv", SettlementId: foreign, Reason: "x"})
			must(t, err)
		})
	}
}

// TestAccessHeaders checks the credentials' framing: the bearer scheme is
// case-insensitive, and health checks need no credentials.
func TestAccessHeaders(t *testing.T) {
	ts := demoServer(t)
	lower, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	lower = metadata.AppendToOutgoingContext(lower, "authorization", "bearer "+institutionToken("QZ-H3"))
	_, err := ts.registry.GetPerson(lower, &pb.GetPersonRequest{PersonId: "E1"})
	must(t, err)
	none, cancel2 := as("")
	defer cancel2()
	hr, err := healthpb.NewHealthClient(ts.conn).Check(none, &healthpb.HealthCheckRequest{})
	must(t, err)
	if hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health %v", hr.GetStatus())
	}
	// Policies are public to every role; a scheme that does not exist is
	// a bad argument, not an empty list.
	h3, cancel3 := as(institutionToken("QZ-H3"))
	defer cancel3()
	_, err = ts.policy.ListPolicies(h3, &pb.ListPoliciesRequest{Scheme: 9})
	if got := fieldViolations(t, err); strings.Join(got, ",") != "scheme" {
		t.Errorf("ListPolicies with scheme 9: violations %v, want [scheme]", got)
	}
}
