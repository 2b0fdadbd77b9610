package api

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestClearingRunErrors: every malformed RunClearing is INVALID_ARGUMENT
// naming every bad field at once; unknown regions and contracts are
// NOT_FOUND; a policy missing, or without the section the kind needs, is
// FAILED_PRECONDITION.
func TestClearingRunErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "")
		c.person("M1", clearingRegion, employee)
		_, err := c.putContract(clearingToken, capitationContract("K1", "H1"))
		must(t, err)

		const (
			drg  = pb.ClearingKind_CLEARING_KIND_DRG
			bud  = pb.ClearingKind_CLEARING_KIND_BUDGET
			capk = pb.ClearingKind_CLEARING_KIND_CAPITATION
		)
		for _, tc := range []struct {
			name   string
			req    *pb.RunClearingRequest
			fields []string
		}{
			{"no kind", &pb.RunClearingRequest{Region: clearingRegion, Scheme: employee, Year: 2026, Budget: "1"}, []string{"kind"}},
			{"unknown kind", &pb.RunClearingRequest{Kind: 9}, []string{"kind"}},
			{"empty DRG", &pb.RunClearingRequest{Kind: drg}, []string{"budget", "region", "scheme", "year"}},
			{"zero budget", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: employee, Year: 2026, Budget: "0"}, []string{"budget"}},
			{"negative budget", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: employee, Year: 2026, Budget: "-5"}, []string{"budget"}},
			{"budget in mills", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: employee, Year: 2026, Budget: "10.001"}, []string{"budget"}},
			{"bad year and dates", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: 7, Year: 26, Budget: "1", PeriodFrom: "2026-02-30"},
				[]string{"period_from", "scheme", "year"}},
			{"period outside the year", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: employee, Year: 2026, Budget: "1",
				PeriodFrom: "2025-12-01", PeriodTo: "2027-01-31"}, []string{"period_from", "period_to"}},
			{"reversed period", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: employee, Year: 2026, Budget: "1",
				PeriodFrom: "2026-06-01", PeriodTo: "2026-05-31"}, []string{"period_to"}},
			{"everything at once", &pb.RunClearingRequest{Kind: drg, Budget: "0", PeriodTo: "2026-1-1", ContractId: "K1"},
				[]string{"budget", "contract_id", "period_to", "region", "scheme", "year"}},
			{"narrow BUDGET", &pb.RunClearingRequest{Kind: bud, Region: clearingRegion, Scheme: employee, Year: 2026, PeriodFrom: "2026-02-01", PeriodTo: "2026-06-30"},
				[]string{"period_from", "period_to"}},
			{"BUDGET with a budget", &pb.RunClearingRequest{Kind: bud, Region: clearingRegion, Scheme: employee, Year: 2026, Budget: "10"}, []string{"budget"}},
			{"CAPITATION without contract", &pb.RunClearingRequest{Kind: capk}, []string{"contract_id"}},
			{"CAPITATION of another year", &pb.RunClearingRequest{Kind: capk, ContractId: "K1", Year: 2025}, []string{"year"}},
			{"CAPITATION of another region and scheme", &pb.RunClearingRequest{Kind: capk, ContractId: "K1", Region: "R9", Scheme: resident}, []string{"region", "scheme"}},
			{"narrow CAPITATION", &pb.RunClearingRequest{Kind: capk, ContractId: "K1", PeriodTo: "2026-06-30"}, []string{"period_to"}},
			{"unknown contract and bad period", &pb.RunClearingRequest{Kind: capk, ContractId: "NOPE", PeriodFrom: "yesterday"}, []string{"period_from"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := c.run(clearingToken, tc.req)
				wantFields(t, err, tc.fields...)
			})
		}

		for _, tc := range []struct {
			name string
			req  *pb.RunClearingRequest
			code codes.Code
		}{
			{"unknown region", &pb.RunClearingRequest{Kind: drg, Region: "NOWHERE", Scheme: employee, Year: 2026, Budget: "1"}, codes.NotFound},
			{"unknown region, BUDGET", &pb.RunClearingRequest{Kind: bud, Region: "NOWHERE", Scheme: employee, Year: 2026}, codes.NotFound},
			{"unknown contract", &pb.RunClearingRequest{Kind: capk, ContractId: "NOPE"}, codes.NotFound},
			{"no policy on period_to", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: employee, Year: 2027, Budget: "1"}, codes.FailedPrecondition},
			{"policy without drg", &pb.RunClearingRequest{Kind: drg, Region: clearingRegion, Scheme: resident, Year: 2026, Budget: "1"}, codes.FailedPrecondition},
			{"policy without budget_clearing", &pb.RunClearingRequest{Kind: bud, Region: clearingRegion, Scheme: resident, Year: 2026}, codes.FailedPrecondition},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := c.run(clearingToken, tc.req)
				wantCode(t, err, tc.code)
			})
		}
	})
}

