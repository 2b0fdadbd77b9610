package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// fakeContribution is a ContributionService that streams what a test
// gives it, to check what the plan command does with streams the real
// server does not send (cut off, out of order, totals that disagree).
type fakeContribution struct {
	pb.UnimplementedContributionServiceServer
	msgs []*pb.ExportPlanResponse
	err  error // returned after msgs
	got  *pb.ExportPlanRequest
}

func (f *fakeContribution) ExportPlan(req *pb.ExportPlanRequest, stream grpc.ServerStreamingServer[pb.ExportPlanResponse]) error {
	f.got = req
	for _, m := range f.msgs {
		if err := stream.Send(m); err != nil {
			return err
		}
	}
	return f.err
}

// startFakeContribution serves f on a loopback port.
func startFakeContribution(t *testing.T, f *fakeContribution) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := grpc.NewServer()
	pb.RegisterContributionServiceServer(srv, f)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

func rowMsg(id, contribution, subsidy, payable string, basis pb.PersonCategory) *pb.ExportPlanResponse {
	return &pb.ExportPlanResponse{Result: &pb.ExportPlanResponse_Row{Row: &pb.PlanRow{
		PersonId: id, Contribution: contribution, Subsidy: subsidy, Payable: payable, BasisCategory: basis}}}
}

func totalsMsg(t *pb.PlanTotals) *pb.ExportPlanResponse {
	return &pb.ExportPlanResponse{Result: &pb.ExportPlanResponse_Totals{Totals: t}}
}

// fakePlan is three persons: none, 低保 and 特困.
func fakePlan() []*pb.ExportPlanResponse {
	return []*pb.ExportPlanResponse{
		rowMsg("A1", "380.00", "0.00", "380.00", 0),
		rowMsg("B2", "380", "340", "40", pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING),
		rowMsg("C3", "380.00", "380.00", "0.00", pb.PersonCategory_PERSON_CATEGORY_DESTITUTE),
		totalsMsg(&pb.PlanTotals{Persons: 3, Contribution: "1140.00", Subsidy: "720.00", Payable: "420.00",
			ByCategory: []*pb.PlanCategoryTotal{
				{Category: pb.PersonCategory_PERSON_CATEGORY_DESTITUTE, Persons: 1, Subsidy: "380.00"},
				{Category: pb.PersonCategory_PERSON_CATEGORY_MINIMUM_LIVING, Persons: 1, Subsidy: "340.00"},
				{Category: pb.PersonCategory_PERSON_CATEGORY_MONITORED, Persons: 0, Subsidy: "0.00"},
			}}),
	}
}

const fakePlanCSV = "person_id,contribution,subsidy,payable,basis_category\n" +
	"A1,380.00,0.00,380.00,\n" +
	"B2,380.00,340.00,40.00,MINIMUM_LIVING\n" +
	"C3,380.00,380.00,0.00,DESTITUTE\n"

const fakePlanSummary = "plan          610300 resident 2026, identities held on 2026-05-01\n" +
	"persons       3\n" +
	"contribution  1140.00\n" +
	"subsidy       720.00\n" +
	"payable       420.00\n" +
	"\n" +
	"basis category  persons  subsidy\n" +
	"--------------  -------  -------\n" +
	"DESTITUTE             1   380.00\n" +
	"MINIMUM_LIVING        1   340.00\n" +
	"MONITORED             0     0.00\n" +
	"(none)                1     0.00\n"

// planArgs is a plan command line against addr with more flags.
func planArgs(addr string, more ...string) []string {
	return append([]string{"--region", "610300", "--scheme", "resident", "--year", "2026", "--addr", addr}, more...)
}

// dirFiles lists the names in dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	must(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestPlanWritesCSVAndSummary writes the rows with two decimals and the
// short category names, and prints the totals with the persons without
// a subsidy.
func TestPlanWritesCSVAndSummary(t *testing.T) {
	f := &fakeContribution{msgs: fakePlan()}
	addr := startFakeContribution(t, f)
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.csv")
	var out, errOut bytes.Buffer
	must(t, runPlan(context.Background(), planArgs(addr, "--as-of", "2026-05-01", "--csv", path), &out, &errOut))
	if f.got.GetRegion() != "610300" || f.got.GetScheme() != pb.Scheme_SCHEME_RESIDENT || f.got.GetYear() != 2026 || f.got.GetAsOf() != "2026-05-01" {
		t.Errorf("request %v", f.got)
	}
	raw, err := os.ReadFile(path)
	must(t, err)
	if string(raw) != fakePlanCSV {
		t.Errorf("plan.csv:\n%s\nwant\n%s", raw, fakePlanCSV)
	}
	if want := fakePlanSummary + "\nwrote " + path + " (3 persons)\n"; out.String() != want {
		t.Errorf("summary:\n%s\nwant\n%s", out.String(), want)
	}
	if want := "exporting plan: 1 persons\nexporting plan: 3 persons\n"; errOut.String() != want {
		t.Errorf("progress %q, want %q", errOut.String(), want)
	}
	if names := dirFiles(t, dir); len(names) != 1 {
		t.Errorf("files left: %v", names)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("plan.csv mode: %v %v", fi.Mode(), err)
	}
}

