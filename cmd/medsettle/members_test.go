package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestMembersImport enrols a members CSV in a contract: the rejected rows
// are reported with their line numbers and reasons and the import fails;
// the good ones are enrolled, also when the file goes in several calls.
func TestMembersImport(t *testing.T) {
	const token = "members-import-admin-token"
	addr := startDemoServer(t, `{"tokens": [{"token": "`+token+`", "role": "clearing"}]}`)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	clearing := pb.NewClearingServiceClient(conn)
	contract := func(id string) {
		_, err := clearing.PutCapitationContract(ctx, &pb.PutCapitationContractRequest{Contract: &pb.CapitationContract{
			ContractId: id, InstitutionId: "BJ-H2", Region: "610300", Scheme: pb.Scheme_SCHEME_RESIDENT, Year: 2026,
			Components:     []*pb.CapitationComponent{{Name: "care", Rate: "3700", VisitTypes: []pb.VisitType{pb.VisitType_VISIT_TYPE_INPATIENT}}},
			Shares:         []*pb.CapitationShare{{Party: "county", Share: "1"}},
			OverspendShare: "0.5", OverspendTolerance: "0.1",
		}})
		must(t, err)
	}
	contract("T-2026")

	dir := t.TempDir()
	path := filepath.Join(dir, "members.csv")
	must(t, os.WriteFile(path, []byte(strings.Join([]string{
		"person_id",
		"N1",
		"E1",     // an employee of 350500: not of the contract's region and scheme
		"K1,x",   // two fields
		"NOBODY", // not registered
		"T1",
		"",
	}, "\n")), 0o600))
	var out, errOut bytes.Buffer
	err = runImport(context.Background(), []string{"members", path, "--contract", "T-2026", "--addr", addr, "--token", token}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "3 of 5 rows rejected") {
		t.Fatalf("import members: %v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{"members: 5 rows read, 2 imported, 3 rejected", "rejected line 3 (E1): ", "rejected line 4 (K1): has more than one field",
		"rejected line 5 (NOBODY): "} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(errOut.String(), "importing members [") {
		t.Errorf("no progress: %q", errOut.String())
	}
	got, err := clearing.GetCapitationContract(ctx, &pb.GetCapitationContractRequest{ContractId: "T-2026"})
	must(t, err)
	if got.GetContract().GetMembers() != 2 {
		t.Errorf("T-2026 has %d members, want 2 (N1, T1)", got.GetContract().GetMembers())
	}

	// The same persons in several calls of two: line numbers still right,
	// members enrolled before count again and change nothing.
	contract("U-2026")
	rd := csv.NewReader(strings.NewReader("person_id\nM1\nL1\nN1\nSX01\nK1\n"))
	rd.FieldsPerRecord = -1
	rep := newImportReport("members", 5, &errOut)
	must(t, importMembers(ctx, clearing, "U-2026", rd, rep, 2))
	out.Reset()
	rep.finish(&out)
	if !strings.Contains(out.String(), "5 rows read, 3 imported, 2 rejected") || !strings.Contains(out.String(), "line 4 (N1)") ||
		!strings.Contains(out.String(), "line 5 (SX01)") {
		t.Errorf("split import:\n%s", out.String())
	}

	// Flags: --contract is required for members and refused for others.
	if err := runImport(context.Background(), []string{"members", path, "--addr", addr}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "--contract") {
		t.Errorf("members without --contract: %v", err)
	}
	if err := runImport(context.Background(), []string{"persons", path, "--contract", "X", "--addr", addr}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "members only") {
		t.Errorf("persons with --contract: %v", err)
	}
	// A wrong header stops the import before anything is sent.
	bad := filepath.Join(dir, "bad.csv")
	must(t, os.WriteFile(bad, []byte("id\nN1\n"), 0o600))
	if err := runImport(context.Background(), []string{"members", bad, "--contract", "T-2026", "--addr", addr, "--token", token}, &out, &errOut); err == nil || !strings.Contains(err.Error(), `must be "person_id"`) {
		t.Errorf("bad header: %v", err)
	}
}
