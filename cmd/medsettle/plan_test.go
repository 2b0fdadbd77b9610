package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// demoPlanJan1 is the demo's plan of 610300's residents for 2026 with the
// identities held on January 1 (examples/README.md, demo/registry.json).
const demoPlanJan1 = "person_id,contribution,subsidy,payable,basis_category\n" +
	"K1,380.00,0.00,380.00,\n" +
	"L1,380.00,340.00,40.00,MINIMUM_LIVING\n" +
	"M1,380.00,190.00,190.00,MONITORED\n" +
	"N1,380.00,0.00,380.00,\n" +
	"T1,380.00,380.00,0.00,DESTITUTE\n" +
	"W1,380.00,340.00,40.00,MINIMUM_LIVING\n" +
	"W2,380.00,0.00,380.00,\n" +
	"W3,380.00,190.00,190.00,MONITORED\n" +
	"W4,380.00,0.00,380.00,\n" +
	"W5,380.00,0.00,380.00,\n"

const demoSummaryJan1 = "plan          610300 resident 2026, identities held on 2026-01-01\n" +
	"persons       10\n" +
	"contribution  3800.00\n" +
	"subsidy       1440.00\n" +
	"payable       2360.00\n" +
	"\n" +
	"basis category  persons  subsidy\n" +
	"--------------  -------  -------\n" +
	"DESTITUTE             1   380.00\n" +
	"MINIMUM_LIVING        2   680.00\n" +
	"MONITORED             2   380.00\n" +
	"(none)                5     0.00\n"

// TestPlanOnTheDemo exports the demo's plan from `serve --demo` as the
// README does, then re-checks it on June 1 (W2 turned destitute in May,
// W3 minimum living in April) and after W4's identities change and W6
// registers.
func TestPlanOnTheDemo(t *testing.T) {
	addr := startDemoServer(t, "")
	ctx := context.Background()
	dir := t.TempDir()
	jan := filepath.Join(dir, "plan-2026.csv")
	var out, errOut bytes.Buffer
	must(t, runPlan(ctx, planArgs(addr, "--csv", jan), &out, &errOut))
	if raw, _ := os.ReadFile(jan); string(raw) != demoPlanJan1 {
		t.Errorf("plan-2026.csv:\n%s\nwant\n%s", raw, demoPlanJan1)
	}
	if want := demoSummaryJan1 + "\nwrote " + jan + " (10 persons)\n"; out.String() != want {
		t.Errorf("summary:\n%s\nwant\n%s", out.String(), want)
	}

	// June 1: to stdout, the summary on stderr.
	jun := filepath.Join(dir, "plan-2026-06.csv")
	out.Reset()
	errOut.Reset()
	must(t, runPlan(ctx, planArgs(addr, "--as-of", "2026-06-01", "--csv", jun, "--diff", jan), &out, &errOut))
	wantDiff := "person_id,status,previous_payable,payable,change\n" +
		"W2,changed,380.00,0.00,-380.00\n" +
		"W3,changed,190.00,40.00,-150.00\n"
	if out.String() != wantDiff {
		t.Errorf("diff on June 1:\n%s\nwant\n%s", out.String(), wantDiff)
	}
	for _, want := range []string{
		"plan          610300 resident 2026, identities held on 2026-06-01\n",
		"subsidy       1970.00\npayable       1830.00\n",
		"DESTITUTE             2   760.00\nMINIMUM_LIVING        3  1020.00\nMONITORED             1   190.00\n(none)                4     0.00\n",
		"since " + jan + " (10 persons): 2 changed, 0 added, 0 removed, 8 unchanged; payable change -530.00\n",
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("June 1 summary lacks %q:\n%s", want, errOut.String())
		}
	}

	// W4 turns minimum living in March; W6 registers.
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	must(t, err)
	defer conn.Close()
	registry := pb.NewRegistryServiceClient(conn)
	w4, err := registry.GetPerson(ctx, &pb.GetPersonRequest{PersonId: "W4"})
	must(t, err)
	p := w4.GetPerson()
	p.Identities = append(p.Identities, &pb.Identity{Category: pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING, ValidFrom: "2026-03-01", ValidTo: "2026-12-31"})
	_, err = registry.PutPerson(ctx, &pb.PutPersonRequest{Person: p})
	must(t, err)
	_, err = registry.PutPerson(ctx, &pb.PutPersonRequest{Person: &pb.Person{PersonId: "W6", Name: "W6", Region: "610300",
		Scheme: pb.Scheme_SCHEME_RESIDENT, ContributionYears: 1, AccountBalance: "0.00"}})
	must(t, err)
	changes := filepath.Join(dir, "changes.csv")
	out.Reset()
	errOut.Reset()
	must(t, runPlan(ctx, planArgs(addr, "--as-of", "2026-06-01", "--diff", jun, "--diff-out", changes, "--csv", jun), &out, &errOut))
	wantDiff = "person_id,status,previous_payable,payable,change\n" +
		"W4,changed,380.00,40.00,-340.00\n" +
		"W6,added,,380.00,380.00\n"
	if raw, _ := os.ReadFile(changes); string(raw) != wantDiff {
		t.Errorf("changes.csv:\n%s\nwant\n%s", raw, wantDiff)
	}
	if want := "since " + jun + " (10 persons): 1 changed, 1 added, 0 removed, 9 unchanged; payable change +40.00\nwrote " + changes + "\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("summary:\n%s\nwant the end\n%s", out.String(), want)
	}
	if raw, _ := os.ReadFile(jun); !strings.Contains(string(raw), "\nW4,380.00,340.00,40.00,MINIMUM_LIVING\nW5,380.00,0.00,380.00,\nW6,380.00,0.00,380.00,\n") {
		t.Errorf("the June plan was not replaced:\n%s", raw)
	}
}

