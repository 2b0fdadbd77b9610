package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	pb "github.com/medsettle/medsettle/proto/medsettle/v1"
)

const planUsage = `Usage:
  medsettle plan --region R --scheme employee|resident --year Y [--as-of DATE] --csv FILE [options]
  medsettle plan --region R --scheme employee|resident --year Y [--as-of DATE] [--csv FILE] --diff PREVIOUS.csv [--diff-out FILE] [options]

options: [--addr 127.0.0.1:50051] [--token TOKEN] [--tls-ca FILE]

plan exports the collection plan (参保缴费计划) of a region's residents for
a year with ContributionService.ExportPlan: what each person owes after the
subsidy of the categories (身份) held on --as-of (default January 1 of the
year), by the contribution section of the policy in force on January 1.

--csv FILE   writes one row a person, sorted by person_id, with the header
             person_id,contribution,subsidy,payable,basis_category
             (amounts with two decimals; basis_category is the category whose
             subsidy applied, e.g. MINIMUM_LIVING, empty when none did). The
             file appears only when the whole plan arrived and its rows add
             up to the server's totals: a failed run leaves no file (an
             existing FILE stays as it was).
--diff PREV  compares the plan with a previous plan CSV (the monthly
             re-check) and lists the persons whose payable changed, who were
             added and who were removed, as CSV with the header
             person_id,status,previous_payable,payable,change
             (status changed, added or removed; change = payable −
             previous_payable, a missing side counting 0, so the column
             adds up to the change of the total). The diff goes to stdout
             and the summary to stderr, or to --diff-out FILE and the
             summary to stdout. --csv may name PREV: it is replaced only
             when the run succeeds.

A progress bar runs on stderr (with --diff its total is the previous plan's
persons, an estimate); the summary gives the persons, contribution, subsidy
and payable, and the persons and subsidy by basis category. The token
(--token or MEDSETTLE_TOKEN) needs the admin or clearing role. Exit status
0 done, 1 failed (nothing written).

example: medsettle plan --region 610300 --scheme resident --year 2026 --csv plan-2026.csv
`

// planExample is a working command line on the demo data.
const planExample = "medsettle plan --region 610300 --scheme resident --year 2026 --csv plan-2026.csv"

// planOptions is a parsed `medsettle plan` command line.
type planOptions struct {
	conn     connFlags
	req      *pb.ExportPlanRequest
	csvPath  string
	diffPath string
	diffOut  string
}

// parsePlanFlags reads the plan flags and checks that the command line
// can work (the flags it needs, the files' directories) before anything
// is dialed.
func parsePlanFlags(args []string, stderr io.Writer) (planOptions, error) {
	var o planOptions
	var region, scheme, asOf string
	var year int
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, planUsage+"\nflags:\n")
		fs.PrintDefaults()
	}
	o.conn.register(fs, "admin or clearing")
	fs.StringVar(&region, "region", "", "the region code (统筹区), e.g. 610300")
	fs.StringVar(&scheme, "scheme", "", "employee or resident")
	fs.IntVar(&year, "year", 0, "the contribution year, e.g. 2026")
	fs.StringVar(&asOf, "as-of", "", "the date whose identities count (YYYY-MM-DD; default January 1 of --year)")
	fs.StringVar(&o.csvPath, "csv", "", "write the plan to this CSV file (replaced only when the run succeeds)")
	fs.StringVar(&o.diffPath, "diff", "", "compare with this previous plan CSV and list the persons whose payable changed")
	fs.StringVar(&o.diffOut, "diff-out", "", "with --diff: write the changes to this CSV file instead of stdout")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("plan takes only flags; unexpected %q (see medsettle plan --help)", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	o.req = &pb.ExportPlanRequest{}

	var missing, problems []string
	for _, n := range []string{"region", "scheme", "year"} {
		if !set[n] {
			missing = append(missing, "--"+n)
		}
	}
	if !set["csv"] && !set["diff"] {
		missing = append(missing, "--csv FILE (or --diff PREVIOUS.csv)")
	}
	sc, bad := scopeFlags(set, region, scheme, year)
	problems = append(problems, bad...)
	o.req.Region, o.req.Scheme, o.req.Year = sc.region, sc.scheme, sc.year
	if set["as-of"] {
		if _, err := time.Parse(time.DateOnly, asOf); err != nil {
			problems = append(problems, fmt.Sprintf("--as-of %q is not a date YYYY-MM-DD", asOf))
		}
		o.req.AsOf = asOf
	}
	problems = append(problems, checkPlanPaths(o, set)...)
	var msgs []string
	if len(missing) > 0 {
		msgs = append(msgs, "plan needs "+strings.Join(missing, ", "))
	}
	msgs = append(msgs, problems...)
	if len(msgs) > 0 {
		return o, fmt.Errorf("%s\nexample: %s", strings.Join(msgs, "; "), planExample)
	}
	return o, nil
}

// checkPlanPaths names what is wrong with the file flags: an empty name,
// a directory that does not exist, one file named twice.
func checkPlanPaths(o planOptions, set map[string]bool) []string {
	var problems []string
	output := func(flagName, path string) {
		if path == "" {
			problems = append(problems, "--"+flagName+" is empty")
			return
		}
		if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			problems = append(problems, fmt.Sprintf("--%s %s is a directory; name a file", flagName, path))
			return
		}
		if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
			problems = append(problems, fmt.Sprintf("--%s %s: its directory %s does not exist", flagName, path, filepath.Dir(path)))
		}
	}
	if set["csv"] {
		output("csv", o.csvPath)
	}
	if set["diff-out"] {
		if !set["diff"] {
			problems = append(problems, "--diff-out needs --diff PREVIOUS.csv")
		}
		output("diff-out", o.diffOut)
	}
	if set["diff"] {
		if o.diffPath == "" {
			problems = append(problems, "--diff is empty")
		} else if fi, err := os.Stat(o.diffPath); err != nil {
			problems = append(problems, fmt.Sprintf("--diff %s: %v", o.diffPath, errors.Unwrap(err)))
		} else if fi.IsDir() {
			problems = append(problems, fmt.Sprintf("--diff %s is a directory; name the previous plan's CSV file", o.diffPath))
		}
	}
	if set["diff-out"] && o.diffOut != "" {
		for _, other := range []struct{ name, path string }{{"csv", o.csvPath}, {"diff", o.diffPath}} {
			if other.path != "" && samePath(o.diffOut, other.path) {
				problems = append(problems, fmt.Sprintf("--diff-out and --%s name the same file %s; name another", other.name, o.diffOut))
			}
		}
	}
	return problems
}

// samePath reports whether a and b name the same file, as far as their
// absolute clean paths tell.
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

// runPlan is `medsettle plan`.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, planUsage)
		return nil
	}
	o, err := parsePlanFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the usage is printed
	}
	if err != nil {
		return err
	}
	return exportAndReport(ctx, o, stdout, stderr)
}
