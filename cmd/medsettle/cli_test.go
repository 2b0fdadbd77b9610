package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// TestVersionText prints the module version, the commit and the Go
// version from the build info, and says so when there is none.
func TestVersionText(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/medsettle/medsettle", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-27T08:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "medsettle v1.2.3\n  module: github.com/medsettle/medsettle\n  commit: abc123 (modified) 2026-11-27T08:00:00Z\n  go:     go1.26.0\n"
	if got := versionText(info, true); got != want {
		t.Errorf("versionText = %q, want %q", got, want)
	}
	if got := versionText(nil, false); got != "medsettle (no build info: build with go build or go install)\n" {
		t.Errorf("without build info: %q", got)
	}
	var out bytes.Buffer
	must(t, runVersion(nil, &out))
	if !strings.HasPrefix(out.String(), "medsettle ") || !strings.Contains(out.String(), "  go:     go1.") {
		t.Errorf("runVersion printed %q", out.String())
	}
	if err := runVersion([]string{"x"}, &out); err == nil || err.Error() != `version takes no arguments, got ["x"]` {
		t.Errorf("runVersion x: %v", err)
	}
}

// TestHelpAndFlagErrors: --help of every command is no error (exit 0),
// and an unknown flag's error is one the flag package already printed,
// so main does not print it again.
func TestHelpAndFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--help"}, {"serve", "-h"}, {"import", "--help"}, {"import", "persons", "x.csv", "--help"},
		{"clear", "--help"}, {"demo", "--help"}, {"receipt", "--help"}, {"policy", "--help"},
		{"policy", "validate", "--help"}, {"version"}, {"help"},
	} {
		if err := run(context.Background(), args); err != nil {
			t.Errorf("run %q: %v, want no error", args, err)
		}
	}
	var stderr bytes.Buffer
	_, err := parseServeFlags([]string{"--bogus"}, &stderr)
	if err == nil || !flagReported(err) || exitCode(err) != 1 {
		t.Fatalf("serve --bogus: %v (reported %v)", err, err != nil && flagReported(err))
	}
	if n := strings.Count(stderr.String(), "flag provided but not defined: -bogus"); n != 1 {
		t.Errorf("the flag error is printed %d times:\n%s", n, stderr.String())
	}
	err = runImport(context.Background(), []string{"persons", "x.csv", "--bogus"}, &stderr, &stderr)
	if !flagReported(err) || exitCode(err) != 2 {
		t.Errorf("import --bogus: %v, exit %d", err, exitCode(err))
	}
	if flagReported(errors.New("import needs persons")) {
		t.Error("flagReported of an ordinary error")
	}
	if !errors.Is(runImport(context.Background(), []string{"--help"}, &stderr, &stderr), flag.ErrHelp) {
		t.Error("import --help is not ErrHelp")
	}
}

// TestProgressOffTerminal draws plain lines, not a bar redrawn in place,
// and at most one per plainEvery.
func TestProgressOffTerminal(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out)
	p.update(false, "importing persons", 1, 4, "rows", "")
	p.update(false, "importing persons", 2, 4, "rows", "")
	p.update(true, "importing persons", 4, 4, "rows", ", 0 rejected")
	p.end()
	want := "importing persons [#######.......................] 1/4 rows (25%)\n" +
		"importing persons [##############################] 4/4 rows (100%), 0 rejected\n"
	if out.String() != want {
		t.Errorf("progress off a terminal:\n%q\nwant\n%q", out.String(), want)
	}
}

