package main

import (
	"bytes"
	"context"
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

// TestImportAgainKeepsBalances: account_balance in persons.csv is an
// opening balance; running `medsettle import persons` again on the same
// file, after the balance moved, does not reset it.
func TestImportAgainKeepsBalances(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	must(t, os.WriteFile(tokens, []byte(`{"tokens": [{"token": "admin-token-for-import", "role": "admin"}]}`), 0o600))
	addr := freeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var logs syncBuffer
	go func() { _ = serve(ctx, []string{"--listen", addr, "--tokens", tokens}, &logs) }()

	persons := filepath.Join(dir, "persons.csv")
	must(t, os.WriteFile(persons, []byte("person_id,name,region,scheme,employment,category,contribution_years,account_balance\n"+
		"P1,Zhang San,350500,EMPLOYEE,EMPLOYED,,10,100.50\n"), 0o600))
	args := []string{"persons", persons, "--addr", addr, "--token", "admin-token-for-import"}
	var out, errOut bytes.Buffer
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := runImport(context.Background(), args, &out, &errOut)
		if err == nil {
			break
		}
		// Until the server listens, the import cannot reach it.
		if !strings.Contains(err.Error(), "could not reach") || time.Now().After(deadline) {
			t.Fatalf("import: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	cctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer admin-token-for-import")
	reg := pb.NewRegistryServiceClient(conn)
	_, err = reg.AdjustAccount(cctx, &pb.AdjustAccountRequest{RequestId: "ADJ-1", PersonId: "P1", Debit: "50.00", Reason: "test"})
	must(t, err)

	must(t, runImport(context.Background(), args, &out, &errOut))
	p, err := reg.GetPerson(cctx, &pb.GetPersonRequest{PersonId: "P1"})
	must(t, err)
	if got := p.GetPerson().GetAccountBalance(); got != "50.50" {
		t.Errorf("balance after importing again %s, want the live 50.50", got)
	}
}