// TestCapitationContractErrors: contracts are validated with every problem
// listed; an unknown lead institution is NOT_FOUND; a contract with
// members keeps its region, scheme and year (FAILED_PRECONDITION).
func TestCapitationContractErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "")
		c.person("M1", clearingRegion, employee)

		bad := capitationContract("K1", "H1")
		bad.Shares[2].Share = "0.1"                                                         // 0.4 + 0.4 + 0.1 ≠ 1
		bad.Shares = append(bad.Shares, &pb.CapitationShare{Party: "county", Share: "0.1"}) // twice; now they add up to 1 again
		bad.Components[1].VisitTypes = append(bad.Components[1].VisitTypes, inpatient)      // in two components
		bad.Components[0].Rate = "12.345"
		bad.OverspendShare = "1.5"
		_, err := c.putContract(clearingToken, bad)
		wantFields(t, err, "contract.components[0].rate", "contract.components[1].visit_types[1]", "contract.overspend_share", "contract.shares[3].party")

		bad = capitationContract("K1", "H1")
		bad.Shares[2].Share = "0.1"
		bad.Year = 0
		bad.Scheme = pb.Scheme_SCHEME_UNSPECIFIED
		_, err = c.putContract(clearingToken, bad)
		wantFields(t, err, "contract.scheme", "contract.shares", "contract.year")

		_, err = c.putContract(clearingToken, nil)
		wantFields(t, err, "contract")

		_, err = c.putContract(clearingToken, capitationContract("K1", "NO-SUCH-HOSPITAL"))
		wantCode(t, err, codes.NotFound)

		_, err = c.putContract(clearingToken, capitationContract("K1", "H1"))
		must(t, err)
		ctx, cancel := as(clearingToken)
		defer cancel()
		_, err = c.clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: "NOPE"})
		wantCode(t, err, codes.NotFound)
		_, err = c.clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{})
		wantFields(t, err, "contract_id")

		// Without members the year may change; with members it may not,
		// but the rates may.
		moved := capitationContract("K1", "H1")
		moved.Year = 2027
		_, err = c.putContract(clearingToken, moved)
		must(t, err)
		_, err = c.putContract(clearingToken, capitationContract("K1", "H1"))
		must(t, err)
		_, err = c.enroll(clearingToken, [2]string{"K1", "M1"})
		must(t, err)
		_, err = c.putContract(clearingToken, moved)
		wantCode(t, err, codes.FailedPrecondition)
		cheaper := capitationContract("K1", "H1")
		cheaper.Components[0].Rate = "3500.50"
		got, err := c.putContract(clearingToken, cheaper)
		must(t, err)
		if got.GetMembers() != 1 || got.GetComponents()[0].GetRate() != "3500.50" {
			t.Errorf("re-put contract %v: want 1 member kept and rate 3500.50", got)
		}
	})
}

// TestEnrollMembers: bad messages and persons the store refuses are
// counted rejections with their index and reason; a second contract in
// one call, or an unknown contract, fails the call and enrols nothing.
func TestEnrollMembers(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		c.institution("H1", clearingRegion, 3, "")
		c.institution("H2", clearingRegion, 2, "")
		for _, p := range []string{"M1", "M2", "M3", "M4"} {
			c.person(p, clearingRegion, employee)
		}
		c.person("Z1", "R2", employee)
		c.person("Q1", clearingRegion, resident)
		_, err := c.putContract(clearingToken, capitationContract("K1", "H1"))
		must(t, err)
		_, err = c.putContract(clearingToken, capitationContract("K2", "H2"))
		must(t, err)

		resp, err := c.enroll(adminToken,
			[2]string{"K1", "M1"},
			[2]string{"K1", "M2"},
			[2]string{"K1", ""},               // 2: no person id
			[2]string{"", "M3"},               // 3: no contract id
			[2]string{"K1", "NO-SUCH-PERSON"}, // 4: unknown person
			[2]string{"K1", "Z1"},             // 5: another region
			[2]string{"K1", "Q1"},             // 6: another scheme
			[2]string{"K1", "M1"},             // a repeat: enrolled again, changes nothing
			[2]string{"K1", "M3"},
		)
		must(t, err)
		if resp.GetEnrolled() != 4 || resp.GetRejected() != 5 || len(resp.GetRejections()) != 5 {
			t.Fatalf("enrolment %v: want 4 enrolled, 5 rejected", resp)
		}
		for i, want := range []int64{2, 3, 4, 5, 6} {
			r := resp.GetRejections()[i]
			if r.GetIndex() != want || r.GetReason() == "" {
				t.Errorf("rejection %d: %v, want index %d with a reason", i, r, want)
			}
		}
		members := func(id string) int64 {
			ctx, cancel := as(clearingToken)
			defer cancel()
			got, err := c.clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: id})
			must(t, err)
			return got.GetContract().GetMembers()
		}
		if n := members("K1"); n != 3 {
			t.Errorf("K1 has %d members, want M1, M2, M3", n)
		}
		// In another contract that year: a counted rejection.
		resp, err = c.enroll(clearingToken, [2]string{"K2", "M1"}, [2]string{"K2", "M4"})
		must(t, err)
		if resp.GetEnrolled() != 1 || resp.GetRejected() != 1 || resp.GetRejections()[0].GetPersonId() != "M1" ||
			resp.GetRejections()[0].GetIndex() != 0 || resp.GetRejections()[0].GetContractId() != "K2" {
			t.Errorf("enrolment of a member of K1 in K2: %v", resp)
		}
		// Two contracts in one call: refused whole.
		c.person("M5", clearingRegion, employee)
		_, err = c.enroll(clearingToken, [2]string{"K1", "M5"}, [2]string{"K2", "M5"})
		wantFields(t, err, "contract_id")
		if n := members("K1"); n != 3 {
			t.Errorf("a refused call enrolled: K1 has %d members", n)
		}
		_, err = c.enroll(clearingToken, [2]string{"NO-SUCH-CONTRACT", "M5"})
		wantCode(t, err, codes.NotFound)
		// An empty stream enrols nothing and succeeds.
		resp, err = c.enroll(clearingToken)
		must(t, err)
		if resp.GetEnrolled() != 0 || resp.GetRejected() != 0 {
			t.Errorf("empty enrolment %v", resp)
		}
	})
}