// TestPlanFailedRunWritesNothing: a stream cut off, one without totals,
// totals that disagree with the rows, rows out of order or not money all
// fail, and leave an existing file as it was and no temporary file.
func TestPlanFailedRunWritesNothing(t *testing.T) {
	plan := fakePlan()
	rows, totals := plan[:3], plan[3]
	badTotals := totalsMsg(&pb.PlanTotals{Persons: 3, Contribution: "1140.00", Subsidy: "720.00", Payable: "420.01",
		ByCategory: []*pb.PlanCategoryTotal{{Category: pb.PersonCategory_PERSON_CATEGORY_DESTITUTE, Persons: 2, Subsidy: "380.00"}}})
	for _, c := range []struct {
		name string
		msgs []*pb.ExportPlanResponse
		err  error
		want string
	}{
		{"cut off", rows[:2], status.Error(codes.Internal, "store gone"),
			"ExportPlan (after 2 rows) failed: Internal: store gone (%s was not written)"},
		{"no totals", rows, nil,
			"ExportPlan (after 3 rows) failed: the server ended the plan after 3 rows without its totals (%s was not written)"},
		{"totals disagree", append(append([]*pb.ExportPlanResponse{}, rows...), badTotals), nil,
			`ExportPlan (after 3 rows) failed: the server's totals disagree with its rows (payable "420.01", rows 420.00; ` +
				`DESTITUTE: 2 persons, subsidy "380.00"; rows 1 persons, subsidy 380.00; MINIMUM_LIVING: not in the totals; rows 1 persons, subsidy 340.00) (%s was not written)`},
		{"out of order", []*pb.ExportPlanResponse{rows[1], rows[0], totals}, nil,
			"ExportPlan (after 1 rows) failed: the server sent A1 after B2: a plan's rows come by person_id, each once (%s was not written)"},
		{"twice", []*pb.ExportPlanResponse{rows[0], rows[0], totals}, nil,
			"ExportPlan (after 1 rows) failed: the server sent A1 after A1: a plan's rows come by person_id, each once (%s was not written)"},
		{"not money", []*pb.ExportPlanResponse{rowMsg("A1", "380.00", "x", "-1", 0), totals}, nil,
			"ExportPlan failed: the server sent a bad row: the row of A1: subsidy: "},
		{"payable wrong", []*pb.ExportPlanResponse{rowMsg("A1", "380.00", "0.00", "40.00", 0), totals}, nil,
			"ExportPlan failed: the server sent a bad row: the row of A1: payable 40.00 is not contribution 380.00 − subsidy 0.00 (%s was not written)"},
		{"empty row", []*pb.ExportPlanResponse{{}, totals}, nil,
			"ExportPlan failed: the server sent a bad row: a row without person_id (%s was not written)"},
		{"refused", nil, status.Error(codes.FailedPrecondition, "610300 resident 2026: the policy has no contribution section"),
			"ExportPlan failed: FailedPrecondition: 610300 resident 2026: the policy has no contribution section (%s was not written)\n" +
				"  what to do: the plan needs a policy of region 610300, scheme resident in force on 2026-01-01 with a contribution section: " +
				"load one (PolicyService.PutPolicy, or serve --policy FILE); serve --demo has one for 610300 resident 2026"},
	} {
		t.Run(c.name, func(t *testing.T) {
			addr := startFakeContribution(t, &fakeContribution{msgs: c.msgs, err: c.err})
			dir := t.TempDir()
			path := filepath.Join(dir, "plan.csv")
			must(t, os.WriteFile(path, []byte("the previous plan\n"), 0o600))
			var out, errOut bytes.Buffer
			err := runPlan(context.Background(), planArgs(addr, "--csv", path), &out, &errOut)
			want := strings.ReplaceAll(c.want, "%s", path)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n%v\nwant\n%s", err, want)
			}
			if raw, _ := os.ReadFile(path); string(raw) != "the previous plan\n" {
				t.Errorf("plan.csv was changed: %q", raw)
			}
			if names := dirFiles(t, dir); len(names) != 1 {
				t.Errorf("files left: %v", names)
			}
			if out.Len() > 0 {
				t.Errorf("printed a summary: %s", out.String())
			}
		})
	}
}

// previousPlanCSV is a previous plan of fakePlan's region: A1 the same,
// B2 paying 190 (was 监测), A0 and B5 gone since, C3 not there yet.
const previousPlanCSV = "person_id,contribution,subsidy,payable,basis_category\n" +
	"A0,380.00,0.00,380.00,\n" +
	"A1,380.00,0.00,380.00,\n" +
	"B2,380.00,190.00,190.00,MONITORED\n" +
	"B5,380.00,340.00,40.00,PERSON_CATEGORY_MINIMUM_LIVING\n"