// TestPlanRefusals: no contribution section or no policy is
// FAILED_PRECONDITION with what to do; a bad date is the server's
// INVALID_ARGUMENT; a wrong token and an institution's are refused; the
// clearing role may export. Nothing is written.
func TestPlanRefusals(t *testing.T) {
	addr := startDemoServer(t, `{"tokens": [{"token": "admin-token-for-plan", "role": "admin"},
		{"token": "clearing-token-for-plan", "role": "clearing"},
		{"token": "hospital-token-for-plan", "role": "institution:BJ-H1"}]}`)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.csv")
	args := func(token, region, scheme, year string, more ...string) []string {
		return append([]string{"--region", region, "--scheme", scheme, "--year", year, "--addr", addr, "--token", token, "--csv", path}, more...)
	}
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"no contribution", args("admin-token-for-plan", "350500", "employee", "2026"), []string{
			"ExportPlan failed: FailedPrecondition: ", "(" + path + " was not written)\n  what to do: the plan needs a policy of region 350500, scheme employee in force on 2026-01-01 with a contribution section"}},
		{"no policy", args("admin-token-for-plan", "610300", "resident", "2027"), []string{
			"ExportPlan failed: FailedPrecondition: ", "in force on 2027-01-01 with a contribution section: load one"}},
		{"unknown region", args("admin-token-for-plan", "999999", "resident", "2026"), []string{
			"ExportPlan failed: FailedPrecondition: ", "the plan needs a policy of region 999999, scheme resident"}},
		{"as-of far away", args("admin-token-for-plan", "610300", "resident", "2026", "--as-of", "1800-01-01"), []string{
			"ExportPlan failed: InvalidArgument: ", "what to do: fix what the server names above (medsettle plan --help lists the flags)"}},
		{"wrong token", args("no-such-token-for-plan", "610300", "resident", "2026"), []string{
			"ExportPlan failed: Unauthenticated: ", "what to do: pass a valid bearer token with --token or MEDSETTLE_TOKEN (role admin or clearing)"}},
		{"institution", args("hospital-token-for-plan", "610300", "resident", "2026"), []string{
			"ExportPlan failed: PermissionDenied: ", "what to do: this token's role may not export plans: use a token with the admin or clearing role"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := runPlan(ctx, c.args, &out, &errOut)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error:\n%v\nlacks %q", err, w)
				}
			}
			if out.Len() > 0 {
				t.Errorf("printed %s", out.String())
			}
			if names := dirFiles(t, dir); len(names) != 0 {
				t.Errorf("files left: %v", names)
			}
		})
	}
	var out, errOut bytes.Buffer
	must(t, runPlan(ctx, args("clearing-token-for-plan", "610300", "resident", "2026"), &out, &errOut))
	if raw, _ := os.ReadFile(path); string(raw) != demoPlanJan1 {
		t.Errorf("plan with the clearing token:\n%s", raw)
	}
}

// TestPlanInTheREADME: the README's plan commands are the ones the tests
// run, and its outputs are what they print.
func TestPlanInTheREADME(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	must(t, err)
	readme := string(raw)
	for _, want := range []string{
		"go run ./cmd/medsettle serve --demo",
		"go run ./cmd/medsettle plan --region 610300 --scheme resident --year 2026 --csv plan-2026.csv\n",
		"go run ./cmd/medsettle plan --region 610300 --scheme resident --year 2026 --as-of 2026-06-01 --diff plan-2026.csv > changes.csv\n",
		"```\n" + demoSummaryJan1 + "```\n",
		"```\nperson_id,status,previous_payable,payable,change\nW2,changed,380.00,0.00,-380.00\nW3,changed,190.00,40.00,-150.00\n```\n",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md lacks\n%s", want)
		}
	}
}
