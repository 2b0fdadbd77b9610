package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestImportCSV imports persons and institutions into a running server
// with an admin token and checks the report and what was stored.
func TestImportCSV(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	must(t, os.WriteFile(tokens, []byte(`{"tokens": [{"token": "admin-token-for-import", "role": "admin"}]}`), 0o600))
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	go func() { _ = serve(ctx, []string{"--listen", addr, "--tokens", tokens}, &logs) }()

	persons := filepath.Join(dir, "persons.csv")
	must(t, os.WriteFile(persons, []byte(strings.Join([]string{
		"person_id,name,region,scheme,employment,category,contribution_years,account_balance",
		"P1,Zhang San,350500,EMPLOYEE,EMPLOYED,,10,100.50",
		"P2,Li Si,350500,EMPLOYEE,BOSS,,1,",
		"P3,Wang Wu,610300,SCHEME_RESIDENT,,DESTITUTE,3,",
		"P4,Zhao Liu,610300,RESIDENT,,,2,1.234",
		"",
	}, "\n")), 0o600))
	var out, errOut bytes.Buffer
	var err error
	deadline := time.Now().Add(10 * time.Second)
	for {
		out.Reset()
		err = runImport(context.Background(), []string{"persons", persons, "--addr", addr, "--token", "admin-token-for-import"}, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "could not reach") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err == nil || !strings.Contains(err.Error(), "2 of 4 rows rejected") {
		t.Fatalf("import: %v\n%s", err, out.String())
	}
	report := out.String()
	for _, want := range []string{"4 rows read, 2 imported, 2 rejected", `line 3 (P2): employment "BOSS"`, "line 5 (P4):", "account_balance"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	if !strings.Contains(errOut.String(), "importing persons [") {
		t.Errorf("no progress bar: %q", errOut.String())
	}

	institutions := filepath.Join(dir, "institutions.csv")
	must(t, os.WriteFile(institutions, []byte("institution_id,name,region,level,budgets\nH1,One,350500,3,2026:60000;2027:1000\nH2,Two,350500,5,\n"), 0o600))
	out.Reset()
	err = runImport(context.Background(), []string{"institutions", institutions, "--addr", addr, "--token", "admin-token-for-import"}, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "2 rows read, 1 imported, 1 rejected") || !strings.Contains(out.String(), "line 3 (H2)") {
		t.Fatalf("institutions: %v\n%s", err, out.String())
	}

	// A file larger than one call takes goes in several calls, each
	// stored atomically; rejections keep their line numbers.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	cctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer admin-token-for-import")
	reg := pb.NewRegistryServiceClient(conn)
	rd := csv.NewReader(strings.NewReader(strings.Join([]string{
		"person_id,name,region,scheme,employment,category,contribution_years,account_balance",
		"S1,a,350500,RESIDENT,,,1,",
		"S2,b,350500,RESIDENT,,,1,",
		"S3,c,350500,RESIDENT,,,1,-0",
		"S4,d,350500,RESIDENT,,,1,",
		"S5,e,350500,RESIDENT,,,1,0.001",
		"S6,f,350500,RESIDENT,,,1,",
		"S7,g,350500,RESIDENT,,,1,",
		"",
	}, "\n")))
	rd.FieldsPerRecord = -1
	var barOut bytes.Buffer
	rep := newImportReport("persons", 7, &barOut)
	must(t, importPersons(cctx, reg, rd, rep, 2))
	out.Reset()
	rep.finish(&out)
	for _, want := range []string{"7 rows read, 5 imported, 2 rejected", "line 4 (S3)", "line 6 (S5)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("split import report lacks %q:\n%s", want, out.String())
		}
	}
	for _, id := range []string{"S1", "S2", "S4", "S6", "S7"} {
		_, err := reg.GetPerson(cctx, &pb.GetPersonRequest{PersonId: id})
		must(t, err)
	}

	p, err := reg.GetPerson(cctx, &pb.GetPersonRequest{PersonId: "P3"})
	must(t, err)
	if p.GetPerson().GetCategory() != pb.PersonCategory_PERSON_CATEGORY_DESTITUTE || p.GetPerson().GetScheme() != pb.Scheme_SCHEME_RESIDENT {
		t.Errorf("P3 stored as %v", p.GetPerson())
	}
	in, err := reg.GetInstitution(cctx, &pb.GetInstitutionRequest{InstitutionId: "H1"})
	must(t, err)
	if len(in.GetInstitution().GetBudgets()) != 2 || in.GetInstitution().GetBudgets()[0].GetAmount() != "60000.00" {
		t.Errorf("H1 stored as %v", in.GetInstitution())
	}
	// Without the token nothing is imported.
	out.Reset()
	if err := runImport(context.Background(), []string{"persons", persons, "--addr", addr}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Errorf("import without a token: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