const fakeDiffCSV = "person_id,status,previous_payable,payable,change\n" +
	"A0,removed,380.00,,-380.00\n" +
	"B2,changed,190.00,40.00,-150.00\n" +
	"B5,removed,40.00,,-40.00\n" +
	"C3,added,,0.00,0.00\n"

// TestPlanDiff lists the changed, added and removed persons (on stdout,
// the summary on stderr; or to --diff-out, the summary on stdout), and
// --csv may replace the previous plan it compares with.
func TestPlanDiff(t *testing.T) {
	addr := startFakeContribution(t, &fakeContribution{msgs: fakePlan()})
	dir := t.TempDir()
	prev := filepath.Join(dir, "prev.csv")
	must(t, os.WriteFile(prev, []byte(previousPlanCSV), 0o600))
	summary := fakePlanSummary + "\nsince " + prev + " (4 persons): 1 changed, 1 added, 2 removed, 1 unchanged; payable change -570.00\n"

	var out, errOut bytes.Buffer
	must(t, runPlan(context.Background(), planArgs(addr, "--as-of", "2026-05-01", "--diff", prev), &out, &errOut))
	if out.String() != fakeDiffCSV {
		t.Errorf("diff on stdout:\n%s\nwant\n%s", out.String(), fakeDiffCSV)
	}
	wantErr := "exporting plan [#######.......................] 1/4 persons (25%) (total estimated from the previous plan)\n" +
		"exporting plan [##############################] 3/3 persons (100%) (total estimated from the previous plan)\n" + summary
	if errOut.String() != wantErr {
		t.Errorf("stderr:\n%s\nwant\n%s", errOut.String(), wantErr)
	}

	diffOut := filepath.Join(dir, "changes.csv")
	out.Reset()
	errOut.Reset()
	must(t, runPlan(context.Background(), planArgs(addr, "--as-of", "2026-05-01", "--diff", prev, "--diff-out", diffOut, "--csv", prev), &out, &errOut))
	if want := summary[:len(fakePlanSummary)] + "\nwrote " + prev + " (3 persons)\n" + summary[len(fakePlanSummary):] + "wrote " + diffOut + "\n"; out.String() != want {
		t.Errorf("stdout:\n%s\nwant\n%s", out.String(), want)
	}
	if raw, _ := os.ReadFile(diffOut); string(raw) != fakeDiffCSV {
		t.Errorf("changes.csv:\n%s\nwant\n%s", raw, fakeDiffCSV)
	}
	if raw, _ := os.ReadFile(prev); string(raw) != fakePlanCSV {
		t.Errorf("--csv over the previous plan:\n%s\nwant\n%s", raw, fakePlanCSV)
	}
	// The same plan again: nothing changed.
	out.Reset()
	must(t, runPlan(context.Background(), planArgs(addr, "--diff", prev), &out, &errOut))
	if out.String() != "person_id,status,previous_payable,payable,change\n" ||
		!strings.HasSuffix(errOut.String(), "(3 persons): 0 changed, 0 added, 0 removed, 3 unchanged; payable change 0.00\n") {
		t.Errorf("no change: %q\n%s", out.String(), errOut.String())
	}
	if names := dirFiles(t, dir); strings.Join(names, " ") != "changes.csv prev.csv" {
		t.Errorf("files left: %v", names)
	}
}

// TestPlanDiffFailedRunPrintsNothing: a run cut off prints no part of the
// diff and leaves --diff-out and --csv unwritten.
func TestPlanDiffFailedRunPrintsNothing(t *testing.T) {
	addr := startFakeContribution(t, &fakeContribution{msgs: fakePlan()[:2], err: status.Error(codes.Unavailable, "going away")})
	dir := t.TempDir()
	prev := filepath.Join(dir, "prev.csv")
	must(t, os.WriteFile(prev, []byte(previousPlanCSV), 0o600))
	var out, errOut bytes.Buffer
	err := runPlan(context.Background(), planArgs(addr, "--diff", prev), &out, &errOut)
	if err == nil || !strings.HasPrefix(err.Error(), "ExportPlan (after 2 rows) failed: Unavailable: going away (nothing was written)\n  what to do: no medsettle server answers") {
		t.Errorf("cut off: %v", err)
	}
	if out.Len() > 0 {
		t.Errorf("printed part of the diff: %q", out.String())
	}
	err = runPlan(context.Background(), planArgs(addr, "--diff", prev, "--diff-out", filepath.Join(dir, "d.csv"), "--csv", prev), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "was not written") {
		t.Errorf("cut off: %v", err)
	}
	if raw, _ := os.ReadFile(prev); string(raw) != previousPlanCSV {
		t.Errorf("the previous plan was changed: %q", raw)
	}
	if names := dirFiles(t, dir); strings.Join(names, " ") != "prev.csv" {
		t.Errorf("files left: %v", names)
	}
}