// TestClearingAccess checks every ClearingService RPC for every role:
// clearing and admin do everything; an institution only reads its own
// statement and reconciles its own figures; no token is UNAUTHENTICATED.
func TestClearingAccess(t *testing.T) {
	forEachStore(t, func(t *testing.T, c *clearingTS) {
		drgExample(c)
		// A final run: the drafts the RunClearing calls below make do not replace it.
		fin := drgRun("100000")
		fin.Final = true
		s := c.mustRun(fin)
		_, err := c.putContract(adminToken, capitationContract("K1", "H1"))
		must(t, err)

		type call func(token string) error
		runCall := func(token string) error { _, err := c.run(token, drgRun("100000")); return err }
		stmt := func(inst string) call {
			return func(token string) error {
				_, err := c.statement(token, &pb.GetStatementRequest{RunId: s.GetRunId(), InstitutionId: inst})
				return err
			}
		}
		reconcile := func(inst string) call {
			return func(token string) error {
				_, err := c.reconcile(token, &pb.ReconcileRequest{InstitutionId: inst, PeriodFrom: "2026-01-01", PeriodTo: "2026-12-31",
					Total: "0", FundTotal: "0", Account: "0"})
				return err
			}
		}
		put := func(token string) error { _, err := c.putContract(token, capitationContract("K1", "H1")); return err }
		get := func(token string) error {
			ctx, cancel := as(token)
			defer cancel()
			_, err := c.clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: "K1"})
			return err
		}
		enroll := func(token string) error { _, err := c.enroll(token, [2]string{"K1", "P1"}); return err }

		h1, h2 := institutionToken("H1"), institutionToken("H2")
		for _, tc := range []struct {
			name string
			f    call
			want map[string]codes.Code // by token; absent: OK
		}{
			{"RunClearing", runCall, map[string]codes.Code{h1: codes.PermissionDenied, h2: codes.PermissionDenied}},
			{"GetStatement H1", stmt("H1"), map[string]codes.Code{h2: codes.PermissionDenied}},
			{"GetStatement H2", stmt("H2"), map[string]codes.Code{h1: codes.PermissionDenied}},
			// Access is decided before anything is looked up: an unknown
			// institution's statement is another institution's.
			{"GetStatement X", stmt("NO-SUCH-HOSPITAL"), map[string]codes.Code{h1: codes.PermissionDenied, h2: codes.PermissionDenied,
				adminToken: codes.NotFound, clearingToken: codes.NotFound}},
			{"Reconcile H1", reconcile("H1"), map[string]codes.Code{h2: codes.PermissionDenied}},
			{"Reconcile H2", reconcile("H2"), map[string]codes.Code{h1: codes.PermissionDenied}},
			{"PutCapitationContract", put, map[string]codes.Code{h1: codes.PermissionDenied, h2: codes.PermissionDenied}},
			{"GetCapitationContract", get, map[string]codes.Code{h1: codes.PermissionDenied, h2: codes.PermissionDenied}},
			{"EnrollMembers", enroll, map[string]codes.Code{h1: codes.PermissionDenied, h2: codes.PermissionDenied}},
		} {
			for _, token := range []string{adminToken, clearingToken, h1, h2, "", "not-a-token-at-all-xxxx"} {
				want := tc.want[token]
				if token == "" || strings.HasPrefix(token, "not-a-token") {
					want = codes.Unauthenticated
				}
				err := tc.f(token)
				if got := status.Code(err); got != want {
					t.Errorf("%s as %q: %v, want %v", tc.name, token, err, want)
				}
			}
		}
	})
}
