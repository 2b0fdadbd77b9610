package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/medsettle/medsettle/engine"
	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

// planOutputs are a run's output files, all under temporary names until
// the run succeeds.
type planOutputs struct {
	planFile *atomicFile // --csv
	plan     *planCSV
	prev     *previousPlan // --diff
	diffFile *atomicFile   // --diff-out, or the spool for stdout
	diff     *planDiff
}

// open creates the outputs o asks for.
func (out *planOutputs) open(o planOptions) error {
	var err error
	if o.csvPath != "" {
		if out.planFile, err = createAtomic(o.csvPath); err != nil {
			return fmt.Errorf("--csv: %w", err)
		}
		if out.plan, err = newPlanCSV(out.planFile); err != nil {
			return fmt.Errorf("--csv: write %s: %w", o.csvPath, err)
		}
	}
	if o.diffPath == "" {
		return nil
	}
	if out.prev, err = openPreviousPlan(o.diffPath); err != nil {
		return err
	}
	if o.diffOut != "" {
		out.diffFile, err = createAtomic(o.diffOut)
	} else {
		out.diffFile, err = createSpool()
	}
	if err != nil {
		return fmt.Errorf("--diff-out: %w", err)
	}
	out.diff, err = newPlanDiff(out.prev, out.diffFile)
	return err
}

// add writes one row to the plan and the diff.
func (out *planOutputs) add(r planRow) error {
	if out.plan != nil {
		if err := out.plan.write(r); err != nil {
			return fmt.Errorf("write %s: %w", out.planFile.path, err)
		}
	}
	if out.diff != nil {
		return out.diff.add(r)
	}
	return nil
}

// finish ends the diff and writes the plan file under its name.
func (out *planOutputs) finish() error {
	if out.diff != nil {
		if err := out.diff.finish(); err != nil {
			return err
		}
	}
	if out.plan != nil {
		if err := out.plan.flush(); err != nil {
			return fmt.Errorf("write %s: %w", out.planFile.path, err)
		}
		if err := out.planFile.commit(); err != nil {
			return err
		}
		out.planFile = nil
	}
	return nil
}

// abort removes every temporary file and closes the previous plan.
func (out *planOutputs) abort() {
	if out.planFile != nil {
		out.planFile.abort()
	}
	if out.diffFile != nil {
		out.diffFile.abort()
	}
	if out.prev != nil {
		out.prev.close()
	}
}

// exportAndReport runs one plan export with its outputs and summary.
func exportAndReport(ctx context.Context, o planOptions, stdout, stderr io.Writer) error {
	var estimate int64
	if o.diffPath != "" {
		n, err := checkPreviousPlan(o.diffPath) // before anything is dialed
		if err != nil {
			return err
		}
		estimate = n
	}
	conn, ctx, err := o.conn.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var out planOutputs
	defer out.abort()
	if err := out.open(o); err != nil {
		return err
	}
	bar := newPlanProgress(stderr, estimate)
	totals, rows, err := exportPlan(ctx, pb.NewContributionServiceClient(conn), o.req, func(r planRow) error {
		if err := out.add(r); err != nil {
			return err
		}
		bar.row()
		return nil
	})
	if err == nil {
		err = out.finish()
	}
	bar.finish(err == nil)
	if err != nil {
		return planError(err, o, rows)
	}

	summary := stdout
	if o.diffPath != "" && o.diffOut == "" {
		summary = stderr // stdout is the diff's
	}
	printPlanSummary(summary, o.req, totals)
	if o.csvPath != "" {
		fmt.Fprintf(summary, "\nwrote %s (%d persons)\n", o.csvPath, rows)
	}
	if out.diff != nil {
		fmt.Fprintf(summary, "\nsince %s (%d persons): %s\n", o.diffPath, estimate, out.diff.summary())
		if o.diffOut != "" {
			if err := out.diffFile.commit(); err != nil {
				return fmt.Errorf("--diff-out: %w", err)
			}
			fmt.Fprintf(summary, "wrote %s\n", o.diffOut)
		} else if err := out.diffFile.copyTo(stdout); err != nil {
			return err
		}
		out.diffFile = nil
	}
	return nil
}

// planError says what a failed export means, what to do, and that
// nothing was written.
func planError(err error, o planOptions, rows int64) error {
	call := "ExportPlan"
	if rows > 0 {
		call = fmt.Sprintf("ExportPlan (after %d rows)", rows)
	}
	nothing := "nothing was written"
	if o.csvPath != "" {
		nothing = fmt.Sprintf("%s was not written", o.csvPath)
	}
	if _, ok := status.FromError(err); !ok || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s failed: %w (%s)", call, err, nothing)
	}
	err = explainRPC(err, call, o.conn.addr)
	var h *hintedError
	if !errors.As(err, &h) {
		return err
	}
	h.msg += " (" + nothing + ")"
	req := o.req
	switch status.Code(h.err) {
	case codes.FailedPrecondition, codes.NotFound:
		h.hint = fmt.Sprintf("the plan needs a policy of region %s, scheme %s in force on %d-01-01 with a contribution section: load one "+
			"(PolicyService.PutPolicy, or serve --policy FILE); serve --demo has one for 610300 resident 2026",
			req.GetRegion(), schemeWord(req.GetScheme()), req.GetYear())
	case codes.Unauthenticated:
		h.hint = "pass a valid bearer token with --token or MEDSETTLE_TOKEN (role admin or clearing)"
	case codes.PermissionDenied:
		h.hint = "this token's role may not export plans: use a token with the admin or clearing role"
	case codes.InvalidArgument:
		h.hint = "fix what the server names above (medsettle plan --help lists the flags)"
	case codes.Unimplemented:
		h.hint = fmt.Sprintf("the server at %s does not serve ContributionService: run a medsettle server of this version", o.conn.addr)
	}
	return err
}

// printPlanSummary writes the plan's totals and its subsidised persons by
// basis category.
func printPlanSummary(w io.Writer, req *pb.ExportPlanRequest, t *pb.PlanTotals) {
	asOf := req.GetAsOf()
	if asOf == "" {
		asOf = fmt.Sprintf("%04d-01-01", req.GetYear())
	}
	fields := [][2]string{
		{"plan", fmt.Sprintf("%s %s %d, identities held on %s", req.GetRegion(), schemeWord(req.GetScheme()), req.GetYear(), asOf)},
		{"persons", strconv.Itoa(int(t.GetPersons()))},
		{"contribution", canonicalMoney(t.GetContribution())},
		{"subsidy", canonicalMoney(t.GetSubsidy())},
		{"payable", canonicalMoney(t.GetPayable())},
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%-12s  %s\n", f[0], f[1])
	}
	var rows [][]string
	unsubsidised := int64(t.GetPersons())
	for _, c := range t.GetByCategory() {
		rows = append(rows, []string{categoryWord(c.GetCategory()), strconv.Itoa(int(c.GetPersons())), canonicalMoney(c.GetSubsidy())})
		unsubsidised -= int64(c.GetPersons())
	}
	rows = append(rows, []string{"(none)", strconv.FormatInt(unsubsidised, 10), engine.Money{}.String()})
	fmt.Fprintln(w)
	writeTable(w, []string{"basis category", "persons", "subsidy"}, rows)
}

// canonicalMoney writes an API amount with two decimals; text that is
// not money stays as it is.
func canonicalMoney(text string) string {
	var m engine.Money
	if m.UnmarshalText([]byte(text)) != nil {
		return text
	}
	return m.String()
}