// TestImportExitStatus: 2 when the import stops (a wrong header, before
// any progress; an unreachable server), 1 for rejected rows; duplicate
// ids are rejected on every line that has them; persons' and
// institutions' reasons read alike.
func TestImportExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		must(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	ctx := context.Background()
	var out, errOut bytes.Buffer

	unused := freeAddr(t)
	wrongHeader := write("wrong.csv", "id,name\nP1,x\n")
	err := runImport(ctx, []string{"persons", wrongHeader, "--addr", unused}, &out, &errOut)
	if exitCode(err) != 2 || err.Error() != wrongHeader+`: the header is "id,name"; it must be "person_id,name,region,scheme,employment,category,contribution_years,account_balance,identities" (identities may be left out)` {
		t.Errorf("wrong header: exit %d: %v", exitCode(err), err)
	}
	if out.Len() != 0 || errOut.Len() != 0 {
		t.Errorf("a wrong header drew progress or a report: %q %q", out.String(), errOut.String())
	}

	persons := write("persons.csv", "person_id,name,region,scheme,employment,category,contribution_years,account_balance\n"+
		"D1,a,350500,EMPLOYEE,EMPLOYED,,1,\nD2,b,350500,EMPLOYEE,EMPLOYED,,1,\nD1,c,350500,EMPLOYEE,EMPLOYED,,1,\nD3,d,350500,EMPLOYEE,EMPLOYED,,1,1.234\n")
	err = runImport(ctx, []string{"persons", persons, "--addr", unused}, &out, &errOut)
	if exitCode(err) != 2 || !strings.HasPrefix(err.Error(), "could not reach a medsettle server at --addr "+unused+": ") ||
		!strings.Contains(err.Error(), "nothing was stored)\n  what to do: check that `medsettle serve` runs there") ||
		strings.Contains(err.Error(), "stopped by the server") {
		t.Errorf("unreachable server: exit %d: %v", exitCode(err), err)
	}

	addr := startDemoServer(t, "")
	out.Reset()
	err = runImport(ctx, []string{"persons", persons, "--addr", addr}, &out, &errOut)
	if exitCode(err) != 1 || !strings.HasPrefix(err.Error(), "3 of 4 rows rejected: ") {
		t.Errorf("rejected persons: exit %d: %v", exitCode(err), err)
	}
	wantLines := []string{
		"  rejected line 2 (D1): person_id D1 is on lines 2 and 4 of the file: keep one row per id and import again",
		"  rejected line 4 (D1): person_id D1 is on lines 2 and 4 of the file: keep one row per id and import again",
		"  rejected line 5 (D3): person.account_balance: ",
	}
	for _, w := range wantLines {
		if !strings.Contains(out.String(), w) {
			t.Errorf("persons report lacks %q:\n%s", w, out.String())
		}
	}
	if !strings.HasPrefix(out.String(), "persons: 4 rows read, 1 imported, 3 rejected in ") {
		t.Errorf("persons report: %s", out.String())
	}

	institutions := write("institutions.csv", "institution_id,name,region,level,budgets\nI1,One,350500,5,\nI2,Two,350500,1,\nI2,Two again,350500,1,\n")
	out.Reset()
	err = runImport(ctx, []string{"institutions", institutions, "--addr", addr}, &out, &errOut)
	if exitCode(err) != 1 {
		t.Errorf("rejected institutions: exit %d: %v", exitCode(err), err)
	}
	for _, w := range []string{
		"  rejected line 2 (I1): institution.level: ",
		"  rejected line 3 (I2): institution_id I2 is on lines 3 and 4 of the file: keep one row per id and import again",
		"  rejected line 4 (I2): institution_id I2 is on lines 3 and 4 of the file: keep one row per id and import again",
	} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("institutions report lacks %q:\n%s", w, out.String())
		}
	}
	if strings.Contains(out.String(), "rpc error") || strings.Contains(out.String(), "invalid argument: ") {
		t.Errorf("raw status in the report:\n%s", out.String())
	}

	good := write("good.csv", "institution_id,name,region,level,budgets\nI3,Three,350500,2,\n")
	out.Reset()
	if err := runImport(ctx, []string{"institutions", good, "--addr", addr}, &out, &errOut); err != nil {
		t.Errorf("good institutions: %v", err)
	}
}

// TestPolicyValidate checks the example policies as good and lists every
// problem of bad files with its path or position; exit status 1.
func TestPolicyValidate(t *testing.T) {
	examples, err := filepath.Glob("../../examples/policies/*.json")
	must(t, err)
	if len(examples) != 2 {
		t.Fatalf("examples: %v", examples)
	}
	var out, errOut bytes.Buffer
	must(t, runPolicy(append([]string{"validate"}, examples...), &out, &errOut))
	if want := examples[0] + ": ok\n" + examples[1] + ": ok\n"; out.String() != want {
		t.Errorf("examples: %q, want %q", out.String(), want)
	}

	raw, err := os.ReadFile(examples[0])
	must(t, err)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	text := strings.Replace(strings.Replace(string(raw), `"region": "350500"`, `"region": ""`, 1), `"ratio": "0.87"`, `"ratio": "1.87"`, 1)
	must(t, os.WriteFile(bad, []byte(text), 0o600))
	truncated := filepath.Join(dir, "truncated.json")
	must(t, os.WriteFile(truncated, []byte("{\n  \"region\": \"350500\",\n  \"sch"), 0o600))
	malformed := filepath.Join(dir, "malformed.json")
	must(t, os.WriteFile(malformed, []byte("{\n  \"region\": \"350500\",\n  \"scheme\" \"X\"\n}\n"), 0o600))
	out.Reset()
	err = runPolicy([]string{"validate", bad, truncated, malformed, examples[1]}, &out, &errOut)
	if err == nil || exitCode(err) != 1 || err.Error() != "3 of 4 policy files have problems: fix what is listed above and run policy validate again" {
		t.Errorf("bad files: %v", err)
	}
	want := bad + ": 2 problem(s)\n" +
		`  policy.benefits[0].rates[0].schedule.bands[0].ratio: ratio "1.87" is outside [0, 1]: a ratio is a decimal string in [0, 1] with at most four decimals, like "0.87"` + "\n" +
		"  policy.region: is required\n" +
		truncated + ": 1 problem(s)\n  line 3:7: the file ends in the middle of the JSON (truncated?)\n" +
		malformed + ": 1 problem(s)\n  line 3:13: JSON syntax error: invalid character '\"' after object key\n" +
		examples[1] + ": ok\n"
	if out.String() != want {
		t.Errorf("policy validate printed\n%s\nwant\n%s", out.String(), want)
	}
	if err := runPolicy(nil, &out, &errOut); err == nil || err.Error() != "policy needs a step: validate" {
		t.Errorf("policy: %v", err)
	}
}

