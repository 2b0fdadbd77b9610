package api

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

func balanceOf(t *testing.T, ts *testServer, person string) string {
	t.Helper()
	ctx, cancel := as(adminToken)
	defer cancel()
	got, err := ts.registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: person})
	must(t, err)
	return got.GetPerson().GetAccountBalance()
}

// TestAdjustAccount: API.md "Registry": a credit and a debit; a retry
// answers the first answer; another body under the id is ALREADY_EXISTS; a
// debit above the balance is FAILED_PRECONDITION and changes nothing;
// exactly one of credit and debit, named in INVALID_ARGUMENT; admin only;
// an adjustment id and a settlement request id do not meet.
func TestAdjustAccount(t *testing.T) {
	ts := demoServer(t)
	admin, cancel := as(adminToken)
	defer cancel()
	credit := &pb.AdjustAccountRequest{RequestId: "ADJ-1", PersonId: "E1", Credit: "20.5", Reason: "correction of a transfer"}
	resp, err := ts.registry.AdjustAccount(admin, credit)
	must(t, err)
	if got := resp.GetPerson().GetAccountBalance(); got != "520.50" {
		t.Errorf("after a credit of 20.5: %s, want 520.50", got)
	}
	resp, err = ts.registry.AdjustAccount(admin, &pb.AdjustAccountRequest{RequestId: "ADJ-2", PersonId: "E1", Debit: "0.50", Reason: "fee"})
	must(t, err)
	if got := resp.GetPerson().GetAccountBalance(); got != "520.00" {
		t.Errorf("after a debit of 0.50: %s, want 520.00", got)
	}
	retry, err := ts.registry.AdjustAccount(admin, credit)
	must(t, err)
	if got := retry.GetPerson().GetAccountBalance(); got != "520.50" {
		t.Errorf("a retry answered %s, want the first answer 520.50", got)
	}
	if got := balanceOf(t, ts, "E1"); got != "520.00" {
		t.Errorf("balance after the retry %s, want 520.00", got)
	}
	_, err = ts.registry.AdjustAccount(admin, &pb.AdjustAccountRequest{RequestId: "ADJ-1", PersonId: "E1", Credit: "20.51", Reason: "correction of a transfer"})
	wantCode(t, err, codes.AlreadyExists)

	_, err = ts.registry.AdjustAccount(admin, &pb.AdjustAccountRequest{RequestId: "ADJ-3", PersonId: "E1", Debit: "520.01", Reason: "too much"})
	wantCode(t, err, codes.FailedPrecondition)
	if !strings.Contains(status.Convert(err).Message(), "balance") {
		t.Errorf("message %q does not say the balance is short", status.Convert(err).Message())
	}
	if got := balanceOf(t, ts, "E1"); got != "520.00" {
		t.Errorf("balance after a refused debit %s, want 520.00", got)
	}

	for _, c := range []struct {
		req  *pb.AdjustAccountRequest
		want []string
	}{
		{&pb.AdjustAccountRequest{RequestId: "B1", PersonId: "E1", Reason: "r"}, []string{"credit", "debit"}},
		{&pb.AdjustAccountRequest{RequestId: "B2", PersonId: "E1", Credit: "0.00", Debit: "0", Reason: "r"}, []string{"credit", "debit"}},
		{&pb.AdjustAccountRequest{RequestId: "B3", PersonId: "E1", Credit: "1", Debit: "1", Reason: "r"}, []string{"credit", "debit"}},
		{&pb.AdjustAccountRequest{RequestId: "B4", PersonId: "E1", Credit: "-1", Reason: "r"}, []string{"credit"}},
		{&pb.AdjustAccountRequest{PersonId: "E1", Credit: "1"}, []string{"reason", "request_id"}},
	} {
		_, err := ts.registry.AdjustAccount(admin, c.req)
		if got := fieldViolations(t, err); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%v: violations %v, want %v", c.req, got, c.want)
		}
	}
	_, err = ts.registry.AdjustAccount(admin, &pb.AdjustAccountRequest{RequestId: "ADJ-4", PersonId: "NOBODY", Credit: "1", Reason: "r"})
	wantCode(t, err, codes.NotFound)

	inst, cancel2 := as(institutionToken("QZ-H3"))
	defer cancel2()
	_, err = ts.registry.AdjustAccount(inst, &pb.AdjustAccountRequest{RequestId: "ADJ-5", PersonId: "E1", Credit: "1", Reason: "r"})
	wantCode(t, err, codes.PermissionDenied)

	// Namespaces: a settlement may use an adjustment's id, and the other
	// way round.
	_, err = ts.settlement.Settle(inst, claim("ADJ-1", "QZ-H3", "E2", "100.00"))
	must(t, err)
	_, err = ts.registry.AdjustAccount(admin, &pb.AdjustAccountRequest{RequestId: "SHARED", PersonId: "E3", Credit: "1", Reason: "r"})
	must(t, err)
	_, err = ts.settlement.Settle(inst, claim("SHARED", "QZ-H3", "E3", "100.00"))
	must(t, err)
}

// TestPutPersonKeepsTheLiveBalance: account_balance is an opening balance;
// PutPerson and ImportPersons of a registered person keep the live one and
// answer it.
func TestPutPersonKeepsTheLiveBalance(t *testing.T) {
	ts := demoServer(t)
	admin, cancel := as(adminToken)
	defer cancel()
	_, err := ts.registry.AdjustAccount(admin, &pb.AdjustAccountRequest{RequestId: "ADJ-1", PersonId: "E1", Debit: "100", Reason: "r"})
	must(t, err)
	resp, err := ts.registry.PutPerson(admin, &pb.PutPersonRequest{Person: &pb.Person{PersonId: "E1", Name: "renamed", Region: "350500",
		Scheme: pb.Scheme_SCHEME_EMPLOYEE, Employment: pb.Employment_EMPLOYMENT_EMPLOYED, ContributionYears: 9, AccountBalance: "500.00"}})
	must(t, err)
	if got := resp.GetPerson(); got.GetAccountBalance() != "400.00" || got.GetName() != "renamed" {
		t.Errorf("PutPerson answered %v, want the new name and the live balance 400.00", got)
	}
	stream, err := ts.registry.ImportPersons(admin)
	must(t, err)
	must(t, stream.Send(&pb.ImportPersonsRequest{Person: &pb.Person{PersonId: "E1", Name: "again", Region: "350500",
		Scheme: pb.Scheme_SCHEME_EMPLOYEE, AccountBalance: "999.00"}}))
	_, err = stream.CloseAndRecv()
	must(t, err)
	if got := balanceOf(t, ts, "E1"); got != "400.00" {
		t.Errorf("after a re-import: %s, want 400.00", got)
	}
}