// TestReceipt settles a demo bill on an in-process server and prints its
// slip: the claim, each fund with its bands, what the person pays, the
// cross-region decision and the budget.
func TestReceipt(t *testing.T) {
	addr := startDemoServer(t, "")
	set, err := loadDemoSet()
	must(t, err)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	ctx := context.Background()
	var out, errOut bytes.Buffer
	must(t, runDemo(ctx, []string{"settle", "--addr", addr}, &out, &errOut))
	req := set.settlements[0]
	resp, err := pb.NewSettlementServiceClient(conn).Settle(ctx, req) // the same request id: the stored settlement
	must(t, err)
	s := resp.GetSettlement()
	out.Reset()
	must(t, runReceipt(ctx, []string{"--settlement", s.GetSettlementId(), "--addr", addr}, &out, &errOut))
	got, err := pb.NewSettlementServiceClient(conn).GetSettlement(ctx, &pb.GetSettlementRequest{SettlementId: s.GetSettlementId()})
	must(t, err)
	var want bytes.Buffer
	printReceipt(&want, got.GetSettlement())
	if out.String() != want.String() {
		t.Errorf("receipt differs from the settlement's slip:\n%s\nwant\n%s", out.String(), want.String())
	}
	// The line items as the claim sent them, one row each.
	if len(got.GetSettlement().GetItems()) != len(req.GetItems()) || len(req.GetItems()) == 0 {
		t.Fatalf("GetSettlement has %d items, the claim %d", len(got.GetSettlement().GetItems()), len(req.GetItems()))
	}
	for _, it := range req.GetItems() {
		if !strings.Contains(out.String(), it.GetCode()) || !strings.Contains(out.String(), it.GetAmount()) {
			t.Errorf("receipt lacks item %s (%s):\n%s", it.GetCode(), it.GetAmount(), out.String())
		}
	}
	b := s.GetBreakdown()
	lines := []string{
		"结算单 settlement slip " + s.GetSettlementId() + " (settled)",
		"  institution     " + s.GetInstitutionId(),
		"  person          " + s.GetPersonId(),
		"  date            " + s.GetSettleDate(),
		"  total                 " + b.GetTotal(),
		"  basic fund (统筹基金): " + b.GetBasicFund(),
		"  funds in all: " + b.GetFundTotal(),
		"  from the personal account  " + b.GetAccount(),
		"  in cash                    " + b.GetCash(),
		"Cross-region: ",
	}
	if len(s.GetDetails()) == 0 {
		t.Fatalf("the demo settlement has no fund details: %v", s)
	}
	d := s.GetDetails()[0]
	lines = append(lines, "    band  ratio")
	for _, l := range lines {
		if !strings.Contains(out.String(), l) {
			t.Errorf("receipt lacks %q:\n%s", l, out.String())
		}
	}
	if !strings.Contains(out.String(), d.GetRatio()) || !strings.Contains(out.String(), d.GetAmount()) {
		t.Errorf("receipt lacks the first band %v:\n%s", d, out.String())
	}
	if bs := s.GetBudget(); bs != nil && !strings.Contains(out.String(), "Budget 2026: "+bs.GetUsed()+" used of "+bs.GetLimit()) {
		t.Errorf("receipt lacks the budget %v:\n%s", bs, out.String())
	}

	err = runReceipt(ctx, []string{"--settlement", "NO-SUCH", "--addr", addr}, &out, &errOut)
	if err == nil || !strings.HasPrefix(err.Error(), "GetSettlement NO-SUCH failed: NotFound: ") || !strings.HasSuffix(err.Error(), "what to do: check the ids named above") {
		t.Errorf("unknown settlement: %v", err)
	}
	if err := runReceipt(ctx, nil, &out, &errOut); err == nil || err.Error() != "receipt needs --settlement ID: the settlement_id that Settle answered" {
		t.Errorf("no --settlement: %v", err)
	}
}
